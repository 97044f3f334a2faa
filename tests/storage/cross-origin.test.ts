import { describe, expect, test } from "bun:test";
import { createTestContext } from "../support/harness";

const t = await createTestContext();

describe("the local store's signed URLs across origins", () => {
  test("a signed read answers Cross-Origin-Resource-Policy: cross-origin (the dashboard shows KYC images); the API stays same-origin", async () => {
    await t.deps.storage.documents.write("cors-check", new Uint8Array([0xff, 0xd8, 0xff, 0xe0]), "image/jpeg");
    const read = await t.deps.storage.documents.signRead({ key: "cors-check", expiresInSeconds: 60 });
    const url = new URL(read.url);
    const res = await t.app.request(url.pathname + url.search);
    expect(res.status).toBe(200);
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const api = await t.app.request("/health");
    expect(api.headers.get("cross-origin-resource-policy")).toBe("same-origin");
  });
});
