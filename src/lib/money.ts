import { AppError } from "../http/errors";
/** Money is integer cents. Amounts cross the API as JSON integers and become bigint at the ledger. */

export const CURRENCIES = ["SZL"] as const;
export type Currency = (typeof CURRENCIES)[number];

/**
 * Splits `total` across `weights` so the parts sum exactly to `total` (largest remainder):
 * integer arithmetic only, ties broken by position so the result is deterministic.
 */
export function allocate(total: bigint, weights: bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum <= 0n) throw new Error("allocate: weights must sum to a positive number");
  const parts = weights.map((w) => (total * w) / sum);
  const remainders = weights.map((w, i) => ({ i, r: (total * w) % sum }));
  let left = total - parts.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    parts[i]! += 1n;
    left -= 1n;
  }
  return parts;
}

/**
 * Formats cents for people: 150 → "E1.50". `grouped` puts thousands separators in (123450 → "E1,234.50"), for
 * reports read in a spreadsheet; SMS bodies stay short without them.
 */
export function formatAmount(
  cents: number | bigint,
  currency: Currency | string = "SZL",
  options: { grouped?: boolean } = {},
): string {
  const value = BigInt(cents);
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const symbol = currency === "SZL" ? "E" : `${currency} `;
  const whole = String(abs / 100n);
  const shown = options.grouped ? whole.replace(/\B(?=(\d{3})+$)/g, ",") : whole;
  return `${sign}${symbol}${shown}.${String(abs % 100n).padStart(2, "0")}`;
}

/**
 * The one amount rule of every money route: SZL, whole cents from `min` to `max` (the configured maximum;
 * /openapi.json publishes it). 400 naming `amount` otherwise.
 */
export function assertAmount(amount: number, currency: string, max: number, min = 1) {
  if (currency !== "SZL") throw new AppError("VALIDATION_FAILED", "Only SZL is supported.");
  if (!Number.isSafeInteger(amount) || amount < min || amount > max)
    throw new AppError("VALIDATION_FAILED", `amount must be a whole number of cents from ${min} to ${max}.`, [
      { path: "amount", message: `from ${min} to ${max} cents` },
    ]);
}
