import { describe, expect, test } from "bun:test";
import { isDatabaseUnreachable, mapDatabaseError } from "../../src/db/pg-errors";
import { createLoopBackoff } from "../../src/lib/backoff";
import { createPoller } from "../../src/lib/poller";

/** Background loops while the database is down: back off, report the outage once, and the recovery once. */

describe("createLoopBackoff", () => {
  test("waits baseMs · 2^(n−1) after the n-th failure in a row, capped, and a success resets it", () => {
    let now = 0;
    const backoff = createLoopBackoff({ baseMs: 100, maxMs: 1000, now: () => now, random: () => 0.5 });
    expect(backoff.ready()).toBe(true);
    const waits = [1, 2, 3, 4, 5, 6].map(() => {
      const failing = backoff.failed();
      expect(backoff.ready()).toBe(false);
      now += failing.retryInMs;
      expect(backoff.ready()).toBe(true);
      return [failing.first, failing.retryInMs];
    });
    expect(waits).toEqual([
      [true, 100],
      [false, 200],
      [false, 400],
      [false, 800],
      [false, 1000],
      [false, 1000],
    ]);
    expect(backoff.succeeded()).toEqual({ failures: 6, downMs: 100 + 200 + 400 + 800 + 1000 + 1000 });
    expect(backoff.succeeded()).toBeUndefined();
    expect(backoff.failed()).toMatchObject({ first: true, retryInMs: 100 });
  });
});

describe("createPoller while its passes fail", () => {
  test("reports the first failure only, backs off instead of running every tick, and reports the recovery once", async () => {
    let failing = true;
    let passes = 0;
    const errors: unknown[] = [];
    const recoveries: { failures: number }[] = [];
    const poller = createPoller({
      intervalMs: 10,
      maxBackoffMs: 200,
      pass: async () => {
        passes++;
        if (failing) throw Object.assign(new Error("write CONNECT_TIMEOUT"), { code: "CONNECT_TIMEOUT" });
        return { more: false };
      },
      onError: (error) => errors.push(error),
      onRecover: (recovered) => recoveries.push(recovered),
    });
    poller.start();
    await Bun.sleep(600);
    // Every 10 ms would be about 60 passes; backing off 10, 20, 40, 80, 160, 200… it is a handful.
    expect(passes).toBeGreaterThanOrEqual(3);
    expect(passes).toBeLessThanOrEqual(10);
    expect(errors).toHaveLength(1);
    expect(recoveries).toHaveLength(0);
    const failedPasses = passes;
    failing = false;
    poller.kick(); // whoever kicks just reached the database: no waiting out the backoff
    await Bun.sleep(50);
    expect(recoveries).toHaveLength(1);
    expect(recoveries[0]!.failures).toBe(failedPasses);
    const before = passes;
    await Bun.sleep(100);
    expect(passes - before).toBeGreaterThanOrEqual(3); // back to every tick (10 ms)
    expect(errors).toHaveLength(1);
    await poller.stop();
  });
});

describe("database errors of an outage", () => {
  const driver = (code: string) =>
    Object.assign(new Error("Failed query: select 1"), { cause: Object.assign(new Error(code), { code }) });

  test("no pool connection in time is 503 UNAVAILABLE, and unreachable (nothing was sent)", () => {
    const error = driver("CONNECTION_ACQUIRE_TIMEOUT");
    expect(mapDatabaseError(error)?.code).toBe("UNAVAILABLE");
    expect(mapDatabaseError(error)?.headers?.["Retry-After"]).toBeDefined();
    expect(isDatabaseUnreachable(error)).toBe(true);
  });

  test("a connection lost under a statement is 503, but not 'unreachable': it may have run", () => {
    for (const code of ["CONNECTION_CLOSED", "ECONNRESET", "57P01", "57P03", "08006"]) {
      expect({ code, mapped: mapDatabaseError(driver(code))?.code }).toEqual({ code, mapped: "UNAVAILABLE" });
      expect({ code, unreachable: isDatabaseUnreachable(driver(code)) }).toEqual({ code, unreachable: false });
    }
    for (const code of ["ECONNREFUSED", "CONNECT_TIMEOUT", "ENOTFOUND"])
      expect({ code, unreachable: isDatabaseUnreachable(driver(code)) }).toEqual({ code, unreachable: true });
  });
});
