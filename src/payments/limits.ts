import { sql } from "drizzle-orm";
import type { TierLimits } from "../config";
import { type Executor, queryRows } from "../db/client";
import { AppError } from "../http/errors";
import { usagePeriods } from "../lib/clock";
import type { PaymentsContext } from "./context";
import { type LimitsTable, limitsOfTier } from "./tier-limits";
import type { OutflowCharge, Plan, UserLike } from "./types";

/**
 * KYC tier limits and the daily and monthly usage counters every outflow from a user's wallet is charged
 * against: payments and transfers in their commit's statement (Plan.limits), withdrawals, airtime and card
 * fees through chargeOutflow. A "day" for limits is a local day (src/lib/clock.ts). The limits themselves are
 * compliance's settings (tier-limits.ts): callers take `c.tierLimits.current()`, held in memory, and await a
 * read only when that is missing or too old — never on a warm payment.
 */

export function tierLimits(table: LimitsTable, tier: number): TierLimits {
  const limits = limitsOfTier(table, tier);
  if (!limits) throw new AppError("INTERNAL", "No KYC limits are configured.");
  return limits;
}

/** Outflow limits of a user payer: per transaction now, daily and monthly inside the transaction. */
export function outflowLimits(
  { now }: Pick<PaymentsContext, "now">,
  table: LimitsTable,
  user: UserLike,
  outflow: bigint,
): Plan["limits"] {
  const limits = tierLimits(table, user.kycTier);
  if (outflow > BigInt(limits.perTransaction))
    throw new AppError("LIMIT_EXCEEDED", "This is more than one transaction may move at your KYC tier.", {
      limit: "perTransaction",
      max: limits.perTransaction,
    });
  const { day, month } = usagePeriods(now());
  return [
    { owner: user.id, period: day, amount: outflow.toString(), max: String(limits.daily), name: "daily" },
    { owner: user.id, period: month, amount: outflow.toString(), max: String(limits.monthly), name: "monthly" },
  ];
}

/**
 * KYC outflow limits for money leaving a user's wallet by another route (withdrawals, airtime, card
 * fees): the per-transaction limit now, then the same daily and monthly usage counters payments bump,
 * in the caller's `tx` — so every outflow counts once against one set of limits. Returns what it
 * charged, for `refundOutflow` when the money never leaves (a rejected withdrawal, a failed top-up).
 */
export async function chargeOutflow(
  c: Pick<PaymentsContext, "tierLimits" | "now">,
  user: Pick<UserLike, "id" | "kycTier">,
  outflow: bigint,
  tx: Executor,
): Promise<OutflowCharge[]> {
  const table = c.tierLimits.current() ?? (await c.tierLimits.load(tx));
  const limits = outflowLimits(c, table, user as UserLike, outflow);
  for (const limit of limits) {
    const [row] = await queryRows<{ total: string }>(
      tx,
      sql`insert into usage_counters as u (owner_id, period, total) values (${limit.owner}, ${limit.period}, ${limit.amount}::bigint)
            on conflict (owner_id, period) do update set total = u.total + excluded.total
            returning total::text as total`,
    );
    if (BigInt(row!.total) > BigInt(limit.max))
      throw new AppError("LIMIT_EXCEEDED", `This would exceed the ${limit.name} limit.`, { limit: limit.name });
  }
  return limits.map((l) => ({ period: l.period, amount: l.amount }));
}

/** Gives back what chargeOutflow took (in `tx`), so money that never left does not use up a limit. */
export async function refundOutflow(ownerId: string, charges: OutflowCharge[], tx: Executor): Promise<void> {
  for (const charge of charges)
    await tx.execute(
      sql`update usage_counters set total = greatest(0, total - ${charge.amount}::bigint)
             where owner_id = ${ownerId} and period = ${charge.period}`,
    );
}

/**
 * Gives back the usage an outflow of `amount` at `at` took from a user's limits (its day's and month's
 * counters), when the money came back: a reversed payment or transfer.
 */
export async function refundOutflowAt(ownerId: string, at: Date, amount: bigint, tx: Executor): Promise<void> {
  const { day, month } = usagePeriods(at);
  await refundOutflow(
    ownerId,
    [day, month].map((period) => ({ period, amount: amount.toString() })),
    tx,
  );
}
