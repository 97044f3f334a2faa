import { describe, expect, test } from "bun:test";
import { createTestContext } from "../support/harness";

const t = await createTestContext({ KESHLESS_MAX_BODY_BYTES: "2048" });

function expectErrorShape(res: { status: number; json: any; headers: Headers }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.json.error.code).toBe(code);
  expect(typeof res.json.error.message).toBe("string");
  expect(res.json.error.requestId).toBe(res.headers.get("x-request-id")!);
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

  test("an incoming X-Request-Id is echoed, a hostile one replaced", async () => {
    const ok = await t.request("GET", "/nope", { headers: { "x-request-id": "abc-123" } });
    expect(ok.headers.get("x-request-id")).toBe("abc-123");
    expect(ok.json.error.requestId).toBe("abc-123");
    const bad = await t.request("GET", "/nope", { headers: { "x-request-id": "<script>" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^req_/);
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
