import { Cron } from "croner";
import type { Core } from "../core";
import type { RequestMeta } from "../http/context";
import { AppError } from "../http/errors";
import { createLoopBackoff } from "../lib/backoff";
import { JOB_TIME_ZONE, type JobDefinition } from "./definition";
import { createJobRunner, type JobRun, type JobTrigger } from "./runner";

/** Cloud Scheduler takes unix-cron, which has no seconds field: a schedule it would refuse is refused here. */
const SCHEDULE_OPTIONS = { mode: "5-part", timezone: JOB_TIME_ZONE } as const;
/**
 * A loop ticks this long after each scheduled time: where Cloud Scheduler calls the job at that time (production),
 * its call finds the job's lock free rather than a 409, and the loop then finds nothing left to do (or the run
 * still going: a 409 the loop ignores).
 */
const LOOP_LAG_SECONDS = 30;
/** The longest a failing loop waits before trying again. */
const MAX_BACKOFF_MS = 60_000;

/** A job's schedule as croner reads it. One Cloud Scheduler would refuse, or that never comes due, stops the boot. */
export function parseSchedule(job: Pick<JobDefinition, "name" | "schedule">): Cron {
  const invalid = (reason: string) =>
    new Error(`jobs: ${job.name} has an invalid schedule "${job.schedule}": ${reason}`);
  // croner would also take a nickname (@daily), which Cloud Scheduler does not.
  if (!/^\S+(\s+\S+){4}$/.test(job.schedule.trim())) throw invalid("Cloud Scheduler takes exactly five fields");
  let cron: Cron;
  try {
    cron = new Cron(job.schedule, SCHEDULE_OPTIONS);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  if (!cron.nextRun()) throw invalid("it never comes due");
  return cron;
}

/**
 * Jobs as the rest of the app sees them: run one by name (HTTP, CLI, loop), read the runs, and the
 * in-process loops that keep jobs going where no scheduler calls (the embedded default) or where work
 * should not wait for the next scheduled tick (airtime whose outcome is unknown).
 */
export function createJobs(deps: Core, jobs: readonly JobDefinition[]) {
  const runner = createJobRunner(deps);
  const schedules = new Map(jobs.map((job) => [job.name, parseSchedule(job)]));
  const findJob = (name: string) => jobs.find((job) => job.name === name);
  const log = deps.logger.child({ component: "jobs" });
  const stops: (() => void)[] = [];
  const inFlight = new Set<Promise<unknown>>();

  async function runJob(
    name: string,
    trigger: JobTrigger,
    meta: RequestMeta = {},
    query?: Record<string, unknown>,
  ): Promise<JobRun> {
    const job = findJob(name);
    if (!job) throw new AppError("NOT_FOUND", `No job is named ${name}.`);
    return runner.run(name, () => job.run({ meta, ...(query ? { query } : {}) }), {
      trigger,
      ...(meta.requestId ? { requestId: meta.requestId } : {}),
    });
  }

  /**
   * One job's loop, on its schedule (LOOP_LAG_SECONDS after each time) or every `everyMs`; returns its stop. A
   * tick runs the job only when it has something due. A tick that fails (the database is unreachable, typically)
   * makes the loop back off exponentially, up to a minute, logging the first failure and the recovery rather
   * than every tick.
   */
  function startLoop(job: JobDefinition, loop: NonNullable<JobDefinition["loop"]>): () => void {
    // A scheduled tick comes at least a minute after the last, so there the backoff never holds one back:
    // it only keeps the streak, so that an outage is logged once.
    const backoff = createLoopBackoff({ baseMs: loop.everyMs ?? MAX_BACKOFF_MS, maxMs: MAX_BACKOFF_MS });
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
    const tracked = () => {
      const p = tick();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      return p;
    };
    if (loop.everyMs !== undefined) {
      const timer = setInterval(tracked, loop.everyMs);
      return () => clearInterval(timer);
    }
    const cron = new Cron(
      `${LOOP_LAG_SECONDS} ${job.schedule.trim()}`,
      {
        timezone: JOB_TIME_ZONE,
        mode: "6-part",
        protect: () => log.warn({ job: job.name }, "job loop tick skipped: the previous one is still running"),
      },
      tracked,
    );
    return () => cron.stop();
  }

  function start() {
    if (stops.length) return;
    for (const job of jobs) if (job.loop) stops.push(startLoop(job, job.loop));
  }

  /** Stops every loop, then waits for the ticks already running (a job run included) to finish. */
  async function stop() {
    for (const stopLoop of stops.splice(0)) stopLoop();
    await Promise.allSettled([...inFlight]);
  }

  return {
    runJob,
    /** The query parameters a job's endpoint takes (undefined: none), for callers other than its route. */
    querySchema: (name: string) => findJob(name)?.query,
    /** The query parameters a job's endpoint takes, if any (JobDefinition.query). */
    queryOf: (name: string) => findJob(name)?.query,
    list: runner.list,
    get: runner.get,
    latest: runner.latest,
    definitions: () =>
      jobs.map((j) => ({
        name: j.name,
        path: j.path,
        schedule: j.schedule,
        summary: j.summary,
        loop: !!j.loop,
        nextRunAt: schedules.get(j.name)?.nextRun(deps.now())?.toISOString() ?? null,
      })),
    start,
    stop,
  };
}

export type Jobs = ReturnType<typeof createJobs>;
