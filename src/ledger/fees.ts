import type { FeeRule, FeeSchedule } from "../config";

export interface Fee {
  fee: bigint;
  bearer: FeeRule["bearer"];
}

/**
 * flat + amount × bps / 10 000, rounded half up, clamped to [min, max]. Integer arithmetic only.
 * A transaction type with no rule is free, borne by the sender.
 */
export function computeFee(schedule: FeeSchedule, type: string, amount: bigint): Fee {
  const rule = schedule[type];
  if (!rule) return { fee: 0n, bearer: "sender" };
  let fee = BigInt(rule.flat) + (amount * BigInt(rule.bps) + 5_000n) / 10_000n;
  if (fee < BigInt(rule.min)) fee = BigInt(rule.min);
  if (rule.max !== null && fee > BigInt(rule.max)) fee = BigInt(rule.max);
  // A receiver-borne fee can never exceed what is received.
  if (rule.bearer === "receiver" && fee > amount) fee = amount;
  return { fee, bearer: rule.bearer };
}
