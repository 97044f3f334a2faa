import { randomInt } from "node:crypto";
import { and, desc, eq, ilike, isNull, or, type SQL, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import { queryRows } from "../db/client";
import { sqlMessage, sqlState } from "../db/pg-errors";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { randomToken, sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { normalizePhone } from "../lib/phone";
import { attemptLogin, loginLimit, releaseAttempts } from "./attempts";
import type { OtpService } from "./otp";
import { authSessions, vendorDevices, vendors } from "./schema";
import { type Passwords, passwordProblem } from "./secrets";
import { frozen, type TokenService, type Tokens } from "./tokens";
import { deferred, type IdentityDeps, transact } from "./tx";

export type VendorStatus = "active" | "frozen" | "deleted";

export interface Vendor {
  id: string;
  name: string;
  code: string;
  phone: string;
  email: string;
  status: VendorStatus;
}

export interface VendorView extends Vendor {
  registrationNumber: string | null;
  address: string | null;
  category: string | null;
  statusReason: string | null;
  lockedUntil: string | null;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface VendorDevice {
  id: string;
  deviceId: string;
  trustedAt: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
}

export interface CreateVendorInput {
  name: string;
  email: string;
  password: string;
  phone: string;
  registrationNumber?: string | undefined;
  address?: string | undefined;
  category?: string | undefined;
}

type Row = typeof vendors.$inferSelect;

const toVendor = (r: Row): Vendor => ({
  id: r.id,
  name: r.name,
  code: r.code,
  phone: r.phone,
  email: r.email,
  status: r.status as VendorStatus,
});

const toDevice = (d: typeof vendorDevices.$inferSelect): VendorDevice => ({
  id: d.id,
  deviceId: d.deviceId,
  trustedAt: d.trustedAt.toISOString(),
  lastSeenAt: d.lastSeenAt?.toISOString() ?? null,
  revokedAt: d.revokedAt?.toISOString() ?? null,
});

/** Device credentials start with this, so a stale one is told from an install's name. */
const CREDENTIAL_PREFIX = "kdc_";

const badLogin = () => new AppError("UNAUTHENTICATED", "The email or password is wrong.");

/** Vendors: created by admins or the CLI; email + password (argon2id) + a trusted device to sign in. */
export function createVendors(
  deps: IdentityDeps,
  tools: { passwords: Passwords; otp: OtpService; tokens: TokenService },
) {
  const { passwords, otp, tokens } = tools;
  const { db } = deps.database;
  const auth = deps.config.auth;

  async function row(id: string, tx?: Executor) {
    const [r] = await (tx ?? db).select().from(vendors).where(eq(vendors.id, id));
    return r;
  }
  /** A signed-in vendor on a trusted device: a new session, audited, in the caller's transaction. */
  async function openVendorSession(
    r: NonNullable<Awaited<ReturnType<typeof row>>>,
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

  const get = async (id: string) => {
    const r = await row(id);
    return r ? toVendor(r) : undefined;
  };

  async function findByCode(code: string): Promise<Vendor | undefined> {
    const [r] = await db.select().from(vendors).where(eq(vendors.code, code.trim()));
    return r ? toVendor(r) : undefined;
  }

  function view(r: Row): VendorView {
    return {
      ...toVendor(r),
      registrationNumber: r.registrationNumber,
      address: r.address,
      category: r.category,
      statusReason: r.statusReason,
      lockedUntil: r.lockedUntil && r.lockedUntil > deps.now() ? r.lockedUntil.toISOString() : null,
      lastLoginAt: r.lastLoginAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
    };
  }

  const getView = async (id: string) => {
    const r = await row(id);
    return r ? view(r) : undefined;
  };

  /**
   * A vendor, its sharded wallet (vendors are hot payees) and the audit row, in one transaction.
   * The vendor code is 6 digits — typed on a USSD keypad — drawn until unused.
   */
  async function create({ ctx, input }: { ctx: RequestMeta; input: CreateVendorInput }): Promise<VendorView> {
    const phone = normalizePhone(input.phone);
    if (!phone)
      throw new AppError("VALIDATION_FAILED", "The phone is not an Eswatini mobile number.", [
        { path: "phone", message: "not an Eswatini mobile number" },
      ]);
    const problem = passwordProblem(input.password);
    if (problem)
      throw new AppError("VALIDATION_FAILED", `The password ${problem}.`, [{ path: "password", message: problem }]);
    const email = input.email.trim().toLowerCase();
    const passwordHash = await passwords.hash(input.password);
    for (let attempt = 0; ; attempt++) {
      try {
        const created = await transact(
          deps,
          async (tx) => {
            const [taken] = await tx.select({ id: vendors.id }).from(vendors).where(eq(vendors.email, email));
            if (taken) return deferred(new AppError("CONFLICT", "A vendor with that email already exists."));
            let code = "";
            for (let i = 0; i < 20 && !code; i++) {
              const candidate = String(randomInt(100_000, 1_000_000));
              const [used] = await tx.select({ id: vendors.id }).from(vendors).where(eq(vendors.code, candidate));
              if (!used) code = candidate;
            }
            if (!code) return deferred(new AppError("UNAVAILABLE", "No vendor code is free; try again."));
            const id = newId("vnd");
            const now = deps.now();
            const [r] = await tx
              .insert(vendors)
              .values({
                id,
                code,
                name: input.name.trim(),
                email,
                phone,
                passwordHash,
                registrationNumber: input.registrationNumber ?? null,
                address: input.address ?? null,
                category: input.category ?? null,
                createdBy: ctx.actor?.id ?? null,
                createdAt: now,
                updatedAt: now,
              })
              .returning();
            await deps.ledger.openAccount(
              {
                kind: "vendor_wallet",
                ownerType: "vendor",
                ownerId: id,
                currency: "SZL",
                guarded: true,
                shards: deps.config.hotAccountShards,
              },
              tx,
            );
            await deps.audit.record(
              { action: "vendor.create", target: { type: "vendor", id }, details: { name: r!.name, code } },
              ctx,
              tx,
            );
            return r!;
          },
          undefined,
          "vendors.create",
        );
        return view(created);
      } catch (error) {
        // Two creations drew the same code at once: draw again. A duplicate email is a real conflict.
        if (sqlState(error) === "23505" && /code/.test(sqlMessage(error)) && attempt < 3) continue;
        if (sqlState(error) === "23505") throw new AppError("CONFLICT", "A vendor with that email already exists.");
        throw error;
      }
    }
  }

  async function list(filter: { q?: string; status?: VendorStatus; limit: number; cursor?: string }) {
    const where: (SQL | undefined)[] = [];
    if (filter.status) where.push(eq(vendors.status, filter.status));
    const q = filter.q?.trim();
    if (q) {
      const escaped = q.replace(/[\\%_]/g, "\\$&");
      const phone = normalizePhone(q);
      where.push(
        or(
          eq(vendors.id, q),
          eq(vendors.code, q),
          eq(vendors.email, q.toLowerCase()),
          phone ? eq(vendors.phone, phone) : undefined,
          ilike(vendors.name, `%${escaped}%`),
        ),
      );
    }
    if (filter.cursor) {
      where.push(after(filter.cursor, vendors.createdAt, vendors.id));
    }
    const rows = await db
      .select()
      .from(vendors)
      .where(and(...where))
      .orderBy(desc(vendors.createdAt), desc(vendors.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(view),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  async function setStatus({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { vendorId: string; status: "active" | "frozen"; reason: string };
  }): Promise<VendorView> {
    await transact(
      deps,
      async (tx) => {
        const current = await row(input.vendorId, tx);
        if (!current || current.status === "deleted") return deferred(new AppError("NOT_FOUND", "No such vendor."));
        await tx
          .update(vendors)
          .set({ status: input.status, statusReason: input.reason, updatedAt: deps.now() })
          .where(eq(vendors.id, input.vendorId));
        await deps.audit.record(
          {
            action: input.status === "frozen" ? "vendor.freeze" : "vendor.unfreeze",
            target: { type: "vendor", id: input.vendorId },
            details: { reason: input.reason, previousStatus: current.status },
          },
          ctx,
          tx,
        );
      },
      undefined,
      "vendors.setStatus",
    );
    return (await getView(input.vendorId))!;
  }

  // ------------------------------------------------------------------ sign-in

  const lockedOut = (until: Date) =>
    new AppError("FORBIDDEN", `Too many failed sign-ins: the account is locked until ${until.toISOString()}.`, {
      reason: "ACCOUNT_LOCKED",
      lockedUntil: until.toISOString(),
    });

  /**
   * Email + password + device. The password check (argon2id, ~100 ms) runs outside any transaction.
   * An unknown device gets 403 DEVICE_VERIFICATION_REQUIRED {challengeId} and a code on the vendor's phone.
   */
  async function login({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { email: string; password: string; deviceId: string };
  }): Promise<Tokens & { vendor: Vendor }> {
    await deps.rateLimiter.enforce(
      [{ key: `vendor-login:ip:${ctx.ip ?? "unknown"}`, limit: auth.authIpPerHour, periodSeconds: 3600 }],
      deps.now(),
    );
    const email = input.email.trim().toLowerCase();
    const [r] = await db.select().from(vendors).where(eq(vendors.email, email));
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
    // Trusted means: `deviceId` is a credential we issued to this vendor's device and nobody revoked. Any
    // other value — an install id the app chose, one an attacker guessed — is a new device to challenge.
    const [device] = await db
      .select()
      .from(vendorDevices)
      .where(
        and(
          eq(vendorDevices.vendorId, r.id),
          eq(vendorDevices.credentialHash, sha256Hex(input.deviceId)),
          isNull(vendorDevices.revokedAt),
        ),
      );
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
          return openVendorSession(r, device.deviceId, ctx, tx);
        },
        undefined,
        "vendors.login",
      );
    }
    // The password was right: its reservation is released before the device is challenged.
    await releaseAttempts(deps, limit, r.id);
    // A credential that no longer counts (revoked, replaced) must not become the device's stored name.
    const name = input.deviceId.startsWith(CREDENTIAL_PREFIX)
      ? `device-${sha256Hex(input.deviceId).slice(0, 8)}`
      : input.deviceId;
    throw await challengeDevice(r, name, ctx);
  }

  /** The 403 for an unknown device; a code goes to the vendor's phone unless one was sent moments ago. */
  async function challengeDevice(r: Row, deviceId: string, ctx: RequestMeta): Promise<AppError> {
    const now = deps.now();
    const required = (challengeId: string) =>
      new AppError("DEVICE_VERIFICATION_REQUIRED", "This device is new: enter the code sent to the business phone.", {
        challengeId,
      });
    // A retried login within the resend cooldown gets the code already on its way, not a 429.
    const [recent] = await queryRows<{ id: string }>(
      db,
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

  async function verifyDevice({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { challengeId: string; code: string };
  }): Promise<Tokens & { vendor: Vendor; deviceCredential: string }> {
    await deps.rateLimiter.enforce(
      [{ key: `vendor-login:ip:${ctx.ip ?? "unknown"}`, limit: auth.authIpPerHour, periodSeconds: 3600 }],
      deps.now(),
    );
    const wrong = (details?: unknown) =>
      new AppError("UNAUTHENTICATED", "The code is wrong or has expired; sign in again for a new one.", details);
    // Counted before compared, outside the transaction (see users.verifyOtp).
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
        const r = await row(challenge.subjectId, tx);
        if (r?.status !== "active") return deferred(r?.status === "frozen" ? frozen("vendor") : wrong());
        const now = deps.now();
        // The device's proof from now on: high-entropy, shown once (in this answer), stored only as a hash.
        // Verifying a device name again issues a new credential and retires the old one.
        const deviceCredential = `${CREDENTIAL_PREFIX}${randomToken(32)}`;
        const credentialHash = sha256Hex(deviceCredential);
        await tx
          .insert(vendorDevices)
          .values({
            id: newId("dev"),
            vendorId: r.id,
            deviceId: challenge.deviceId,
            credentialHash,
            trustedAt: now,
            lastSeenAt: now,
          })
          .onConflictDoUpdate({
            target: [vendorDevices.vendorId, vendorDevices.deviceId],
            set: { credentialHash, trustedAt: now, lastSeenAt: now, revokedAt: null, revokedBy: null },
          });
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
        return { ...(await openVendorSession(r, challenge.deviceId, ctx, tx)), deviceCredential };
      },
      undefined,
      "vendors.verifyDevice",
    );
  }

  async function refresh({ ctx, input }: { ctx: RequestMeta; input: { refreshToken: string } }) {
    const { principalId, ...rest } = await tokens.refresh("vendor", input.refreshToken, ctx);
    return { ...rest, vendor: (await get(principalId))! };
  }

  // ------------------------------------------------------------------ devices

  async function devices(vendorId: string): Promise<VendorDevice[]> {
    const rows = await db
      .select()
      .from(vendorDevices)
      .where(eq(vendorDevices.vendorId, vendorId))
      .orderBy(desc(vendorDevices.trustedAt));
    return rows.map(toDevice);
  }

  /** Untrusts a device and ends every session opened from it. By the vendor or an admin. */
  async function revokeDevice({ ctx, input }: { ctx: RequestMeta; input: { vendorId: string; id: string } }) {
    await transact(
      deps,
      async (tx) => {
        const [d] = await tx
          .select()
          .from(vendorDevices)
          .where(and(eq(vendorDevices.id, input.id), eq(vendorDevices.vendorId, input.vendorId)));
        if (!d) return deferred(new AppError("NOT_FOUND", "No such device."));
        if (d.revokedAt) return;
        const now = deps.now();
        await tx
          .update(vendorDevices)
          .set({ revokedAt: now, revokedBy: ctx.actor?.id ?? null })
          .where(eq(vendorDevices.id, d.id));
        await tx
          .update(authSessions)
          .set({ revokedAt: now, revokedReason: "device_revoked" })
          .where(
            and(
              eq(authSessions.principalType, "vendor"),
              eq(authSessions.principalId, input.vendorId),
              eq(authSessions.deviceId, d.deviceId),
              isNull(authSessions.revokedAt),
            ),
          );
        await deps.audit.record(
          {
            action: "vendor.device.revoke",
            target: { type: "vendor", id: input.vendorId },
            details: { device: d.id, deviceId: d.deviceId },
          },
          ctx,
          tx,
        );
      },
      undefined,
      "vendors.revokeDevice",
    );
  }

  /** Whether `password` is this vendor's (a step-up check, e.g. before a withdrawal); as slow for an unknown id. */
  async function passwordMatches(vendorId: string, password: string): Promise<boolean> {
    const [r] = await db.select({ hash: vendors.passwordHash }).from(vendors).where(eq(vendors.id, vendorId));
    if (!r) {
      await passwords.burn(password);
      return false;
    }
    return passwords.verify(password, r.hash);
  }

  return {
    get,
    findByCode,
    passwordMatches,
    getView,
    create,
    list,
    setStatus,
    login,
    verifyDevice,
    refresh,
    devices,
    revokeDevice,
  };
}

export type VendorService = ReturnType<typeof createVendors>;
