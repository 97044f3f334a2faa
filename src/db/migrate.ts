import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "./client";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../drizzle", import.meta.url));

/** How many migrations the code ships with (drizzle-kit's journal). */
export function expectedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, "utf8"));
  return journal.entries.length;
}

// Arbitrary constant: the advisory lock every instance takes while migrating, so 20 booting at once apply each migration once.
const MIGRATION_LOCK = 7_264_001;

export async function migrate(database: Database): Promise<{ applied: number }> {
  if (database.kind === "postgres") {
    const { drizzle } = await import("drizzle-orm/postgres-js");
    const { migrate: run } = await import("drizzle-orm/postgres-js/migrator");
    const { default: postgresJs } = await import("postgres");
    // One dedicated connection: the session-level advisory lock must be held by the connection that migrates.
    const single = postgresJs(database.url!, { max: 1, onnotice: () => {} });
    try {
      await single`select pg_advisory_lock(${MIGRATION_LOCK})`;
      await run(drizzle({ client: single }), { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await single.end({ timeout: 5 });
    }
  } else {
    const { drizzle } = await import("drizzle-orm/pglite");
    const { migrate: run } = await import("drizzle-orm/pglite/migrator");
    await run(drizzle({ client: database.pglite! }), { migrationsFolder: MIGRATIONS_FOLDER });
  }
  return { applied: await appliedMigrationCount(database) };
}

export async function appliedMigrationCount(database: Database): Promise<number> {
  const rows = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
  );
  return Number(rows[0]?.n ?? 0);
}
