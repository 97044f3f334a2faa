import { describe, expect, test } from "bun:test";
import { operationIdFor, publishOperationIds } from "../../src/http/router";
import { createTestContext } from "../support/harness";

/**
 * /openapi.json stays lint clean under Redocly's recommended rules (`bun run openapi:lint`, a CI stage):
 * every operation has a unique operationId (generated clients name calls by it) and declares its
 * security — `[]` for a public route — naming only schemes the document defines; `servers` is set.
 */
const t = await createTestContext();
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

describe("/openapi.json", () => {
  test("every operation has a unique operationId and declared security with known schemes", async () => {
    const doc = (await t.request("GET", "/openapi.json")).json;
    const schemes = new Set(Object.keys(doc.components.securitySchemes));
    const ids = new Map<string, string>();
    let operations = 0;
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths))
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        operations++;
        const where = `${method.toUpperCase()} ${path}`;
        expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z0-9]*$/);
        expect(ids.get(operation.operationId), `${where}: ${operation.operationId}`).toBeUndefined();
        ids.set(operation.operationId, where);
        expect(Array.isArray(operation.security), `${where} declares security`).toBe(true);
        for (const requirement of operation.security)
          for (const name of Object.keys(requirement)) expect(schemes.has(name), `${where}: ${name}`).toBe(true);
      }
    expect(operations).toBeGreaterThan(100);
    expect(doc.servers).toEqual([{ url: "/", description: "This server" }]);
  });

  test("public routes say so; gateways, partners and jobs name their header schemes", async () => {
    const doc = (await t.request("GET", "/openapi.json")).json;
    const security = (method: string, path: string) => doc.paths[path][method].security;
    for (const path of ["/health", "/ready", "/dev/outbox"]) expect(security("get", path)).toEqual([]);
    for (const path of ["/v1/auth/otp", "/v1/auth/refresh", "/v1/vendor/auth/login", "/admin/v1/auth/login"])
      expect(security("post", path)).toEqual([]);
    expect(security("post", "/ussd/mtn")).toEqual([{ gatewaySecret: [] }]);
    expect(security("post", "/partner/v1/deposits")).toEqual([{ apiKey: [] }]);
    expect(security("post", "/jobs/retention")).toEqual([{ jobSecret: [] }]);
    expect(doc.components.securitySchemes.gatewaySecret).toEqual({
      type: "apiKey",
      in: "header",
      name: "X-Gateway-Secret",
    });
    expect(doc.paths["/admin/v1/partners/{id}/keys"].get.operationId).toBe("getAdminPartnersByIdKeys");
  });

  test("operationIdFor: method, then the path in camelCase without version segments", () => {
    expect(operationIdFor("get", "/health")).toBe("getHealth");
    expect(operationIdFor("post", "/jobs/approval-expiry")).toBe("postJobsApprovalExpiry");
    expect(operationIdFor("post", "/admin/v1/partners/{id}/keys/{keyId}/rotate")).toBe(
      "postAdminPartnersByIdKeysByKeyIdRotate",
    );
    expect(operationIdFor("get", "/v1/me")).not.toBe(operationIdFor("get", "/admin/v1/me"));
  });

  test("a clash never fails the document: the later route keeps its version segments, then gets a number", () => {
    const op = () => ({ responses: {} }) as { responses: object; operationId?: string };
    const doc = publishOperationIds({
      paths: {
        "/v1/test/echo": { post: op() },
        "/test/echo": { post: op() },
        "/v2/test/echo": { post: op() },
        "/named": { get: { ...op(), operationId: "getTestEcho" } },
        "/test/echo/x": { get: op() },
      },
    });
    expect(doc.paths["/v1/test/echo"].post.operationId).toBe("postTestEcho");
    expect(doc.paths["/test/echo"].post.operationId).toBe("postTestEcho2");
    expect(doc.paths["/v2/test/echo"].post.operationId).toBe("postV2TestEcho");
    expect(doc.paths["/named"].get.operationId).toBe("getTestEcho");
    expect(doc.paths["/test/echo/x"].get.operationId).toBe("getTestEchoX");
  });
});
