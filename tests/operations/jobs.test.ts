import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import { jobRuns } from "../../src/jobs/schema";
import { startFakeGcs, throwawayServiceAccount } from "../support/fake-gcs";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { adminUrl } from "./kit";

/**
 * The backup job under the job runner, with the backups bucket on (a wire-level fake of) GCS: two runs at once —
 * the second is 409 while the first is still uploading — and a run whose process is killed mid-dump (a real
 * SIGKILL of a CLI process, on Postgres) is marked abandoned by the next run, which succeeds, and leaves no object.
 */

/**
 * Forwards everything to the fake GCS; while held, the next request that opens a resumable upload waits until
 * released (the upload itself then goes straight to the fake, at the session URL it answers).
 */
function holdingProxy(target: string) {
  let hold: { entered: () => void; released: Promise<void> } | undefined;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      const body = ["GET", "HEAD", "DELETE"].includes(request.method) ? undefined : await request.arrayBuffer();
      if (hold && request.method === "POST" && url.searchParams.get("uploadType") === "resumable") {
        const current = hold;
        hold = undefined;
        current.entered();
        await current.released;
      }
      const answer = await fetch(`${target}${url.pathname}${url.search}`, {
        method: request.method,
        headers: request.headers,
        ...(body ? { body } : {}),
      });
      return new Response(answer.body, { status: answer.status, headers: answer.headers });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    hold() {
      let entered!: () => void;
      let release!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      hold = { entered, released };
      return { inside, release };
    },
    stop: () => server.stop(true),
  };
}

const fake = startFakeGcs(throwawayServiceAccount());
const proxy = holdingProxy(fake.url);
const env = { KESHLESS_STORAGE: "gcs", KESHLESS_GCS_API_ENDPOINT: proxy.url };
const t = await createTestContext(env);
afterAll(async () => {
  await proxy.stop();
  await fake.stop();
});

const backup = () => t.request("POST", "/backup-jobs/backup", { headers: { "x-job-secret": t.config.secrets.job } });
const objects = () =>
  [...fake.objects.keys()].filter((k) => k.startsWith(`${t.config.storage.backupsBucket}/database/`));

describe("the backup job under the runner", () => {
  test("without X-Job-Secret it is 401 and nothing runs", async () => {
    const res = await t.request("POST", "/backup-jobs/backup");
    expect(res.status).toBe(401);
    expect(await t.deps.jobs.list({ name: "backup", limit: 5 })).toMatchObject({ data: [] });
  });

  test("two runs at once: the second is 409 while the first is still writing; the first then succeeds", async () => {
    const held = proxy.hold();
    const first = backup();
    await held.inside;
    const second = await backup();
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: "CONFLICT", details: { reason: "JOB_RUNNING" } });
    held.release();
    const done = await first;
    expect(done.status).toBe(200);
    const stored = fake.objects.get(`${t.config.storage.backupsBucket}/${done.json.summary.object}`);
    expect(stored?.data.byteLength).toBe(done.json.summary.bytes);
    expect((await t.deps.runCommand("backup:verify", { object: done.json.summary.object })).ok).toBe(true);
  }, 60_000);

  test("a run whose process died is marked abandoned by the next run (a crash's leftover row)", async () => {
    await t.deps.database.db.insert(jobRuns).values({
      id: `job_crashed${Date.now()}`,
      name: "backup",
      trigger: "http",
      status: "running",
      startedAt: t.deps.now(),
    });
    const res = await backup();
    expect(res.status).toBe(200);
    const rows = await t.deps.database.db
      .select()
      .from(jobRuns)
      .where(and(eq(jobRuns.name, "backup"), eq(jobRuns.status, "abandoned")));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.error).toContain("stopped");
  }, 60_000);
});

describe.skipIf(!adminUrl)("a backup process killed mid-dump (Postgres)", () => {
  const dir = mkdtempSync(join(tmpdir(), "keshless-kill-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("SIGKILL while pg_dump runs: the lock dies with its connection, the next run marks it abandoned", async () => {
    const marker = join(dir, "pg_dump.pid");
    // A pg_dump that answers the version check as the real one does, then hangs mid-run: the moment to kill.
    const script = join(dir, "pg_dump");
    writeFileSync(
      script,
      `#!/bin/sh\nif [ "$1" = "--version" ]; then exec pg_dump --version; fi\necho $$ > ${marker}\nexec sleep 120\n`,
    );
    chmodSync(script, 0o755);
    const before = objects();
    const child = Bun.spawn(["bun", "src/cli.ts", "job:run", "--name", "backup"], {
      cwd: `${import.meta.dir}/../..`,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...TEST_SECRETS,
        ...env,
        KESHLESS_ENV: "test",
        KESHLESS_DATA_DIR: t.config.dataDir,
        DATABASE_URL: t.config.databaseUrl!,
        KESHLESS_PG_DUMP: script,
        LOG_LEVEL: "silent",
      },
      stdout: "ignore",
      stderr: "ignore",
    });
    // Wait (bounded) for the dump to be under way: the run's row is then written and its lock held.
    for (let i = 0; i < 300 && !existsSync(marker); i++) await Bun.sleep(50);
    expect(existsSync(marker)).toBe(true);
    const [running] = await t.deps.database.db
      .select()
      .from(jobRuns)
      .where(and(eq(jobRuns.name, "backup"), eq(jobRuns.status, "running")));
    expect(running).toBeDefined();
    child.kill("SIGKILL");
    await child.exited;
    process.kill(Number(readFileSync(marker, "utf8").trim()), "SIGKILL");

    // Postgres drops the dead session's advisory lock once it sees the connection close.
    let next = await backup();
    for (let i = 0; i < 100 && next.status === 409; i++) {
      await Bun.sleep(50);
      next = await backup();
    }
    expect(next.status).toBe(200);
    const [after] = await t.deps.database.db.select().from(jobRuns).where(eq(jobRuns.id, running!.id));
    expect(after).toMatchObject({ status: "abandoned", error: "the process running it stopped" });
    expect(after!.finishedAt).not.toBeNull();
    // The killed run left no object behind: only the next run's backup is new.
    expect(objects().filter((k) => !before.includes(k))).toEqual([
      `${t.config.storage.backupsBucket}/${next.json.summary.object}`,
    ]);
  }, 60_000);
});
