import type { Config, TierLimits } from "../config";
import type { Database, Executor } from "../db/client";
import { retrySerializable } from "../db/serializable";
import type { Logger } from "../http/logger";
import { kycTierLimits } from "./schema";

/**
 * The KYC tiers' limits as they stand: the kyc_tier_limits table (compliance admins set it, tier-limits-settings.ts)
 * over the environment's KESHLESS_KYC_LIMITS, which only fills in a tier the table lacks — written to the table by
 * the first read of each process (the boot's warm-up), so a stored tier is never overwritten by a later boot.
 *
 * Payments read them on their hot path, so they are held in this process: `current()` answers from memory with
 * no await and no query. Once the copy is REFRESH_AFTER_MS old, `current()` still answers it and reads the table
 * again in the background (one read at a time); once it is MAX_AGE_MS old it answers nothing and the caller awaits
 * `load()`. So a change made on another instance applies to every payment planned there at most MAX_AGE_MS
 * (10 s) after it committed — under steady traffic about REFRESH_AFTER_MS — at the cost of one small query per
 * instance every 5 s while payments flow. A change made on this instance applies at once (`applied`).
 */

const REFRESH_AFTER_MS = 5_000;
export const MAX_AGE_MS = 10_000;

export type LimitsTable = Record<string, TierLimits>;

export interface TierLimitsDeps {
  config: Pick<Config, "kycLimits" | "serializableMaxRetries">;
  database: Database;
  logger: Logger;
}

/** A tier's limits, tier 0's for a tier nobody configured. */
export function limitsOfTier(table: LimitsTable, tier: number): TierLimits | undefined {
  return table[String(tier)] ?? table["0"];
}

/** The stored tiers over the environment's: what applies when a tier was never stored (before the first seed). */
export async function readLimits(
  { config }: Pick<TierLimitsDeps, "config">,
  executor: Pick<Executor, "select">,
): Promise<LimitsTable> {
  const rows = await executor.select().from(kycTierLimits);
  const table: LimitsTable = { ...config.kycLimits };
  for (const row of rows)
    table[String(row.tier)] = {
      perTransaction: row.perTransaction,
      daily: row.daily,
      monthly: row.monthly,
      maxBalance: row.maxBalance,
    };
  return table;
}

/** Stores every tier of the environment the table lacks; never touches a stored one. */
export async function seedLimits({ config, database }: Pick<TierLimitsDeps, "config" | "database">): Promise<void> {
  const rows = Object.entries(config.kycLimits).map(([tier, limits]) => ({ tier: Number(tier), ...limits }));
  if (!rows.length) return;
  await retrySerializable(() => database.db.insert(kycTierLimits).values(rows).onConflictDoNothing(), {
    maxRetries: config.serializableMaxRetries,
    label: "kyc_tier_limits.seed",
  });
}

export function createTierLimits(deps: TierLimitsDeps) {
  const log = deps.logger.child({ component: "tier-limits" });
  let table: LimitsTable | undefined;
  /** When the read behind `table` started, by Date.now(): not the core clock, which tests move by days. */
  let readAt = 0;
  let seeded = false;
  let inflight: Promise<LimitsTable> | undefined;
  /** Reads are numbered as they start; a read finishing after a later one (or a local change) is dropped. */
  let started = 0;
  let stored = 0;
  let failing = false;

  async function readStored(): Promise<LimitsTable> {
    if (!seeded) {
      await seedLimits(deps);
      seeded = true;
    }
    return readLimits(deps, deps.database.db);
  }

  function refresh(): Promise<LimitsTable> {
    const generation = ++started;
    const at = Date.now();
    const read = readStored().then((fresh) => {
      failing = false;
      if (generation > stored) {
        table = fresh;
        readAt = at;
        stored = generation;
      }
      return table ?? fresh;
    });
    inflight = read;
    const settled = () => {
      if (inflight === read) inflight = undefined;
    };
    read.then(settled, settled);
    return read;
  }

  function inBackground() {
    if (inflight) return;
    refresh().catch((err) => {
      // Logged once per spell of failures: payments keep the copy until it is MAX_AGE_MS old, then wait for a read.
      if (!failing) log.warn({ err }, "kyc tier limits: refresh failed");
      failing = true;
    });
  }

  /** The limits held in memory, when they are recent enough; undefined: await `load()`. Never waits. */
  function current(): LimitsTable | undefined {
    if (!table) return undefined;
    const age = Date.now() - readAt;
    if (age >= MAX_AGE_MS) return undefined;
    if (age >= REFRESH_AFTER_MS) inBackground();
    return table;
  }

  /**
   * Reads them (joining a read already under way). In the caller's `tx` it reads there instead — another
   * connection from inside a transaction could wait on the pool (or, on PGlite, on that very transaction) —
   * and leaves warming the copy to a read of its own in the background.
   */
  function load(tx?: Executor): Promise<LimitsTable> {
    if (!tx) return inflight ?? refresh();
    inBackground();
    return readLimits(deps, tx);
  }

  return {
    current,
    load,
    /** For whoever is not on a payment's path (GET /v1/kyc): from memory, or read. */
    read: async (): Promise<LimitsTable> => current() ?? load(),
    /** Reads the table now, whatever the copy's age (tests stand for another instance's next refresh). */
    refresh,
    /** A change this instance just committed: it applies here at once, and no read started before it wins. */
    applied(tier: number, limits: TierLimits) {
      stored = ++started;
      inflight = undefined;
      if (table) table = { ...table, [String(tier)]: limits };
    },
  };
}

export type TierLimitsCache = ReturnType<typeof createTierLimits>;
