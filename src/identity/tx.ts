import type { Approvals } from "../approvals/service";
import type { Audit } from "../audit/service";
import type { Config } from "../config";
import type { Database, Executor } from "../db/client";
import { serializable } from "../db/serializable";
import type { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import type { RateLimiter } from "../http/rate-limit";
import type { Ledger } from "../ledger/service";
import type { Notifications } from "../notifications/service";

/** What identity services need. `now` is read on every call, so tests can move the clock. */
export interface IdentityDeps {
  config: Config;
  logger: Logger;
  database: Database;
  ledger: Ledger;
  audit: Audit;
  /** The maker-checker queue: partners register their kinds on it. */
  approvals: Approvals;
  notifications: Notifications;
  rateLimiter: RateLimiter;
  now: () => Date;
}

/** An error to throw once the transaction has committed (see transact). */
export class Deferred {
  constructor(readonly error: AppError) {}
}

export const deferred = (error: AppError) => new Deferred(error);

/**
 * Runs `fn` in a SERIALIZABLE transaction, retried on serialization failures — or in the caller's
 * `tx`. A failure that must leave a trace (a wrong code counted, a lockout, its audit row) returns
 * `deferred(error)`: the writes commit, then the error is thrown. Throwing inside would roll the
 * counter back and let an attacker guess for ever.
 */
export async function transact<T>(
  deps: Pick<IdentityDeps, "database" | "config" | "logger">,
  fn: (tx: Executor) => Promise<T | Deferred>,
  tx?: Executor,
  label?: string,
): Promise<T> {
  const result = tx
    ? await fn(tx)
    : await serializable(deps.database.db, fn, {
        maxRetries: deps.config.serializableMaxRetries,
        logger: deps.logger,
        ...(label ? { label } : {}),
      });
  if (result instanceof Deferred) throw result.error;
  return result;
}
