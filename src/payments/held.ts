import { eq, sql } from "drizzle-orm";
import { type Executor, queryRows } from "../db/client";
import { AppError } from "../http/errors";
import { users, vendors } from "../identity/schema";
import { balanceAfterEntry } from "../ledger";
import { type TransactionDto, transactionDto } from "./dto";
import { transactions } from "./schema";

/**
 * What withdrawals, card requests and airtime share: each holds money on a wallet, records a
 * `transactions` row (pending, then completed or failed) and settles the hold later, exactly once.
 */

/** The hold of a `txn_` id: `hld_` + the same suffix, so every retry finds the same hold. */
export const holdIdFor = (transactionId: string) => `hld_${transactionId.replace(/^txn_/, "")}`;

/**
 * The phone and name of a wallet's owner, read in the caller's transaction — a decision runs inside one,
 * and the embedded database cannot serve a second connection meanwhile.
 */
export async function ownerContact(
  tx: Executor,
  owner: { type: string; id: string },
): Promise<{ phone: string; name: string | null } | undefined> {
  if (owner.type === "user") {
    const [row] = await tx.select({ phone: users.phone, name: users.name }).from(users).where(eq(users.id, owner.id));
    return row;
  }
  if (owner.type === "vendor") {
    const [row] = await tx
      .select({ phone: vendors.phone, name: vendors.name })
      .from(vendors)
      .where(eq(vendors.id, owner.id));
    return row;
  }
  return undefined;
}

export interface PendingTransaction {
  id: string;
  type: "withdrawal" | "airtime" | "card";
  amount: bigint;
  fee: bigint;
  feeBearer: "sender" | "receiver";
  currency: string;
  payer: { type: "user" | "vendor"; id: string; name: string | null; account: string };
  payee: { id: string; name: string; account: string };
  holdId: string;
  reference: string | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

/** The transaction row, written as pending (the hold is placed; nothing has left the wallet yet). */
export async function insertPendingTransaction(tx: Executor, t: PendingTransaction) {
  await tx.insert(transactions).values({
    id: t.id,
    type: t.type,
    status: "pending",
    amount: t.amount,
    fee: t.fee,
    feeBearer: t.feeBearer,
    currency: t.currency,
    payerType: t.payer.type,
    payerId: t.payer.id,
    payerName: t.payer.name,
    payerAccount: t.payer.account,
    payeeType: "system",
    payeeId: t.payee.id,
    payeeName: t.payee.name,
    payeeAccount: t.payee.account,
    reference: t.reference,
    holdId: t.holdId,
    metadata: t.metadata,
    createdAt: t.createdAt,
    updatedAt: t.createdAt,
  });
}

export async function settleTransaction(tx: Executor, id: string, status: "completed" | "failed", at: Date) {
  await tx.update(transactions).set({ status, updatedAt: at }).where(eq(transactions.id, id));
}

/**
 * A transaction as its payer sees it (API.md shape), read in `tx`. balanceAfter is the wallet's balance
 * right after the posting journal (same id as the transaction); null while the money is only held.
 */
export async function transactionView(tx: Executor, id: string): Promise<TransactionDto> {
  const [row] = await tx.select().from(transactions).where(eq(transactions.id, id));
  if (!row) throw new AppError("NOT_FOUND", "No such transaction.");
  const [after] = await queryRows<{ balance_after: string | null }>(
    tx,
    sql`select ${balanceAfterEntry}::text as balance_after
           from ledger_entries e join ledger_accounts a on a.id = e.account_id
          where e.journal_id = ${row.id} and e.account_id = ${row.payerAccount}
          order by e.id desc limit 1`,
  );
  const balanceAfter = after?.balance_after == null ? null : Number(after.balance_after);
  return transactionDto(row, { outgoing: true, balanceAfter });
}
