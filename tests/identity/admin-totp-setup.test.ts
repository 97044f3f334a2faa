import { describe, expect, test } from "bun:test";
import { totpStep } from "../../src/identity/secrets";
import { createAdmin, totp } from "../support/factories";
import { createTestContext } from "../support/harness";

const t = await createTestContext();

const setup = (body: { email: string; password: string }) => t.request("POST", "/admin/v1/auth/totp-setup", { body });

describe("a new admin's first sign-in: the authenticator's otpauth URL for the QR", () => {
  test("with the right password, before the first sign-in: the URL of the admin's own secret, which then signs in", async () => {
    const admin = await createAdmin(t, "support");
    const res = await setup({ email: admin.email.toUpperCase(), password: admin.password });
    expect(res.status).toBe(200);
    const url = new URL(res.json.otpauthUrl);
    expect(url.protocol).toBe("otpauth:");
    expect(url.searchParams.get("secret")).toBe(admin.totpSecret);
    expect(url.searchParams.get("issuer")).toBe("Keshless");
    const login = await t.request("POST", "/admin/v1/auth/login", {
      body: { email: admin.email, password: admin.password, totp: totp(admin.totpSecret, totpStep(new Date())) },
    });
    expect(login.status).toBe(200);
    const audit = await t.deps.audit.list({ limit: 20, action: "admin.totp.setup", targetId: admin.id });
    expect(audit.data).toHaveLength(1);
    expect(JSON.stringify(audit.data)).not.toContain(admin.totpSecret);
  });

  test("refused alike once the admin has signed in, for a wrong password and for an unknown email", async () => {
    const admin = await createAdmin(t, "finance");
    const other = await createAdmin(t, "finance");
    await t.request("POST", "/admin/v1/auth/login", {
      body: { email: admin.email, password: admin.password, totp: totp(admin.totpSecret, totpStep(new Date())) },
    });
    const answers = [
      await setup({ email: admin.email, password: admin.password }),
      await setup({ email: other.email, password: `${other.password}x` }),
      await setup({ email: "nobody@example.com", password: other.password }),
    ];
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401]);
    expect(new Set(answers.map((a) => a.json.error.message)).size).toBe(1);
    for (const a of answers) expect(a.text).not.toContain("otpauth");
  });

  test("after the first sign-in a right password here counts toward the sign-in lock, like a wrong one", async () => {
    const admin = await createAdmin(t, "compliance");
    await t.request("POST", "/admin/v1/auth/login", {
      body: { email: admin.email, password: admin.password, totp: totp(admin.totpSecret, totpStep(new Date())) },
    });
    for (let i = 0; i < t.config.auth.loginMaxAttempts; i++)
      await setup({ email: admin.email, password: admin.password });
    const step = totpStep(new Date()) + 1;
    const login = await t.request("POST", "/admin/v1/auth/login", {
      body: { email: admin.email, password: admin.password, totp: totp(admin.totpSecret, step) },
    });
    expect(login.status).toBe(401);
  });

  test("a disabled admin gets no URL; bad input is a 400", async () => {
    const admin = await createAdmin(t, "support");
    await t.deps.identity.admins.disable({
      ctx: { actor: { type: "system", id: "test" } },
      input: { adminId: admin.id, reason: "left" },
    });
    expect((await setup({ email: admin.email, password: admin.password })).status).toBe(401);
    expect((await t.request("POST", "/admin/v1/auth/totp-setup", { body: { email: "not an email" } })).status).toBe(
      400,
    );
  });
});
