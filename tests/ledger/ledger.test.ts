import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { sqlState } from "../../src/db/pg-errors";
import { LedgerError } from "../../src/ledger/service";
import { newId } from "../../src/lib/ids";
import { createTestContext } from "../support/harness";
import { fundedWallet, openWallet } from "../support/ledger";

const t = await createTestContext();
const { ledger, database } = t.deps;

const wallet = (shards = 1) => openWallet(ledger, shards);
const funded = (amount: bigint, shards = 1) => fundedWallet(ledger, amount, shards);

const available = async (id: string) => (await ledger.balance(id)).available;

async function expectLedgerError(promise: Promise<unknown>, code: LedgerError["code"]) {
  const error = await promise.then(
    () => undefined,
    (e) => e,
  );
  expect(error).toBeInstanceOf(LedgerError);
  expect((error as LedgerError).code).toBe(code);
  return error as LedgerError;
}

describe("accounts", () => {
  test("opening the same code twice returns the same account", async () => {
    const ownerId = newId("usr");
    const input = { kind: "user_wallet" as const, ownerType: "user", ownerId, currency: "SZL", guarded: true };
    const a = await ledger.openAccount(input);
    const b = await ledger.openAccount(input);
    expect(b.id).toBe(a.id);
    expect((await ledger.findAccount("user_wallet", ownerId, "SZL"))?.id).toBe(a.id);
  });

  test("system accounts are sharded and unguarded", async () => {
    const fees = await ledger.systemAccount("fee_revenue", "SZL");
    expect(fees.guarded).toBe(false);
    expect(fees.shardCount).toBe(t.config.hotAccountShards);
  });
});

describe("transfers", () => {
  test("moves money, stores balance after each entry, and balances", async () => {
    const a = await funded(10_000n);
    const b = await wallet();
    const fees = await ledger.systemAccount("fee_revenue", "SZL");
    const journal = await ledger.transfer({
      id: newId("txn"),
      kind: "payment",
      legs: [
        { accountId: a.id, amount: -1_550n },
        { accountId: b.id, amount: 1_500n },
        { accountId: fees.id, amount: 50n },
      ],
      metadata: { reference: "stall 12" },
    });
    expect(journal.replayed).toBe(false);
    expect(journal.entries).toHaveLength(3);
    expect(journal.entries.find((e) => e.accountId === a.id)?.balanceAfter).toBe(8_450n);
    expect(await available(a.id)).toBe(8_450n);
    expect(await available(b.id)).toBe(1_500n);
    expect((await ledger.verify()).ok).toBe(true);
  });

  test("refuses to take a guarded wallet below zero, changing nothing", async () => {
    const a = await funded(1_000n);
    const b = await wallet();
    const id = newId("txn");
    await expectLedgerError(
      ledger.transfer({
        id,
        kind: "transfer",
        legs: [
          { accountId: a.id, amount: -1_001n },
          { accountId: b.id, amount: 1_001n },
        ],
      }),
      "INSUFFICIENT_FUNDS",
    );
    expect(await available(a.id)).toBe(1_000n);
    expect(await ledger.getJournal(id)).toBeUndefined();
  });

  test("an unknown account is NOT_FOUND", async () => {
    const a = await funded(100n);
    await expectLedgerError(
      ledger.transfer({
        id: newId("txn"),
        kind: "transfer",
        legs: [
          { accountId: a.id, amount: -1n },
          { accountId: "acc_missing", amount: 1n },
        ],
      }),
      "NOT_FOUND",
    );
  });

  test("an unbalanced transfer is refused by the database", async () => {
    const a = await funded(100n);
    const b = await wallet();
    await expectLedgerError(
      ledger.transfer({
        id: newId("txn"),
        kind: "transfer",
        legs: [
          { accountId: a.id, amount: -10n },
          { accountId: b.id, amount: 9n },
        ],
      }),
      "INVALID",
    );
    expect(await available(a.id)).toBe(100n);
  });

  test("the same id with the same content replays; with other content names the field", async () => {
    const a = await funded(5_000n);
    const b = await wallet();
    const input = {
      id: newId("txn"),
      kind: "transfer",
      legs: [
        { accountId: a.id, amount: -700n },
        { accountId: b.id, amount: 700n },
      ],
    };
    const first = await ledger.transfer(input);
    const again = await ledger.transfer(input);
    expect(again.replayed).toBe(true);
    expect(again.entries).toEqual(first.entries);
    expect(await available(a.id)).toBe(4_300n);

    const otherAmount = await expectLedgerError(
      ledger.transfer({
        ...input,
        legs: [
          { accountId: a.id, amount: -701n },
          { accountId: b.id, amount: 701n },
        ],
      }),
      "ID_REUSED",
    );
    expect(otherAmount.field).toBe("legs");
    const otherKind = await expectLedgerError(ledger.transfer({ ...input, kind: "payment" }), "ID_REUSED");
    expect(otherKind.field).toBe("kind");
  });

  test("a sharded guarded wallet is credited across shards and debited exactly", async () => {
    const vendor = await wallet(4);
    const payers = await Promise.all(Array.from({ length: 8 }, () => funded(1_000n)));
    await Promise.all(
      payers.map((p) =>
        ledger.transfer({
          id: newId("txn"),
          kind: "payment",
          legs: [
            { accountId: p.id, amount: -1_000n },
            { accountId: vendor.id, amount: 1_000n },
          ],
        }),
      ),
    );
    expect(await available(vendor.id)).toBe(8_000n);
    const cashOut = await wallet();
    await ledger.transfer({
      id: newId("txn"),
      kind: "withdrawal",
      legs: [
        { accountId: vendor.id, amount: -7_999n },
        { accountId: cashOut.id, amount: 7_999n },
      ],
    });
    expect(await available(vendor.id)).toBe(1n);
    await expectLedgerError(
      ledger.transfer({
        id: newId("txn"),
        kind: "withdrawal",
        legs: [
          { accountId: vendor.id, amount: -2n },
          { accountId: cashOut.id, amount: 2n },
        ],
      }),
      "INSUFFICIENT_FUNDS",
    );
    const page = await ledger.statement(vendor.id, { limit: 100 });
    expect(page.data[0]!.balanceAfter).toBe(1n);
    expect((await ledger.verify()).ok).toBe(true);
  });
});

describe("holds", () => {
  test("hold reserves, partial post takes part and releases the rest", async () => {
    const a = await funded(10_000n);
    const clearing = await ledger.systemAccount("withdrawal_clearing", "SZL");
    const hold = await ledger.hold({ id: newId("hld"), accountId: a.id, amount: 3_000n });
    expect(hold.status).toBe("pending");
    expect(await ledger.balance(a.id)).toEqual({ balance: 10_000n, held: 3_000n, available: 7_000n });

    const posted = await ledger.postHold({
      holdId: hold.id,
      id: newId("txn"),
      kind: "withdrawal",
      amount: 2_500n,
      legs: [{ accountId: clearing.id, amount: 2_500n }],
    });
    expect(posted.holdId).toBe(hold.id);
    expect(await ledger.balance(a.id)).toEqual({ balance: 7_500n, held: 0n, available: 7_500n });
    const after = await ledger.getHold(hold.id);
    expect(after?.status).toBe("posted");
    expect(after?.postedAmount).toBe(2_500n);
    expect((await ledger.verify()).ok).toBe(true);
  });

  test("a hold cannot reserve more than is available", async () => {
    const a = await funded(1_000n);
    await ledger.hold({ id: newId("hld"), accountId: a.id, amount: 600n });
    await expectLedgerError(ledger.hold({ id: newId("hld"), accountId: a.id, amount: 401n }), "INSUFFICIENT_FUNDS");
    // Nor can a plain transfer spend held money.
    const b = await wallet();
    await expectLedgerError(
      ledger.transfer({
        id: newId("txn"),
        kind: "transfer",
        legs: [
          { accountId: a.id, amount: -401n },
          { accountId: b.id, amount: 401n },
        ],
      }),
      "INSUFFICIENT_FUNDS",
    );
  });

  test("void releases; a hold is resolved exactly once", async () => {
    const a = await funded(1_000n);
    const clearing = await ledger.systemAccount("withdrawal_clearing", "SZL");
    const hold = await ledger.hold({ id: newId("hld"), accountId: a.id, amount: 400n });
    const voided = await ledger.voidHold(hold.id);
    expect(voided.status).toBe("voided");
    expect((await ledger.voidHold(hold.id)).replayed).toBe(true);
    expect(await available(a.id)).toBe(1_000n);
    await expectLedgerError(
      ledger.postHold({
        holdId: hold.id,
        id: newId("txn"),
        kind: "withdrawal",
        legs: [{ accountId: clearing.id, amount: 400n }],
      }),
      "CONFLICT",
    );
    await expectLedgerError(ledger.expireHold(hold.id), "CONFLICT");
  });

  test("the same hold id replays; with another amount names the field", async () => {
    const a = await funded(1_000n);
    const id = newId("hld");
    await ledger.hold({ id, accountId: a.id, amount: 100n });
    expect((await ledger.hold({ id, accountId: a.id, amount: 100n })).replayed).toBe(true);
    const error = await expectLedgerError(ledger.hold({ id, accountId: a.id, amount: 101n }), "ID_REUSED");
    expect(error.field).toBe("amount");
    expect(await available(a.id)).toBe(900n);
  });

  test("due holds expire; a post after expiry is refused", async () => {
    const a = await funded(1_000n);
    const clearing = await ledger.systemAccount("airtime_clearing", "SZL", "mtn");
    const past = new Date(Date.now() - 1_000);
    const hold = await ledger.hold({ id: newId("hld"), accountId: a.id, amount: 300n, expiresAt: past });
    await expectLedgerError(
      ledger.postHold({
        holdId: hold.id,
        id: newId("txn"),
        kind: "airtime",
        legs: [{ accountId: clearing.id, amount: 300n }],
      }),
      "CONFLICT",
    );
    const { expired } = await ledger.expireDueHolds(new Date());
    expect(expired).toContain(hold.id);
    expect((await ledger.getHold(hold.id))?.status).toBe("expired");
    expect(await available(a.id)).toBe(1_000n);
    expect((await ledger.verify()).ok).toBe(true);
  });

  test("holds on a sharded wallet draw on several shards and post exactly", async () => {
    const vendor = await wallet(4);
    for (let i = 0; i < 6; i++) {
      const payer = await funded(500n);
      await ledger.transfer({
        id: newId("txn"),
        kind: "payment",
        legs: [
          { accountId: payer.id, amount: -500n },
          { accountId: vendor.id, amount: 500n },
        ],
      });
    }
    const clearing = await ledger.systemAccount("withdrawal_clearing", "SZL");
    const hold = await ledger.hold({ id: newId("hld"), accountId: vendor.id, amount: 2_900n });
    await ledger.postHold({
      holdId: hold.id,
      id: newId("txn"),
      kind: "withdrawal",
      legs: [{ accountId: clearing.id, amount: 2_900n }],
    });
    expect(await ledger.balance(vendor.id)).toEqual({ balance: 100n, held: 0n, available: 100n });
    expect((await ledger.verify()).ok).toBe(true);
  });
});

describe("reversals, history, statements", () => {
  test("a reversal undoes a journal once", async () => {
    const a = await funded(2_000n);
    const b = await wallet();
    const original = await ledger.transfer({
      id: newId("txn"),
      kind: "transfer",
      legs: [
        { accountId: a.id, amount: -800n },
        { accountId: b.id, amount: 800n },
      ],
    });
    const reversal = await ledger.reverse({ journalId: original.id, id: newId("txn") });
    expect(reversal.reversalOf).toBe(original.id);
    expect(await available(a.id)).toBe(2_000n);
    expect(await available(b.id)).toBe(0n);
    await expectLedgerError(ledger.reverse({ journalId: original.id, id: newId("txn") }), "CONFLICT");
    await expectLedgerError(ledger.reverse({ journalId: "txn_missing", id: newId("txn") }), "NOT_FOUND");
    expect((await ledger.verify()).ok).toBe(true);
  });

  test("balance at a point in time and a paginated statement", async () => {
    const a = await funded(1_000n);
    const b = await wallet();
    const before = new Date();
    await Bun.sleep(5);
    for (let i = 1; i <= 5; i++)
      await ledger.transfer({
        id: newId("txn"),
        kind: "transfer",
        legs: [
          { accountId: a.id, amount: -100n },
          { accountId: b.id, amount: 100n },
        ],
      });
    expect((await ledger.balance(a.id, before)).balance).toBe(1_000n);
    expect((await ledger.balance(a.id)).balance).toBe(500n);
    const first = await ledger.statement(a.id, { limit: 4 });
    expect(first.data.map((l) => l.balanceAfter)).toEqual([500n, 600n, 700n, 800n]);
    const second = await ledger.statement(a.id, { limit: 4, cursor: first.nextCursor! });
    expect(second.data.map((l) => l.balanceAfter)).toEqual([900n, 1_000n]);
    expect(second.nextCursor).toBeNull();
  });
});

describe("the database enforces the rules against direct SQL", () => {
  const attempt = async (statement: ReturnType<typeof sql>) =>
    database.db.execute(statement).then(
      () => "accepted",
      (e) => sqlState(e) ?? String(e),
    );

  test("entries cannot be updated or deleted", async () => {
    const a = await funded(100n);
    expect(await attempt(sql`update ledger_entries set amount = amount + 1 where account_id = ${a.id}`)).toBe("KL004");
    expect(await attempt(sql`delete from ledger_entries where account_id = ${a.id}`)).toBe("KL004");
    expect(await attempt(sql`truncate ledger_entries cascade`)).toBe("KL004");
    expect(await attempt(sql`delete from ledger_journals`)).toBe("KL004");
  });

  test("an unbalanced journal cannot commit, nor can entries be added to an old one", async () => {
    const a = await funded(100n);
    const id = newId("txn");
    const unbalanced = await database.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into ledger_journals (id, kind, request) values (${id}, 'manual', '{}')`);
        await tx.execute(sql`select ledger_apply(${id}, ${a.id}, -5)`);
      })
      .then(
        () => "accepted",
        (e) => sqlState(e),
      );
    expect(unbalanced).toBe("KL004");
    const [old] = await queryRows<{ journal_id: string }>(
      database.db,
      sql`select journal_id from ledger_entries where account_id = ${a.id} limit 1`,
    );
    expect(
      await attempt(
        sql`insert into ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
            values (${old!.journal_id}, ${a.id}, 0, 'SZL', 1, 101)`,
      ),
    ).toBe("KL004");
    expect(await available(a.id)).toBe(100n);
  });

  test("one INSERT that adds to a journal of its own transaction and to an old one is refused whole", async () => {
    const a = await funded(100n);
    const [old] = await queryRows<{ journal_id: string }>(
      database.db,
      sql`select journal_id from ledger_entries where account_id = ${a.id} limit 1`,
    );
    const id = newId("txn");
    const mixed = await database.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into ledger_journals (id, kind, request) values (${id}, 'manual', '{}')`);
        await tx.execute(
          sql`insert into ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
              values (${id}, ${a.id}, 0, 'SZL', 1, 101), (${id}, ${a.id}, 0, 'SZL', -1, 100),
                     (${old!.journal_id}, ${a.id}, 0, 'SZL', 1, 101)`,
        );
      })
      .then(
        () => "accepted",
        (e) => sqlState(e),
      );
    expect(mixed).toBe("KL004");
    expect(await available(a.id)).toBe(100n);
  });

  test("a guarded balance cannot be set negative", async () => {
    const a = await funded(100n);
    expect(await attempt(sql`update ledger_balances set balance = -1 where account_id = ${a.id}`)).toBe("23514");
  });

  test("ledger:verify finds tampering that bypasses the functions", async () => {
    expect((await ledger.verify()).ok).toBe(true);
    const a = await funded(100n);
    // An operator "fixing" a balance by hand breaks the stored-balance = sum-of-entries rule.
    await database.db.execute(sql`update ledger_balances set balance = balance + 1 where account_id = ${a.id}`);
    const report = await ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.check)).toContain("balance_mismatch");
    await database.db.execute(sql`update ledger_balances set balance = balance - 1 where account_id = ${a.id}`);
    expect((await ledger.verify()).ok).toBe(true);
  });
});
