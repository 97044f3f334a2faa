import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { DEV_PARTNER_FUNDING_LIMIT, loadConfig } from "../../src/config";
import { queryRows } from "../../src/db/client";
import { PARTNER_SCOPES } from "../../src/http/permissions";
import { createPartner, signInUser } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { key, moneyKit } from "../withdrawals/kit";

/**
 * One finance admin alone could create money (POST /admin/v1/partners, then deposit with the new key). Now:
 * creating a partner and issuing or rotating a key with deposits:create wait for a second, different admin
 * (the approvals queue), and each partner's deposits are held to its funding limit — its prefunded float —
 * in the deposit's own statement, whichever key is used. Top-ups are maker-checker too. From the outside.
 */
const t = await createTestContext();
const kit = await moneyKit(t);
const secrets = new Set<string>();

const withKey = (apiKey: string, idem = key()) => ({ "x-api-key": apiKey, "idempotency-key": idem });
const deposit = (apiKey: string, phone: string, amount: number, idem = key(), ext = `ext-${idem}`) =>
  t.request("POST", "/partner/v1/deposits", {
    headers: withKey(apiKey, idem),
    body: { phone, amount, currency: "SZL", externalReference: ext },
  });
const balanceOf = async (token: string) => (await kit.wallet(token)).balance as number;
const fundingOf = async (token: string, partnerId: string) =>
  (await t.request("GET", `/admin/v1/partners/${partnerId}/funding`, { token })).json;
const settlementBalance = async (partnerId: string) => {
  const account = await t.deps.ledger.findAccount("partner_settlement", partnerId, "SZL");
  return account ? Number((await t.deps.ledger.balance(account.id)).balance) : 0;
};
const countDeposits = async (partnerId: string) =>
  (
    await queryRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from transactions where partner_id = ${partnerId} and type = 'deposit'`,
    )
  )[0]!.n;

async function askForPartner(token: string, name = `Bank ${key()}`) {
  const res = await t.request("POST", "/admin/v1/partners", { token, body: { name } });
  expect(res.status).toBe(202);
  secrets.add(res.json.apiKey);
  return res;
}

const finance = await kit.admin("finance");
const finance2 = await kit.admin("finance");
const superAdmin = await kit.admin("super_admin");
const compliance = await kit.admin("compliance");
const support = await kit.admin("support");

describe("creating a partner is maker-checker", () => {
  test("one finance admin alone: 202, the partner pending, its key deposits nothing, self-approval refused", async () => {
    const user = await signInUser(t);
    const asked = await askForPartner(finance.token, "Alone Bank");
    expect(asked.json).toMatchObject({
      kind: "partner",
      status: "pending",
      requestedBy: { type: "admin", id: finance.id },
      partner: { name: "Alone Bank", status: "pending" },
      summary: { partnerName: "Alone Bank", keyPrefix: asked.json.apiKey.slice(0, 16) },
    });
    expect(asked.json.key.pendingApproval).toBe(asked.json.id);
    const partnerId = asked.json.partner.id;
    expect(asked.json.subjectId).toBe(partnerId);

    const refused = await deposit(asked.json.apiKey, user.phone, 100_000);
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe("UNAUTHENTICATED");
    expect((await t.request("GET", "/partner/v1/me", { headers: { "x-api-key": asked.json.apiKey } })).status).toBe(
      401,
    );
    expect(await balanceOf(user.accessToken)).toBe(0);

    // The maker cannot decide their own request; nor can admins without both approvals:decide and partners:manage.
    const self = await kit.decide(finance.token, asked.json.id, "approve");
    expect(self.status).toBe(403);
    expect(self.json.error.details).toMatchObject({ reason: "MAKER_CANNOT_CHECK" });
    expect((await kit.decide(finance.token, asked.json.id, "reject", { reason: "changed my mind" })).status).toBe(403);
    expect((await kit.decide(compliance.token, asked.json.id, "approve")).status).toBe(403);
    expect((await kit.decide(support.token, asked.json.id, "approve")).status).toBe(403);
    expect(await t.deps.identity.partners.get(partnerId)).toMatchObject({ status: "pending" });
    expect(await t.deps.ledger.findAccount("partner_settlement", partnerId, "SZL")).toBeUndefined();

    // A second, different admin approves: the partner is live and the same key (shown once, to the maker) works.
    const approved = await kit.decide(finance2.token, asked.json.id, "approve", { note: "KYB done" });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ status: "approved", decidedBy: finance2.id });
    expect(JSON.stringify(approved.json)).not.toContain(asked.json.apiKey);
    const view = await t.request("GET", `/admin/v1/partners/${partnerId}`, { token: finance.token });
    expect(view.json).toMatchObject({
      id: partnerId,
      status: "active",
      funding: { limit: t.config.partners.defaultFundingLimit, used: 0 },
    });
    const ok = await deposit(asked.json.apiKey, user.phone, 100_000);
    expect(ok.status).toBe(201);
    expect(await balanceOf(user.accessToken)).toBe(100_000);

    const audit = await t.deps.audit.list({ targetId: partnerId, limit: 50 });
    const actions = Object.fromEntries(audit.data.map((r) => [r.action, r.actorId]));
    expect(actions).toMatchObject({ "partner.create.request": finance.id, "partner.create": finance2.id });
    // The secret is in no stored row: not the approval, not the audit log, not a stored idempotent answer.
    const dump = JSON.stringify(
      await queryRows(
        t.deps.database.db,
        sql`select (select json_agg(a) from approval_requests a) as a, (select json_agg(l) from audit_log l) as l,
                   (select json_agg(i) from idempotency_keys i) as i, (select json_agg(k) from partner_api_keys k) as k`,
      ),
    );
    expect(dump).not.toContain(asked.json.apiKey.slice(16));
  });

  test("rejected or expired: the partner is rejected and its key revoked for good", async () => {
    const rejected = await askForPartner(finance.token);
    expect((await kit.decide(superAdmin.token, rejected.json.id, "reject", { reason: "not licensed" })).status).toBe(
      200,
    );
    expect(await t.deps.identity.partners.get(rejected.json.partner.id)).toMatchObject({ status: "rejected" });
    const [keyRow] = await t.deps.identity.partners.keys(rejected.json.partner.id);
    expect(keyRow!.revokedAt).not.toBeNull();
    const user = await signInUser(t);
    expect((await deposit(rejected.json.apiKey, user.phone, 1_000)).status).toBe(401);

    const expiring = await askForPartner(finance.token);
    const later = new Date(Date.now() + (t.config.approvals.ttlHours + 1) * 3_600_000);
    const result = await t.deps.approvals.expireDue(later);
    expect(result.byKind.partner).toBeGreaterThanOrEqual(1);
    expect(await t.deps.identity.partners.get(expiring.json.partner.id)).toMatchObject({ status: "rejected" });
    expect((await kit.decide(finance2.token, expiring.json.id, "approve")).status).toBe(409);
    expect((await deposit(expiring.json.apiKey, user.phone, 1_000)).status).toBe(401);
    expect(await balanceOf(user.accessToken)).toBe(0);
  });
});

describe("keys with deposits:create are maker-checker", () => {
  test("an all-scope key for an existing partner waits for a second admin; other keys are issued at once", async () => {
    const partner = await createPartner(t);
    const user = await signInUser(t);
    const all = await t.request("POST", `/admin/v1/partners/${partner.id}/keys`, {
      token: finance.token,
      body: { scopes: [...PARTNER_SCOPES] },
    });
    expect(all.status).toBe(202);
    secrets.add(all.json.apiKey);
    expect(all.json).toMatchObject({ kind: "partner_key", status: "pending", subjectId: all.json.key.id });
    expect(all.json.key).toMatchObject({ pendingApproval: all.json.id, scopes: [...PARTNER_SCOPES] });
    expect((await deposit(all.json.apiKey, user.phone, 5_000)).status).toBe(401);
    expect((await kit.decide(finance.token, all.json.id, "approve")).status).toBe(403);

    const readOnly = await t.request("POST", `/admin/v1/partners/${partner.id}/keys`, {
      token: finance.token,
      body: { scopes: ["transactions:read", "webhooks:manage"] },
    });
    expect(readOnly.status).toBe(201);
    secrets.add(readOnly.json.apiKey);
    expect(readOnly.json.key.pendingApproval).toBeNull();
    expect((await t.request("GET", "/partner/v1/me", { headers: { "x-api-key": readOnly.json.apiKey } })).status).toBe(
      200,
    );

    expect((await kit.decide(finance2.token, all.json.id, "approve")).status).toBe(200);
    expect((await deposit(all.json.apiKey, user.phone, 5_000)).status).toBe(201);

    const refusedKey = await t.request("POST", `/admin/v1/partners/${partner.id}/keys`, {
      token: finance.token,
      body: { scopes: ["deposits:create"] },
    });
    expect(refusedKey.status).toBe(202);
    secrets.add(refusedKey.json.apiKey);
    expect((await kit.decide(finance2.token, refusedKey.json.id, "reject", { reason: "not requested" })).status).toBe(
      200,
    );
    expect((await deposit(refusedKey.json.apiKey, user.phone, 5_000)).status).toBe(401);
    const keys = await t.request("GET", `/admin/v1/partners/${partner.id}/keys`, { token: finance.token });
    expect(keys.json.data.find((k: any) => k.id === refusedKey.json.key.id).revokedAt).not.toBeNull();
    expect(await balanceOf(user.accessToken)).toBe(5_000);
  });

  test("rotating a deposits key: the old one works until approval, then for the overlap; the new one after", async () => {
    const partner = await createPartner(t);
    secrets.add(partner.apiKey);
    const me = (apiKey: string) => t.request("GET", "/partner/v1/me", { headers: { "x-api-key": apiKey } });
    const rotated = await t.request("POST", `/admin/v1/partners/${partner.id}/keys/${partner.keyId}/rotate`, {
      token: finance.token,
      body: { overlapSeconds: 3600 },
    });
    expect(rotated.status).toBe(202);
    secrets.add(rotated.json.apiKey);
    expect(rotated.json).toMatchObject({ kind: "partner_key", summary: { rotatedFrom: partner.keyId } });
    expect((await me(partner.apiKey)).status).toBe(200);
    expect((await me(rotated.json.apiKey)).status).toBe(401);
    const [old] = (await t.deps.identity.partners.keys(partner.id)).filter((k) => k.id === partner.keyId);
    expect(old!.expiresAt).toBeNull();

    const self = await kit.decide(finance.token, rotated.json.id, "approve");
    expect(self.status).toBe(403);
    expect((await kit.decide(superAdmin.token, rotated.json.id, "approve")).status).toBe(200);
    expect((await me(rotated.json.apiKey)).status).toBe(200);
    expect((await me(partner.apiKey)).status).toBe(200);
    t.deps.now = () => new Date(Date.now() + 3601_000);
    try {
      expect((await me(partner.apiKey)).status).toBe(401);
      expect((await me(rotated.json.apiKey)).status).toBe(200);
    } finally {
      t.deps.now = () => new Date();
    }
  });
});

describe("the funding limit", () => {
  test("a deposit past it is 422 LIMIT_EXCEEDED whatever key is used, and nothing changes", async () => {
    const partner = await createPartner(t, { fundingLimit: 150_000 });
    const user = await kit.fundedUser(0);
    const first = key();
    expect((await deposit(partner.apiKey, user.phone, 100_000, first)).status).toBe(201);
    expect(await fundingOf(finance.token, partner.id)).toMatchObject({
      limit: 150_000,
      used: 100_000,
      available: 50_000,
    });

    // A second key with deposits:create (approved by two admins) is held to the same limit.
    const second = await t.request("POST", `/admin/v1/partners/${partner.id}/keys`, {
      token: finance.token,
      body: { scopes: ["deposits:create"] },
    });
    secrets.add(second.json.apiKey);
    expect((await kit.decide(finance2.token, second.json.id, "approve")).status).toBe(200);
    const before = {
      wallet: await balanceOf(user.accessToken),
      settlement: await settlementBalance(partner.id),
      deposits: await countDeposits(partner.id),
      messages: (await kit.inbox(user.phone)).length,
    };
    for (const apiKey of [partner.apiKey, second.json.apiKey]) {
      const over = await deposit(apiKey, user.phone, 50_001);
      expect(over.status).toBe(422);
      expect(over.json.error).toMatchObject({ code: "LIMIT_EXCEEDED", details: { limit: "funding" } });
    }
    expect({
      wallet: await balanceOf(user.accessToken),
      settlement: await settlementBalance(partner.id),
      deposits: await countDeposits(partner.id),
      messages: (await kit.inbox(user.phone)).length,
    }).toEqual(before);

    // The accepted deposit's retry replays its answer, even with no room left for another like it.
    const replay = await deposit(partner.apiKey, user.phone, 100_000, first);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");

    // Exactly up to the limit fits; one cent more does not.
    const last = await deposit(second.json.apiKey, user.phone, 50_000);
    expect(last.status).toBe(201);
    expect((await fundingOf(finance.token, partner.id)).available).toBe(0);
    expect((await deposit(partner.apiKey, user.phone, 1)).json.error.code).toBe("LIMIT_EXCEEDED");

    // A reversed deposit gives its room back (used is net of reversals).
    const asked = await t.request("POST", `/admin/v1/transactions/${last.json.id}/reversal`, {
      token: finance.token,
      body: { reason: "sent twice" },
    });
    expect(asked.status).toBe(202);
    expect((await kit.decide(finance2.token, asked.json.id, "approve")).status).toBe(200);
    expect(await fundingOf(finance.token, partner.id)).toMatchObject({ used: 100_000, available: 50_000 });
    expect((await deposit(partner.apiKey, user.phone, 50_000)).status).toBe(201);
    await kit.expectVerified();
  });

  test("concurrent deposits near the limit: exactly the ones that fit succeed, the rest are 422", async () => {
    const fits = 7;
    const amount = 10_000;
    const partner = await createPartner(t, { fundingLimit: fits * amount + amount / 2 });
    const users = await Promise.all(Array.from({ length: 20 }, () => signInUser(t)));
    const results = await Promise.all(users.map((u) => deposit(partner.apiKey, u.phone, amount)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(fits);
    expect(statuses.filter((s) => s === 422)).toHaveLength(users.length - fits);
    for (const r of results.filter((r) => r.status === 422)) expect(r.json.error.code).toBe("LIMIT_EXCEEDED");
    const balances = await Promise.all(users.map((u) => balanceOf(u.accessToken)));
    expect(balances.reduce((a, b) => a + b, 0)).toBe(fits * amount);
    expect(await settlementBalance(partner.id)).toBe(-fits * amount);
    expect(await countDeposits(partner.id)).toBe(fits);
    expect(await fundingOf(finance.token, partner.id)).toMatchObject({ used: fits * amount, available: amount / 2 });
    await kit.expectVerified();
  });

  test("a top-up is maker-checker: the limit rises only when a second admin approves; a bank reference counts once", async () => {
    const partner = await createPartner(t, { fundingLimit: 0 });
    const user = await kit.fundedUser(0);
    expect((await deposit(partner.apiKey, user.phone, 1)).json.error.code).toBe("LIMIT_EXCEEDED");
    const body = { amount: 500_000, currency: "SZL", bankReference: "FNB-TT-20261126-0001", note: "float" };
    const path = `/admin/v1/partners/${partner.id}/funding`;

    expect((await t.request("POST", path, { token: support.token, body })).status).toBe(403);
    expect((await t.request("POST", path, { token: compliance.token, body })).status).toBe(403);
    const asked = await t.request("POST", path, { token: finance.token, body });
    expect(asked.status).toBe(202);
    expect(asked.json).toMatchObject({
      kind: "partner_funding",
      status: "pending",
      amount: 500_000,
      currency: "SZL",
      owner: { type: "partner", id: partner.id },
      summary: { bankReference: body.bankReference, limitBefore: 0 },
    });
    expect(await fundingOf(finance.token, partner.id)).toMatchObject({ limit: 0, pendingTopUps: 500_000 });
    expect((await deposit(partner.apiKey, user.phone, 1)).status).toBe(422);
    const again = await t.request("POST", path, { token: finance2.token, body });
    expect(again.status).toBe(409);

    expect((await kit.decide(finance.token, asked.json.id, "approve")).status).toBe(403);
    expect((await kit.decide(compliance.token, asked.json.id, "approve")).status).toBe(403);
    expect((await kit.decide(finance2.token, asked.json.id, "approve")).status).toBe(200);
    expect(await fundingOf(finance.token, partner.id)).toMatchObject({
      limit: 500_000,
      used: 0,
      available: 500_000,
      pendingTopUps: 0,
    });
    expect((await deposit(partner.apiKey, user.phone, 100_000)).status).toBe(201);
    expect((await t.request("POST", path, { token: finance.token, body })).status).toBe(409);

    // A rejected top-up changes nothing, and its reference may be asked for again.
    const wrong = await t.request("POST", path, {
      token: finance.token,
      body: { ...body, amount: 5_000_000, bankReference: "FNB-TT-20261126-0002" },
    });
    expect((await kit.decide(superAdmin.token, wrong.json.id, "reject", { reason: "amount is wrong" })).status).toBe(
      200,
    );
    expect((await fundingOf(finance.token, partner.id)).limit).toBe(500_000);
    const corrected = await t.request("POST", path, {
      token: finance.token,
      body: { ...body, amount: 50_000, bankReference: "FNB-TT-20261126-0002" },
    });
    expect(corrected.status).toBe(202);

    // Lowering takes power away: one step, and it may go below what was used.
    const lowered = await t.request("POST", `${path}/decrease`, {
      token: finance.token,
      body: { amount: 450_000, currency: "SZL", reason: "float recalled by the bank" },
    });
    expect(lowered.status).toBe(200);
    expect(lowered.json.funding).toMatchObject({ limit: 50_000, used: 100_000, available: 0 });
    expect((await deposit(partner.apiKey, user.phone, 1)).status).toBe(422);
    const tooMuch = await t.request("POST", `${path}/decrease`, {
      token: finance.token,
      body: { amount: 50_001, currency: "SZL", reason: "typo" },
    });
    expect(tooMuch.status).toBe(409);

    const changes = await t.request("GET", `${path}/changes`, { token: compliance.token });
    expect(changes.status).toBe(200);
    expect(changes.json.data.map((c: any) => [c.kind, c.status, c.amount])).toEqual([
      ["decrease", "applied", 450_000],
      ["top_up", "pending", 50_000],
      ["top_up", "rejected", 5_000_000],
      ["top_up", "applied", 500_000],
    ]);
    expect(changes.json.data[3]).toMatchObject({
      bankReference: body.bankReference,
      requestedBy: finance.id,
      decidedBy: finance2.id,
      limitBefore: 0,
      limitAfter: 500_000,
    });
    const audit = await t.deps.audit.list({ targetId: partner.id, action: "partner.funding.*", limit: 20 });
    expect(audit.data.map((r) => r.action)).toEqual(
      expect.arrayContaining([
        "partner.funding.request",
        "partner.funding.top_up",
        "partner.funding.refused",
        "partner.funding.decrease",
      ]),
    );
    await kit.expectVerified();
  });

  test("defaults: large in development and tests, 0 in production until topped up", () => {
    expect(t.config.partners.defaultFundingLimit).toBe(DEV_PARTNER_FUNDING_LIMIT);
    const dir = mkdtempSync(join(tmpdir(), "keshless-funding-"));
    try {
      const base = { KESHLESS_DATA_DIR: dir, ...TEST_SECRETS };
      expect(loadConfig({ ...base, KESHLESS_ENV: "development" }).partners.defaultFundingLimit).toBe(1_000_000_000);
      const production = {
        ...base,
        KESHLESS_ENV: "production",
        DATABASE_URL: "postgres://keshless@10.0.0.5:5432/keshless",
        KESHLESS_USSD_GATEWAY_SECRET: "g".repeat(24),
        KESHLESS_SIMULATORS: "false",
        KESHLESS_NOTIFICATIONS: "providers",
        KESHLESS_ENEZA_URL: "https://eneza.example.sz",
        KESHLESS_ENEZA_API_KEY: "eneza-key",
        KESHLESS_YEBOLINK_API_KEY: "yebolink-key",
        KESHLESS_ERS360_MTN_URL: "http://10.1.0.7:8913/topupservice/service",
        KESHLESS_ERS360_MTN_RESELLER_ID: "KESHLESS_MTN",
        KESHLESS_ERS360_MTN_PASSWORD: "mtn-ers-password",
        KESHLESS_ERS360_ESWATINI_MOBILE_URL: "http://10.1.0.8:8913/topupservice/service",
        KESHLESS_ERS360_ESWATINI_MOBILE_RESELLER_ID: "KESHLESS_EM",
        KESHLESS_ERS360_ESWATINI_MOBILE_PASSWORD: "em-ers-password",
        KESHLESS_STORAGE: "gcs",
        KESHLESS_GEMINI_API_KEY: "gemini-key",
        KESHLESS_BACKUP_KEY: Buffer.alloc(32, 7).toString("base64"),
        KESHLESS_GCP_PROJECT: "keshless-prod",
      };
      expect(loadConfig(production).partners.defaultFundingLimit).toBe(0);
      expect(
        loadConfig({ ...production, KESHLESS_PARTNER_DEFAULT_FUNDING_LIMIT: "2500000" }).partners.defaultFundingLimit,
      ).toBe(2_500_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the operator's CLI", () => {
  test("partner:create --funding-limit CENTS creates the partner live, held to that limit", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "keshless-cli-"));
    try {
      // Against this test's database on Postgres; on PGlite (in memory here) against a data dir of its own.
      const env: Record<string, string | undefined> = {
        ...process.env,
        ...TEST_SECRETS,
        KESHLESS_ENV: "test",
        KESHLESS_DATA_DIR: dataDir,
        LOG_LEVEL: "warn",
        DATABASE_URL: t.config.databaseUrl,
      };
      const run = (...args: string[]) => {
        const out = spawnSync("bun", ["run", "cli", ...args], { env, encoding: "utf8", timeout: 60_000 });
        const line = out.stdout.trim().split("\n").pop() ?? "";
        return { code: out.status, json: JSON.parse(line) };
      };
      const bad = run("partner:create", "--name", "CLI Bank", "--funding-limit", "-5");
      expect(bad.code).toBe(1);
      expect(bad.json.error).toContain("--funding-limit");
      const made = run("partner:create", "--name", "CLI Float Bank", "--funding-limit", "25000");
      expect(made.code).toBe(0);
      secrets.add(made.json.apiKey);
      expect(made.json.id).toMatch(/^prt_/);
      expect(made.json.fundingLimit).toBe(25_000);
      if (!t.config.databaseUrl) return;
      expect(await fundingOf(finance.token, made.json.id)).toMatchObject({ limit: 25_000, used: 0 });
      const user = await signInUser(t);
      expect((await deposit(made.json.apiKey, user.phone, 25_000)).status).toBe(201);
      expect((await deposit(made.json.apiKey, user.phone, 1)).json.error.code).toBe("LIMIT_EXCEEDED");
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("the document and the books", () => {
  test("/openapi.json has the routes and their 202 answers", async () => {
    const doc = (await t.request("GET", "/openapi.json")).json;
    expect(Object.keys(doc.paths["/admin/v1/partners"].post.responses)).toContain("202");
    expect(Object.keys(doc.paths["/admin/v1/partners/{id}/keys"].post.responses)).toEqual(
      expect.arrayContaining(["201", "202"]),
    );
    expect(Object.keys(doc.paths["/admin/v1/partners/{id}/keys/{keyId}/rotate"].post.responses)).toEqual(
      expect.arrayContaining(["201", "202"]),
    );
    expect(doc.paths["/admin/v1/partners/{id}/funding"].post.responses["202"]).toBeDefined();
    expect(doc.paths["/admin/v1/partners/{id}/funding"].get.responses["200"]).toBeDefined();
    expect(doc.paths["/admin/v1/partners/{id}/funding/decrease"].post).toBeDefined();
    expect(doc.paths["/admin/v1/partners/{id}/funding/changes"].get).toBeDefined();
  });

  test("the ledger verifies, and no API key is in any log line", async () => {
    await kit.expectVerified();
    const all = t.logs.join("\n");
    expect(secrets.size).toBeGreaterThan(5);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});
