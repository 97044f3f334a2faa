import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
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

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Buffer {
  const clean = text.toUpperCase().replace(/[\s=]/g, "");
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    const index = BASE32.indexOf(ch);
    if (index < 0) throw new Error("invalid base32");
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export const TOTP_STEP_SECONDS = 30;

/** RFC 6238: HMAC-SHA-1 over the 30-second step counter, dynamic truncation, 6 digits. */
export function totpCode(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = h[h.length - 1]! & 15;
  return String((h.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

export const totpStep = (at: Date) => Math.floor(at.getTime() / 1000 / TOTP_STEP_SECONDS);

/** The step the code belongs to (now, one before or one after, for clock drift), or null. */
export function matchTotp(secret: string, code: string, at: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const now = totpStep(at);
  let found: number | null = null;
  // Check all three so the time taken does not say which step matched.
  for (const step of [now - 1, now, now + 1]) if (constantTimeEqual(totpCode(secret, step), code)) found = step;
  return found;
}

export const newTotpSecret = () => base32Encode(randomBytes(20));

// ------------------------------------------------------------------ encryption at rest (TOTP secrets)

/** AES-256-GCM with a key derived from config; the output names its key so the key can rotate. */
export function createSealer(secret: string) {
  const key = createHmac("sha256", secret).update("keshless-seal-v1").digest();
  const kid = sha256Hex(`seal:${secret}`).slice(0, 8);
  return {
    seal(plain: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return [
        "v1",
        kid,
        iv.toString("base64url"),
        data.toString("base64url"),
        cipher.getAuthTag().toString("base64url"),
      ].join(".");
    },
    open(sealed: string): string {
      const [version, id, iv, data, tag] = sealed.split(".");
      if (version !== "v1" || id !== kid || !iv || !data || !tag) throw new Error("sealed with an unknown key");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
    },
  };
}
