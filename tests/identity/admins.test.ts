import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { PERMISSIONS } from "../../src/http/permissions";
import { totpStep } from "../../src/identity/secrets";
import { createAdmin, randomEmail, signInAdmin, signInUser, strongPassword, totp } from "../support/factories";
import { createTestContext } from "../support/harness";

const t = await createTestContext();
const secrets = new Set<string>();

const loginAs = (admin: { email: string; password: string }, code: string) =>
  t.request("POST", "/admin/v1/auth/login", { body: { email: admin.email, password: admin.password, totp: code } });

describe("admin sign-in with TOTP", () => {
  test("email + password + a current code; the secret is stored encrypted", async () => {
    const admin = await createAdmin(t, "finance");
    secrets.add(admin.password).add(admin.totpSecret);
    expect(admin.totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    const [row] = await queryRows<{ totp_secret: string; password_hash: string }>(
      t.deps.database.db,
      sql`select totp_secret, password_hash from admins where id = ${admin.id}`,
    );
    expect(row!.totp_secret).not.toContain(admin.totpSecret);
    expect(row!.password_hash).toStartWith("$argon2id$");
    const res = await loginAs(admin, totp(admin.totpSecret, totpStep(new Date())));
    expect(res.status).toBe(200);
    secrets.add(res.json.accessToken).add(res.json.refreshToken);
    expect(res.json.admin).toMatchObject({ id: admin.id, role: "finance", status: "active" });
    expect(res.json.admin.permissions).toContain("ledger:read");
    const me = await t.request("GET", "/admin/v1/me", { token: res.json.accessToken });
    expect(me.json.id).toBe(admin.id);
  });

  test("a code is accepted one step either side, not two; and never twice", async () => {
    const admin = await createAdmin(t);
    // Mid-step, on a clock that stands still: no step boundary can pass during the test.
    const fixed = new Date((totpStep(new Date()) * 30 + 15) * 1000);
    t.deps.now = () => fixed;
    try {
      await codesEitherSide(admin);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  async function codesEitherSide(admin: Awaited<ReturnType<typeof createAdmin>>) {
    const now = totpStep(t.deps.now());
    expect((await loginAs(admin, totp(admin.totpSecret, now - 2))).status).toBe(401);
    expect((await loginAs(admin, totp(admin.totpSecret, now + 2))).status).toBe(401);
    expect((await loginAs(admin, totp(admin.totpSecret, now - 1))).status).toBe(200);
    const code = totp(admin.totpSecret, now);
    expect((await loginAs(admin, code)).status).toBe(200);
    const replay = await loginAs(admin, code);
    expect(replay.status).toBe(401);
    // An older code than the last one used is a replay too.
    expect((await loginAs(admin, totp(admin.totpSecret, now - 1))).status).toBe(401);
    const audit = await t.deps.audit.list({ targetId: admin.id, action: "admin.login.failed", limit: 10 });
    expect(audit.data.map((r) => r.details.reason)).toContain("totp_reused");
  }

  test("two logins racing with one code: only one gets in", async () => {
    const admin = await createAdmin(t);
    const code = totp(admin.totpSecret, totpStep(new Date()));
    const results = await Promise.all([loginAs(admin, code), loginAs(admin, code)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  test("wrong password, wrong code, unknown email and a locked account: one 401; 5 failures lock the account", async () => {
    const admin = await createAdmin(t);
    const now = totpStep(new Date());
    const wrongPassword = await loginAs({ ...admin, password: "nope-nope-nope" }, totp(admin.totpSecret, now));
    const wrongCode = await loginAs(admin, totp(admin.totpSecret, now + 5));
    const unknown = await loginAs({ email: randomEmail(), password: "whatever-1234" }, "123456");
    expect([wrongPassword.status, wrongCode.status, unknown.status]).toEqual([401, 401, 401]);
    expect(
      new Set([wrongPassword.json.error.message, wrongCode.json.error.message, unknown.json.error.message]).size,
    ).toBe(1);
    for (let i = 0; i < 3; i++) await loginAs(admin, "000000");
    // Locked: even the right password and code are refused, with the wrong-password answer (no enumeration).
    const locked = await loginAs(admin, totp(admin.totpSecret, now));
    expect(locked.status).toBe(401);
    expect(locked.json.error.message).toBe(wrongPassword.json.error.message);
    expect(locked.json.error.details).toBeUndefined();
  });

  test("a disabled admin cannot sign in and their sessions end; nobody disables themselves", async () => {
    const boss = await createAdmin(t, "super_admin");
    const bossTokens = await signInAdmin(t, boss);
    const victim = await createAdmin(t, "support");
    const victimTokens = await signInAdmin(t, victim);
    const self = await t.request("POST", `/admin/v1/admins/${boss.id}/disable`, {
      token: bossTokens.accessToken,
      body: { reason: "testing" },
    });
    expect(self.status).toBe(409);
    const res = await t.request("POST", `/admin/v1/admins/${victim.id}/disable`, {
      token: bossTokens.accessToken,
      body: { reason: "left the company" },
    });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("disabled");
    expect((await t.request("GET", "/admin/v1/me", { token: victimTokens.accessToken })).status).toBe(401);
    const again = await signInAdmin(t, victim).catch((e: Error) => e.message);
    expect(String(again)).toContain("ACCOUNT_FROZEN");
  });
});

describe("roles and the permission map", () => {
  test("every role's permissions come from one map; super_admin holds them all", () => {
    for (const roles of Object.values(PERMISSIONS)) expect(roles).toContain("super_admin");
  });

  test("support can read users but not freeze them; compliance can; both are audited", async () => {
    const user = await signInUser(t);
    const support = await signInAdmin(t, await createAdmin(t, "support"));
    const complianceAdmin = await createAdmin(t, "compliance");
    const compliance = await signInAdmin(t, complianceAdmin);
    expect((await t.request("GET", `/admin/v1/users/${user.id}`, { token: support.accessToken })).status).toBe(200);
    const refused = await t.request("POST", `/admin/v1/users/${user.id}/freeze`, {
      token: support.accessToken,
      body: { reason: "looks odd" },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error).toMatchObject({ code: "FORBIDDEN", details: { permission: "users:freeze" } });
    const frozen = await t.request("POST", `/admin/v1/users/${user.id}/freeze`, {
      token: compliance.accessToken,
      body: { reason: "sanctions hit under review" },
    });
    expect(frozen.status).toBe(200);
    expect(frozen.json).toMatchObject({ id: user.id, status: "frozen", statusReason: "sanctions hit under review" });
    expect((await t.request("GET", "/v1/me", { token: user.accessToken })).json.error.code).toBe("ACCOUNT_FROZEN");
    const unfrozen = await t.request("POST", `/admin/v1/users/${user.id}/unfreeze`, {
      token: compliance.accessToken,
      body: { reason: "cleared" },
    });
    expect(unfrozen.json.status).toBe("active");
    const audit = await t.deps.audit.list({ targetId: user.id, limit: 10 });
    const actions = audit.data.map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["user.freeze", "user.unfreeze", "user.view"]));
    expect(audit.data.find((r) => r.action === "user.freeze")).toMatchObject({
      actorType: "admin",
      actorId: complianceAdmin.id,
      details: { reason: "sanctions hit under review", previousStatus: "active" },
    });
  });

  test("finance cannot read the audit log or create admins; super_admin can", async () => {
    const finance = await signInAdmin(t, await createAdmin(t, "finance"));
    expect((await t.request("GET", "/admin/v1/audit", { token: finance.accessToken })).status).toBe(403);
    const body = { email: randomEmail("new-admin"), password: strongPassword(), role: "support" };
    expect((await t.request("POST", "/admin/v1/admins", { token: finance.accessToken, body })).status).toBe(403);
    const boss = await signInAdmin(t, await createAdmin(t, "super_admin"));
    const created = await t.request("POST", "/admin/v1/admins", { token: boss.accessToken, body });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ email: body.email, role: "support" });
    expect(created.json.otpauthUrl).toStartWith("otpauth://totp/");
    const listed = await t.request("GET", "/admin/v1/admins?limit=100", { token: boss.accessToken });
    expect(listed.json.data.some((a: any) => a.id === created.json.id)).toBe(true);
    expect(listed.json.data.every((a: any) => a.totpSecret === undefined && a.passwordHash === undefined)).toBe(true);
    const badRole = await t.request("POST", "/admin/v1/admins", {
      token: boss.accessToken,
      body: { ...body, email: randomEmail(), role: "god" },
    });
    expect(badRole.status).toBe(400);
  });
});

describe("user search and view", () => {
  test("by phone (any spelling or its last digits), by id, paginated newest first", async () => {
    const admin = await signInAdmin(t, await createAdmin(t, "support"));
    const users = [await signInUser(t), await signInUser(t), await signInUser(t)];
    const target = users[1]!;
    const byPhone = await t.request("GET", `/admin/v1/users?q=${target.phone.slice(4)}`, { token: admin.accessToken });
    expect(byPhone.json.data.map((u: any) => u.id)).toEqual([target.id]);
    const byTail = await t.request("GET", `/admin/v1/users?q=${target.phone.slice(-6)}`, { token: admin.accessToken });
    expect(byTail.json.data.map((u: any) => u.id)).toContain(target.id);
    const byId = await t.request("GET", `/admin/v1/users?q=${target.id}`, { token: admin.accessToken });
    expect(byId.json.data).toHaveLength(1);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.request("GET", `/admin/v1/users?limit=2${cursor ? `&cursor=${cursor}` : ""}`, {
        token: admin.accessToken,
      });
      expect(page.status).toBe(200);
      expect(page.json.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.json.data.map((u: any) => u.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const u of users) expect(seen).toContain(u.id);
    expect(seen.indexOf(users[2]!.id)).toBeLessThan(seen.indexOf(users[0]!.id));

    const view = await t.request("GET", `/admin/v1/users/${target.id}`, { token: admin.accessToken });
    expect(view.json).toMatchObject({ id: target.id, wallet: { currency: "SZL", balance: 0, available: 0 } });
    expect((await t.request("GET", "/admin/v1/users/usr_nope", { token: admin.accessToken })).status).toBe(404);
    expect((await t.request("GET", "/admin/v1/users?cursor=garbage", { token: admin.accessToken })).status).toBe(400);
    expect((await t.request("GET", "/admin/v1/users?limit=1000", { token: admin.accessToken })).status).toBe(400);
  });
});

describe("the audit log", () => {
  test("filters by action family, actor and time, paginates newest first", async () => {
    const adminRow = await createAdmin(t, "compliance");
    const admin = await signInAdmin(t, adminRow);
    const from = new Date().toISOString();
    const user = await signInUser(t);
    for (const verb of ["freeze", "unfreeze", "freeze"])
      await t.request("POST", `/admin/v1/users/${user.id}/${verb}`, {
        token: admin.accessToken,
        body: { reason: "x".repeat(5) },
      });
    const res = await t.request(
      "GET",
      `/admin/v1/audit?actorId=${adminRow.id}&action=user.*&from=${encodeURIComponent(from)}&limit=2`,
      { token: admin.accessToken },
    );
    expect(res.status).toBe(200);
    expect(res.json.data.map((r: any) => r.action)).toEqual(["user.freeze", "user.unfreeze"]);
    const next = await t.request(
      "GET",
      `/admin/v1/audit?actorId=${adminRow.id}&action=user.*&from=${encodeURIComponent(from)}&limit=2&cursor=${res.json.nextCursor}`,
      { token: admin.accessToken },
    );
    expect(next.json.data.map((r: any) => r.action)).toEqual(["user.freeze"]);
    expect(next.json.nextCursor).toBeNull();
    expect(res.json.data[0]).toMatchObject({ actorType: "admin", targetType: "user", targetId: user.id });
    expect(typeof res.json.data[0].requestId).toBe("string");
  });

  test("is append-only: UPDATE, DELETE and TRUNCATE are refused by the database", async () => {
    for (const statement of [
      sql`update audit_log set action = 'x'`,
      sql`delete from audit_log`,
      sql`truncate audit_log`,
    ]) {
      const error = await t.deps.database.db.execute(statement).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
    }
    const [row] = await queryRows<{ n: number }>(t.deps.database.db, sql`select count(*)::int as n from audit_log`);
    expect(row!.n).toBeGreaterThan(0);
  });
});

describe("CLI", () => {
  test("admin:create, vendor:create and partner:create print the documented JSON", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "keshless-cli-"));
    try {
      const env: Record<string, string | undefined> = {
        ...process.env,
        KESHLESS_ENV: "test",
        KESHLESS_DATA_DIR: dataDir,
        LOG_LEVEL: "warn",
        DATABASE_URL: undefined,
      };
      const run = (...args: string[]) => {
        const out = spawnSync(process.execPath, ["src/cli.ts", ...args], { env, encoding: "utf8", timeout: 60_000 });
        const line = out.stdout.trim().split("\n").pop() ?? "";
        return { code: out.status, json: JSON.parse(line), stdout: out.stdout };
      };
      const password = strongPassword();
      // Each run boots the app's database (PGlite: ~3 s), so one run per command, failures tested over HTTP.
      const admin = run("admin:create", "--email", randomEmail(), "--password", password, "--role", "super_admin");
      expect(admin.code).toBe(0);
      expect(admin.json.id).toMatch(/^adm_/);
      expect(admin.json.totpSecret).toMatch(/^[A-Z2-7]{32}$/);
      expect(admin.json.otpauthUrl).toContain(`secret=${admin.json.totpSecret}`);
      expect(admin.stdout).not.toContain(password);
      const vendor = run(
        "vendor:create",
        "--name",
        "CLI Shop",
        "--email",
        randomEmail(),
        "--password",
        password,
        "--phone",
        "76 12 34 56",
      );
      expect(vendor.code).toBe(0);
      expect(vendor.json).toMatchObject({ id: expect.stringMatching(/^vnd_/), code: expect.stringMatching(/^\d{6}$/) });
      const partner = run("partner:create", "--name", "CLI Bank");
      expect(partner.code).toBe(0);
      expect(partner.json.id).toMatch(/^prt_/);
      expect(partner.json.apiKey).toMatch(/^kl_test_/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("logs", () => {
  test("no password, TOTP secret or token in any log line", () => {
    const all = t.logs.join("\n");
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});
