import { z } from "zod";
import { list } from "./shared";

/**
 * Secrets. The first four are required in production; the first three are generated per data dir in development
 * (index.ts `devSecrets`). The verify-only previous values let a secret rotate without breaking what it signed.
 */
export const secretsEnv = z.object({
  KESHLESS_JOB_SECRET: z.string().min(16).optional(),
  KESHLESS_JWT_SECRET: z.string().min(32).optional(),
  KESHLESS_PIN_PEPPER: z.string().min(32).optional(),
  KESHLESS_USSD_GATEWAY_SECRET: z.string().min(16).optional(),
  KESHLESS_JWT_PREVIOUS_SECRETS: z.string().optional(),
  KESHLESS_PIN_PEPPER_PREVIOUS: z.string().optional(),
  KESHLESS_TOTP_KEY: z.string().min(32).optional(),
  KESHLESS_WEBHOOK_KEY: z.string().min(32).optional(),
  KESHLESS_WEBHOOK_KEY_PREVIOUS: z.string().optional(),
});
export type SecretsEnv = z.infer<typeof secretsEnv>;

/** The secrets development generates when unset. */
export type GeneratedSecret = "KESHLESS_JOB_SECRET" | "KESHLESS_JWT_SECRET" | "KESHLESS_PIN_PEPPER";

/** `secret` gives the configured value of a generated secret, or the data dir's development one. */
export function secretsSettings(e: SecretsEnv, secret: (name: GeneratedSecret) => string) {
  return {
    secrets: {
      job: secret("KESHLESS_JOB_SECRET"),
      jwt: secret("KESHLESS_JWT_SECRET"),
      pinPepper: secret("KESHLESS_PIN_PEPPER"),
      ussdGateway: e.KESHLESS_USSD_GATEWAY_SECRET,
      /** Verify-only signing secrets, so rotating KESHLESS_JWT_SECRET logs nobody out. */
      jwtPrevious: list(e.KESHLESS_JWT_PREVIOUS_SECRETS),
      /** Verify-only PIN peppers: a PIN hashed under one is rehashed under the current one on its next success. */
      pinPepperPrevious: list(e.KESHLESS_PIN_PEPPER_PREVIOUS),
      // Derived from the JWT secret unless set: one secret less to manage in development.
      /** Encrypts admins' TOTP secrets at rest. */
      totp: e.KESHLESS_TOTP_KEY ?? `totp:${secret("KESHLESS_JWT_SECRET")}`,
      /** Encrypts partners' webhook signing secrets at rest. */
      webhook: e.KESHLESS_WEBHOOK_KEY ?? `webhook:${secret("KESHLESS_JWT_SECRET")}`,
      /** Verify-only previous webhook keys: secrets sealed under one still open after KESHLESS_WEBHOOK_KEY rotates. */
      webhookPrevious: list(e.KESHLESS_WEBHOOK_KEY_PREVIOUS),
    },
  };
}
export type SecretsSlice = ReturnType<typeof secretsSettings>;
