import { describe, expect, test } from "bun:test";
import { createPartner, createVendor, randomPhone, signInUser, signInVendor } from "../support/factories";
import { createTestContext } from "../support/harness";

/**
 * Every money path from the outside: happy path, validation, auth, idempotent replay, concurrent
 * duplicates, insufficient funds, each limit, frozen accounts — and ledger:verify after all of it.
 */
const t = await createTestContext({
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 50_000, daily: 80_000, monthly: 150_000, maxBalance: 200_000 },
  }),
});
const PIN = "4729";
let keyCounter = 0;
const key = () => `key-${Date.now()}-${++keyCounter}`;

const partner = await createPartner(t);
const vendor = await createVendor(t);

async function deposit(phone: string, amount: number, idem = key(), externalReference = `ext-${idem}`) {
  return t.request("POST", "/partner/v1/deposits", {
    headers: { "x-api-key": partner.apiKey, "idempotency-key": idem },
    body: { phone, amount, currency: "SZL", externalReference },
  });
}

async function fundedUser(amount: number) {
  const user = await signInUser(t, { pin: PIN });
  if (amount) expect((await deposit(user.phone, amount)).status).toBe(201);
  return user;
}

const wallet = async (token: string) => (await t.request("GET", "/v1/wallet", { token })).json;
const pay = (token: string, body: Record<string, unknown>, idem = key()) =>
  t.request("POST", "/v1/payments", { token, headers: { "idempotency-key": idem }, body });
const send = (token: string, body: Record<string, unknown>, idem = key()) =>
  t.request("POST", "/v1/transfers", { token, headers: { "idempotency-key": idem }, body });

async function expectVerified() {
  const report = await t.deps.ledger.verify();
  expect(report.problems).toEqual([]);
}

describe("partner deposits", () => {
  test("credits the wallet and replays on the same Idempotency-Key", async () => {
    const user = await fundedUser(0);
    const idem = key();
    const first = await deposit(user.phone, 20_000, idem);
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ type: "deposit", status: "completed", amount: 20_000, currency: "SZL" });
    expect(first.json.id).toMatch(/^txn_/);
    const again = await deposit(user.phone, 20_000, idem);
    expect(again.status).toBe(201);
    expect(again.json).toEqual(first.json);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await wallet(user.accessToken)).balance).toBe(20_000);
    const reused = await deposit(user.phone, 20_001, idem);
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const lookup = await t.request("GET", `/partner/v1/transactions/${first.json.id}`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(lookup.json.id).toBe(first.json.id);
  });

  test("a repeated externalReference under a new key is a 409, and other partners see 404", async () => {
    const user = await fundedUser(0);
    const first = await deposit(user.phone, 1_000, key(), "bank-ref-1");
    expect(first.status).toBe(201);
    const dup = await deposit(user.phone, 1_000, key(), "bank-ref-1");
    expect(dup.status).toBe(409);
    expect((await wallet(user.accessToken)).balance).toBe(1_000);
    const other = await createPartner(t);
    const peek = await t.request("GET", `/partner/v1/transactions/${first.json.id}`, {
      headers: { "x-api-key": other.apiKey },
    });
    expect(peek.status).toBe(404);
  });

  test("bad input is a 400 and moves nothing; unknown phone is 404; no key is 401", async () => {
    const user = await fundedUser(0);
    for (const amount of [0, -5, 1.5, "100", 10_000_001])
      expect((await deposit(user.phone, amount as number)).json.error.code).toBe("VALIDATION_FAILED");
    expect((await deposit("+26812345678", 100)).status).toBe(400);
    expect((await deposit(randomPhone(), 100)).status).toBe(404);
    const noKey = await t.request("POST", "/partner/v1/deposits", {
      headers: { "idempotency-key": key() },
      body: { phone: user.phone, amount: 100, currency: "SZL", externalReference: "x" },
    });
    expect(noKey.status).toBe(401);
    const noIdem = await t.request("POST", "/partner/v1/deposits", {
      headers: { "x-api-key": partner.apiKey },
      body: { phone: user.phone, amount: 100, currency: "SZL", externalReference: "y" },
    });
    expect(noIdem.status).toBe(400);
    expect((await wallet(user.accessToken)).balance).toBe(0);
  });

  test("a deposit beyond the wallet's maximum balance is refused", async () => {
    const user = await fundedUser(0);
    expect((await deposit(user.phone, 150_000)).status).toBe(201);
    const over = await deposit(user.phone, 50_001);
    expect(over.status).toBe(422);
    expect(over.json.error.code).toBe("LIMIT_EXCEEDED");
    expect(over.json.error.details.limit).toBe("maxBalance");
  });
});

describe("vendor payments", () => {
  test("pays the vendor; fee on the sender; vendor sees the credit", async () => {
    const user = await fundedUser(20_000);
    const res = await pay(user.accessToken, { vendorCode: vendor.code, amount: 1_500, currency: "SZL", pin: PIN });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      type: "payment",
      status: "completed",
      amount: 1_500,
      fee: 50,
      feeBearer: "sender",
      direction: "debit",
      counterparty: { type: "vendor", id: vendor.id, name: vendor.name },
      balanceAfter: 18_450,
    });
    expect((await wallet(user.accessToken)).balance).toBe(18_450);
    const session = await signInVendor(t, vendor);
    const vendorWallet = await t.request("GET", "/v1/vendor/wallet", { token: session.accessToken });
    expect(vendorWallet.json.balance).toBeGreaterThanOrEqual(1_500);
    const list = await t.request("GET", "/v1/vendor/transactions?limit=5", { token: session.accessToken });
    expect(list.json.data[0]).toMatchObject({ id: res.json.id, direction: "credit" });
    await expectVerified();
  });

  test("wrong PIN is 401 INVALID_PIN and moves nothing", async () => {
    const user = await fundedUser(5_000);
    const res = await pay(user.accessToken, { vendorCode: vendor.code, amount: 100, currency: "SZL", pin: "9999" });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe("INVALID_PIN");
    expect((await wallet(user.accessToken)).balance).toBe(5_000);
  });

  test("insufficient funds is 422 and moves nothing", async () => {
    const user = await fundedUser(1_000);
    const res = await pay(user.accessToken, { vendorCode: vendor.code, amount: 990, currency: "SZL", pin: PIN });
    expect(res.status).toBe(422);
    expect(res.json.error.code).toBe("INSUFFICIENT_FUNDS");
    expect((await wallet(user.accessToken)).balance).toBe(1_000);
  });

  test("unknown vendor code is 404; other kinds of token are refused", async () => {
    const user = await fundedUser(1_000);
    const res = await pay(user.accessToken, { vendorCode: "ZZZZZZ", amount: 100, currency: "SZL", pin: PIN });
    expect(res.status).toBe(404);
    const session = await signInVendor(t, vendor);
    const asVendor = await pay(session.accessToken, {
      vendorCode: vendor.code,
      amount: 100,
      currency: "SZL",
      pin: PIN,
    });
    expect(asVendor.status).toBe(401);
  });

  test("two identical requests at once make one payment", async () => {
    const user = await fundedUser(10_000);
    const idem = key();
    const body = { vendorCode: vendor.code, amount: 1_000, currency: "SZL", pin: PIN };
    const results = await Promise.all([pay(user.accessToken, body, idem), pay(user.accessToken, body, idem)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses[0]).toBe(201);
    expect([201, 409]).toContain(statuses[1]!);
    expect((await wallet(user.accessToken)).balance).toBe(10_000 - 1_050);
    await expectVerified();
  });

  test("per-transaction, daily limits are enforced and name the limit", async () => {
    const user = await fundedUser(180_000);
    const big = await pay(user.accessToken, { vendorCode: vendor.code, amount: 50_000, currency: "SZL", pin: PIN });
    expect(big.status).toBe(422);
    expect(big.json.error.details.limit).toBe("perTransaction");
    for (let i = 0; i < 2; i++)
      expect(
        (await pay(user.accessToken, { vendorCode: vendor.code, amount: 39_000, currency: "SZL", pin: PIN })).status,
      ).toBe(201);
    const daily = await pay(user.accessToken, { vendorCode: vendor.code, amount: 2_000, currency: "SZL", pin: PIN });
    expect(daily.status).toBe(422);
    expect(daily.json.error.details.limit).toBe("daily");
    expect((await wallet(user.accessToken)).balance).toBe(180_000 - 2 * 39_390);
    await expectVerified();
  });
});

describe("P2P transfers", () => {
  test("sends to a local-format number; both wallets move; both are notified", async () => {
    const sender = await fundedUser(10_000);
    const receiver = await fundedUser(0);
    const res = await send(sender.accessToken, {
      toPhone: receiver.phone.slice(4),
      amount: 500,
      currency: "SZL",
      pin: PIN,
    });
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ type: "transfer", amount: 500, fee: 0, direction: "debit" });
    expect((await wallet(receiver.accessToken)).balance).toBe(500);
    expect((await wallet(sender.accessToken)).balance).toBe(9_500);
    const inbox = await t.deps.notifications.list({ to: receiver.phone, limit: 5 });
    expect(inbox.some((m) => m.body.includes(res.json.id))).toBe(true);
    const mine = await t.request("GET", `/v1/transactions/${res.json.id}`, { token: receiver.accessToken });
    expect(mine.json).toMatchObject({ direction: "credit", balanceAfter: 500 });
    const stranger = await fundedUser(0);
    expect((await t.request("GET", `/v1/transactions/${res.json.id}`, { token: stranger.accessToken })).status).toBe(
      404,
    );
  });

  test("an unregistered number is refused and nothing moves", async () => {
    const sender = await fundedUser(1_000);
    const res = await send(sender.accessToken, { toPhone: randomPhone(), amount: 100, currency: "SZL", pin: PIN });
    expect(res.status).toBe(404);
    expect((await wallet(sender.accessToken)).balance).toBe(1_000);
  });

  test("sending to yourself is a 400", async () => {
    const sender = await fundedUser(1_000);
    const res = await send(sender.accessToken, { toPhone: sender.phone, amount: 100, currency: "SZL", pin: PIN });
    expect(res.status).toBe(400);
  });

  test("a frozen sender cannot move money", async () => {
    const sender = await fundedUser(1_000);
    const receiver = await fundedUser(0);
    await t.deps.identity.users.setStatus({
      ctx: { actor: { type: "system", id: "test" } },
      input: { userId: sender.id, status: "frozen", reason: "test" },
    });
    const res = await send(sender.accessToken, { toPhone: receiver.phone, amount: 100, currency: "SZL", pin: PIN });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("ACCOUNT_FROZEN");
    expect((await wallet(receiver.accessToken)).balance).toBe(0);
  });

  test("20 concurrent distinct transfers from one wallet that affords 10: exactly 10 succeed", async () => {
    const sender = await fundedUser(10 * 700);
    const receiver = await fundedUser(0);
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        send(sender.accessToken, { toPhone: receiver.phone, amount: 700, currency: "SZL", pin: PIN }),
      ),
    );
    const ok = results.filter((r) => r.status === 201).length;
    expect(ok).toBe(10);
    expect(results.filter((r) => r.status !== 201).every((r) => r.json.error.code === "INSUFFICIENT_FUNDS")).toBe(true);
    expect((await wallet(receiver.accessToken)).balance).toBe(7_000);
    await expectVerified();
  });
});

describe("history", () => {
  test("lists newest first with a working cursor", async () => {
    const user = await fundedUser(10_000);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await pay(user.accessToken, { vendorCode: vendor.code, amount: 100 + i, currency: "SZL", pin: PIN });
      ids.unshift(res.json.id);
    }
    const first = await t.request("GET", "/v1/wallet/transactions?limit=3", { token: user.accessToken });
    expect(first.json.data.map((x: { id: string }) => x.id)).toEqual(ids.slice(0, 3));
    const second = await t.request("GET", `/v1/wallet/transactions?limit=3&cursor=${first.json.nextCursor}`, {
      token: user.accessToken,
    });
    expect(second.json.data.map((x: { id: string }) => x.id)).toEqual([...ids.slice(3), expect.any(String)]);
    expect(second.json.data[2].type).toBe("deposit");
    const bad = await t.request("GET", "/v1/wallet/transactions?limit=500", { token: user.accessToken });
    expect(bad.status).toBe(400);
    const badCursor = await t.request("GET", "/v1/wallet/transactions?cursor=%%%", { token: user.accessToken });
    expect(badCursor.status).toBe(400);
  });
});
