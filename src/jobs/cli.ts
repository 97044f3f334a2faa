import { registerCommand, requireFlag } from "../cli";

registerCommand("job:run", {
  describe: "run a scheduled job now: --name approval-expiry|airtime-reconcile|retention (one run at a time, recorded)",
  flags: ["name"],
  run: async (deps, flags) => {
    const run = await deps.jobs.runJob(requireFlag(flags, "name"), "cli", { actor: { type: "system", id: "cli" } });
    return { result: { jobRunId: run.id, status: run.status, summary: run.summary }, ok: run.status === "succeeded" };
  },
});
