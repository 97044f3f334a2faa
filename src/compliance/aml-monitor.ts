import { type SQL, sql } from "drizzle-orm";
import type { Audit, RequestMeta } from "../audit";
import { type Database, type Executor, queryRows } from "../db/client";
import { withTransaction } from "../db/transaction";
import type { Logger } from "../http/logger";
import { createPoller } from "../lib/poller";
import { type RaiseInput, raiseAlert } from "./aml-alerts";
import { evaluate, lookBackUs, type Movement, type Rule } from "./aml-rules";
import { listRules, ruleOf } from "./aml-rules-store";
import type { SubjectType } from "./sanctions-subjects";

/**
 * The AML monitor: reads committed `transactions` behind a durable cursor, evaluates the rules on each completed
 * one for each user or vendor in it, and writes the alerts — off the payment path (DESIGN.md "Readers of committed
 * money"): a payment writes its row once and never waits for, locks against or is retried because of the monitor.
 *
 * Why the cursor never skips a late commit. A row's `created_at` is its writer's `now()` — the transaction's
 * START — so rows become visible out of `created_at` order: a payment that began first can commit last, and a
 * plain `created_at > last` (or `id > last`) cursor would pass it by. Postgres assigns no commit-ordered number we
 * could read instead (an xid is taken at the first write, not at the start, so `pg_snapshot_xmin` says nothing
 * about a transaction that began earlier and has not written yet). What does bound every row still to come is
 * `pg_stat_activity.xact_start`: an uncommitted row's `created_at` is at least its transaction's start. So each pass
 *   1. takes the horizon H = min(now(), the oldest open transaction's start) − KESHLESS_AML_MONITOR_SAFETY_MS, in
 *      its own statement, BEFORE its transaction's snapshot: a transaction that was open when H was taken has
 *      created_at ≥ H; one that began later too; so every row with created_at < H had committed (or aborted)
 *      before the snapshot — visible, and none can appear below H later;
 *   2. reads the rows after its cursor (created_at, id) and below H, in order, and moves the cursor to the last —
 *      exact, so nothing is read twice and nothing is needed of a processed set.
 * The safety margin covers the rows whose created_at the application stamps (held withdrawals, airtime, card fees
 * take the app's clock, a few milliseconds before their transaction starts) and clock steps. A long open
 * transaction (a pg_dump, an idle psql) delays monitoring while it lasts (logged); it never makes it miss a row.
 * PGlite has one connection: no transaction is ever open beside the monitor's, so H is now() − the margin.
 *
 * A row still `pending` when passed is parked (aml_monitor_pending) and evaluated when it completes, however
 * late; dropped if it fails. The monitor runs in READ COMMITTED, so its reads take no predicate locks that could
 * abort a SERIALIZABLE payment, and it writes its progress (cursor, parked rows) in the same transaction as the
 * alerts those rows raised: a crash redoes the pass whole, a commit is exactly once. The cursor row is taken
 * `FOR UPDATE SKIP LOCKED`, so instances run passes one at a time and the others skip.
 */

export interface MonitorDeps {
  database: Pick<Database, "db">;
  logger: Logger;
  now: () => Date;
  config: {
    serializableMaxRetries: number;
    aml: {
      cashThreshold: number;
      monitor: { intervalMs: number; batch: number; safetyMs: number };
      escalation: { intervalMs: number; ladder: readonly string[] };
    };
  };
  audit: Pick<Audit, "record">;
  /** Writes the default rules and the cursor row when they are missing (once per process). */
  ready: () => Promise<void>;
}

export const MONITOR_STATE_ID = "transactions";

/** The cursor row, at the beginning of time: a new system's monitor reads every transaction there is. */
export async function insertMonitorState(executor: Pick<Executor, "execute">, now: Date): Promise<void> {
  await executor.execute(
    sql`insert into aml_monitor_state (id, cursor_at, cursor_id, evaluated, updated_at)
          values (${MONITOR_STATE_ID}, '-infinity', '', 0, ${now.toISOString()}::timestamptz) on conflict do nothing`,
  );
}

/** What moves a customer's money; reversals and fee journals are the platform's own corrections. */
export const MONITORED_TYPES = ["payment", "transfer", "deposit", "withdrawal", "airtime", "card"] as const;

const MONITOR_META: RequestMeta = { actor: { type: "system", id: "aml-monitor" } };

/** Evidence per hit: the most recent transactions of the window (an aggregate's window can be a busy vendor's day). */
const EVIDENCE_PER_HIT = 100;

/** A monitoring delay worth a warning: an open transaction this old holds the horizon back. */
const LAG_WARNING_MS = 60_000;

interface TxRow {
  id: string;
  type: string;
  status: string;
  amount: string;
  payer_type: string;
  payer_id: string;
  payer_name: string | null;
  payer_account: string;
  payee_type: string;
  payee_id: string;
  payee_name: string | null;
  payee_account: string;
  /** created_at as Postgres prints it (microseconds), for the cursor. */
  at: string;
  /** created_at in microseconds since the epoch. */
  us: string;
}

const COLUMNS = sql.raw(
  `t.id, t.type, t.status, t.amount::text as amount, t.payer_type, t.payer_id, t.payer_name, t.payer_account,
   t.payee_type, t.payee_id, t.payee_name, t.payee_account, t.created_at::text as at,
   (extract(epoch from t.created_at) * 1000000)::bigint::text as us`,
);

const EVALUATED = sql.raw(`('completed', 'reversed')`);
const TYPES = sql.raw(`(${MONITORED_TYPES.map((t) => `'${t}'`).join(", ")})`);
const PARTIES = new Set(["user", "vendor"]);

/** H (see above), as Postgres prints it; taken in its own statement, before the pass's transaction begins. */
async function readHorizon(deps: MonitorDeps): Promise<{ horizon: string; lagMs: number }> {
  const [row] = await queryRows<{ horizon: string; lag_ms: string }>(
    deps.database.db,
    sql`with h as (
          select least(now(), coalesce((select min(xact_start) from pg_stat_activity
                   where datname = current_database() and backend_type = 'client backend'
                     and pid <> pg_backend_pid() and xact_start is not null), now()))
                 - ${deps.config.aml.monitor.safetyMs}::int * interval '1 millisecond' as at)
        select at::text as horizon, (extract(epoch from now() - at) * 1000)::bigint::text as lag_ms from h`,
  );
  return { horizon: row!.horizon, lagMs: Number(row!.lag_ms) };
}

/**
 * The next rows after the cursor and below the horizon, oldest first. One index range scan per type on
 * transactions_type_created_idx (the only index by time), merged: no index of ours on a payments table.
 */
function streamQuery(cursor: { at: string; id: string }, horizon: string, limit: number): SQL {
  const perType = MONITORED_TYPES.map(
    (type) => sql`(select ${COLUMNS} from transactions t
       where t.type = ${type} and t.created_at >= ${cursor.at}::timestamptz and t.created_at < ${horizon}::timestamptz
         and (t.created_at > ${cursor.at}::timestamptz or t.id > ${cursor.id})
       order by t.created_at, t.id limit ${limit})`,
  );
  return sql`select * from (${sql.join(perType, sql` union all `)}) s order by s.us::bigint, s.id limit ${limit}`;
}

interface Side {
  row: TxRow;
  movement: Movement;
  account: string;
  subject: { type: SubjectType; id: string; name: string | null };
}

function sidesOf(row: TxRow): Side[] {
  const us = Number(row.us);
  const amount = Number(row.amount);
  const sides: Side[] = [];
  if (PARTIES.has(row.payer_type))
    sides.push({
      row,
      account: row.payer_account,
      subject: { type: row.payer_type as SubjectType, id: row.payer_id, name: row.payer_name },
      movement: { id: row.id, us, amount, dir: "out", counterparty: `${row.payee_type}:${row.payee_id}` },
    });
  if (PARTIES.has(row.payee_type))
    sides.push({
      row,
      account: row.payee_account,
      subject: { type: row.payee_type as SubjectType, id: row.payee_id, name: row.payee_name },
      movement: { id: row.id, us, amount, dir: "in", counterparty: `${row.payer_type}:${row.payer_id}` },
    });
  return sides;
}

const byTime = (a: { us: number; id: string }, b: { us: number; id: string }) =>
  a.us - b.us || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** How many of `sorted` (by time) come at or before `m`: binary search, where a filter made a pass quadratic. */
function upperBound(sorted: readonly Movement[], m: Movement): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (byTime(sorted[mid]!, m) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const list = (values: string[]) =>
  sql`(${sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  )})`;

/** Every account's completed movements in [fromUs, to], oldest first. */
async function loadHistory(
  tx: Executor,
  accounts: string[],
  fromUs: number,
  to: string,
): Promise<Map<string, Movement[]>> {
  const from = sql`'epoch'::timestamptz + ${String(fromUs)}::bigint * interval '1 microsecond'`;
  const side = (column: SQL) =>
    sql`(select ${COLUMNS} from transactions t where ${column} in ${list(accounts)}
          and t.created_at >= ${from} and t.created_at <= ${to}::timestamptz
          and t.status in ${EVALUATED} and t.type in ${TYPES})`;
  const rows = await queryRows<TxRow>(
    tx,
    sql`${side(sql.raw("t.payer_account"))} union ${side(sql.raw("t.payee_account"))}`,
  );
  const history = new Map<string, Movement[]>(accounts.map((a) => [a, []]));
  for (const row of rows)
    for (const s of sidesOf(row)) if (history.has(s.account)) history.get(s.account)!.push(s.movement);
  for (const movements of history.values()) movements.sort(byTime);
  return history;
}

/** Each account's last completed movement before `beforeUs` (dormancy looks further back than any window). */
async function lastMovementBefore(tx: Executor, accounts: string[], beforeUs: number): Promise<Map<string, number>> {
  const before = sql`'epoch'::timestamptz + ${String(beforeUs)}::bigint * interval '1 microsecond'`;
  const last = (column: string) =>
    sql`(select (extract(epoch from t.created_at) * 1000000)::bigint from transactions t
          where ${sql.raw(column)} = a.acc and t.created_at < ${before}
            and t.status in ${EVALUATED} and t.type in ${TYPES}
          order by t.created_at desc limit 1)`;
  const rows = await queryRows<{ acc: string; us: string | null }>(
    tx,
    sql`select a.acc, greatest(${last("t.payer_account")}, ${last("t.payee_account")})::text as us
          from (values ${sql.join(
            accounts.map((a) => sql`(${a})`),
            sql`, `,
          )}) as a(acc)`,
  );
  return new Map(rows.flatMap((r) => (r.us === null ? [] : [[r.acc, Number(r.us)] as const])));
}

/**
 * What the rules need of each account's past, kept between passes by the instance that ran them: its completed
 * movements from `fromUs` on, oldest first, and (when a dormancy rule asked) its last one before `fromUs`.
 * Loading that afresh every pass re-read up to the longest window (the 7-day aggregate) of every active account's
 * transactions every interval — a busy week's whole table every two seconds — and the pass's CPU burst was the
 * payments' p99 (bench/RESULTS.md, issue 17: 50 ms at half the peak with the monitor on, 14 ms with it off, 23 ms
 * with this cache). An account is loaded once, then grows by the rows each pass evaluates, which are exactly the
 * rows the database would add. Nothing is pruned: past HISTORY_CACHE_MAX_MOVEMENTS the cache starts over.
 * Valid only while this instance ran every pass: `position` is the monitor state (cursor and evaluated count) its
 * last committed pass left; when another instance has moved it, or a pass failed, the cache starts over.
 */
export interface HistoryCache {
  position: string | null;
  accounts: Map<string, AccountHistory>;
  movements: number;
}

interface AccountHistory {
  fromUs: number;
  movements: Movement[];
  ids: Set<string>;
  /** The last movement before fromUs: undefined when there is none, "unknown" when no dormancy rule asked. */
  lastBefore: number | undefined | "unknown";
}

/** A bound on what the cache holds (~100 bytes a movement): past it, it starts over. */
const HISTORY_CACHE_MAX_MOVEMENTS = 200_000;

export function createHistoryCache(): HistoryCache {
  return { position: null, accounts: new Map(), movements: 0 };
}

/** The monitor state a pass starts from or leaves, as the cache records it. */
const positionOf = (cursor: { at: string; id: string }, evaluated: bigint) => `${cursor.at}|${cursor.id}|${evaluated}`;

function clearHistoryCache(cache: HistoryCache) {
  cache.position = null;
  cache.accounts.clear();
  cache.movements = 0;
}

/** Adds a movement in time order, once (a row can come back: read again after a retry, or parked then ready). */
function remember(cache: HistoryCache, entry: AccountHistory, m: Movement) {
  if (entry.ids.has(m.id)) return;
  entry.ids.add(m.id);
  entry.movements.splice(upperBound(entry.movements, m), 0, m);
  cache.movements++;
}

/** Each account's history over [fromUs, to] and its last movement before: from the cache, loading what it lacks. */
async function historyOf(
  tx: Executor,
  accounts: string[],
  fromUs: number,
  to: string,
  dormancy: boolean,
  sides: Side[],
  cache: HistoryCache | undefined,
): Promise<{ history: Map<string, Movement[]>; lastBefore: Map<string, number> }> {
  if (!cache) {
    const history = await loadHistory(tx, accounts, fromUs, to);
    const lastBefore = dormancy ? await lastMovementBefore(tx, accounts, fromUs) : new Map<string, number>();
    return { history, lastBefore };
  }
  const missing = accounts.filter((a) => {
    const entry = cache.accounts.get(a);
    return !entry || entry.fromUs > fromUs || (dormancy && entry.lastBefore === "unknown");
  });
  if (missing.length) {
    const loaded = await loadHistory(tx, missing, fromUs, to);
    const before = dormancy ? await lastMovementBefore(tx, missing, fromUs) : undefined;
    for (const account of missing) {
      const previous = cache.accounts.get(account);
      if (previous) cache.movements -= previous.movements.length;
      const movements = loaded.get(account)!;
      cache.accounts.set(account, {
        fromUs,
        movements,
        ids: new Set(movements.map((m) => m.id)),
        lastBefore: before ? before.get(account) : "unknown",
      });
      cache.movements += movements.length;
    }
  }
  for (const side of sides) remember(cache, cache.accounts.get(side.account)!, side.movement);
  const history = new Map<string, Movement[]>();
  const lastBefore = new Map<string, number>();
  for (const account of accounts) {
    const entry = cache.accounts.get(account)!;
    history.set(account, entry.movements);
    if (typeof entry.lastBefore === "number") lastBefore.set(account, entry.lastBefore);
  }
  return { history, lastBefore };
}

/** The rules' hits on `rows` (completed transactions), in the order the transactions happened. */
async function evaluateRows(
  tx: Executor,
  rules: Rule[],
  rows: TxRow[],
  cashThreshold: number,
  cache?: HistoryCache,
): Promise<RaiseInput[]> {
  const sides = rows.flatMap(sidesOf).sort((a, b) => byTime(a.movement, b.movement));
  if (!rules.length || !sides.length) return [];
  const accounts = [...new Set(sides.map((s) => s.account))];
  const fromUs = Math.min(...sides.map((s) => s.movement.us)) - Math.max(0, ...rules.map(lookBackUs));
  const latest = rows.reduce((a, b) => (Number(b.us) > Number(a.us) ? b : a));
  const dormancy = rules.some((r) => r.type === "dormant_reactivation");
  const { history, lastBefore } = await historyOf(tx, accounts, fromUs, latest.at, dormancy, sides, cache);
  const hits: RaiseInput[] = [];
  for (const side of sides) {
    const upTo = history.get(side.account)!.slice(0, upperBound(history.get(side.account)!, side.movement));
    for (const rule of rules) {
      const hit = evaluate(rule, side.movement, upTo, {
        cashThreshold,
        lastBefore: lastBefore.get(side.account),
      });
      if (!hit) continue;
      hits.push({
        rule,
        subject: side.subject,
        evidence: { kind: "transaction", ids: hit.transactionIds.slice(-EVIDENCE_PER_HIT) },
        details: { ...hit.details, transactionId: side.row.id },
      });
    }
  }
  return hits;
}

/**
 * One raise per (rule, subject) per pass: a busy vendor over an aggregate threshold hits it on every payment, and
 * a write (and an audit row) per hit made the monitor cost more than the payments it reads. The raise carries the
 * count, so hits and priority come out as if raised one by one; the evidence is the union, newest kept.
 */
function foldHits(hits: RaiseInput[]): RaiseInput[] {
  const folded = new Map<string, RaiseInput & { count: number }>();
  for (const hit of hits) {
    const key = `${hit.rule.id}\u0000${hit.subject.type}\u0000${hit.subject.id}`;
    const seen = folded.get(key);
    if (!seen) {
      folded.set(key, { ...hit, count: 1 });
      continue;
    }
    const ids = [...new Set([...seen.evidence.ids, ...hit.evidence.ids])];
    folded.set(key, {
      ...hit,
      subject: { ...hit.subject, name: hit.subject.name ?? seen.subject.name },
      evidence: { kind: hit.evidence.kind, ids: ids.slice(-EVIDENCE_PER_HIT) },
      count: seen.count + 1,
    });
  }
  return [...folded.values()];
}

export interface PassResult {
  /** Completed transactions evaluated in this pass. */
  evaluated: number;
  /** Rows the cursor moved over. */
  passed: number;
  alerts: { opened: number; hits: number };
  /** A full batch: there is more to read now. */
  more: boolean;
  /** Another instance holds the cursor: nothing was done. */
  busy: boolean;
}

/** One pass: up to a batch of new rows, and the parked ones that have completed since. */
export async function monitorPass(deps: MonitorDeps, cache?: HistoryCache): Promise<PassResult> {
  await deps.ready();
  const { batch } = deps.config.aml.monitor;
  const { horizon, lagMs } = await readHorizon(deps);
  if (lagMs > LAG_WARNING_MS + deps.config.aml.monitor.safetyMs)
    deps.logger.warn({ lagMs, horizon }, "aml monitor: an open transaction holds the horizon back");
  try {
    const { position, ...result } = await withTransaction(
      deps,
      async (tx) => {
        const [cursor] = await queryRows<{ at: string; id: string; evaluated: string }>(
          tx,
          sql`select cursor_at::text as at, cursor_id as id, evaluated::text as evaluated from aml_monitor_state
              where id = ${MONITOR_STATE_ID} for update skip locked`,
        );
        if (!cursor)
          return { position: null, evaluated: 0, passed: 0, alerts: { opened: 0, hits: 0 }, more: false, busy: true };
        if (cache) {
          if (cache.position !== positionOf(cursor, BigInt(cursor.evaluated))) clearHistoryCache(cache);
          // Past its bound it starts over; the position is set again when this pass commits.
          if (cache.movements > HISTORY_CACHE_MAX_MOVEMENTS) clearHistoryCache(cache);
          cache.position = null;
        }
        const rules = (await listRules(tx)).filter((r) => r.enabled && r.type !== "sanctions").map(ruleOf);
        const parked = await queryRows<TxRow>(
          tx,
          sql`select ${COLUMNS} from aml_monitor_pending p join transactions t on t.id = p.transaction_id
              where t.status <> 'pending' order by p.parked_at, p.transaction_id limit ${batch}`,
        );
        const stream = await queryRows<TxRow>(tx, streamQuery(cursor, horizon, batch));
        const evaluable = (r: TxRow) => r.status === "completed" || r.status === "reversed";
        const ready = [...parked, ...stream].filter(evaluable);
        const hits = await evaluateRows(tx, rules, ready, deps.config.aml.cashThreshold, cache);
        let opened = 0;
        for (const raise of foldHits(hits)) if ((await raiseAlert(deps, tx, raise, MONITOR_META)).opened) opened++;

        const now = deps.now();
        const waiting = stream.filter((r) => r.status === "pending");
        if (waiting.length)
          await tx.execute(
            sql`insert into aml_monitor_pending (transaction_id, parked_at)
                values ${sql.join(
                  waiting.map((r) => sql`(${r.id}, ${now.toISOString()}::timestamptz)`),
                  sql`, `,
                )}
                on conflict do nothing`,
          );
        if (parked.length)
          await tx.execute(
            sql`delete from aml_monitor_pending where transaction_id in ${list(parked.map((r) => r.id))}`,
          );
        const next = stream.at(-1) ?? cursor;
        await tx.execute(
          sql`update aml_monitor_state set
              cursor_at = ${next.at}::timestamptz, cursor_id = ${next.id},
              evaluated = evaluated + ${ready.length}, updated_at = ${now.toISOString()}::timestamptz
            where id = ${MONITOR_STATE_ID}`,
        );
        return {
          position: positionOf(next, BigInt(cursor.evaluated) + BigInt(ready.length)),
          evaluated: ready.length,
          passed: stream.length,
          alerts: { opened, hits: hits.length - opened },
          more: stream.length === batch || parked.length === batch,
          busy: false,
        };
      },
      { label: "aml.monitor", isolation: "read committed" },
    );
    if (cache && position) cache.position = position;
    return result;
  } catch (failure) {
    if (cache) clearHistoryCache(cache);
    throw failure;
  }
}

/** The monitor as an in-process worker (module `workers`), plus a pass and a drain for whoever must wait for it. */
export function createMonitor(deps: MonitorDeps) {
  const log = deps.logger.child({ component: "aml-monitor" });
  const cache = createHistoryCache();
  const poller = createPoller({
    intervalMs: deps.config.aml.monitor.intervalMs,
    pass: async () => {
      const started = performance.now();
      const { more } = await monitorPass(deps, cache);
      // Catching up on a backlog, rest as long as the pass took: the monitor takes at most half of what it shares
      // with the payments it reads (the same cores, the same database), so a backlog never raises their latency.
      if (more) await Bun.sleep(Math.min(performance.now() - started, deps.config.aml.monitor.intervalMs));
      return { more };
    },
    onError: (err, { retryInMs }) => log.error({ err, retryInMs }, "aml monitor pass failed; backing off"),
    onRecover: ({ failures, downMs }) => log.info({ failures, downMs }, "aml monitor recovered"),
  });
  return {
    start: () => poller.start(),
    stop: () => poller.stop(),
    pass: () => monitorPass(deps, cache),
    /** Passes until the rows below the horizon are all read (another instance's pass waits its turn). */
    async drain(): Promise<{ evaluated: number; passes: number }> {
      let evaluated = 0;
      for (let passes = 1; ; passes++) {
        const result = await monitorPass(deps, cache);
        evaluated += result.evaluated;
        if (result.busy) await Bun.sleep(20);
        else if (!result.more) return { evaluated, passes };
      }
    },
  };
}

export type Monitor = ReturnType<typeof createMonitor>;
