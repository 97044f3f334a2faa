import { randomBytes } from "node:crypto";
import { HOTP, Secret, TOTP } from "otpauth";
import type { Config } from "../config";
import { constantTimeEqual, hmacSha256Hex, sha256Hex } from "../lib/crypto";

/**
 * Secrets on the hot path. A PIN is checked on every payment, so it is a keyed hash (HMAC-SHA-256
 * with a server-side pepper), not argon2id: ~1 µs instead of ~100 ms of CPU, and no hashing cost
 * would protect a 4–6 digit PIN from offline guessing anyway — the pepper (never in the database)
 * and the attempt limit do. Each hash records the id of its pepper, so the pepper can rotate: old
 * ones stay verify-only and a PIN moves to the current one on its next success.
 * OTP codes use the same peppers (they are just as guessable).
 */
export function createPeppers(config: Pick<Config, "secrets">) {
  const keyId = (pepper: string) => sha256Hex(`pin-pepper:${pepper}`).slice(0, 8);
  const current = { id: keyId(config.secrets.pinPepper), pepper: config.secrets.pinPepper };
  const all = new Map<string, string>([[current.id, current.pepper]]);
  for (const old of config.secrets.pinPepperPrevious) all.set(keyId(old), old);

  const pinMessage = (userId: string, pin: string) => `pin:${userId}:${pin}`;
  const otpMessage = (challengeId: string, code: string) => `otp:${challengeId}:${code}`;

  function matches(message: string, stored: string, id: string): boolean {
    const pepper = all.get(id);
    if (!pepper) return false;
    return constantTimeEqual(hmacSha256Hex(pepper, message), stored);
  }

  return {
    currentKeyId: current.id,
    hashPin: (userId: string, pin: string) => ({
      hash: hmacSha256Hex(current.pepper, pinMessage(userId, pin)),
      keyId: current.id,
    }),
    pinMatches: (userId: string, pin: string, stored: string, id: string) =>
      matches(pinMessage(userId, pin), stored, id),
    knowsKey: (id: string) => all.has(id),
    hashOtp: (challengeId: string, code: string) => ({
      hash: hmacSha256Hex(current.pepper, otpMessage(challengeId, code)),
      keyId: current.id,
    }),
    otpMatches: (challengeId: string, code: string, stored: string, id: string) =>
      matches(otpMessage(challengeId, code), stored, id),
  };
}

export type Peppers = ReturnType<typeof createPeppers>;

/** Why a PIN is too easy to guess, or null. Rules: one repeated digit, a run (1234, 9876), the phone's own last digits. */
export function weakPinReason(pin: string, phone?: string): string | null {
  if (/^(\d)\1+$/.test(pin)) return "must not repeat one digit";
  const digits = [...pin].map(Number);
  const steps = new Set(digits.slice(1).map((d, i) => d - digits[i]!));
  if (steps.size === 1 && (steps.has(1) || steps.has(-1))) return "must not be a run of consecutive digits";
  if (phone?.replace(/\D/g, "").endsWith(pin)) return "must not be the last digits of your phone number";
  return null;
}

// ------------------------------------------------------------------ passwords (vendors, admins)

/** argon2id through Bun.password: right for logins that happen rarely (DESIGN.md, "Secrets on the hot path"). */
export function createPasswords(config: Pick<Config, "auth">) {
  const options = { algorithm: "argon2id" as const, ...config.auth.argon2 };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password: string) => Bun.password.hash(password, options),
    verify: async (password: string, hash: string) => {
      try {
        return await Bun.password.verify(password, hash);
      } catch {
        return false;
      }
    },
    /** Spends the same time as a real check, so an unknown email does not answer faster than a wrong password. */
    burn: async (password: string) => {
      dummy ??= Bun.password.hash(randomBytes(16).toString("hex"), options);
      await Bun.password.verify(password, await dummy).catch(() => false);
      return false;
    },
  };
}

export type Passwords = ReturnType<typeof createPasswords>;

export function passwordProblem(password: string): string | null {
  if (password.length < 10) return "must be at least 10 characters";
  if (password.length > 200) return "must be at most 200 characters";
  if (new Set(password).size < 4) return "is too repetitive";
  return null;
}

// ------------------------------------------------------------------ TOTP (admins)

// RFC 6238 and RFC 4648 base32 through the maintained otpauth package; this module keeps the shape
// callers use (a base32 secret, a step number) and the check that does not say which step matched.

export function base32Encode(bytes: Uint8Array): string {
  return new Secret({ buffer: Uint8Array.from(bytes).buffer }).base32;
}

export function base32Decode(text: string): Buffer {
  try {
    return Buffer.from(Secret.fromBase32(text.replace(/\s/g, "")).bytes);
  } catch {
    throw new Error("invalid base32");
  }
}

export const TOTP_STEP_SECONDS = 30;
const TOTP_DIGITS = 6;

/** RFC 6238: HMAC-SHA-1 over the 30-second step counter, dynamic truncation, 6 digits. */
export function totpCode(secret: string, step: number): string {
  return HOTP.generate({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: TOTP_DIGITS, counter: step });
}

export const totpStep = (at: Date) => TOTP.counter({ period: TOTP_STEP_SECONDS, timestamp: at.getTime() });

/** The step the code belongs to (now, one before or one after, for clock drift), or null. */
export function matchTotp(secret: string, code: string, at: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const now = totpStep(at);
  let found: number | null = null;
  // Check all three (otpauth's validate stops at the first match) so the time taken does not say which step matched.
  for (const step of [now - 1, now, now + 1]) if (constantTimeEqual(totpCode(secret, step), code)) found = step;
  return found;
}

export const newTotpSecret = () => new Secret({ size: 20 }).base32;
