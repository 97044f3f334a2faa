import type { Executor } from "../db/client";
import { formatAmount } from "../lib/money";
import { complianceRows, type DayRange, heldAtClose, operationalRows, trialBalanceRows, volumeRows } from "./queries";

/**
 * The three reports' bodies, built from the day's rows (queries.ts), and each body's CSV lines. Amounts are cents
 * (JSON integers); the CSV carries every figure as one line `section,key,metric,currency,count,amount_cents,amount`
 * with the amount also written for people ("E1,234.50"), so a spreadsheet can sum a column and get the JSON's total.
 */

export const REPORT_TYPES = ["financial", "operational", "compliance"] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

const WALLETS = ["user_wallet", "vendor_wallet"];
const FLOAT = "partner_settlement";

type Cents = number;
const cents = (value: bigint): Cents => Number(value);

export async function financialBody(tx: Executor, range: DayRange) {
  // One after another: the statements share the report's one transaction (and its snapshot).
  const balances = await trialBalanceRows(tx, range);
  const held = await heldAtClose(tx, range);
  const volumes = await volumeRows(tx, range);
  const currencies = [...new Set(balances.map((b) => b.currency))];
  const trialBalance = currencies.map((currency) => {
    const kinds = balances.filter((b) => b.currency === currency);
    const net = kinds.reduce((sum, k) => sum + k.closing, 0n);
    return {
      currency,
      balanced: net === 0n,
      net: cents(net),
      kinds: kinds.map((k) => ({
        kind: k.kind,
        accounts: k.accounts,
        opening: cents(k.opening),
        debits: cents(k.debits),
        credits: cents(k.credits),
        closing: cents(k.closing),
      })),
    };
  });
  const eMoney = currencies.map((currency) => {
    const closing = (kind: string) => balances.find((b) => b.currency === currency && b.kind === kind)?.closing ?? 0n;
    const userWallets = closing("user_wallet");
    const vendorWallets = closing("vendor_wallet");
    const outstanding = userWallets + vendorWallets;
    // Partners' settlement accounts go negative by what they deposited: the float backing the e-money.
    const float = -closing(FLOAT);
    const others = balances.filter((b) => b.currency === currency && ![...WALLETS, FLOAT].includes(b.kind));
    const explained = others.reduce((sum, k) => sum + k.closing, 0n);
    const difference = float - outstanding;
    return {
      currency,
      userWallets: cents(userWallets),
      vendorWallets: cents(vendorWallets),
      held: cents(
        held.filter((h) => h.currency === currency && WALLETS.includes(h.kind)).reduce((s, h) => s + h.held, 0n),
      ),
      outstanding: cents(outstanding),
      float: cents(float),
      difference: cents(difference),
      // What the float holds beyond the e-money: fees earned, withdrawals owed to agents, airtime and card clearing.
      explainedBy: others.map((k) => ({ kind: k.kind, balance: cents(k.closing) })),
      // Zero whenever the trial balance balances: the difference is exactly the other accounts' balances.
      unexplained: cents(difference - explained),
    };
  });
  const szl = eMoney.find((e) => e.currency === "SZL");
  const total = (pick: (v: (typeof volumes)[number]) => bigint) =>
    cents(volumes.filter((v) => v.currency === "SZL").reduce((sum, v) => sum + pick(v), 0n));
  const balanced = trialBalance.every((c) => c.balanced);
  return {
    summary: {
      currency: "SZL",
      balanced,
      transactions: volumes.filter((v) => v.currency === "SZL").reduce((sum, v) => sum + v.count, 0),
      volume: total((v) => v.amount),
      fees: total((v) => v.fees),
      feeRevenue: total((v) => v.feeRevenue),
      eMoneyOutstanding: szl?.outstanding ?? 0,
      float: szl?.float ?? 0,
      difference: szl?.difference ?? 0,
      unexplained: szl?.unexplained ?? 0,
    },
    trialBalance: { balanced, currencies: trialBalance },
    volumes: volumes.map((v) => ({
      type: v.type,
      currency: v.currency,
      count: v.count,
      amount: cents(v.amount),
      fees: cents(v.fees),
      feeRevenue: cents(v.feeRevenue),
    })),
    eMoney,
  };
}

export async function operationalBody(tx: Executor, range: DayRange) {
  const rows = await operationalRows(tx, range);
  const sum = <T>(items: T[], pick: (item: T) => number, where: (item: T) => boolean = () => true) =>
    items.filter(where).reduce((total, item) => total + pick(item), 0);
  return {
    summary: {
      ...rows.people,
      transactions: sum(rows.byType, (r) => r.count),
      failedTransactions: sum(rows.byType, (r) => r.failed),
      ussdSessions: sum(rows.ussd, (r) => r.sessions),
      notifications: sum(rows.notifications, (r) => r.count),
      notificationsFailed: sum(
        rows.notifications,
        (r) => r.count,
        (r) => r.status === "failed",
      ),
      webhookDeliveries: sum(rows.webhooks, (r) => r.count),
      webhooksFailed: sum(
        rows.webhooks,
        (r) => r.count,
        (r) => r.status === "failed",
      ),
    },
    people: rows.people,
    transactions: rows.byType,
    ussd: rows.ussd,
    notifications: rows.notifications,
    webhooks: rows.webhooks,
  };
}

export async function complianceBody(tx: Executor, range: DayRange, cashThreshold: number) {
  const rows = await complianceRows(tx, range, cashThreshold);
  const escalated = rows.events.filter((e) => e.action === "aml.alert.escalated").reduce((s, e) => s + e.count, 0);
  const closed = rows.events
    .filter((e) => e.action === "aml.alert.closed")
    .map((e) => ({ outcome: e.outcome ?? "unknown", count: e.count }));
  const decisions = rows.kyc.map((k) => ({ status: k.status, tier: k.tier, count: k.count }));
  const count = (status: string) => decisions.filter((d) => d.status === status).reduce((s, d) => s + d.count, 0);
  const large = rows.large.map((t) => ({
    id: t.id,
    type: t.type,
    status: t.status,
    amount: Number(t.amount),
    currency: t.currency,
    payer: { type: t.payer_type, id: t.payer_id },
    payee: { type: t.payee_type, id: t.payee_id },
    createdAt: new Date(t.created_at).toISOString(),
  }));
  const matches = {
    recorded: rows.matches?.recorded ?? 0,
    cleared: rows.matches?.cleared ?? 0,
    confirmed: rows.matches?.confirmed ?? 0,
  };
  return {
    summary: {
      alertsOpened: rows.opened.reduce((s, o) => s + o.count, 0),
      alertsEscalated: escalated,
      alertsClosed: closed.reduce((s, c) => s + c.count, 0),
      sanctionsMatches: matches.recorded,
      kycApproved: count("approved"),
      kycRejected: count("rejected"),
      cashThresholdTransactions: large.length,
      cashThresholdAmount: large.reduce((s, t) => s + t.amount, 0),
    },
    amlAlerts: { opened: rows.opened.map((o) => ({ ruleType: o.rule_type, count: o.count })), escalated, closed },
    sanctionsMatches: matches,
    kyc: { submitted: rows.submitted?.submitted ?? 0, inReview: rows.submitted?.in_review ?? 0, decisions },
    cashThreshold: { threshold: cashThreshold, transactions: large },
  };
}

export type FinancialBody = Awaited<ReturnType<typeof financialBody>>;
export type OperationalBody = Awaited<ReturnType<typeof operationalBody>>;
export type ComplianceBody = Awaited<ReturnType<typeof complianceBody>>;

export const CSV_HEADER = ["section", "key", "metric", "currency", "count", "amount_cents", "amount"] as const;

type Line = [
  section: string,
  key: string,
  metric: string,
  currency: string | null,
  count: number | null,
  amount?: number,
];

const money = (section: string, key: string, metric: string, currency: string, count: number | null, amount: number) =>
  [section, key, metric, currency, count, amount] as Line;
const tally = (section: string, key: string, metric: string, count: number): Line => [
  section,
  key,
  metric,
  null,
  count,
];

/** A body's figures as CSV rows (the header is CSV_HEADER). */
export function csvRows(type: ReportType, body: Record<string, unknown>): (string | number | null)[][] {
  const lines = linesOf(type, body);
  return lines.map(([section, key, metric, currency, count, amount]) => [
    section,
    key,
    metric,
    currency,
    count,
    amount ?? null,
    amount === undefined ? null : formatAmount(amount, currency ?? "SZL", { grouped: true }),
  ]);
}

function linesOf(type: ReportType, body: Record<string, unknown>): Line[] {
  if (type === "financial") {
    const b = body as unknown as FinancialBody;
    return [
      ...b.trialBalance.currencies.flatMap((c) => [
        ...c.kinds.flatMap((k) =>
          (["opening", "debits", "credits", "closing"] as const).map((metric) =>
            money("trial_balance", k.kind, metric, c.currency, k.accounts, k[metric]),
          ),
        ),
        money("trial_balance", "total", "net", c.currency, null, c.net),
      ]),
      ...b.volumes.flatMap((v) =>
        (["amount", "fees", "feeRevenue"] as const).map((metric) =>
          money("volumes", v.type, metric === "feeRevenue" ? "fee_revenue" : metric, v.currency, v.count, v[metric]),
        ),
      ),
      ...b.eMoney.flatMap((e) => [
        ...(["userWallets", "vendorWallets", "held", "outstanding", "float", "difference", "unexplained"] as const).map(
          (metric) =>
            money(
              "e_money",
              metric.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
              "balance",
              e.currency,
              null,
              e[metric],
            ),
        ),
        ...e.explainedBy.map((x) => money("e_money", "explained_by", x.kind, e.currency, null, x.balance)),
      ]),
    ];
  }
  if (type === "operational") {
    const b = body as unknown as OperationalBody;
    return [
      tally("users", "users", "new", b.people.newUsers),
      tally("users", "users", "active", b.people.activeUsers),
      tally("users", "vendors", "new", b.people.newVendors),
      tally("users", "vendors", "active", b.people.activeVendors),
      ...b.transactions.flatMap((t) =>
        (["count", "completed", "pending", "failed", "reversed"] as const).map((metric) =>
          tally("transactions", `${t.type}/${t.channel}`, metric, t[metric]),
        ),
      ),
      ...b.ussd.flatMap((u) => [
        tally("ussd", u.gateway, "sessions", u.sessions),
        tally("ussd", u.gateway, "ended", u.ended),
      ]),
      ...b.notifications.map((x) => tally("notifications", x.channel, x.status, x.count)),
      ...b.webhooks.flatMap((w) => [
        tally("webhooks", w.status, "deliveries", w.count),
        tally("webhooks", w.status, "attempts", w.attempts),
      ]),
    ];
  }
  const b = body as unknown as ComplianceBody;
  return [
    ...b.amlAlerts.opened.map((o) => tally("aml_alerts", o.ruleType, "opened", o.count)),
    tally("aml_alerts", "all", "escalated", b.amlAlerts.escalated),
    ...b.amlAlerts.closed.map((c) => tally("aml_alerts", c.outcome, "closed", c.count)),
    tally("sanctions_matches", "all", "recorded", b.sanctionsMatches.recorded),
    tally("sanctions_matches", "all", "cleared", b.sanctionsMatches.cleared),
    tally("sanctions_matches", "all", "confirmed", b.sanctionsMatches.confirmed),
    tally("kyc", "all", "submitted", b.kyc.submitted),
    tally("kyc", "all", "in_review", b.kyc.inReview),
    ...b.kyc.decisions.map((d) =>
      tally("kyc", d.tier === null ? d.status : `${d.status}/tier_${d.tier}`, "decided", d.count),
    ),
    ...b.cashThreshold.transactions.map((t) => money("cash_threshold", t.id, t.type, t.currency, 1, t.amount)),
  ];
}
