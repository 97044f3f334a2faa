import { describe, expect, test } from "bun:test";
import { createPartner, createVendor, signInUser, signInVendor } from "../support/factories";
import { createTestContext } from "../support/harness";

/**
 * Vendor payment requests from the outside: a vendor asks, a user looks the code up and pays it with
 * the PIN, exactly once — whoever else tries at the same moment gets 409 and keeps their money.
 */
const t = await createTestContext({
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 50_000, daily: 80_000, monthly: 150_000, maxBalance: 200_000 },
  }),
});
const PIN = "4729";
let counter = 0;
const key = () => `req-${Date.now()}-${++counter}`;

const partner = await createPartner(t);
const vendor = await createVendor(t);
const vendorSession = await signInVendor(t, vendor);

async function fundedUser(amount: number) {
  const user = await signInUser(t, { pin: PIN });
  if (amount) {
    const res = await t.request("POST", "/partner/v1/deposits", {
      headers: { "x-api-key": partner.apiKey, "idempotency-key": key() },
      body: { phone: user.phone, amount, currency: "SZL", externalReference: key() },
    });
    expect(res.status).toBe(201);
  }
  return user;
}

const balance = async (token: string) => (await t.request("GET", "/v1/wallet", { token })).json.balance;

function ask(body: Record<string, unknown>, token = vendorSession.accessToken) {
  return t.request("POST", "/v1/vendor/payment-requests", { token, body });
}

function pay(token: string, code: string, pin = PIN, idem = key()) {
  return t.request("POST", `/v1/payment-requests/${code}/pay`, {
    token,
    headers: { "idempotency-key": idem },
    body: { pin },
  });
}

async function expectVerified() {
  expect((await t.deps.ledger.verify()).problems).toEqual([]);
}

describe("creating and reading requests", () => {
  test("a vendor gets a 7-digit code and a QR payload; the user sees payee, fee and total", async () => {
    const res = await ask({ amount: 1_500, currency: "SZL", reference: "table 4" });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      amount: 1_500,
      currency: "SZL",
      reference: "table 4",
      status: "open",
      transactionId: null,
      vendor: { id: vendor.id, name: vendor.name, code: vendor.code },
    });
    expect(res.json.id).toMatch(/^prq_/);
    expect(res.json.code).toMatch(/^\d{7}$/);
    expect(res.json.qrPayload).toBe(`keshless:pay?code=${res.json.code}&amount=1500&v=${vendor.code}`);
    expect(Date.parse(res.json.expiresAt) - Date.parse(res.json.createdAt)).toBe(86_400_000);

    const user = await fundedUser(0);
    const preview = await t.request("GET", `/v1/payment-requests/${res.json.code}`, { token: user.accessToken });
    expect(preview.status).toBe(200);
    expect(preview.json).toEqual({
      code: res.json.code,
      amount: 1_500,
      currency: "SZL",
      fee: 50,
      feeBearer: "sender",
      total: 1_550,
      reference: "table 4",
      status: "open",
      expiresAt: res.json.expiresAt,
      vendor: { id: vendor.id, name: vendor.name, code: vendor.code },
    });
  });

  test("bad input is 400, the wrong kind of token 401, an unknown code 404", async () => {
    for (const body of [
      { amount: 0, currency: "SZL" },
      { amount: -5, currency: "SZL" },
      { amount: 1.5, currency: "SZL" },
      { amount: "100", currency: "SZL" },
      { amount: 10_000_001, currency: "SZL" },
      { amount: 100, currency: "USD" },
      { amount: 100, currency: "SZL", expiresInSeconds: 10 },
      { amount: 100 },
    ]) {
      const res = await ask(body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
    const user = await fundedUser(0);
    expect((await ask({ amount: 100, currency: "SZL" }, user.accessToken)).status).toBe(401);
    expect((await t.request("GET", "/v1/payment-requests/12ab", { token: user.accessToken })).status).toBe(400);
    expect((await t.request("GET", "/v1/payment-requests/0000000", { token: user.accessToken })).status).toBe(404);
    expect((await t.request("GET", "/v1/payment-requests/0000000")).status).toBe(401);
    const list = await t.request("GET", "/v1/vendor/payment-requests", { token: vendorSession.accessToken });
    expect(list.json.data.every((r: any) => r.amount !== 10_000_001)).toBe(true);
  });

  test("the vendor lists its requests newest first, by status, page by page; another vendor sees none", async () => {
    const made = [];
    for (const amount of [101, 102, 103]) made.push((await ask({ amount, currency: "SZL" })).json);
    const page = await t.request("GET", "/v1/vendor/payment-requests?limit=2&status=open", {
      token: vendorSession.accessToken,
    });
    expect(page.json.data.map((r: any) => r.id)).toEqual([made[2].id, made[1].id]);
    const next = await t.request(
      "GET",
      `/v1/vendor/payment-requests?limit=2&status=open&cursor=${page.json.nextCursor}`,
      { token: vendorSession.accessToken },
    );
    expect(next.json.data[0].id).toBe(made[0].id);
    const other = await createVendor(t);
    const otherSession = await signInVendor(t, other);
    const theirs = await t.request("GET", "/v1/vendor/payment-requests", { token: otherSession.accessToken });
    expect(theirs.json.data).toEqual([]);
    const peek = await t.request("GET", `/v1/vendor/payment-requests/${made[0].id}`, {
      token: otherSession.accessToken,
    });
    expect(peek.status).toBe(404);
  });
});

describe("paying a request", () => {
  test("pays through the ordinary payment path, once; a replay answers the same; the vendor sees it paid", async () => {
    const request = (await ask({ amount: 2_000, currency: "SZL", reference: "2 bags maize" })).json;
    const user = await fundedUser(10_000);
    const idem = key();
    const res = await pay(user.accessToken, request.code, PIN, idem);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      type: "payment",
      status: "completed",
      amount: 2_000,
      fee: 50,
      feeBearer: "sender",
      direction: "debit",
      reference: "2 bags maize",
      counterparty: { type: "vendor", id: vendor.id },
      balanceAfter: 7_950,
    });
    const replay = await pay(user.accessToken, request.code, PIN, idem);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json).toEqual(res.json);
    expect(await balance(user.accessToken)).toBe(7_950);

    const seen = await t.request("GET", `/v1/vendor/payment-requests/${request.id}`, {
      token: vendorSession.accessToken,
    });
    expect(seen.json).toMatchObject({ status: "paid", transactionId: res.json.id });
    expect(seen.json.paidAt).not.toBeNull();
    const again = await pay(user.accessToken, request.code);
    expect(again.status).toBe(409);
    expect(again.json.error.details.status).toBe("paid");
    const [message] = await t.deps.notifications.list({ to: vendor.phone, limit: 1 });
    expect(message!.body).toContain("you received E20.00");
    await expectVerified();
  });

  test("payers at the same moment: exactly one pays, the others get 409 and keep their money", async () => {
    const request = (await ask({ amount: 3_000, currency: "SZL" })).json;
    const payers = await Promise.all([0, 1, 2, 3].map(() => fundedUser(5_000)));
    const results = await Promise.all(payers.map((p) => pay(p.accessToken, request.code)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409]);
    const balances = await Promise.all(payers.map((p) => balance(p.accessToken)));
    expect(balances.sort()).toEqual([1_950, 5_000, 5_000, 5_000]);
    await expectVerified();
  });

  test("the same request twice at once with one key is one payment", async () => {
    const request = (await ask({ amount: 1_000, currency: "SZL" })).json;
    const user = await fundedUser(5_000);
    const idem = key();
    const results = await Promise.all([
      pay(user.accessToken, request.code, PIN, idem),
      pay(user.accessToken, request.code, PIN, idem),
    ]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses[0]).toBe(201);
    expect([201, 409]).toContain(statuses[1]!);
    expect(await balance(user.accessToken)).toBe(5_000 - 1_050);
  });

  test("insufficient funds, a wrong PIN and a limit leave the request open for the next try", async () => {
    const request = (await ask({ amount: 4_000, currency: "SZL" })).json;
    const user = await fundedUser(3_000);
    const poor = await pay(user.accessToken, request.code);
    expect(poor.status).toBe(422);
    expect(poor.json.error.code).toBe("INSUFFICIENT_FUNDS");
    const wrong = await pay(user.accessToken, request.code, "9051");
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe("INVALID_PIN");
    const big = (await ask({ amount: 60_000, currency: "SZL" })).json;
    const rich = await fundedUser(100_000);
    const limited = await pay(rich.accessToken, big.code);
    expect(limited.status).toBe(422);
    expect(limited.json.error.details.limit).toBe("perTransaction");
    const preview = await t.request("GET", `/v1/payment-requests/${request.code}`, { token: user.accessToken });
    expect(preview.json.status).toBe("open");
    expect((await pay(rich.accessToken, request.code)).status).toBe(201);
    expect(await balance(user.accessToken)).toBe(3_000);
    await expectVerified();
  });

  test("a cancelled request cannot be paid; only the vendor's open requests can be cancelled", async () => {
    const request = (await ask({ amount: 500, currency: "SZL" })).json;
    const cancelled = await t.request("POST", `/v1/vendor/payment-requests/${request.id}/cancel`, {
      token: vendorSession.accessToken,
    });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe("cancelled");
    const user = await fundedUser(2_000);
    const res = await pay(user.accessToken, request.code);
    expect(res.status).toBe(409);
    expect(res.json.error.details.status).toBe("cancelled");
    const twice = await t.request("POST", `/v1/vendor/payment-requests/${request.id}/cancel`, {
      token: vendorSession.accessToken,
    });
    expect(twice.status).toBe(409);
    expect(await balance(user.accessToken)).toBe(2_000);
  });

  test("an expired request reads as expired and cannot be paid or cancelled", async () => {
    const request = (await ask({ amount: 700, currency: "SZL", expiresInSeconds: 60 })).json;
    const user = await fundedUser(2_000);
    const started = Date.now();
    t.deps.now = () => new Date(started + 61_000);
    try {
      const preview = await t.request("GET", `/v1/payment-requests/${request.code}`, { token: user.accessToken });
      expect(preview.json.status).toBe("expired");
      const res = await pay(user.accessToken, request.code);
      expect(res.status).toBe(409);
      expect(res.json.error.details.status).toBe("expired");
      const cancel = await t.request("POST", `/v1/vendor/payment-requests/${request.id}/cancel`, {
        token: vendorSession.accessToken,
      });
      expect(cancel.status).toBe(409);
      const list = await t.request("GET", "/v1/vendor/payment-requests?status=expired", {
        token: vendorSession.accessToken,
      });
      expect(list.json.data.map((r: any) => r.id)).toContain(request.id);
    } finally {
      t.deps.now = () => new Date();
    }
    expect(await balance(user.accessToken)).toBe(2_000);
  });

  test("a frozen vendor's request is refused with 403", async () => {
    const shop = await createVendor(t);
    const session = await signInVendor(t, shop);
    const request = (await ask({ amount: 800, currency: "SZL" }, session.accessToken)).json;
    await t.deps.identity.vendors.setStatus({
      ctx: { actor: { type: "system", id: "test" } },
      input: { vendorId: shop.id, status: "frozen", reason: "test freeze" },
    });
    const user = await fundedUser(2_000);
    const res = await pay(user.accessToken, request.code);
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("ACCOUNT_FROZEN");
    await expectVerified();
  });
});

describe("codes cannot be walked", () => {
  test("lookups are limited per user, concurrent ones included; other users are unaffected", async () => {
    const walker = await fundedUser(0);
    const limit = t.config.paymentRequestLookupsPerMinute;
    const guesses = Array.from({ length: limit + 20 }, (_, i) => String(1_000_000 + i * 7_919).slice(0, 7));
    const answers = await Promise.all(
      guesses.map((code) => t.request("GET", `/v1/payment-requests/${code}`, { token: walker.accessToken })),
    );
    expect(answers.filter((r) => r.status !== 429)).toHaveLength(limit);
    const refused = answers.find((r) => r.status === 429)!;
    expect(refused.json.error.code).toBe("RATE_LIMITED");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    // Paying by code spends from the same allowance, before the PIN is looked at.
    expect((await pay(walker.accessToken, "1234567")).status).toBe(429);

    const created = await ask({ amount: 1_000, currency: "SZL" });
    const someoneElse = await fundedUser(0);
    expect(
      (await t.request("GET", `/v1/payment-requests/${created.json.code}`, { token: someoneElse.accessToken })).status,
    ).toBe(200);
  });
});
