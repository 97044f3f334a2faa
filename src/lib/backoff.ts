/**
 * Exponential backoff with ±20% jitter: `baseMs · 2^(attempt−1)`, capped at `maxMs`. The jitter keeps
 * retries of many rows that failed together (a provider outage) from all coming due in the same instant.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.8 + random() * 0.4));
}
