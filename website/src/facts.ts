import { randomBytes } from "node:crypto";
import { type Config, type FeeRule, loadConfig } from "../../src/config";
import { computeFee } from "../../src/ledger/fees";
import { formatAmount } from "../../src/lib/money";

/**
 * What the website states about money and the USSD channel, read at build time from the configuration the API
 * itself parses (src/config), never retyped: with no variables set these are the API's defaults. Only the
 * variables below are read, so a build given production's values (KESHLESS_FEES, …) publishes those and nothing
 * else of the build machine's environment leaks in.
 */
export const PUBLIC_VARIABLES = [
  "KESHLESS_FEES",
  "KESHLESS_KYC_LIMITS",
  "KESHLESS_MAX_AMOUNT",
  "KESHLESS_AIRTIME_MIN_AMOUNT",
  "KESHLESS_AIRTIME_MAX_AMOUNT",
  "KESHLESS_CARD_FEE",
  "KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX",
  "KESHLESS_WITHDRAWAL_BANKS",
  "KESHLESS_USSD_CODE",
  "KESHLESS_USSD_SESSION_TTL",
  "KESHLESS_USSD_TERMS_URL",
  "KESHLESS_PAYMENT_REQUEST_TTL",
  "KESHLESS_PIN_MAX_ATTEMPTS",
  "KESHLESS_PIN_LOCK",
  "KESHLESS_OTP_TTL",
  "KESHLESS_RETENTION_DAYS",
  "KESHLESS_KYC_REJECTED_RETENTION_DAYS",
] as const;

export type FeeType = "payment" | "transfer" | "deposit" | "withdrawal" | "airtime";
export const FEE_TYPES: FeeType[] = ["payment", "transfer", "deposit", "withdrawal", "airtime"];

/** Amounts (cents) each fee is worked out for on the fees page. */
export const FEE_EXAMPLES = [2_000, 20_000, 200_000];

export interface Facts {
  config: Config;
  fees: Record<FeeType, FeeRule>;
  /** KYC tiers in order, with their limits in cents. */
  tiers: { tier: string; perTransaction: number; daily: number; monthly: number; maxBalance: number }[];
  fee(type: FeeType, amount: number): number;
}

export function loadFacts(env: Record<string, string | undefined> = {}): Facts {
  const picked = Object.fromEntries(PUBLIC_VARIABLES.map((name) => [name, env[name]]));
  // Secrets given so loadConfig writes no development secrets file; nothing the site shows depends on them.
  const throwaway = randomBytes(32).toString("base64url");
  const config = loadConfig({
    ...picked,
    KESHLESS_JOB_SECRET: throwaway,
    KESHLESS_JWT_SECRET: throwaway,
    KESHLESS_PIN_PEPPER: throwaway,
  });
  const free: FeeRule = { flat: 0, bps: 0, min: 0, max: null, bearer: "sender" };
  const fees = Object.fromEntries(FEE_TYPES.map((type) => [type, config.fees[type] ?? free])) as Facts["fees"];
  const tiers = Object.entries(config.kycLimits)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([tier, limits]) => ({ tier, ...limits }));
  return {
    config,
    fees,
    tiers,
    fee: (type, amount) => Number(computeFee(config.fees, type, BigInt(amount)).fee),
  };
}

/** Cents as the site writes them: 500000 → "E5,000.00". */
export function emalangeni(cents: number): string {
  return formatAmount(cents).replace(/(?<=\d)(?=(\d{3})+\.)/g, ",");
}

/** Basis points as a percentage: 100 → "1%", 150 → "1.5%". */
export function percent(bps: number): string {
  return `${(bps / 100).toString()}%`;
}
