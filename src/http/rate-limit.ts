import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { queryRows } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "./errors";
import type { Logger } from "./logger";

/**
 * Rate limits every instance shares: GCRA over one Postgres row per key (table `rate_limits`, src/http/schema.ts). A rule allows `limit` requests per `periodSeconds`, all at once or spread
 * out, and refills smoothly — no window edge where twice the limit gets through.
 *
 * Counters run in short READ COMMITTED transactions: `INSERT … ON CONFLICT DO UPDATE` then waits for a
 * concurrent writer of the same key and re-reads it, instead of aborting with a serialization failure
 * as it would under the connection's default SERIALIZABLE (a busy key — a carrier NAT address, a
 * partner's key — would otherwise retry itself into the ground).
 */

export interface RateRule {
  key: string;
  limit: number;
  periodSeconds: number;
}

export type RateDecision = { ok: true } | { ok: false; key: string; retryAfterSeconds: number };

export interface RateLimiter {
  /** Takes one unit from every rule, or from none: a refusal by one rule consumes nothing from the others. */
  take(rules: RateRule[], now: Date): Promise<RateDecision>;
  /** Like take, but a refusal is thrown as 429 RATE_LIMITED with Retry-After. */
  enforce(rules: RateRule[], now: Date, message?: string): Promise<void>;
  /** Deletes spent rows (their tat has passed, so they hold no state). */
  sweep(now: Date): Promise<number>;
}

class Refused extends Error {
  constructor(
    readonly key: string,
    readonly retryAfterSeconds: number,
  ) {
    super("rate limited");
  }
}

export function createRateLimiter(deps: {
  database: Database;
  logger: Logger;
  config: { serializableMaxRetries: number };
}): RateLimiter {
  const { db } = deps.database;

  async function take(rules: RateRule[], now: Date): Promise<RateDecision> {
    if (!rules.length) return { ok: true };
    // A fixed order: two requests taking overlapping keys never wait on each other in a cycle.
    const ordered = [...rules].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const at = now.toISOString();
    try {
      await withTransaction(
        deps,
        async (tx) => {
          for (const rule of ordered) {
            const periodMs = rule.periodSeconds * 1000;
            const emissionMs = periodMs / rule.limit;
            const rows = await queryRows<{ tat: string }>(
              tx,
              sql`insert into rate_limits (key, tat)
                      values (${rule.key}, ${at}::timestamptz + ${emissionMs} * interval '1 millisecond')
                      on conflict (key) do update
                        set tat = greatest(rate_limits.tat, ${at}::timestamptz) + ${emissionMs} * interval '1 millisecond'
                        where greatest(rate_limits.tat, ${at}::timestamptz) + ${emissionMs} * interval '1 millisecond'
                              <= ${at}::timestamptz + ${periodMs} * interval '1 millisecond'
                      returning tat`,
            );
            if (rows.length) continue;
            const [state] = await queryRows<{ wait_ms: number }>(
              tx,
              sql`select extract(epoch from (tat - ${at}::timestamptz)) * 1000 as wait_ms
                        from rate_limits where key = ${rule.key}`,
            );
            // Allowed again once tat − now ≤ period − emission.
            const waitMs = Number(state?.wait_ms ?? 0) - (periodMs - emissionMs);
            throw new Refused(rule.key, Math.max(1, Math.ceil(waitMs / 1000)));
          }
        },
        { isolation: "read committed", label: "rateLimit" },
      );
      return { ok: true };
    } catch (error) {
      if (error instanceof Refused) return { ok: false, key: error.key, retryAfterSeconds: error.retryAfterSeconds };
      throw error;
    }
  }

  async function enforce(rules: RateRule[], now: Date, message = "Too many requests; try again later.") {
    const decision = await take(rules, now);
    if (!decision.ok) throw rateLimited(decision.retryAfterSeconds, message);
  }

  async function sweep(now: Date): Promise<number> {
    const rows = await queryRows(
      db,
      sql`delete from rate_limits where tat < ${now.toISOString()}::timestamptz returning key`,
    );
    return rows.length;
  }

  return { take, enforce, sweep };
}

export function rateLimited(retryAfterSeconds: number, message = "Too many requests; try again later.") {
  return new AppError("RATE_LIMITED", message, { retryAfterSeconds }, { "Retry-After": String(retryAfterSeconds) });
}
