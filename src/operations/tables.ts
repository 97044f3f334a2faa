import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../db/client";

/** What a restore looks at in its target: whether it is empty, and how many rows each table holds after. */

const USER_SCHEMAS = sql`n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'`;

/**
 * Empty: no relation, function, type or schema of anyone's beyond what a new database has (public, empty). A
 * database the app has never migrated but someone used is not empty either.
 */
export async function isEmptyDatabase(db: Pick<Db, "execute">): Promise<boolean> {
  const [row] = await queryRows<{ n: number | string }>(
    db,
    sql`select
          (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where ${USER_SCHEMAS})
        + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where ${USER_SCHEMAS})
        + (select count(*) from pg_namespace n where ${USER_SCHEMAS} and n.nspname <> 'public') as n`,
  );
  return Number(row!.n) === 0;
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** Exact row counts of every ordinary table (partitions counted once, as themselves), by "schema.table". */
export async function tableRowCounts(db: Pick<Db, "execute">): Promise<Record<string, number>> {
  const tables = await queryRows<{ schema: string; name: string }>(
    db,
    sql`select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind = 'r' and ${USER_SCHEMAS} order by 1, 2`,
  );
  const counts: Record<string, number> = {};
  for (const { schema, name } of tables) {
    const [row] = await queryRows<{ n: number | string }>(
      db,
      sql`select count(*) as n from ${sql.raw(`${quote(schema)}.${quote(name)}`)}`,
    );
    counts[`${schema}.${name}`] = Number(row!.n);
  }
  return counts;
}
