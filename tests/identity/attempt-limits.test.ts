import { describe, expect, test } from "bun:test";
import { totpStep } from "../../src/identity/secrets";
import {
  createAdmin,
  createPartner,
  createVendor,
  latestCode,
  randomPhone,
  signInUser,
  signInVendor,
  totp,
} from "../support/factories";
import { createTestContext } from "../support/harness";
import { dialer } from "../ussd/support";

/**
 * Attempt limits under concurrency (issue 11, item 1), from outside: bursts of parallel requests, each with a
 * different wrong secret, against one subject. However many arrive at once, at most the configured number of
 * secrets is ever compared per subject per window — counted by the answers that say "wrong" (each of which
 * had its secret compared) and by the audit trail — and the right secret sent while locked moves nothing.
 */
const GATEWAY_SECRET = "attempts-gateway-secret-0123";
const t = await createTestContext({ KESHLESS_USSD_GATEWAY_SECRET: GATEWAY_SECRET });
const MAX = 5; // the default for PINs, passwords, OTPs and the vendor withdrawal password
const PIN = "4729";
const partner = await createPartner(t);
const vendor = await createVendor(t);
let counter = 0;
const key = () => `attempts-${Date.now()}-${++counter}`;

async function fundedUser(amount: number) {
  let phone = randomPhone();
  while (phone.endsWith(PIN)) phone = randomPhone();
  const user = await signInUser(t, { pin: PIN, phone });
  const res = await t.request("POST", "/partner/v1/deposits", {
    headers: { "x-api-key": partner.apiKey, "idempotency-key": key() },
    body: { phone: user.phone, amount, currency: "SZL", externalReference: key() },
  });
  expect(res.status).toBe(201);
  return user;
}

/** `n` distinct 4-digit PINs, none of them `PIN`. */
const wrongPins = (n: number) => Array.from({ length: n }, (_, i) => String(5000 + i));

const pay = (token: string, pin: string) =>
  t.request("POST", "/v1/payments", {
    token,
    headers: { "idempotency-key": key() },
    body: { vendorCode: vendor.code, amount: 1_000, currency: "SZL", pin },
  });

const balance = async (token: string) => (await t.request("GET", "/v1/wallet", { token })).json.balance;
const audited = async (action: string, targetId: string) =>
  (await t.deps.audit.list({ action, targetId, limit: 100 })).data.length;

async function expectLedgerOk() {
  const report = await t.deps.ledger.verify();
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
}

describe("transaction PIN", () => {
  test("30 concurrent payments with 30 wrong PINs: at most 5 compared, the rest locked out; the right PIN then pays nothing", async () => {
    const user = await fundedUser(50_000);
    const answers = await Promise.all(wrongPins(30).map((pin) => pay(user.accessToken, pin)));
    const wrong = answers.filter((r) => r.status === 401 && r.json.error.code === "INVALID_PIN");
    const locked = answers.filter((r) => r.status === 403 && r.json.error.details?.reason === "PIN_LOCKED");
    expect(wrong.length).toBeLessThanOrEqual(MAX);
    expect(wrong.length + locked.length).toBe(30);
    expect(await audited("user.pin.failed", user.id)).toBe(wrong.length);
    expect(await audited("user.pin.locked", user.id)).toBe(1);

    // A second burst with the right PIN among 14 wrong ones, inside the lock window: nothing pays.
    const burst = await Promise.all([...wrongPins(14), PIN].map((pin) => pay(user.accessToken, pin)));
    expect(burst.every((r) => r.status === 403 && r.json.error.details?.reason === "PIN_LOCKED")).toBe(true);
    expect(await balance(user.accessToken)).toBe(50_000);
    expect(await audited("user.pin.failed", user.id)).toBe(wrong.length);
    await expectLedgerOk();
  });

  test("a right PIN resets the count; wrong ones in the same burst are still capped", async () => {
    const user = await fundedUser(50_000);
    expect((await pay(user.accessToken, "5999")).status).toBe(401);
    expect((await pay(user.accessToken, PIN)).status).toBe(201);
    const after = await balance(user.accessToken);
    // The earlier failure was cleared: a fresh burst again gets exactly MAX comparisons before the lock.
    const answers = await Promise.all(wrongPins(20).map((pin) => pay(user.accessToken, pin)));
    expect(answers.filter((r) => r.status === 401).length).toBe(MAX);
    expect(await balance(user.accessToken)).toBe(after);
    await expectLedgerOk();
  });

  test("the PIN change route shares the limit", async () => {
    const user = await fundedUser(1_000);
    const answers = await Promise.all(
      wrongPins(12).map((currentPin) =>
        t.request("PUT", "/v1/me/pin", { token: user.accessToken, body: { pin: "8316", currentPin } }),
      ),
    );
    expect(answers.filter((r) => r.status === 401).length).toBeLessThanOrEqual(MAX);
    expect(answers.filter((r) => r.status === 403).length).toBeGreaterThanOrEqual(12 - MAX);
    // Still the old PIN, and locked.
    expect((await pay(user.accessToken, PIN)).json.error.details.reason).toBe("PIN_LOCKED");
  });
});

describe("USSD", () => {
  test("20 parallel hops with 20 wrong PINs for one phone: at most 5 compared; then the right PIN shows nothing", async () => {
    const user = await fundedUser(5_000);
    const atPinScreen = async () => {
      const d = dialer(t, "at", user.phone, GATEWAY_SECRET);
      await d.home();
      expect((await d.send("1")).text).toStartWith("Enter your PIN to see your balance.");
      return d;
    };
    // Twenty sessions brought to the PIN screen one by one; then every PIN hop at once.
    const sessions = [];
    for (let i = 0; i < 20; i++) sessions.push(await atPinScreen());
    const screens = await Promise.all(sessions.map((d, i) => d.send(wrongPins(20)[i]!)));
    const wrong = screens.filter((s) => s.text.startsWith("Wrong PIN."));
    expect(wrong.length).toBeLessThanOrEqual(MAX);
    expect(screens.some((s) => s.text.startsWith("Balance"))).toBe(false);
    // The PIN that took the last try is answered with the lock screen, so the audit trail is the count.
    const compared = await audited("user.pin.failed", user.id);
    expect(compared).toBeLessThanOrEqual(MAX);
    expect(compared).toBeGreaterThanOrEqual(wrong.length);

    const again = [];
    for (let i = 0; i < 8; i++) again.push(await atPinScreen());
    const replies = await Promise.all(again.map((d, i) => d.send(i === 3 ? PIN : wrongPins(8)[i]!)));
    expect(replies.some((s) => s.text.startsWith("Balance"))).toBe(false);
    expect(replies.every((s) => s.end)).toBe(true);
    await expectLedgerOk();
  });
});

describe("admin sign-in", () => {
  const login = (email: string, password: string, code: string) =>
    t.request("POST", "/admin/v1/auth/login", { body: { email, password, totp: code } });

  test("12 concurrent sign-ins with 11 wrong passwords: at most 5 compared; afterwards the right one is refused alike", async () => {
    const admin = await createAdmin(t, "finance");
    const code = totp(admin.totpSecret, totpStep(new Date()));
    const answers = await Promise.all(
      Array.from({ length: 11 }, (_, i) => login(admin.email, `wrong-password-${i}-xyz`, code)),
    );
    expect(answers.every((r) => r.status === 401)).toBe(true);
    expect(new Set(answers.map((r) => r.json.error.message)).size).toBe(1);
    expect(await audited("admin.login.failed", admin.id)).toBeLessThanOrEqual(MAX);
    expect(await audited("admin.login.locked", admin.id)).toBe(1);
    const right = await login(admin.email, admin.password, code);
    expect(right.status).toBe(401);
    expect(right.json.error.message).toBe(answers[0]!.json.error.message);
    expect(right.json.error.details).toBeUndefined();
  });

  test("the right password with 12 concurrent wrong TOTP codes: at most 5 compared", async () => {
    const admin = await createAdmin(t, "support");
    const now = totpStep(new Date());
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login(admin.email, admin.password, String(100000 + i * 7919))),
    );
    expect(answers.every((r) => r.status === 401)).toBe(true);
    expect(await audited("admin.login.failed", admin.id)).toBeLessThanOrEqual(MAX);
    expect((await login(admin.email, admin.password, totp(admin.totpSecret, now))).status).toBe(401);
  });
});

describe("vendor password", () => {
  test("12 concurrent sign-ins with wrong passwords: at most 5 compared, then locked", async () => {
    const v = await createVendor(t);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.request("POST", "/v1/vendor/auth/login", {
          body: { email: v.email, password: `wrong-password-${i}-xyz`, deviceId: "dev" },
        }),
      ),
    );
    const wrong = answers.filter((r) => r.status === 401);
    expect(wrong.length).toBeLessThanOrEqual(MAX);
    expect(wrong.length + answers.filter((r) => r.status === 403).length).toBe(12);
    // A wrong password decided after a concurrent one locked the account is answered with the lock.
    const compared = await audited("vendor.login.failed", v.id);
    expect(compared).toBeLessThanOrEqual(MAX);
    expect(compared).toBeGreaterThanOrEqual(wrong.length);
    const right = await t.request("POST", "/v1/vendor/auth/login", {
      body: { email: v.email, password: v.password, deviceId: "dev" },
    });
    expect(right.status).toBe(403);
    expect(right.json.error.details.lockedUntil).toBeTruthy();
  });

  test("12 concurrent withdrawals with wrong passwords: at most 5 compared, the rest 429; nothing moves", async () => {
    const v = await createVendor(t);
    const session = await signInVendor(t, v);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.request("POST", "/v1/vendor/withdrawals", {
          token: session.accessToken,
          headers: { "idempotency-key": key() },
          body: {
            amount: 1_000,
            currency: "SZL",
            password: `guess-${i}`,
            destination: { type: "bank", bankCode: "FNB", accountNumber: "62000000001", accountName: "Shop" },
          },
        }),
      ),
    );
    const wrong = answers.filter((r) => r.status === 403 && r.json.error.details?.reason === "WRONG_PASSWORD");
    expect(wrong.length).toBeLessThanOrEqual(MAX);
    expect(wrong.length + answers.filter((r) => r.status === 429).length).toBe(12);
    expect(await audited("vendor.withdrawal.refused", v.id)).toBe(wrong.length);
    await expectLedgerOk();
  });
});

describe("one-time codes", () => {
  test("30 concurrent verifications with wrong codes: at most 5 compared; the code is then burned", async () => {
    const phone = randomPhone();
    expect((await t.request("POST", "/v1/auth/otp", { body: { phone } })).status).toBe(202);
    const code = await latestCode(t, phone);
    const guesses = Array.from({ length: 30 }, (_, i) =>
      String((Number(code) + 1 + i * 31) % 1_000_000).padStart(6, "0"),
    );
    const answers = await Promise.all(
      guesses.map((guess) => t.request("POST", "/v1/auth/otp/verify", { body: { phone, code: guess } })),
    );
    expect(answers.every((r) => r.status === 401)).toBe(true);
    const failures = (await t.deps.audit.list({ action: "user.login.failed", limit: 200 })).data.filter(
      (r) => (r.details as { phone?: string })?.phone === phone,
    );
    expect(failures.length).toBeLessThanOrEqual(MAX);
    expect((await t.request("POST", "/v1/auth/otp/verify", { body: { phone, code } })).status).toBe(401);
  });

  test("the right code among 29 wrong ones at once: it wins only inside the first 5 tries, and only once", async () => {
    const phone = randomPhone();
    expect((await t.request("POST", "/v1/auth/otp", { body: { phone } })).status).toBe(202);
    const code = await latestCode(t, phone);
    const guesses = Array.from({ length: 29 }, (_, i) =>
      String((Number(code) + 1 + i * 37) % 1_000_000).padStart(6, "0"),
    );
    guesses.splice(17, 0, code);
    const answers = await Promise.all(
      guesses.map((guess) => t.request("POST", "/v1/auth/otp/verify", { body: { phone, code: guess } })),
    );
    const signedIn = answers.filter((r) => r.status === 200).length;
    const failures = (await t.deps.audit.list({ action: "user.login.failed", limit: 200 })).data.filter(
      (r) => (r.details as { phone?: string })?.phone === phone,
    ).length;
    expect(signedIn).toBeLessThanOrEqual(1);
    expect(signedIn + failures).toBeLessThanOrEqual(MAX);
  });

  test("a vendor's device code under 20 concurrent wrong guesses: at most 5 compared", async () => {
    const v = await createVendor(t);
    const started = await t.request("POST", "/v1/vendor/auth/login", {
      body: { email: v.email, password: v.password, deviceId: "new-phone" },
    });
    expect(started.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
    const challengeId = started.json.error.details.challengeId;
    const code = await latestCode(t, v.phone);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.request("POST", "/v1/vendor/auth/device/verify", {
          body: { challengeId, code: String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0") },
        }),
      ),
    );
    expect(answers.every((r) => r.status === 401)).toBe(true);
    expect(await audited("vendor.device.failed", v.id)).toBeLessThanOrEqual(MAX);
    const right = await t.request("POST", "/v1/vendor/auth/device/verify", { body: { challengeId, code } });
    expect(right.status).toBe(401);
  });
});
