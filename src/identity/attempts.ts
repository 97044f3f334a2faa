import { sql } from "drizzle-orm";
import type { RequestMeta } from "../audit/service";
import { queryRows } from "../db/client";
import type { IdentityDeps } from "./tx";

/**
 * Attempt limits that hold however many requests arrive at once (issue 11: 30 concurrent wrong PINs were
 * each compared before the lock of 5, because each request read the count, compared, and only then
 * wrote the failure). Here a request first reserves its attempt — one atomic UPDATE that counts it, and
 * locks the subject when it takes the last slot — and compares only if the reservation succeeded. A right
 * secret then releases (count and lock back to zero); a wrong one needs no further write: it was counted
 * before it was compared. At most `max` secrets are ever compared per subject per lock window.
 *
 * The reservation runs in READ COMMITTED: concurrent reservations of one row wait for each other and
 * re-read the committed count, instead of aborting one another with serialization failures as they would
 * under the connection's default SERIALIZABLE (an attack would retry itself into the ground).
 *
 * The fast lane counts a wrong PIN with the same UPDATE inside its own statement (drizzle/0011).
 */

export interface AttemptLimit {
  subject: "user_pin" | "admin_login" | "vendor_login";
  max: number;
  lockSeconds: number;
}

const COLUMNS = {
  user_pin: { table: "users", count: "pin_failed_count", lockedUntil: "pin_locked_until" },
  admin_login: { table: "admins", count: "failed_login_count", lockedUntil: "locked_until" },
  vendor_login: { table: "vendors", count: "failed_login_count", lockedUntil: "locked_until" },
} as const;

export type Reservation =
  /** `failures`: this attempt included, should it fail. `lockedUntil`: set when it took the last slot. */
  | { ok: true; failures: number; attemptsRemaining: number; lockedUntil: Date | null }
  | { ok: false; lockedUntil: Date };

export function pinLimit(deps: Pick<IdentityDeps, "config">): AttemptLimit {
  return { subject: "user_pin", max: deps.config.auth.pinMaxAttempts, lockSeconds: deps.config.auth.pinLock };
}

export function loginLimit(deps: Pick<IdentityDeps, "config">, kind: "admin" | "vendor"): AttemptLimit {
  const { loginMaxAttempts: max, loginLock: lockSeconds } = deps.config.auth;
  return { subject: kind === "admin" ? "admin_login" : "vendor_login", max, lockSeconds };
}

/** Counts one attempt before its secret is compared; refused (nothing compared) while the subject is locked. */
export async function reserveAttempt(
  deps: Pick<IdentityDeps, "database" | "now">,
  limit: AttemptLimit,
  id: string,
): Promise<Reservation> {
  const c = COLUMNS[limit.subject];
  const [table, count, locked] = [sql.identifier(c.table), sql.identifier(c.count), sql.identifier(c.lockedUntil)];
  const now = deps.now();
  const until = new Date(now.getTime() + limit.lockSeconds * 1000).toISOString();
  const at = now.toISOString();
  return deps.database.db.transaction(
    async (tx) => {
      const [taken] = await queryRows<{ count: number; locked_until: string | null }>(
        tx,
        sql`update ${table} set
              ${count} = case when ${count} + 1 >= ${limit.max} then 0 else ${count} + 1 end,
              ${locked} = case when ${count} + 1 >= ${limit.max} then ${until}::timestamptz else null end
            where id = ${id} and (${locked} is null or ${locked} <= ${at}::timestamptz)
            returning ${count} as count, ${locked} as locked_until`,
      );
      if (taken) {
        const lockedUntil = taken.locked_until ? new Date(taken.locked_until) : null;
        const failures = lockedUntil ? limit.max : Number(taken.count);
        return { ok: true as const, failures, attemptsRemaining: limit.max - failures, lockedUntil };
      }
      const [held] = await queryRows<{ locked_until: string | null }>(
        tx,
        sql`select ${locked} as locked_until from ${table} where id = ${id}`,
      );
      return { ok: false as const, lockedUntil: new Date(held?.locked_until ?? until) };
    },
    { isolationLevel: "read committed" },
  );
}

/**
 * After a right secret: the reservation (and any earlier failures, and a lock it took) are cleared. In
 * READ COMMITTED like the reservation, for the same reason: under SERIALIZABLE the success would abort
 * against a concurrent wrong guess's count. `alsoSet` rides along in the same UPDATE (a PIN rehash).
 */
export async function releaseAttempts(
  deps: Pick<IdentityDeps, "database">,
  limit: AttemptLimit,
  id: string,
  alsoSet?: Record<string, string>,
) {
  const c = COLUMNS[limit.subject];
  const [count, locked] = [sql.identifier(c.count), sql.identifier(c.lockedUntil)];
  const extra = Object.entries(alsoSet ?? {}).map(([column, value]) => sql`, ${sql.identifier(column)} = ${value}`);
  const changed = extra.length ? sql`true` : sql`(${count} <> 0 or ${locked} is not null)`;
  await deps.database.db.transaction(
    (tx) =>
      tx.execute(
        sql`update ${sql.identifier(c.table)} set ${count} = 0, ${locked} = null${sql.join(extra)}
            where id = ${id} and ${changed}`,
      ),
    { isolationLevel: "read committed" },
  );
}

/** The audit trail of a failed password sign-in (already counted by its reservation). Vendors and admins share it. */
export async function auditLoginFailure(
  deps: Pick<IdentityDeps, "audit">,
  who: { kind: "admin" | "vendor"; id: string },
  reservation: Reservation & { ok: true },
  ctx: RequestMeta,
  reason: string,
) {
  const target = { type: who.kind, id: who.id };
  await deps.audit.record({ action: `${who.kind}.login.failed`, target, details: { reason } }, ctx);
  if (reservation.lockedUntil)
    await deps.audit.record(
      { action: `${who.kind}.login.locked`, target, details: { lockedUntil: reservation.lockedUntil.toISOString() } },
      ctx,
    );
}
