import type { RequestMeta } from "../http/context";

/** What a job reports: its counts, and whether anything in it failed (a failed run is retried by the scheduler). */
export interface JobOutcome {
  summary: Record<string, unknown>;
  ok: boolean;
}

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
  /** Cloud Scheduler cron (Africa/Mbabane). */
  schedule: string;
  summary: string;
  run(ctx: { meta: RequestMeta }): Promise<JobOutcome>;
  /** In-process loop: how often to look, and the cheap check of whether there is anything to do. */
  loop?: { intervalMs: number; due(): Promise<boolean> };
}
