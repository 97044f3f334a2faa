import { z } from "zod";
import { int, jsonOf } from "./shared";

/** Money: the largest amount, fees, KYC tier limits and payment requests. Amounts in cents, times in seconds. */

const feeRule = z.object({
  flat: z.number().int().min(0).default(0),
  bps: z.number().int().min(0).max(10_000).default(0),
  min: z.number().int().min(0).default(0),
  max: z.number().int().min(0).nullable().default(null),
  bearer: z.enum(["sender", "receiver"]).default("sender"),
});
export type FeeRule = z.infer<typeof feeRule>;

const feeSchedule = z.record(z.string(), feeRule);
export type FeeSchedule = z.infer<typeof feeSchedule>;

/** Defaults: payments cost the payer 1% (min E0.50, max E10); P2P and deposits are free. */
export const DEFAULT_FEES: FeeSchedule = {
  payment: { flat: 0, bps: 100, min: 50, max: 1000, bearer: "sender" },
  transfer: { flat: 0, bps: 0, min: 0, max: null, bearer: "sender" },
  deposit: { flat: 0, bps: 0, min: 0, max: null, bearer: "receiver" },
  withdrawal: { flat: 500, bps: 0, min: 0, max: null, bearer: "sender" },
  airtime: { flat: 0, bps: 0, min: 0, max: null, bearer: "sender" },
};

const tierLimits = z.object({
  perTransaction: z.number().int().positive(),
  daily: z.number().int().positive(),
  monthly: z.number().int().positive(),
  maxBalance: z.number().int().positive(),
});
export type TierLimits = z.infer<typeof tierLimits>;
const kycLimits = z.record(z.string().regex(/^\d$/), tierLimits);

/** Tier 0 is phone-only, so it is kept low; higher tiers follow KYC review. Cents. */
export const DEFAULT_KYC_LIMITS: Record<string, TierLimits> = {
  "0": { perTransaction: 100_000, daily: 200_000, monthly: 500_000, maxBalance: 500_000 },
  "1": { perTransaction: 500_000, daily: 1_000_000, monthly: 5_000_000, maxBalance: 2_500_000 },
  "2": { perTransaction: 2_500_000, daily: 5_000_000, monthly: 20_000_000, maxBalance: 10_000_000 },
};

export const paymentsEnv = z.object({
  KESHLESS_MAX_AMOUNT: int(1, Number.MAX_SAFE_INTEGER).default(10_000_000),
  KESHLESS_FEES: jsonOf(feeSchedule).optional(),
  KESHLESS_KYC_LIMITS: jsonOf(kycLimits).optional(),
  KESHLESS_PAYMENT_REQUEST_TTL: int(60, 30 * 86_400).default(86_400),
  KESHLESS_PAYMENT_REQUEST_LOOKUPS_PER_MINUTE: int(1, 10_000).default(30),
  KESHLESS_GROUP_COMMIT_MAX_ITEMS: int(1, 64).default(16),
  KESHLESS_GROUP_COMMIT_IN_FLIGHT: int(1, 64).default(2),
});
export type PaymentsEnv = z.infer<typeof paymentsEnv>;

export function paymentsSettings(e: PaymentsEnv) {
  const fees: FeeSchedule = { ...DEFAULT_FEES, ...(e.KESHLESS_FEES ?? {}) };
  const kycLimits: Record<string, TierLimits> = { ...DEFAULT_KYC_LIMITS, ...(e.KESHLESS_KYC_LIMITS ?? {}) };
  return {
    maxAmount: e.KESHLESS_MAX_AMOUNT,
    /**
     * Fast-lane movements written together (src/db/group-commit.ts): at most this many per statement (≤ 64, the
     * subtransactions a snapshot can list before Postgres overflows to pg_subtrans), at most this many statements
     * at once; while they run, new movements gather for the next.
     */
    groupCommit: { maxItems: e.KESHLESS_GROUP_COMMIT_MAX_ITEMS, maxInFlight: e.KESHLESS_GROUP_COMMIT_IN_FLIGHT },
    fees,
    kycLimits,
    /** Default life of a vendor payment request, in seconds. */
    paymentRequestTtl: e.KESHLESS_PAYMENT_REQUEST_TTL,
    /** Payment-request code lookups (preview or pay) per user per minute: 7-digit codes must not be enumerable. */
    paymentRequestLookupsPerMinute: e.KESHLESS_PAYMENT_REQUEST_LOOKUPS_PER_MINUTE,
  };
}
export type PaymentsSlice = ReturnType<typeof paymentsSettings>;
