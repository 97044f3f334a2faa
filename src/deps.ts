import { type Airtime, createAirtime } from "./airtime/service";
import { type Approvals, createApprovals } from "./approvals/service";
import { type Audit, createAudit } from "./audit/service";
import { type Cards, createCards } from "./cards/service";
import type { Config } from "./config";
import { type Database, openDatabase } from "./db/client";
import { createLogger, type Logger } from "./http/logger";
import { createRateLimiter, type RateLimiter } from "./http/rate-limit";
import { createIdentity, type Identity } from "./identity";
import { pinLimit } from "./identity/attempts";
import { createJobs, type Jobs } from "./jobs/service";
import { createLedger, type Ledger } from "./ledger/service";
import { createNotifications, type Notifications } from "./notifications/service";
import { createPaymentsAdmin, type PaymentsAdmin } from "./payments/admin";
import { createFastLane, type FastLane } from "./payments/fast-lane";
import { createPaymentRequests, type PaymentRequests } from "./payments/requests";
import { createPayments, type Payments } from "./payments/service";
import { createUssd, type UssdEngine } from "./ussd";
import { createWebhooks, type Webhooks } from "./webhooks/service";
import { createWithdrawals, type Withdrawals } from "./withdrawals/service";

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
  /** The USSD menus (src/ussd), over the same services as REST. */
  ussd: UssdEngine;
  webhooks: Webhooks;
  paymentsFastLane: FastLane;
  paymentRequests: PaymentRequests;
  /** Admin search, trial balance and reversals (registers the "reversal" approval kind). */
  paymentsAdmin: PaymentsAdmin;
  /** Maker-checker queue; partners, withdrawals, cards and reversals register their kinds on it. */
  approvals: Approvals;
  withdrawals: Withdrawals;
  cards: Cards;
  airtime: Airtime;
  /** Scheduled jobs: runs, locks and the in-process loops. */
  jobs: Jobs;
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
    (await openDatabase({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      poolMax: config.dbPoolMax,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      acquireTimeoutMs: config.dbAcquireTimeoutMs,
    }));
  const now = overrides.now ?? (() => new Date());
  const ledger = createLedger({ database, logger, config });
  const deps = { config, logger, database, ledger, now } as Deps;
  // Services get `deps` itself and call deps.now() when they need the time.
  deps.audit = createAudit(deps);
  deps.rateLimiter = createRateLimiter(deps);
  deps.notifications = createNotifications(deps);
  // Before identity: partners register their approval kinds (partner creation, money-creating keys, top-ups).
  deps.approvals = createApprovals(deps);
  deps.identity = createIdentity(deps);
  deps.webhooks = createWebhooks(deps);
  deps.payments = createPayments({
    config,
    database,
    ledger,
    now: () => deps.now(),
    ports: {
      users: deps.identity.users,
      vendors: deps.identity.vendors,
      partners: deps.identity.partners,
    },
  });
  deps.paymentsFastLane = createFastLane({
    database,
    payments: deps.payments,
    ports: { users: deps.identity.users, vendors: deps.identity.vendors },
    pinProof: deps.identity.users.pinProof,
    pinLimit: pinLimit({ config }),
    pinRefused: deps.identity.users.pinRefused,
  });
  deps.paymentRequests = createPaymentRequests({
    config,
    database,
    logger,
    now: () => deps.now(),
    payments: deps.payments,
    vendors: deps.identity.vendors,
  });
  deps.paymentsAdmin = createPaymentsAdmin(deps);
  deps.withdrawals = createWithdrawals(deps);
  deps.cards = createCards(deps);
  deps.airtime = createAirtime(deps);
  deps.jobs = createJobs(deps);
  deps.ussd = createUssd(deps);
  return deps;
}
