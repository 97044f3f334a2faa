import { type SQL, sql } from "drizzle-orm";
import { type Db, queryRows } from "./client";

/**
 * Leases up to `limit` due rows of an outbox-style table — columns `id`, `status` ('pending' while due, or
 * `dueStatus`),
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
    /** The status of a row still to be worked on (default 'pending'). */
    dueStatus?: string;
    /** Extra columns of the claimed rows to return (besides id and attempts). */
    columns?: string[];
    /** Runs first in the same transaction (e.g. expiring rows no longer worth sending). */
    before?: SQL;
    /**
     * A condition on a due row, named `o`: such a row is no longer worth an attempt, so the same statement
     * sets it to status 'expired' (the table must allow it) instead of leasing it, and returns it in
     * `expired`. Only due rows are looked at, so a row another worker is attempting is never expired under it.
     */
    expire?: SQL;
  },
): Promise<{ rows: T[]; before: number; expired: T[] }> {
  const table = sql.identifier(options.table);
  const at = options.now.toISOString();
  const dueStatus = options.dueStatus ?? "pending";
  const columns = sql.join(
    ["id", "attempts", ...(options.columns ?? [])].map((c) => sql`o.${sql.identifier(c)}`),
    sql`, `,
  );
  const lease = sql`${at}::timestamptz + ${options.leaseMs} * interval '1 millisecond'`;
  const claim = options.expire
    ? sql`update ${table} o
             set status = case when due.expired then 'expired' else o.status end,
                 attempts = o.attempts + case when due.expired then 0 else 1 end,
                 next_attempt_at = case when due.expired then o.next_attempt_at else ${lease} end
            from (select o.id, coalesce(${options.expire}, false) as expired from ${table} o
                   where o.status = ${dueStatus} and o.next_attempt_at <= ${at}::timestamptz
                   order by o.next_attempt_at
                   limit ${options.limit}
                   for update skip locked) due
           where o.id = due.id
       returning ${columns}, due.expired as "__expired"`
    : sql`update ${table} o
             set attempts = o.attempts + 1,
                 next_attempt_at = ${lease}
            from (select id from ${table}
                   where status = ${dueStatus} and next_attempt_at <= ${at}::timestamptz
                   order by next_attempt_at
                   limit ${options.limit}
                   for update skip locked) due
           where o.id = due.id
       returning ${columns}`;
  return db.transaction(
    async (tx) => {
      const before = options.before ? await queryRows(tx, options.before) : [];
      const returned = await queryRows<T & { __expired?: boolean }>(tx, claim);
      if (!options.expire) return { rows: returned as T[], before: before.length, expired: [] };
      const rows: T[] = [];
      const expired: T[] = [];
      for (const { __expired, ...row } of returned) (__expired ? expired : rows).push(row as unknown as T);
      return { rows, before: before.length, expired };
    },
    { isolationLevel: "read committed" },
  );
}
