import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { SignJWT } from "jose";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { jobAuth } from "../../src/http/auth";
import { createRouter } from "../../src/http/router";
import { partnerAuth, userAuth } from "../../src/identity/guards";
import { buildSystem } from "../../src/modules";
import { createAdmin, createVendor, signInAdmin, signInUser, signInVendor } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";

const t = await createTestContext();

// Probe routes for guards whose real routes belong to other domains (jobs, partner scopes).
const probe = createRouter();
probe.post("/jobs/probe", jobAuth, (c) => c.json({ principal: c.get("principal") }));
probe.get("/partner/v1/probe", partnerAuth("deposits:create"), (c) => c.json({ principal: c.get("principal") }));
probe.get("/v1/probe", userAuth, (c) => c.json({ principal: c.get("principal") }));
t.app.route("/", probe);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const derivedKey = (secret: string) => new Uint8Array(createHmac("sha256", secret).update("keshless-jwt-v1").digest());

async function otherDeps(env: Record<string, string>) {
  const config = loadConfig({
    KESHLESS_ENV: "test",
    KESHLESS_DATA_DIR: t.config.dataDir,
    ...TEST_SECRETS,
    ...(t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : {}),
    ...env,
  });
  return buildSystem(config, { database: t.deps.database, logger: t.deps.logger });
}

const user = await signInUser(t);
const claims = JSON.parse(Buffer.from(user.accessToken.split(".")[1]!, "base64url").toString());
const header = JSON.parse(Buffer.from(user.accessToken.split(".")[0]!, "base64url").toString());

function expect401(res: { status: number; json: any }) {
  expect(res.status).toBe(401);
  expect(res.json.error.code).toBe("UNAUTHENTICATED");
}

describe("access tokens", () => {
  test("carry kid, one audience per kind, an issuer and a 15-minute life", () => {
    expect(header).toMatchObject({ alg: "HS256", typ: "JWT" });
    expect(header.kid).toMatch(/^[0-9a-f]{16}$/);
    expect(claims).toMatchObject({ sub: user.id, aud: "keshless:user", iss: "keshless" });
    expect(claims.exp - claims.iat).toBe(900);
    expect(claims.sid).toMatch(/^ses_/);
  });

  test("alg none is refused", async () => {
    const forged = `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
    expect401(await t.request("GET", "/v1/me", { token: forged }));
    const forgedWithKid = `${b64({ alg: "none", kid: header.kid })}.${b64(claims)}.`;
    expect401(await t.request("GET", "/v1/me", { token: forgedWithKid }));
  });

  test("a bad signature is refused", async () => {
    const [h, p, s] = user.accessToken.split(".");
    const flipped = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith("AA") ? "BB" : "AA"}`;
    expect401(await t.request("GET", "/v1/me", { token: flipped }));
    // Claims edited after signing (a different user id).
    const edited = `${h}.${b64({ ...claims, sub: "usr_someoneelse000000000" })}.${s}`;
    expect401(await t.request("GET", "/v1/me", { token: edited }));
    // Signed with another key under our kid.
    const other = await new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: "HS256", kid: header.kid })
      .setSubject(user.id)
      .setAudience("keshless:user")
      .setIssuer("keshless")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(derivedKey("a-completely-different-secret-of-enough-length"));
    expect401(await t.request("GET", "/v1/me", { token: other }));
  });

  test("another algorithm with the right key is refused (HS256 only)", async () => {
    const hs512 = await new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: "HS512", kid: header.kid })
      .setSubject(user.id)
      .setAudience("keshless:user")
      .setIssuer("keshless")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(derivedKey(TEST_SECRETS.KESHLESS_JWT_SECRET));
    expect401(await t.request("GET", "/v1/me", { token: hs512 }));
  });

  test("the wrong issuer is refused", async () => {
    const foreign = await otherDeps({ KESHLESS_JWT_ISSUER: "someone-else" });
    const token = await foreign.identity.tokens.signAccess("user", { sub: user.id, sid: claims.sid });
    expect401(await t.request("GET", "/v1/me", { token }));
  });

  test("an expired token is refused with reason expired", async () => {
    t.deps.now = () => new Date(Date.now() + 16 * 60_000);
    try {
      const res = await t.request("GET", "/v1/me", { token: user.accessToken });
      expect401(res);
      expect(res.json.error.details).toEqual({ reason: "expired" });
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("a token verified before (and so remembered) is still refused once expired, and its tampered twin never passes", async () => {
    expect((await t.request("GET", "/v1/me", { token: user.accessToken })).status).toBe(200);
    const [head, payload, signature] = user.accessToken.split(".");
    const flipped = `${head}.${payload}.${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BA" : "AA"}`;
    expect401(await t.request("GET", "/v1/me", { token: flipped }));
    const widened = `${head}.${b64({ ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: "usr_other" })}.${signature}`;
    expect401(await t.request("GET", "/v1/me", { token: widened }));
    t.deps.now = () => new Date(Date.now() + 16 * 60_000);
    try {
      for (const path of ["/v1/me", "/v1/wallet"]) {
        const res = await t.request("GET", path, { token: user.accessToken });
        expect401(res);
        expect(res.json.error.details).toEqual({ reason: "expired" });
      }
    } finally {
      t.deps.now = () => new Date();
    }
    expect((await t.request("GET", "/v1/me", { token: user.accessToken })).status).toBe(200);
  });

  test("a token whose session belongs to someone else is refused", async () => {
    const other = await signInUser(t);
    const token = await t.deps.identity.tokens.signAccess("user", { sub: other.id, sid: claims.sid });
    expect401(await t.request("GET", "/v1/me", { token }));
  });

  test("malformed Authorization headers are 401 with WWW-Authenticate", async () => {
    for (const value of ["", "Basic dXNlcjpwdw==", "Bearer", `Bearer ${user.accessToken} extra`, user.accessToken]) {
      const res = await t.request("GET", "/v1/me", { headers: { authorization: value } });
      expect401(res);
    }
    const res = await t.request("GET", "/v1/me");
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  test("rotation: tokens signed with the previous secret still verify; nothing signed with an unknown key does", async () => {
    const rotated = await otherDeps({
      KESHLESS_JWT_SECRET: "the-next-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz",
      KESHLESS_JWT_PREVIOUS_SECRETS: TEST_SECRETS.KESHLESS_JWT_SECRET,
    });
    const app2 = createApp(rotated);
    const me = await app2.request("/v1/me", { headers: { authorization: `Bearer ${user.accessToken}` } });
    expect(me.status).toBe(200);
    const fresh = await rotated.identity.tokens.signAccess("user", { sub: user.id, sid: claims.sid });
    expect(JSON.parse(Buffer.from(fresh.split(".")[0]!, "base64url").toString()).kid).not.toBe(header.kid);
    expect((await app2.request("/v1/me", { headers: { authorization: `Bearer ${fresh}` } })).status).toBe(200);
    // The old deployment does not know the new key yet.
    expect401(await t.request("GET", "/v1/me", { token: fresh }));
  });
});

describe("a token of one kind is refused everywhere else", () => {
  test("a user token on vendor, admin, partner and job routes", async () => {
    for (const path of ["/v1/vendor/me", "/v1/vendor/devices", "/admin/v1/me", "/admin/v1/users", "/admin/v1/audit"])
      expect401(await t.request("GET", path, { token: user.accessToken }));
    expect401(await t.request("GET", "/partner/v1/me", { token: user.accessToken }));
    expect401(await t.request("GET", "/partner/v1/me", { headers: { "x-api-key": user.accessToken } }));
    expect401(await t.request("GET", "/partner/v1/probe", { token: user.accessToken }));
    expect401(await t.request("POST", "/jobs/probe", { token: user.accessToken }));
  });

  test("a vendor token on user and admin routes, an admin token on user and vendor routes", async () => {
    const vendor = await createVendor(t);
    const vendorTokens = await signInVendor(t, vendor);
    expect((await t.request("GET", "/v1/vendor/me", { token: vendorTokens.accessToken })).status).toBe(200);
    expect401(await t.request("GET", "/v1/me", { token: vendorTokens.accessToken }));
    expect401(await t.request("GET", "/admin/v1/me", { token: vendorTokens.accessToken }));

    const admin = await createAdmin(t, "super_admin");
    const adminTokens = await signInAdmin(t, admin);
    expect((await t.request("GET", "/admin/v1/me", { token: adminTokens.accessToken })).status).toBe(200);
    expect401(await t.request("GET", "/v1/me", { token: adminTokens.accessToken }));
    expect401(await t.request("GET", "/v1/vendor/me", { token: adminTokens.accessToken }));
    expect401(await t.request("GET", "/v1/probe", { token: adminTokens.accessToken }));
  });
});

describe("job secret", () => {
  test("missing or wrong X-Job-Secret is 401; the right one passes", async () => {
    expect401(await t.request("POST", "/jobs/probe"));
    expect401(await t.request("POST", "/jobs/probe", { headers: { "x-job-secret": "wrong" } }));
    expect401(
      await t.request("POST", "/jobs/probe", { headers: { "x-job-secret": `${TEST_SECRETS.KESHLESS_JOB_SECRET}x` } }),
    );
    const ok = await t.request("POST", "/jobs/probe", {
      headers: { "x-job-secret": TEST_SECRETS.KESHLESS_JOB_SECRET },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.principal).toEqual({ kind: "job", id: "scheduler" });
  });
});

describe("logs", () => {
  test("no token in any log line", () => {
    const all = t.logs.join("\n");
    expect(all).not.toContain(user.accessToken);
    expect(all).not.toContain(user.refreshToken);
    expect(all).not.toContain(user.accessToken.split(".")[2]!);
  });
});
