import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "../../src/db/client";
import { isSerializationFailure, sqlState } from "../../src/db/pg-errors";
import { retrySerializable, retryStats, serializable } from "../../src/db/serializable";
import { createTestDatabase } from "../support/harness";

const testDb = await createTestDatabase();
const { db } = testDb.database;
// Real conflicts need two connections; the embedded database has one and runs transactions one after another.
const onPostgres = testDb.database.kind === "postgres";

beforeAll(async () => {
  await db.execute(sql`create table retry_probe (id serial primary key, saw int not null)`);
});
afterAll(() => testDb.drop());

const driverError = (code: string) =>
  Object.assign(new Error("Failed query: update …"), {
    cause: Object.assign(new Error("could not serialize"), { code }),
  });

describe("retrySerializable", () => {
  test("retries 40001, 40P01 and 53200 (predicate locks full) through the driver's wrapper, then returns", async () => {
    const codes = ["40001", "40P01", "53200", "40001"];
    let calls = 0;
    const result = await retrySerializable(
      async () => {
        const code = codes[calls++];
        if (code) throw driverError(code);
        return "done";
      },
      { maxRetries: 5 },
    );
    expect(result).toBe("done");
    expect(calls).toBe(5);
  });

  test("exhaustion rethrows the last serialization failure unchanged", async () => {
    let calls = 0;
    const last = driverError("40001");
    const before = retryStats.exhausted;
    const failure = await retrySerializable(
      async () => {
        calls++;
        throw calls === 3 ? last : driverError("40001");
      },
      { maxRetries: 2 },
    ).catch((e) => e);
    expect(failure).toBe(last);
    expect(calls).toBe(3);
    expect(retryStats.exhausted).toBe(before + 1);
  });

  test("any other error is not retried", async () => {
    let calls = 0;
    const failure = await retrySerializable(
      async () => {
        calls++;
        throw driverError("23505");
      },
      { maxRetries: 5 },
    ).catch((e) => e);
    expect(sqlState(failure)).toBe("23505");
    expect(calls).toBe(1);
  });
});

describe.skipIf(!onPostgres)("serializable on real Postgres", () => {
  /**
   * Classic write skew: each transaction counts the rows, then inserts what it saw. Both read before
   * either writes (the barrier), so SERIALIZABLE must abort one of them; only the first attempts wait.
   */
  function conflictingPair(maxRetries: number) {
    const attempts = { a: 0, b: 0 };
    let reads = 0;
    let bothRead!: () => void;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const run = (name: "a" | "b") =>
      serializable(
        db,
        async (tx: Executor) => {
          attempts[name]++;
          const [row] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from retry_probe`);
          if (attempts[name] === 1) {
            if (++reads === 2) bothRead();
            await barrier;
          }
          await tx.execute(sql`insert into retry_probe (saw) values (${row!.n})`);
          return row!.n;
        },
        { maxRetries, label: `probe-${name}` },
      );
    return { attempts, results: Promise.allSettled([run("a"), run("b")]) };
  }

  test("two conflicting transactions: one retries and both complete, as if one ran after the other", async () => {
    await db.execute(sql`truncate retry_probe`);
    const before = retryStats.retries;
    const { attempts, results } = conflictingPair(5);
    const settled = await results;
    expect(settled.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    const saw = settled.map((r) => (r as PromiseFulfilledResult<number>).value).sort();
    expect(saw).toEqual([0, 1]);
    expect(attempts.a + attempts.b).toBeGreaterThanOrEqual(3);
    expect(retryStats.retries - before).toBeGreaterThanOrEqual(1);
    const rows = await queryRows<{ saw: number }>(db, sql`select saw from retry_probe order by saw`);
    expect(rows.map((r) => r.saw)).toEqual([0, 1]);
  });

  test("with no retries left, the loser's 40001 reaches the caller and its write is rolled back", async () => {
    await db.execute(sql`truncate retry_probe`);
    const { results } = conflictingPair(0);
    const settled = await results;
    const failed = settled.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failed).toHaveLength(1);
    expect(sqlState(failed[0]!.reason)).toBe("40001");
    expect(isSerializationFailure(failed[0]!.reason)).toBe(true);
    const rows = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from retry_probe`);
    expect(rows[0]!.n).toBe(1);
  });
});
