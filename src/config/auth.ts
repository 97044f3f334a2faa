import { z } from "zod";
import type { Deployment } from "./core";
import { int } from "./shared";

/** Identity: tokens, OTPs, PINs, passwords, partner keys (issue 4). Times in seconds. */
export const authEnv = z.object({
  KESHLESS_JWT_ISSUER: z.string().min(1).default("keshless"),
  KESHLESS_ACCESS_TOKEN_TTL: int(60, 3600).default(900),
  KESHLESS_REFRESH_TOKEN_TTL: int(300, 90 * 86_400).default(30 * 86_400),
  KESHLESS_REFRESH_GRACE_SECONDS: int(0, 300).default(30),
  KESHLESS_ADMIN_REFRESH_TOKEN_TTL: int(300, 7 * 86_400).default(12 * 3600),
  KESHLESS_OTP_TTL: int(60, 1800).default(300),
  KESHLESS_OTP_MAX_ATTEMPTS: int(1, 20).default(5),
  KESHLESS_OTP_RESEND_COOLDOWN: int(0, 3600).default(60),
  KESHLESS_OTP_PHONE_PER_HOUR: int(1, 1000).default(5),
  KESHLESS_OTP_PHONE_PER_DAY: int(1, 10_000).default(10),
  KESHLESS_OTP_IP_PER_HOUR: int(1, 1_000_000).default(2000),
  KESHLESS_AUTH_IP_PER_HOUR: int(1, 1_000_000).default(2000),
  // 0: X-Forwarded-For is whatever the client wrote; only a deployment that knows its proxies trusts their entries
  // (cloudbuild.yaml sets 1 for Cloud Run's front end).
  KESHLESS_TRUSTED_PROXY_HOPS: int(0, 10).default(0),
  KESHLESS_PIN_MAX_ATTEMPTS: int(1, 20).default(5),
  KESHLESS_PIN_LOCK: int(1, 7 * 86_400).default(1800),
  KESHLESS_PIN_RESET_WINDOW: int(60, 3600).default(600),
  KESHLESS_LOGIN_MAX_ATTEMPTS: int(1, 50).default(5),
  KESHLESS_LOGIN_LOCK: int(1, 86_400).default(900),
  KESHLESS_ARGON2_MEMORY_KIB: int(1024, 1024 * 1024).optional(),
  KESHLESS_ARGON2_TIME_COST: int(1, 20).optional(),
  KESHLESS_PARTNER_KEY_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  KESHLESS_PARTNER_KEY_OVERLAP: int(0, 30 * 86_400).default(86_400),
});
export type AuthEnv = z.infer<typeof authEnv>;

export function authSettings(e: AuthEnv & Deployment) {
  // Tests hash many passwords: a cheap argon2id there; Bun's defaults (64 MiB, t=2) everywhere else.
  const testing = e.KESHLESS_ENV === "test";
  return {
    auth: {
      issuer: e.KESHLESS_JWT_ISSUER,
      accessTokenTtl: e.KESHLESS_ACCESS_TOKEN_TTL,
      refreshTokenTtl: e.KESHLESS_REFRESH_TOKEN_TTL,
      /** A refresh token presented again within this many seconds of its exchange gets the same new pair (0: never). */
      refreshGraceSeconds: e.KESHLESS_REFRESH_GRACE_SECONDS,
      adminRefreshTokenTtl: e.KESHLESS_ADMIN_REFRESH_TOKEN_TTL,
      otpTtl: e.KESHLESS_OTP_TTL,
      otpMaxAttempts: e.KESHLESS_OTP_MAX_ATTEMPTS,
      otpResendCooldown: e.KESHLESS_OTP_RESEND_COOLDOWN,
      otpPhonePerHour: e.KESHLESS_OTP_PHONE_PER_HOUR,
      otpPhonePerDay: e.KESHLESS_OTP_PHONE_PER_DAY,
      otpIpPerHour: e.KESHLESS_OTP_IP_PER_HOUR,
      authIpPerHour: e.KESHLESS_AUTH_IP_PER_HOUR,
      trustedProxyHops: e.KESHLESS_TRUSTED_PROXY_HOPS,
      pinMaxAttempts: e.KESHLESS_PIN_MAX_ATTEMPTS,
      pinLock: e.KESHLESS_PIN_LOCK,
      pinResetWindow: e.KESHLESS_PIN_RESET_WINDOW,
      loginMaxAttempts: e.KESHLESS_LOGIN_MAX_ATTEMPTS,
      loginLock: e.KESHLESS_LOGIN_LOCK,
      argon2: {
        memoryCost: e.KESHLESS_ARGON2_MEMORY_KIB ?? (testing ? 1024 : 65_536),
        timeCost: e.KESHLESS_ARGON2_TIME_COST ?? (testing ? 1 : 2),
      },
      partnerKeyRatePerMinute: e.KESHLESS_PARTNER_KEY_RATE_PER_MINUTE,
      partnerKeyOverlap: e.KESHLESS_PARTNER_KEY_OVERLAP,
    },
  };
}
export type AuthSlice = ReturnType<typeof authSettings>;
export type AuthConfig = AuthSlice["auth"];
