import type { RequestMeta } from "../audit/service";
import type { Deps } from "../deps";
import { purgeExpired, retentionDue } from "./retention";
import type { JobOutcome } from "./runner";

/**
 * The job registry: every scheduled job, its endpoint (called by Cloud Scheduler with X-Job-Secret),
 * its schedule, and — for jobs that should also run without a scheduler (the embedded default, or work
 * that cannot wait for the next tick) — an in-process loop that runs it only when `due` finds work.
 * Later jobs add an entry here; src/jobs/routes.ts mounts each at its path.
 */
export interface JobDefinition {
  name: string;
  /** Where Cloud Scheduler POSTs. */
  path: `/${string}`;
  /** Cloud Scheduler cron (Africa/Mbabane). */
  schedule: string;
  summary: string;
  run(deps: Deps, ctx: { meta: RequestMeta }): Promise<JobOutcome>;
  /** In-process loop: how often to look, and the cheap check of whether there is anything to do. */
  loop?: { intervalMs(deps: Deps): number; due(deps: Deps): Promise<boolean> };
}

export const JOBS: JobDefinition[] = [
  {
    name: "approval-expiry",
    path: "/jobs/approval-expiry",
    schedule: "*/15 * * * *",
    summary:
      "Expire every pending approval older than its TTL (KESHLESS_APPROVAL_TTL_HOURS): release its held funds and tell the owner",
    async run(deps, ctx) {
      const result = await deps.approvals.expireDue(deps.now(), ctx.meta);
      return { summary: { ...result }, ok: result.failed === 0 };
    },
    loop: {
      intervalMs: () => 5 * 60_000,
      due: async (deps) => (await deps.approvals.countDue(deps.now())) > 0,
    },
  },
  {
    name: "airtime-reconcile",
    path: "/jobs/airtime-reconcile",
    schedule: "*/5 * * * *",
    summary:
      "Settle airtime orders whose outcome is not yet known: ask the operator about each clientReference, then post, refund or retry",
    async run(deps) {
      const result = await deps.airtime.reconcile();
      return { summary: { ...result }, ok: result.failed === 0 };
    },
    loop: {
      intervalMs: (deps) => deps.config.airtime.reconcileIntervalMs,
      due: async (deps) => (await deps.airtime.countDue()) > 0,
    },
  },
  {
    name: "retention",
    path: "/jobs/retention",
    schedule: "30 2 * * *",
    summary:
      "Delete operational rows past their use, in small batches: idempotency keys after 7 days, old usage counters, finished notifications and webhook deliveries after KESHLESS_RETENTION_DAYS, dead USSD sessions, OTP challenges and rate-limit rows. Money records are kept forever",
    run: (deps) => purgeExpired(deps),
    loop: {
      // There is always something old somewhere; what matters is that it runs about daily, whoever runs it.
      intervalMs: () => 6 * 3_600_000,
      due: (deps) => retentionDue(deps, "retention"),
    },
  },
];

export function findJob(name: string): JobDefinition | undefined {
  return JOBS.find((job) => job.name === name);
}
