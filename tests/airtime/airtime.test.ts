import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createErs360Simulator, type Ers360Behaviour } from "../../src/integrations/ers360-simulator";
import { createAdmin, signInAdmin } from "../support/factories";
import { createTestContext } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/**
 * Airtime end to end, with both operators' ERS360 played by the simulator over real HTTP: every
 * behaviour (success, each rejection, busy, 105, pending, slower than the client's timeout, malformed
 * XML, HTTP 500), the reconciler settling what was left unknown — including a timeout that really
 * succeeded (charged once, airtime once) and one that failed (refunded in full) — and ledger:verify.
 */
const mtn = createErs360Simulator({ password: "mtn-secret-pw" });
const em = createErs360Simulator({ password: "em-secret-pw" });
const mtnServer = mtn.serve();
const emServer = em.serve();
afterAll(() => {
  mtn.close();
  em.close();
  mtnServer.stop();
  emServer.stop();
});

const t = await createTestContext({
  KESHLESS_ERS360_MTN_URL: mtnServer.url,
  KESHLESS_ERS360_MTN_RESELLER_ID: "KESHLESS_MTN",
  KESHLESS_ERS360_MTN_PASSWORD: "mtn-secret-pw",
  KESHLESS_ERS360_ESWATINI_MOBILE_URL: emServer.url,
  KESHLESS_ERS360_ESWATINI_MOBILE_RESELLER_ID: "KESHLESS_EM",
  KESHLESS_ERS360_ESWATINI_MOBILE_PASSWORD: "em-secret-pw",
  KESHLESS_ERS360_TIMEOUT_MS: "300",
  KESHLESS_AIRTIME_NOT_FOUND_GRACE: "30",
  KESHLESS_AIRTIME_MAX_ATTEMPTS: "2",
  KESHLESS_ACCESS_TOKEN_TTL: "3600",
  KESHLESS_FEES: JSON.stringify({ airtime: { flat: 25, bps: 0, min: 0, max: null, bearer: "sender" } }),
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 50_000, daily: 80_000, monthly: 200_000, maxBalance: 1_000_000 },
  }),
});
const kit = await moneyKit(t);
const { fundedUser, wallet, expectVerified, systemBalance, inbox } = kit;

// Time moves only forward, and only through deps.now (read on every call).
let offset = 0;
t.deps.now = () => new Date(Date.now() + offset);
const advance = (seconds: number) => {
  offset += seconds * 1000;
};

/** A fresh number on an operator: 76/78 MTN, 75/79 Eswatini Mobile. */
const number = (prefix: "76" | "78" | "75" | "79" = "76") =>
  `+268${prefix}${String(randomBytes(4).readUInt32BE() % 1_000_000).padStart(6, "0")}`;
const local = (e164: string) => e164.slice(1);

const buy = (token: string, body: Record<string, unknown>, idem = key()) =>
  t.request("POST", "/v1/airtime", { token, headers: { "idempotency-key": idem }, body });

async function settle() {
  await t.deps.airtime.idle();
}
const order = async (id: string) => (await t.deps.airtime.getOrder(id))!;
const txn = async (token: string, id: string) => (await t.request("GET", `/v1/transactions/${id}`, { token })).json;
const topupRequests = (sim: typeof mtn, msisdn: string) =>
  sim.requests.filter((r) => r.operation === "requestTopup" && r.msisdn === local(msisdn));

/** One order to `msisdn` with `behaviour`; returns the user, the 202 body, and the funded amount. */
async function orderWith(behaviour: Ers360Behaviour | null, options: { msisdn?: string; amount?: number } = {}) {
  const msisdn = options.msisdn ?? number();
  const sim = ["75", "79"].includes(msisdn.slice(4, 6)) ? em : mtn;
  if (behaviour) sim.rule(local(msisdn), behaviour);
  const user = await fundedUser(10_000);
  const res = await buy(user.accessToken, { msisdn, amount: options.amount ?? 1_500, currency: "SZL", pin: PIN });
  expect(res.status).toBe(202);
  expect(res.json).toMatchObject({ type: "airtime", status: "pending", balanceAfter: null });
  await settle();
  return { user, msisdn, sim, id: res.json.id as string };
}

async function reconcile() {
  const summary = await t.deps.airtime.reconcile();
  await settle();
  return summary;
}

async function expectDelivered(
  o: { user: { accessToken: string }; msisdn: string; sim: typeof mtn; id: string },
  amount = 1_500,
) {
  expect(o.sim.delivered(local(o.msisdn))).toHaveLength(1);
  expect((await txn(o.user.accessToken, o.id)).status).toBe("completed");
  expect(await wallet(o.user.accessToken)).toMatchObject({ balance: 10_000 - amount - 25, pending: 0 });
}

async function expectRefunded(o: { user: { accessToken: string }; msisdn: string; sim: typeof mtn; id: string }) {
  expect(o.sim.delivered(local(o.msisdn))).toHaveLength(0);
  expect((await txn(o.user.accessToken, o.id)).status).toBe("failed");
  expect(await wallet(o.user.accessToken)).toMatchObject({ balance: 10_000, available: 10_000, pending: 0 });
}

describe("answered at once", () => {
  test("success: 202 pending, then completed; posted to MTN's airtime clearing; replay tops up nothing more", async () => {
    const clearing = await systemBalance("airtime_clearing", "mtn");
    const msisdn = number("78");
    const user = await fundedUser(10_000);
    const idem = key();
    const body = { msisdn: msisdn.slice(4), amount: 1_500, currency: "SZL", pin: PIN };
    const res = await buy(user.accessToken, body, idem);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({
      type: "airtime",
      status: "pending",
      amount: 1_500,
      fee: 25,
      counterparty: { type: "system", id: "airtime_clearing", name: "MTN airtime" },
      reference: msisdn,
    });
    expect((await wallet(user.accessToken)).pending).toBeGreaterThanOrEqual(0);
    await settle();
    const o = { user, msisdn, sim: mtn, id: res.json.id };
    await expectDelivered(o);
    expect(await systemBalance("airtime_clearing", "mtn")).toBe(clearing + 1_500);
    const view = await order(res.json.id);
    const delivered = mtn.delivered(local(msisdn))[0]!;
    expect(view).toMatchObject({
      status: "completed",
      operator: "mtn",
      resultCode: 0,
      ersReference: delivered.ersReference,
    });
    expect(view.attempts).toEqual([
      expect.objectContaining({ attempt: 1, status: "succeeded", clientReference: delivered.clientReference }),
    ]);
    expect(delivered.amountCents).toBe(1_500n);
    expect((await inbox(user.phone)).some((m) => m.kind === "airtime_completed" && m.body.includes(msisdn))).toBe(true);

    const again = await buy(user.accessToken, body, idem);
    expect(again.status).toBe(202);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    await settle();
    expect(topupRequests(mtn, msisdn)).toHaveLength(1);
    await expectVerified();
  });

  test("Eswatini Mobile numbers (75, 79) go to Eswatini Mobile's ERS360 and clearing account", async () => {
    const clearing = await systemBalance("airtime_clearing", "eswatini_mobile");
    for (const prefix of ["75", "79"] as const) {
      const o = await orderWith(null, { msisdn: number(prefix) });
      expect(o.sim).toBe(em);
      await expectDelivered(o);
      expect(topupRequests(mtn, o.msisdn)).toHaveLength(0);
    }
    expect(await systemBalance("airtime_clearing", "eswatini_mobile")).toBe(clearing + 3_000);
    await expectVerified();
  });

  test("other networks and non-numbers are 400 with a clear message; nothing is held", async () => {
    const user = await fundedUser(10_000);
    const spct = await buy(user.accessToken, { msisdn: "77123456", amount: 500, currency: "SZL", pin: PIN });
    expect(spct.status).toBe(400);
    expect(spct.json.error.message).toContain("MTN (76, 78) and Eswatini Mobile (75, 79)");
    for (const msisdn of ["24041234", "+27821234567", "7612345", "hello", ""]) {
      const res = await buy(user.accessToken, { msisdn, amount: 500, currency: "SZL", pin: PIN });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
    for (const amount of [0, 50, 1.5, 100_001])
      expect((await buy(user.accessToken, { msisdn: number(), amount, currency: "SZL", pin: PIN })).status).toBe(400);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 10_000, available: 10_000, pending: 0 });
  });

  test("wrong PIN, insufficient funds and limits refuse before anything is sent", async () => {
    const user = await fundedUser(2_000);
    const msisdn = number();
    const wrong = await buy(user.accessToken, { msisdn, amount: 500, currency: "SZL", pin: "0000" });
    expect(wrong.json.error.code).toBe("INVALID_PIN");
    const poor = await buy(user.accessToken, { msisdn, amount: 1_990, currency: "SZL", pin: PIN });
    expect(poor.status).toBe(422);
    expect(poor.json.error.code).toBe("INSUFFICIENT_FUNDS");
    const rich = await fundedUser(200_000);
    const limit = await buy(rich.accessToken, { msisdn, amount: 60_000, currency: "SZL", pin: PIN });
    expect(limit.status).toBe(422);
    expect(limit.json.error).toMatchObject({ code: "LIMIT_EXCEEDED", details: { limit: "perTransaction" } });
    await settle();
    expect(topupRequests(mtn, msisdn)).toHaveLength(0);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 2_000, pending: 0 });
  });

  test("two identical requests at once buy once", async () => {
    const user = await fundedUser(10_000);
    const msisdn = number();
    const idem = key();
    const body = { msisdn, amount: 1_000, currency: "SZL", pin: PIN };
    const results = await Promise.all([buy(user.accessToken, body, idem), buy(user.accessToken, body, idem)]);
    for (const r of results) expect([202, 409]).toContain(r.status);
    await settle();
    expect(mtn.delivered(local(msisdn))).toHaveLength(1);
    expect((await wallet(user.accessToken)).balance).toBe(10_000 - 1_025);
    await expectVerified();
  });

  test("every rejection code voids the hold: refunded in full, limits given back, the owner told", async () => {
    for (const code of [10, 11, 12, 13, 20, 21, 29, 37, 41, 44, 47, 94, 102, 106]) {
      const o = await orderWith({ kind: "reject", code });
      await expectRefunded(o);
      const view = await order(o.id);
      expect(view).toMatchObject({ status: "failed", resultCode: code, alerted: false });
      expect(view.attempts[0]!.status).toBe("rejected");
      expect(
        (await inbox(o.user.phone)).some((m) => m.kind === "airtime_failed" && m.body.includes("back in your wallet")),
      ).toBe(true);
    }
    // The refunded outflow no longer counts: a tier-0 user can still spend the day's whole limit.
    await expectVerified();
  });

  test("104 (our reseller credit is gone) refunds and alerts operations: a warn log and an audit row", async () => {
    const o = await orderWith({ kind: "reject", code: 104 });
    await expectRefunded(o);
    expect((await order(o.id)).alerted).toBe(true);
    expect(
      t.logs.some((l) => l.includes('"level":"warn"') && l.includes("ers360_sender_credit") && l.includes(o.id)),
    ).toBe(true);
    const audit = await t.deps.audit.list({ action: "airtime.alert.sender_credit", targetId: o.id, limit: 5 });
    expect(audit.data).toHaveLength(1);
    await expectVerified();
  });
});

describe("left unknown, settled by the reconciler", () => {
  test("a timeout that really succeeded: charged once, airtime once", async () => {
    const o = await orderWith({ kind: "slow", delayMs: 900, outcome: "success" });
    const view = await order(o.id);
    expect(view.status).toBe("pending");
    expect(view.attempts[0]).toMatchObject({ status: "unknown", resultDescription: "timeout" });
    expect(await wallet(o.user.accessToken)).toMatchObject({
      balance: 10_000,
      available: 10_000 - 1_525,
      pending: 1_525,
    });
    expect((await reconcile()).due).toBeGreaterThanOrEqual(0);
    expect((await order(o.id)).status).toBe("pending"); // not yet due: asked again 15 s later
    advance(20);
    const summary = await reconcile();
    expect(summary.completed).toBeGreaterThanOrEqual(1);
    await expectDelivered(o);
    expect(topupRequests(mtn, o.msisdn)).toHaveLength(1);
    const settled = await order(o.id);
    expect(settled.attempts).toHaveLength(1);
    expect(settled.attempts[0]).toMatchObject({ status: "succeeded", checks: 0 });
    advance(600);
    await reconcile();
    await expectDelivered(o);
    await expectVerified();
  });

  test("a timeout that really failed: refunded in full", async () => {
    const o = await orderWith({ kind: "slow", delayMs: 900, outcome: "reject", code: 12 });
    expect((await order(o.id)).status).toBe("pending");
    advance(20);
    await reconcile();
    await expectRefunded(o);
    expect(await order(o.id)).toMatchObject({ status: "failed", resultCode: 12 });
    expect(topupRequests(mtn, o.msisdn)).toHaveLength(1);
    await expectVerified();
  });

  test("105 that went through: the status query finds it; no second top-up", async () => {
    const o = await orderWith({ kind: "code", code: 105, record: "success" });
    expect((await order(o.id)).attempts[0]).toMatchObject({ status: "unknown", resultCode: 105 });
    advance(20);
    await reconcile();
    await expectDelivered(o);
    expect(topupRequests(mtn, o.msisdn)).toHaveLength(1);
    await expectVerified();
  });

  test("1 PENDING_APPROVAL is polled until the operator decides", async () => {
    const o = await orderWith({ kind: "code", code: 1, record: "success" });
    expect((await order(o.id)).status).toBe("pending");
    advance(20);
    await reconcile();
    await expectDelivered(o);
    await expectVerified();
  });

  test("busy (93) and never done: after the grace period, one retry with a new reference, then delivered once", async () => {
    const msisdn = number();
    mtn.rule(local(msisdn), null);
    mtn.queue({ kind: "code", code: 93, record: "none" });
    const user = await fundedUser(10_000);
    const res = await buy(user.accessToken, { msisdn, amount: 1_500, currency: "SZL", pin: PIN });
    await settle();
    const o = { user, msisdn, sim: mtn, id: res.json.id as string };
    expect((await order(o.id)).attempts[0]).toMatchObject({ status: "unknown", resultCode: 93 });
    advance(20);
    await reconcile();
    // 933 "not found" 20 s after sending is not believed yet (it may still be in their queue).
    expect((await order(o.id)).attempts).toEqual([expect.objectContaining({ status: "unknown", checks: 1 })]);
    advance(40);
    await reconcile();
    await expectDelivered(o);
    const view = await order(o.id);
    expect(view.attempts.map((a) => a.status)).toEqual(["not_found", "succeeded"]);
    expect(new Set(view.attempts.map((a) => a.clientReference)).size).toBe(2);
    expect(topupRequests(mtn, msisdn)).toHaveLength(2);
    await expectVerified();
  });

  test("malformed XML and HTTP 500 are unknown, settled by asking", async () => {
    for (const behaviour of [{ kind: "malformed" }, { kind: "http500" }] as const) {
      const o = await orderWith(behaviour);
      expect((await order(o.id)).attempts[0]).toMatchObject({
        status: "unknown",
        resultDescription: behaviour.kind === "malformed" ? "malformed" : "http (HTTP 500)",
        resultCode: null,
      });
      mtn.rule(local(o.msisdn), null);
      advance(20);
      await reconcile();
      advance(40);
      await reconcile();
      await expectDelivered(o);
      expect((await order(o.id)).attempts.map((a) => a.status)).toEqual(["not_found", "succeeded"]);
    }
    await expectVerified();
  });

  test("a status query that fails (busy, 500, malformed, too slow) leaves it pending until one answers", async () => {
    const o = await orderWith({ kind: "slow", delayMs: 900, outcome: "success" });
    for (const failure of [
      { kind: "code", code: 93 },
      { kind: "http500" },
      { kind: "malformed" },
      { kind: "slow", delayMs: 900 },
    ] as Ers360Behaviour[]) {
      mtn.queueStatus(failure, local(o.msisdn));
      advance(300);
      await reconcile();
      expect((await order(o.id)).status).toBe("pending");
    }
    expect((await order(o.id)).attempts[0]!.checks).toBe(4);
    advance(300);
    await reconcile();
    await expectDelivered(o);
    await expectVerified();
  });

  test("attempts spent, never delivered: refunded in full", async () => {
    const msisdn = number();
    mtn.queue({ kind: "code", code: 93, record: "none" }, { kind: "code", code: 93, record: "none" });
    const user = await fundedUser(10_000);
    const res = await buy(user.accessToken, { msisdn, amount: 1_500, currency: "SZL", pin: PIN });
    await settle();
    const o = { user, msisdn, sim: mtn, id: res.json.id as string };
    advance(60);
    await reconcile(); // 933 → retry (attempt 2 → 93 again)
    advance(60);
    await reconcile(); // 933 → attempts spent → refund
    await expectRefunded(o);
    expect((await order(o.id)).attempts.map((a) => a.status)).toEqual(["not_found", "not_found"]);
    await expectVerified();
  });

  test("an order committed but never sent (a crash before dispatch) is sent by the reconciler, once", async () => {
    const user = await fundedUser(10_000);
    const msisdn = number("79");
    const plan = await t.deps.airtime.plan({ userId: user.id, msisdn, amount: 1_500, currency: "SZL" });
    await t.deps.database.db.transaction((tx) => t.deps.airtime.commit(plan, tx as never));
    expect(await reconcile()).toMatchObject({ dispatched: 0 });
    advance(10);
    const [a, b] = await Promise.all([t.deps.airtime.reconcile(), t.deps.airtime.reconcile()]);
    await settle();
    expect(a.dispatched + b.dispatched).toBeGreaterThanOrEqual(1);
    await expectDelivered({ user, msisdn, sim: em, id: plan.id });
    expect(topupRequests(em, msisdn)).toHaveLength(1);
    await expectVerified();
  });
});

describe("jobs and admin", () => {
  test("POST /jobs/airtime-reconcile: 401 without the secret; runs and reports a summary", async () => {
    const o = await orderWith({ kind: "code", code: 105, record: "success" });
    expect((await t.request("POST", "/jobs/airtime-reconcile")).status).toBe(401);
    expect((await t.request("POST", "/jobs/airtime-reconcile", { headers: { "x-job-secret": "wrong" } })).status).toBe(
      401,
    );
    advance(20);
    const res = await t.request("POST", "/jobs/airtime-reconcile", {
      headers: { "x-job-secret": t.config.secrets.job },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ jobRunId: expect.stringMatching(/^job_/), status: "succeeded" });
    expect(res.json.summary.completed).toBeGreaterThanOrEqual(1);
    await settle();
    await expectDelivered(o);
  });

  test("admins see orders with their ERS references and a reconciliation view of what is pending", async () => {
    const admin = await createAdmin(t, "support");
    const token = (await signInAdmin(t, admin)).accessToken;
    const done = await orderWith(null);
    const stuck = await orderWith({ kind: "code", code: 93, record: "none" });
    const list = await t.request("GET", `/admin/v1/airtime/orders?userId=${done.user.id}`, { token });
    expect(list.status).toBe(200);
    expect(list.json.data[0]).toMatchObject({
      id: done.id,
      status: "completed",
      ersReference: mtn.delivered(local(done.msisdn))[0]!.ersReference,
      attempts: [expect.objectContaining({ status: "succeeded" })],
    });
    const byNumber = await t.request("GET", `/admin/v1/airtime/orders?msisdn=${local(stuck.msisdn)}`, { token });
    expect(byNumber.json.data.map((x: { id: string }) => x.id)).toEqual([stuck.id]);
    const one = await t.request("GET", `/admin/v1/airtime/orders/${stuck.id}`, { token });
    expect(one.json).toMatchObject({ status: "pending", attempts: [expect.objectContaining({ resultCode: 93 })] });
    const recon = await t.request("GET", "/admin/v1/airtime/reconciliation", { token });
    expect(recon.status).toBe(200);
    expect(recon.json.data.map((x: { id: string }) => x.id)).toContain(stuck.id);
    expect(recon.json.data.every((x: { status: string }) => x.status === "pending")).toBe(true);
    expect(recon.json.totals.count).toBe(recon.json.data.length);
    expect(recon.json.totals.byOperator.mtn.count).toBeGreaterThanOrEqual(1);
    const compliance = await createAdmin(t, "compliance");
    const denied = await t.request("GET", "/admin/v1/airtime/orders", {
      token: (await signInAdmin(t, compliance)).accessToken,
    });
    expect(denied.status).toBe(403);
    expect((await t.request("GET", "/admin/v1/airtime/orders/txn_nope", { token })).status).toBe(404);
    mtn.rule(local(stuck.msisdn), null);
    advance(60);
    // A run whose time budget is spent leaves the rest for the next run rather than outliving its request.
    const spent = await t.deps.airtime.reconcile(200, 0);
    expect(spent.deferred).toBe(spent.due);
    expect(spent.due).toBeGreaterThanOrEqual(1);
    expect((await order(stuck.id)).status).toBe("pending");
    await reconcile();
    advance(60);
    await reconcile();
    expect((await order(stuck.id)).status).toBe("completed");
  });

  test("nothing secret reaches the logs; after everything the ledger verifies", async () => {
    const joined = t.logs.join("\n");
    expect(joined).not.toContain("mtn-secret-pw");
    expect(joined).not.toContain("em-secret-pw");
    expect(joined).not.toContain(`"pin"`);
    await expectVerified();
  });
});
