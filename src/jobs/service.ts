import type { Core } from "../core";
import type { RequestMeta } from "../http/context";
import { AppError } from "../http/errors";
import { createLoopBackoff } from "../lib/backoff";
import type { JobDefinition } from "./definition";
import { createJobRunner, type JobRun, type JobTrigger } from "./runner";

/**
 * Jobs as the rest of the app sees them: run one by name (HTTP, CLI, loop), read the runs, and the
 * in-process loops that keep jobs going where no scheduler calls (the embedded default) or where work
 * should not wait for the next scheduled tick (airtime whose outcome is unknown).
 */
export function createJobs(deps: Core, jobs: readonly JobDefinition[]) {
  const runner = createJobRunner(deps);
  const findJob = (name: string) => jobs.find((job) => job.name === name);
  const log = deps.logger.child({ component: "jobs" });
  const timers: ReturnType<typeof setInterval>[] = [];
  const inFlight = new Set<Promise<unknown>>();

  async function runJob(name: string, trigger: JobTrigger, meta: RequestMeta = {}): Promise<JobRun> {
    const job = findJob(name);
    if (!job) throw new AppError("NOT_FOUND", `No job is named ${name}.`);
    return runner.run(name, () => job.run({ meta }), {
      trigger,
      ...(meta.requestId ? { requestId: meta.requestId } : {}),
    });
  }

  /**
   * Starts a loop per job that has one; a tick runs the job only when it has something due. A tick that fails
   * (the database is unreachable, typically) makes the loop back off exponentially, up to a minute, logging the
   * first failure and the recovery rather than every tick.
   */
  function start() {
    if (timers.length) return;
    for (const job of jobs) {
      if (!job.loop) continue;
      const loop = job.loop;
      const { intervalMs } = loop;
      const backoff = createLoopBackoff({ baseMs: intervalMs, maxMs: 60_000 });
      let busy = false;
      const tick = async () => {
        if (busy || !backoff.ready()) return;
        busy = true;
        try {
          if (await loop.due()) await runJob(job.name, "loop", { actor: { type: "system", id: `loop:${job.name}` } });
          const recovered = backoff.succeeded();
          if (recovered) log.info({ job: job.name, ...recovered }, "job loop recovered");
        } catch (error) {
          if (error instanceof AppError && error.code === "CONFLICT") {
            // Another instance (or the scheduler) is running it: that run will do the work.
            backoff.succeeded();
          } else {
            const failing = backoff.failed();
            if (failing.first)
              log.warn(
                { err: error, job: job.name, retryInMs: failing.retryInMs },
                "job loop tick failed; backing off until a tick succeeds",
              );
          }
        } finally {
          busy = false;
        }
      };
      timers.push(
        setInterval(() => {
          const p = tick();
          inFlight.add(p);
          void p.finally(() => inFlight.delete(p));
        }, intervalMs),
      );
    }
  }

  async function stop() {
    for (const timer of timers.splice(0)) clearInterval(timer);
    await Promise.allSettled([...inFlight]);
  }

  return {
    runJob,
    list: runner.list,
    get: runner.get,
    latest: runner.latest,
    definitions: () =>
      jobs.map((j) => ({ name: j.name, path: j.path, schedule: j.schedule, summary: j.summary, loop: !!j.loop })),
    start,
    stop,
  };
}

export type Jobs = ReturnType<typeof createJobs>;
