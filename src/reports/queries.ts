import { type SQL, sql } from "drizzle-orm";
import { auditLog } from "../audit/schema";
import { amlAlerts, sanctionsMatches } from "../compliance/schema";
import { type Executor, queryRows } from "../db/client";
import { idempotencyKeys } from "../http/idempotency";
import { users, vendors } from "../identity/schema";
import { kycSubmissions } from "../kyc/schema";
import { ledgerAccounts, ledgerBalances, ledgerEntries, ledgerHolds, ledgerJournals } from "../ledger/schema";
import { notificationOutbox } from "../notifications/schema";
import { transactions } from "../payments/schema";
import { ussdSessions } from "../ussd/schema";
import { webhookDeliveries } from "../webhooks/schema";

/**
 * The reports' SQL: every figure is counted from the ledger's entries and journals, the transaction rows and the
 * other modules' own records (read through their schema.ts), never from a running counter that could drift.
 * Each function reads one local day, [from, to), in the caller's (one, repeatable-read) transaction.
 */

export interface DayRange {
  from: Date;
  to: Date;
}

const at = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const within = (column: SQL, range: DayRange) => sql`${column} >= ${at(range.from)} and ${column} < ${at(range.to)}`;
const n = (value: string | number | null | undefined) => Number(value ?? 0);

/** Longer than any transaction runs: a journal dated before the day cannot have written an entry inside it later. */
const JOURNAL_MARGIN_MS = 3_600_000;

/**
 * The trial balance per currency and account kind: the balance at the day's start (opening), what the day's
 * entries debited and credited, and the balance at its end (closing). Entries are signed (positive credits).
 *
 * Read from the entries without summing the whole history: a shard's balance at an instant is `balance_after` of
 * its last entry before it (shard rows are locked while an entry is written, so a shard's entries are in id and
 * time order alike; ledger:verify checks every running balance), found backwards on the (account, shard, id)
 * index; the day's entries are found through its journals (created_at index).
 */
export async function trialBalanceRows(tx: Executor, range: DayRange) {
  const balanceAt = (instant: Date) =>
    sql`coalesce((select e.balance_after from ${ledgerEntries} e
                   where e.account_id = b.account_id and e.shard = b.shard and e.created_at < ${at(instant)}
                   order by e.id desc limit 1), 0)`;
  const rows = await queryRows<{
    currency: string;
    kind: string;
    accounts: number;
    opening: string;
    debits: string;
    credits: string;
    closing: string;
  }>(
    tx,
    sql`with balances as (
          select b.account_id, sum(${balanceAt(range.from)}) as opening, sum(${balanceAt(range.to)}) as closing
            from ${ledgerBalances} b group by b.account_id),
        moved as (
          select e.account_id, coalesce(-sum(e.amount) filter (where e.amount < 0), 0) as debits,
                 coalesce(sum(e.amount) filter (where e.amount > 0), 0) as credits
            from ${ledgerJournals} j join ${ledgerEntries} e on e.journal_id = j.id
           where ${within(sql`j.created_at`, { from: new Date(range.from.getTime() - JOURNAL_MARGIN_MS), to: range.to })}
             and ${within(sql`e.created_at`, range)}
           group by e.account_id)
        select a.currency, a.kind, count(*)::int as accounts,
               coalesce(sum(h.opening), 0)::text as opening, coalesce(sum(m.debits), 0)::text as debits,
               coalesce(sum(m.credits), 0)::text as credits, coalesce(sum(h.closing), 0)::text as closing
          from ${ledgerAccounts} a
          join balances h on h.account_id = a.id
          left join moved m on m.account_id = a.id
         where a.created_at < ${at(range.to)}
         group by a.currency, a.kind
         order by a.currency, a.kind`,
  );
  return rows.map((r) => ({
    currency: r.currency,
    kind: r.kind,
    accounts: r.accounts,
    opening: BigInt(r.opening),
    debits: BigInt(r.debits),
    credits: BigInt(r.credits),
    closing: BigInt(r.closing),
  }));
}

/** What pending holds reserved on each kind of account at the day's end (still in the balance, not yet spendable). */
export async function heldAtClose(tx: Executor, range: DayRange) {
  const rows = await queryRows<{ currency: string; kind: string; held: string }>(
    tx,
    sql`select a.currency, a.kind, coalesce(sum(h.amount), 0)::text as held
          from ${ledgerHolds} h join ${ledgerAccounts} a on a.id = h.account_id
         where h.created_at < ${at(range.to)} and (h.resolved_at is null or h.resolved_at >= ${at(range.to)})
         group by a.currency, a.kind`,
  );
  return rows.map((r) => ({ currency: r.currency, kind: r.kind, held: BigInt(r.held) }));
}

/**
 * Money moved in the day by transaction type: every journal the ledger wrote in it (a held withdrawal counts on
 * the day it was posted), with its transaction's amount and fee — a reversal's fee is the one it gave back, so it
 * counts negative and the fees reconcile with the ledger — and what the journal itself moved on the fee revenue
 * account. A journal with no transaction row is listed by its
 * ledger kind, so nothing that moved money is left out.
 */
export async function volumeRows(tx: Executor, range: DayRange) {
  const rows = await queryRows<{
    type: string;
    currency: string;
    count: number;
    amount: string;
    fees: string;
    fee_revenue: string;
  }>(
    tx,
    sql`select coalesce(t.type, 'journal:' || j.kind) as type, coalesce(t.currency, f.currency, 'SZL') as currency,
               count(*)::int as count, coalesce(sum(t.amount), 0)::text as amount, coalesce(sum(case when t.type = 'reversal' then -t.fee else t.fee end), 0)::text as fees,
               coalesce(sum(f.fee_revenue), 0)::text as fee_revenue
          from ${ledgerJournals} j
          left join ${transactions} t on t.id = j.id
          left join lateral (
                select min(e.currency) as currency,
                       sum(e.amount) filter (where a.kind = 'fee_revenue') as fee_revenue
                  from ${ledgerEntries} e join ${ledgerAccounts} a on a.id = e.account_id
                 where e.journal_id = j.id) f on true
         where ${within(sql`j.created_at`, range)}
         group by 1, 2
         order by 1, 2`,
  );
  return rows.map((r) => ({
    type: r.type,
    currency: r.currency,
    count: r.count,
    amount: BigInt(r.amount),
    fees: BigInt(r.fees),
    feeRevenue: BigInt(r.fee_revenue),
  }));
}

/**
 * The channel a transaction came through, from the idempotency record its request stored (in the same database
 * transaction, kept 7 days): `ussd:<gateway>` is the USSD menus, `user:`/`vendor:` the apps, `partner:` the partner
 * API, `admin:` the dashboard. Without one (older than a week, or written by an approval), its type says:
 * deposits come from partners, reversals from admins; anything else is `unknown`. Keys are matched within an
 * hour of the day, on their created_at index.
 */
function channelJoin(range: DayRange) {
  const margin = 3_600_000;
  return sql`left join (
      select distinct on (k.body ->> 'id') k.body ->> 'id' as id, split_part(k.scope, ':', 1) as via
        from ${idempotencyKeys} k
       where jsonb_typeof(k.body) = 'object'
         and ${within(sql`k.created_at`, { from: new Date(range.from.getTime() - margin), to: new Date(range.to.getTime() + margin) })}
       order by k.body ->> 'id', k.created_at) k on k.id = t.id`;
}

const CHANNEL = sql`case k.via when 'ussd' then 'ussd' when 'user' then 'app' when 'vendor' then 'app'
                      when 'partner' then 'partner_api' when 'admin' then 'admin'
                      else case t.type when 'deposit' then 'partner_api' when 'reversal' then 'admin' else 'unknown' end end`;

export async function operationalRows(tx: Executor, range: DayRange) {
  const [people] = await queryRows<{
    new_users: number;
    new_vendors: number;
    active_users: number;
    active_vendors: number;
  }>(
    tx,
    sql`select (select count(*)::int from ${users} where ${within(sql`created_at`, range)}) as new_users,
               (select count(*)::int from ${vendors} where ${within(sql`created_at`, range)}) as new_vendors,
               (select count(distinct p.id)::int from (
                  select payer_id as id from ${transactions} t where t.payer_type = 'user' and ${within(sql`t.created_at`, range)}
                  union all
                  select payee_id from ${transactions} t where t.payee_type = 'user' and ${within(sql`t.created_at`, range)}) p)
                 as active_users,
               (select count(distinct p.id)::int from (
                  select payer_id as id from ${transactions} t where t.payer_type = 'vendor' and ${within(sql`t.created_at`, range)}
                  union all
                  select payee_id from ${transactions} t where t.payee_type = 'vendor' and ${within(sql`t.created_at`, range)}) p)
                 as active_vendors`,
  );
  const byType = await queryRows<{
    type: string;
    channel: string;
    count: number;
    completed: number;
    pending: number;
    failed: number;
    reversed: number;
  }>(
    tx,
    sql`select t.type, ${CHANNEL} as channel, count(*)::int as count,
               count(*) filter (where t.status = 'completed')::int as completed,
               count(*) filter (where t.status = 'pending')::int as pending,
               count(*) filter (where t.status = 'failed')::int as failed,
               count(*) filter (where t.status = 'reversed')::int as reversed
          from ${transactions} t
          ${channelJoin(range)}
         where ${within(sql`t.created_at`, range)}
         group by 1, 2
         order by 1, 2`,
  );
  const ussd = await queryRows<{ gateway: string; sessions: number; ended: number }>(
    tx,
    sql`select gateway, count(*)::int as sessions, count(*) filter (where ended)::int as ended
          from ${ussdSessions} where ${within(sql`created_at`, range)}
         group by gateway order by gateway`,
  );
  const notifications = await queryRows<{ channel: string; status: string; count: number }>(
    tx,
    sql`select coalesce(channel, 'none') as channel, status, count(*)::int as count
          from ${notificationOutbox} where ${within(sql`created_at`, range)}
         group by 1, 2 order by 1, 2`,
  );
  const webhooks = await queryRows<{ status: string; count: number; attempts: number }>(
    tx,
    sql`select status, count(*)::int as count, coalesce(sum(attempts), 0)::int as attempts
          from ${webhookDeliveries} where ${within(sql`created_at`, range)}
         group by status order by status`,
  );
  return {
    people: {
      newUsers: n(people?.new_users),
      newVendors: n(people?.new_vendors),
      activeUsers: n(people?.active_users),
      activeVendors: n(people?.active_vendors),
    },
    byType,
    ussd,
    notifications,
    webhooks,
  };
}

export async function complianceRows(tx: Executor, range: DayRange, cashThreshold: number) {
  const opened = await queryRows<{ rule_type: string; count: number }>(
    tx,
    sql`select rule_type, count(*)::int as count from ${amlAlerts} where ${within(sql`created_at`, range)}
         group by 1 order by 1`,
  );
  // Escalations and closings are events (an alert can close, reopen and close again): the audit log has each.
  const events = await queryRows<{ action: string; outcome: string | null; count: number }>(
    tx,
    sql`select action, details ->> 'outcome' as outcome, count(*)::int as count
          from ${auditLog}
         where action in ('aml.alert.escalated', 'aml.alert.closed') and ${within(sql`at`, range)}
         group by 1, 2 order by 1, 2`,
  );
  const [matches] = await queryRows<{ recorded: number; cleared: number; confirmed: number }>(
    tx,
    sql`select count(*) filter (where ${within(sql`created_at`, range)})::int as recorded,
               count(*) filter (where status = 'cleared' and ${within(sql`decided_at`, range)})::int as cleared,
               count(*) filter (where status = 'confirmed' and ${within(sql`decided_at`, range)})::int as confirmed
          from ${sanctionsMatches}
         where ${within(sql`created_at`, range)} or ${within(sql`decided_at`, range)}`,
  );
  const kyc = await queryRows<{ status: string; tier: number | null; count: number }>(
    tx,
    sql`select status, tier_granted as tier, count(*)::int as count
          from ${kycSubmissions}
         where status in ('approved', 'rejected') and ${within(sql`decided_at`, range)}
         group by 1, 2 order by 1, 2`,
  );
  const [submitted] = await queryRows<{ submitted: number; in_review: number }>(
    tx,
    sql`select count(*)::int as submitted, count(*) filter (where status = 'in_review')::int as in_review
          from ${kycSubmissions} where ${within(sql`created_at`, range)}`,
  );
  // At or above the threshold, whatever became of it later (reversed still counts; a refused one never moved).
  const large = await queryRows<{
    id: string;
    type: string;
    status: string;
    amount: string;
    currency: string;
    payer_type: string;
    payer_id: string;
    payee_type: string;
    payee_id: string;
    created_at: string;
  }>(
    tx,
    sql`select t.id, t.type, t.status, t.amount::text as amount, t.currency, t.payer_type, t.payer_id, t.payee_type,
               t.payee_id, t.created_at::text as created_at
          from ${transactions} t
         where t.amount >= ${cashThreshold} and t.status <> 'failed' and ${within(sql`t.created_at`, range)}
         order by t.created_at, t.id`,
  );
  return { opened, events, matches, kyc, submitted, large };
}
