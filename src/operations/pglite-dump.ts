import type { PGlite } from "@electric-sql/pglite";
import type { Database, Db } from "../db/client";

/**
 * The embedded default's backup: PGlite's own pg_dump (a WASM build, @electric-sql/pglite-tools), plain SQL with
 * INSERTs, and its restore by executing that script in a new PGlite data dir. The dump is held in memory whole
 * (the tool writes a file in its own memory): fine for development databases.
 */

export async function pgliteDump(database: Database): Promise<ReadableStream<Uint8Array>> {
  const pglite = database.pglite;
  if (!pglite) throw new Error("The embedded database is not open.");
  const { pgDump } = await import("@electric-sql/pglite-tools/pg_dump");
  // PGlite is one session for the whole process, and the tool speaks to it on the raw protocol, past PGlite's
  // locks: a request's transaction left open across an await would take in the dump's statements (and the
  // dump's COMMIT would commit it). So the dump runs holding PGlite's transaction lock — taken by opening a
  // transaction, which is ended at once: the dump begins its own (repeatable read) — and its few plain queries
  // go through that transaction's handle, which needs no second lock.
  const file = await pglite.transaction(async (tx) => {
    await tx.exec("COMMIT");
    const session = {
      query: tx.query,
      exec: tx.exec,
      execProtocolRawStream: pglite.execProtocolRawStream.bind(pglite),
    } as unknown as PGlite;
    return pgDump({ pg: session });
  });
  return file.stream();
}

/** Executes the script in a new PGlite at `dir`, then hands the open database to `after` (counting its rows). */
export async function pgliteRestore<T>(
  dir: string,
  plain: ReadableStream<Uint8Array>,
  after: (db: Db) => Promise<T>,
): Promise<T> {
  const script = await new Response(plain).text();
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const restored: PGlite = new PGlite(dir);
  try {
    await restored.exec(script);
    return await after(drizzle({ client: restored, casing: "snake_case" }) as unknown as Db);
  } finally {
    await restored.close();
  }
}
