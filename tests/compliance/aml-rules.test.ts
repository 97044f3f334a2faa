import { describe, expect, test } from "bun:test";
import { DEFAULT_RULES, evaluate, type Movement, parseParams, type Rule } from "../../src/compliance/aml-rules";

/** Each rule type of COMPLIANCE.md §3 on hand-made histories: when it hits, on what evidence, and when it does not. */

const HOUR = 3_600_000_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 10) * 1000;
const ctx = { cashThreshold: 500_000 };
let n = 0;
const m = (at: number, amount: number, dir: Movement["dir"] = "out", counterparty = "user:usr_b"): Movement => ({
  id: `txn_${String(++n).padStart(4, "0")}`,
  us: T0 + at,
  amount,
  dir,
  counterparty,
});

const rule = (id: string, params: Record<string, unknown> = {}): Rule => {
  const r = DEFAULT_RULES.find((d) => d.id === id)!;
  return { ...r, enabled: true, params: { ...r.params, ...params } } as Rule;
};

/** Evaluates the last movement of `history`, as the monitor does each one in turn. */
const last = (r: Rule, history: Movement[], extra = {}) => evaluate(r, history.at(-1)!, history, { ...ctx, ...extra });

describe("AML rules", () => {
  test("large single transaction: at or above the cash threshold (or the rule's own amount), either direction", () => {
    expect(last(rule("large_transaction"), [m(0, 499_999)])).toBeUndefined();
    const hit = last(rule("large_transaction"), [m(0, 500_000, "in")]);
    expect(hit).toMatchObject({ details: { minAmount: 500_000 } });
    expect(hit!.transactionIds).toHaveLength(1);
    expect(last(rule("large_transaction", { minAmount: 100_000 }), [m(0, 100_000)])).toBeDefined();
    expect(last(rule("large_transaction", { direction: "in" }), [m(0, 900_000, "out")])).toBeUndefined();
  });

  test("aggregate: the sum over the window, sliding", () => {
    const daily = rule("daily_aggregate", { minAmount: 1_000_000 });
    const h = [m(0, 400_000), m(HOUR, 400_000, "in"), m(2 * HOUR, 199_999)];
    expect(last(daily, h)).toBeUndefined();
    const hit = last(daily, [...h, m(3 * HOUR, 1)]);
    expect(hit!.transactionIds).toHaveLength(4);
    expect(hit!.details).toMatchObject({ total: 1_000_000, windowDays: 1 });
    // A day later the first ones have left the window.
    expect(last(daily, [...h, m(DAY + HOUR, 500_000)])).toBeUndefined();
    expect(last(rule("weekly_aggregate", { minAmount: 1_000_000 }), [...h, m(6 * DAY, 200_001)])).toBeDefined();
  });

  test("velocity: more than maxCount transactions, or distinct counterparties, in the window", () => {
    const byCount = rule("velocity_count", { maxCount: 3 });
    const four = [0, 1, 2, 3].map((i) => m(i * 60_000_000, 100));
    expect(last(byCount, four.slice(0, 3))).toBeUndefined();
    expect(last(byCount, four)!.transactionIds).toEqual(four.map((x) => x.id));
    // Incoming money is not the sender's velocity.
    expect(last(byCount, [...four.slice(0, 3), m(5 * 60_000_000, 100, "in")])).toBeUndefined();
    expect(last(byCount, [four[0]!, ...four.slice(1).map((x) => ({ ...x, us: x.us + HOUR }))])).toBeUndefined();

    const byParty = rule("velocity_counterparties", { maxCount: 2 });
    const same = [m(0, 100), m(1, 100), m(2, 100)];
    expect(last(byParty, same)).toBeUndefined();
    const spread = [m(0, 100, "out", "user:a"), m(1, 100, "out", "user:b"), m(2, 100, "out", "vendor:c")];
    expect(last(byParty, spread)!.details).toMatchObject({ counterparties: 3 });
  });

  test("structuring: at least minCount in [threshold − margin, threshold) within the window, the current one among them", () => {
    const s = rule("structuring");
    const h = [m(0, 480_000), m(HOUR, 200_000), m(2 * HOUR, 450_000), m(3 * HOUR, 499_999)];
    const hit = last(s, h);
    expect(hit!.transactionIds).toEqual([h[0]!.id, h[2]!.id, h[3]!.id]);
    expect(hit!.details).toMatchObject({ count: 3, threshold: 500_000, total: 1_429_999 });
    // At the threshold is a large transaction, not structuring; below the band is neither.
    expect(last(s, [...h.slice(0, 3), m(3 * HOUR, 500_000)])).toBeUndefined();
    expect(last(s, [...h.slice(0, 3), m(3 * HOUR, 449_999)])).toBeUndefined();
    // Outside 24 h they do not add up.
    expect(last(s, [h[0]!, h[2]!, m(DAY + HOUR, 490_000)])).toBeUndefined();
    // The rule's own threshold instead of the configured one.
    expect(
      last(
        rule("structuring", { threshold: 100_000, margin: 10_000 }),
        [0, 1, 2].map((i) => m(i, 95_000)),
      ),
    ).toBeDefined();
  });

  test("rapid in-out: most of what came in leaves again within the window", () => {
    const r = rule("rapid_in_out");
    const inflow = m(0, 1_000_000, "in");
    expect(last(r, [inflow, m(HOUR, 500_000), m(2 * HOUR, 399_999)])).toBeUndefined();
    const hit = last(r, [inflow, m(HOUR, 500_000), m(2 * HOUR, 400_000)]);
    expect(hit!.transactionIds).toHaveLength(3);
    expect(hit!.details).toMatchObject({ received: 1_000_000, sent: 900_000, share: 0.9 });
    // Money that left before it came in, or after the window, is not passing through.
    expect(last(r, [m(0, 900_000), m(HOUR, 1_000_000, "in"), m(2 * HOUR, 10)])).toBeUndefined();
    expect(last(r, [inflow, m(49 * HOUR, 950_000)])).toBeUndefined();
    // An incoming transaction is never the hit.
    expect(last(r, [m(0, 900_000), m(HOUR, 1_000_000, "in")])).toBeUndefined();
    // Too little came in to matter.
    expect(last(r, [m(0, 100_000, "in"), m(HOUR, 100_000)])).toBeUndefined();
  });

  test("dormant reactivation: idle for idleDays, then at least minAmount; a first transaction is not dormancy", () => {
    const r = rule("dormant_reactivation");
    expect(last(r, [m(0, 900_000)])).toBeUndefined();
    expect(last(r, [m(0, 100), m(91 * DAY, 200_000)])!.details).toMatchObject({ idleDays: 91 });
    expect(last(r, [m(0, 100), m(89 * DAY, 200_000)])).toBeUndefined();
    expect(last(r, [m(91 * DAY, 199_999)], { lastBefore: T0 })).toBeUndefined();
    // The activity before the loaded history counts, when the monitor found one.
    expect(last(r, [m(91 * DAY, 200_000)], { lastBefore: T0 })).toBeDefined();
  });

  test("round amounts: minCount multiples of the unit at or above minAmount within the window", () => {
    const r = rule("round_amounts");
    const h = [m(0, 100_000), m(HOUR, 250_000), m(2 * HOUR, 300_000), m(3 * HOUR, 50_000)];
    expect(last(r, h)).toBeUndefined();
    const hit = last(r, [...h, m(4 * HOUR, 1_000_000)]);
    expect(hit!.transactionIds).toEqual([h[0]!.id, h[2]!.id, `txn_${String(n).padStart(4, "0")}`]);
  });

  test("a sanctions rule never fires on a transaction: the sanctions side raises it", () => {
    expect(last(rule("sanctions_match"), [m(0, 900_000)])).toBeUndefined();
  });

  test("parameters are validated against the rule's type, strictly", () => {
    expect(
      parseParams(
        "structuring",
        { threshold: null, margin: 50_000, minCount: 3, windowHours: 24, direction: "any" },
        500_000,
      ).ok,
    ).toBe(true);
    const tooWide = parseParams(
      "structuring",
      { threshold: null, margin: 500_000, minCount: 3, windowHours: 24, direction: "any" },
      500_000,
    );
    expect(tooWide).toEqual({ ok: false, issues: [{ path: "params.margin", message: "must be below the threshold" }] });
    const bad = parseParams(
      "velocity",
      { measure: "speed", windowHours: 0, maxCount: 3, direction: "out", extra: 1 },
      1,
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.issues.map((i) => i.path).sort()).toEqual(["params", "params.measure", "params.windowHours"]);
    expect(parseParams("aggregate", { windowDays: 1, minAmount: 1.5, direction: "any" }, 1).ok).toBe(false);
    for (const d of DEFAULT_RULES) expect(parseParams(d.type, d.params, 500_000).ok).toBe(true);
  });
});
