import { describe, expect, test } from "bun:test";
import { createAdmin, createPartner, signInAdmin } from "../support/factories";
import { createTestContext } from "../support/harness";

const t = await createTestContext();
const finance = await signInAdmin(t, await createAdmin(t, "finance"));
const support = await signInAdmin(t, await createAdmin(t, "support"));

describe("GET /admin/v1/partners", () => {
  test("newest first, paged by cursor, pending ones included; partners:read only", async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createPartner(t, { name: `List Bank ${i}` }));
    const pending = await t.request("POST", "/admin/v1/partners", {
      token: finance.accessToken,
      body: { name: "Pending Bank" },
    });
    expect(pending.status).toBe(202);

    const first = await t.request("GET", "/admin/v1/partners?limit=2", { token: finance.accessToken });
    expect(first.status).toBe(200);
    expect(first.json.data.map((p: { name: string }) => p.name)).toEqual(["Pending Bank", "List Bank 2"]);
    expect(first.json.data[0].status).toBe("pending");
    const rest = await t.request("GET", `/admin/v1/partners?limit=10&cursor=${first.json.nextCursor}`, {
      token: finance.accessToken,
    });
    expect(rest.json.data.map((p: { id: string }) => p.id)).toEqual([made[1]!.id, made[0]!.id]);
    expect(rest.json.nextCursor).toBeNull();
    expect(JSON.stringify([first.json, rest.json])).not.toContain("apiKey");

    expect((await t.request("GET", "/admin/v1/partners", { token: support.accessToken })).status).toBe(403);
    expect((await t.request("GET", "/admin/v1/partners?cursor=nonsense", { token: finance.accessToken })).status).toBe(
      400,
    );
  });
});
