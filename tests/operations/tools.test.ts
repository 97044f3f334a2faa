import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestContext } from "../support/harness";
import { adminUrl, emptyPostgres } from "./kit";

/**
 * The dump tool must be there and at least the server's major version (the image installs
 * postgresql-client-<PG_MAJOR>): a backup run with pg_dump missing, or older than the server, fails with a
 * message saying so and what to do, stores nothing, and is recorded failed; a restore checks pg_restore the same
 * way before touching anything. Postgres only: the embedded default dumps with PGlite's own tool.
 */

const dir = mkdtempSync(join(tmpdir(), "keshless-tools-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in that answers --version as PostgreSQL 14's tools do, and would dump nothing. */
function oldTool(name: string) {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho "${name} (PostgreSQL) 14.9 (Debian 14.9-1.pgdg120+1)"\n`);
  chmodSync(path, 0o755);
  return path;
}

type Context = Awaited<ReturnType<typeof createTestContext>>;
const contexts: Record<"missing" | "old" | "good", Context> | null = adminUrl
  ? {
      missing: await createTestContext({
        KESHLESS_PG_DUMP: join(dir, "no-such-pg_dump"),
        KESHLESS_PG_RESTORE: join(dir, "no-such-pg_restore"),
      }),
      old: await createTestContext({
        KESHLESS_PG_DUMP: oldTool("pg_dump"),
        KESHLESS_PG_RESTORE: oldTool("pg_restore"),
      }),
      good: await createTestContext(),
    }
  : null;
const backup = (t: Context) =>
  t.request("POST", "/backup-jobs/backup", { headers: { "x-job-secret": t.config.secrets.job } });

describe.skipIf(!contexts)("the dump tools (Postgres)", () => {
  test("the machine's tools are at least the server's version, so the check passes and the backup succeeds", async () => {
    const res = await backup(contexts!.good);
    expect(res.status).toBe(200);
    expect(res.json.summary.tool).toMatch(/^pg_dump \d+/);
    expect(Number(res.json.summary.tool.split(" ")[1].split(".")[0])).toBeGreaterThanOrEqual(res.json.summary.server);
  });

  for (const [what, name, message] of [
    [
      "missing",
      "missing",
      /pg_dump is missing or unusable: .*no-such-pg_dump was not found.*Install postgresql-client-\d+.*KESHLESS_PG_DUMP/,
    ],
    [
      "older than the server",
      "old",
      /pg_dump at .* is version 14\.9, older than the server \(PostgreSQL \d+\).*KESHLESS_PG_DUMP/,
    ],
  ] as const)
    test(`pg_dump ${what}: the run fails (500 with its jobRunId), says why, and stores nothing`, async () => {
      const t = contexts![name];
      const res = await backup(t);
      expect(res.status).toBe(500);
      const run = await t.deps.jobs.get(res.json.error.details.jobRunId);
      expect(run).toMatchObject({ name: "backup", status: "failed" });
      expect(run!.error).toMatch(message);
      expect(await t.deps.operations.backups.list()).toEqual([]);
    });

  test("pg_restore missing or older: a restore refuses before touching the target", async () => {
    const { good } = contexts!;
    const made = await backup(good);
    const { object } = made.json.summary;
    for (const [name, message] of [
      ["missing", /pg_restore is missing or unusable.*KESHLESS_PG_RESTORE/],
      ["old", /pg_restore at .* is version 14\.9, older than the server/],
    ] as const) {
      const t = contexts![name];
      // The same bucket: copy the good backup across.
      const bytes = await good.deps.storage.backups.read(object);
      await t.deps.storage.backups.write(object, bytes, "application/octet-stream");
      const target = await emptyPostgres();
      try {
        await expect(t.deps.runCommand("backup:restore", { object, "database-url": target.url })).rejects.toThrow(
          message,
        );
      } finally {
        await target.drop();
      }
    }
  });
});
