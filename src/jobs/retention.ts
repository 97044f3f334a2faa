import { type SQL, sql } from "drizzle-orm";
import { queryRows } from "../db/client";
import { retrySerializable } from "../db/serializable";
import type { Deps } from "../deps";
import { eswatiniIso } from "../lib/clock";
import type { JobOutcome } from "./runner";

/**
 * Retention: deletes operational rows nobody can need any more, so those tables stop growing forever.
 * Money records — ledger_* (holds included), transactions, audit_log, approval_requests — are kept forever:
 * they are never named here, and `purge` refuses them should anyone add one.
 *
 * Each table goes in batches of BATCH rows, one READ COMMITTED statement per batch: its row locks last
 * one statement, and a row some request holds right now is skipped (SKIP LOCKED) for the next run
 * rather than waited for — the SERIALIZABLE money paths never queue behind a cleanup.
 */

const BATCH = 5_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Cloud Run ends a request at 300 s: no new batch starts after this, and the next run finishes the rest. */
const BUDGET_MS = 240_000;
/** API.md promises a stored answer for ≥ 24 h; a replay a week later is no client's retry. */
const IDEMPOTENCY_DAYS = 7;
/** Limits read only the current local day and month; older counters are kept a little while for support. */
const USAGE_DAYS = 3;
const USAGE_MONTHS = 2;
/** Dead USSD sessions and OTP challenges are kept a day, for support to see what happened. */
const DEAD_DAYS = 1;
/** A successful, complete run this recent makes the in-process loop's tick a no-op (the job is daily). */
const RAN_RECENTLY_MS = 20 * HOUR;

const KEPT_FOREVER = /^(ledger_|transactions$|audit_log$|approval_requests$)/;

interface Purge {
  table: string;
  /** The primary key's columns: how a batch names its rows to the DELETE. */
  key: string[];
  /** Which rows may go; the table is aliased `t`. */
  where: SQL;
  /** A table whose rows reference these (no cascade): its rows go in the same statement, first. */
  child?: { table: string; column: string; references: string };
}

/** One batch: up to BATCH rows (and their child rows) deleted in one READ COMMITTED statement. */
async function purgeBatch(deps: Deps, purge: Purge): Promise<{ deleted: number; children: number }> {
  const table = sql.identifier(purge.table);
  const keys = sql.join(
    purge.key.map((k) => sql`t.${sql.identifier(k)}`),
    sql`, `,
  );
  const matches = sql.join(
    purge.key.map((k) => sql`t.${sql.identifier(k)} = doomed.${sql.identifier(k)}`),
    sql` and `,
  );
  const child = purge.child
    ? sql`, children as (delete from ${sql.identifier(purge.child.table)} c using doomed
                          where c.${sql.identifier(purge.child.column)} = doomed.${sql.identifier(purge.child.references)}
                          returning 1)`
    : sql``;
  const statement = sql`with doomed as (select ${keys} from ${table} t where ${purge.where}
                                         limit ${BATCH} for update of t skip locked)
                        ${child},
                        gone as (delete from ${table} t using doomed where ${matches} returning 1)
                        select (select count(*) from gone)::int as deleted,
                               ${purge.child ? sql`(select count(*) from children)::int` : sql`0`} as children`;
  const [row] = await retrySerializable(
    () =>
      deps.database.db.transaction((tx) => queryRows<{ deleted: number; children: number }>(tx, statement), {
        isolationLevel: "read committed",
      }),
    { maxRetries: deps.config.serializableMaxRetries, logger: deps.logger, label: `retention.${purge.table}` },
  );
  return { deleted: Number(row?.deleted ?? 0), children: Number(row?.children ?? 0) };
}

/** Local ISO text (src/lib/clock.ts), whose day and month name usage counters: "d:2026-11-26", "m:2026-11". */
const localIso = eswatiniIso;

function purges(deps: Deps, now: Date): Purge[] {
  const ago = (ms: number) => sql`${new Date(now.getTime() - ms).toISOString()}::timestamptz`;
  const retained = ago(deps.config.retention.days * DAY);
  const local = localIso(now);
  const firstKeptMonth = new Date(
    Date.UTC(Number(local.slice(0, 4)), Number(local.slice(5, 7)) - 1 - USAGE_MONTHS, 1),
  ).toISOString();
  const firstKeptDay = `d:${localIso(new Date(now.getTime() - USAGE_DAYS * DAY)).slice(0, 10)}`;
  return [
    { table: "idempotency_keys", key: ["scope", "key"], where: sql`t.created_at < ${ago(IDEMPOTENCY_DAYS * DAY)}` },
    {
      table: "usage_counters",
      key: ["owner_id", "period"],
      // "C": periods compare character by character, whatever the database's collation does with punctuation.
      where: sql`(left(t.period, 2) = 'd:' and t.period collate "C" < ${firstKeptDay})
              or (left(t.period, 2) = 'm:' and t.period collate "C" < ${`m:${firstKeptMonth.slice(0, 7)}`})`,
    },
    {
      table: "notification_outbox",
      key: ["id"],
      where: sql`t.status in ('sent', 'failed', 'expired') and t.created_at < ${retained}`,
    },
    {
      table: "webhook_deliveries",
      key: ["id"],
      where: sql`t.status in ('delivered', 'failed') and t.created_at < ${retained}`,
      child: { table: "webhook_attempts", column: "delivery_id", references: "id" },
    },
    {
      // After the deliveries: an old event goes once nothing refers to it.
      table: "webhook_events",
      key: ["id"],
      where: sql`t.created_at < ${retained} and not exists (select 1 from webhook_deliveries d where d.event_id = t.id)`,
    },
    { table: "ussd_sessions", key: ["gateway", "session_id"], where: sql`t.expires_at < ${ago(DEAD_DAYS * DAY)}` },
    { table: "otp_challenges", key: ["id"], where: sql`t.expires_at < ${ago(DEAD_DAYS * DAY)}` },
    // A row whose tat has passed holds no state (src/http/rate-limit.ts).
    { table: "rate_limits", key: ["key"], where: sql`t.tat < ${ago(0)}` },
  ];
}

/**
 * One retention run: every table in turn, batch after batch until nothing old is left (or the time budget
 * is spent). Reports rows deleted per table — counts only, never contents. A table that fails does not
 * stop the others; the run is then failed, and the next one picks up where it left off.
 */
export async function purgeExpired(deps: Deps): Promise<JobOutcome> {
  const log = deps.logger.child({ component: "jobs", job: "retention" });
  const started = performance.now();
  const deleted: Record<string, number> = {};
  const failed: string[] = [];
  let complete = true;
  for (const purge of purges(deps, deps.now())) {
    if (KEPT_FOREVER.test(purge.table) || (purge.child && KEPT_FOREVER.test(purge.child.table)))
      throw new Error(`retention never deletes from ${purge.table}`);
    let rows = 0;
    let children = 0;
    try {
      for (;;) {
        if (performance.now() - started > BUDGET_MS) {
          complete = false;
          break;
        }
        const batch = await purgeBatch(deps, purge);
        rows += batch.deleted;
        children += batch.children;
        if (batch.deleted < BATCH) break;
      }
    } catch (err) {
      failed.push(purge.table);
      log.error({ err, table: purge.table }, "retention: could not purge a table");
    }
    if (purge.child) deleted[purge.child.table] = children;
    deleted[purge.table] = rows;
    if (!complete) {
      log.warn({ table: purge.table }, "retention: time budget spent; the next run continues");
      break;
    }
  }
  return { summary: { deleted, failed, complete }, ok: failed.length === 0 };
}

/** The in-process loop's cheap check: no successful, complete run in the last 20 hours (whoever triggered it). */
export async function retentionDue(deps: Deps, job: string): Promise<boolean> {
  const since = new Date(deps.now().getTime() - RAN_RECENTLY_MS).toISOString();
  const recent = await queryRows(
    deps.database.db,
    sql`select 1 from job_runs
         where name = ${job} and started_at > ${since}::timestamptz
           and status = 'succeeded' and summary ->> 'complete' = 'true'
         limit 1`,
  );
  return recent.length === 0;
}
