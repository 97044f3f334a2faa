import { type Command, requireFlag } from "../lib/command";
import type { Jobs } from "./service";

export const jobCommands: Record<string, Command<Jobs>> = {
  "job:run": {
    describe:
      "run a scheduled job now: --name approval-expiry|airtime-reconcile|retention (one run at a time, recorded)",
    flags: ["name"],
    run: async (jobs, flags) => {
      const run = await jobs.runJob(requireFlag(flags, "name"), "cli", { actor: { type: "system", id: "cli" } });
      return { result: { jobRunId: run.id, status: run.status, summary: run.summary }, ok: run.status === "succeeded" };
    },
  },
};
