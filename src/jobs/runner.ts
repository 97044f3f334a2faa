import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/client";
import { mapDatabaseError } from "../db/pg-errors";
import { retrySerializable } from "../db/serializable";
import { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import { after, encodeCursor } from "../http/pagination";
import { newId } from "../lib/ids";
import type { JobOutcome } from "./definition";
import { jobRuns } from "./schema";

/**
 * Runs scheduled jobs one at a time per job name across every instance, and records each run.
 *
 * The lock is a Postgres session advisory lock on a connection reserved for the run: a second run —
 * from another instance, Cloud Scheduler's retry, the in-process loop — fails to take it and gets 409.
 * If the process dies, its connection closes and Postgres drops the lock, so a crash never wedges a job;
 * the next run marks the dead run's row `abandoned`. The embedded PGlite is one connection in one process
 * (where session locks are re-entrant), so there the lock is an in-process one.
 */

export type JobTrigger = "http" | "loop" | "cli";
export type JobStatus = "running" | "succeeded" | "failed" | "abandoned";

export interface JobRun {
  id: string;
  name: string;
  trigger: string;
  status: JobStatus;
  startedAt: string;
  finishedAt: string | null;
  summary: Record<string, unknown>;
  error: string | null;
}

interface RunnerDeps {
  database: Database;
  logger: Logger;
  now: () => Date;
  config: { serializableMaxRetries: number };
}

type Row = typeof jobRuns.$inferSelect;

const toRun = (r: Row): JobRun => ({
  id: r.id,
  name: r.name,
  trigger: r.trigger,
  status: r.status as JobStatus,
  startedAt: r.startedAt.toISOString(),
  finishedAt: r.finishedAt?.toISOString() ?? null,
  summary: (r.summary ?? {}) as Record<string, unknown>,
  error: r.error,
});

const busy = (name: string) =>
  new AppError("CONFLICT", `A run of ${name} is already in progress.`, { job: name, reason: "JOB_RUNNING" });

export function createJobRunner(deps: RunnerDeps) {
  const { db } = deps.database;
  const log = deps.logger.child({ component: "jobs" });
  const inProcess = new Set<string>();
  const write = <T>(fn: () => Promise<T>) =>
    retrySerializable(fn, { maxRetries: deps.config.serializableMaxRetries, logger: log, label: "job_runs" });

  /** Takes the job's lock or throws 409; returns its release. */
  async function lock(name: string): Promise<() => Promise<void>> {
    if (deps.database.kind !== "postgres" || !deps.database.sql) {
      if (inProcess.has(name)) throw busy(name);
      inProcess.add(name);
      return async () => {
        inProcess.delete(name);
      };
    }
    const reserved = await deps.database.sql.reserve();
    try {
      const [row] = await reserved`select pg_try_advisory_lock(hashtextextended(${`job:${name}`}, 0)) as locked`;
      if (!row?.locked) throw busy(name);
    } catch (error) {
      reserved.release();
      throw error;
    }
    return async () => {
      try {
        await reserved`select pg_advisory_unlock(hashtextextended(${`job:${name}`}, 0))`;
      } finally {
        reserved.release();
      }
    };
  }

  /**
   * Runs `fn` as job `name` under its lock, recording the run. Throws 409 CONFLICT while another run
   * holds the lock. A job that throws is recorded `failed` (and the error returned on the run, not thrown).
   */
  async function run(
    name: string,
    fn: (run: { id: string; startedAt: Date }) => Promise<JobOutcome>,
    options: { trigger: JobTrigger; requestId?: string },
  ): Promise<JobRun> {
    const release = await lock(name);
    try {
      const startedAt = deps.now();
      const id = newId("job");
      // We hold the lock, so a row still marked running belongs to a process that died mid-run.
      await write(() =>
        db
          .update(jobRuns)
          .set({ status: "abandoned", finishedAt: startedAt, error: "the process running it stopped" })
          .where(and(eq(jobRuns.name, name), eq(jobRuns.status, "running"))),
      );
      await write(() =>
        db.insert(jobRuns).values({
          id,
          name,
          trigger: options.trigger,
          status: "running",
          startedAt,
          requestId: options.requestId ?? null,
        }),
      );
      let outcome: JobOutcome;
      let error: string | null = null;
      let unavailable: AppError | undefined;
      try {
        outcome = await fn({ id, startedAt });
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        const mapped = mapDatabaseError(err);
        if (mapped?.code === "UNAVAILABLE") unavailable = mapped;
        outcome = { summary: {}, ok: false };
        log.error({ err, job: name, jobRunId: id }, "job failed");
      }
      const status: JobStatus = outcome.ok && !error ? "succeeded" : "failed";
      const [row] = await write(() =>
        db
          .update(jobRuns)
          .set({ status, finishedAt: deps.now(), summary: outcome.summary, error })
          .where(eq(jobRuns.id, id))
          .returning(),
      );
      log.info({ job: name, jobRunId: id, status, summary: outcome.summary }, "job run finished");
      // The database went away under the run (a lost connection, a restart): 503 like any request, not a failed
      // job (500); the run is recorded failed, and running it again is safe.
      if (unavailable)
        throw new AppError(
          "UNAVAILABLE",
          `The database failed under the ${name} run; run it again.`,
          { jobRunId: id, status },
          unavailable.headers,
        );
      return toRun(row!);
    } finally {
      await release().catch((err) => log.warn({ err, job: name }, "could not release a job lock"));
    }
  }

  async function get(id: string): Promise<JobRun | undefined> {
    const [row] = await db.select().from(jobRuns).where(eq(jobRuns.id, id));
    return row ? toRun(row) : undefined;
  }

  async function list(filter: { name?: string; status?: JobStatus; limit: number; cursor?: string }) {
    const where: (SQL | undefined)[] = [];
    if (filter.name) where.push(eq(jobRuns.name, filter.name));
    if (filter.status) where.push(eq(jobRuns.status, filter.status));
    if (filter.cursor) {
      where.push(after(filter.cursor, jobRuns.startedAt, jobRuns.id));
    }
    const rows = await db
      .select()
      .from(jobRuns)
      .where(and(...where))
      .orderBy(desc(jobRuns.startedAt), desc(jobRuns.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(toRun),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.startedAt, last.id) : null,
    };
  }

  /** The latest run of each job name. */
  async function latest(): Promise<Record<string, JobRun>> {
    const rows = await queryRows<{ id: string }>(
      db,
      sql`select distinct on (name) id from job_runs order by name, started_at desc, id desc`,
    );
    const runs = await Promise.all(rows.map((r) => get(r.id)));
    return Object.fromEntries(runs.filter((r): r is JobRun => !!r).map((r) => [r.name, r]));
  }

  return { run, get, list, latest };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
