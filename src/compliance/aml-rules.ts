import { z } from "zod";

/**
 * The AML rules of COMPLIANCE.md §3 as data: each rule is a type and its parameters (amounts in cents), stored in
 * `aml_rules` and edited by compliance admins; this file holds each type's parameter schema, the defaults, and
 * the evaluation — pure functions of one transaction and the subject's recent history, so they are tested
 * without a database and the monitor (aml-monitor.ts) only gathers what they read.
 */

export const RULE_TYPES = [
  "large_transaction",
  "aggregate",
  "velocity",
  "structuring",
  "rapid_in_out",
  "dormant_reactivation",
  "round_amounts",
  "sanctions",
] as const;
export type RuleType = (typeof RULE_TYPES)[number];

/** Whose side of a transaction a rule looks at: money leaving the subject, arriving, or both. */
const direction = z.enum(["out", "in", "any"]);
export type Direction = z.infer<typeof direction>;

const cents = z.number().int().min(1).max(1_000_000_000_000);
const hours = z
  .number()
  .int()
  .min(1)
  .max(24 * 90);
const count = z.number().int().min(1).max(100_000);

/** Null: the cash-threshold amount (KESHLESS_AML_CASH_THRESHOLD), which follows the variable when it changes. */
const thresholdOrConfig = cents.nullable();

export const PARAMS = {
  large_transaction: z.strictObject({ minAmount: thresholdOrConfig, direction }),
  aggregate: z.strictObject({ windowDays: z.number().int().min(1).max(90), minAmount: cents, direction }),
  velocity: z.strictObject({
    measure: z.enum(["count", "counterparties"]),
    windowHours: hours,
    /** A hit is more than this many in the window. */
    maxCount: count,
    direction,
  }),
  structuring: z.strictObject({
    threshold: thresholdOrConfig,
    /** Amounts in [threshold − margin, threshold) count. */
    margin: cents,
    minCount: z.number().int().min(2).max(1000),
    windowHours: hours,
    direction,
  }),
  rapid_in_out: z.strictObject({
    windowHours: hours,
    /** What must have come in within the window for its leaving to matter. */
    minAmount: cents,
    /** The share of it that left again. */
    minShare: z.number().min(0.01).max(1),
  }),
  dormant_reactivation: z.strictObject({
    idleDays: z.number().int().min(1).max(3650),
    minAmount: cents,
    direction,
  }),
  round_amounts: z.strictObject({
    /** An amount that is a multiple of this is round (100000: whole E1,000s). */
    unit: cents,
    minAmount: cents,
    minCount: count,
    windowHours: hours,
    direction,
  }),
  // Opened by the sanctions side (a match recorded or confirmed), not by the monitor.
  sanctions: z.strictObject({}),
} satisfies Record<RuleType, z.ZodType>;

export type RuleParams = { [K in RuleType]: z.infer<(typeof PARAMS)[K]> };

export type Rule = {
  [K in RuleType]: { id: string; type: K; name: string; enabled: boolean; priority: number; params: RuleParams[K] };
}[RuleType];

/** Parameters for `type`, or the issues (paths under `params`); a structuring margin must fit under its threshold. */
export function parseParams(
  type: RuleType,
  params: unknown,
  cashThreshold: number,
): { ok: true; params: Record<string, unknown> } | { ok: false; issues: { path: string; message: string }[] } {
  const parsed = PARAMS[type].safeParse(params);
  if (!parsed.success)
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({ path: ["params", ...i.path].join("."), message: i.message })),
    };
  const value = parsed.data as Record<string, unknown>;
  if (type === "structuring") {
    const p = value as RuleParams["structuring"];
    if (p.margin >= (p.threshold ?? cashThreshold))
      return { ok: false, issues: [{ path: "params.margin", message: "must be below the threshold" }] };
  }
  return { ok: true, params: value };
}

type Default = { [K in RuleType]: Omit<Extract<Rule, { type: K }>, "enabled"> }[RuleType];

/** The rules a new system starts with (E = SZL; amounts in cents). Tuned by compliance admins afterwards. */
export const DEFAULT_RULES: Default[] = [
  {
    id: "large_transaction",
    type: "large_transaction",
    name: "Large single transaction (at or above the cash threshold)",
    priority: 3,
    params: { minAmount: null, direction: "any" },
  },
  {
    id: "daily_aggregate",
    type: "aggregate",
    name: "Daily aggregate above E50,000",
    priority: 2,
    params: { windowDays: 1, minAmount: 5_000_000, direction: "any" },
  },
  {
    id: "weekly_aggregate",
    type: "aggregate",
    name: "7-day aggregate above E150,000",
    priority: 2,
    params: { windowDays: 7, minAmount: 15_000_000, direction: "any" },
  },
  {
    id: "velocity_count",
    type: "velocity",
    name: "More than 10 outgoing transactions in an hour",
    priority: 2,
    params: { measure: "count", windowHours: 1, maxCount: 10, direction: "out" },
  },
  {
    id: "velocity_counterparties",
    type: "velocity",
    name: "More than 10 distinct recipients in 24 hours",
    priority: 2,
    params: { measure: "counterparties", windowHours: 24, maxCount: 10, direction: "out" },
  },
  {
    id: "structuring",
    type: "structuring",
    name: "Structuring: 3 or more just under the cash threshold in 24 hours",
    priority: 4,
    params: { threshold: null, margin: 50_000, minCount: 3, windowHours: 24, direction: "any" },
  },
  {
    id: "rapid_in_out",
    type: "rapid_in_out",
    name: "Rapid in-out: 90 % of E5,000 or more received leaves within 48 hours",
    priority: 3,
    params: { windowHours: 48, minAmount: 500_000, minShare: 0.9 },
  },
  {
    id: "dormant_reactivation",
    type: "dormant_reactivation",
    name: "Dormant 90 days, then E2,000 or more",
    priority: 2,
    params: { idleDays: 90, minAmount: 200_000, direction: "any" },
  },
  {
    id: "round_amounts",
    type: "round_amounts",
    name: "3 or more outgoing round amounts (whole E1,000s) in 24 hours",
    priority: 1,
    params: { unit: 100_000, minAmount: 100_000, minCount: 3, windowHours: 24, direction: "out" },
  },
  {
    id: "sanctions_match",
    type: "sanctions",
    name: "Sanctions list match (recorded or confirmed)",
    priority: 5,
    params: {},
  },
];

// ------------------------------------------------------------------ evaluation

/** One transaction from the subject's side: `out` when they paid, `in` when they were paid. */
export interface Movement {
  id: string;
  /** Microseconds since the epoch (the column's precision): windows and order are exact. */
  us: number;
  amount: number;
  dir: "out" | "in";
  /** The other party, `type:id`. */
  counterparty: string;
}

export interface Hit {
  /** The transactions the hit rests on (the one evaluated among them). */
  transactionIds: string[];
  details: Record<string, unknown>;
}

export interface EvaluationContext {
  cashThreshold: number;
  /** The subject's last completed transaction before the loaded history, when a rule needs it (dormancy). */
  lastBefore?: number | undefined;
}

const HOUR_US = 3_600_000_000;
const DAY_US = 24 * HOUR_US;

/** Longest look-back a rule needs of the subject's history, in microseconds (dormancy asks separately). */
export function lookBackUs(rule: Rule): number {
  switch (rule.type) {
    case "aggregate":
      return rule.params.windowDays * DAY_US;
    case "velocity":
    case "structuring":
    case "rapid_in_out":
    case "round_amounts":
      return rule.params.windowHours * HOUR_US;
    default:
      return 0;
  }
}

/** Does the rule look at `dir` (a rule without a direction looks at what its type says)? */
export function appliesTo(rule: Rule, dir: Movement["dir"]): boolean {
  if (rule.type === "sanctions") return false;
  if (rule.type === "rapid_in_out") return dir === "out";
  return rule.params.direction === "any" || rule.params.direction === dir;
}

const inDirection = (d: Direction) => (m: Movement) => d === "any" || m.dir === d;
const ids = (ms: Movement[]) => ms.map((m) => m.id);
const sum = (ms: Movement[]) => ms.reduce((total, m) => total + m.amount, 0);

/**
 * Evaluates `rule` on `current`, given the subject's `history`: their completed movements up to and including
 * `current`, oldest first. A hit names the transactions it rests on.
 */
export function evaluate(
  rule: Rule,
  current: Movement,
  history: readonly Movement[],
  ctx: EvaluationContext,
): Hit | undefined {
  if (!appliesTo(rule, current.dir)) return undefined;
  // From the end back: a busy vendor's history is long, a window is short.
  const within = (windowUs: number, d: Direction) => {
    const from = current.us - windowUs;
    const window: Movement[] = [];
    for (let i = history.length - 1; i >= 0 && history[i]!.us > from; i--)
      if (inDirection(d)(history[i]!)) window.push(history[i]!);
    return window.reverse();
  };
  switch (rule.type) {
    case "large_transaction": {
      const min = rule.params.minAmount ?? ctx.cashThreshold;
      if (current.amount < min) return undefined;
      return { transactionIds: [current.id], details: { amount: current.amount, minAmount: min } };
    }
    case "aggregate": {
      const { windowDays, minAmount, direction } = rule.params;
      const window = within(windowDays * DAY_US, direction);
      const total = sum(window);
      if (total < minAmount) return undefined;
      return { transactionIds: ids(window), details: { total, minAmount, windowDays, count: window.length } };
    }
    case "velocity": {
      const { measure, windowHours, maxCount, direction } = rule.params;
      const window = within(windowHours * HOUR_US, direction);
      const measured = measure === "count" ? window.length : new Set(window.map((m) => m.counterparty)).size;
      if (measured <= maxCount) return undefined;
      return { transactionIds: ids(window), details: { measure, [measure]: measured, maxCount, windowHours } };
    }
    case "structuring": {
      const { margin, minCount, windowHours, direction } = rule.params;
      const threshold = rule.params.threshold ?? ctx.cashThreshold;
      const under = (m: Movement) => m.amount >= threshold - margin && m.amount < threshold;
      if (!under(current)) return undefined;
      const window = within(windowHours * HOUR_US, direction).filter(under);
      if (window.length < minCount) return undefined;
      return {
        transactionIds: ids(window),
        details: { count: window.length, threshold, margin, windowHours, total: sum(window) },
      };
    }
    case "round_amounts": {
      const { unit, minAmount, minCount, windowHours, direction } = rule.params;
      const round = (m: Movement) => m.amount >= minAmount && m.amount % unit === 0;
      if (!round(current)) return undefined;
      const window = within(windowHours * HOUR_US, direction).filter(round);
      if (window.length < minCount) return undefined;
      return { transactionIds: ids(window), details: { count: window.length, unit, windowHours } };
    }
    case "rapid_in_out": {
      const { windowHours, minAmount, minShare } = rule.params;
      const window = within(windowHours * HOUR_US, "any");
      const inflows = window.filter((m) => m.dir === "in");
      const received = sum(inflows);
      if (received < minAmount) return undefined;
      // What left after the first of those arrived: money that was passing through.
      const outflows = window.filter((m) => m.dir === "out" && m.us >= inflows[0]!.us);
      const sent = sum(outflows);
      if (sent < minShare * received) return undefined;
      return {
        transactionIds: ids([...inflows, ...outflows]),
        details: { received, sent, share: Math.round((sent / received) * 1000) / 1000, windowHours },
      };
    }
    case "dormant_reactivation": {
      const { idleDays, minAmount } = rule.params;
      if (current.amount < minAmount) return undefined;
      const earlier = history.findLast((m) => m.us < current.us || (m.us === current.us && m.id < current.id));
      const previous = earlier?.us ?? ctx.lastBefore;
      // A first transaction ever is a new account, not a dormant one.
      if (previous === undefined || current.us - previous < idleDays * DAY_US) return undefined;
      return {
        transactionIds: [current.id],
        details: { amount: current.amount, idleDays: Math.floor((current.us - previous) / DAY_US) },
      };
    }
    case "sanctions":
      return undefined;
  }
}
