import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { createRouter } from "../../src/http/router";
import { partnerAuth } from "../../src/identity/guards";
import { createAdmin, createPartner, signInAdmin, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";

const t = await createTestContext();
const probe = createRouter();
probe.post("/partner/v1/probe-deposit", partnerAuth("deposits:create"), (c) => c.json(c.get("principal")));
t.app.route("/", probe);

const secrets = new Set<string>();
const withKey = (apiKey: string) => ({ headers: { "x-api-key": apiKey } });

describe("partners and API keys", () => {
  test("an admin asks for a partner, a second approves: settlement account opened, key shown once, only its hash stored", async () => {
    const admin = await signInAdmin(t, await createAdmin(t, "finance"));
    const checker = await signInAdmin(t, await createAdmin(t, "super_admin"));
    const res = await t.request("POST", "/admin/v1/partners", {
      token: admin.accessToken,
      body: { name: "Eswatini Bank" },
    });
    // Dual control (tests/identity/partner-dual-control.test.ts): 202, the key inert until a second admin approves.
    expect(res.status).toBe(202);
    secrets.add(res.json.apiKey);
    expect(res.json).toMatchObject({ kind: "partner", status: "pending" });
    expect(res.json.partner).toMatchObject({ name: "Eswatini Bank", status: "pending" });
    expect(res.json.apiKey).toMatch(/^kl_test_[A-Za-z0-9_-]{40}$/);
    expect(res.json.key.prefix).toBe(res.json.apiKey.slice(0, 16));
    expect(res.json.key.scopes.sort()).toEqual(["deposits:create", "transactions:read"]);
    const partnerId = res.json.partner.id;
    const approved = await t.request("POST", `/admin/v1/approvals/${res.json.id}/approve`, {
      token: checker.accessToken,
      headers: { "idempotency-key": `approve-${res.json.id}` },
      body: {},
    });
    expect(approved.status).toBe(200);
    // One balance row: every deposit checks the funding limit against it in its own statement.
    const settlement = await t.deps.ledger.findAccount("partner_settlement", partnerId, "SZL");
    expect(settlement).toMatchObject({ guarded: false, shardCount: 1 });
    expect(settlement!.code).toBe(`partner_settlement:${partnerId}:SZL`);
    const rows = await queryRows<{ key_hash: string }>(
      t.deps.database.db,
      sql`select key_hash from partner_api_keys where partner_id = ${partnerId}`,
    );
    expect(rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    const dump = JSON.stringify(await queryRows(t.deps.database.db, sql`select * from partner_api_keys`));
    expect(dump).not.toContain(res.json.apiKey.slice(16));
    const keys = await t.request("GET", `/admin/v1/partners/${partnerId}/keys`, { token: admin.accessToken });
    expect(JSON.stringify(keys.json)).not.toContain(res.json.apiKey);
    expect(await t.deps.identity.partners.get(partnerId)).toEqual({
      id: partnerId,
      name: "Eswatini Bank",
      status: "active",
    });

    const me = await t.request("GET", "/partner/v1/me", withKey(res.json.apiKey));
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ id: partnerId, name: "Eswatini Bank" });
  });

  test("missing, malformed and unknown keys are 401", async () => {
    expect((await t.request("GET", "/partner/v1/me")).status).toBe(401);
    for (const key of ["nope", `kl_test_${"A".repeat(40)}`, `kl_live_${"z".repeat(40)}`, "' or 1=1 --"]) {
      const res = await t.request("GET", "/partner/v1/me", withKey(key));
      expect(res.status).toBe(401);
      expect(res.json.error.code).toBe("UNAUTHENTICATED");
    }
  });

  test("scopes: a key without deposits:create is 403 there, and fine elsewhere", async () => {
    const partner = await createPartner(t, { scopes: ["transactions:read"] });
    secrets.add(partner.apiKey);
    const refused = await t.request("POST", "/partner/v1/probe-deposit", withKey(partner.apiKey));
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("FORBIDDEN");
    expect((await t.request("GET", "/partner/v1/me", withKey(partner.apiKey))).status).toBe(200);
    const full = await createPartner(t);
    const ok = await t.request("POST", "/partner/v1/probe-deposit", withKey(full.apiKey));
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      kind: "partner",
      id: full.id,
      scopes: expect.arrayContaining(["deposits:create"]),
    });
    const unknownScope = await t.request("POST", `/admin/v1/partners/${full.id}/keys`, {
      token: (await signInAdmin(t, await createAdmin(t))).accessToken,
      body: { scopes: ["ledger:drain"] },
    });
    expect(unknownScope.status).toBe(400);
  });

  test("revocation takes effect at once and is audited", async () => {
    const partner = await createPartner(t);
    const admin = await signInAdmin(t, await createAdmin(t, "finance"));
    expect((await t.request("GET", "/partner/v1/me", withKey(partner.apiKey))).status).toBe(200);
    const revoke = await t.request("DELETE", `/admin/v1/partners/${partner.id}/keys/${partner.keyId}`, {
      token: admin.accessToken,
    });
    expect(revoke.status).toBe(204);
    expect((await t.request("GET", "/partner/v1/me", withKey(partner.apiKey))).status).toBe(401);
    const audit = await t.deps.audit.list({ targetId: partner.id, action: "partner.key.*", limit: 10 });
    expect(audit.data.map((r) => r.action)).toEqual(
      expect.arrayContaining(["partner.key.revoke", "partner.key.rejected"]),
    );
    expect(
      (
        await t.request("DELETE", `/admin/v1/partners/${partner.id}/keys/${partner.keyId}`, {
          token: admin.accessToken,
        })
      ).status,
    ).toBe(404);
  });

  test("rotation: both keys work during the overlap, then only the new one", async () => {
    // A key without deposits:create rotates in one step (one that has it: tests/identity/partner-dual-control.test.ts).
    const partner = await createPartner(t, { scopes: ["transactions:read", "webhooks:manage"] });
    const admin = await signInAdmin(t, await createAdmin(t, "finance"));
    const rotated = await t.request("POST", `/admin/v1/partners/${partner.id}/keys/${partner.keyId}/rotate`, {
      token: admin.accessToken,
      body: { overlapSeconds: 3600 },
    });
    expect(rotated.status).toBe(201);
    secrets.add(rotated.json.apiKey);
    expect(rotated.json.key.rotatedFrom).toBe(partner.keyId);
    expect(rotated.json.previous.id).toBe(partner.keyId);
    expect((await t.request("GET", "/partner/v1/me", withKey(partner.apiKey))).status).toBe(200);
    expect((await t.request("GET", "/partner/v1/me", withKey(rotated.json.apiKey))).status).toBe(200);
    t.deps.now = () => new Date(Date.now() + 3601_000);
    try {
      expect((await t.request("GET", "/partner/v1/me", withKey(partner.apiKey))).status).toBe(401);
      expect((await t.request("GET", "/partner/v1/me", withKey(rotated.json.apiKey))).status).toBe(200);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("each key has its own rate limit (429 with Retry-After) and records when it was last used", async () => {
    const slow = await createPartner(t, { ratePerMinute: 3 });
    const other = await createPartner(t, { ratePerMinute: 3 });
    for (let i = 0; i < 3; i++)
      expect((await t.request("GET", "/partner/v1/me", withKey(slow.apiKey))).status).toBe(200);
    const limited = await t.request("GET", "/partner/v1/me", withKey(slow.apiKey));
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe("RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await t.request("GET", "/partner/v1/me", withKey(other.apiKey))).status).toBe(200);
    const [key] = await t.deps.identity.partners.keys(slow.id);
    expect(key!.lastUsedAt).not.toBeNull();
    const used = await t.deps.audit.list({ targetId: slow.id, action: "partner.key.used", limit: 10 });
    expect(used.data).toHaveLength(1);
  });

  test("a suspended partner's keys are refused with ACCOUNT_FROZEN", async () => {
    const partner = await createPartner(t);
    await t.deps.database.db.execute(sql`update partners set status = 'suspended' where id = ${partner.id}`);
    const res = await t.request("GET", "/partner/v1/me", withKey(partner.apiKey));
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("ACCOUNT_FROZEN");
  });

  test("user and admin bearer tokens are refused on partner routes; support cannot manage partners", async () => {
    const user = await signInUser(t);
    expect((await t.request("GET", "/partner/v1/me", { token: user.accessToken })).status).toBe(401);
    const support = await signInAdmin(t, await createAdmin(t, "support"));
    expect((await t.request("GET", "/partner/v1/me", { token: support.accessToken })).status).toBe(401);
    const res = await t.request("POST", "/admin/v1/partners", {
      token: support.accessToken,
      body: { name: "Nope Bank" },
    });
    expect(res.status).toBe(403);
  });
});

describe("logs", () => {
  test("no API key in any log line", () => {
    const all = t.logs.join("\n");
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});
