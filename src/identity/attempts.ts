import { sql } from "drizzle-orm";
import type { RequestMeta } from "../audit/service";
import { queryRows } from "../db/client";
import type { IdentityDeps } from "./tx";

/**
 * Attempt limits that hold however many requests arrive at once (issue 11: 30 concurrent wrong PINs were
 * each compared before the lock of 5, because each request read the count, compared, and only then wrote
 * the failure). Two ways, by what a comparison costs:
 *
 * - A PIN is an HMAC: microseconds. `checkUnderLock` compares it while holding the subject's row lock, in one
 *   short READ COMMITTED transaction, and writes the outcome before letting go — concurrent checks of one
 *   subject take turns, each sees every earlier outcome, and right PINs sent together all pass. The fast
 *   lane does the same inside its statement (drizzle/0011).
 * - A password is argon2id: ~100 ms, too long to hold a row lock and a pooled connection. `reserveAttempt`
 *   first takes a slot — one atomic UPDATE counting it, refused while locked or while failures plus
 *   attempts in flight fill the limit — and only then compares; `recordFailure` locks the subject when a
 *   wrong one filled the limit, `releaseAttempts` clears the count after a right one.
 *
 * Either way at most `max` secrets are ever compared per subject per lock window. Both run in READ COMMITTED:
 * concurrent attempts on one row wait for each other and re-read the committed count, instead of aborting
 * one another with serialization failures as they would under the connection's default SERIALIZABLE.
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

function columns(limit: AttemptLimit) {
  const c = COLUMNS[limit.subject];
  return { table: sql.identifier(c.table), count: sql.identifier(c.count), locked: sql.identifier(c.lockedUntil) };
}

/** A wrong secret, counted: `failures` so far in this window (this one included), and the lock it set. */
export interface Failure {
  failures: number;
  attemptsRemaining: number;
  lockedUntil: Date | null;
  /** This failure set the lock (so it is the one to audit as the locking). */
  lockedNow: boolean;
}

export type Reservation = { ok: true } | { ok: false; lockedUntil: Date; lockedNow: boolean };

export type Checked =
  | { ok: true }
  | ({ ok: false; locked: false } & Failure)
  | { ok: false; locked: true; lockedUntil: Date };

export function pinLimit(deps: Pick<IdentityDeps, "config">): AttemptLimit {
  return { subject: "user_pin", max: deps.config.auth.pinMaxAttempts, lockSeconds: deps.config.auth.pinLock };
}

export function loginLimit(deps: Pick<IdentityDeps, "config">, kind: "admin" | "vendor"): AttemptLimit {
  const { loginMaxAttempts: max, loginLock: lockSeconds } = deps.config.auth;
  return { subject: kind === "admin" ? "admin_login" : "vendor_login", max, lockSeconds };
}

const readCommitted = { isolationLevel: "read committed" } as const;

/**
 * Compares a fast secret (`matches`) under the subject's row lock and records the outcome before the lock
 * is released: a right one clears earlier failures (and writes `onRight`, e.g. a PIN rehash, in the same
 * UPDATE); a wrong one is counted, and the one that fills the limit locks the subject.
 */
export async function checkUnderLock(
  deps: Pick<IdentityDeps, "database" | "now">,
  limit: AttemptLimit,
  id: string,
  matches: () => boolean,
  onRight?: Record<string, string>,
): Promise<Checked> {
  const { table, count, locked } = columns(limit);
  const now = deps.now();
  return deps.database.db.transaction(async (tx) => {
    const [state] = await queryRows<{ count: number; locked_until: string | null }>(
      tx,
      sql`select ${count} as count, ${locked} as locked_until from ${table} where id = ${id} for no key update`,
    );
    if (state?.locked_until && new Date(state.locked_until) > now)
      return { ok: false as const, locked: true as const, lockedUntil: new Date(state.locked_until) };
    if (matches()) {
      const extra = Object.entries(onRight ?? {}).map(([column, value]) => sql`, ${sql.identifier(column)} = ${value}`);
      if (extra.length || Number(state?.count ?? 0) !== 0 || state?.locked_until)
        await tx.execute(sql`update ${table} set ${count} = 0, ${locked} = null${sql.join(extra)} where id = ${id}`);
      return { ok: true as const };
    }
    return { ok: false as const, locked: false as const, ...(await countFailure(tx, limit, id, now, "add")) };
  }, readCommitted);
}

/**
 * Counts a failure (`add`), or settles one its reservation already counted (`counted`). The failure that
 * fills the limit locks the subject and starts the next window's count at zero; one decided while the
 * subject is already locked (a concurrent attempt filled it first) just reports that lock.
 */
async function countFailure(
  tx: Parameters<typeof queryRows>[0],
  limit: AttemptLimit,
  id: string,
  now: Date,
  mode: "add" | "counted",
): Promise<Failure> {
  const { table, count, locked } = columns(limit);
  const [state] = await queryRows<{ count: number; locked_until: string | null }>(
    tx,
    sql`select ${count} as count, ${locked} as locked_until from ${table} where id = ${id} for no key update`,
  );
  if (state?.locked_until && new Date(state.locked_until) > now)
    return { failures: limit.max, attemptsRemaining: 0, lockedUntil: new Date(state.locked_until), lockedNow: false };
  const counted = Number(state?.count ?? 0) + (mode === "add" ? 1 : 0);
  const failures = Math.min(limit.max, Math.max(1, counted));
  if (failures < limit.max) {
    if (mode === "add") await tx.execute(sql`update ${table} set ${count} = ${failures} where id = ${id}`);
    return { failures, attemptsRemaining: limit.max - failures, lockedUntil: null, lockedNow: false };
  }
  const lockedUntil = new Date(now.getTime() + limit.lockSeconds * 1000);
  await tx.execute(
    sql`update ${table} set ${count} = 0, ${locked} = ${lockedUntil.toISOString()}::timestamptz where id = ${id}`,
  );
  return { failures, attemptsRemaining: 0, lockedUntil, lockedNow: true };
}

/**
 * Takes a slot before a slow secret is compared; refused (nothing compared) while the subject is locked.
 * When earlier failures plus attempts still in flight already fill the limit, the attempt that finds it
 * full locks the subject: a burst cannot have more than `max` guesses compared, and a slot held by a
 * request that died mid-compare is freed when that lock ends.
 */
export async function reserveAttempt(
  deps: Pick<IdentityDeps, "database" | "now">,
  limit: AttemptLimit,
  id: string,
): Promise<Reservation> {
  const { table, count, locked } = columns(limit);
  const now = deps.now();
  const until = new Date(now.getTime() + limit.lockSeconds * 1000);
  return deps.database.db.transaction(async (tx) => {
    const [state] = await queryRows<{ count: number; locked_until: string | null }>(
      tx,
      sql`select ${count} as count, ${locked} as locked_until from ${table} where id = ${id} for no key update`,
    );
    if (state?.locked_until && new Date(state.locked_until) > now)
      return { ok: false as const, lockedUntil: new Date(state.locked_until), lockedNow: false };
    if (Number(state?.count ?? 0) >= limit.max) {
      await tx.execute(
        sql`update ${table} set ${count} = 0, ${locked} = ${until.toISOString()}::timestamptz where id = ${id}`,
      );
      return { ok: false as const, lockedUntil: until, lockedNow: true };
    }
    await tx.execute(sql`update ${table} set ${count} = ${count} + 1, ${locked} = null where id = ${id}`);
    return { ok: true as const };
  }, readCommitted);
}

/** After a reserved attempt failed: it is already counted; the one that fills the limit locks the subject. */
export async function recordFailure(
  deps: Pick<IdentityDeps, "database" | "now">,
  limit: AttemptLimit,
  id: string,
): Promise<Failure> {
  return deps.database.db.transaction((tx) => countFailure(tx, limit, id, deps.now(), "counted"), readCommitted);
}

/** After a right secret (or a refusal that compared nothing more): the count and any lock are cleared. */
export async function releaseAttempts(deps: Pick<IdentityDeps, "database">, limit: AttemptLimit, id: string) {
  const { table, count, locked } = columns(limit);
  await deps.database.db.transaction(
    (tx) =>
      tx.execute(
        sql`update ${table} set ${count} = 0, ${locked} = null
            where id = ${id} and (${count} <> 0 or ${locked} is not null)`,
      ),
    readCommitted,
  );
}

/** The audit trail of a failed password sign-in (already counted by its reservation). Vendors and admins share it. */
export async function auditLoginFailure(
  deps: Pick<IdentityDeps, "audit">,
  who: { kind: "admin" | "vendor"; id: string },
  failure: Failure,
  ctx: RequestMeta,
  reason: string,
) {
  const target = { type: who.kind, id: who.id };
  await deps.audit.record({ action: `${who.kind}.login.failed`, target, details: { reason } }, ctx);
  if (failure.lockedNow && failure.lockedUntil)
    await deps.audit.record(
      { action: `${who.kind}.login.locked`, target, details: { lockedUntil: failure.lockedUntil.toISOString() } },
      ctx,
    );
}

/** The audit trail of a sign-in refused, uncompared, because the account is locked (or this attempt locked it). */
export async function auditLockedOut(
  deps: Pick<IdentityDeps, "audit">,
  who: { kind: "admin" | "vendor"; id: string },
  refused: Reservation & { ok: false },
  ctx: RequestMeta,
) {
  const target = { type: who.kind, id: who.id };
  const lockedUntil = refused.lockedUntil.toISOString();
  if (refused.lockedNow)
    await deps.audit.record({ action: `${who.kind}.login.locked`, target, details: { lockedUntil } }, ctx);
  await deps.audit.record({ action: `${who.kind}.login.refused`, target, details: { reason: "locked" } }, ctx);
}
