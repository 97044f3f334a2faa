import { sql } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { queryRows } from "../db/client";
import { withTransaction } from "../db/transaction";
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
 * - A password is argon2id: ~100 ms, too long to hold a row lock and a pooled connection. `attemptLogin`
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

const readCommitted = { isolation: "read committed" } as const;

/** The subject's count and live lock, its row locked until the transaction ends. */
async function lockedState(tx: Tx, limit: AttemptLimit, id: string, now: Date) {
  const { table, count, locked } = columns(limit);
  const [state] = await queryRows<{ count: number; locked_until: string | null }>(
    tx,
    sql`select ${count} as count, ${locked} as locked_until from ${table} where id = ${id} for no key update`,
  );
  const lockedUntil = state?.locked_until ? new Date(state.locked_until) : null;
  return { count: Number(state?.count ?? 0), lockedUntil: lockedUntil && lockedUntil > now ? lockedUntil : null };
}

/** Locks the subject for a window from `now`; the next window's count starts at zero. */
async function lockSubject(tx: Tx, limit: AttemptLimit, id: string, now: Date): Promise<Date> {
  const { table, count, locked } = columns(limit);
  const until = new Date(now.getTime() + limit.lockSeconds * 1000);
  await tx.execute(
    sql`update ${table} set ${count} = 0, ${locked} = ${until.toISOString()}::timestamptz where id = ${id}`,
  );
  return until;
}

type Tx = Parameters<typeof queryRows>[0];

/**
 * Compares a fast secret (`matches`) under the subject's row lock and records the outcome before the lock
 * is released: a right one clears earlier failures (and writes `onRight`, e.g. a PIN rehash, in the same
 * UPDATE); a wrong one is counted, and the one that fills the limit locks the subject.
 */
export async function checkUnderLock(
  deps: Pick<IdentityDeps, "database" | "now" | "config">,
  limit: AttemptLimit,
  id: string,
  matches: () => boolean,
  onRight?: Record<string, string>,
): Promise<Checked> {
  const { table, count, locked } = columns(limit);
  const now = deps.now();
  return withTransaction(
    deps,
    async (tx) => {
      const state = await lockedState(tx, limit, id, now);
      if (state.lockedUntil) return { ok: false as const, locked: true as const, lockedUntil: state.lockedUntil };
      if (matches()) {
        const extra = Object.entries(onRight ?? {}).map(
          ([column, value]) => sql`, ${sql.identifier(column)} = ${value}`,
        );
        // Earlier failures are cleared; an untouched row (the usual case) is not written at all. (An expired lock
        // may stay in the row: every check reads it as no lock.)
        if (extra.length || state.count !== 0)
          await tx.execute(sql`update ${table} set ${count} = 0, ${locked} = null${sql.join(extra)} where id = ${id}`);
        return { ok: true as const };
      }
      return {
        ok: false as const,
        locked: false as const,
        ...(await settleFailure(tx, limit, id, now, state.count + 1)),
      };
    },
    readCommitted,
  );
}

/**
 * Settles a failure, `failures` being the count with it included: below the limit it is written; the one that
 * fills the limit locks the subject.
 */
async function settleFailure(tx: Tx, limit: AttemptLimit, id: string, now: Date, failures: number): Promise<Failure> {
  const { table, count } = columns(limit);
  const capped = Math.min(limit.max, Math.max(1, failures));
  if (capped < limit.max) {
    await tx.execute(sql`update ${table} set ${count} = ${capped} where id = ${id}`);
    return { failures: capped, attemptsRemaining: limit.max - capped, lockedUntil: null, lockedNow: false };
  }
  return {
    failures: capped,
    attemptsRemaining: 0,
    lockedUntil: await lockSubject(tx, limit, id, now),
    lockedNow: true,
  };
}

/**
 * Takes a slot before a slow secret is compared; refused (nothing compared) while the subject is locked.
 * When earlier failures plus attempts still in flight already fill the limit, the attempt that finds it
 * full locks the subject: a burst cannot have more than `max` guesses compared, and a slot held by a
 * request that died mid-compare is freed when that lock ends.
 */
async function reserveAttempt(
  deps: Pick<IdentityDeps, "database" | "now" | "config">,
  limit: AttemptLimit,
  id: string,
): Promise<Reservation> {
  const { table, count, locked } = columns(limit);
  const now = deps.now();
  return withTransaction(
    deps,
    async (tx) => {
      const state = await lockedState(tx, limit, id, now);
      if (state.lockedUntil) return { ok: false as const, lockedUntil: state.lockedUntil, lockedNow: false };
      if (state.count >= limit.max)
        return { ok: false as const, lockedUntil: await lockSubject(tx, limit, id, now), lockedNow: true };
      await tx.execute(sql`update ${table} set ${count} = ${count} + 1, ${locked} = null where id = ${id}`);
      return { ok: true as const };
    },
    readCommitted,
  );
}

/**
 * After a reserved attempt failed: it is already counted. The one that fills the limit locks the subject; one
 * decided while the subject is already locked (a concurrent attempt filled it first) just reports that lock.
 */
async function recordFailure(
  deps: Pick<IdentityDeps, "database" | "now" | "config">,
  limit: AttemptLimit,
  id: string,
): Promise<Failure> {
  const now = deps.now();
  return withTransaction(
    deps,
    async (tx) => {
      const state = await lockedState(tx, limit, id, now);
      if (state.lockedUntil)
        return { failures: limit.max, attemptsRemaining: 0, lockedUntil: state.lockedUntil, lockedNow: false };
      return settleFailure(tx, limit, id, now, state.count);
    },
    readCommitted,
  );
}

/**
 * A password sign-in under its limit: a slot is reserved, then `refusal` compares the secrets (null: right,
 * else the reason it failed). Refused uncompared while locked; a failure is settled and audited. `lockedUntil`
 * is set when the answer should say "locked" (an account already locked, not one this failure just locked).
 */
export async function attemptLogin(
  deps: Pick<IdentityDeps, "database" | "now" | "audit" | "config">,
  who: { kind: "admin" | "vendor"; id: string },
  ctx: RequestMeta,
  refusal: () => Promise<string | null>,
): Promise<{ ok: true } | { ok: false; compared: boolean; lockedUntil: Date | null }> {
  const limit = loginLimit(deps, who.kind);
  const reservation = await reserveAttempt(deps, limit, who.id);
  if (!reservation.ok) {
    await auditLockedOut(deps, who, reservation, ctx);
    return { ok: false, compared: false, lockedUntil: reservation.lockedUntil };
  }
  const reason = await refusal();
  if (!reason) return { ok: true };
  const failure = await recordFailure(deps, limit, who.id);
  await auditLoginFailure(deps, who, failure, ctx, reason);
  return { ok: false, compared: true, lockedUntil: failure.lockedNow ? null : failure.lockedUntil };
}

/** After a right secret (or a refusal that compared nothing more): the count and any lock are cleared. */
export async function releaseAttempts(
  deps: Pick<IdentityDeps, "database" | "config">,
  limit: AttemptLimit,
  id: string,
) {
  const { table, count, locked } = columns(limit);
  await withTransaction(
    deps,
    (tx) =>
      tx.execute(
        sql`update ${table} set ${count} = 0, ${locked} = null
            where id = ${id} and (${count} <> 0 or ${locked} is not null)`,
      ),
    readCommitted,
  );
}

/** The audit trail of a failed password sign-in (already counted by its reservation). Vendors and admins share it. */
async function auditLoginFailure(
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
async function auditLockedOut(
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
