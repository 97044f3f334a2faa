import { and, desc, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { newId } from "../lib/ids";
import { maskPhone, normalizePhone } from "../lib/phone";
import { checkUnderLock, pinLimit } from "./attempts";
import type { OtpService } from "./otp";
import { users } from "./schema";
import { type Peppers, weakPinReason } from "./secrets";
import { frozen, type TokenService, type Tokens } from "./tokens";
import { deferred, type IdentityDeps, transact } from "./tx";

export type UserStatus = "active" | "frozen" | "deleted";

export interface User {
  id: string;
  phone: string;
  name: string | null;
  kycTier: number;
  hasPin: boolean;
  status: UserStatus;
}

export interface AdminUserView extends User {
  statusReason: string | null;
  pinLockedUntil: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  wallet: { accountId: string; currency: string; balance: number; available: number } | null;
}

type Row = typeof users.$inferSelect;

const toUser = (r: Row): User => ({
  id: r.id,
  phone: r.phone,
  name: r.name,
  kycTier: r.kycTier,
  hasPin: r.pinHash !== null,
  status: r.status as UserStatus,
});

const badPhone = () =>
  new AppError("VALIDATION_FAILED", "That is not an Eswatini mobile number.", [
    { path: "phone", message: "an Eswatini mobile: 8 digits starting 75–79, optionally with +268" },
  ]);

const wrongCode = (details?: unknown) =>
  new AppError("UNAUTHENTICATED", "The code is wrong or has expired; ask for a new one.", details);

/** Users: phone + OTP to sign in, a PIN to move money. */
export function createUsers(deps: IdentityDeps, tools: { peppers: Peppers; otp: OtpService; tokens: TokenService }) {
  const { peppers, otp, tokens } = tools;
  const { db } = deps.database;
  const auth = deps.config.auth;

  async function row(id: string, tx?: Executor): Promise<Row | undefined> {
    const [r] = await (tx ?? db).select().from(users).where(eq(users.id, id));
    return r;
  }

  async function get(id: string): Promise<User | undefined> {
    const r = await row(id);
    return r ? toUser(r) : undefined;
  }

  async function findByPhone(phone: string): Promise<User | undefined> {
    const e164 = normalizePhone(phone);
    if (!e164) return undefined;
    const [r] = await db.select().from(users).where(eq(users.phone, e164));
    return r ? toUser(r) : undefined;
  }

  /**
   * The user with this phone, created with their wallet if new — one transaction, so no user ever
   * exists without a wallet. Idempotent per phone (OTP verify and USSD registration may race).
   */
  async function register(input: { phone: string; name?: string }, tx?: Executor): Promise<User> {
    const phone = normalizePhone(input.phone);
    if (!phone) throw badPhone();
    return transact(
      deps,
      async (t) => {
        const id = newId("usr");
        const now = deps.now();
        const [created] = await t
          .insert(users)
          .values({ id, phone, name: input.name ?? null, createdAt: now, updatedAt: now })
          .onConflictDoNothing({ target: users.phone })
          .returning();
        if (created) {
          await deps.ledger.openAccount(
            { kind: "user_wallet", ownerType: "user", ownerId: id, currency: "SZL", guarded: true },
            t,
          );
          await deps.audit.record(
            { action: "user.register", actor: { type: "user", id }, target: { type: "user", id } },
            {},
            t,
          );
          return toUser(created);
        }
        const [existing] = await t.select().from(users).where(eq(users.phone, phone));
        return toUser(existing!);
      },
      tx,
      "users.register",
    );
  }

  // ------------------------------------------------------------------ sign-in

  async function requestOtp({ ctx, input }: { ctx: RequestMeta; input: { phone: string } }) {
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

  async function verifyOtp({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { phone: string; code: string };
  }): Promise<Tokens & { user: User }> {
    const phone = normalizePhone(input.phone);
    if (!phone) throw badPhone();
    await deps.rateLimiter.enforce(
      [{ key: `otp-verify:ip:${ctx.ip ?? "unknown"}`, limit: auth.authIpPerHour, periodSeconds: 3600 }],
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
        const user = await register({ phone }, tx);
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

  async function refresh({ ctx, input }: { ctx: RequestMeta; input: { refreshToken: string } }) {
    const issued = await tokens.refresh("user", input.refreshToken, ctx);
    const { principalId, ...rest } = issued;
    return { ...rest, user: (await get(principalId))! };
  }

  // ------------------------------------------------------------------ PIN

  const lockedError = (until: Date) =>
    new AppError("FORBIDDEN", `Too many wrong PINs: money movement is locked until ${until.toISOString()}.`, {
      reason: "PIN_LOCKED",
      lockedUntil: until.toISOString(),
    });

  /**
   * The answer to a wrong PIN that was already counted (by its reservation, or by the fast lane's
   * statement): its audit trail, then the INVALID_PIN error for the caller to throw.
   */
  async function pinRefused(
    userId: string,
    outcome: { attemptsRemaining: number; lockedUntil: Date | null },
    meta: RequestMeta,
  ): Promise<AppError> {
    const actor = meta.actor ?? { type: "user" as const, id: userId };
    const target = { type: "user", id: userId };
    const lockedUntil = outcome.lockedUntil?.toISOString() ?? null;
    const details = { attemptsRemaining: outcome.attemptsRemaining, lockedUntil };
    try {
      await deps.audit.record(
        { action: "user.pin.failed", actor, target, details: { reason: "wrong_pin", ...details } },
        meta,
      );
      if (lockedUntil)
        await deps.audit.record({ action: "user.pin.locked", actor, target, details: { lockedUntil } }, meta);
    } catch (error) {
      // The count is already committed: a lost audit row must not turn the refusal into a 500.
      deps.logger.error({ err: error, userId }, "could not audit a wrong PIN");
    }
    return new AppError(
      "INVALID_PIN",
      lockedUntil
        ? `Wrong PIN. Money movement is locked until ${lockedUntil}.`
        : `Wrong PIN. ${outcome.attemptsRemaining} ${outcome.attemptsRemaining === 1 ? "try" : "tries"} left.`,
      details,
    );
  }

  /**
   * Checks a transaction PIN. Throws INVALID_PIN (401) when wrong, ACCOUNT_FROZEN when frozen,
   * FORBIDDEN {lockedUntil} while locked after too many wrong PINs.
   *
   * The PIN is compared under the user's row lock and its outcome written before the lock is let go
   * (src/identity/attempts.ts), so concurrent guesses cannot outrun the limit.
   */
  async function verifyPin(input: { userId: string; pin: string }, meta: RequestMeta = {}): Promise<void> {
    const r = await row(input.userId);
    if (!r || r.status === "deleted") throw new AppError("UNAUTHENTICATED", "Authentication is required.");
    if (r.status === "frozen") throw frozen("user");
    if (!r.pinHash || !r.pinKeyId)
      throw new AppError("FORBIDDEN", "Set a transaction PIN first.", { reason: "PIN_NOT_SET" });
    if (r.pinLockedUntil && r.pinLockedUntil > deps.now()) throw lockedError(r.pinLockedUntil);
    const { pinHash, pinKeyId } = r;
    const pin = typeof input.pin === "string" ? input.pin : "";
    // A right PIN hashed under a retired pepper is rehashed under the current one, in the same write.
    const rehashed = pinKeyId === peppers.currentKeyId ? undefined : peppers.hashPin(r.id, pin);
    const outcome = await checkUnderLock(
      deps,
      pinLimit(deps),
      r.id,
      () => /^\d{4,6}$/.test(pin) && peppers.pinMatches(r.id, pin, pinHash, pinKeyId),
      rehashed && { pin_hash: rehashed.hash, pin_key_id: rehashed.keyId },
    );
    if (outcome.ok) return;
    if (outcome.locked) throw lockedError(outcome.lockedUntil);
    if (!peppers.knowsKey(r.pinKeyId))
      deps.logger.error({ userId: r.id, keyId: r.pinKeyId }, "PIN hashed under a pepper that is no longer configured");
    throw await pinRefused(r.id, outcome, meta);
  }

  /**
   * Sets or changes the PIN. Changing needs the current PIN; a forgotten (or locked) PIN is reset
   * without it only from a session opened by a fresh OTP — proof the caller holds the SIM right now.
   */
  async function setPin({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { userId: string; sessionId: string; pin: string; currentPin?: string | undefined };
  }): Promise<void> {
    const r = await row(input.userId);
    if (!r || r.status === "deleted") throw new AppError("UNAUTHENTICATED", "Authentication is required.");
    if (r.status === "frozen") throw frozen("user");
    const weak = weakPinReason(input.pin, r.phone);
    if (weak)
      throw new AppError("VALIDATION_FAILED", `That PIN is too easy to guess: it ${weak}.`, [
        { path: "pin", message: weak },
      ]);
    let action = "user.pin.set";
    if (r.pinHash) {
      if (input.currentPin !== undefined) {
        await verifyPin({ userId: r.id, pin: input.currentPin }, ctx);
        action = "user.pin.change";
      } else {
        const session = await tokens.getSession(input.sessionId);
        const fresh =
          session?.otpVerifiedAt &&
          deps.now().getTime() - session.otpVerifiedAt.getTime() <= auth.pinResetWindow * 1000;
        if (!fresh)
          throw new AppError(
            "VALIDATION_FAILED",
            "currentPin is required. To reset a forgotten PIN, sign in again with a new code, then set it within a few minutes.",
            [{ path: "currentPin", message: "required once a PIN is set" }],
          );
        action = "user.pin.reset";
      }
    }
    await storePin(r.id, input.pin, { action }, ctx);
  }

  /** Writes a new PIN hash, clears failures and any lock, and audits it — in one transaction. */
  async function storePin(
    userId: string,
    pin: string,
    audit: { action: string; details?: Record<string, unknown> },
    ctx: RequestMeta,
  ) {
    const { hash, keyId } = peppers.hashPin(userId, pin);
    await transact(
      deps,
      async (tx) => {
        const now = deps.now();
        await tx
          .update(users)
          .set({
            pinHash: hash,
            pinKeyId: keyId,
            pinSetAt: now,
            pinFailedCount: 0,
            pinLockedUntil: null,
            updatedAt: now,
          })
          .where(eq(users.id, userId));
        await deps.audit.record(
          { ...audit, actor: { type: "user", id: userId }, target: { type: "user", id: userId } },
          ctx,
          tx,
        );
      },
      undefined,
      "pin.set",
    );
  }

  /**
   * The USSD PIN change. A USSD session cannot carry the current PIN to the last screen (most gateways
   * send one input per hop, and a PIN is never stored), so the menu checks it with verifyPin on the screen
   * that asks for it — a wrong one is counted there — and calls this on the last screen. The mobile
   * network vouches for the number, as a fresh OTP does for setPin. Same PIN rules and audit as setPin.
   */
  async function changePinAfterUssdCheck({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { userId: string; pin: string };
  }): Promise<void> {
    const r = await row(input.userId);
    if (!r || r.status === "deleted") throw new AppError("UNAUTHENTICATED", "Authentication is required.");
    if (r.status === "frozen") throw frozen("user");
    if (r.pinLockedUntil && r.pinLockedUntil > deps.now()) throw lockedError(r.pinLockedUntil);
    const weak = /^\d{4,6}$/.test(input.pin) ? weakPinReason(input.pin, r.phone) : "must be 4 to 6 digits";
    if (weak)
      throw new AppError("VALIDATION_FAILED", `That PIN is not allowed: it ${weak}.`, [{ path: "pin", message: weak }]);
    await storePin(
      r.id,
      input.pin,
      { action: r.pinHash ? "user.pin.change" : "user.pin.set", details: { channel: "ussd" } },
      ctx,
    );
  }

  // ------------------------------------------------------------------ administration

  async function setStatus({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { userId: string; status: "active" | "frozen"; reason: string };
  }): Promise<AdminUserView> {
    await transact(
      deps,
      async (tx) => {
        const current = await row(input.userId, tx);
        if (!current || current.status === "deleted") return deferred(new AppError("NOT_FOUND", "No such user."));
        await tx
          .update(users)
          .set({ status: input.status, statusReason: input.reason, updatedAt: deps.now() })
          .where(eq(users.id, input.userId));
        await deps.audit.record(
          {
            action: input.status === "frozen" ? "user.freeze" : "user.unfreeze",
            target: { type: "user", id: input.userId },
            details: { reason: input.reason, previousStatus: current.status },
          },
          ctx,
          tx,
        );
      },
      undefined,
      "users.setStatus",
    );
    return (await view(input.userId))!;
  }

  async function view(id: string): Promise<AdminUserView | undefined> {
    const r = await row(id);
    if (!r) return undefined;
    const account = await deps.ledger.findAccount("user_wallet", r.id, "SZL");
    const balance = account ? await deps.ledger.balance(account.id) : undefined;
    return {
      ...toUser(r),
      statusReason: r.statusReason,
      pinLockedUntil: r.pinLockedUntil && r.pinLockedUntil > deps.now() ? r.pinLockedUntil.toISOString() : null,
      lastLoginAt: r.lastLoginAt?.toISOString() ?? null,
      createdAt: r.createdAt.toISOString(),
      wallet:
        account && balance
          ? {
              accountId: account.id,
              currency: account.currency,
              balance: Number(balance.balance),
              available: Number(balance.available),
            }
          : null,
    };
  }

  /** Newest first. `q` matches an id, a phone (any accepted spelling, or its trailing digits) or a name. */
  async function search(filter: { q?: string; status?: UserStatus; limit: number; cursor?: string }) {
    const where: (SQL | undefined)[] = [];
    if (filter.status) where.push(eq(users.status, filter.status));
    const q = filter.q?.trim();
    if (q) {
      const phone = normalizePhone(q);
      const digits = q.replace(/\D/g, "");
      const escaped = q.replace(/[\\%_]/g, "\\$&");
      where.push(
        or(
          eq(users.id, q),
          phone ? eq(users.phone, phone) : undefined,
          digits.length >= 4 && digits.length === q.replace(/[\s+]/g, "").length
            ? sql`${users.phone} like ${`%${digits}`}`
            : undefined,
          ilike(users.name, `%${escaped}%`),
        ),
      );
    }
    if (filter.cursor) {
      where.push(after(filter.cursor, users.createdAt, users.id));
    }
    const rows = await db
      .select()
      .from(users)
      .where(and(...where))
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(toUser),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  /**
   * What a correct PIN's stored hash is under the current pepper — for the payments fast lane, whose
   * statement compares it with the stored one (a mismatch sends the request through verifyPin).
   */
  function pinProof(userId: string, pin: string): { keyId: string; hash: string } {
    return peppers.hashPin(userId, pin);
  }

  return {
    get,
    findByPhone,
    pinProof,
    pinRefused,
    register,
    requestOtp,
    verifyOtp,
    refresh,
    verifyPin,
    setPin,
    changePinAfterUssdCheck,
    setStatus,
    view,
    search,
  };
}

export type UserService = ReturnType<typeof createUsers>;
