/**
 * Exponential backoff with ±20% jitter: `baseMs · 2^(attempt−1)`, capped at `maxMs`. The jitter keeps
 * retries of many rows that failed together (a provider outage) from all coming due in the same instant.
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.8 + random() * 0.4));
}

/** What a loop's failure streak is at: the first failure of a streak is the one to log. */
export interface Failing {
  /** The first failure since the last success: log it (the next ones are the same outage). */
  first: boolean;
  failures: number;
  /** How long the loop waits before its next try. */
  retryInMs: number;
}

/** A failure streak that a success just ended: log the recovery. */
export interface Recovered {
  failures: number;
  /** From the first failure to the success. */
  downMs: number;
}

/**
 * The failure streak of a background loop (outbox workers, job loops): while its passes fail — the database
 * is gone, typically — it waits `baseMs · 2^(n−1)` (capped at `maxMs`, jittered) instead of trying, and
 * logging, on every tick; the first success resets it.
 */
export function createLoopBackoff(options: {
  baseMs: number;
  maxMs: number;
  now?: () => number;
  random?: () => number;
}) {
  const now = options.now ?? Date.now;
  let failures = 0;
  let firstFailureAt = 0;
  let resumeAt = 0;
  return {
    /** false while waiting out a backoff. */
    ready: () => now() >= resumeAt,
    failed(): Failing {
      failures++;
      if (failures === 1) firstFailureAt = now();
      const retryInMs = backoffMs(failures, options.baseMs, Math.max(options.baseMs, options.maxMs), options.random);
      resumeAt = now() + retryInMs;
      return { first: failures === 1, failures, retryInMs };
    },
    /** Records a success; the streak it ended, if there was one. */
    succeeded(): Recovered | undefined {
      if (failures === 0) return undefined;
      const ended = { failures, downMs: now() - firstFailureAt };
      failures = 0;
      resumeAt = 0;
      return ended;
    },
    get failures() {
      return failures;
    },
  };
}
