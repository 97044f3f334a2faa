import { type SQL, sql } from "drizzle-orm";
import type { Logger } from "../http/logger";
import { type Database, queryRows } from "./client";
import { withTransaction } from "./transaction";

/**
 * A table's retention rule, declared by the module that owns the table (src/module.ts `purges`) and run by
 * the retention job (src/jobs/retention.ts), which refuses any money table.
 */
export interface Purge {
  table: string;
  /** The primary key's columns: how a batch names its rows to the DELETE. */
  key: string[];
  /** Which rows may go; the table is aliased `t`. */
  where: SQL;
  /** A table whose rows reference these (no cascade): its rows go in the same statement, first. */
  child?: { table: string; column: string; references: string };
}

/**
 * Retention work a table DELETE cannot do (objects in storage, say), declared by its module (src/module.ts
 * `sweeps`); the retention job runs it after the purges and reports how many things it removed under `name`.
 */
export interface Sweep {
  name: string;
  run(now: Date): Promise<number>;
}

export const PURGE_BATCH = 5_000;

/** `now - ms` as a timestamptz parameter, for a purge's `where`. */
export const purgeCutoff = (now: Date, ms: number) => sql`${new Date(now.getTime() - ms).toISOString()}::timestamptz`;

/**
 * One batch: up to PURGE_BATCH rows (and their child rows) deleted in one READ COMMITTED statement. Its row
 * locks last one statement, and a row some request holds right now is skipped (SKIP LOCKED) for the next run
 * rather than waited for — the SERIALIZABLE money paths never queue behind a cleanup.
 */
export async function purgeBatch(
  deps: { database: Database; logger: Logger; config: { serializableMaxRetries: number } },
  purge: Purge,
): Promise<{ deleted: number; children: number }> {
  const table = sql.identifier(purge.table);
  const keys = sql.join(
    purge.key.map((k) => sql`t.${sql.identifier(k)}`),
    sql`, `,
  );
  const matches = sql.join(
    purge.key.map((k) => sql`t.${sql.identifier(k)} = doomed.${sql.identifier(k)}`),
    sql` and `,
  );
  const child = purge.child
    ? sql`, children as (delete from ${sql.identifier(purge.child.table)} c using doomed
                          where c.${sql.identifier(purge.child.column)} = doomed.${sql.identifier(purge.child.references)}
                          returning 1)`
    : sql``;
  const statement = sql`with doomed as (select ${keys} from ${table} t where ${purge.where}
                                         limit ${PURGE_BATCH} for update of t skip locked)
                        ${child},
                        gone as (delete from ${table} t using doomed where ${matches} returning 1)
                        select (select count(*) from gone)::int as deleted,
                               ${purge.child ? sql`(select count(*) from children)::int` : sql`0`} as children`;
  const [row] = await withTransaction(deps, (tx) => queryRows<{ deleted: number; children: number }>(tx, statement), {
    isolation: "read committed",
    label: `retention.${purge.table}`,
  });
  return { deleted: Number(row?.deleted ?? 0), children: Number(row?.children ?? 0) };
}
