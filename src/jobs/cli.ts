import { CliError, type Command, requireFlag } from "../lib/command";
import { JOB_TIME_ZONE } from "./definition";
import type { Jobs } from "./service";

/**
 * How long Cloud Scheduler waits for a job's answer (its maximum): a backup of a large database or a day's
 * reports can take minutes, and a job cut off mid-run is only marked abandoned and done again by the next.
 */
export const ATTEMPT_DEADLINE = "1800s";

/**
 * The header value stands for the secret: the definitions are printed and committed to logs, the secret is not.
 * deploy/scheduler.sh puts KESHLESS_JOB_SECRET's current version from Secret Manager in its place.
 */
export const JOB_SECRET_PLACEHOLDER = "secret:KESHLESS_JOB_SECRET";

/** One Cloud Scheduler HTTP job per registered job, as `gcloud scheduler jobs create http` takes it. */
export function schedulerDefinitions(jobs: Pick<Jobs, "definitions">, baseUrl: string) {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new CliError(`--url must be the API's base URL (https://…), not ${JSON.stringify(baseUrl)}`);
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") throw new CliError("--url must be http(s)");
  const root = base.toString().replace(/\/$/, "");
  return jobs.definitions().map((job) => ({
    name: `keshless-${job.name}`,
    description: job.summary,
    schedule: job.schedule,
    timeZone: JOB_TIME_ZONE,
    path: job.path,
    uri: `${root}${job.path}`,
    httpMethod: "POST" as const,
    headers: { "X-Job-Secret": JOB_SECRET_PLACEHOLDER },
    attemptDeadline: ATTEMPT_DEADLINE,
    // A failed run (500) or a busy one (409) is safe to call again: every job is one run at a time and idempotent.
    retry: { maxRetryAttempts: 3, minBackoff: "60s", maxBackoff: "600s" },
  }));
}

/** `--query` as the job's endpoint would take it (`date=…&dryRun=true`), or a CliError naming what is wrong. */
function jobQuery(jobs: Pick<Jobs, "querySchema">, name: string, raw: string | undefined) {
  if (raw === undefined) return undefined;
  const schema = jobs.querySchema(name);
  if (!schema) throw new CliError(`${name} takes no --query`);
  const parsed = schema.safeParse(Object.fromEntries(new URLSearchParams(raw)));
  if (!parsed.success)
    throw new CliError(
      `--query: ${parsed.error.issues.map((i) => `${i.path.join(".") || "query"} ${i.message}`).join("; ")}`,
    );
  return parsed.data as Record<string, unknown>;
}

/** The jobs, and the URL Cloud Scheduler reaches them at unless told otherwise (KESHLESS_PUBLIC_URL). */
export type JobsWithUrl = Jobs & { publicUrl: string };

export const jobCommands: Record<string, Command<JobsWithUrl>> = {
  "job:run": {
    describe:
      "run a scheduled job now: --name report-generation|backup|backup-cleanup|… [--query 'date=2026-12-01'] — the endpoint's query parameters, validated as the endpoint does (one run at a time, recorded)",
    flags: ["name", "query"],
    run: async (jobs, flags) => {
      const name = requireFlag(flags, "name");
      const query = jobQuery(jobs, name, flags.query);
      const run = await jobs.runJob(name, "cli", { actor: { type: "system", id: "cli" } }, query);
      return { result: { jobRunId: run.id, status: run.status, summary: run.summary }, ok: run.status === "succeeded" };
    },
  },
  "jobs:schedule": {
    describe:
      "print the Cloud Scheduler definition of every job (cron, time zone, URL, header) for --url (default KESHLESS_PUBLIC_URL); deploy/scheduler.sh applies them",
    flags: ["url"],
    run: async (jobs, flags) => ({ result: { data: schedulerDefinitions(jobs, flags.url ?? jobs.publicUrl) } }),
  },
};
