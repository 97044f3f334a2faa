import { and, desc, eq, gte, inArray, lt, or, type SQL } from "drizzle-orm";
import type { Approvals } from "../approvals";
import type { Core } from "../core";
import type { Executor } from "../db/client";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import type { Ledger } from "../ledger";
import { ledgerAccounts } from "../ledger/schema";
import type { TransactionStatus, TransactionType } from "./dto";
import { transactions } from "./schema";

/** Admin transaction search, and one transaction's detail with the ledger journal behind it. */

export type TransactionRow = typeof transactions.$inferSelect;

export interface AdminTransaction {
  id: string;
  type: TransactionType;
  status: TransactionStatus;
  amount: number;
  currency: string;
  fee: number;
  feeBearer: "sender" | "receiver";
  payer: { type: string; id: string; name: string | null; accountId: string };
  payee: { type: string; id: string; name: string | null; accountId: string };
  partnerId: string | null;
  reference: string | null;
  externalReference: string | null;
  reversalOf: string | null;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface TransactionFilter {
  userId?: string | undefined;
  vendorId?: string | undefined;
  partnerId?: string | undefined;
  type?: TransactionType | undefined;
  status?: TransactionStatus | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  limit: number;
  cursor?: string | undefined;
}

const toAdmin = (r: TransactionRow): AdminTransaction => ({
  id: r.id,
  type: r.type as TransactionType,
  status: r.status as TransactionStatus,
  amount: Number(r.amount),
  currency: r.currency,
  fee: Number(r.fee),
  feeBearer: r.feeBearer as AdminTransaction["feeBearer"],
  payer: { type: r.payerType, id: r.payerId, name: r.payerName, accountId: r.payerAccount },
  payee: { type: r.payeeType, id: r.payeeId, name: r.payeeName, accountId: r.payeeAccount },
  partnerId: r.partnerId,
  reference: r.reference,
  externalReference: r.externalReference,
  reversalOf: r.reversalOf,
  metadata: (r.metadata ?? {}) as Record<string, unknown>,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/** The transaction, or 404: what detail and reversals start from. */
export async function transactionRow(tx: Executor, id: string): Promise<TransactionRow> {
  const [r] = await tx.select().from(transactions).where(eq(transactions.id, id));
  if (!r) throw new AppError("NOT_FOUND", "No such transaction.");
  return r;
}

export async function searchTransactions(
  deps: Pick<Core, "database"> & { ledger: Ledger },
  filter: TransactionFilter,
): Promise<{ data: AdminTransaction[]; nextCursor: string | null }> {
  const where: (SQL | undefined)[] = [];
  for (const [kind, ownerId] of [
    ["user_wallet", filter.userId],
    ["vendor_wallet", filter.vendorId],
  ] as const) {
    if (!ownerId) continue;
    const account = await deps.ledger.findAccount(kind, ownerId, "SZL");
    if (!account) return { data: [], nextCursor: null };
    // Both sides use their own index (payer_account / payee_account, created_at desc).
    where.push(or(eq(transactions.payerAccount, account.id), eq(transactions.payeeAccount, account.id)));
  }
  if (filter.partnerId) where.push(eq(transactions.partnerId, filter.partnerId));
  if (filter.type) where.push(eq(transactions.type, filter.type));
  if (filter.status) where.push(eq(transactions.status, filter.status));
  if (filter.from) where.push(gte(transactions.createdAt, filter.from));
  if (filter.to) where.push(lt(transactions.createdAt, filter.to));
  if (filter.cursor) {
    where.push(after(filter.cursor, transactions.createdAt, transactions.id));
  }
  const rows = await deps.database.db
    .select()
    .from(transactions)
    .where(and(...where))
    .orderBy(desc(transactions.createdAt), desc(transactions.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toAdmin),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/** The transaction, its ledger journal (every entry with its account), and any reversal of it. */
export async function transactionDetail(
  deps: Pick<Core, "database"> & { ledger: Ledger; approvals: Approvals },
  id: string,
) {
  const { db } = deps.database;
  const r = await transactionRow(db, id);
  const journal = await deps.ledger.getJournal(id);
  const accountIds = [...new Set(journal?.entries.map((e) => e.accountId) ?? [])];
  const accounts = accountIds.length
    ? await db.select().from(ledgerAccounts).where(inArray(ledgerAccounts.id, accountIds))
    : [];
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const [reversedBy] = await db
    .select({ id: transactions.id })
    .from(transactions)
    .where(eq(transactions.reversalOf, id))
    .limit(1);
  const approval = await deps.approvals.forSubject("reversal", id);
  return {
    ...toAdmin(r),
    ledger: journal
      ? {
          journalId: journal.id,
          kind: journal.kind,
          reversalOf: journal.reversalOf,
          createdAt: journal.createdAt.toISOString(),
          entries: journal.entries.map((e) => {
            const a = byId.get(e.accountId);
            return {
              id: e.id.toString(),
              accountId: e.accountId,
              accountCode: a?.code ?? null,
              accountKind: a?.kind ?? null,
              shard: e.shard,
              currency: e.currency,
              amount: Number(e.amount),
              balanceAfter: a?.shardCount === 1 ? Number(e.balanceAfter) : null,
            };
          }),
        }
      : null,
    reversedBy: reversedBy?.id ?? null,
    reversalRequest: approval
      ? { approvalId: approval.id, status: approval.status, requestedBy: approval.requestedBy.id }
      : null,
  };
}
