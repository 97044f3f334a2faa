import { describe, expect, test } from "bun:test";
import { LedgerError } from "../../src/ledger/service";
import { newId } from "../../src/lib/ids";
import { createTestContext } from "../support/harness";
import { fundedWallet as fundWallet } from "../support/ledger";

/**
 * Races against one database. On Postgres these really run at once (a pool of 20 connections);
 * on PGlite they are serialized by its single connection, which still checks the outcomes.
 */
const t = await createTestContext();
const { ledger } = t.deps;

const fundedWallet = (amount: bigint, shards = 1) => fundWallet(ledger, amount, shards);

const settle = <T>(promises: Promise<T>[]) => Promise.allSettled(promises);
const failures = (results: PromiseSettledResult<unknown>[]) =>
  results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason);

describe("concurrency", () => {
  test("50 concurrent transfers among 5 accounts: none lost, total conserved", async () => {
    const accounts = await Promise.all(Array.from({ length: 5 }, () => fundedWallet(10_000n)));
    const results = await settle(
      Array.from({ length: 50 }, (_, i) => {
        const from = accounts[i % 5]!;
        const to = accounts[(i + 1 + (i % 4)) % 5]!;
        return ledger.transfer({
          id: newId("txn"),
          kind: "transfer",
          legs: [
            { accountId: from.id, amount: -(100n + BigInt(i)) },
            { accountId: to.id, amount: 100n + BigInt(i) },
          ],
        });
      }),
    );
    expect(failures(results)).toEqual([]);
    const balances = await Promise.all(accounts.map((a) => ledger.balance(a.id)));
    expect(balances.reduce((sum, b) => sum + b.balance, 0n)).toBe(50_000n);
    expect((await ledger.verify()).ok).toBe(true);
  });

  test("200 concurrent debits against an account that affords exactly half", async () => {
    const payer = await fundedWallet(100n * 100n);
    const vendor = await fundedWallet(0n, 8);
    const results = await settle(
      Array.from({ length: 200 }, () =>
        ledger.transfer({
          id: newId("txn"),
          kind: "payment",
          legs: [
            { accountId: payer.id, amount: -100n },
            { accountId: vendor.id, amount: 100n },
          ],
        }),
      ),
    );
    const errors = failures(results);
    expect(results.length - errors.length).toBe(100);
    // Every refusal is a real lack of funds — never a serialization failure dressed up as one, never a 40001.
    expect(errors.every((e) => e instanceof LedgerError && e.code === "INSUFFICIENT_FUNDS")).toBe(true);
    expect(await ledger.balance(payer.id)).toEqual({ balance: 0n, held: 0n, available: 0n });
    expect((await ledger.balance(vendor.id)).balance).toBe(10_000n);
    expect((await ledger.verify()).ok).toBe(true);
  });

  test("100 concurrent attempts to post the same hold: one wins", async () => {
    const payer = await fundedWallet(5_000n);
    const clearing = await ledger.systemAccount("withdrawal_clearing", "SZL");
    const hold = await ledger.hold({ id: newId("hld"), accountId: payer.id, amount: 1_000n });
    const results = await settle(
      Array.from({ length: 100 }, () =>
        ledger.postHold({
          holdId: hold.id,
          id: newId("txn"),
          kind: "withdrawal",
          legs: [{ accountId: clearing.id, amount: 1_000n }],
        }),
      ),
    );
    const errors = failures(results);
    expect(results.length - errors.length).toBe(1);
    expect(errors.every((e) => e instanceof LedgerError && e.code === "CONFLICT")).toBe(true);
    expect(await ledger.balance(payer.id)).toEqual({ balance: 4_000n, held: 0n, available: 4_000n });
    expect((await ledger.verify()).ok).toBe(true);
  });

  test("the same transfer id sent 20 times at once is applied once", async () => {
    const payer = await fundedWallet(1_000n);
    const payee = await fundedWallet(0n);
    const input = {
      id: newId("txn"),
      kind: "transfer",
      legs: [
        { accountId: payer.id, amount: -300n },
        { accountId: payee.id, amount: 300n },
      ],
    };
    const results = await settle(Array.from({ length: 20 }, () => ledger.transfer(input)));
    expect(failures(results)).toEqual([]);
    const fresh = results.filter((r) => r.status === "fulfilled" && !r.value.replayed);
    expect(fresh).toHaveLength(1);
    expect((await ledger.balance(payer.id)).balance).toBe(700n);
  });

  test("hot destination and hot source under concurrent load stay exact", async () => {
    const vendor = await fundedWallet(0n, 16);
    const fees = await ledger.systemAccount("fee_revenue", "SZL");
    const payers = await Promise.all(Array.from({ length: 40 }, () => fundedWallet(1_000n)));
    const results = await settle(
      payers.flatMap((payer) =>
        [0, 1].map(() =>
          ledger.transfer({
            id: newId("txn"),
            kind: "payment",
            legs: [
              { accountId: payer.id, amount: -410n },
              { accountId: vendor.id, amount: 400n },
              { accountId: fees.id, amount: 10n },
            ],
          }),
        ),
      ),
    );
    expect(failures(results)).toEqual([]);
    expect((await ledger.balance(vendor.id)).balance).toBe(80n * 400n);
    expect((await ledger.verify()).ok).toBe(true);
  });
});
