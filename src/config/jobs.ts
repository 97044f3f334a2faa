import { z } from "zod";
import { int } from "./shared";

/** Scheduled jobs' settings (the secret they are called with is KESHLESS_JOB_SECRET in secrets.ts). */
export const jobsEnv = z.object({
  KESHLESS_RETENTION_DAYS: int(7, 3650).default(90),
});
export type JobsEnv = z.infer<typeof jobsEnv>;

export function jobsSettings(e: JobsEnv) {
  return {
    /** The retention job deletes finished operational rows (notifications, webhook deliveries) older than `days`. */
    retention: { days: e.KESHLESS_RETENTION_DAYS },
  };
}
export type JobsSlice = ReturnType<typeof jobsSettings>;
