import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { raiseAlert } from "../../src/compliance/aml-alerts";
import { queryRows } from "../../src/db/client";
import { withTransaction } from "../../src/db/transaction";
import { eswatiniDay, previousEswatiniDay } from "../../src/lib/clock";
import { createVendor, randomPhone, signInUser } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { dialer } from "../ussd/support";
import { key, moneyKit, PIN } from "../withdrawals/kit";
import { type CsvLine, reportLines, runReportJob, sumCents } from "./support";

/**
 * The daily reports from the outside. Known money moves on one day — deposits, payments, transfers (in the app and
 * by USSD), a reversal, a completed withdrawal, one waiting for approval (its hold), a failed airtime top-up — plus
 * AML alerts opened, escalated and closed; then the job generates the day and every figure is checked exactly,
 * the CSV is parsed and its totals equal the JSON's. The ledger and the transaction rows are stamped by the
 * database's own clock, which no test can move, so the chosen day is today in Africa/Mbabane (the day the test
 * runs), and yesterday — before anything happened — is the day that must stay empty.
 */
const t = await createTestContext({
  // Above 10,000 cents a withdrawal waits for approval: its hold is e-money still in the wallet.
  KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX: "10000",
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 100_000, daily: 150_000, monthly: 400_000, maxBalance: 1_000_000 },
  }),
  KESHLESS_AML_CASH_THRESHOLD: "50000",
  KESHLESS_AML_ESCALATION_HOURS: "0.001",
});
const kit = await moneyKit(t);
const finance = await kit.admin("finance");
const finance2 = await kit.admin("finance");
const compliance = await kit.admin("compliance");
const support = await kit.admin("support");

const day = eswatiniDay(t.deps.now());

const post = (path: string, token: string, body: Record<string, unknown>) =>
  t.request("POST", path, { token, headers: { "idempotency-key": key() }, body });

async function member() {
  // The embedded ERS360 simulator gives numbers ending in these digits a behaviour; ordinary members avoid them.
  let phone = randomPhone();
  while (/(0011|0020|0093|0104|0105|0500|0666|0999)$/.test(phone) || phone.endsWith(PIN)) phone = randomPhone();
  return signInUser(t, { pin: PIN, phone });
}

// ---- the day's known activity -------------------------------------------------------------------------------
const alice = await member();
const bob = await member();
const carol = await member();
const dave = await member();
const vendor = await createVendor(t);

await kit.deposit(alice.phone, 100_000);
await kit.deposit(bob.phone, 50_000);
await kit.deposit(dave.phone, 5_000);
// Payments cost the payer 1% (min E0.50): 200 and 50 cents.
const paid = await post("/v1/payments", alice.accessToken, {
  vendorCode: vendor.code,
  amount: 20_000,
  currency: "SZL",
  pin: PIN,
});
expect(paid.status).toBe(201);
const small = await post("/v1/payments", bob.accessToken, {
  vendorCode: vendor.code,
  amount: 3_000,
  currency: "SZL",
  pin: PIN,
});
expect(small.status).toBe(201);
expect(small.json.fee).toBe(50);
const sent = await post("/v1/transfers", alice.accessToken, {
  toPhone: carol.phone,
  amount: 10_000,
  currency: "SZL",
  pin: PIN,
});
expect(sent.status).toBe(201);
// Bob sends carol E15.00 by USSD (Africa's Talking's wire format).
const phoneOfBob = dialer(t, "at", bob.phone);
await phoneOfBob.home();
await phoneOfBob.play("2", carol.phone.slice(4), "15");
const ussdSent = await phoneOfBob.send(PIN);
expect(ussdSent.text).toStartWith("Sent E15.00");

// Bob's E30.00 payment reversed: one finance admin asks, another approves (the fee goes back too).
const asked = await t.request("POST", `/admin/v1/transactions/${small.json.id}/reversal`, {
  token: finance.token,
  body: { reason: "goods never delivered" },
});
expect(asked.status).toBe(202);
expect((await kit.decide(finance2.token, asked.json.id, "approve")).status).toBe(200);

// Alice withdraws E50.00 to her bank (fee E5.00), at once; carol's E110.00 waits for approval, held.
const bank = { type: "bank", bankCode: "FNB", accountNumber: "6200 123 4567", accountName: "Alice Dlamini" };
const withdrawn = await post("/v1/withdrawals", alice.accessToken, {
  amount: 5_000,
  currency: "SZL",
  pin: PIN,
  destination: bank,
});
expect(withdrawn.status).toBe(201);
const waiting = await post("/v1/withdrawals", carol.accessToken, {
  amount: 11_000,
  currency: "SZL",
  pin: PIN,
  destination: { ...bank, accountName: "Carol Dlamini" },
});
expect(waiting.status).toBe(202);

// Dave's airtime to a number the simulator rejects: the transaction fails and the hold is voided.
const airtime = await post("/v1/airtime", dave.accessToken, {
  msisdn: "+26876120011",
  amount: 1_500,
  currency: "SZL",
  pin: PIN,
});
expect(airtime.status).toBe(202);
await t.deps.airtime.idle();
expect((await t.request("GET", `/v1/transactions/${airtime.json.id}`, { token: dave.accessToken })).json.status).toBe(
  "failed",
);

// Two AML alerts as the monitor raises them; both escalate once, one is closed as a false positive.
const alerts = await withTransaction(t.deps, async (tx) => {
  const ids: string[] = [];
  for (const subject of [alice, bob]) {
    const hit = {
      rule: { id: "large_transaction", type: "large_transaction" as const, priority: 3 },
      subject: { type: "user" as const, id: subject.id, name: null },
      evidence: { kind: "transaction" as const, ids: [] },
      details: {},
    };
    ids.push((await raiseAlert(t.deps, tx, hit, { actor: { type: "system", id: "test" } })).id);
  }
  return ids;
});
// Ten seconds on, both are due (the interval is 3.6 s): the escalation job takes them up a level.
const realNow = t.deps.now;
t.deps.now = () => new Date(realNow().getTime() + 10_000);
const escalation = await t.request("POST", "/jobs/alert-escalation", {
  headers: { "x-job-secret": TEST_SECRETS.KESHLESS_JOB_SECRET },
});
t.deps.now = realNow;
expect(escalation.json.summary).toMatchObject({ escalated: 2 });
const closed = await t.request("POST", `/admin/v1/aml/alerts/${alerts[0]}/status`, {
  token: compliance.token,
  body: { status: "closed", outcome: "false_positive", note: "salary, known employer" },
});
expect(closed.status).toBe(200);
await kit.expectVerified();

// ---- the reports --------------------------------------------------------------------------------------------
const generated = await runReportJob(t, `?date=${day}`);
const reportsOf = async (token = finance.token, query = `?from=${day}&to=${day}`) =>
  t.request("GET", `/admin/v1/reports${query}`, { token });
const byType = async (type: string) => {
  const list = await reportsOf(finance.token, `?type=${type}&from=${day}&to=${day}`);
  expect(list.json.data).toHaveLength(1);
  const res = await t.request("GET", `/admin/v1/reports/${list.json.data[0].id}`, { token: finance.token });
  expect(res.status).toBe(200);
  return res.json;
};
const csvOf = async (id: string) => {
  const res = await t.request("GET", `/admin/v1/reports/${id}?format=csv`, { token: finance.token });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/csv");
  return { text: res.text, lines: reportLines(res.text) };
};
const pick = (lines: CsvLine[], section: string, key?: string, metric?: string) =>
  lines.filter(
    (l) =>
      l.section === section && (key === undefined || l.key === key) && (metric === undefined || l.metric === metric),
  );

describe("generation", () => {
  test("the job writes the three reports of the day and answers {jobRunId, status, summary}", () => {
    expect(generated.status).toBe(200);
    expect(generated.json).toMatchObject({ status: "succeeded", summary: { date: day, balanced: true } });
    expect(generated.json.jobRunId).toMatch(/^job_/);
    const objects = generated.json.summary.reports.map((r: { type: string; object: string }) => [r.type, r.object]);
    expect(objects).toEqual([
      ["financial", `reports/${day}/financial.csv`],
      ["operational", `reports/${day}/operational.csv`],
      ["compliance", `reports/${day}/compliance.csv`],
    ]);
    for (const r of generated.json.summary.reports) expect(r.id).toMatch(/^rpt_/);
  });
});

describe("financial", () => {
  test("trial balance: opening, debits, credits and closing per account kind, summing to zero", async () => {
    const report = await byType("financial");
    expect(report).toMatchObject({ type: "financial", date: day, complete: false });
    expect(report.trialBalance.balanced).toBe(true);
    const [szl] = report.trialBalance.currencies;
    expect(szl).toMatchObject({ currency: "SZL", balanced: true, net: 0 });
    const kind = (name: string) => szl.kinds.find((k: { kind: string }) => k.kind === name);
    // alice 100,000 − 20,200 − 10,000 − 5,500; bob 50,000 − 3,050 − 1,500 + 3,050; carol 10,000 + 1,500; dave 5,000
    expect(kind("user_wallet")).toEqual({
      kind: "user_wallet",
      accounts: 4,
      opening: 0,
      debits: 20_200 + 3_050 + 10_000 + 1_500 + 5_500,
      credits: 155_000 + 10_000 + 1_500 + 3_050,
      closing: 64_300 + 48_500 + 11_500 + 5_000,
    });
    expect(kind("vendor_wallet")).toEqual({
      kind: "vendor_wallet",
      accounts: 1,
      opening: 0,
      debits: 3_000,
      credits: 23_000,
      closing: 20_000,
    });
    expect(kind("partner_settlement")).toMatchObject({ opening: 0, debits: 155_000, credits: 0, closing: -155_000 });
    expect(kind("fee_revenue")).toMatchObject({ opening: 0, debits: 50, credits: 750, closing: 700 });
    expect(kind("withdrawal_clearing")).toMatchObject({ opening: 0, debits: 0, credits: 5_000, closing: 5_000 });
    const nonzero = szl.kinds.filter((k: { closing: number }) => k.closing !== 0).map((k: { kind: string }) => k.kind);
    expect(nonzero.sort()).toEqual(
      ["fee_revenue", "partner_settlement", "user_wallet", "vendor_wallet", "withdrawal_clearing"].sort(),
    );
  });

  test("volumes and fees by type come from the day's journals: pending and failed moved nothing", async () => {
    const report = await byType("financial");
    expect(report.volumes).toEqual([
      { type: "deposit", currency: "SZL", count: 3, amount: 155_000, fees: 0, feeRevenue: 0 },
      { type: "payment", currency: "SZL", count: 2, amount: 23_000, fees: 250, feeRevenue: 250 },
      // The reversal gives its fee back: off the fees, and off the fee revenue account.
      { type: "reversal", currency: "SZL", count: 1, amount: 3_000, fees: -50, feeRevenue: -50 },
      { type: "transfer", currency: "SZL", count: 2, amount: 11_500, fees: 0, feeRevenue: 0 },
      { type: "withdrawal", currency: "SZL", count: 1, amount: 5_000, fees: 500, feeRevenue: 500 },
    ]);
    expect(report.summary).toEqual({
      currency: "SZL",
      balanced: true,
      transactions: 9,
      volume: 155_000 + 23_000 + 3_000 + 11_500 + 5_000,
      // The fees the transactions carried are what the ledger's fee revenue account took.
      fees: 700,
      feeRevenue: 700,
      eMoneyOutstanding: 149_300,
      float: 155_000,
      difference: 5_700,
      unexplained: 0,
    });
  });

  test("e-money outstanding (holds included) against the float, the difference explained", async () => {
    const report = await byType("financial");
    const [szl] = report.eMoney;
    expect(szl).toMatchObject({
      currency: "SZL",
      userWallets: 129_300,
      vendorWallets: 20_000,
      // Carol's withdrawal waiting for approval: still her e-money, not yet spendable.
      held: 11_500,
      outstanding: 149_300,
      float: 155_000,
      difference: 5_700,
      unexplained: 0,
    });
    const explained = Object.fromEntries(
      szl.explainedBy.map((x: { kind: string; balance: number }) => [x.kind, x.balance]),
    );
    expect(explained).toMatchObject({ fee_revenue: 700, withdrawal_clearing: 5_000 });
    expect(Object.values(explained).reduce((a: number, b) => a + (b as number), 0)).toBe(5_700);
  });

  test("the CSV parses, and its totals are the JSON's, in cents and in formatted SZL", async () => {
    const report = await byType("financial");
    const { lines } = await csvOf(report.id);
    const closing = pick(lines, "trial_balance", undefined, "closing");
    expect(sumCents(closing)).toBe(report.trialBalance.currencies[0].net);
    expect(pick(lines, "trial_balance", "total", "net")[0]!.amountCents).toBe(0);
    expect(pick(lines, "trial_balance", "user_wallet", "closing")[0]).toMatchObject({
      currency: "SZL",
      count: "4",
      amountCents: 129_300,
      amount: "E1,293.00",
    });
    // A negative amount is prefixed so no spreadsheet reads the cell as a formula.
    expect(pick(lines, "trial_balance", "partner_settlement", "closing")[0]!.amount).toBe("'-E1,550.00");
    expect(sumCents(pick(lines, "volumes", undefined, "amount"))).toBe(report.summary.volume);
    expect(sumCents(pick(lines, "volumes", undefined, "fees"))).toBe(report.summary.fees);
    expect(sumCents(pick(lines, "volumes", undefined, "fee_revenue"))).toBe(report.summary.feeRevenue);
    expect(pick(lines, "volumes", undefined, "amount").reduce((sum, l) => sum + Number(l.count), 0)).toBe(
      report.summary.transactions,
    );
    expect(pick(lines, "e_money", "outstanding")[0]!.amountCents).toBe(report.summary.eMoneyOutstanding);
    expect(pick(lines, "e_money", "float")[0]!.amountCents).toBe(report.summary.float);
    expect(pick(lines, "e_money", "difference")[0]!.amountCents).toBe(report.summary.difference);
    expect(sumCents(pick(lines, "e_money", "explained_by"))).toBe(report.summary.difference);
    expect(pick(lines, "volumes", "deposit", "amount")[0]!.amount).toBe("E1,550.00");
  });

  test("the CSV in the backups bucket is the one the API serves; Accept: text/csv asks for it too", async () => {
    const report = await byType("financial");
    const stored = new TextDecoder().decode(await t.deps.storage.backups.read(`reports/${day}/financial.csv`));
    const byHeader = await t.request("GET", `/admin/v1/reports/${report.id}`, {
      token: finance.token,
      headers: { accept: "text/csv" },
    });
    expect(byHeader.headers.get("content-type")).toStartWith("text/csv");
    expect(byHeader.text).toBe(stored);
    expect((await csvOf(report.id)).text).toBe(stored);
  });
});

describe("operational", () => {
  test("people, transactions and failures by type and channel, USSD sessions, notifications and webhooks", async () => {
    const report = await byType("operational");
    expect(report.people).toEqual({ newUsers: 4, newVendors: 1, activeUsers: 4, activeVendors: 1 });
    const row = (type: string, channel: string, counts: Record<string, number>) => ({
      type,
      channel,
      count: 0,
      completed: 0,
      pending: 0,
      failed: 0,
      reversed: 0,
      ...counts,
    });
    expect(report.transactions).toEqual([
      row("airtime", "app", { count: 1, failed: 1 }),
      row("deposit", "partner_api", { count: 3, completed: 3 }),
      row("payment", "app", { count: 2, completed: 1, reversed: 1 }),
      row("reversal", "admin", { count: 1, completed: 1 }),
      row("transfer", "app", { count: 1, completed: 1 }),
      row("transfer", "ussd", { count: 1, completed: 1 }),
      row("withdrawal", "app", { count: 2, completed: 1, pending: 1 }),
    ]);
    expect(report.ussd).toEqual([{ gateway: "at", sessions: 1, ended: 1 }]);
    // Every message queued today (sign-in codes, receipts), counted from the outbox itself.
    const [queued] = await queryRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from notification_outbox`,
    );
    const notified = report.notifications.reduce((sum: number, n: { count: number }) => sum + n.count, 0);
    expect(notified).toBe(queued!.n);
    expect(queued!.n).toBeGreaterThan(0);
    // No partner endpoint is registered: nothing to deliver.
    expect(report.webhooks).toEqual([]);
    expect(report.summary).toEqual({
      newUsers: 4,
      newVendors: 1,
      activeUsers: 4,
      activeVendors: 1,
      transactions: 11,
      failedTransactions: 1,
      ussdSessions: 1,
      notifications: queued!.n,
      notificationsFailed: 0,
      webhookDeliveries: 0,
      webhooksFailed: 0,
    });
    const { lines } = await csvOf(report.id);
    const total = pick(lines, "transactions", undefined, "count").reduce((s, l) => s + Number(l.count), 0);
    expect(total).toBe(report.summary.transactions);
    const failed = pick(lines, "transactions", undefined, "failed").reduce((s, l) => s + Number(l.count), 0);
    expect(failed).toBe(report.summary.failedTransactions);
    expect(pick(lines, "transactions", "transfer/ussd", "completed")[0]!.count).toBe("1");
    expect(pick(lines, "notifications").reduce((s, l) => s + Number(l.count), 0)).toBe(queued!.n);
  });
});

describe("compliance", () => {
  test("AML alerts opened, escalated and closed, matches, KYC decisions, transactions at or above the threshold", async () => {
    const report = await byType("compliance");
    expect(report.amlAlerts).toEqual({
      opened: [{ ruleType: "large_transaction", count: 2 }],
      escalated: 2,
      closed: [{ outcome: "false_positive", count: 1 }],
    });
    expect(report.sanctionsMatches).toEqual({ recorded: 0, cleared: 0, confirmed: 0 });
    expect(report.kyc).toEqual({ submitted: 0, inReview: 0, decisions: [] });
    // At or above E500.00: alice's E1,000 deposit, and bob's of exactly E500.
    expect(report.cashThreshold.threshold).toBe(50_000);
    expect(
      report.cashThreshold.transactions.map((x: { type: string; amount: number; payee: { id: string } }) => [
        x.type,
        x.amount,
        x.payee.id,
      ]),
    ).toEqual([
      ["deposit", 100_000, alice.id],
      ["deposit", 50_000, bob.id],
    ]);
    expect(report.summary).toEqual({
      alertsOpened: 2,
      alertsEscalated: 2,
      alertsClosed: 1,
      sanctionsMatches: 0,
      kycApproved: 0,
      kycRejected: 0,
      cashThresholdTransactions: 2,
      cashThresholdAmount: 150_000,
    });
    const { lines } = await csvOf(report.id);
    const large = pick(lines, "cash_threshold");
    expect(large).toHaveLength(report.summary.cashThresholdTransactions);
    expect(sumCents(large)).toBe(report.summary.cashThresholdAmount);
    expect(large.map((l) => l.amount)).toEqual(["E1,000.00", "E500.00"]);
    expect(pick(lines, "aml_alerts", "all", "escalated")[0]!.count).toBe("2");
  });
});

describe("days", () => {
  test("yesterday, before anything happened, is empty; it is what the job does with no ?date", async () => {
    const res = await runReportJob(t);
    expect(res.status).toBe(200);
    const yesterday = previousEswatiniDay(t.deps.now());
    expect(res.json.summary.date).toBe(yesterday);
    const list = await reportsOf(finance.token, `?type=financial&from=${yesterday}&to=${yesterday}`);
    const report = (await t.request("GET", `/admin/v1/reports/${list.json.data[0].id}`, { token: finance.token })).json;
    expect(report).toMatchObject({ date: yesterday, complete: true });
    expect(report.volumes).toEqual([]);
    expect(report.summary).toMatchObject({ transactions: 0, volume: 0, eMoneyOutstanding: 0, float: 0 });
  });

  test("generating the day again replaces its reports (same ids, new figures)", async () => {
    const before = (await reportsOf()).json.data;
    expect(before).toHaveLength(3);
    await kit.deposit(dave.phone, 1_000);
    const again = await runReportJob(t, `?date=${day}`);
    expect(again.status).toBe(200);
    const after = (await reportsOf()).json.data;
    expect(after).toHaveLength(3);
    expect(after.map((r: { id: string }) => r.id).sort()).toEqual(before.map((r: { id: string }) => r.id).sort());
    const report = await byType("financial");
    expect(report.volumes[0]).toMatchObject({ type: "deposit", count: 4, amount: 156_000 });
    expect(report.summary.volume).toBe(198_500);
    const stored = new TextDecoder().decode(await t.deps.storage.backups.read(`reports/${day}/financial.csv`));
    expect(reportLines(stored).find((l) => l.section === "volumes" && l.key === "deposit")!.amountCents).toBe(156_000);
  });

  test("a bad or future ?date is 400 and runs nothing", async () => {
    const runs = async () => (await t.deps.jobs.list({ name: "report-generation", limit: 100 })).data.length;
    const count = await runs();
    const tomorrow = eswatiniDay(new Date(t.deps.now().getTime() + 2 * 86_400_000));
    for (const date of ["2026-02-30", "yesterday", "2026-1-5", "20261105", tomorrow, ""]) {
      const res = await runReportJob(t, `?date=${encodeURIComponent(date)}`);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
    expect(await runs()).toBe(count);
    expect(await runReportJob(t, `?date=${day}`).then((r) => r.status)).toBe(200);
  });

  test("the list filters by type and day, newest day first, and pages", async () => {
    const all = (await reportsOf(finance.token, "")).json.data;
    expect(all).toHaveLength(6);
    expect(all.slice(0, 3).every((r: { date: string }) => r.date === day)).toBe(true);
    const first = await reportsOf(finance.token, "?limit=4");
    expect(first.json.data).toHaveLength(4);
    const rest = await reportsOf(finance.token, `?limit=4&cursor=${first.json.nextCursor}`);
    expect(rest.json.data).toHaveLength(2);
    expect(rest.json.nextCursor).toBeNull();
    const ids = [...first.json.data, ...rest.json.data].map((r: { id: string }) => r.id);
    expect(new Set(ids).size).toBe(6);
    const compliances = (await reportsOf(finance.token, "?type=compliance")).json.data;
    expect(compliances.map((r: { type: string }) => r.type)).toEqual(["compliance", "compliance"]);
    expect((await reportsOf(finance.token, "?type=weekly")).status).toBe(400);
    expect((await reportsOf(finance.token, "?from=2026-13-01")).status).toBe(400);
  });
});

describe("access", () => {
  test("finance and compliance read reports; support is 403; no token is 401; an unknown id is 404", async () => {
    const id = (await reportsOf()).json.data[0].id;
    expect((await reportsOf(compliance.token)).status).toBe(200);
    expect((await t.request("GET", `/admin/v1/reports/${id}`, { token: compliance.token })).status).toBe(200);
    expect((await reportsOf(support.token)).status).toBe(403);
    expect((await t.request("GET", `/admin/v1/reports/${id}`, { token: support.token })).status).toBe(403);
    expect((await t.request("GET", `/admin/v1/reports/${id}?format=csv`, { token: support.token })).status).toBe(403);
    expect((await t.request("GET", "/admin/v1/reports")).status).toBe(401);
    expect((await t.request("GET", "/admin/v1/reports/rpt_nothing", { token: finance.token })).status).toBe(404);
    const noSecret = await t.request("POST", "/report-jobs/generate");
    expect(noSecret.status).toBe(401);
  });

  test("the EFIU export at /admin/v1/reports/str still answers beside /admin/v1/reports/{id}", async () => {
    const res = await t.request("GET", `/admin/v1/reports/str?from=${day}&to=${day}T23:59:59Z`, {
      token: compliance.token,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/csv");
    expect(res.text).toStartWith("alert_id,rule,");
  });
});

describe("the day boundary", () => {
  test("the next day opens with today's closing balances and moves nothing (the clock two days on)", async () => {
    const realNow = t.deps.now;
    const next = eswatiniDay(new Date(realNow().getTime() + 86_400_000));
    // The job reads the day as begun by the app's clock; the admins' tokens do not outlive the move.
    t.deps.now = () => new Date(realNow().getTime() + 2 * 86_400_000);
    try {
      expect((await runReportJob(t, `?date=${next}`)).status).toBe(200);
    } finally {
      t.deps.now = realNow;
    }
    const list = await reportsOf(finance.token, `?type=financial&from=${next}&to=${next}`);
    const report = (await t.request("GET", `/admin/v1/reports/${list.json.data[0].id}`, { token: finance.token })).json;
    const today = await byType("financial");
    expect(report).toMatchObject({ date: next, complete: true });
    expect(report.volumes).toEqual([]);
    const opened = today.trialBalance.currencies[0].kinds.map((k: { kind: string; closing: number }) => ({
      kind: k.kind,
      opening: k.closing,
      debits: 0,
      credits: 0,
      closing: k.closing,
    }));
    expect(report.trialBalance.currencies[0].kinds).toMatchObject(opened);
    expect(report.eMoney).toEqual(today.eMoney);
  });
});
