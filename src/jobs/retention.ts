import { sql } from "drizzle-orm";
import type { Core } from "../core";
import { PURGE_BATCH, type Purge, purgeBatch, purgeCutoff, type Sweep } from "../db/purge";
import type { JobOutcome } from "./definition";
import { succeededWithin } from "./recent-runs";

/**
 * Retention: deletes operational rows nobody can need any more, so those tables stop growing forever. Each
 * module declares the purges of its own tables (src/module.ts `purges`); this job runs them in module order.
 * Money records — ledger_* (holds included), transactions, audit_log, approval_requests — are kept forever:
 * no module may name them, and the run refuses them should anyone add one.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Cloud Run ends a request at 300 s: no new batch starts after this, and the next run finishes the rest. */
const BUDGET_MS = 240_000;
/** API.md promises a stored answer for ≥ 24 h; a replay a week later is no client's retry. */
const IDEMPOTENCY_DAYS = 7;
/** A successful, complete run this recent makes the in-process loop's tick a no-op (the job is daily). */
const RAN_RECENTLY_MS = 20 * HOUR;

const KEPT_FOREVER = /^(ledger_|transactions$|audit_log$|approval_requests$)/;

/** The platform's own tables: idempotency records and rate-limit rows. */
export function platformPurges(now: Date): Purge[] {
  return [
    {
      table: "idempotency_keys",
      key: ["scope", "key"],
      where: sql`t.created_at < ${purgeCutoff(now, IDEMPOTENCY_DAYS * DAY)}`,
    },
    // A row whose tat has passed holds no state (src/http/rate-limit.ts).
    { table: "rate_limits", key: ["key"], where: sql`t.tat < ${purgeCutoff(now, 0)}` },
  ];
}

/**
 * One retention run: every table in turn, batch after batch until nothing old is left (or the time budget
 * is spent). Reports rows deleted per table — counts only, never contents. A table that fails does not
 * stop the others; the run is then failed, and the next one picks up where it left off.
 */
export async function purgeExpired(core: Core, purges: Purge[], sweeps: readonly Sweep[] = []): Promise<JobOutcome> {
  const log = core.logger.child({ component: "jobs", job: "retention" });
  const started = performance.now();
  const deleted: Record<string, number> = {};
  const failed: string[] = [];
  let complete = true;
  for (const purge of purges) {
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
        const batch = await purgeBatch(core, purge);
        rows += batch.deleted;
        children += batch.children;
        if (batch.deleted < PURGE_BATCH) break;
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
  for (const sweep of complete ? sweeps : []) {
    try {
      deleted[sweep.name] = await sweep.run(core.now());
    } catch (err) {
      failed.push(sweep.name);
      log.error({ err, sweep: sweep.name }, "retention: a sweep failed");
    }
  }
  return { summary: { deleted, failed, complete }, ok: failed.length === 0 };
}

/** The in-process loop's cheap check: no successful, complete run in the last 20 hours (whoever triggered it). */
export async function retentionDue(core: Core, job: string): Promise<boolean> {
  return !(await succeededWithin(core, job, RAN_RECENTLY_MS, sql`summary ->> 'complete' = 'true'`));
}
