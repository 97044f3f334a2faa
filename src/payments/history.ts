import { and, eq, type SQL, sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/client";
import { AppError } from "../http/errors";
import { balanceAfterEntry } from "../ledger";
import { type PaymentsContext, type WalletKind, walletOf } from "./context";
import { type TransactionDto, transactionDto } from "./dto";
import { transactions } from "./schema";

/** What a wallet's owner or a partner reads back: the wallet's balance, its statement, one transaction. */

type Row = typeof transactions.$inferSelect;

/** `account`'s balance right after the journal `journalId` (a transaction's id), as a subquery. */
const balanceAfterOf = (journalId: SQL, account: string) =>
  sql<string | null>`(select ${balanceAfterEntry}::text
            from ledger_entries e join ledger_accounts a on a.id = e.account_id
           where e.journal_id = ${journalId} and e.account_id = ${account}
           order by e.id desc limit 1)`;

/** One transaction as `account` sees it, given that account's balance right after it (as Postgres printed it). */
function viewOf(row: Row, account: string, balanceAfter: string | null | undefined): TransactionDto {
  return transactionDto(row, {
    outgoing: row.payerAccount === account,
    balanceAfter: balanceAfter == null ? null : Number(balanceAfter),
  });
}

async function toDto(database: Database, row: Row, account: string): Promise<TransactionDto> {
  const [after] = await queryRows<{ balance_after: string | null }>(
    database.reads,
    sql`select ${balanceAfterOf(sql`${row.id}`, account)} as balance_after`,
  );
  return viewOf(row, account, after?.balance_after);
}

/**
 * Newest first. The cursor is opaque: base64url of "createdAt|id" of the last row returned. One statement (each
 * row's balance after it in a subquery) on the read pool (Database.reads): as 1 + N SERIALIZABLE reads it took
 * SIREAD locks on the heap pages of `transactions` and `ledger_entries` that every payment writes. One statement
 * sees one committed state whatever the isolation.
 */
export async function listForAccount(database: Database, account: string, options: { limit: number; cursor?: string }) {
  let before: { at: string; id: string } | undefined;
  if (options.cursor) {
    const [at, id] = Buffer.from(options.cursor, "base64url").toString().split("|");
    if (!at || !id || Number.isNaN(Date.parse(at))) throw new AppError("VALIDATION_FAILED", "The cursor is not valid.");
    before = { at, id };
  }
  const page = (side: ReturnType<typeof sql>) =>
    sql`(select * from transactions where ${side} = ${account}
           ${before ? sql`and (created_at, id) < (${before.at}::timestamptz, ${before.id})` : sql``}
           order by created_at desc, id desc limit ${options.limit + 1})`;
  const rows = await database.reads
    .select({ row: transactions, balanceAfter: balanceAfterOf(sql`${transactions.id}`, account) })
    .from(transactions)
    .where(
      sql`${transactions.id} in (select id from (${page(sql`payer_account`)} union all ${page(sql`payee_account`)}) u)`,
    )
    .orderBy(sql`${transactions.createdAt} desc, ${transactions.id} desc`)
    .limit(options.limit + 1);
  const data = rows.slice(0, options.limit).map(({ row, balanceAfter }) => viewOf(row, account, balanceAfter));
  const last = rows.length > options.limit ? rows[options.limit - 1]!.row : undefined;
  const nextCursor = last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString("base64url") : null;
  return { data, nextCursor };
}

/** A transaction the account took part in; anyone else's is 404, never 403, so ids reveal nothing. */
export async function getForAccount(database: Database, id: string, account: string): Promise<TransactionDto> {
  const [row] = await database.reads.select().from(transactions).where(eq(transactions.id, id));
  if (!row || (row.payerAccount !== account && row.payeeAccount !== account))
    throw new AppError("NOT_FOUND", "No such transaction.");
  return toDto(database, row, account);
}

export async function getForPartner(database: Database, id: string, partnerId: string): Promise<TransactionDto> {
  const [row] = await database.db
    .select()
    .from(transactions)
    .where(and(eq(transactions.id, id), eq(transactions.partnerId, partnerId)));
  if (!row) throw new AppError("NOT_FOUND", "No such transaction.");
  // A partner has no wallet: the settlement account's balance is Keshless's books, not the partner's to see.
  const view = await toDto(database, row, row.payerType === "partner" ? row.payerAccount : row.payeeAccount);
  return { ...view, balanceAfter: null };
}

export async function wallet(c: Pick<PaymentsContext, "walletIds" | "ledger">, kind: WalletKind, ownerId: string) {
  const balance = await c.ledger.balance(await walletOf(c, kind, ownerId));
  return {
    currency: "SZL",
    balance: Number(balance.balance),
    available: Number(balance.available),
    pending: Number(balance.held),
  };
}
