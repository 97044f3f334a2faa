import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Core } from "../core";
import { openDatabase } from "../db/client";
import { randomToken } from "../lib/crypto";
import {
  createDecryptStream,
  createEncryptStream,
  createKeyring,
  type Keyring,
  StreamCryptoError,
  type StreamCryptoFailure,
} from "../lib/stream-crypto";
import type { ObjectStore } from "../storage";
import { checkTool, pgDumpStream, pgRestore, serverMajor } from "./dump";
import {
  BACKUP_CONTENT_TYPE,
  BACKUP_PREFIXES,
  type BackupKind,
  type BackupName,
  backupObjectName,
  LEASE_PREFIX,
  parseBackupName,
} from "./objects";
import { pgliteDump, pgliteRestore } from "./pglite-dump";
import { planRetention } from "./retention";
import { isEmptyDatabase, tableRowCounts } from "./tables";

/**
 * Backups of the database into the backups bucket, encrypted as they stream (src/lib/stream-crypto.ts), and
 * everything an operator does with them: list, verify, restore, and the cleanup that keeps what the retention
 * rules say. Nothing here needs the source database to still exist — the bucket and the key are enough.
 */

export interface BackupsDeps extends Pick<Core, "config" | "logger" | "database" | "now"> {
  store: ObjectStore;
}

export interface BackupEntry {
  object: string;
  kind: BackupKind;
  createdAt: string;
  bytes: number;
}

export type VerifyFailure = StreamCryptoFailure | "not_found" | "not_a_backup";

export interface VerifyResult {
  ok: boolean;
  object: string;
  /** The stored object's size. */
  bytes: number;
  /** Chunks that authenticated (all of them when ok). */
  chunks: number;
  /** Plaintext bytes that authenticated. */
  plaintextBytes: number;
  keyId: string | null;
  reason?: VerifyFailure;
  error?: string;
}

export type RestoreTarget = { databaseUrl: string } | { dataDir: string };

export interface RestoreResult {
  ok: boolean;
  object: string;
  tables: number;
  rows: number;
  error?: string;
}

/** A live lease keeps its object from the cleanup this long at most, so a crashed restore cannot pin it forever. */
const LEASE_HOURS = 24;

export function createBackups(deps: BackupsDeps) {
  const { config, logger, store } = deps;
  const log = logger.child({ component: "backups" });
  const settings = config.backups;
  const keyring: Keyring = createKeyring(settings.keys.current, settings.keys.previous);

  /** Encrypts `plain` into `object`, measuring what is stored. Nothing is stored unless `plain` ends cleanly. */
  async function seal(object: string, plain: ReadableStream<Uint8Array>) {
    const encrypt = createEncryptStream(keyring, { chunkSize: settings.chunkBytes });
    const hash = createHash("sha256");
    let bytes = 0;
    const measure = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hash.update(chunk);
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    await store.write(object, plain.pipeThrough(encrypt).pipeThrough(measure), BACKUP_CONTENT_TYPE);
    return {
      object,
      bytes,
      sha256: hash.digest("hex"),
      keyId: keyring.current.id,
      chunks: encrypt.stats.chunks,
      plaintextBytes: encrypt.stats.bytes,
    };
  }

  /** The object's plaintext, each chunk authenticated before it is passed on. */
  async function open(object: string) {
    const decrypt = createDecryptStream(keyring);
    const body = await store.readStream(object);
    return { plain: body.pipeThrough(decrypt), stats: decrypt.stats };
  }

  /** Decrypts the whole object and discards it: ok only when every chunk authenticated and the end is there. */
  async function check(object: string): Promise<VerifyResult> {
    const result: VerifyResult = { ok: false, object, bytes: 0, chunks: 0, plaintextBytes: 0, keyId: null };
    if (!parseBackupName(object))
      return { ...result, reason: "not_a_backup", error: `${object} is not a backup's name.` };
    const stat = await store.stat(object);
    if (!stat) return { ...result, reason: "not_found", error: `No backup ${object} in ${store.bucket}.` };
    result.bytes = stat.size;
    const { plain, stats } = await open(object);
    try {
      await plain.pipeTo(new WritableStream());
      return { ...result, ok: true, chunks: stats.chunks, plaintextBytes: stats.bytes, keyId: stats.keyId };
    } catch (error) {
      if (!(error instanceof StreamCryptoError)) throw error;
      return {
        ...result,
        chunks: stats.chunks,
        plaintextBytes: stats.bytes,
        keyId: stats.keyId,
        reason: error.reason,
        error: error.message,
      };
    }
  }

  /**
   * Runs `fn` while a lease object beside the backups says `object` is being read, so a cleanup (on any
   * instance, or with the source database gone) leaves it alone. A lease that cannot be written (read-only
   * credentials in a disaster) does not stop the read.
   */
  async function leased<T>(object: string, holder: string, fn: () => Promise<T>): Promise<T> {
    const lease = `${LEASE_PREFIX}${randomToken(12)}`;
    const expiresAt = new Date(deps.now().getTime() + LEASE_HOURS * 3_600_000);
    let written = false;
    try {
      await store.write(
        lease,
        new TextEncoder().encode(JSON.stringify({ object, holder, expiresAt: expiresAt.toISOString() })),
        "application/json",
      );
      written = true;
    } catch (err) {
      log.warn({ err, object }, "could not write a lease for the backup being read; cleanup may not see it");
    }
    try {
      return await fn();
    } finally {
      if (written) await store.delete(lease).catch((err) => log.warn({ err, lease }, "could not remove a lease"));
    }
  }

  async function list(kind?: BackupKind): Promise<(BackupName & { bytes: number })[]> {
    const kinds = kind ? [kind] : (Object.keys(BACKUP_PREFIXES) as BackupKind[]);
    const found = (await Promise.all(kinds.map((k) => store.list(BACKUP_PREFIXES[k])))).flat();
    return found
      .flatMap((stored) => {
        const name = parseBackupName(stored.key);
        return name ? [{ ...name, bytes: stored.size }] : [];
      })
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.object.localeCompare(a.object));
  }

  /** Reads it back after writing: a backup is only reported when what is stored decrypts end to end. */
  async function sealAndCheck(object: string, plain: ReadableStream<Uint8Array>) {
    const sealed = await seal(object, plain);
    const verified = await check(object);
    if (!verified.ok) {
      await store.delete(object);
      throw new Error(`The stored backup did not verify and was deleted: ${verified.error}`);
    }
    return sealed;
  }

  async function backupDatabase() {
    const { database } = deps;
    const at = deps.now();
    if (database.kind === "postgres") {
      const server = await serverMajor(database);
      const tool = await checkTool(settings.pgDump, "pg_dump", "KESHLESS_PG_DUMP", server);
      const object = backupObjectName("database", "pgc", at);
      const dump = pgDumpStream(settings.pgDump, database.url!);
      try {
        const sealed = await sealAndCheck(object, dump.stream);
        return { ...sealed, format: "pgc", tool: `pg_dump ${tool.text}`, server };
      } finally {
        dump.kill();
      }
    }
    const object = backupObjectName("database", "sql", at);
    const dump = await pgliteDump(database);
    return { ...(await sealAndCheck(object, dump)), format: "sql", tool: "pglite-tools pg_dump" };
  }

  async function restoreDatabase(object: string, target: RestoreTarget): Promise<RestoreResult> {
    const refused = (error: string): RestoreResult => ({ ok: false, object, tables: 0, rows: 0, error });
    const name = parseBackupName(object);
    if (name?.kind !== "database") return refused(`${object} is not a database backup.`);
    if (name.format === "pgc" && !("databaseUrl" in target))
      return refused("A Postgres backup (pg_dump custom format) restores into Postgres: give --database-url.");
    if (name.format === "sql" && !("dataDir" in target))
      return refused("An embedded-database backup (PGlite's pg_dump) restores into a data dir: give --data-dir.");

    if ("databaseUrl" in target) {
      const targetDb = await openDatabase({ databaseUrl: target.databaseUrl, poolMax: 1 });
      let server: number;
      try {
        if (!(await isEmptyDatabase(targetDb.db)))
          return refused("The target database is not empty: restore into a new, empty database.");
        server = await serverMajor(targetDb);
      } finally {
        await targetDb.close();
      }
      await checkTool(settings.pgRestore, "pg_restore", "KESHLESS_PG_RESTORE", server);
    } else if (!isEmptyDir(join(target.dataDir, "pgdata"))) {
      return refused(`${join(target.dataDir, "pgdata")} is not empty: restore into a new data dir.`);
    }

    return leased(object, "restore", async () => {
      // Every chunk, to the end, before the target is touched: a damaged backup changes nothing.
      const verified = await check(object);
      if (!verified.ok) return refused(`The backup does not verify, so nothing was restored: ${verified.error}`);
      const { plain } = await open(object);
      if ("databaseUrl" in target) {
        await pgRestore(settings.pgRestore, target.databaseUrl, plain);
        const restored = await openDatabase({ databaseUrl: target.databaseUrl, poolMax: 1 });
        try {
          return { ok: true, object, ...summarise(await tableRowCounts(restored.db)) };
        } finally {
          await restored.close();
        }
      }
      const dir = join(target.dataDir, "pgdata");
      await mkdir(target.dataDir, { recursive: true });
      try {
        const counts = await pgliteRestore(dir, plain, (db) => tableRowCounts(db));
        return { ok: true, object, ...summarise(counts) };
      } catch (error) {
        // It was empty (or absent) before: leave it so.
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    });
  }

  async function verify(object: string): Promise<VerifyResult> {
    return leased(object, "verify", () => check(object));
  }

  /** Live leases by the object they hold, and the expired ones (a restore that died). */
  async function leases(now: Date) {
    const live = new Set<string>();
    const expired: string[] = [];
    for (const stored of await store.list(LEASE_PREFIX)) {
      try {
        const lease = JSON.parse(new TextDecoder().decode(await store.read(stored.key))) as {
          object?: string;
          expiresAt?: string;
        };
        if (typeof lease.object === "string" && Date.parse(lease.expiresAt ?? "") > now.getTime())
          live.add(lease.object);
        else expired.push(stored.key);
      } catch (err) {
        log.warn({ err, lease: stored.key }, "an unreadable lease is ignored");
        expired.push(stored.key);
      }
    }
    return { live, expired };
  }

  /**
   * Whether a cleanup would find anything to delete, from the listing alone (no backup is read): the in-process
   * loop's test, so that once one instance (or Cloud Scheduler) has cleaned up, the others do not each read the
   * newest backup again. The newest of each kind counts as kept, as it would be if it verifies.
   */
  async function cleanupDue(): Promise<boolean> {
    const now = deps.now();
    for (const kind of Object.keys(BACKUP_PREFIXES) as BackupKind[]) {
      const backups = await list(kind);
      const newest = backups[0]?.object;
      if (planRetention(backups, now, settings.retention, new Set(newest ? [newest] : [])).delete.length) return true;
    }
    return false;
  }

  /**
   * Deletes what the retention rules do not keep, per kind. Kept whatever the rules say: the newest backup that
   * decrypts end to end (so the cleanup also proves, daily, that the latest backup is whole), and every backup a
   * restore or verify holds a lease on. A kind none of whose backups verifies is left untouched, and the run fails.
   */
  async function cleanup(options: { dryRun: boolean }) {
    const now = deps.now();
    const { live, expired } = await leases(now);
    const deleted: string[] = [];
    const newestGood: Record<string, string | null> = {};
    const problems: string[] = [];
    let kept = 0;
    for (const kind of Object.keys(BACKUP_PREFIXES) as BackupKind[]) {
      const backups = await list(kind);
      if (!backups.length) continue;
      let good: string | null = null;
      for (const backup of backups) {
        const verified = await check(backup.object);
        if (verified.ok) {
          good = backup.object;
          break;
        }
        log.warn({ object: backup.object, reason: verified.reason }, "a backup does not verify");
      }
      newestGood[kind] = good;
      if (!good) {
        problems.push(`no ${kind} backup verifies: nothing of that kind was deleted`);
        kept += backups.length;
        continue;
      }
      const plan = planRetention(backups, now, settings.retention, new Set([good, ...live]));
      kept += plan.keep.size;
      deleted.push(...plan.delete);
    }
    if (!options.dryRun) {
      for (const object of deleted) await store.delete(object);
      for (const lease of expired) await store.delete(lease);
    }
    return {
      summary: { dryRun: options.dryRun, kept, deleted, newestGood, leased: [...live], problems },
      ok: problems.length === 0,
    };
  }

  return {
    keyring,
    /** Where the secrets backup reads from: a secrets restore writes back in that form by default. */
    secretsSource: settings.secrets.source,
    backupDatabase,
    list,
    verify,
    restoreDatabase,
    cleanup,
    cleanupDue,
    seal,
    open,
    leased,
    check,
  };
}

export type Backups = ReturnType<typeof createBackups>;

function isEmptyDir(path: string): boolean {
  return !existsSync(path) || readdirSync(path).length === 0;
}

function summarise(counts: Record<string, number>) {
  return { tables: Object.keys(counts).length, rows: Object.values(counts).reduce((a, b) => a + b, 0) };
}
