import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client";

export interface VerifyReport {
  ok: boolean;
  journals: number;
  accounts: number;
  problems: { check: string; detail: Record<string, unknown> }[];
}

/**
 * Recomputes the ledger's invariants from the entries themselves. Each check is a query whose rows
 * are problems; at most 50 of each kind are reported.
 */
const CHECKS: { check: string; query: ReturnType<typeof sql> }[] = [
  {
    check: "journal_unbalanced",
    query: sql`select journal_id, currency, sum(amount)::text as sum from ledger_entries
                group by journal_id, currency having sum(amount) <> 0 limit 50`,
  },
  {
    check: "journal_too_few_entries",
    query: sql`select j.id as journal_id, count(e.id)::int as entries from ledger_journals j
                left join ledger_entries e on e.journal_id = j.id group by j.id having count(e.id) < 2 limit 50`,
  },
  {
    check: "balance_mismatch",
    query: sql`select b.account_id, b.shard, b.balance::text as stored, coalesce(e.total, 0)::text as entries
                 from ledger_balances b
                 left join (select account_id, shard, sum(amount) as total from ledger_entries group by 1, 2) e
                   on e.account_id = b.account_id and e.shard = b.shard
                where b.balance <> coalesce(e.total, 0) limit 50`,
  },
  {
    check: "entry_without_balance_row",
    query: sql`select e.account_id, e.shard from ledger_entries e
                left join ledger_balances b on b.account_id = e.account_id and b.shard = e.shard
                where b.account_id is null group by 1, 2 limit 50`,
  },
  {
    check: "running_balance_mismatch",
    query: sql`select id::text as entry_id, account_id, shard, balance_after::text, running::text from (
                 select id, account_id, shard, balance_after,
                        sum(amount) over (partition by account_id, shard order by id) as running
                   from ledger_entries) r
                where balance_after <> running limit 50`,
  },
  {
    check: "guarded_negative",
    query: sql`select account_id, shard, balance::text, held::text from ledger_balances
                where guarded and (balance < 0 or balance - held < 0) limit 50`,
  },
  {
    check: "held_mismatch",
    query: sql`select b.account_id, b.shard, b.held::text as stored, coalesce(h.total, 0)::text as pending_holds
                 from ledger_balances b
                 left join (select account_id, (a ->> 'shard')::smallint as shard, sum((a ->> 'amount')::bigint) as total
                              from ledger_holds, jsonb_array_elements(allocations) a
                             where status = 'pending' group by 1, 2) h
                   on h.account_id = b.account_id and h.shard = b.shard
                where b.held <> coalesce(h.total, 0) limit 50`,
  },
  {
    check: "hold_resolved_twice",
    query: sql`select hold_id, count(*)::int as journals from ledger_journals where hold_id is not null
                group by hold_id having count(*) > 1 limit 50`,
  },
  {
    check: "hold_state_inconsistent",
    query: sql`select h.id as hold_id, h.status, h.journal_id from ledger_holds h
                left join ledger_journals j on j.hold_id = h.id
                where (h.status = 'posted') <> (j.id is not null)
                   or (h.status = 'posted' and (h.journal_id is distinct from j.id or h.posted_amount > h.amount))
                   or (h.status <> 'pending' and h.resolved_at is null) limit 50`,
  },
  {
    check: "reversal_mismatch",
    query: sql`select r.id as journal_id, r.reversal_of from ledger_journals r
                where r.reversal_of is not null and exists (
                  select account_id, sum(amount) from (
                    select account_id, amount from ledger_entries where journal_id = r.id
                    union all select account_id, amount from ledger_entries where journal_id = r.reversal_of) x
                  group by account_id having sum(amount) <> 0) limit 50`,
  },
];

export async function verifyLedger(db: Pick<Db, "execute">): Promise<VerifyReport> {
  const problems: VerifyReport["problems"] = [];
  for (const { check, query } of CHECKS) {
    for (const detail of await queryRows<Record<string, unknown>>(db, query)) problems.push({ check, detail });
  }
  const [counts] = await queryRows<{ journals: number; accounts: number }>(
    db,
    sql`select (select count(*) from ledger_journals)::int as journals, (select count(*) from ledger_accounts)::int as accounts`,
  );
  return { ok: problems.length === 0, journals: counts!.journals, accounts: counts!.accounts, problems };
}
