import { sql } from "drizzle-orm";
import type { Core } from "../core";
import { queryRows } from "../db/client";
import { eswatiniIso } from "../lib/clock";

export interface VolumeDay {
  /** The local day (Africa/Mbabane), "2026-11-26". */
  date: string;
  type: string;
  currency: string;
  count: number;
  /** Cents moved by completed transactions of the type that day. */
  amount: number;
  fees: number;
}

export interface Volume {
  from: string;
  to: string;
  days: VolumeDay[];
  /** Distinct users who paid or were paid (completed) today, and over the whole range. */
  activeUsers: { today: number; range: number };
}

/**
 * What the dashboard's overview charts: completed transactions' count, amount and fees per local day and type
 * over the last `days` local days (today included, so today's figures are partial), and active users. One
 * grouped scan of the range through transactions_type_created_idx; local days are UTC+2 (no daylight saving).
 */
export async function transactionVolume(deps: Pick<Core, "database" | "now">, days: number): Promise<Volume> {
  const today = eswatiniIso(deps.now()).slice(0, 10);
  // Local midnight after today, as an instant: the local day's date at 00:00 less the two hours of UTC+2.
  const to = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000 - 2 * 3_600_000);
  const from = new Date(to.getTime() - days * 86_400_000);
  const { db } = deps.database;
  const range = sql`created_at >= ${from.toISOString()}::timestamptz and created_at < ${to.toISOString()}::timestamptz and status = 'completed'`;
  const rows = await queryRows<{
    date: string;
    type: string;
    currency: string;
    count: string;
    amount: string;
    fees: string;
  }>(
    db,
    sql`select to_char(created_at at time zone 'UTC' + interval '2 hours', 'YYYY-MM-DD') as date, type, currency,
               count(*)::text as count, sum(amount)::text as amount, sum(fee)::text as fees
          from transactions where ${range}
         group by 1, 2, 3 order by 1, 2, 3`,
  );
  const todayFrom = new Date(to.getTime() - 86_400_000).toISOString();
  const [active] = await queryRows<{ today: string; range: string }>(
    db,
    sql`select count(distinct id) filter (where at >= ${todayFrom}::timestamptz)::text as today,
               count(distinct id)::text as range
          from (select payer_id as id, created_at as at from transactions where ${range} and payer_type = 'user'
                union all
                select payee_id, created_at from transactions where ${range} and payee_type = 'user') people`,
  );
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    days: rows.map((r) => ({
      date: r.date,
      type: r.type,
      currency: r.currency,
      count: Number(r.count),
      amount: Number(r.amount),
      fees: Number(r.fees),
    })),
    activeUsers: { today: Number(active?.today ?? 0), range: Number(active?.range ?? 0) },
  };
}
