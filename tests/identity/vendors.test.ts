import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import {
  createAdmin,
  createVendor,
  latestCode,
  randomEmail,
  randomPhone,
  signInAdmin,
  signInUser,
  signInVendor,
  strongPassword,
} from "../support/factories";
import { createTestContext } from "../support/harness";

const t = await createTestContext();
const secrets = new Set<string>();

const login = (body: { email: string; password: string; deviceId: string }) =>
  t.request("POST", "/v1/vendor/auth/login", { body });

describe("creating vendors", () => {
  test("a vendor gets a 6-digit code, an argon2id password hash and a sharded wallet", async () => {
    const vendor = await createVendor(t);
    secrets.add(vendor.password);
    expect(vendor.id).toMatch(/^vnd_/);
    expect(vendor.code).toMatch(/^[1-9]\d{5}$/);
    const [row] = await queryRows<{ password_hash: string }>(
      t.deps.database.db,
      sql`select password_hash from vendors where id = ${vendor.id}`,
    );
    expect(row!.password_hash).toStartWith("$argon2id$");
    const wallet = await t.deps.ledger.findAccount("vendor_wallet", vendor.id, "SZL");
    expect(wallet).toMatchObject({ guarded: true, shardCount: t.config.hotAccountShards });
    expect(await t.deps.identity.vendors.findByCode(vendor.code)).toEqual({
      id: vendor.id,
      name: vendor.name,
      code: vendor.code,
      phone: vendor.phone,
      email: vendor.email,
      status: "active",
    });
    expect(await t.deps.identity.vendors.get(vendor.id)).toMatchObject({ code: vendor.code });
  });

  test("a duplicate email is 409; a weak password or bad phone is 400", async () => {
    const vendor = await createVendor(t);
    const admin = await createAdmin(t, "support");
    const { accessToken } = await signInAdmin(t, admin);
    const body = { name: "Dup", email: vendor.email.toUpperCase(), password: strongPassword(), phone: randomPhone() };
    const dup = await t.request("POST", "/admin/v1/vendors", { token: accessToken, body });
    expect(dup.status).toBe(409);
    const weak = await t.request("POST", "/admin/v1/vendors", {
      token: accessToken,
      body: { ...body, email: randomEmail(), password: "short" },
    });
    expect(weak.status).toBe(400);
    const phone = await t.request("POST", "/admin/v1/vendors", {
      token: accessToken,
      body: { ...body, email: randomEmail(), phone: "0800123456" },
    });
    expect(phone.status).toBe(400);
  });

  test("an admin with vendors:create makes one through the API; the action is audited", async () => {
    const admin = await createAdmin(t, "support");
    const { accessToken } = await signInAdmin(t, admin);
    const password = strongPassword();
    secrets.add(password);
    const res = await t.request("POST", "/admin/v1/vendors", {
      token: accessToken,
      body: { name: "Mbabane Grocer", email: randomEmail(), password, phone: randomPhone(), category: "grocery" },
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ name: "Mbabane Grocer", category: "grocery", status: "active" });
    expect(res.json.password).toBeUndefined();
    const audit = await t.deps.audit.list({ action: "vendor.create", targetId: res.json.id, limit: 5 });
    expect(audit.data[0]).toMatchObject({ actorType: "admin", actorId: admin.id });
    const compliance = await signInAdmin(t, await createAdmin(t, "compliance"));
    const refused = await t.request("POST", "/admin/v1/vendors", {
      token: compliance.accessToken,
      body: { name: "Nope", email: randomEmail(), password, phone: randomPhone() },
    });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("FORBIDDEN");
  });
});

describe("vendor sign-in", () => {
  test("an unknown device gets 403 DEVICE_VERIFICATION_REQUIRED and a code on the vendor's phone", async () => {
    const vendor = await createVendor(t);
    const res = await login({ email: vendor.email, password: vendor.password, deviceId: "phone-1" });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
    const { challengeId } = res.json.error.details;
    expect(challengeId).toMatch(/^otp_/);
    const code = await latestCode(t, vendor.phone);
    secrets.add(code);

    // A retry within the cooldown gets the same challenge, not a second text.
    const retry = await login({ email: vendor.email, password: vendor.password, deviceId: "phone-1" });
    expect(retry.json.error.details.challengeId).toBe(challengeId);
    expect(await t.deps.notifications.list({ to: vendor.phone, limit: 10 })).toHaveLength(1);

    const wrong = await t.request("POST", "/v1/vendor/auth/device/verify", {
      body: { challengeId, code: code === "000000" ? "000001" : "000000" },
    });
    expect(wrong.status).toBe(401);
    const ok = await t.request("POST", "/v1/vendor/auth/device/verify", { body: { challengeId, code } });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ expiresIn: 900, vendor: { id: vendor.id, code: vendor.code } });
    secrets.add(ok.json.accessToken).add(ok.json.refreshToken);

    // Now trusted — by the credential it was given, not by its name: straight in.
    expect(ok.json.deviceCredential).toMatch(/^kdc_[\w-]{43}$/);
    secrets.add(ok.json.deviceCredential);
    const again = await login({ email: vendor.email, password: vendor.password, deviceId: ok.json.deviceCredential });
    expect(again.status).toBe(200);
    secrets.add(again.json.accessToken).add(again.json.refreshToken);
    const me = await t.request("GET", "/v1/vendor/me", { token: again.json.accessToken });
    expect(me.json).toMatchObject({ id: vendor.id, code: vendor.code });
    // The challenge cannot be replayed.
    expect((await t.request("POST", "/v1/vendor/auth/device/verify", { body: { challengeId, code } })).status).toBe(
      401,
    );
  });

  test("5 wrong codes burn the challenge", async () => {
    const vendor = await createVendor(t);
    const res = await login({ email: vendor.email, password: vendor.password, deviceId: "phone-x" });
    const { challengeId } = res.json.error.details;
    const code = await latestCode(t, vendor.phone);
    const wrong = String((Number(code) + 7) % 1_000_000).padStart(6, "0");
    for (let i = 0; i < 5; i++)
      expect(
        (await t.request("POST", "/v1/vendor/auth/device/verify", { body: { challengeId, code: wrong } })).status,
      ).toBe(401);
    expect((await t.request("POST", "/v1/vendor/auth/device/verify", { body: { challengeId, code } })).status).toBe(
      401,
    );
  });

  test("wrong password and unknown email are the same 401", async () => {
    const vendor = await createVendor(t);
    const wrong = await login({ email: vendor.email, password: "not-the-password", deviceId: "d" });
    const unknown = await login({ email: randomEmail(), password: "whatever-password", deviceId: "d" });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.json.error.message).toBe(unknown.json.error.message);
  });

  test("repeated failures lock the account, even against the right password, for a while", async () => {
    const vendor = await createVendor(t);
    const { deviceCredential: trusted } = await signInVendor(t, vendor, "trusted");
    for (let i = 0; i < 5; i++)
      expect((await login({ email: vendor.email, password: "wrong-password!", deviceId: trusted })).status).toBe(401);
    const locked = await login({ email: vendor.email, password: vendor.password, deviceId: trusted });
    expect(locked.status).toBe(403);
    expect(locked.json.error.code).toBe("FORBIDDEN");
    expect(locked.json.error.details.lockedUntil).toBeTruthy();
    const audit = await t.deps.audit.list({ targetId: vendor.id, action: "vendor.login.*", limit: 20 });
    expect(audit.data.map((r) => r.action)).toEqual(
      expect.arrayContaining(["vendor.login.failed", "vendor.login.locked", "vendor.login.refused"]),
    );
    t.deps.now = () => new Date(Date.now() + 16 * 60_000);
    try {
      expect((await login({ email: vendor.email, password: vendor.password, deviceId: trusted })).status).toBe(200);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("a frozen vendor cannot sign in or use a token", async () => {
    const vendor = await createVendor(t);
    const tokens = await signInVendor(t, vendor, "dev-f");
    await t.deps.identity.vendors.setStatus({
      ctx: { actor: { type: "system", id: "test" } },
      input: { vendorId: vendor.id, status: "frozen", reason: "fraud review" },
    });
    const me = await t.request("GET", "/v1/vendor/me", { token: tokens.accessToken });
    expect(me.json.error.code).toBe("ACCOUNT_FROZEN");
    const again = await login({ email: vendor.email, password: vendor.password, deviceId: tokens.deviceCredential });
    expect(again.status).toBe(403);
    expect(again.json.error.code).toBe("ACCOUNT_FROZEN");
  });

  test("refresh rotates; logout ends the session", async () => {
    const vendor = await createVendor(t);
    const tokens = await signInVendor(t, vendor, "dev-r");
    const refreshed = await t.request("POST", "/v1/vendor/auth/refresh", {
      body: { refreshToken: tokens.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.vendor.id).toBe(vendor.id);
    expect(
      (await t.request("POST", "/v1/auth/refresh", { body: { refreshToken: refreshed.json.refreshToken } })).status,
    ).toBe(401);
    expect((await t.request("POST", "/v1/vendor/auth/logout", { token: refreshed.json.accessToken })).status).toBe(204);
    expect((await t.request("GET", "/v1/vendor/me", { token: refreshed.json.accessToken })).status).toBe(401);
  });
});

describe("trusted devices", () => {
  test("the vendor lists and revokes devices; a revoked device's sessions end and it must verify again", async () => {
    const vendor = await createVendor(t);
    const a = await signInVendor(t, vendor, "device-a");
    t.deps.now = () => new Date(Date.now() + 61_000); // past the code cooldown for the second device
    let b: { accessToken: string; deviceCredential: string };
    try {
      b = await signInVendor(t, vendor, "device-b");
    } finally {
      t.deps.now = () => new Date();
    }
    const list = await t.request("GET", "/v1/vendor/devices", { token: a.accessToken });
    expect(list.status).toBe(200);
    expect(list.json.data.map((d: any) => d.deviceId).sort()).toEqual(["device-a", "device-b"]);
    const deviceB = list.json.data.find((d: any) => d.deviceId === "device-b");
    expect((await t.request("DELETE", `/v1/vendor/devices/${deviceB.id}`, { token: a.accessToken })).status).toBe(204);
    expect((await t.request("GET", "/v1/vendor/me", { token: b.accessToken })).status).toBe(401);
    expect((await t.request("GET", "/v1/vendor/me", { token: a.accessToken })).status).toBe(200);
    t.deps.now = () => new Date(Date.now() + 122_000);
    try {
      // Its credential no longer counts: the device must verify again.
      const back = await login({ email: vendor.email, password: vendor.password, deviceId: b.deviceCredential });
      expect(back.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
    } finally {
      t.deps.now = () => new Date();
    }
    // Another vendor's device is not found.
    const other = await createVendor(t);
    const otherTokens = await signInVendor(t, other, "device-o");
    expect(
      (await t.request("DELETE", `/v1/vendor/devices/${deviceB.id}`, { token: otherTokens.accessToken })).status,
    ).toBe(404);
  });

  test("admins list and revoke a vendor's devices", async () => {
    const vendor = await createVendor(t);
    const tokens = await signInVendor(t, vendor, "shop-tablet");
    const admin = await signInAdmin(t, await createAdmin(t, "support"));
    const list = await t.request("GET", `/admin/v1/vendors/${vendor.id}/devices`, { token: admin.accessToken });
    expect(list.json.data).toHaveLength(1);
    const device = list.json.data[0];
    const revoke = await t.request("DELETE", `/admin/v1/vendors/${vendor.id}/devices/${device.id}`, {
      token: admin.accessToken,
    });
    expect(revoke.status).toBe(204);
    expect((await t.request("GET", "/v1/vendor/me", { token: tokens.accessToken })).status).toBe(401);
    const audit = await t.deps.audit.list({ action: "vendor.device.revoke", targetId: vendor.id, limit: 5 });
    expect(audit.data[0]?.actorType).toBe("admin");
  });
});

describe("tokens of other kinds", () => {
  test("a user token is refused on vendor routes", async () => {
    const user = await signInUser(t);
    expect((await t.request("GET", "/v1/vendor/me", { token: user.accessToken })).status).toBe(401);
    expect((await t.request("GET", "/v1/vendor/devices", { token: user.accessToken })).status).toBe(401);
  });
});

describe("logs", () => {
  test("no password, code or token in any log line", () => {
    const all = t.logs.join("\n");
    expect(secrets.size).toBeGreaterThan(3);
    for (const secret of secrets) expect(all).not.toContain(secret);
  });
});
