import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type SQL, sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/client";
import { mapDatabaseError, sqlConstraint, sqlState } from "../../src/db/pg-errors";
import { createTestDatabase } from "../support/harness";

/** Errors raised by the real driver (postgres.js or PGlite, as drizzle wraps them), mapped the one way. */
const testDb = await createTestDatabase();
const { db } = testDb.database;

beforeAll(async () => {
  // One statement per call: PGlite runs drizzle's queries through the extended protocol.
  await db.execute(sql`create table probe_parent (id int primary key, code text unique)`);
  await db.execute(sql`
    create table probe_child (
      parent int references probe_parent (id),
      n int not null,
      balance int not null default 0 constraint probe_child_guard check (balance >= 0),
      currency text not null default 'SZL' constraint probe_child_currency check (currency ~ '^[A-Z]{3}$')
    )`);
  await db.execute(sql`insert into probe_parent values (1, 'a')`);
  await db.execute(sql`
    create function probe_raise(state text, msg text) returns void language plpgsql as $$
      begin raise exception '%', msg using errcode = state; end $$`);
});
afterAll(() => testDb.drop());

async function failureOf(query: SQL) {
  const error = await db.execute(query).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeDefined();
  return error;
}

async function mapped(query: SQL) {
  const error = await failureOf(query);
  return { state: sqlState(error), appError: mapDatabaseError(error) };
}

describe("mapDatabaseError over real driver errors", () => {
  const cases: [string, SQL, string, string, number][] = [
    ["unique violation", sql`insert into probe_parent values (1, 'b')`, "23505", "CONFLICT", 409],
    ["foreign key violation", sql`insert into probe_child (parent, n) values (99, 1)`, "23503", "CONFLICT", 409],
    [
      "not null violation",
      sql`insert into probe_child (parent, n) values (1, null)`,
      "23502",
      "VALIDATION_FAILED",
      400,
    ],
    ["bad text for a number", sql`select 'abc'::int`, "22P02", "VALIDATION_FAILED", 400],
    ["numeric overflow", sql`select 2147483647::int + 1`, "22003", "VALIDATION_FAILED", 400],
    ["a balance guard", sql`insert into probe_child (n, balance) values (1, -5)`, "23514", "INSUFFICIENT_FUNDS", 422],
    [
      "any other CHECK",
      sql`insert into probe_child (n, currency) values (1, 'szl')`,
      "23514",
      "VALIDATION_FAILED",
      400,
    ],
    [
      "KL001 from our functions",
      sql`select probe_raise('KL001', 'insufficient funds')`,
      "KL001",
      "INSUFFICIENT_FUNDS",
      422,
    ],
    ["KL002", sql`select probe_raise('KL002', 'account acc_x not found')`, "KL002", "NOT_FOUND", 404],
    ["KL003", sql`select probe_raise('KL003', 'hold hld_x is already posted')`, "KL003", "CONFLICT", 409],
    ["KL004", sql`select probe_raise('KL004', 'post amount must be positive')`, "KL004", "VALIDATION_FAILED", 400],
    ["serialization failure", sql`select probe_raise('40001', 'could not serialize')`, "40001", "UNAVAILABLE", 503],
    ["deadlock", sql`select probe_raise('40P01', 'deadlock detected')`, "40P01", "UNAVAILABLE", 503],
    ["admin shutdown (failover)", sql`select probe_raise('57P01', 'terminating')`, "57P01", "UNAVAILABLE", 503],
  ];
  for (const [what, query, state, code, status] of cases)
    test(`${what}: ${state} → ${code}`, async () => {
      const result = await mapped(query);
      expect(result.state).toBe(state);
      expect(result.appError?.code).toBe(code as never);
      expect(result.appError?.status).toBe(status as never);
    });

  test("our own raises keep their message; constraint violations do not leak SQL", async () => {
    expect((await mapped(sql`select probe_raise('KL002', 'account acc_x not found')`)).appError?.message).toBe(
      "account acc_x not found",
    );
    const conflict = (await mapped(sql`insert into probe_parent values (2, 'a')`)).appError!;
    expect(conflict.message).not.toContain("probe_parent");
  });

  test("the constraint name is found through drizzle's wrapper", async () => {
    expect(sqlConstraint(await failureOf(sql`insert into probe_child (n, balance) values (1, -5)`))).toBe(
      "probe_child_guard",
    );
  });

  test("a serialization failure is never reported as insufficient funds, and says when to retry", async () => {
    const { appError } = await mapped(sql`select probe_raise('40001', 'could not serialize')`);
    expect(appError?.code).not.toBe("INSUFFICIENT_FUNDS");
    expect(appError?.headers?.["Retry-After"]).toBe("1");
  });

  test("an error that is not the database's is left alone (→ 500 INTERNAL in onError)", async () => {
    expect(mapDatabaseError(new Error("boom"))).toBeUndefined();
    expect(mapDatabaseError(await failureOf(sql`select 1/0`))).toBeUndefined();
  });
});

describe("an unreachable database is 503 UNAVAILABLE, not 500", () => {
  test("connection refused (postgres.js)", async () => {
    const unreachable = await openDatabase({ databaseUrl: "postgres://keshless@127.0.0.1:1/keshless", poolMax: 1 });
    try {
      const error = await unreachable.db.execute(sql`select 1`).catch((e: unknown) => e);
      const appError = mapDatabaseError(error);
      expect(appError?.code).toBe("UNAVAILABLE");
      expect(appError?.headers?.["Retry-After"]).toBeDefined();
    } finally {
      await unreachable.close();
    }
  });

  test("a connection class SQLSTATE (08xxx)", async () => {
    const error = Object.assign(new Error("Failed query"), { cause: Object.assign(new Error("x"), { code: "08006" }) });
    expect(mapDatabaseError(error)?.code).toBe("UNAVAILABLE");
  });
});
