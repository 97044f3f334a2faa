import { createLoopBackoff, type Failing, type Recovered } from "./backoff";

/**
 * A background loop for outbox-style workers: runs `pass` every `intervalMs`, and again at once while a
 * pass says there is more (a full batch), never two passes at a time in one process. `stop` waits for the
 * pass in flight, so shutdown does not cut an attempt in half.
 *
 * A failing pass (the database is unreachable, typically) is not retried on every tick: the loop backs off
 * exponentially from `intervalMs` up to `maxBackoffMs`, reports only the first failure of the streak, and
 * `onRecover` once a pass succeeds again (which resets the backoff).
 */
export function createPoller(options: {
  intervalMs: number;
  /** One pass; `more: true` when it filled its batch and the next one should not wait. */
  pass: () => Promise<{ more: boolean }>;
  /** The first failed pass since the last success (the next ones are the same outage, waited out quietly). */
  onError: (error: unknown, failing: Failing) => void;
  /** The first successful pass after failures. */
  onRecover?: (recovered: Recovered) => void;
  /** Longest wait between passes while they fail. Default 30 s. */
  maxBackoffMs?: number;
}) {
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const backoff = createLoopBackoff({ baseMs: options.intervalMs, maxMs: options.maxBackoffMs ?? 30_000 });

  function tick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          const { more } = await options.pass();
          const recovered = backoff.succeeded();
          if (recovered) options.onRecover?.(recovered);
          if (more) again = true;
        } while (again && timer);
      } catch (error) {
        const failing = backoff.failed();
        if (failing.first) options.onError(error, failing);
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (backoff.ready()) void tick();
      }, options.intervalMs);
      void tick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
    /** Run soon, without waiting for the next interval (nor a backoff: whoever kicks just reached the database). Only while started. */
    kick() {
      if (timer) queueMicrotask(() => void tick());
    },
    get started() {
      return timer !== undefined;
    },
  };
}
