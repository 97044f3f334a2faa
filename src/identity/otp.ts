import { and, desc, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client";
import { rateLimited } from "../http/rate-limit";
import { randomDigits } from "../lib/crypto";
import { newId } from "../lib/ids";
import { otpChallenges } from "./schema";
import type { Peppers } from "./secrets";
import type { IdentityDeps } from "./tx";

export type OtpPurpose = "user_login" | "vendor_device";
export type Challenge = typeof otpChallenges.$inferSelect;

export type CheckResult = { ok: true } | { ok: false; attemptsRemaining: number };

/**
 * One-time codes: 6 random digits, stored as a peppered HMAC, 5 minutes, 5 wrong tries burn the code,
 * and a new code supersedes the old one (one live code per phone and purpose, so guesses don't add up).
 * Every counter is a row in Postgres: any instance may serve the next try.
 */
export function createOtp(deps: IdentityDeps, peppers: Peppers) {
  const auth = deps.config.auth;

  /** Per-phone caps (cooldown, hour, day) shared by every purpose that texts that phone. */
  function phoneRules(phone: string) {
    return [
      ...(auth.otpResendCooldown > 0
        ? [{ key: `otp:cooldown:${phone}`, limit: 1, periodSeconds: auth.otpResendCooldown }]
        : []),
      { key: `otp:hour:${phone}`, limit: auth.otpPhonePerHour, periodSeconds: 3600 },
      { key: `otp:day:${phone}`, limit: auth.otpPhonePerDay, periodSeconds: 86_400 },
    ];
  }

  /** Spends from the per-phone caps (and any extra rules, e.g. per IP), all or nothing; 429 when any is spent. */
  async function allowSend(phone: string, extra: { key: string; limit: number; periodSeconds: number }[] = []) {
    const decision = await deps.rateLimiter.take([...extra, ...phoneRules(phone)], deps.now());
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

  /** Checks a code. Right: the challenge is used. Wrong: one try spent; the last one burns it. Writes in `tx`. */
  async function check(challenge: Challenge, code: string, tx: Executor): Promise<CheckResult> {
    if (/^\d{6}$/.test(code) && peppers.otpMatches(challenge.id, code, challenge.codeHash, challenge.keyId)) {
      await tx.update(otpChallenges).set({ status: "used" }).where(eq(otpChallenges.id, challenge.id));
      return { ok: true };
    }
    const [row] = await tx
      .update(otpChallenges)
      .set({
        attempts: sql`${otpChallenges.attempts} + 1`,
        status: sql`case when ${otpChallenges.attempts} + 1 >= ${auth.otpMaxAttempts} then 'burned' else ${otpChallenges.status} end`,
      })
      .where(eq(otpChallenges.id, challenge.id))
      .returning({ attempts: otpChallenges.attempts });
    return { ok: false, attemptsRemaining: Math.max(0, auth.otpMaxAttempts - (row?.attempts ?? auth.otpMaxAttempts)) };
  }

  return { allowSend, issue, latestPending, pendingById, check };
}

export type OtpService = ReturnType<typeof createOtp>;
