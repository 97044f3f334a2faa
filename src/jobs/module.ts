import type { Purge, Sweep } from "../db/purge";
import { API, defineModule } from "../module";
import { type JobsWithUrl, jobCommands } from "./cli";
import type { JobDefinition } from "./definition";
import { platformPurges, purgeExpired, retentionDue } from "./retention";
import { jobRoutes } from "./routes";
import { createJobs, type Jobs } from "./service";

const withPublicUrl = (publicUrl: string, jobs: Jobs): JobsWithUrl => Object.assign(jobs, { publicUrl });

/**
 * Scheduled jobs: every module's `jobs` gathered into one registry, each at its endpoint for Cloud Scheduler
 * and, where it has one, in an in-process loop; run records and locks; and retention over every module's purges.
 */
export const jobsModule = defineModule({
  name: "jobs",
  create: (core, peers: { jobs: readonly JobDefinition[]; purges: (now: Date) => Purge[]; sweeps: readonly Sweep[] }) =>
    withPublicUrl(
      core.config.storage.publicUrl,
      createJobs(core, [
        ...peers.jobs,
        {
          name: "retention",
          path: "/jobs/retention",
          schedule: "30 2 * * *",
          summary:
            "Delete operational rows past their use, in small batches: idempotency keys after 7 days, old usage counters, finished notifications and webhook deliveries after KESHLESS_RETENTION_DAYS, dead USSD sessions, OTP challenges and rate-limit rows. Money records are kept forever",
          run: () => {
            const now = core.now();
            return purgeExpired(core, [...platformPurges(now), ...peers.purges(now)], peers.sweeps);
          },
          loop: {
            // There is always something old somewhere; what matters is that it runs daily, whoever runs it.
            due: () => retentionDue(core, "retention"),
          },
        },
      ]),
    ),
  routes: (jobs) => [{ roles: API, router: jobRoutes({ jobs }) }],
  commands: jobCommands,
  // Approval expiry, airtime reconciliation and retention whenever one has work due (Cloud Scheduler calls them too).
  workers: (jobs, core) => (core.config.role === "ussd" ? [] : [jobs]),
});
