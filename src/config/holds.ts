import { z } from "zod";
import { int, jsonOf } from "./shared";

/** Money held for a decision: withdrawals, their approvals, and cards (issue 6). Amounts in cents. */
export const holdsEnv = z.object({
  KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX: int(0, Number.MAX_SAFE_INTEGER).default(50_000),
  KESHLESS_WITHDRAWAL_DUAL_APPROVAL_MIN: int(1, Number.MAX_SAFE_INTEGER).default(1_000_000),
  KESHLESS_WITHDRAWAL_BANKS: jsonOf(z.record(z.string().regex(/^[A-Z0-9_]{2,16}$/), z.string().min(1))).optional(),
  KESHLESS_VENDOR_WITHDRAWAL_PASSWORD_ATTEMPTS: int(1, 100).default(5),
  KESHLESS_APPROVAL_TTL_HOURS: int(1, 30 * 24).default(24),
  KESHLESS_CARD_FEE: int(0, 10_000_000).default(5_000),
});
export type HoldsEnv = z.infer<typeof holdsEnv>;

/** Eswatini's banks (codes are ours; override with KESHLESS_WITHDRAWAL_BANKS). */
export const DEFAULT_BANKS: Record<string, string> = {
  FNB: "First National Bank Eswatini",
  SBE: "Standard Bank Eswatini",
  NED: "Nedbank Eswatini",
  EBK: "Eswatini Bank",
  EBS: "Eswatini Building Society",
};

export function holdsSettings(e: HoldsEnv) {
  return {
    withdrawals: {
      /** At most this (cents) completes at once; more waits for a finance admin. */
      autoApproveMax: e.KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX,
      /** From this amount (cents) a second, different admin must approve too. */
      dualApprovalMin: e.KESHLESS_WITHDRAWAL_DUAL_APPROVAL_MIN,
      /** Bank codes a bank withdrawal may name → bank names. */
      banks: e.KESHLESS_WITHDRAWAL_BANKS ?? DEFAULT_BANKS,
      /** Wrong vendor passwords allowed per 15 minutes on withdrawals. */
      vendorPasswordAttempts: e.KESHLESS_VENDOR_WITHDRAWAL_PASSWORD_ATTEMPTS,
    },
    approvals: { ttlHours: e.KESHLESS_APPROVAL_TTL_HOURS },
    cards: { fee: e.KESHLESS_CARD_FEE },
  };
}
export type HoldsSlice = ReturnType<typeof holdsSettings>;
export type WithdrawalsConfig = HoldsSlice["withdrawals"];
