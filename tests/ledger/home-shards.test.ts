import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type Database, type Executor, openDatabase, queryRows } from "../../src/db/client";
import { serializable } from "../../src/db/serializable";
import type { Account } from "../../src/ledger/service";
import { newId } from "../../src/lib/ids";
import { createTestContext } from "../support/harness";

/**
 * A sharded account's credit starts probing at the session's home shard (ledger_home_shard(), drizzle/0009):
 * a slot no other live session holds, so connections writing one hot account at once start on distinct shards.
 */
const t = await createTestContext();
const { ledger, database } = t.deps;
const onPostgres = database.kind === "postgres";
const SHARDS = 32;

const hotAccount = () =>
  ledger.openAccount({
    kind: "vendor_wallet",
    ownerType: "vendor",
    ownerId: newId("vnd"),
    currency: "SZL",
    guarded: true,
    shards: SHARDS,
  });

// One balance row and unguarded: debiting it never touches a home shard, so only the credit does.
const source = () =>
  ledger.openAccount({ kind: "partner_settlement", ownerId: newId("prt"), currency: "SZL", guarded: false });

/** Credits `target` from `from` in `executor`'s transaction; the shard the credit landed on. */
async function credit(from: Account, target: Account, executor: Executor): Promise<number> {
  const journal = await ledger.transfer(
    {
      id: newId("txn"),
      kind: "deposit",
      legs: [
        { accountId: from.id, amount: -100n },
        { accountId: target.id, amount: 100n },
      ],
    },
    executor,
  );
  return journal.entries.find((e) => e.accountId === target.id)!.shard;
}

async function session(executor: Executor) {
  const [row] = await queryRows<{ cached: string | null; home: number }>(
    executor,
    sql`select current_setting('keshless.home_shard', true) as cached, ledger_home_shard() as home`,
  );
  return row!;
}

/** Postgres: a pool of `size` connections of our own; PGlite is one session already. */
async function connections(size: number): Promise<Database> {
  return onPostgres ? openDatabase({ databaseUrl: database.url, poolMax: size }) : database;
}

describe("home shards", () => {
  test("a session keeps its home shard when the transaction that took it rolls back", async () => {
    const [target, from] = await Promise.all([hotAccount(), source()]);
    const single = await connections(1);
    try {
      const rolledBack = new Error("roll back");
      let first: { shard: number; home: number; cached: string | null } | undefined;
      const outcome = await single.db
        .transaction(async (tx) => {
          const shard = await credit(from, target, tx);
          first = { shard, ...(await session(tx)) };
          throw rolledBack;
        })
        .catch((e) => e);
      expect(outcome).toBe(rolledBack);
      expect(first!.shard).toBe(first!.home % SHARDS);

      // The setting was reverted with the transaction (set_config(…, false) is transactional)…
      const after = await session(single.db);
      expect(after.cached || null).toBeNull();
      // …the advisory lock was not, so the session finds the same slot again, and credits start there.
      expect(after.home).toBe(first!.home);
      expect(await credit(from, target, single.db)).toBe(first!.shard);
      expect((await session(single.db)).cached).toBe(String(first!.home));
    } finally {
      if (single !== database) await single.close();
    }
    expect((await ledger.balance(target.id)).balance).toBe(100n);
    expect((await ledger.verify()).ok).toBe(true);
  });

  test.skipIf(!onPostgres)(
    "16 pooled connections crediting one 32-shard account at once start on 16 shards",
    async () => {
      const n = 16;
      const pool = await connections(n);
      const target = await hotAccount();
      try {
        const sources = await Promise.all(Array.from({ length: n }, source));
        // Each first attempt keeps its shard row locked until all n have written, so they overlap by construction.
        // Some then fail at COMMIT with 40001 (SSI: the journal-balance check reads index pages the others wrote,
        // nothing to do with shards) and are retried as the app would, after the others have let go.
        const overlapping: { shard: number; home: number; pid: number }[] = [];
        let arrived = 0;
        let release!: () => void;
        const allWritten = new Promise<void>((resolve) => {
          release = resolve;
        });
        const committed = await Promise.all(
          sources.map((from) => {
            let first = true;
            return serializable(
              pool.db,
              async (tx) => {
                const attempt = first;
                first = false;
                try {
                  const shard = await credit(from, target, tx);
                  const { home } = await session(tx);
                  const [row] = await queryRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`);
                  if (attempt) overlapping.push({ shard, home, pid: row!.pid });
                  return { shard, home };
                } finally {
                  if (attempt && ++arrived === n) release();
                  await allWritten;
                }
              },
              { maxRetries: t.config.serializableMaxRetries },
            );
          }),
        );
        expect(overlapping).toHaveLength(n);
        expect(new Set(overlapping.map((r) => r.pid)).size).toBe(n);
        expect(new Set(overlapping.map((r) => r.shard)).size).toBe(n);
        // Each landed on its own home shard: no connection had to probe past a shard another one held.
        expect(overlapping.map((r) => r.shard)).toEqual(overlapping.map((r) => r.home % SHARDS));
        expect(committed.map((r) => r.shard)).toEqual(committed.map((r) => r.home % SHARDS));
      } finally {
        await pool.close();
      }
      expect((await ledger.balance(target.id)).balance).toBe(BigInt(n) * 100n);
      expect((await ledger.verify()).ok).toBe(true);
    },
  );
});
