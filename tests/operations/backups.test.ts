import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/client";
import { createEncryptStream, createKeyring } from "../../src/lib/stream-crypto";
import { isEmptyDatabase, parseBackupName } from "../../src/operations";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { PIN } from "../withdrawals/kit";
import { adminUrl, balances, cli, emptyPostgres, rowCounts, seedMoney } from "./kit";

/**
 * A backup provably restores (issue 15): real money movement is backed up through POST /backup-jobs/backup,
 * restored into a new database (a new Postgres database, or a new PGlite data dir on the embedded default), and
 * the restored copy passes `ledger:verify` with every account balance and every table's row count equal to the
 * source. What is stored is not plaintext. A flipped byte, a dropped chunk, a truncated object and a wrong key
 * are refused by verify and by restore, and the target is left untouched.
 */

const CHUNK = 4096;
const t = await createTestContext({ KESHLESS_BACKUP_CHUNK_BYTES: String(CHUNK) });
const store = t.deps.storage.backups;
const onPostgres = !!adminUrl;
const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "keshless-restore-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const job = (path: string) => t.request("POST", path, { headers: { "x-job-secret": t.config.secrets.job } });
const run = (name: string, flags: Record<string, string>) => t.deps.runCommand(name, flags);

const seeded = await seedMoney(t);
const backup = await job("/backup-jobs/backup");
const object: string = backup.json?.summary?.object;
// Taken after the run: the dump holds the run's own job_runs row (still "running" in the copy).
const before = { balances: await balances(t.deps.database.db), rows: await rowCounts(t.deps.database.db) };

/** A target to restore into: a new empty Postgres database, or a new data dir for the embedded default. */
async function newTarget(): Promise<{
  flags: Record<string, string>;
  untouched(): Promise<boolean>;
  open(): ReturnType<typeof openDatabase>;
  cliEnv: Record<string, string>;
  drop(): Promise<void>;
}> {
  if (onPostgres) {
    const db = await emptyPostgres();
    return {
      flags: { "database-url": db.url },
      async untouched() {
        const opened = await openDatabase({ databaseUrl: db.url, poolMax: 1 });
        try {
          return await isEmptyDatabase(opened.db);
        } finally {
          await opened.close();
        }
      },
      async open() {
        return openDatabase({ databaseUrl: db.url, poolMax: 2 });
      },
      cliEnv: { DATABASE_URL: db.url },
      drop: db.drop,
    };
  }
  const dir = join(freshDir(), "restored");
  return {
    flags: { "data-dir": dir },
    untouched: async () => !existsSync(join(dir, "pgdata")),
    open: () => openDatabase({ dataDir: dir }),
    cliEnv: { KESHLESS_DATA_DIR: dir },
    drop: async () => {},
  };
}

describe("backup", () => {
  test("POST /backup-jobs/backup stores an encrypted dump in the backups bucket: {object, bytes, sha256}", async () => {
    expect(backup.status).toBe(200);
    expect(backup.json.status).toBe("succeeded");
    const { summary } = backup.json;
    const name = parseBackupName(summary.object)!;
    expect(name).toMatchObject({ kind: "database", format: onPostgres ? "pgc" : "sql" });
    const stored = await store.read(summary.object);
    expect(summary.bytes).toBe(stored.byteLength);
    expect(summary.sha256).toBe(new Bun.CryptoHasher("sha256").update(stored).digest("hex"));
    expect(summary.chunks).toBeGreaterThan(2);
  });

  test("what is stored is not plaintext: a user's phone is in the dump, not in the object", async () => {
    const stored = Buffer.from(await store.read(object));
    const { plain } = await t.deps.operations.backups.open(object);
    const dump = Buffer.from(await new Response(plain).arrayBuffer());
    let script = dump.toString("latin1");
    if (onPostgres) {
      // pg_dump's custom format compresses: read it back as SQL with pg_restore to find the value.
      expect(dump.subarray(0, 5).toString()).toBe("PGDMP");
      const proc = Bun.spawn(["pg_restore", "--file=-"], { stdin: dump, stdout: "pipe" });
      script = await new Response(proc.stdout).text();
      expect(await proc.exited).toBe(0);
    }
    expect(script).toContain(seeded.alice.phone);
    expect(stored.includes(Buffer.from(seeded.alice.phone))).toBe(false);
    expect(stored.includes(Buffer.from(seeded.alice.phone.slice(4)))).toBe(false);
    expect(stored.includes(Buffer.from("PGDMP"))).toBe(false);
    expect(stored.includes(Buffer.from("CREATE TABLE"))).toBe(false);
  });

  test("backup:list shows it; backup:verify checks every chunk", async () => {
    const listed = await run("backup:list", {});
    expect(listed.ok).toBe(true);
    expect((listed.result as any).data).toContainEqual({
      object,
      createdAt: parseBackupName(object)!.createdAt.toISOString(),
      bytes: backup.json.summary.bytes,
      kind: "database",
    });
    const verified = await run("backup:verify", { object });
    expect(verified.ok).toBe(true);
    expect(verified.result).toMatchObject({
      ok: true,
      bytes: backup.json.summary.bytes,
      chunks: backup.json.summary.chunks,
    });
  });
});

describe("restore into a new database", () => {
  test("ledger:verify passes on the copy, and every balance and every table's row count equals the source", async () => {
    expect(await rowCounts(t.deps.database.db)).toEqual(before.rows);
    const target = await newTarget();
    try {
      const restored = await run("backup:restore", { object, ...target.flags });
      expect(restored.result).toMatchObject({ ok: true });
      expect(restored.ok).toBe(true);
      const copy = await target.open();
      try {
        expect(await balances(copy.db)).toEqual(before.balances);
        const counts = await rowCounts(copy.db);
        expect(counts).toEqual(before.rows);
        expect(counts["public.ledger_entries"]).toBeGreaterThan(0);
        expect(counts["public.users"]).toBeGreaterThanOrEqual(2);
        expect((restored.result as any).rows).toBeGreaterThanOrEqual(
          Object.values(before.rows).reduce((a, b) => a + b, 0),
        );
      } finally {
        await copy.close();
      }
      // The operator's check, in a process of its own over the restored database.
      const verify = await cli(["ledger:verify"], {
        ...TEST_SECRETS,
        KESHLESS_ENV: "test",
        ...target.cliEnv,
      });
      expect(verify.json.problems).toEqual([]);
      expect(verify.json.ok).toBe(true);
      expect(verify.json.journals).toBeGreaterThan(0);
      expect(verify.code).toBe(0);
    } finally {
      await target.drop();
    }
  }, 60_000);

  test("a target that is not empty is refused, and left as it was", async () => {
    if (onPostgres) {
      const target = await newTarget();
      try {
        const opened = await target.open();
        await opened.db.execute(sql`create table mine (id int)`);
        await opened.close();
        const restored = await run("backup:restore", { object, ...target.flags });
        expect(restored.ok).toBe(false);
        expect((restored.result as any).error).toContain("not empty");
        const after = await target.open();
        expect(await rowCounts(after.db)).toEqual({ "public.mine": 0 });
        await after.close();
      } finally {
        await target.drop();
      }
      return;
    }
    const dir = freshDir();
    const existing = await openDatabase({ dataDir: dir });
    await existing.db.execute(sql`create table mine (id int)`);
    await existing.close();
    const restored = await run("backup:restore", { object, "data-dir": dir });
    expect(restored.ok).toBe(false);
    expect((restored.result as any).error).toContain("not empty");
    const after = await openDatabase({ dataDir: dir });
    expect(await rowCounts(after.db)).toEqual({ "public.mine": 0 });
    await after.close();
  });
});

describe("a damaged backup or the wrong key: verify and restore refuse, the target untouched", () => {
  const HEADER = 8 + 1 + 1 + t.config.backups.keys.current.id.length + 4 + 16 + 7;
  const sealedChunk = CHUNK + 16;
  const format = onPostgres ? "pgc" : "sql";
  /** A copy of the good backup, damaged by `damage`, stored under a backup's name of its own. */
  async function damaged(damage: (bytes: Buffer) => Buffer) {
    const good = Buffer.from(await store.read(object));
    const name = `database/20260101T013000.000Z-${randomBytes(6).toString("hex")}.${format}.kbk`;
    await store.write(name, new Uint8Array(damage(good)), "application/octet-stream");
    return name;
  }

  async function expectRefused(name: string, reason: RegExp) {
    const verified = await run("backup:verify", { object: name });
    expect(verified.ok).toBe(false);
    expect((verified.result as any).error).toMatch(reason);
    const target = await newTarget();
    try {
      const restored = await run("backup:restore", { object: name, ...target.flags });
      expect(restored.ok).toBe(false);
      expect((restored.result as any).error).toContain("does not verify");
      expect(await target.untouched()).toBe(true);
    } finally {
      await target.drop();
    }
  }

  test("a flipped byte", async () => {
    const name = await damaged((bytes) => {
      bytes[HEADER + sealedChunk + 100]! ^= 0x20;
      return bytes;
    });
    await expectRefused(name, /Chunk 1 does not authenticate/);
  });

  test("a dropped chunk", async () => {
    const name = await damaged((bytes) =>
      Buffer.concat([bytes.subarray(0, HEADER + sealedChunk), bytes.subarray(HEADER + 2 * sealedChunk)]),
    );
    await expectRefused(name, /Chunk 1 does not authenticate/);
  });

  test("a truncated file (cut at a chunk boundary, and inside a chunk)", async () => {
    await expectRefused(await damaged((bytes) => bytes.subarray(0, HEADER + 2 * sealedChunk)), /truncated/);
    await expectRefused(await damaged((bytes) => bytes.subarray(0, bytes.length - 7)), /truncated/);
  });

  test("the wrong key (another key under the same id), and a key id this deployment does not hold", async () => {
    for (const [id, reason] of [
      [t.config.backups.keys.current.id, /key is wrong/],
      ["retired-2019", /key retired-2019, which is neither/],
    ] as const) {
      const other = createKeyring({ id, key: randomBytes(32) });
      const plain = new Blob([randomBytes(3 * CHUNK)]).stream();
      const sealed = await new Response(
        plain.pipeThrough(createEncryptStream(other, { chunkSize: CHUNK })),
      ).arrayBuffer();
      const name = `database/20260101T013000.000Z-${randomBytes(6).toString("hex")}.${format}.kbk`;
      await store.write(name, new Uint8Array(sealed), "application/octet-stream");
      await expectRefused(name, reason);
    }
  });

  test("no such object", async () => {
    const verified = await run("backup:verify", { object: `database/20260101T013000.000Z-nothing.${format}.kbk` });
    expect(verified.ok).toBe(false);
    expect((verified.result as any).reason).toBe("not_found");
  });
});

describe("a backup while money moves", () => {
  test("transfers during the dump all complete, the backup verifies, and the ledger still verifies", async () => {
    const transfer = (amount: number) =>
      t.request("POST", "/v1/transfers", {
        token: seeded.alice.accessToken,
        headers: { "idempotency-key": `during-backup-${amount}-${randomBytes(4).toString("hex")}` },
        body: { toPhone: seeded.bob.phone, amount, currency: "SZL", pin: PIN },
      });
    const [during, ...transfers] = await Promise.all([
      job("/backup-jobs/backup"),
      ...[101, 102, 103, 104, 105].map(transfer),
    ]);
    expect(during.status).toBe(200);
    expect(transfers.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect((await run("backup:verify", { object: during.json.summary.object })).ok).toBe(true);
    const report = await t.deps.ledger.verify();
    expect(report.problems).toEqual([]);
  }, 60_000);
});
