import type { Logger } from "pino";
import type { Database, Executor } from "./client";
import { retrySerializable } from "./serializable";

export interface TransactionDeps {
  database: Pick<Database, "db">;
  config: { serializableMaxRetries: number };
  logger?: Logger;
}

export interface TransactionOptions {
  /** The caller's transaction: the work joins it (no retry of its own — the caller's transaction retries). */
  tx?: Executor | undefined;
  /** What is being run, for the retry log line. */
  label?: string;
  /**
   * SERIALIZABLE (the default) for anything that moves money or decides on what it read. READ COMMITTED for a
   * short row-locked update whose outcome must not be retried into a different answer (attempt counters,
   * leases); REPEATABLE READ read-only for a consistent report.
   */
  isolation?: "serializable" | "read committed" | "repeatable read";
  readOnly?: boolean;
}

/**
 * The one way to open a transaction: join the caller's `tx` when given, or open one and run it again as a whole on
 * a serialization failure or deadlock (SQLSTATE 40001/40P01), with bounded, jittered backoff.
 */
export function withTransaction<T>(
  deps: TransactionDeps,
  fn: (tx: Executor) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  if (options.tx) return fn(options.tx);
  const { isolation = "serializable", readOnly = false } = options;
  const config =
    isolation === "serializable" && !readOnly
      ? undefined
      : { isolationLevel: isolation, ...(readOnly ? { accessMode: "read only" as const } : {}) };
  return retrySerializable(() => deps.database.db.transaction((tx) => fn(tx as unknown as Executor), config), {
    maxRetries: deps.config.serializableMaxRetries,
    ...(deps.logger ? { logger: deps.logger } : {}),
    ...(options.label ? { label: options.label } : {}),
  });
}
