import { describe, expect, test } from "bun:test";
import { openDatabase } from "../../src/db/client";
import { isEmptyDatabase } from "../../src/operations";
import { pgDumpStream, pgRestore } from "../../src/operations/dump";
import { createTestContext } from "../support/harness";
import { adminUrl, emptyPostgres } from "./kit";

/**
 * The restore's last line of defence (Postgres): pg_restore runs in one transaction and is fed from the decrypted
 * stream, so when that stream fails part-way — a chunk that does not authenticate, had the object changed between
 * the verify and the restore — pg_restore is killed before its commit and the target keeps nothing of it. Here the
 * stream is a real dump that errors after all but its last bytes. (pg_restore also rolls back by itself on a cut
 * archive, so this holds the outcome — the target untouched — not which of the two guards gave it.)
 */

const t = adminUrl ? await createTestContext() : null;

describe.skipIf(!t)("pg_restore fed a stream that fails", () => {
  test("after all but the end of the archive: nothing is committed, the target stays empty", async () => {
    const dump = pgDumpStream("pg_dump", t!.config.databaseUrl!);
    const archive = new Uint8Array(await new Response(dump.stream).arrayBuffer());
    expect(archive.byteLength).toBeGreaterThan(10_000);
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(archive.subarray(0, archive.byteLength - 16));
      },
      pull(controller) {
        controller.error(new Error("chunk 9 does not authenticate"));
      },
    });
    const target = await emptyPostgres();
    try {
      await expect(pgRestore("pg_restore", target.url, failing)).rejects.toThrow();
      const opened = await openDatabase({ databaseUrl: target.url, poolMax: 1 });
      expect(await isEmptyDatabase(opened.db)).toBe(true);
      await opened.close();
      // The whole archive restores into the same target: the failed attempt left nothing in the way.
      await pgRestore("pg_restore", target.url, new Blob([archive]).stream());
      const restored = await openDatabase({ databaseUrl: target.url, poolMax: 1 });
      expect(await isEmptyDatabase(restored.db)).toBe(false);
      await restored.close();
    } finally {
      await target.drop();
    }
  }, 60_000);
});
