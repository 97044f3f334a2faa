import { z } from "zod";
import { ConfigError, int, jsonOf } from "./shared";

/** Airtime top-ups and the operators' ERS360 services they go through (issue 6). Amounts in cents. */

const ersOutcome = z.enum(["success", "pending", "unknown", "rejected", "not_found"]);
export type Ers360Outcome = z.infer<typeof ersOutcome>;

export const airtimeEnv = z.object({
  KESHLESS_AIRTIME_MIN_AMOUNT: int(1, 10_000_000).default(100),
  KESHLESS_AIRTIME_MAX_AMOUNT: int(1, 10_000_000).default(100_000),
  KESHLESS_AIRTIME_RECONCILE_INTERVAL_MS: int(200, 3_600_000).default(30_000),
  KESHLESS_AIRTIME_MAX_ATTEMPTS: int(1, 5).default(2),
  KESHLESS_AIRTIME_NOT_FOUND_GRACE: int(0, 86_400).default(120),
  KESHLESS_ERS360_TIMEOUT_MS: int(200, 120_000).default(15_000),
  KESHLESS_ERS360_CLIENT_ID: z.string().min(1).max(64).default("KESHLESS"),
  KESHLESS_ERS360_CHANNEL: z.string().min(1).max(64).default("WSClient"),
  KESHLESS_ERS360_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default("SZL"),
  KESHLESS_ERS360_RESULT_CODES: jsonOf(z.record(z.string().regex(/^\d{1,6}$/), ersOutcome)).optional(),
  KESHLESS_ERS360_PROXY_SECRET: z.string().min(16).optional(),
  KESHLESS_ERS360_MTN_URL: z.url().optional(),
  KESHLESS_ERS360_MTN_RESELLER_ID: z.string().min(1).optional(),
  KESHLESS_ERS360_MTN_USER_ID: z.string().min(1).optional(),
  KESHLESS_ERS360_MTN_PASSWORD: z.string().min(1).optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_URL: z.url().optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_PROXY_URL: z.url().optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_RESELLER_ID: z.string().min(1).optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_USER_ID: z.string().min(1).optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_PASSWORD: z.string().min(1).optional(),
});
export type AirtimeEnv = z.infer<typeof airtimeEnv>;

/** Default meaning of ERS360 result codes (INTEGRATIONS.md §3); anything unlisted is "unknown": ask, never guess. */
export const DEFAULT_ERS360_RESULT_CODES: Record<string, Ers360Outcome> = {
  "0": "success",
  "1": "pending",
  ...Object.fromEntries(
    [10, 11, 12, 13, 20, 21, 29, 30, 31, 32, 37, 38, 39, 40, 41, 44, 47, 94, 102, 104, 106].map((c) => [
      String(c),
      "rejected" as const,
    ]),
  ),
  "90": "unknown",
  "93": "unknown",
  "105": "unknown",
  "933": "not_found",
};

export type AirtimeOperator = "mtn" | "eswatini_mobile";

function operator(e: AirtimeEnv, prefix: "KESHLESS_ERS360_MTN" | "KESHLESS_ERS360_ESWATINI_MOBILE") {
  return {
    /** The operator's topup service, e.g. http://host:8913/topupservice/service. */
    url: e[`${prefix}_URL`],
    /** Our internal proxy route (Swazi Mobile's ERS360 sits on a private network reached from keshless-ussd). */
    proxyUrl: prefix === "KESHLESS_ERS360_ESWATINI_MOBILE" ? e.KESHLESS_ERS360_ESWATINI_MOBILE_PROXY_URL : undefined,
    resellerId: e[`${prefix}_RESELLER_ID`],
    userId: e[`${prefix}_USER_ID`],
    password: e[`${prefix}_PASSWORD`],
  };
}
export type Ers360OperatorConfig = ReturnType<typeof operator>;

export function airtimeSettings(e: AirtimeEnv) {
  if (e.KESHLESS_AIRTIME_MIN_AMOUNT > e.KESHLESS_AIRTIME_MAX_AMOUNT)
    throw new ConfigError(
      "invalid configuration:\n  KESHLESS_AIRTIME_MIN_AMOUNT: must not exceed KESHLESS_AIRTIME_MAX_AMOUNT",
    );
  const resultCodes: Record<string, Ers360Outcome> = {
    ...DEFAULT_ERS360_RESULT_CODES,
    ...(e.KESHLESS_ERS360_RESULT_CODES ?? {}),
  };
  const operators: Record<AirtimeOperator, Ers360OperatorConfig> = {
    mtn: operator(e, "KESHLESS_ERS360_MTN"),
    eswatini_mobile: operator(e, "KESHLESS_ERS360_ESWATINI_MOBILE"),
  };
  return {
    airtime: {
      minAmount: e.KESHLESS_AIRTIME_MIN_AMOUNT,
      maxAmount: e.KESHLESS_AIRTIME_MAX_AMOUNT,
      reconcileIntervalMs: e.KESHLESS_AIRTIME_RECONCILE_INTERVAL_MS,
      /**
       * Top-up requests per order (each a new clientReference), made only when the last one provably did not happen.
       */
      maxAttempts: e.KESHLESS_AIRTIME_MAX_ATTEMPTS,
      /** Seconds after sending before an operator's "no such transaction" is believed. */
      notFoundGraceSeconds: e.KESHLESS_AIRTIME_NOT_FOUND_GRACE,
    },
    ers360: {
      timeoutMs: e.KESHLESS_ERS360_TIMEOUT_MS,
      clientId: e.KESHLESS_ERS360_CLIENT_ID,
      channel: e.KESHLESS_ERS360_CHANNEL,
      currency: e.KESHLESS_ERS360_CURRENCY,
      /** resultCode → outcome, over the defaults of INTEGRATIONS.md §3 (operators customise codes). */
      resultCodes,
      /** X-Internal-Secret between the API and the proxy route on the USSD deployment. */
      proxySecret: e.KESHLESS_ERS360_PROXY_SECRET,
      operators,
    },
  };
}
export type AirtimeSlice = ReturnType<typeof airtimeSettings>;
export type AirtimeConfig = AirtimeSlice["airtime"];
export type Ers360Config = AirtimeSlice["ers360"];
