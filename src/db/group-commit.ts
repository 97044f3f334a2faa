import type { Logger } from "pino";
import { isSerializationFailure } from "./pg-errors";
import { retrySerializable } from "./serializable";

/**
 * Group commit: concurrent calls gathered into one write, each caller answered on its own (issue 17; the
 * lesson of TigerBeetle: batching raises throughput and lowers latency together, because a commit, a
 * snapshot, a round trip and a function call are paid once per batch).
 *
 * Batches form by themselves, with no timer: while `maxInFlight` batches are being written, new items wait,
 * and the next batch takes up to `maxItems` of them as soon as one of those finishes. An idle system sends an
 * item alone at once; a busy one sends bigger batches. So an item waits at most for the batches ahead of it —
 * the time it would otherwise have queued for a connection and the database's cores.
 *
 * `write` must answer every item in order, and commit before it returns: nothing is acknowledged before its
 * commit. A serialization failure retries the batch; one that keeps failing (or finds the server's predicate-lock
 * table full) is split in halves, written one after the other, down to single items with the usual retries — so
 * a conflict costs a batch a few retries, never an answer. Any other failure (a lost connection) fails the batch's items alike: each caller then does
 * what it does for a failed statement of its own.
 */
export interface GroupCommitOptions<I, R> {
  write: (items: I[]) => Promise<R[]>;
  maxItems: number;
  maxInFlight: number;
  maxRetries: number;
  label: string;
  logger?: Logger;
}

interface Waiting<I, R> {
  item: I;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** Retries of a whole batch before it is split: a batch that conflicts twice is likely to again. */
const BATCH_RETRIES = 2;

export function createGroupCommit<I, R>(options: GroupCommitOptions<I, R>) {
  const queue: Waiting<I, R>[] = [];
  let inFlight = 0;
  /** Batches written and items in them, since boot (the benchmarks and tests read these). */
  const stats = { batches: 0, items: 0, splits: 0 };

  async function write(items: I[]): Promise<R[]> {
    const retries = items.length > 1 ? Math.min(BATCH_RETRIES, options.maxRetries) : options.maxRetries;
    try {
      const results = await retrySerializable(() => options.write(items), {
        maxRetries: retries,
        logger: options.logger,
        label: options.label,
      });
      if (results.length !== items.length)
        throw new Error(`${options.label}: ${results.length} answers for ${items.length} items`);
      stats.batches++;
      stats.items += items.length;
      return results;
    } catch (error) {
      // Smaller batches conflict less and take fewer predicate locks (53200: the server's table of them is full).
      if (items.length === 1 || !isSerializationFailure(error)) throw error;
      stats.splits++;
      const half = Math.ceil(items.length / 2);
      const first = await write(items.slice(0, half));
      return [...first, ...(await write(items.slice(half)))];
    }
  }

  function pump() {
    while (inFlight < options.maxInFlight && queue.length > 0) {
      const batch = queue.splice(0, options.maxItems);
      inFlight++;
      write(batch.map((w) => w.item))
        .then(
          (results) => {
            for (const [i, w] of batch.entries()) w.resolve(results[i]!);
          },
          (error) => {
            for (const w of batch) w.reject(error);
          },
        )
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  }

  return {
    /** The item's answer, once the batch that wrote it has committed. */
    submit(item: I): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        pump();
      });
    },
    stats,
  };
}
