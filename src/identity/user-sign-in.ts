import { eq } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { AppError } from "../http/errors";
import { maskPhone, normalizePhone } from "../lib/phone";
import type { OtpService } from "./otp";
import { users } from "./schema";
import { frozen, type TokenService, type Tokens } from "./tokens";
import { deferred, type IdentityDeps, transact } from "./tx";
import { badPhone, getUser, registerUser, type User } from "./user-profile";

/** How a user signs in: a code by SMS to their phone, then refreshed sessions. */

const wrongCode = (details?: unknown) =>
  new AppError("UNAUTHENTICATED", "The code is wrong or has expired; ask for a new one.", details);

export async function requestOtp(
  deps: Pick<IdentityDeps, "database" | "config" | "logger" | "notifications">,
  tools: { otp: OtpService },
  { ctx, input }: { ctx: RequestMeta; input: { phone: string } },
) {
  const { otp } = tools;
  const auth = deps.config.auth;
  const phone = normalizePhone(input.phone);
  if (!phone) throw badPhone();
  await otp.allowSend(phone, "user", [
    { key: `otp:ip:${ctx.ip ?? "unknown"}`, limit: auth.otpIpPerHour, periodSeconds: 3600 },
  ]);
  await transact(
    deps,
    (tx) =>
      otp.issue(
        {
          purpose: "user_login",
          phone,
          ip: ctx.ip,
          kind: "otp",
          message: (code, minutes) =>
            `Your Keshless code is ${code}. It expires in ${minutes} minutes. Never share it, not even with Keshless staff.`,
        },
        tx,
      ),
    undefined,
    "otp.request",
  );
  deps.notifications.kick();
  deps.logger.info({ phone: maskPhone(phone), requestId: ctx.requestId }, "login code queued");
  return { expiresInSeconds: auth.otpTtl };
}

export async function verifyOtp(
  deps: Pick<IdentityDeps, "database" | "config" | "logger" | "now" | "rateLimiter" | "ledger" | "audit">,
  tools: { otp: OtpService; tokens: TokenService },
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { phone: string; code: string };
  },
): Promise<Tokens & { user: User }> {
  const { otp, tokens } = tools;
  const phone = normalizePhone(input.phone);
  if (!phone) throw badPhone();
  await deps.rateLimiter.enforce(
    [{ key: `otp-verify:ip:${ctx.ip ?? "unknown"}`, limit: deps.config.auth.authIpPerHour, periodSeconds: 3600 }],
    deps.now(),
  );
  // The try is counted before the transaction compares the code (otp.reserve), so concurrent guesses
  // cannot outrun the limit and a retried transaction does not count one try twice.
  const challenge = await otp.latestPending(phone, "user_login", deps.database.db);
  const reservation = challenge ? await otp.reserve(challenge) : { ok: false as const };
  return transact(
    deps,
    async (tx) => {
      if (!challenge || !reservation.ok) return deferred(wrongCode());
      const result = await otp.check(challenge, input.code, reservation, tx);
      if (!result.ok) {
        await deps.audit.record(
          {
            action: "user.login.failed",
            details: { phone, reason: "wrong_code", attemptsRemaining: result.attemptsRemaining },
          },
          ctx,
          tx,
        );
        return deferred(wrongCode({ attemptsRemaining: result.attemptsRemaining }));
      }
      const user = await registerUser(deps, { phone }, tx);
      if (user.status !== "active") {
        await deps.audit.record(
          { action: "user.login.refused", target: { type: "user", id: user.id }, details: { status: user.status } },
          ctx,
          tx,
        );
        return deferred(
          user.status === "frozen" ? frozen("user") : new AppError("UNAUTHENTICATED", "This account is closed."),
        );
      }
      const now = deps.now();
      await tx.update(users).set({ lastLoginAt: now }).where(eq(users.id, user.id));
      const session = await tokens.openSession(
        { kind: "user", principalId: user.id, otpVerifiedAt: now, ...(ctx.ip ? { ip: ctx.ip } : {}) },
        tx,
      );
      await deps.audit.record(
        {
          action: "user.login",
          actor: { type: "user", id: user.id },
          target: { type: "session", id: session.sessionId },
        },
        ctx,
        tx,
      );
      const { sessionId: _, ...issued } = session;
      return { ...issued, user };
    },
    undefined,
    "otp.verify",
  );
}

export async function refreshUser(
  deps: Pick<IdentityDeps, "database">,
  tools: { tokens: TokenService },
  { ctx, input }: { ctx: RequestMeta; input: { refreshToken: string } },
) {
  const issued = await tools.tokens.refresh("user", input.refreshToken, ctx);
  const { principalId, ...rest } = issued;
  return { ...rest, user: (await getUser(deps, principalId))! };
}
