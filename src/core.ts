import type { Config } from "./config";
import { type Database, openDatabase } from "./db/client";
import { createLogger, type Logger } from "./http/logger";
import { createRateLimiter, type RateLimiter } from "./http/rate-limit";

/**
 * What every module is built from: the configuration, the logger, the database, the clock and the rate
 * limiter. Knows no domain. Each module names the peer services it uses on top of this (src/modules.ts).
 */
export interface Core {
  config: Config;
  logger: Logger;
  database: Database;
  /** The time. Modules may copy this function: it reads the clock it was built with (see Clock). */
  now: () => Date;
  rateLimiter: RateLimiter;
}

export interface CoreOverrides {
  logger?: Logger;
  database?: Database;
  now?: () => Date;
}

/** The one clock behind `core.now`; tests replace `clock.now` to move time for every module at once. */
export interface Clock {
  now: () => Date;
}

export async function buildCore(config: Config, overrides: CoreOverrides = {}): Promise<{ core: Core; clock: Clock }> {
  const logger = overrides.logger ?? createLogger(config);
  const database =
    overrides.database ??
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolMax: config.dbPoolMax,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      acquireTimeoutMs: config.dbAcquireTimeoutMs,
    }));
  const clock: Clock = { now: overrides.now ?? (() => new Date()) };
  const base = { config, logger, database, now: () => clock.now() };
  return { core: { ...base, rateLimiter: createRateLimiter(base) }, clock };
}
