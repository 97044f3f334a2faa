import type { Logger } from "pino";
import type { Db, Executor } from "./client";
import { isSerializationFailure } from "./pg-errors";

export interface RetryOptions {
  maxRetries: number;
  logger?: Logger;
  /** What is being retried, for the log line. */
  label?: string;
}

/** Retries observed since boot, for /metrics-style inspection and the benchmarks. */
export const retryStats = { retries: 0, exhausted: 0 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` again on SQLSTATE 40001/40P01 with bounded, jittered exponential backoff ("full jitter").
 * Anything else — and the last failure once retries are spent — propagates unchanged.
 */
export async function retrySerializable<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isSerializationFailure(error)) throw error;
      if (attempt >= options.maxRetries) {
        retryStats.exhausted++;
        options.logger?.warn({ label: options.label, attempts: attempt + 1 }, "serialization retries exhausted");
        throw error;
      }
      retryStats.retries++;
      options.logger?.debug({ label: options.label, attempt: attempt + 1 }, "serialization failure, retrying");
      await sleep(Math.random() * Math.min(100, 2 * 2 ** attempt));
    }
  }
}

/** A SERIALIZABLE transaction (connections default to it), retried as a whole on conflict. */
export function serializable<T>(
  db: Db | Executor,
  fn: (tx: Executor) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  return retrySerializable(() => db.transaction((tx) => fn(tx as unknown as Executor)), options);
}
