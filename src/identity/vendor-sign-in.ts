import { eq, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { type Executor, queryRows } from "../db/client";
import { AppError } from "../http/errors";
import { attemptLogin, loginLimit, releaseAttempts } from "./attempts";
import type { OtpService } from "./otp";
import { vendorDevices, vendors } from "./schema";
import type { Passwords } from "./secrets";
import { frozen, type TokenService, type Tokens } from "./tokens";
import { deferred, type IdentityDeps, transact } from "./tx";
import { deviceNameFor, newDeviceCredential } from "./vendor-credentials";
import { trustDevice, trustedDevice } from "./vendor-devices";
import { getVendor, toVendor, type Vendor, type VendorRow, vendorRow } from "./vendor-profile";

/**
 * How a vendor signs in: email + password on a trusted device; a new device is trusted by a code sent to the
 * business phone.
 */

type SignInDeps = Pick<
  IdentityDeps,
  "database" | "config" | "logger" | "now" | "rateLimiter" | "audit" | "notifications"
>;

const badLogin = () => new AppError("UNAUTHENTICATED", "The email or password is wrong.");

const lockedOut = (until: Date) =>
  new AppError("FORBIDDEN", `Too many failed sign-ins: the account is locked until ${until.toISOString()}.`, {
    reason: "ACCOUNT_LOCKED",
    lockedUntil: until.toISOString(),
  });

/** A signed-in vendor on a trusted device: a new session, audited, in the caller's transaction. */
async function openVendorSession(
  deps: Pick<IdentityDeps, "audit">,
  tokens: TokenService,
  r: VendorRow,
  deviceId: string,
  ctx: RequestMeta,
  tx: Executor,
): Promise<Tokens & { vendor: Vendor }> {
  const session = await tokens.openSession(
    { kind: "vendor", principalId: r.id, deviceId, ...(ctx.ip ? { ip: ctx.ip } : {}) },
    tx,
  );
  await deps.audit.record(
    {
      action: "vendor.login",
      actor: { type: "vendor", id: r.id },
      target: { type: "session", id: session.sessionId },
      details: { deviceId },
    },
    ctx,
    tx,
  );
  const { sessionId: _, ...issued } = session;
  return { ...issued, vendor: toVendor(r) };
}

/**
 * Email + password + device. The password check (argon2id, ~100 ms) runs outside any transaction.
 * An unknown device gets 403 DEVICE_VERIFICATION_REQUIRED {challengeId} and a code on the vendor's phone.
 */
export async function login(
  deps: SignInDeps,
  tools: { passwords: Passwords; otp: OtpService; tokens: TokenService },
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { email: string; password: string; deviceId: string };
  },
): Promise<Tokens & { vendor: Vendor }> {
  const { passwords } = tools;
  await deps.rateLimiter.enforce(
    [{ key: `vendor-login:ip:${ctx.ip ?? "unknown"}`, limit: deps.config.auth.authIpPerHour, periodSeconds: 3600 }],
    deps.now(),
  );
  const email = input.email.trim().toLowerCase();
  const [r] = await deps.database.db.select().from(vendors).where(eq(vendors.email, email));
  if (!r) {
    await passwords.burn(input.password);
    await deps.audit.record({ action: "vendor.login.failed", details: { reason: "unknown_email" } }, ctx);
    throw badLogin();
  }
  const limit = loginLimit(deps, "vendor");
  const attempt = await attemptLogin(deps, { kind: "vendor", id: r.id }, ctx, async () =>
    (await passwords.verify(input.password, r.passwordHash)) ? null : "wrong_password",
  );
  if (!attempt.ok) throw attempt.lockedUntil ? lockedOut(attempt.lockedUntil) : badLogin();
  if (r.status !== "active") {
    await releaseAttempts(deps, limit, r.id);
    await deps.audit.record(
      { action: "vendor.login.refused", target: { type: "vendor", id: r.id }, details: { reason: r.status } },
      ctx,
    );
    throw r.status === "frozen" ? frozen("vendor") : badLogin();
  }
  // `deviceId` is the credential a trusted device holds; anything else is a new device to challenge.
  const device = await trustedDevice(deps.database.db, r.id, input.deviceId);
  if (device) {
    return transact(
      deps,
      async (tx) => {
        const now = deps.now();
        await tx
          .update(vendors)
          .set({ failedLoginCount: 0, lockedUntil: null, lastLoginAt: now })
          .where(eq(vendors.id, r.id));
        await tx.update(vendorDevices).set({ lastSeenAt: now }).where(eq(vendorDevices.id, device.id));
        return openVendorSession(deps, tools.tokens, r, device.deviceId, ctx, tx);
      },
      undefined,
      "vendors.login",
    );
  }
  // The password was right: its reservation is released before the device is challenged.
  await releaseAttempts(deps, limit, r.id);
  throw await challengeDevice(deps, tools, r, deviceNameFor(input.deviceId), ctx);
}

/** The 403 for an unknown device; a code goes to the vendor's phone unless one was sent moments ago. */
async function challengeDevice(
  deps: SignInDeps,
  tools: { otp: OtpService },
  r: VendorRow,
  deviceId: string,
  ctx: RequestMeta,
): Promise<AppError> {
  const { otp } = tools;
  const auth = deps.config.auth;
  const now = deps.now();
  const required = (challengeId: string) =>
    new AppError("DEVICE_VERIFICATION_REQUIRED", "This device is new: enter the code sent to the business phone.", {
      challengeId,
    });
  // A retried login within the resend cooldown gets the code already on its way, not a 429.
  const [recent] = await queryRows<{ id: string }>(
    deps.database.db,
    sql`select id from otp_challenges
         where purpose = 'vendor_device' and subject_id = ${r.id} and device_id = ${deviceId} and status = 'pending'
           and expires_at > ${now.toISOString()}::timestamptz
           and created_at > ${new Date(now.getTime() - auth.otpResendCooldown * 1000).toISOString()}::timestamptz
         order by created_at desc limit 1`,
  );
  if (recent) return required(recent.id);
  await otp.allowSend(r.phone, "vendor");
  const challenge = await transact(
    deps,
    async (tx) => {
      const issued = await otp.issue(
        {
          purpose: "vendor_device",
          phone: r.phone,
          subjectId: r.id,
          deviceId,
          ...(ctx.ip ? { ip: ctx.ip } : {}),
          kind: "device_otp",
          message: (code, minutes) =>
            `Keshless: ${code} approves a new device for ${r.name}. It expires in ${minutes} minutes. If this was not you, change your password.`,
        },
        tx,
      );
      await deps.audit.record(
        {
          action: "vendor.device.challenge",
          actor: { type: "vendor", id: r.id },
          target: { type: "vendor", id: r.id },
          details: { deviceId, challengeId: issued.id },
        },
        ctx,
        tx,
      );
      return issued;
    },
    undefined,
    "vendors.challenge",
  );
  deps.notifications.kick();
  return required(challenge.id);
}

export async function verifyDevice(
  deps: Pick<IdentityDeps, "database" | "config" | "logger" | "now" | "rateLimiter" | "audit">,
  tools: { otp: OtpService; tokens: TokenService },
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { challengeId: string; code: string };
  },
): Promise<Tokens & { vendor: Vendor; deviceCredential: string }> {
  const { otp } = tools;
  await deps.rateLimiter.enforce(
    [{ key: `vendor-login:ip:${ctx.ip ?? "unknown"}`, limit: deps.config.auth.authIpPerHour, periodSeconds: 3600 }],
    deps.now(),
  );
  const wrong = (details?: unknown) =>
    new AppError("UNAUTHENTICATED", "The code is wrong or has expired; sign in again for a new one.", details);
  // Counted before compared, outside the transaction (see verifyOtp in user-sign-in.ts).
  const challenge = await otp.pendingById(input.challengeId, "vendor_device", deps.database.db);
  const reservation = challenge ? await otp.reserve(challenge) : { ok: false as const };
  return transact(
    deps,
    async (tx) => {
      if (!challenge?.subjectId || !challenge.deviceId || !reservation.ok) return deferred(wrong());
      const result = await otp.check(challenge, input.code, reservation, tx);
      if (!result.ok) {
        await deps.audit.record(
          {
            action: "vendor.device.failed",
            target: { type: "vendor", id: challenge.subjectId },
            details: { deviceId: challenge.deviceId, attemptsRemaining: result.attemptsRemaining },
          },
          ctx,
          tx,
        );
        return deferred(wrong({ attemptsRemaining: result.attemptsRemaining }));
      }
      const r = await vendorRow(tx, challenge.subjectId);
      if (r?.status !== "active") return deferred(r?.status === "frozen" ? frozen("vendor") : wrong());
      const now = deps.now();
      const { credential: deviceCredential, hash: credentialHash } = newDeviceCredential();
      await trustDevice(tx, { vendorId: r.id, deviceId: challenge.deviceId, credentialHash, now });
      await tx.update(vendors).set({ failedLoginCount: 0, lastLoginAt: now }).where(eq(vendors.id, r.id));
      await deps.audit.record(
        {
          action: "vendor.device.trusted",
          actor: { type: "vendor", id: r.id },
          target: { type: "vendor", id: r.id },
          details: { deviceId: challenge.deviceId },
        },
        ctx,
        tx,
      );
      return {
        ...(await openVendorSession(deps, tools.tokens, r, challenge.deviceId, ctx, tx)),
        deviceCredential,
      };
    },
    undefined,
    "vendors.verifyDevice",
  );
}

export async function refreshVendor(
  deps: Pick<IdentityDeps, "database">,
  tools: { tokens: TokenService },
  { ctx, input }: { ctx: RequestMeta; input: { refreshToken: string } },
) {
  const { principalId, ...rest } = await tools.tokens.refresh("vendor", input.refreshToken, ctx);
  return { ...rest, vendor: (await getVendor(deps, principalId))! };
}
