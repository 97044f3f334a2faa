import { expect, test } from "bun:test";
import fc from "fast-check";
import { type Account, LedgerError } from "../../src/ledger/service";
import { newId } from "../../src/lib/ids";
import { createTestContext } from "../support/harness";

/**
 * Random sequences of transfers, holds, posts, voids, expiries and reversals, checked step by step
 * against a plain in-memory model: same outcome (ok or which refusal), same balances, and the
 * database's own invariants (ledger:verify) after every run.
 */
const t = await createTestContext();
const { ledger } = t.deps;

type Op =
  | { op: "transfer"; from: number; to: number; amount: number }
  | { op: "hold"; account: number; amount: number; expired: boolean }
  | { op: "post"; hold: number; percent: number }
  | { op: "void"; hold: number }
  | { op: "expire"; hold: number }
  | { op: "reverse"; journal: number };

const ACCOUNTS = 4; // wallets 0..2 are guarded (wallet 2 sharded); 3 is an unguarded system account
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("transfer" as const),
    from: fc.nat(ACCOUNTS - 1),
    to: fc.nat(ACCOUNTS - 1),
    amount: fc.integer({ min: 1, max: 400 }),
  }),
  fc.record({
    op: fc.constant("hold" as const),
    account: fc.nat(2),
    amount: fc.integer({ min: 1, max: 300 }),
    expired: fc.boolean(),
  }),
  fc.record({ op: fc.constant("post" as const), hold: fc.nat(20), percent: fc.integer({ min: 1, max: 100 }) }),
  fc.record({ op: fc.constant("void" as const), hold: fc.nat(20) }),
  fc.record({ op: fc.constant("expire" as const), hold: fc.nat(20) }),
  fc.record({ op: fc.constant("reverse" as const), journal: fc.nat(20) }),
);

interface ModelHold {
  id: string;
  account: number;
  amount: bigint;
  status: "pending" | "posted" | "voided" | "expired";
  expired: boolean;
}
interface ModelJournal {
  id: string;
  legs: Map<number, bigint>;
  reversed: boolean;
}

async function outcome(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "ok";
  } catch (error) {
    if (error instanceof LedgerError) return error.code;
    throw error;
  }
}

test("random operation sequences match an in-memory model and keep every invariant", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), async (ops) => {
      const accounts: Account[] = [];
      for (let i = 0; i < 3; i++)
        accounts.push(
          await ledger.openAccount({
            kind: "user_wallet",
            ownerType: "user",
            ownerId: newId("usr"),
            currency: "SZL",
            guarded: true,
            shards: i === 2 ? 3 : 1,
          }),
        );
      accounts.push(
        await ledger.openAccount({
          kind: "suspense",
          currency: "SZL",
          ownerId: newId("prt"),
          guarded: false,
          shards: 2,
        }),
      );
      const sink = await ledger.systemAccount("withdrawal_clearing", "SZL");
      const balance = [0n, 0n, 0n, 0n];
      const held = [0n, 0n, 0n, 0n];
      const holds: ModelHold[] = [];
      const journals: ModelJournal[] = [];
      const guarded = (i: number) => i < 3;
      const availableOf = (i: number) => balance[i]! - held[i]!;

      for (const op of ops) {
        let expected: string;
        let actual: string;
        switch (op.op) {
          case "transfer": {
            if (op.from === op.to) continue;
            const amount = BigInt(op.amount);
            expected = guarded(op.from) && availableOf(op.from) < amount ? "INSUFFICIENT_FUNDS" : "ok";
            const id = newId("txn");
            actual = await outcome(() =>
              ledger.transfer({
                id,
                kind: "transfer",
                legs: [
                  { accountId: accounts[op.from]!.id, amount: -amount },
                  { accountId: accounts[op.to]!.id, amount },
                ],
              }),
            );
            if (expected === "ok") {
              balance[op.from]! -= amount;
              balance[op.to]! += amount;
              journals.push({
                id,
                legs: new Map([
                  [op.from, -amount],
                  [op.to, amount],
                ]),
                reversed: false,
              });
            }
            break;
          }
          case "hold": {
            const amount = BigInt(op.amount);
            expected = availableOf(op.account) < amount ? "INSUFFICIENT_FUNDS" : "ok";
            const id = newId("hld");
            const expiresAt = op.expired ? new Date(Date.now() - 60_000) : new Date(Date.now() + 3_600_000);
            actual = await outcome(() => ledger.hold({ id, accountId: accounts[op.account]!.id, amount, expiresAt }));
            if (expected === "ok") {
              held[op.account]! += amount;
              holds.push({ id, account: op.account, amount, status: "pending", expired: op.expired });
            }
            break;
          }
          case "post": {
            const hold = holds[op.hold % Math.max(1, holds.length)];
            if (!hold) continue;
            const amount = (hold.amount * BigInt(op.percent) + 99n) / 100n;
            expected = hold.status !== "pending" || hold.expired ? "CONFLICT" : "ok";
            actual = await outcome(() =>
              ledger.postHold({
                holdId: hold.id,
                id: newId("txn"),
                kind: "withdrawal",
                amount,
                legs: [{ accountId: sink.id, amount }],
              }),
            );
            if (expected === "ok") {
              held[hold.account]! -= hold.amount;
              balance[hold.account]! -= amount;
              hold.status = "posted";
            }
            break;
          }
          case "void":
          case "expire": {
            const hold = holds[op.hold % Math.max(1, holds.length)];
            if (!hold) continue;
            const target = op.op === "void" ? "voided" : "expired";
            expected = hold.status === "pending" || hold.status === target ? "ok" : "CONFLICT";
            actual = await outcome(() => (op.op === "void" ? ledger.voidHold(hold.id) : ledger.expireHold(hold.id)));
            if (hold.status === "pending" && expected === "ok") {
              held[hold.account]! -= hold.amount;
              hold.status = target;
            }
            break;
          }
          case "reverse": {
            const journal = journals[op.journal % Math.max(1, journals.length)];
            if (!journal) continue;
            const short = [...journal.legs].some(([i, amount]) => guarded(i) && amount > 0n && availableOf(i) < amount);
            expected = journal.reversed ? "CONFLICT" : short ? "INSUFFICIENT_FUNDS" : "ok";
            actual = await outcome(() => ledger.reverse({ journalId: journal.id, id: newId("txn") }));
            if (expected === "ok") {
              for (const [i, amount] of journal.legs) balance[i]! -= amount;
              journal.reversed = true;
            }
            break;
          }
        }
        expect(`${op.op}: ${actual}`).toBe(`${op.op}: ${expected}`);
        for (let i = 0; i < ACCOUNTS; i++) {
          const stored = await ledger.balance(accounts[i]!.id);
          expect({ account: i, balance: stored.balance, held: stored.held }).toEqual({
            account: i,
            balance: balance[i]!,
            held: held[i]!,
          });
        }
      }
      const report = await ledger.verify();
      expect(report.problems).toEqual([]);
    }),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 40) },
  );
}, 120_000);
