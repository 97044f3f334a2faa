import { constantTimeEqual, hmacSha256Hex } from "../lib/crypto";

/**
 * `Keshless-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (API.md). The key is the
 * endpoint's secret exactly as shown to the partner (`whsec_…`, used as UTF-8 bytes). Signing the
 * timestamp with the body lets a receiver refuse replays of an old delivery.
 */
export const SIGNATURE_HEADER = "Keshless-Signature";

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacSha256Hex(secret, `${unixSeconds}.${body}`)}`;
}

/**
 * What a receiver does (and what our tests do): parse the header, recompute the HMAC over the raw body,
 * compare in constant time, and refuse a timestamp more than `toleranceSeconds` from now.
 */
export function verifySignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  options: { now?: Date; toleranceSeconds?: number } = {},
): boolean {
  if (!header) return false;
  const parts = header.split(",").map((p) => p.trim().split("=", 2) as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isSafeInteger(t)) return false;
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = hmacSha256Hex(secret, `${t}.${body}`);
  return parts.some(([k, v]) => k === "v1" && v !== undefined && constantTimeEqual(v, expected));
}
