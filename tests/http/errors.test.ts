import { describe, expect, test } from "bun:test";
import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../src/http/errors";
import { createRouter, jsonContent } from "../../src/http/router";
import { createTestContext } from "../support/harness";

const MAX_BODY = 2048;
const t = await createTestContext({ KESHLESS_MAX_BODY_BYTES: String(MAX_BODY) });

const echoBody = z.object({ amount: z.number().int().positive(), note: z.string().max(20).optional() });

/**
 * Routes that production does not have yet, built the way every domain router is built (createRouter),
 * so the validation hook, the middleware and onError they meet are the real ones.
 */
function testRoutes() {
  const router = createRouter();
  for (const path of ["/v1/test/echo", "/test/echo"])
    router.openapi(
      createRoute({
        method: "post",
        path,
        request: { body: { required: true, content: { "application/json": { schema: echoBody } } } },
        responses: { 200: jsonContent(echoBody, "Echo") },
      }),
      (c) => c.json(c.req.valid("json"), 200),
    );
  router.get("/v1/test/boom", () => {
    throw new Error("kaboom: invariant broken at /srv/app/src/secret-internals.ts");
  });
  router.get("/v1/test/rate-limited", () => {
    throw new AppError("RATE_LIMITED", "Slow down.", { retryAfterSeconds: 7 }, { "Retry-After": "7" });
  });
  router.get("/v1/test/db-conflict", () => {
    throw Object.assign(new Error("Failed query: insert …"), {
      cause: Object.assign(new Error('duplicate key value violates unique constraint "x"'), { code: "23505" }),
    });
  });
  return router;
}
// Mounted after createApp registered notFound/onError: Hono matches routes per request, so this works
// as long as it happens before the first request builds the router's matcher.
t.app.route("/", testRoutes());

function expectErrorShape(res: { status: number; json: any; headers: Headers }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.json.error.code).toBe(code);
  expect(typeof res.json.error.message).toBe("string");
  expect(res.json.error.requestId).toBe(res.headers.get("x-request-id")!);
  expect(res.headers.get("content-type")).toContain("application/json");
}

describe("the one error shape", () => {
  test("unknown route is 404 NOT_FOUND", async () => {
    expectErrorShape(await t.request("GET", "/definitely-not-here"), 404, "NOT_FOUND");
  });

  test("wrong method on a known route is 405 with Allow", async () => {
    const res = await t.request("DELETE", "/health");
    expectErrorShape(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toContain("GET");
  });

  test("wrong method on a route mounted later is 405 too", async () => {
    const res = await t.request("GET", "/v1/test/echo");
    expectErrorShape(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("POST");
  });

  test("an incoming X-Request-Id is echoed, a hostile one replaced", async () => {
    const ok = await t.request("GET", "/nope", { headers: { "x-request-id": "abc-123" } });
    expect(ok.headers.get("x-request-id")).toBe("abc-123");
    expect(ok.json.error.requestId).toBe("abc-123");
    const bad = await t.request("GET", "/nope", { headers: { "x-request-id": "<script>" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^req_/);
  });

  test("a valid body reaches the handler", async () => {
    const res = await t.request("POST", "/v1/test/echo", { body: { amount: 150 } });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ amount: 150 });
  });

  test("malformed JSON is 400 VALIDATION_FAILED", async () => {
    const res = await t.request("POST", "/v1/test/echo", {
      rawBody: '{"amount": 15',
      headers: { "content-type": "application/json" },
    });
    expectErrorShape(res, 400, "VALIDATION_FAILED");
  });

  test("a body failing its schema is 400 VALIDATION_FAILED with the issues as details", async () => {
    const res = await t.request("POST", "/v1/test/echo", { body: { amount: 1.5, note: "x".repeat(21) } });
    expectErrorShape(res, 400, "VALIDATION_FAILED");
    const paths = (res.json.error.details as { path: string; message: string }[]).map((d) => d.path).sort();
    expect(paths).toEqual(["amount", "note"]);
    for (const detail of res.json.error.details) expect(typeof detail.message).toBe("string");
  });

  test("a missing body on a route that requires one is 400", async () => {
    const res = await t.request("POST", "/v1/test/echo", { headers: { "content-type": "application/json" } });
    expectErrorShape(res, 400, "VALIDATION_FAILED");
  });

  test("a body over the limit is 413 PAYLOAD_TOO_LARGE, with or without Content-Length", async () => {
    const big = JSON.stringify({ amount: 1, note: "x".repeat(MAX_BODY) });
    const declared = await t.request("POST", "/v1/test/echo", {
      rawBody: big,
      headers: { "content-type": "application/json", "content-length": String(big.length) },
    });
    expectErrorShape(declared, 413, "PAYLOAD_TOO_LARGE");
    // A chunked upload has no Content-Length: the limit must count the bytes as they arrive.
    const streamed = await t.app.request("/v1/test/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Blob([big]).stream(),
      duplex: "half",
    } as RequestInit);
    const json = (await streamed.json()) as any;
    expectErrorShape({ status: streamed.status, json, headers: streamed.headers }, 413, "PAYLOAD_TOO_LARGE");
  });

  test("a body just under the limit passes", async () => {
    const res = await t.request("POST", "/v1/test/echo", { body: { amount: 1, note: "ok" } });
    expect(res.status).toBe(200);
  });

  test("a non-JSON body on a JSON API is 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/jsonp"]) {
      const res = await t.request("POST", "/v1/test/echo", { rawBody: "amount=1", headers: { "content-type": type } });
      expectErrorShape(res, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    const charset = await t.request("POST", "/v1/test/echo", {
      rawBody: '{"amount":3}',
      headers: { "content-type": "application/json; charset=utf-8" },
    });
    expect(charset.status).toBe(200);
  });

  test("a route outside the JSON prefixes that declares JSON also answers 415, not 500", async () => {
    const res = await t.request("POST", "/test/echo", {
      rawBody: "amount=1",
      headers: { "content-type": "text/plain" },
    });
    expectErrorShape(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  test("an unexpected error is 500 INTERNAL with no stack trace or internals", async () => {
    const res = await t.request("GET", "/v1/test/boom");
    expectErrorShape(res, 500, "INTERNAL");
    expect(res.json.error.details).toBeUndefined();
    expect(res.text).not.toContain("kaboom");
    expect(res.text).not.toContain(".ts");
    expect(res.text).not.toMatch(/\bat\s+\S+\s+\(/);
    // The details the caller does not get are in the log, under the same request id.
    const logged = t.logs.filter((line) => line.includes(res.json.error.requestId) && line.includes("unhandled error"));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain("kaboom");
  });

  test("AppError headers and details pass through", async () => {
    const res = await t.request("GET", "/v1/test/rate-limited");
    expectErrorShape(res, 429, "RATE_LIMITED");
    expect(res.headers.get("retry-after")).toBe("7");
    expect(res.json.error.details).toEqual({ retryAfterSeconds: 7 });
  });

  test("a database error wrapped by the driver is mapped in one place", async () => {
    const res = await t.request("GET", "/v1/test/db-conflict");
    expectErrorShape(res, 409, "CONFLICT");
    expect(res.text).not.toContain("duplicate key");
  });
});

describe("operations", () => {
  test("health and ready are 200 on a migrated database", async () => {
    expect((await t.request("GET", "/health")).json).toEqual({ status: "ok" });
    const ready = await t.request("GET", "/ready");
    expect(ready.status).toBe(200);
    expect(ready.json.migrations.applied).toBe(ready.json.migrations.expected);
  });

  test("openapi.json is OpenAPI 3.1 and docs are served", async () => {
    const doc = await t.request("GET", "/openapi.json");
    expect(doc.json.openapi).toBe("3.1.0");
    expect(doc.json.paths["/ready"]).toBeDefined();
    const docs = await t.request("GET", "/docs");
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");
  });

  test("security headers are set", async () => {
    const res = await t.request("GET", "/health");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("strict-transport-security")).toBeTruthy();
  });
});
