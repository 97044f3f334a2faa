/**
 * A background loop for outbox-style workers: runs `pass` every `intervalMs`, and again at once while a
 * pass says there is more (a full batch), never two passes at a time in one process. `stop` waits for the
 * pass in flight, so shutdown does not cut an attempt in half.
 */
export function createPoller(options: {
  intervalMs: number;
  /** One pass; `more: true` when it filled its batch and the next one should not wait. */
  pass: () => Promise<{ more: boolean }>;
  onError: (error: unknown) => void;
}) {
  let timer: ReturnType<typeof setInterval> | undefined;
  let running: Promise<void> | undefined;
  let again = false;

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
          if (more) again = true;
        } while (again && timer);
      } catch (error) {
        options.onError(error);
      } finally {
        running = undefined;
      }
    })();
    return running;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => void tick(), options.intervalMs);
      void tick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
    /** Run soon, without waiting for the next interval. Only while started. */
    kick() {
      if (timer) queueMicrotask(() => void tick());
    },
    get started() {
      return timer !== undefined;
    },
  };
}
