import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config";
import { queryRows } from "../../src/db/client";
import { AppError } from "../../src/http/errors";
import { createPeppers, weakPinReason } from "../../src/identity/secrets";
import { buildSystem } from "../../src/modules";
import { latestCode, signInUser } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";

const t = await createTestContext();
const PIN = "4729";
const secrets = new Set<string>([PIN, "5813", "2468"]);

async function pinError(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected an AppError");
}

const verifyPin = (userId: string, pin: string) => t.deps.identity.users.verifyPin({ userId, pin });

describe("setting a PIN", () => {
  test("4–6 digits, stored as a keyed hash with its key id; GET /v1/me says hasPin", async () => {
    const user = await signInUser(t, { pin: PIN });
    const me = await t.request("GET", "/v1/me", { token: user.accessToken });
    expect(me.json.hasPin).toBe(true);
    const [row] = await queryRows<{ pin_hash: string; pin_key_id: string }>(
      t.deps.database.db,
      sql`select pin_hash, pin_key_id from users where id = ${user.id}`,
    );
    expect(row!.pin_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.pin_key_id).toMatch(/^[0-9a-f]{8}$/);
    expect(row!.pin_hash).not.toContain(PIN);
    await verifyPin(user.id, PIN);
  });

  test("malformed PINs are 400", async () => {
    const user = await signInUser(t);
    for (const pin of ["123", "1234567", "12a4", "", " 4729", 4729]) {
      const res = await t.request("PUT", "/v1/me/pin", { token: user.accessToken, body: { pin } });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
  });

  test("weak PINs are refused: one digit, runs, the phone's last digits", async () => {
    const user = await signInUser(t);
    const weak = [
      "0000",
      "999999",
      "1234",
      "3456",
      "123456",
      "9876",
      "6543",
      "012345",
      user.phone.slice(-4),
      user.phone.slice(-6),
    ];
    for (const pin of weak) {
      const res = await t.request("PUT", "/v1/me/pin", { token: user.accessToken, body: { pin } });
      expect(res.status).toBe(400);
      expect(res.json.error.details[0].path).toBe("pin");
    }
    expect(weakPinReason("4729", "+26876000000")).toBeNull();
    expect(weakPinReason("1357")).toBeNull();
  });

  test("changing needs the current PIN; a wrong current PIN is 401 INVALID_PIN", async () => {
    const user = await signInUser(t, { pin: PIN });
    // The sign-in is fresh, so move past the reset window first.
    t.deps.now = () => new Date(Date.now() + 11 * 60_000);
    try {
      const missing = await t.request("PUT", "/v1/me/pin", { token: await reissue(user), body: { pin: "5813" } });
      expect(missing.status).toBe(400);
      expect(missing.json.error.details[0].path).toBe("currentPin");
      const wrong = await t.request("PUT", "/v1/me/pin", {
        token: await reissue(user),
        body: { pin: "5813", currentPin: "2468" },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.json.error.code).toBe("INVALID_PIN");
      const ok = await t.request("PUT", "/v1/me/pin", {
        token: await reissue(user),
        body: { pin: "5813", currentPin: PIN },
      });
      expect(ok.status).toBe(204);
      await verifyPin(user.id, "5813");
    } finally {
      t.deps.now = () => new Date();
    }
  });
});

/** A fresh access token for the same session (the clock moved past the old one's life). */
async function reissue(user: { id: string; accessToken: string }) {
  const sid = JSON.parse(Buffer.from(user.accessToken.split(".")[1]!, "base64url").toString()).sid;
  return t.deps.identity.tokens.signAccess("user", { sub: user.id, sid });
}

describe("checking a PIN", () => {
  test("is an HMAC under the pepper (synchronous, 64 hex), not a slow password hash", () => {
    const peppers = createPeppers(t.config);
    const { hash, keyId } = peppers.hashPin("usr_x", "4729");
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(keyId).toBe(peppers.currentKeyId);
    expect(peppers.pinMatches("usr_x", "4729", hash, keyId)).toBe(true);
    expect(peppers.pinMatches("usr_y", "4729", hash, keyId)).toBe(false);
  });

  test("a wrong PIN is INVALID_PIN with the tries left; 5 lock money movement; the right PIN is refused while locked", async () => {
    const user = await signInUser(t, { pin: PIN });
    for (let i = 1; i <= 4; i++) {
      const error = await pinError(verifyPin(user.id, "2468"));
      expect(error.code).toBe("INVALID_PIN");
      expect(error.status).toBe(401);
      expect((error.details as any).attemptsRemaining).toBe(5 - i);
    }
    const fifth = await pinError(verifyPin(user.id, "2468"));
    expect(fifth.code).toBe("INVALID_PIN");
    expect((fifth.details as any).lockedUntil).toBeTruthy();
    const locked = await pinError(verifyPin(user.id, PIN));
    expect(locked.code).toBe("FORBIDDEN");
    expect((locked.details as any).lockedUntil).toBe((fifth.details as any).lockedUntil);

    const audit = await t.deps.audit.list({ targetId: user.id, action: "user.pin.*", limit: 20 });
    expect(audit.data.map((r) => r.action)).toEqual(expect.arrayContaining(["user.pin.failed", "user.pin.locked"]));
    expect(audit.data.filter((r) => r.action === "user.pin.failed")).toHaveLength(5);

    // The lock ends on its own (30 minutes by default).
    t.deps.now = () => new Date(Date.now() + 31 * 60_000);
    try {
      await verifyPin(user.id, PIN);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("success resets the count", async () => {
    const user = await signInUser(t, { pin: PIN });
    for (let i = 0; i < 4; i++) await pinError(verifyPin(user.id, "2468"));
    await verifyPin(user.id, PIN);
    const error = await pinError(verifyPin(user.id, "2468"));
    expect((error.details as any).attemptsRemaining).toBe(4);
  });

  test("concurrent wrong PINs are all counted", async () => {
    const user = await signInUser(t, { pin: PIN });
    const errors = await Promise.all(Array.from({ length: 5 }, () => pinError(verifyPin(user.id, "2468"))));
    expect(errors.every((e) => e.code === "INVALID_PIN")).toBe(true);
    expect((await pinError(verifyPin(user.id, PIN))).code).toBe("FORBIDDEN");
  });

  test("no PIN yet is 403 FORBIDDEN; a frozen user is ACCOUNT_FROZEN even with the right PIN", async () => {
    const fresh = await signInUser(t);
    expect((await pinError(verifyPin(fresh.id, PIN))).details).toEqual({ reason: "PIN_NOT_SET" });
    const user = await signInUser(t, { pin: PIN });
    await t.deps.identity.users.setStatus({
      ctx: { actor: { type: "system", id: "test" } },
      input: { userId: user.id, status: "frozen", reason: "suspicious" },
    });
    expect((await pinError(verifyPin(user.id, PIN))).code).toBe("ACCOUNT_FROZEN");
    const res = await t.request("PUT", "/v1/me/pin", {
      token: user.accessToken,
      body: { pin: "5813", currentPin: PIN },
    });
    expect(res.json.error.code).toBe("ACCOUNT_FROZEN");
  });

  test("the pepper rotates: a PIN under the previous pepper verifies and moves to the new one", async () => {
    const user = await signInUser(t, { pin: PIN });
    const config = loadConfig({
      KESHLESS_ENV: "test",
      KESHLESS_DATA_DIR: t.config.dataDir,
      ...TEST_SECRETS,
      KESHLESS_PIN_PEPPER: "the-next-pin-pepper-0123456789abcdefghijklmnopqrstuvwxyz",
      KESHLESS_PIN_PEPPER_PREVIOUS: TEST_SECRETS.KESHLESS_PIN_PEPPER,
    });
    const rotated = await buildSystem(config, { database: t.deps.database, logger: t.deps.logger });
    const before = await keyIdOf(user.id);
    await rotated.identity.users.verifyPin({ userId: user.id, pin: PIN });
    const after = await keyIdOf(user.id);
    expect(after).not.toBe(before);
    await rotated.identity.users.verifyPin({ userId: user.id, pin: PIN });
    // The old deployment no longer knows the new pepper: the hash really moved.
    expect((await pinError(verifyPin(user.id, PIN))).code).toBe("INVALID_PIN");
  });
});

async function keyIdOf(userId: string) {
  const [row] = await queryRows<{ pin_key_id: string }>(
    t.deps.database.db,
    sql`select pin_key_id from users where id = ${userId}`,
  );
  return row!.pin_key_id;
}

describe("resetting a forgotten or locked PIN", () => {
  test("needs a fresh OTP: within the window after sign-in, without currentPin, and it lifts the lock", async () => {
    const user = await signInUser(t, { pin: PIN });
    for (let i = 0; i < 5; i++) await pinError(verifyPin(user.id, "2468"));
    expect((await pinError(verifyPin(user.id, PIN))).code).toBe("FORBIDDEN");

    const later = Date.now() + 11 * 60_000;
    t.deps.now = () => new Date(later);
    try {
      const stale = await t.request("PUT", "/v1/me/pin", { token: await reissue(user), body: { pin: "5813" } });
      expect(stale.status).toBe(400);
      // Sign in again with a new code: that session may reset the PIN.
      const sent = await t.request("POST", "/v1/auth/otp", { body: { phone: user.phone } });
      expect(sent.status).toBe(202);
      const code = await latestCode(t, user.phone);
      secrets.add(code);
      const login = await t.request("POST", "/v1/auth/otp/verify", { body: { phone: user.phone, code } });
      expect(login.status).toBe(200);
      const reset = await t.request("PUT", "/v1/me/pin", { token: login.json.accessToken, body: { pin: "5813" } });
      expect(reset.status).toBe(204);
      await verifyPin(user.id, "5813");
      const audit = await t.deps.audit.list({ targetId: user.id, action: "user.pin.reset", limit: 5 });
      expect(audit.data).toHaveLength(1);
    } finally {
      t.deps.now = () => new Date();
    }
  });
});

describe("logs", () => {
  test("no PIN or code in any log line", () => {
    const lines = t.logs;
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of secrets)
      for (const line of lines)
        expect(line.replace(/"(time|requestId|id)":"[^"]*"/g, "")).not.toMatch(
          new RegExp(`(?<![\\d])${secret}(?![\\d])`),
        );
  });
});
