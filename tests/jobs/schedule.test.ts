import { afterEach, describe, expect, jest, test } from "bun:test";
import { runCommand } from "../../src/cli";
import type { JobDefinition } from "../../src/jobs/definition";
import { jobsModule } from "../../src/jobs/module";
import { createJobs, parseSchedule } from "../../src/jobs/service";
import { createTestContext } from "../support/harness";
import { moneyKit } from "../withdrawals/kit";

/**
 * Each job's schedule is the one truth about when it runs: croner checks it when the registry is built (a
 * schedule Cloud Scheduler would refuse stops the boot, naming the job), GET /admin/v1/jobs shows when it next
 * comes due, and the in-process loop ticks on it, read in Africa/Mbabane. Time here is croner's, moved by the
 * test's fake timers: nothing waits on the wall clock.
 */
const t = await createTestContext();
const kit = await moneyKit(t);

afterEach(() => jest.useRealTimers());

const job = (over: Partial<JobDefinition> & Pick<JobDefinition, "name">): JobDefinition => ({
  path: `/jobs/${over.name}`,
  schedule: "*/15 * * * *",
  summary: "A job for this test",
  run: async () => ({ summary: {}, ok: true }),
  ...over,
});

/** Lets the ticks a timer just started run to their next await on real I/O (setImmediate is not faked). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("job schedules", () => {
  test("GET /admin/v1/jobs shows each schedule's next time, read in Africa/Mbabane", async () => {
    // 01:59 in Eswatini (UTC+2), a few hours to a day ahead: the next quarter hour is 02:00 there, and the 02:30 retention is today's.
    const real = t.deps.now;
    const day = new Date(Date.now() + 26 * 3_600_000).toISOString().slice(0, 10);
    const offset = Date.parse(`${day}T01:59:00+02:00`) - Date.now();
    t.deps.now = () => new Date(real().getTime() + offset);
    try {
      const admin = await kit.admin("finance");
      const res = await t.request("GET", "/admin/v1/jobs", { token: admin.token });
      expect(res.status).toBe(200);
      const next = Object.fromEntries(
        res.json.data.map((j: { name: string; schedule: string; nextRunAt: string }) => [
          j.name,
          [j.schedule, j.nextRunAt],
        ]),
      );
      expect(next).toMatchObject({
        "approval-expiry": ["*/15 * * * *", `${day}T00:00:00.000Z`],
        "airtime-reconcile": ["*/5 * * * *", `${day}T00:00:00.000Z`],
        retention: ["30 2 * * *", `${day}T00:30:00.000Z`],
      });
    } finally {
      t.deps.now = real;
    }
  });

  test("a schedule Cloud Scheduler would refuse stops the registry being built, naming the job", () => {
    const boot = (schedule: string) =>
      jobsModule.create(t.deps, { jobs: [job({ name: "nightly-report", schedule })], purges: () => [], sweeps: [] });
    expect(() => boot("0 3 * * *")).not.toThrow();
    for (const schedule of [
      "61 * * * *", // no such minute
      "*/10 * * * * *", // seconds: croner reads them, Cloud Scheduler does not
      "@daily", // a nickname, likewise
      "0 3 * *",
      "0 0 31 2 *", // never comes due
      "every night",
    ])
      expect(() => boot(schedule)).toThrow(`jobs: nightly-report has an invalid schedule "${schedule}"`);
  });

  test("the loop ticks on the schedule (half a minute after each time), runs the job when due, and stop() waits for it", async () => {
    jest.useFakeTimers({ now: new Date("2026-03-10T02:14:00+02:00") });
    const ticks: string[] = [];
    let due = false;
    let release!: () => void;
    const running = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const jobs = createJobs(t.deps, [
      job({
        name: "quarterly-test",
        run: async () => {
          await running;
          finished = true;
          return { summary: { done: 1 }, ok: true };
        },
        loop: {
          due: async () => {
            ticks.push(new Date().toISOString());
            return due;
          },
        },
      }),
    ]);
    jobs.start();
    jest.advanceTimersByTime(60_000); // 02:15:00, when Cloud Scheduler calls: the loop leaves it the lock
    expect(ticks).toEqual([]);
    jest.advanceTimersByTime(30_000);
    await settle();
    jest.advanceTimersByTime(15 * 60_000);
    await settle();
    expect(ticks).toEqual(["2026-03-10T00:15:30.000Z", "2026-03-10T00:30:30.000Z"]);

    due = true;
    jest.advanceTimersByTime(15 * 60_000); // 02:45:30: due, so it runs, and is still running at 03:00:30
    await settle();
    jest.advanceTimersByTime(15 * 60_000 + 1_000);
    expect(ticks).toHaveLength(3);
    jest.useRealTimers();
    await settle();
    expect(t.logs.some((l) => l.includes("job loop tick skipped: the previous one is still running"))).toBe(true);

    const stopped = jobs.stop();
    let stopDone = false;
    void stopped.then(() => {
      stopDone = true;
    });
    await settle();
    expect(stopDone).toBe(false);
    release();
    await stopped;
    expect(finished).toBe(true);
    const runs = await jobs.list({ name: "quarterly-test", limit: 10 });
    expect(runs.data.map((r) => [r.trigger, r.status, r.summary])).toEqual([["loop", "succeeded", { done: 1 }]]);
  });

  test("a daily schedule ticks once a day, at its time in Africa/Mbabane", async () => {
    jest.useFakeTimers({ now: new Date("2026-03-10T00:00:00Z") }); // 02:00 in Eswatini
    const ticks: string[] = [];
    const jobs = createJobs(t.deps, [
      job({
        name: "daily-test",
        schedule: "30 2 * * *",
        loop: {
          due: async () => {
            ticks.push(new Date().toISOString());
            return false;
          },
        },
      }),
    ]);
    jobs.start();
    for (let hour = 0; hour < 48; hour++) {
      jest.advanceTimersByTime(3_600_000);
      await settle();
    }
    await jobs.stop();
    expect(ticks).toEqual(["2026-03-10T00:30:30.000Z", "2026-03-11T00:30:30.000Z"]);
  });
});

describe("bun run cli jobs:schedule", () => {
  /** Every job API.md "Scheduled jobs" names, and the two the platform added (airtime, retention). */
  const EXPECTED_PATHS = [
    "/backup-jobs/backup",
    "/backup-jobs/secrets",
    "/backup-jobs/cleanup",
    "/sanctions-jobs/sync",
    "/report-jobs/generate",
    "/jobs/alert-escalation",
    "/jobs/approval-expiry",
    "/jobs/airtime-reconcile",
    "/jobs/retention",
  ];

  test("prints one Cloud Scheduler HTTP job per registered job: cron, Africa/Mbabane, the URL, the header — never the secret", async () => {
    const { result, ok } = await runCommand(t.deps, "jobs:schedule", { url: "https://api.keshless.test/" });
    expect(ok).toBe(true);
    const { data } = result as { data: Record<string, any>[] };
    const registry = t.deps.jobs.definitions();
    expect(data.map((d) => d.path).sort()).toEqual(registry.map((j) => j.path).sort());
    for (const path of EXPECTED_PATHS) expect(data.map((d) => d.path)).toContain(path);
    for (const d of data) {
      const job = registry.find((j) => j.path === d.path)!;
      expect(d).toMatchObject({
        name: `keshless-${job.name}`,
        schedule: job.schedule,
        timeZone: "Africa/Mbabane",
        uri: `https://api.keshless.test${job.path}`,
        httpMethod: "POST",
        headers: { "X-Job-Secret": "secret:KESHLESS_JOB_SECRET" },
      });
      // Each cron is one Cloud Scheduler takes (the registry refuses any other at boot).
      expect(() => parseSchedule(job)).not.toThrow();
    }
    expect(JSON.stringify(result)).not.toContain(t.deps.config.secrets.job);
  });

  test("defaults to KESHLESS_PUBLIC_URL and refuses a URL that is not one", async () => {
    const { result } = await runCommand(t.deps, "jobs:schedule", {});
    const [first] = (result as { data: { uri: string; path: string }[] }).data;
    expect(first!.uri).toBe(`${t.deps.config.storage.publicUrl}${first!.path}`);
    await expect(runCommand(t.deps, "jobs:schedule", { url: "not a url" })).rejects.toThrow("--url");
    await expect(runCommand(t.deps, "jobs:schedule", { url: "ftp://api.keshless.test" })).rejects.toThrow("--url");
  });
});

describe("bun run cli job:run --query", () => {
  test("passes the endpoint's query parameters, validated as the endpoint validates them", async () => {
    const day = "2026-01-15";
    const { result, ok } = await runCommand(t.deps, "job:run", {
      name: "report-generation",
      query: `date=${day}`,
    });
    expect(ok).toBe(true);
    expect((result as { summary: { date: string } }).summary.date).toBe(day);
    await expect(runCommand(t.deps, "job:run", { name: "report-generation", query: "date=yesterday" })).rejects.toThrow(
      "--query: date",
    );
    await expect(runCommand(t.deps, "job:run", { name: "retention", query: "x=1" })).rejects.toThrow(
      "retention takes no --query",
    );
  });
});
