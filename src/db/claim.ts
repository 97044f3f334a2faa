import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "./client";

/**
 * Leases up to `limit` due rows of an outbox-style table — columns `id`, `status` ('pending' while due),
 * `next_attempt_at` and `attempts` — to this worker: `attempts` goes up by one and `next_attempt_at`
 * moves `leaseMs` ahead, so a worker that dies mid-attempt gives its rows back when the lease passes.
 * FOR UPDATE SKIP LOCKED lets any number of workers claim at once without taking the same row.
 * Runs READ COMMITTED: SKIP LOCKED under SERIALIZABLE would abort whenever another claim committed first.
 */
export async function claimDue<T extends { id: string; attempts: number }>(
  db: Db,
  options: {
    table: string;
    limit: number;
    now: Date;
    leaseMs: number;
    /** Extra columns of the claimed rows to return (besides id and attempts). */
    columns?: string[];
    /** Runs first in the same transaction (e.g. expiring rows no longer worth sending). */
    before?: SQL;
  },
): Promise<{ rows: T[]; before: number }> {
  const table = sql.identifier(options.table);
  const at = options.now.toISOString();
  const columns = sql.join(
    ["id", "attempts", ...(options.columns ?? [])].map((c) => sql`o.${sql.identifier(c)}`),
    sql`, `,
  );
  return db.transaction(
    async (tx) => {
      const before = options.before ? await queryRows(tx, options.before) : [];
      const rows = await queryRows<T>(
        tx,
        sql`update ${table} o
               set attempts = o.attempts + 1,
                   next_attempt_at = ${at}::timestamptz + ${options.leaseMs} * interval '1 millisecond'
              from (select id from ${table}
                     where status = 'pending' and next_attempt_at <= ${at}::timestamptz
                     order by next_attempt_at
                     limit ${options.limit}
                     for update skip locked) due
             where o.id = due.id
         returning ${columns}`,
      );
      return { rows, before: before.length };
    },
    { isolationLevel: "read committed" },
  );
}
