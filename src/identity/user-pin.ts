import { eq } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { AppError } from "../http/errors";
import { checkUnderLock, pinLimit } from "./attempts";
import { users } from "./schema";
import { type Peppers, weakPinReason } from "./secrets";
import { frozen, type TokenService } from "./tokens";
import { type IdentityDeps, transact } from "./tx";
import { userRow } from "./user-profile";

/**
 * The transaction PIN: checked before money moves, set, changed, reset after a fresh OTP, locked after too
 * many wrong tries.
 */

type PinDeps = Pick<IdentityDeps, "database" | "config" | "logger" | "now" | "audit">;

const lockedError = (until: Date) =>
  new AppError("FORBIDDEN", `Too many wrong PINs: money movement is locked until ${until.toISOString()}.`, {
    reason: "PIN_LOCKED",
    lockedUntil: until.toISOString(),
  });

/**
 * The answer to a wrong PIN that was already counted (by its reservation, or by the fast lane's
 * statement): its audit trail, then the INVALID_PIN error for the caller to throw.
 */
export async function pinRefused(
  deps: Pick<IdentityDeps, "audit" | "logger">,
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
export async function verifyPin(
  deps: PinDeps,
  tools: { peppers: Peppers },
  input: { userId: string; pin: string },
  meta: RequestMeta = {},
): Promise<void> {
  const { peppers } = tools;
  const r = await userRow(deps.database.db, input.userId);
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
  throw await pinRefused(deps, r.id, outcome, meta);
}

/**
 * Sets or changes the PIN. Changing needs the current PIN; a forgotten (or locked) PIN is reset
 * without it only from a session opened by a fresh OTP — proof the caller holds the SIM right now.
 */
export async function setPin(
  deps: PinDeps,
  tools: { peppers: Peppers; tokens: TokenService },
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { userId: string; sessionId: string; pin: string; currentPin?: string | undefined };
  },
): Promise<void> {
  const r = await userRow(deps.database.db, input.userId);
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
      await verifyPin(deps, tools, { userId: r.id, pin: input.currentPin }, ctx);
      action = "user.pin.change";
    } else {
      const session = await tools.tokens.getSession(input.sessionId);
      const fresh =
        session?.otpVerifiedAt &&
        deps.now().getTime() - session.otpVerifiedAt.getTime() <= deps.config.auth.pinResetWindow * 1000;
      if (!fresh)
        throw new AppError(
          "VALIDATION_FAILED",
          "currentPin is required. To reset a forgotten PIN, sign in again with a new code, then set it within a few minutes.",
          [{ path: "currentPin", message: "required once a PIN is set" }],
        );
      action = "user.pin.reset";
    }
  }
  await storePin(deps, tools.peppers, r.id, input.pin, { action }, ctx);
}

/** Writes a new PIN hash, clears failures and any lock, and audits it — in one transaction. */
async function storePin(
  deps: PinDeps,
  peppers: Peppers,
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
export async function changePinAfterUssdCheck(
  deps: PinDeps,
  tools: { peppers: Peppers },
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { userId: string; pin: string };
  },
): Promise<void> {
  const r = await userRow(deps.database.db, input.userId);
  if (!r || r.status === "deleted") throw new AppError("UNAUTHENTICATED", "Authentication is required.");
  if (r.status === "frozen") throw frozen("user");
  if (r.pinLockedUntil && r.pinLockedUntil > deps.now()) throw lockedError(r.pinLockedUntil);
  const weak = /^\d{4,6}$/.test(input.pin) ? weakPinReason(input.pin, r.phone) : "must be 4 to 6 digits";
  if (weak)
    throw new AppError("VALIDATION_FAILED", `That PIN is not allowed: it ${weak}.`, [{ path: "pin", message: weak }]);
  await storePin(
    deps,
    tools.peppers,
    r.id,
    input.pin,
    { action: r.pinHash ? "user.pin.change" : "user.pin.set", details: { channel: "ussd" } },
    ctx,
  );
}

/**
 * What a correct PIN's stored hash is under the current pepper — for the payments fast lane, whose
 * statement compares it with the stored one (a mismatch sends the request through verifyPin).
 */
export function pinProof(tools: { peppers: Peppers }, userId: string, pin: string): { keyId: string; hash: string } {
  return tools.peppers.hashPin(userId, pin);
}
