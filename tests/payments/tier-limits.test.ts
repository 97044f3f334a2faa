import { describe, expect, setSystemTime, test } from "bun:test";
import { DEFAULT_KYC_LIMITS, loadConfig } from "../../src/config";
import { withTransaction } from "../../src/db/transaction";
import { AppError } from "../../src/http/errors";
import { buildSystem } from "../../src/modules";
import { MAX_AGE_MS } from "../../src/payments/tier-limits";
import { createVendor, signInUser } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/**
 * The KYC tiers' limits as compliance's audited settings (src/payments/tier-limits*.ts): KESHLESS_KYC_LIMITS is
 * only the first boot's default; a change by a compliance admin applies to both payment lanes, to the other
 * outflows (chargeOutflow) and to GET /v1/kyc, on this instance at once and on another within MAX_AGE_MS.
 */
const TIER_0 = { perTransaction: 50_000, daily: 100_000, monthly: 300_000, maxBalance: 500_000 };
const TIER_1 = { perTransaction: 200_000, daily: 400_000, monthly: 1_000_000, maxBalance: 2_000_000 };
const t = await createTestContext({ KESHLESS_KYC_LIMITS: JSON.stringify({ "0": TIER_0, "1": TIER_1 }) });
const kit = await moneyKit(t);
const compliance = await kit.admin("compliance");
const support = await kit.admin("support");
const finance = await kit.admin("finance");
const stats = t.deps.paymentsFastLane.stats;

const setLimits = (token: string, tier: string | number, body: unknown) =>
  t.request("PUT", `/admin/v1/settings/limits/${tier}`, { token, body });
const listLimits = async (token = support.token) => {
  const res = await t.request("GET", "/admin/v1/settings/limits", { token });
  expect(res.status).toBe(200);
  return res.json.data as Record<string, unknown>[];
};
const pay = (token: string, vendorCode: string, amount: number) =>
  t.request("POST", "/v1/payments", {
    token,
    headers: { "idempotency-key": key() },
    body: { vendorCode, amount, currency: "SZL", pin: PIN },
  });
const transfer = (token: string, toPhone: string, amount: number) =>
  t.request("POST", "/v1/transfers", {
    token,
    headers: { "idempotency-key": key() },
    body: { toPhone, amount, currency: "SZL", pin: PIN },
  });
const balance = async (token: string) => (await kit.wallet(token)).balance as number;
const limitAudits = async () =>
  (await t.deps.audit.list({ action: "settings.limits.update", limit: 100 })).data.filter((r) => r.targetId === "0");

/** Runs `fn` and reports how many requests each lane answered meanwhile. */
async function lanes<T>(fn: () => Promise<T>) {
  const before = { ...stats };
  const result = await fn();
  return { result, fast: stats.fast - before.fast, ordinary: stats.ordinary - before.ordinary };
}

async function restoreTier0() {
  expect((await setLimits(compliance.token, 0, TIER_0)).status).toBe(200);
}

test("the environment is the first boot's default: every tier listed, set by nobody, readable by every admin", async () => {
  const data = await listLimits(support.token);
  expect(data.map(({ updatedAt: _at, ...rest }) => rest)).toEqual([
    { tier: 0, ...TIER_0, updatedBy: null },
    { tier: 1, ...TIER_1, updatedBy: null },
    { tier: 2, ...DEFAULT_KYC_LIMITS["2"]!, updatedBy: null },
  ]);
  for (const admin of [compliance, finance]) expect(await listLimits(admin.token)).toEqual(data);
});

describe("a compliance admin lowers tier 0's per-transaction limit", () => {
  test("a payment or transfer above it is 422 LIMIT_EXCEEDED on both lanes; raised back, it goes through", async () => {
    const user = await kit.fundedUser(60_000);
    const friend = await signInUser(t);
    const vendor = await createVendor(t);
    expect((await pay(user.accessToken, vendor.code, 1_000)).status).toBe(201); // warms the fast lane

    const lowered = await setLimits(compliance.token, 0, { ...TIER_0, perTransaction: 10_000 });
    expect(lowered.status).toBe(200);
    expect(lowered.json).toMatchObject({ tier: 0, ...TIER_0, perTransaction: 10_000, updatedBy: compliance.id });
    const before = await balance(user.accessToken);

    // The fast lane plans it on the new limit, refuses to decide, and the ordinary path refuses it.
    const refused = await lanes(() => pay(user.accessToken, vendor.code, 12_000));
    expect({ status: refused.result.status, fast: refused.fast, ordinary: refused.ordinary }).toEqual({
      status: 422,
      fast: 0,
      ordinary: 1,
    });
    expect(refused.result.json.error).toMatchObject({
      code: "LIMIT_EXCEEDED",
      details: { limit: "perTransaction", max: 10_000 },
    });
    const sent = await transfer(user.accessToken, friend.phone, 12_000);
    expect({ status: sent.status, code: sent.json.error?.code }).toEqual({ status: 422, code: "LIMIT_EXCEEDED" });
    // The ordinary planner on its own (USSD and payment requests plan through it).
    const planned = await t.deps.payments
      .planPayment({ userId: user.id, vendorCode: vendor.code, amount: 12_000, currency: "SZL" })
      .catch((e: unknown) => e);
    expect(planned).toBeInstanceOf(AppError);
    expect((planned as AppError).code).toBe("LIMIT_EXCEEDED");
    // Under the new limit the fast lane still answers.
    const under = await lanes(() => pay(user.accessToken, vendor.code, 5_000));
    expect({ status: under.result.status, fast: under.fast }).toEqual({ status: 201, fast: 1 });
    expect(await balance(user.accessToken)).toBe(before - 5_000 - under.result.json.fee);

    const kyc = await t.request("GET", "/v1/kyc", { token: user.accessToken });
    expect(kyc.json.limits).toEqual({ ...TIER_0, perTransaction: 10_000 });

    await restoreTier0();
    const raised = await lanes(() => pay(user.accessToken, vendor.code, 12_000));
    expect({ status: raised.result.status, fast: raised.fast }).toEqual({ status: 201, fast: 1 });
    expect((await transfer(user.accessToken, friend.phone, 12_000)).status).toBe(201);
    expect((await t.request("GET", "/v1/kyc", { token: user.accessToken })).json.limits).toEqual(TIER_0);
    await kit.expectVerified();
  });

  test("a lowered daily limit is refused by the fast lane's own statement", async () => {
    const user = await kit.fundedUser(60_000);
    const vendor = await createVendor(t);
    expect((await pay(user.accessToken, vendor.code, 1_000)).status).toBe(201); // 1,050 with the fee
    expect((await setLimits(compliance.token, 0, { ...TIER_0, perTransaction: 5_000, daily: 5_000 })).status).toBe(200);
    const refused = await lanes(() => pay(user.accessToken, vendor.code, 4_500));
    expect({ status: refused.result.status, fast: refused.fast, ordinary: refused.ordinary }).toEqual({
      status: 422,
      fast: 1,
      ordinary: 0,
    });
    expect(refused.result.json.error).toMatchObject({ code: "LIMIT_EXCEEDED", details: { limit: "daily" } });
    await restoreTier0();
    const paid = await lanes(() => pay(user.accessToken, vendor.code, 4_500));
    expect({ status: paid.result.status, fast: paid.fast }).toEqual({ status: 201, fast: 1 });
  });

  test("withdrawals (chargeOutflow, inside their transaction) are held to it too", async () => {
    const user = await kit.fundedUser(60_000);
    expect((await setLimits(compliance.token, 0, { ...TIER_0, perTransaction: 10_000 })).status).toBe(200);
    const body = {
      amount: 12_000,
      currency: "SZL",
      pin: PIN,
      destination: { type: "bank", bankCode: "FNB", accountNumber: "6200 123 4567", accountName: "Thandi Dlamini" },
    };
    const withdraw = () =>
      t.request("POST", "/v1/withdrawals", { token: user.accessToken, headers: { "idempotency-key": key() }, body });
    const refused = await withdraw();
    expect({ status: refused.status, code: refused.json.error?.code }).toEqual({
      status: 422,
      code: "LIMIT_EXCEEDED",
    });
    await restoreTier0();
    expect([201, 202]).toContain((await withdraw()).status);
  });

  test("the change is audited with its before and after, by whom", async () => {
    const audits = (await limitAudits()).length;
    expect((await setLimits(compliance.token, 0, { ...TIER_0, monthly: 250_000 })).status).toBe(200);
    await restoreTier0();
    const [restored, changed] = await limitAudits();
    expect((await limitAudits()).length).toBe(audits + 2);
    expect(changed).toMatchObject({
      actorType: "admin",
      actorId: compliance.id,
      targetType: "kyc_tier",
      targetId: "0",
      details: { tier: 0, before: TIER_0, after: { ...TIER_0, monthly: 250_000 } },
    });
    expect(changed!.requestId).toBeTruthy();
    expect(restored!.details).toEqual({ tier: 0, before: { ...TIER_0, monthly: 250_000 }, after: TIER_0 });
  });
});

test("support and finance cannot change them (403); nothing changes", async () => {
  const before = await listLimits();
  const audits = (await limitAudits()).length;
  for (const admin of [support, finance]) {
    const res = await setLimits(admin.token, 0, { ...TIER_0, perTransaction: 1_000 });
    expect({ status: res.status, code: res.json.error?.code }).toEqual({ status: 403, code: "FORBIDDEN" });
  }
  expect(await listLimits()).toEqual(before);
  expect((await limitAudits()).length).toBe(audits);
});

test("bad values are 400 VALIDATION_FAILED, an unknown tier 404, and nothing changes", async () => {
  const before = await listLimits();
  const audits = (await limitAudits()).length;
  const bad: unknown[] = [
    {},
    { ...TIER_0, perTransaction: 0 },
    { ...TIER_0, daily: -5 },
    { ...TIER_0, monthly: 1.5 },
    { ...TIER_0, maxBalance: "500000" },
    { ...TIER_0, maxBalance: Number.MAX_SAFE_INTEGER + 2 },
    { perTransaction: 10_000, daily: 20_000, monthly: 30_000 },
    { ...TIER_0, daily: TIER_0.perTransaction - 1 },
    { ...TIER_0, monthly: TIER_0.daily - 1 },
    null,
  ];
  for (const body of bad) {
    const res = await setLimits(compliance.token, 0, body);
    expect({ body, status: res.status, code: res.json.error?.code }).toEqual({
      body,
      status: 400,
      code: "VALIDATION_FAILED",
    });
  }
  for (const tier of ["x", "12", "-1"]) expect((await setLimits(compliance.token, tier, TIER_0)).status).toBe(400);
  const unknown = await setLimits(compliance.token, 7, TIER_0);
  expect({ status: unknown.status, code: unknown.json.error?.code }).toEqual({ status: 404, code: "NOT_FOUND" });
  expect(await listLimits()).toEqual(before);
  expect((await limitAudits()).length).toBe(audits);
});

describe("another system over the same database (a restart, another instance)", () => {
  const otherEnv = {
    "0": { perTransaction: 90_000, daily: 900_000, monthly: 9_000_000, maxBalance: 9_000_000 },
    "1": { perTransaction: 90_000, daily: 900_000, monthly: 9_000_000, maxBalance: 9_000_000 },
    "3": { perTransaction: 70_000, daily: 700_000, monthly: 7_000_000, maxBalance: 7_000_000 },
  };
  const boot = () =>
    buildSystem(
      loadConfig({
        KESHLESS_ENV: "test",
        KESHLESS_DATA_DIR: t.config.dataDir,
        ...TEST_SECRETS,
        KESHLESS_KYC_LIMITS: JSON.stringify(otherEnv),
      }),
      { database: t.deps.database, logger: t.deps.logger },
    );

  test("keeps the stored values whatever its KESHLESS_KYC_LIMITS says; only a tier never stored comes from it", async () => {
    const stored = { ...TIER_0, perTransaction: 30_000 };
    expect((await setLimits(compliance.token, 0, stored)).status).toBe(200);
    const user = await kit.fundedUser(0);
    const restarted = await boot();
    // Cold, inside a transaction (as withdrawals, airtime and card fees charge): read there, from the table.
    const charged = await withTransaction(restarted, (tx) =>
      restarted.payments.chargeOutflow({ id: user.id, kycTier: 0 }, 40_000n, tx),
    ).catch((e: unknown) => e);
    expect((charged as AppError).code).toBe("LIMIT_EXCEEDED");
    expect((charged as AppError).details).toEqual({ limit: "perTransaction", max: 30_000 });

    const table = await restarted.paymentsTierLimits.load();
    expect(table).toEqual({ "0": stored, "1": TIER_1, "2": DEFAULT_KYC_LIMITS["2"]!, "3": otherEnv["3"] });
    expect((await restarted.kyc.status({ id: user.id, kycTier: 0 })).limits).toEqual(stored);
    const data = await listLimits();
    expect(data.map((r) => [r.tier, r.perTransaction, r.updatedBy])).toEqual([
      [0, 30_000, compliance.id],
      [1, TIER_1.perTransaction, null],
      [2, DEFAULT_KYC_LIMITS["2"]!.perTransaction, null],
      [3, otherEnv["3"].perTransaction, null],
    ]);
    await restoreTier0();
  });

  test("a change on one instance reaches another by its next read: at most MAX_AGE_MS (10 s) later", async () => {
    expect(MAX_AGE_MS).toBe(10_000);
    const other = await boot();
    expect((await other.paymentsTierLimits.load())["0"]).toEqual(TIER_0);
    expect((await setLimits(compliance.token, 0, { ...TIER_0, perTransaction: 20_000 })).status).toBe(200);
    // This instance applies it at once; the other still holds its copy, answered without a query.
    expect(t.deps.paymentsTierLimits.current()?.["0"]?.perTransaction).toBe(20_000);
    expect(other.paymentsTierLimits.current()?.["0"]?.perTransaction).toBe(TIER_0.perTransaction);
    try {
      // Half-way, the copy is still answered while a read runs in the background…
      setSystemTime(new Date(Date.now() + MAX_AGE_MS / 2));
      expect(other.paymentsTierLimits.current()?.["0"]?.perTransaction).toBe(TIER_0.perTransaction);
      expect((await other.paymentsTierLimits.load())["0"]?.perTransaction).toBe(20_000);
      expect(other.paymentsTierLimits.current()?.["0"]?.perTransaction).toBe(20_000);
      await restoreTier0();
      // …and past MAX_AGE_MS nothing is answered from memory: the next payment waits for a read.
      setSystemTime(new Date(Date.now() + MAX_AGE_MS + 1));
      expect(other.paymentsTierLimits.current()).toBeUndefined();
      expect((await other.paymentsTierLimits.load())["0"]).toEqual(TIER_0);
    } finally {
      setSystemTime();
    }
    // Tests (and nothing else) may force the read at once.
    expect((await setLimits(compliance.token, 0, { ...TIER_0, daily: 60_000 })).status).toBe(200);
    expect((await other.paymentsTierLimits.refresh())["0"]).toEqual({ ...TIER_0, daily: 60_000 });
    await restoreTier0();
  });
});
