import { describe, expect, test } from "bun:test";
import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, jsonContent } from "../../src/http/router";
import { createTestContext, responseSchemaChecker } from "../support/harness";

/**
 * The harness holds every 2xx body a test receives to the schema its route declares
 * (responseSchemaChecker). A check that cannot fail proves nothing, so here it is made to fail: a
 * throwaway app whose handlers answer whatever the test sets, declared like every domain's routes.
 */
const item = z.object({
  id: z.string(),
  amount: z.number().int(),
  note: z.string().nullable(),
  tags: z.array(z.object({ name: z.string() })),
});
const good = { id: "itm_1", amount: 150, note: null, tags: [{ name: "a" }] };

let answer: unknown;
let answerStatus: 200 | 201 = 200;

function throwawayApp() {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: "get",
      path: "/items/{id}",
      request: { params: z.object({ id: z.string() }) },
      responses: { 200: jsonContent(item, "An item"), 404: jsonContent(z.object({ error: z.unknown() }), "None") },
    }),
    (c) => c.json(answer as any, answerStatus as 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/items/{id}/labels",
      responses: { 200: jsonContent(z.object({ labels: z.record(z.string(), z.string()) }), "Free-form labels") },
    }),
    (c) => c.json(answer as any, 200),
  );
  app.openapi(
    createRoute({
      method: "get",
      path: "/report",
      responses: { 200: { description: "CSV", content: { "text/csv": { schema: z.string() } } } },
    }),
    (c) => c.body("a,b\n1,2\n", 200, { "content-type": "text/csv" }),
  );
  app.openapi(
    createRoute({ method: "get", path: "/text-instead", responses: { 200: jsonContent(item, "An item") } }),
    (c) => c.text("not json", 200) as any,
  );
  app.get("/undocumented", (c) => c.json({ ok: true }));
  const check = responseSchemaChecker(app);
  app.get("/probe", (c) => c.json({ ok: true }));

  return async (path: string) => {
    const res = await app.request(path);
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {}
    check({ method: "GET", path, status: res.status, contentType: res.headers.get("content-type"), text, json });
  };
}

const get = throwawayApp();

// The real app, with one route whose handler drifted from its declared schema.
const t = await createTestContext();
t.app.openapi(createRoute({ method: "get", path: "/drifted", responses: { 200: jsonContent(item, "An item") } }), (c) =>
  c.json({ ...good, amount: "150" } as any, 200),
);
const answering = (body: unknown, status: 200 | 201 = 200) => {
  answer = body;
  answerStatus = status;
};

describe("the response check", () => {
  test("a body that matches its schema passes", async () => {
    answering(good);
    await get("/items/itm_1?expand=tags");
  });

  test("a missing field fails, naming the route, the status and the field", async () => {
    const { note: _, ...withoutNote } = good;
    answering(withoutNote);
    await expect(get("/items/itm_1")).rejects.toThrow(/GET \/items\/\{id\} → 200: .*\n {2}note: .*\[invalid_type\]/);
  });

  test("a mistyped field fails, deep ones included", async () => {
    answering({ ...good, amount: "150" });
    await expect(get("/items/itm_1")).rejects.toThrow(/amount: .*\[invalid_type\]/);
    answering({ ...good, amount: 1.5 });
    await expect(get("/items/itm_1")).rejects.toThrow(/amount: /);
    answering({ ...good, tags: [{ name: 7 }] });
    await expect(get("/items/itm_1")).rejects.toThrow(/tags\.0\.name: /);
  });

  test("a key the schema does not declare fails: zod would strip it, a generated client would never see it", async () => {
    answering({ ...good, secretHash: "…" });
    await expect(get("/items/itm_1")).rejects.toThrow(/secretHash: not in the schema/);
    answering({ ...good, tags: [{ name: "a", internal: 1 }] });
    await expect(get("/items/itm_1")).rejects.toThrow(/tags\.0\.internal: not in the schema/);
  });

  test("a schema that allows any keys (a record) lets them through", async () => {
    answering({ labels: { colour: "red", size: "L" } });
    await get("/items/itm_1/labels");
  });

  test("a status the route does not declare fails; error statuses are not this check's business", async () => {
    answering(good, 201);
    await expect(get("/items/itm_1")).rejects.toThrow("GET /items/{id} → 201: the route does not declare this status.");
    await expect(get("/nowhere")).resolves.toBeUndefined();
  });

  test("declared JSON answered as text fails; declared CSV is skipped", async () => {
    await expect(get("/text-instead")).rejects.toThrow(/declared application\/json, but the response is text\/plain/);
    await get("/report");
  });

  test("a route the app serves outside the document fails; a probe a test adds later is skipped", async () => {
    await expect(get("/undocumented")).rejects.toThrow(
      "GET /undocumented answered 200, but /openapi.json does not list the route.",
    );
    await get("/probe");
  });
});

describe("the harness's request() runs it", () => {
  test("on the real app: a documented body passes, a drifted one throws", async () => {
    expect((await t.request("GET", "/health")).status).toBe(200);
    await expect(t.request("GET", "/drifted")).rejects.toThrow(/GET \/drifted → 200: .*\n {2}amount: /);
  });
});
