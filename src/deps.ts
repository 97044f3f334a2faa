import type { Config } from "./config";
import { type Database, openDatabase } from "./db/client";
import { createLogger, type Logger } from "./http/logger";
import { createLedger, type Ledger } from "./ledger/service";

/** Everything a request or a job needs, built once at boot (or per test) and passed down. */
export interface Deps {
  config: Config;
  logger: Logger;
  database: Database;
  ledger: Ledger;
  now: () => Date;
}

export interface DepsOverrides {
  logger?: Logger;
  database?: Database;
  now?: () => Date;
}

export async function buildDeps(config: Config, overrides: DepsOverrides = {}): Promise<Deps> {
  const logger = overrides.logger ?? createLogger(config);
  const database =
    overrides.database ??
    (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.dbPoolMax }));
  const now = overrides.now ?? (() => new Date());
  const ledger = createLedger({ database, logger, config });
  return { config, logger, database, ledger, now };
}
