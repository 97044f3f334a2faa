import type { z } from "@hono/zod-openapi";
import type { RequestMeta } from "../http/context";

/** What a job reports: its counts, and whether anything in it failed (a failed run is retried by the scheduler). */
export interface JobOutcome {
  summary: Record<string, unknown>;
  ok: boolean;
}

/** The zone every job's schedule is read in, by Cloud Scheduler and by the in-process loops alike. */
export const JOB_TIME_ZONE = "Africa/Mbabane";

/**
 * A scheduled job, declared by the module whose work it is (src/module.ts `jobs`): its endpoint (called by
 * Cloud Scheduler with X-Job-Secret), its schedule, and — for jobs that should also run without a scheduler
 * (the embedded default, or work that cannot wait for the next tick) — an in-process loop that runs it only
 * when `due` finds work. The jobs module gathers every module's jobs (src/jobs/service.ts, routes.ts).
 */
export interface JobDefinition {
  name: string;
  /** Where Cloud Scheduler POSTs. */
  path: `/${string}`;
  /**
   * Cloud Scheduler's cron (5 fields, in JOB_TIME_ZONE), checked when the registry is built; the in-process
   * loop runs on it too.
   */
  schedule: string;
  summary: string;
  /**
   * The endpoint's query parameters (report generation's `?date=`): validated before anything runs, so bad input
   * is a 400 and no run, and handed to `run` as `query`. The loop and the CLI run the job without any.
   */
  query?: z.ZodObject;
  run(ctx: { meta: RequestMeta; query?: Record<string, unknown> }): Promise<JobOutcome>;
  /**
   * In-process loop: the cheap check of whether there is anything to do, made on every tick of the schedule —
   * or every `everyMs` instead, for work that must be looked at more often than a cron can say.
   */
  loop?: { due(): Promise<boolean>; everyMs?: number };
}
