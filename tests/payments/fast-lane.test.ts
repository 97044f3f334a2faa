import { expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { createPayers, createVendor } from "../support/factories";
import { createTestContext } from "../support/harness";

/**
 * The payments fast lane (src/payments/fast-lane.ts) plans from cached profiles and commits in one
 * statement that checks what it assumed. These tests change what the cache holds behind its back —
 * names, status, tier, PIN state, the session — and check that every answer is the one the ordinary
 * path gives, that the ordinary path took over exactly when needed, and that the ledger still balances.
 */
const t = await createTestContext({
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 5_000, daily: 80_000, monthly: 150_000, maxBalance: 200_000 },
    "1": { perTransaction: 50_000, daily: 100_000, monthly: 300_000, maxBalance: 500_000 },
  }),
});
const PIN = "4729";
const { key, fundedUser, pay } = await createPayers(t, PIN);
const stats = t.deps.paymentsFastLane.stats;

/** Runs `fn` and reports how many requests each lane answered meanwhile. */
async function lanes<T>(fn: () => Promise<T>) {
  const before = { ...stats };
  const result = await fn();
  return { result, fast: stats.fast - before.fast, ordinary: stats.ordinary - before.ordinary };
}

const exec = (query: ReturnType<typeof sql>) => queryRows<Record<string, any>>(t.deps.database.db, query);
const balance = async (token: string) => (await t.request("GET", "/v1/wallet", { token })).json.balance as number;

test("a warm payment takes the fast lane and answers exactly what the transaction's detail shows", async () => {
  const user = await fundedUser(20_000);
  const vendor = await createVendor(t);
  await pay(user.accessToken, vendor.code, 100); // warms the caches
  const { result, fast, ordinary } = await lanes(() => pay(user.accessToken, vendor.code, 1_000));
  expect({ status: result.status, fast, ordinary }).toEqual({ status: 201, fast: 1, ordinary: 0 });
  const detail = await t.request("GET", `/v1/transactions/${result.json.id}`, { token: user.accessToken });
  expect(result.json).toEqual(detail.json);
  expect(result.json.balanceAfter).toBe(await balance(user.accessToken));
  const messages = await exec(sql`select kind from notification_outbox where dedupe_key like ${`${result.json.id}:%`}`);
  expect(messages.map((m) => m.kind).sort()).toEqual(["payment_received", "payment_sent"]);
});

test("a replay on the fast lane answers the stored response once, and another body under the key is 422", async () => {
  const user = await fundedUser(20_000);
  const vendor = await createVendor(t);
  const idem = key();
  const first = await pay(user.accessToken, vendor.code, 1_500, PIN, idem);
  const again = await pay(user.accessToken, vendor.code, 1_500, PIN, idem);
  expect(again.status).toBe(201);
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  expect(again.json).toEqual(first.json);
  const other = await pay(user.accessToken, vendor.code, 1_600, PIN, idem);
  expect(other.json.error?.code).toBe("IDEMPOTENCY_KEY_REUSED");
  expect(await balance(user.accessToken)).toBe(20_000 - 1_500 - first.json.fee);
});

test("twenty copies of one request at once move the money once", async () => {
  const user = await fundedUser(20_000);
  const vendor = await createVendor(t);
  await pay(user.accessToken, vendor.code, 100);
  const idem = key();
  const answers = await Promise.all(
    Array.from({ length: 20 }, () => pay(user.accessToken, vendor.code, 700, PIN, idem)),
  );
  const ok = answers.filter((a) => a.status === 201);
  expect(ok.length).toBeGreaterThan(0);
  for (const a of answers) expect([201, 409]).toContain(a.status);
  expect(new Set(ok.map((a) => a.json.id)).size).toBe(1);
  const [row] = await exec(
    sql`select count(*)::int as n from transactions where payer_id = ${user.id} and amount = 700`,
  );
  expect(row!.n).toBe(1);
});

test("a renamed vendor: the stale cache falls back once, the answer carries the new name", async () => {
  const user = await fundedUser(20_000);
  const vendor = await createVendor(t);
  await pay(user.accessToken, vendor.code, 100);
  await exec(sql`update vendors set name = 'Renamed Stall' where id = ${vendor.id}`);
  const renamed = await lanes(() => pay(user.accessToken, vendor.code, 200));
  expect(renamed.result.status).toBe(201);
  expect(renamed.result.json.counterparty.name).toBe("Renamed Stall");
  expect({ fast: renamed.fast, ordinary: renamed.ordinary }).toEqual({ fast: 0, ordinary: 1 });
  const next = await lanes(() => pay(user.accessToken, vendor.code, 300));
  expect({ status: next.result.status, fast: next.fast }).toEqual({ status: 201, fast: 1 });
});

test("a vendor frozen after it was cached is refused, and nothing moves", async () => {
  const user = await fundedUser(20_000);
  const vendor = await createVendor(t);
  await pay(user.accessToken, vendor.code, 100);
  const before = await balance(user.accessToken);
  await exec(sql`update vendors set status = 'frozen' where id = ${vendor.id}`);
  const refused = await pay(user.accessToken, vendor.code, 1_000);
  expect(refused.status).toBe(403);
  expect(refused.json.error.code).toBe("ACCOUNT_FROZEN");
  expect(await balance(user.accessToken)).toBe(before);
});

test("a frozen payer, or an ended session, is refused at once despite the cache", async () => {
  const user = await fundedUser(20_000);
  const vendor = await createVendor(t);
  await pay(user.accessToken, vendor.code, 100);
  await exec(sql`update users set status = 'frozen' where id = ${user.id}`);
  const frozen = await pay(user.accessToken, vendor.code, 1_000);
  expect(frozen.json.error?.code).toBe("ACCOUNT_FROZEN");
  await exec(sql`update users set status = 'active' where id = ${user.id}`);

  expect((await pay(user.accessToken, vendor.code, 100)).status).toBe(201);
  expect((await t.request("POST", "/v1/auth/logout", { token: user.accessToken })).status).toBe(204);
  const ended = await pay(user.accessToken, vendor.code, 1_000);
  expect(ended.status).toBe(401);
  const [row] = await exec(
    sql`select count(*)::int as n from transactions where payer_id = ${user.id} and amount = 1000`,
  );
  expect(row!.n).toBe(0);
});

test("a wrong PIN is counted and refused like on the ordinary path; the right one then clears the count", async () => {
  const user = await fundedUser(20_000);
  const vendor = await createVendor(t);
  await pay(user.accessToken, vendor.code, 100);
  const wrong = await pay(user.accessToken, vendor.code, 1_000, "8352");
  expect(wrong.status).toBe(401);
  expect(wrong.json.error.code).toBe("INVALID_PIN");
  const failed = async () => (await exec(sql`select pin_failed_count as n from users where id = ${user.id}`))[0]!.n;
  expect(await failed()).toBe(1);
  const right = await lanes(() => pay(user.accessToken, vendor.code, 1_000));
  expect({ status: right.result.status, ordinary: right.ordinary }).toEqual({ status: 201, ordinary: 1 });
  expect(await failed()).toBe(0);
  expect((await lanes(() => pay(user.accessToken, vendor.code, 100))).fast).toBe(1);
});

test("limits follow the tier the database holds, not the cached one", async () => {
  const user = await fundedUser(60_000);
  const vendor = await createVendor(t);
  await pay(user.accessToken, vendor.code, 100);
  const over = await pay(user.accessToken, vendor.code, 10_000);
  expect(over.status).toBe(422);
  expect(over.json.error.details).toMatchObject({ limit: "perTransaction" });
  await exec(sql`update users set kyc_tier = 1 where id = ${user.id}`);
  expect((await pay(user.accessToken, vendor.code, 10_000)).status).toBe(201);
  await exec(sql`update users set kyc_tier = 0 where id = ${user.id}`);
  const lowered = await pay(user.accessToken, vendor.code, 10_000);
  expect(lowered.status).toBe(422);
});

test("insufficient funds on the fast lane is final and changes nothing; transfers take the lane too", async () => {
  const user = await fundedUser(2_000);
  const friend = await fundedUser(1_000);
  const vendor = await createVendor(t);
  await pay(user.accessToken, vendor.code, 100);
  const broke = await lanes(() => pay(user.accessToken, vendor.code, 4_000));
  expect(broke.result.status).toBe(422);
  expect(broke.result.json.error.code).toBe("INSUFFICIENT_FUNDS");
  expect(broke.fast + broke.ordinary).toBe(1);
  const send = () =>
    t.request("POST", "/v1/transfers", {
      token: user.accessToken,
      headers: { "idempotency-key": key() },
      body: { toPhone: friend.phone, amount: 500, currency: "SZL", pin: PIN },
    });
  expect((await send()).status).toBe(201);
  const warm = await lanes(send);
  expect({ status: warm.result.status, fast: warm.fast }).toEqual({ status: 201, fast: 1 });
  expect(await balance(friend.accessToken)).toBe(2_000);
  const report = await t.deps.ledger.verify();
  expect(report.problems).toEqual([]);
});
