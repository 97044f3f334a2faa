import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { createApp } from "../../src/app";
import { queryRows } from "../../src/db/client";
import { buildSystem } from "../../src/modules";
import { createVendor, latestCode, randomPhone, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";

const t = await createTestContext();
const limited = await createTestContext({ KESHLESS_OTP_IP_PER_HOUR: "20" });
/** Every secret the tests see, checked against the log at the end. */
const secrets = new Set<string>();

const ip = (address: string) => ({ "x-forwarded-for": address });
let nextIp = 1;
/** A fresh client address per test, so per-IP limits of one test don't leak into another. */
const freshIp = () => ip(`198.51.100.${nextIp++}`);

async function requestCode(phone: string, headers = freshIp()) {
  return t.request("POST", "/v1/auth/otp", { body: { phone }, headers });
}

async function verify(phone: string, code: string, headers = freshIp()) {
  const res = await t.request("POST", "/v1/auth/otp/verify", { body: { phone, code }, headers });
  if (res.json?.accessToken) {
    secrets.add(res.json.accessToken);
    secrets.add(res.json.refreshToken);
  }
  return res;
}

const wrongCodeFor = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

async function codeFor(phone: string) {
  const code = await latestCode(t, phone);
  secrets.add(code);
  return code;
}

describe("OTP sign-in", () => {
  test("request → 202 {expiresInSeconds}; the code is queued to the phone, hashed in the database", async () => {
    const phone = randomPhone();
    const res = await requestCode(phone.slice(4)); // the local 8-digit spelling
    expect(res.status).toBe(202);
    expect(res.json).toEqual({ expiresInSeconds: 300 });
    const code = await codeFor(phone);
    expect(code).toMatch(/^\d{6}$/);
    const [challenge] = await queryRows<{ code_hash: string; expires_at: Date }>(
      t.deps.database.db,
      sql`select code_hash, expires_at from otp_challenges where phone = ${phone}`,
    );
    expect(challenge!.code_hash).not.toContain(code);
    expect(challenge!.code_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test("bad phones and codes are 400 VALIDATION_FAILED", async () => {
    for (const phone of ["12345", "+27821234567", "7412 3456", "", "+268761234567"]) {
      const res = await requestCode(phone);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
      expect(res.json.error.details[0].path).toBe("phone");
    }
    for (const code of ["12345", "1234567", "abcdef", ""]) {
      const res = await verify(randomPhone(), code);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
    expect((await t.request("POST", "/v1/auth/otp", { body: { phone: 76123456 } })).status).toBe(400);
  });

  test("the first verify creates the user and the wallet; the next one signs the same user in", async () => {
    const phone = randomPhone();
    await requestCode(phone);
    const first = await verify(phone, await codeFor(phone));
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ expiresIn: 900, user: { phone, kycTier: 0, hasPin: false, status: "active" } });
    expect(first.json.user.id).toMatch(/^usr_/);
    const wallet = await t.deps.ledger.findAccount("user_wallet", first.json.user.id, "SZL");
    expect(wallet).toMatchObject({ guarded: true, currency: "SZL", ownerId: first.json.user.id });
    expect((await t.deps.ledger.balance(wallet!.id)).balance).toBe(0n);

    t.deps.now = () => new Date(Date.now() + 61_000);
    try {
      await requestCode(phone);
      const second = await verify(phone, await codeFor(phone));
      expect(second.status).toBe(200);
      expect(second.json.user.id).toBe(first.json.user.id);
    } finally {
      t.deps.now = () => new Date();
    }
    const me = await t.request("GET", "/v1/me", { token: first.json.accessToken });
    expect(me.status).toBe(200);
    expect(me.json).toEqual({ id: first.json.user.id, phone, name: null, kycTier: 0, hasPin: false, status: "active" });
  });

  test("register is idempotent per phone and always leaves one wallet", async () => {
    const phone = randomPhone();
    const [a, b] = await Promise.all([
      t.deps.identity.users.register({ phone }),
      t.deps.identity.users.register({ phone: phone.slice(1) }),
    ]);
    expect(a.id).toBe(b.id);
    const rows = await queryRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from ledger_accounts where owner_id = ${a.id}`,
    );
    expect(rows[0]!.n).toBe(1);
    expect(await t.deps.identity.users.findByPhone(phone.slice(4))).toEqual(a);
  });

  test("a code is used once", async () => {
    const phone = randomPhone();
    await requestCode(phone);
    const code = await codeFor(phone);
    expect((await verify(phone, code)).status).toBe(200);
    const again = await verify(phone, code);
    expect(again.status).toBe(401);
    expect(again.json.error.code).toBe("UNAUTHENTICATED");
  });

  test("5 wrong tries burn the code, even the right one fails after", async () => {
    const phone = randomPhone();
    await requestCode(phone);
    const code = await codeFor(phone);
    for (let i = 1; i <= 5; i++) {
      const res = await verify(phone, wrongCodeFor(code));
      expect(res.status).toBe(401);
      expect(res.json.error.details.attemptsRemaining).toBe(5 - i);
    }
    expect((await verify(phone, code)).status).toBe(401);
    const audit = await t.deps.audit.list({ action: "user.login.failed", limit: 100 });
    expect(audit.data.filter((r) => String(r.details.phone).endsWith(phone.slice(-3))).length).toBeGreaterThanOrEqual(
      5,
    );
  });

  test("a code expires after 5 minutes", async () => {
    const phone = randomPhone();
    await requestCode(phone);
    const code = await codeFor(phone);
    t.deps.now = () => new Date(Date.now() + 301_000);
    try {
      expect((await verify(phone, code)).status).toBe(401);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("a new code supersedes the old one", async () => {
    const phone = randomPhone();
    await requestCode(phone);
    const old = await codeFor(phone);
    t.deps.now = () => new Date(Date.now() + 61_000);
    try {
      expect((await requestCode(phone)).status).toBe(202);
      const fresh = await codeFor(phone);
      if (fresh !== old) expect((await verify(phone, old)).status).toBe(401);
      expect((await verify(phone, fresh)).status).toBe(200);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("resend cooldown: a second code within 60 s is 429 with Retry-After", async () => {
    const phone = randomPhone();
    expect((await requestCode(phone)).status).toBe(202);
    const again = await requestCode(phone);
    expect(again.status).toBe(429);
    expect(again.json.error.code).toBe("RATE_LIMITED");
    const retryAfter = Number(again.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  test("per-phone cap: 5 codes an hour, whatever the spacing, from any address", async () => {
    const phone = randomPhone();
    const start = Date.now();
    try {
      for (let i = 0; i < 5; i++) {
        t.deps.now = () => new Date(start + i * 61_000);
        expect((await requestCode(phone)).status).toBe(202);
      }
      t.deps.now = () => new Date(start + 5 * 61_000);
      const capped = await requestCode(phone);
      expect(capped.status).toBe(429);
      expect(Number(capped.headers.get("retry-after"))).toBeGreaterThan(60);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("a refused request spends nothing from the other limits", async () => {
    const phone = randomPhone();
    const headers = freshIp();
    expect((await requestCode(phone, headers)).status).toBe(202);
    for (let i = 0; i < 3; i++) expect((await requestCode(phone, headers)).status).toBe(429);
    const [row] = await queryRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from rate_limits where key = ${`otp:ip:${headers["x-forwarded-for"]}`}`,
    );
    expect(row!.n).toBe(1);
  });
});

describe("rate-limit rows", () => {
  test("are swept once spent, and a swept key starts afresh", async () => {
    const key = `test:${randomPhone()}`;
    const rule = { key, limit: 2, periodSeconds: 60 };
    const now = new Date();
    expect((await t.deps.rateLimiter.take([rule], now)).ok).toBe(true);
    expect((await t.deps.rateLimiter.take([rule], now)).ok).toBe(true);
    expect(await t.deps.rateLimiter.take([rule], now)).toMatchObject({ ok: false, key, retryAfterSeconds: 30 });
    expect((await t.deps.rateLimiter.take([rule], new Date(now.getTime() + 30_000))).ok).toBe(true);
    const later = new Date(now.getTime() + 120_000);
    expect(await t.deps.rateLimiter.sweep(later)).toBeGreaterThanOrEqual(1);
    const rows = await queryRows(t.deps.database.db, sql`select 1 from rate_limits where key = ${key}`);
    expect(rows).toHaveLength(0);
  });
});

describe("per-IP limits tolerate carrier-grade NAT", () => {
  test("many phones behind one address pass; the cap is per address, and the client cannot pick its own", async () => {
    const nat = { "x-forwarded-for": "203.0.113.9" };
    for (let i = 0; i < 20; i++) {
      const res = await limited.request("POST", "/v1/auth/otp", { body: { phone: randomPhone() }, headers: nat });
      expect(res.status).toBe(202);
    }
    const over = await limited.request("POST", "/v1/auth/otp", { body: { phone: randomPhone() }, headers: nat });
    expect(over.status).toBe(429);
    // A forged leftmost entry does not buy a fresh bucket: the proxy appends the real address last.
    const forged = await limited.request("POST", "/v1/auth/otp", {
      body: { phone: randomPhone() },
      headers: { "x-forwarded-for": "10.9.9.9, 203.0.113.9" },
    });
    expect(forged.status).toBe(429);
    const other = await limited.request("POST", "/v1/auth/otp", {
      body: { phone: randomPhone() },
      headers: { "x-forwarded-for": "203.0.113.10" },
    });
    expect(other.status).toBe(202);
    expect(limited.config.auth.otpIpPerHour).toBe(20);
    expect(t.config.auth.otpIpPerHour).toBeGreaterThanOrEqual(1000);
  });
});

describe("two instances share every counter", () => {
  test("cooldown, wrong-code count and burn hold across two apps over one database", async () => {
    const deps2 = await buildSystem(t.config, { database: t.deps.database, logger: t.deps.logger });
    const app2 = createApp(deps2);
    const call = async (app: typeof t.app, path: string, body: unknown) => {
      const res = await app.request(path, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.77" },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
    };
    const phone = randomPhone();
    expect((await call(t.app, "/v1/auth/otp", { phone })).status).toBe(202);
    expect((await call(app2, "/v1/auth/otp", { phone })).status).toBe(429);
    const code = await codeFor(phone);
    const wrong = wrongCodeFor(code);
    for (let i = 0; i < 5; i++) {
      const app = i % 2 ? app2 : t.app;
      expect((await call(app, "/v1/auth/otp/verify", { phone, code: wrong })).status).toBe(401);
    }
    expect((await call(app2, "/v1/auth/otp/verify", { phone, code })).status).toBe(401);
  });
});

describe("cooldowns per account kind", () => {
  test("a user and a vendor sharing a phone do not make each other wait; each keeps its own cooldown", async () => {
    const phone = randomPhone();
    const vendor = await createVendor(t, { phone });
    expect((await requestCode(phone)).status).toBe(202);
    const login = () =>
      t.request("POST", "/v1/vendor/auth/login", {
        body: { email: vendor.email, password: vendor.password, deviceId: "shop-phone" },
      });
    const challenged = await login();
    expect(challenged.status).toBe(403);
    expect(challenged.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
    expect((await t.deps.notifications.list({ to: phone, limit: 5 })).map((m) => m.kind).sort()).toEqual([
      "device_otp",
      "otp",
    ]);
    // The user's own cooldown still holds.
    const again = await requestCode(phone);
    expect(again.status).toBe(429);
    expect(again.json.error.message).toContain("wait");
  });
});

describe("refresh tokens", () => {
  test("rotate on every use; the old one is spent", async () => {
    const user = await signInUser(t);
    secrets.add(user.accessToken).add(user.refreshToken);
    const first = await t.request("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.json.refreshToken).not.toBe(user.refreshToken);
    expect(first.json.user.id).toBe(user.id);
    secrets.add(first.json.accessToken).add(first.json.refreshToken);
    expect((await t.request("GET", "/v1/me", { token: first.json.accessToken })).status).toBe(200);
    const [stored] = await queryRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from refresh_tokens where token_hash = ${first.json.refreshToken}`,
    );
    expect(stored!.n).toBe(0);
  });

  test("presenting a spent token after the grace window revokes the whole family, access tokens included", async () => {
    const user = await signInUser(t);
    secrets.add(user.accessToken).add(user.refreshToken);
    const rotated = await t.request("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } });
    expect(rotated.status).toBe(200);
    // Within the grace window a second exchange is a race, not a theft (tests/identity/refresh-race.test.ts).
    t.deps.now = () => new Date(Date.now() + (t.config.auth.refreshGraceSeconds + 1) * 1000);
    try {
      const reuse = await t.request("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } });
      expect(reuse.status).toBe(401);
      // The thief's (or the owner's) newer token is dead too.
      const after = await t.request("POST", "/v1/auth/refresh", { body: { refreshToken: rotated.json.refreshToken } });
      expect(after.status).toBe(401);
      expect((await t.request("GET", "/v1/me", { token: rotated.json.accessToken })).status).toBe(401);
    } finally {
      t.deps.now = () => new Date();
    }
    const audit = await t.deps.audit.list({ action: "auth.refresh.reuse", actorId: user.id, limit: 10 });
    expect(audit.data).toHaveLength(1);
  });

  test("garbage and other kinds' refresh tokens are 401", async () => {
    for (const refreshToken of ["nope", `rt_${"x".repeat(43)}`, "' or 1=1 --"]) {
      const res = await t.request("POST", "/v1/auth/refresh", { body: { refreshToken } });
      expect(res.status).toBe(401);
    }
    const user = await signInUser(t);
    const asVendor = await t.request("POST", "/v1/vendor/auth/refresh", { body: { refreshToken: user.refreshToken } });
    expect(asVendor.status).toBe(401);
    expect((await t.request("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } })).status).toBe(
      200,
    );
  });

  test("logout revokes the session: access and refresh tokens stop working", async () => {
    const user = await signInUser(t);
    const other = await signInUser(t);
    const out = await t.request("POST", "/v1/auth/logout", { token: user.accessToken });
    expect(out.status).toBe(204);
    expect((await t.request("GET", "/v1/me", { token: user.accessToken })).status).toBe(401);
    expect((await t.request("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } })).status).toBe(
      401,
    );
    expect((await t.request("GET", "/v1/me", { token: other.accessToken })).status).toBe(200);
    expect((await t.request("POST", "/v1/auth/logout")).status).toBe(401);
  });
});

describe("frozen and deleted users", () => {
  test("a frozen user cannot sign in, refresh or use a token; unfreezing restores access", async () => {
    const user = await signInUser(t);
    await t.deps.identity.users.setStatus({
      ctx: { actor: { type: "system", id: "test" } },
      input: { userId: user.id, status: "frozen", reason: "test freeze" },
    });
    const me = await t.request("GET", "/v1/me", { token: user.accessToken });
    expect(me.status).toBe(403);
    expect(me.json.error.code).toBe("ACCOUNT_FROZEN");
    const refreshed = await t.request("POST", "/v1/auth/refresh", { body: { refreshToken: user.refreshToken } });
    expect(refreshed.json.error.code).toBe("ACCOUNT_FROZEN");
    t.deps.now = () => new Date(Date.now() + 61_000);
    try {
      await requestCode(user.phone);
      const login = await verify(user.phone, await codeFor(user.phone));
      expect(login.status).toBe(403);
      expect(login.json.error.code).toBe("ACCOUNT_FROZEN");
    } finally {
      t.deps.now = () => new Date();
    }
    await t.deps.identity.users.setStatus({
      ctx: { actor: { type: "system", id: "test" } },
      input: { userId: user.id, status: "active", reason: "cleared" },
    });
    expect((await t.request("GET", "/v1/me", { token: user.accessToken })).status).toBe(200);
  });

  test("a deleted user's token is 401", async () => {
    const user = await signInUser(t);
    await t.deps.database.db.execute(sql`update users set status = 'deleted' where id = ${user.id}`);
    const res = await t.request("GET", "/v1/me", { token: user.accessToken });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe("UNAUTHENTICATED");
  });
});

describe("the dev outbox", () => {
  test("GET /dev/outbox?to= lists what was sent to a phone, newest first", async () => {
    const phone = randomPhone();
    await requestCode(phone);
    await t.deps.notifications.drain();
    const res = await t.request("GET", `/dev/outbox?to=${encodeURIComponent(phone)}`);
    expect(res.status).toBe(200);
    expect(res.json.data).toHaveLength(1);
    expect(res.json.data[0]).toMatchObject({ to: phone, channel: "outbox" });
    expect(res.json.data[0].body).toMatch(/\b\d{6}\b/);
    expect(Object.keys(res.json.data[0])).toEqual(expect.arrayContaining(["id", "to", "channel", "body", "createdAt"]));
    expect((await t.request("GET", "/dev/outbox?to=123")).status).toBe(400);
  });

  test("is 404 NOT_FOUND in production", async () => {
    const deps = await buildSystem(
      { ...t.config, env: "production" },
      { database: t.deps.database, logger: t.deps.logger },
    );
    const res = await createApp(deps).request("/dev/outbox");
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe("NOT_FOUND");
  });
});

describe("OpenAPI", () => {
  test("every identity route is in /openapi.json", async () => {
    const doc = (await t.request("GET", "/openapi.json")).json;
    const paths = Object.keys(doc.paths);
    for (const path of [
      "/v1/auth/otp",
      "/v1/auth/otp/verify",
      "/v1/auth/refresh",
      "/v1/auth/logout",
      "/v1/me",
      "/v1/me/pin",
      "/v1/vendor/auth/login",
      "/v1/vendor/auth/device/verify",
      "/v1/vendor/devices/{id}",
      "/admin/v1/auth/login",
      "/admin/v1/users",
      "/admin/v1/users/{id}/freeze",
      "/admin/v1/vendors/{id}/devices/{deviceId}",
      "/admin/v1/admins/{id}/disable",
      "/admin/v1/partners/{id}/keys/{keyId}/rotate",
      "/admin/v1/audit",
      "/partner/v1/me",
      "/dev/outbox",
    ])
      expect(paths).toContain(path);
    expect(doc.paths["/v1/me/pin"].put.security).toEqual([{ bearer: [] }]);
  });
});

describe("logs", () => {
  test("no code, token or full phone number in any log line", () => {
    expect(secrets.size).toBeGreaterThan(10);
    const all = t.logs.join("\n");
    for (const secret of secrets) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/\+2687\d{7}/);
  });
});
