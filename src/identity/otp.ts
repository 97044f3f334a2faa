import { and, desc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client";
import { withTransaction } from "../db/transaction";
import { rateLimited } from "../http/rate-limit";
import { randomDigits } from "../lib/crypto";
import { newId } from "../lib/ids";
import { otpChallenges } from "./schema";
import type { Peppers } from "./secrets";
import type { IdentityDeps } from "./tx";

export type OtpPurpose = "user_login" | "vendor_device";
export type AccountKind = "user" | "vendor";
export type Challenge = typeof otpChallenges.$inferSelect;

export type CheckResult = { ok: true } | { ok: false; attemptsRemaining: number };
export type Reservation = { ok: true; attemptsRemaining: number } | { ok: false };

/**
 * One-time codes: 6 random digits, stored as a peppered HMAC, 5 minutes, 5 wrong tries burn the code,
 * and a new code supersedes the old one (one live code per phone and purpose, so guesses don't add up).
 * Every counter is a row in Postgres: any instance may serve the next try.
 */
export function createOtp(deps: IdentityDeps, peppers: Peppers) {
  const auth = deps.config.auth;

  /**
   * Per-phone caps. The resend cooldown is per account kind — a user and a vendor sharing a phone are two
   * people's sign-ins, and one must not make the other wait; the hour and day caps (what a phone can be
   * texted at all) are shared by every purpose that texts that phone.
   */
  function phoneRules(phone: string, account: AccountKind) {
    return [
      ...(auth.otpResendCooldown > 0
        ? [{ key: `otp:cooldown:${account}:${phone}`, limit: 1, periodSeconds: auth.otpResendCooldown }]
        : []),
      { key: `otp:hour:${phone}`, limit: auth.otpPhonePerHour, periodSeconds: 3600 },
      { key: `otp:day:${phone}`, limit: auth.otpPhonePerDay, periodSeconds: 86_400 },
    ];
  }

  /** Spends from the per-phone caps (and any extra rules, e.g. per IP), all or nothing; 429 when any is spent. */
  async function allowSend(
    phone: string,
    account: AccountKind,
    extra: { key: string; limit: number; periodSeconds: number }[] = [],
  ) {
    const decision = await deps.rateLimiter.take([...extra, ...phoneRules(phone, account)], deps.now());
    if (!decision.ok)
      throw rateLimited(
        decision.retryAfterSeconds,
        decision.key.startsWith("otp:cooldown:")
          ? "A code was sent moments ago; wait before asking for another."
          : "Too many codes requested; try again later.",
      );
  }

  /** Creates a challenge and queues its message, in the caller's transaction (so a rollback texts nobody). */
  async function issue(
    input: {
      purpose: OtpPurpose;
      phone: string;
      subjectId?: string;
      deviceId?: string;
      ip?: string;
      kind: string;
      message: (code: string, minutes: number) => string;
    },
    tx: Executor,
  ): Promise<{ id: string; expiresAt: Date }> {
    const now = deps.now();
    const id = newId("otp");
    const code = randomDigits(6);
    const { hash, keyId } = peppers.hashOtp(id, code);
    const expiresAt = new Date(now.getTime() + auth.otpTtl * 1000);
    await tx
      .update(otpChallenges)
      .set({ status: "superseded" })
      .where(
        and(
          eq(otpChallenges.phone, input.phone),
          eq(otpChallenges.purpose, input.purpose),
          eq(otpChallenges.status, "pending"),
          input.subjectId ? eq(otpChallenges.subjectId, input.subjectId) : undefined,
        ),
      );
    await tx.insert(otpChallenges).values({
      id,
      purpose: input.purpose,
      phone: input.phone,
      subjectId: input.subjectId ?? null,
      deviceId: input.deviceId ?? null,
      codeHash: hash,
      keyId,
      ip: input.ip ?? null,
      createdAt: now,
      expiresAt,
    });
    await deps.notifications.enqueue(
      {
        to: input.phone,
        body: input.message(code, Math.round(auth.otpTtl / 60)),
        kind: input.kind,
        dedupeKey: `otp:${id}`,
        sensitive: true,
        expiresAt,
      },
      tx,
    );
    return { id, expiresAt };
  }

  async function latestPending(phone: string, purpose: OtpPurpose, tx: Executor): Promise<Challenge | undefined> {
    const [row] = await tx
      .select()
      .from(otpChallenges)
      .where(
        and(eq(otpChallenges.phone, phone), eq(otpChallenges.purpose, purpose), eq(otpChallenges.status, "pending")),
      )
      .orderBy(desc(otpChallenges.createdAt))
      .limit(1);
    return row && row.expiresAt > deps.now() ? row : undefined;
  }

  async function pendingById(id: string, purpose: OtpPurpose, tx: Executor): Promise<Challenge | undefined> {
    const [row] = await tx
      .select()
      .from(otpChallenges)
      .where(and(eq(otpChallenges.id, id), eq(otpChallenges.purpose, purpose), eq(otpChallenges.status, "pending")));
    return row && row.expiresAt > deps.now() ? row : undefined;
  }

  /**
   * Counts one try against a challenge before its code is compared (see src/identity/attempts.ts for why):
   * one atomic UPDATE in READ COMMITTED, so however many guesses arrive at once, at most otpMaxAttempts codes
   * are ever compared per challenge. Refused (nothing to compare) once the tries are spent or it is no longer live.
   */
  async function reserve(challenge: Challenge): Promise<Reservation> {
    const rows = await withTransaction(
      deps,
      (tx) =>
        tx
          .update(otpChallenges)
          .set({ attempts: sql`${otpChallenges.attempts} + 1` })
          .where(
            and(
              eq(otpChallenges.id, challenge.id),
              eq(otpChallenges.status, "pending"),
              sql`${otpChallenges.attempts} < ${auth.otpMaxAttempts}`,
              sql`${otpChallenges.expiresAt} > ${deps.now().toISOString()}::timestamptz`,
            ),
          )
          .returning({ attempts: otpChallenges.attempts }),
      { isolation: "read committed", label: "otp.reserve" },
    );
    const [row] = rows;
    return row ? { ok: true, attemptsRemaining: auth.otpMaxAttempts - row.attempts } : { ok: false };
  }

  /**
   * Compares a code whose try `reserve` counted. Right: the challenge is used (if a concurrent right guess
   * has not used it first). Wrong: nothing more to count; the last try burns it. Writes in `tx`.
   */
  async function check(
    challenge: Challenge,
    code: string,
    reservation: Reservation & { ok: true },
    tx: Executor,
  ): Promise<CheckResult> {
    if (/^\d{6}$/.test(code) && peppers.otpMatches(challenge.id, code, challenge.codeHash, challenge.keyId)) {
      const used = await tx
        .update(otpChallenges)
        .set({ status: "used" })
        .where(and(eq(otpChallenges.id, challenge.id), eq(otpChallenges.status, "pending")))
        .returning({ id: otpChallenges.id });
      if (used.length) return { ok: true };
    } else if (reservation.attemptsRemaining === 0)
      await tx
        .update(otpChallenges)
        .set({ status: "burned" })
        .where(and(eq(otpChallenges.id, challenge.id), eq(otpChallenges.status, "pending")));
    return { ok: false, attemptsRemaining: reservation.attemptsRemaining };
  }

  return { allowSend, issue, latestPending, pendingById, reserve, check };
}

export type OtpService = ReturnType<typeof createOtp>;
