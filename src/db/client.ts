import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type postgres from "postgres";
/**
 * The query builder, without the relational-query schema: no code uses `db.query.*`, and the platform must not
 * import every domain's tables (they are gathered for drizzle-kit in drizzle.config.ts).
 */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, never>>;
/** A transaction handle or the database itself: services accept either. */
export type Executor = Pick<Db, "select" | "insert" | "update" | "delete" | "execute" | "transaction" | "query">;

export interface Database {
  kind: "postgres" | "pglite";
  db: Db;
  /**
   * For a lookup outside any transaction (a session check, a profile, a history page): READ COMMITTED and read
   * only, so it takes no SIREAD locks. As autocommit SERIALIZABLE statements these lookups filled the server's
   * predicate-lock table under a day's mix (53200 "out of shared memory", answered 503) and held locks that
   * aborted the payments around them; whatever they let through is checked again by the statement that moves
   * money. On PGlite (one connection) the same as `db`.
   */
  reads: Db;
  /** postgres.js client (Postgres only) — for the ledger hot path and advisory locks. */
  sql?: postgres.Sql;
  url?: string;
  pglite?: PGlite;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** Folder for the embedded database; undefined with no URL means in memory (tests). */
  dataDir?: string | undefined;
  poolMax?: number;
  /** Postgres only: how long opening a connection may take (TCP, TLS, startup, auth), then CONNECT_TIMEOUT. */
  connectTimeoutMs?: number;
  /**
   * Postgres only: how long a query, transaction or reserved connection waits for a free pool connection, then
   * CONNECTION_ACQUIRE_TIMEOUT (never sent). With the connect timeout, this bounds a request when the database is
   * unreachable: it answers 503 instead of waiting in the pool's queue behind every other request.
   */
  acquireTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 5000;

/**
 * Every connection of `db` defaults to SERIALIZABLE: ledger writes must be, and a single-statement write
 * (the ledger's one-round-trip functions) then needs no BEGIN/SET/COMMIT round trips of its own. `reads`, a
 * second pool half its size, is READ COMMITTED and read only (see Database.reads).
 *
 * postgres.js is patched (patches/postgres@3.4.9.patch): a connection that closes under a query, a reserved
 * connection or a transaction settles what was waiting on it with CONNECTION_CLOSED instead of crashing the
 * process or hanging, and `acquire_timeout` (our addition) bounds the wait for a pool connection.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const { default: postgresJs } = await import("postgres");
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const pool = (max: number, connection: Record<string, string>) =>
      postgresJs(options.databaseUrl!, {
        max,
        // Both in seconds for postgres.js.
        connect_timeout: (options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS) / 1000,
        acquire_timeout: (options.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS) / 1000,
        // Seconds between a failed connection attempt and the next one on that slot. postgres.js grows it to 20 s
        // as failures add up, so after an outage the pool would come back that late (and a query handed to a
        // closed slot waits it out); capped at 1 s, the pool is back within a second of the database.
        backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 1),
        onnotice: () => {},
        connection: { application_name: "keshless", ...connection },
        types: { bigint: postgresJs.BigInt },
      });
    const poolMax = options.poolMax ?? 10;
    const sql = pool(poolMax, { default_transaction_isolation: "serializable" });
    const readSql = pool(Math.max(2, Math.ceil(poolMax / 2)), {
      default_transaction_isolation: "read committed",
      default_transaction_read_only: "on",
    });
    const db = drizzle({ client: sql, casing: "snake_case" }) as unknown as Db;
    const reads = drizzle({ client: readSql, casing: "snake_case" }) as unknown as Db;
    return {
      kind: "postgres",
      db,
      reads,
      sql,
      url: options.databaseUrl,
      close: async () => {
        await Promise.all([sql.end({ timeout: 5 }), readSql.end({ timeout: 5 })]);
      },
    };
  }
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  let dir: string | undefined;
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    dir = join(options.dataDir, "pgdata");
  }
  const pglite = new PGlite(dir);
  await pglite.exec("SET default_transaction_isolation = 'serializable'");
  const db = drizzle({ client: pglite, casing: "snake_case" }) as unknown as Db;
  return { kind: "pglite", db, reads: db, pglite, close: () => pglite.close() };
}

/** Rows of a raw `db.execute(sql)`, whichever driver ran it. */
export async function queryRows<T = Record<string, unknown>>(executor: Pick<Db, "execute">, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

/** The jsonb-in, jsonb-out functions hot paths call (drizzle/0008, 0021). */
type JsonFunction = "payments_execute" | "payments_execute_batch";

/**
 * One call of a jsonb function in autocommit: on Postgres a named prepared statement through postgres.js
 * (planned once per connection; drizzle sends every statement unnamed, parsed again each time), on PGlite
 * through drizzle.
 */
export async function callJson<T>(database: Database, fn: JsonFunction, payload: unknown): Promise<T> {
  const text = `select ${fn}($1::jsonb) as r`;
  if (database.sql) {
    const [row] = await database.sql.unsafe(text, [JSON.stringify(payload)], { prepare: true });
    return row!.r as T;
  }
  const [row] = await queryRows<{ r: T | string }>(
    database.db,
    sql`select ${sql.raw(fn)}(${JSON.stringify(payload)}::jsonb) as r`,
  );
  return (typeof row!.r === "string" ? JSON.parse(row!.r) : row!.r) as T;
}
