import { expect, test } from "bun:test";
import { createGroupCommit } from "../../src/db/group-commit";

/**
 * The batcher itself (src/db/group-commit.ts), with a write that stands in for a statement: batches form only
 * while the in-flight limit is reached, answers go back to their own callers, and a batch that keeps failing
 * to serialize is split down until its items go through.
 */
const serializationFailure = () => Object.assign(new Error("could not serialize access"), { code: "40001" });

/** One batch in flight at a time, so whatever arrives while it runs is written together by the next. */
const oneInFlight = <R>(write: (items: number[]) => Promise<R[]>, maxItems = 8) =>
  createGroupCommit<number, R>({ maxItems, maxInFlight: 1, maxRetries: 3, label: "test", write });

test("an idle batcher sends an item alone; items that arrive while it is busy go together, in order", async () => {
  const seen: number[][] = [];
  const batcher = oneInFlight<number>(async (items) => {
    seen.push(items);
    await Bun.sleep(5);
    return items.map((n) => n * 10);
  }, 3);
  const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => batcher.submit(n)));
  expect(answers).toEqual([10, 20, 30, 40, 50, 60]);
  expect(seen).toEqual([[1], [2, 3, 4], [5, 6]]);
  expect(batcher.stats).toMatchObject({ batches: 3, items: 6, splits: 0 });
});

test("a batch that keeps failing to serialize is split until each item is written", async () => {
  const written: number[][] = [];
  const batcher = oneInFlight<string>(async (items) => {
    if (items.length > 2) throw serializationFailure(); // conflicts whenever more than two go together
    written.push(items);
    return items.map((n) => `ok ${n}`);
  });
  const blocker = batcher.submit(0);
  const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
  await blocker;
  expect(answers).toEqual(["ok 1", "ok 2", "ok 3", "ok 4", "ok 5"]);
  expect(written.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
  expect(batcher.stats.splits).toBeGreaterThan(0);
});

test("a batch that finds the predicate-lock table full (53200) is split as well", async () => {
  const batcher = oneInFlight<number>(async (items) => {
    if (items.length > 1) throw Object.assign(new Error("out of shared memory"), { code: "53200" });
    return items;
  });
  const blocker = batcher.submit(0);
  expect(await Promise.all([1, 2, 3].map((n) => batcher.submit(n)))).toEqual([1, 2, 3]);
  await blocker;
});

test("any other failure fails the batch's items alike, and the next batch goes on", async () => {
  let fail = true;
  const batcher = oneInFlight<number>(async (items) => {
    await Bun.sleep(2);
    if (fail) {
      fail = false;
      throw Object.assign(new Error("connection reset"), { code: "ECONNRESET" });
    }
    return items;
  });
  const results = await Promise.allSettled([1, 2].map((n) => batcher.submit(n)));
  expect(results[0]!.status).toBe("rejected");
  expect(await batcher.submit(7)).toBe(7);
});
