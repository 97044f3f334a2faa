import { sql } from "drizzle-orm";
import { check, index, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * One row per run of any scheduled job (approval expiry, airtime reconciliation, backups, reports, …):
 * when it started and ended, what it did, how it ended. Shared by every job the registry knows.
 */
export const jobRuns = pgTable(
  "job_runs",
  {
    id: text().primaryKey(),
    /** The job's registry name, e.g. `approval-expiry`. */
    name: text().notNull(),
    /** http (Cloud Scheduler) · loop (an in-process worker) · cli */
    trigger: text().notNull(),
    /** running · succeeded · failed · abandoned (its process died; found by the next run) */
    status: text().notNull(),
    startedAt: timestamp({ withTimezone: true }).notNull(),
    finishedAt: timestamp({ withTimezone: true }),
    /** Counts and outcomes the job reports. */
    summary: jsonb().notNull().default({}),
    error: text(),
    requestId: text(),
  },
  (t) => [
    index("job_runs_name_started_idx").on(t.name, t.startedAt.desc(), t.id.desc()),
    index("job_runs_started_idx").on(t.startedAt.desc(), t.id.desc()),
    // Behind the advisory lock, a second guard: never two running rows of one job.
    uniqueIndex("job_runs_one_running_idx").on(t.name).where(sql`${t.status} = 'running'`),
    check("job_runs_status", sql`${t.status} in ('running','succeeded','failed','abandoned')`),
  ],
);
