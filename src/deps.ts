import { type Audit, createAudit } from "./audit/service";
import type { Config } from "./config";
import { type Database, openDatabase } from "./db/client";
import { createLogger, type Logger } from "./http/logger";
import { createRateLimiter, type RateLimiter } from "./http/rate-limit";
import { createIdentity, type Identity } from "./identity";
import { createLedger, type Ledger } from "./ledger/service";
import { createNotifications, type Notifications } from "./notifications/service";
import { createPayments, type Payments } from "./payments/service";

/** Everything a request or a job needs, built once at boot (or per test) and passed down. */
export interface Deps {
  config: Config;
  logger: Logger;
  database: Database;
  ledger: Ledger;
  /** Read on every use (never captured), so a test may replace it to move the clock. */
  now: () => Date;
  audit: Audit;
  rateLimiter: RateLimiter;
  notifications: Notifications;
  identity: Identity;
  payments: Payments;
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
  const deps = { config, logger, database, ledger, now } as Deps;
  // Services get `deps` itself and call deps.now() when they need the time.
  deps.audit = createAudit(deps);
  deps.rateLimiter = createRateLimiter(deps);
  deps.notifications = createNotifications(deps);
  deps.identity = createIdentity(deps);
  deps.payments = createPayments({
    config,
    database,
    ledger,
    now: () => deps.now(),
    ports: {
      users: deps.identity.users,
      vendors: deps.identity.vendors,
      partners: deps.identity.partners,
      notify: async (message, tx) => {
        await deps.notifications.enqueue(message, tx);
      },
    },
  });
  return deps;
}
