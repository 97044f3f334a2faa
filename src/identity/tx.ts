import type { Approvals } from "../approvals";
import type { Audit } from "../audit";
import type { Core } from "../core";
import type { Executor } from "../db/client";
import { withTransaction } from "../db/transaction";
import type { AppError } from "../http/errors";
import type { Ledger } from "../ledger";
import type { Notifications } from "../notifications";

/** What identity services are built from: the core and the peers the identity module names. */
export interface IdentityDeps extends Core {
  ledger: Ledger;
  audit: Audit;
  /** The maker-checker queue partners send their requests to. */
  approvals: Approvals;
  notifications: Notifications;
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
  const result = await withTransaction(deps, fn, { tx, ...(label ? { label } : {}) });
  if (result instanceof Deferred) throw result.error;
  return result;
}
