import { and, desc, eq, gte, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import type { Approvals } from "../approvals";
import { approvalKind, type DecisionContext } from "../approvals";
import type { Audit, RequestMeta } from "../audit";
import type { Core } from "../core";
import { type Executor, queryRows } from "../db/client";
import { serializable } from "../db/serializable";
import { AppError } from "../http/errors";
import { after, decodeCursor, encodeCursor } from "../http/pagination";
import type { Identity } from "../identity";
import type { Ledger } from "../ledger";
import { LedgerError } from "../ledger";
import { ledgerAccounts } from "../ledger/schema";
import { newId } from "../lib/ids";
import { formatAmount } from "../lib/money";
import { maskPhone } from "../lib/phone";
import type { Notifications } from "../notifications";
import type { Webhooks } from "../webhooks";
import { type TransactionDto, type TransactionStatus, type TransactionType, transactionDto } from "./dto";
import { transactions } from "./schema";
import type { Payments } from "./service";

/**
 * What admins see of money: transaction search and detail with the ledger journal behind it, the trial
 * balance, and reversals under maker-checker — one admin asks (an approval request of kind "reversal"),
 * a different admin approves through /admin/v1/approvals, and the reversal runs in that decision's
 * transaction: ledger.reverse, the original marked reversed, a `reversal` transaction row, both parties
 * notified, and the partner's webhook for a deposit.
 */

type Row = typeof transactions.$inferSelect;

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

/** Transactions an admin may reverse: simple two-party movements. Holds-based flows settle their own way. */
const REVERSIBLE: TransactionType[] = ["payment", "transfer", "deposit"];
/** Kinds with more accounts than this are totalled in the trial balance and listed by GET /admin/v1/ledger/accounts. */
const LISTED_ACCOUNTS_PER_KIND = 500;

const toAdmin = (r: Row): AdminTransaction => ({
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

/** A transaction as a partner sees it (its webhooks), from the settlement side; partners have no wallet balance. */
function partnerView(r: Row, status: TransactionStatus = r.status as TransactionStatus): TransactionDto {
  return transactionDto(r, { outgoing: r.payerType === "partner", balanceAfter: null, status });
}

/** A reversal's own wording for the one refusal people will meet; every other ledger error maps as usual. */
function reversalRefused(error: unknown): never {
  if (error instanceof LedgerError && error.code === "INSUFFICIENT_FUNDS")
    throw new AppError(
      "INSUFFICIENT_FUNDS",
      "The receiving wallet no longer holds enough to give the money back; nothing was reversed.",
    );
  throw error;
}

interface Contact {
  phone: string;
  name: string | null;
}

interface ReversalPrepared {
  payer: Contact | undefined;
  payee: Contact | undefined;
}

/** What admin search, the ledger read models and reversals are built from. */
export interface PaymentsAdminDeps extends Core {
  ledger: Ledger;
  identity: Identity;
  approvals: Approvals;
  notifications: Notifications;
  audit: Audit;
  webhooks: Webhooks;
  payments: Payments;
}

export function createPaymentsAdmin(deps: PaymentsAdminDeps) {
  const { db } = deps.database;

  async function contactOf(type: string, id: string): Promise<Contact | undefined> {
    if (type === "user") {
      const user = await deps.identity.users.get(id);
      return user ? { phone: user.phone, name: user.name } : undefined;
    }
    if (type === "vendor") {
      const vendor = await deps.identity.vendors.get(id);
      return vendor ? { phone: vendor.phone, name: vendor.name } : undefined;
    }
    return undefined;
  }

  async function row(id: string, tx: Executor = db): Promise<Row> {
    const [r] = await tx.select().from(transactions).where(eq(transactions.id, id));
    if (!r) throw new AppError("NOT_FOUND", "No such transaction.");
    return r;
  }

  // ------------------------------------------------------------------ search and detail

  async function search(filter: TransactionFilter): Promise<{ data: AdminTransaction[]; nextCursor: string | null }> {
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
    const rows = await db
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
  async function detail(id: string) {
    const r = await row(id);
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

  // ------------------------------------------------------------------ ledger

  /**
   * Every account's balance grouped by currency and kind, from one snapshot. Per currency the balances
   * sum to zero — what double entry promises; `balanced` says whether they do. Positive: the account
   * holds money (credit); negative: a debit balance, e.g. a partner's settlement after its deposits.
   */
  async function trialBalance() {
    return db.transaction(
      async (tx) => {
        const kinds = await queryRows<{ currency: string; kind: string; accounts: number; balance: string }>(
          tx,
          sql`select a.currency, a.kind, count(*)::int as accounts, coalesce(sum(s.balance), 0)::text as balance
                from ledger_accounts a
                join (select account_id, sum(balance) as balance from ledger_balances group by account_id) s
                  on s.account_id = a.id
               group by a.currency, a.kind order by a.currency, a.kind`,
        );
        const listed = kinds.filter((k) => k.accounts <= LISTED_ACCOUNTS_PER_KIND).map((k) => k.kind);
        const accounts = listed.length
          ? await queryRows<{
              id: string;
              code: string;
              kind: string;
              owner_type: string | null;
              owner_id: string | null;
              currency: string;
              balance: string;
            }>(
              tx,
              sql`select a.id, a.code, a.kind, a.owner_type, a.owner_id, a.currency, sum(b.balance)::text as balance
                    from ledger_accounts a join ledger_balances b on b.account_id = a.id
                   where a.kind in (${sql.join(
                     listed.map((k) => sql`${k}`),
                     sql`, `,
                   )})
                   group by a.id order by a.kind, a.code`,
            )
          : [];
        const [asOf] = await queryRows<{ now: string }>(tx, sql`select now()::text as now`);
        const currencies = [...new Set(kinds.map((k) => k.currency))].map((currency) => {
          const rows = kinds.filter((k) => k.currency === currency);
          let debits = 0n;
          let credits = 0n;
          for (const a of accounts.filter((x) => x.currency === currency)) {
            const b = BigInt(a.balance);
            if (b < 0n) debits -= b;
            else credits += b;
          }
          // Kinds too large to list count by their total (wallets never go negative).
          for (const k of rows.filter((x) => !listed.includes(x.kind))) {
            const b = BigInt(k.balance);
            if (b < 0n) debits -= b;
            else credits += b;
          }
          const net = rows.reduce((sum, k) => sum + BigInt(k.balance), 0n);
          return {
            currency,
            balanced: net === 0n,
            net: Number(net),
            debitTotal: Number(debits),
            creditTotal: Number(credits),
            kinds: rows.map((k) => ({
              kind: k.kind,
              accountCount: k.accounts,
              balance: Number(k.balance),
              accounts: listed.includes(k.kind)
                ? accounts
                    .filter((a) => a.kind === k.kind && a.currency === currency)
                    .map((a) => ({
                      id: a.id,
                      code: a.code,
                      ownerType: a.owner_type,
                      ownerId: a.owner_id,
                      balance: Number(a.balance),
                    }))
                : null,
            })),
          };
        });
        return {
          asOf: new Date(asOf!.now).toISOString(),
          balanced: currencies.every((c) => c.balanced),
          currencies,
        };
      },
      // One consistent snapshot: totals taken mid-flight would not sum to zero.
      { isolationLevel: "repeatable read", accessMode: "read only" },
    );
  }

  /** Every ledger account with its balance, newest first (the trial balance lists only the smaller kinds). */
  async function accounts(filter: {
    kind?: string | undefined;
    ownerId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }) {
    const where: SQL[] = [];
    if (filter.kind) where.push(sql`a.kind = ${filter.kind}`);
    if (filter.ownerId) where.push(sql`a.owner_id = ${filter.ownerId}`);
    if (filter.cursor) {
      const c = decodeCursor(filter.cursor);
      where.push(sql`(a.created_at, a.id) < (${c.at.toISOString()}::timestamptz, ${c.id})`);
    }
    const rows = await queryRows<any>(
      db,
      sql`select a.id, a.code, a.kind, a.owner_type, a.owner_id, a.currency, a.shard_count, a.created_at,
                 (select coalesce(sum(balance), 0)::text from ledger_balances b where b.account_id = a.id) as balance,
                 (select coalesce(sum(held), 0)::text from ledger_balances b where b.account_id = a.id) as held
            from ledger_accounts a
           ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
           order by a.created_at desc, a.id desc limit ${filter.limit + 1}`,
    );
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map((a) => ({
        id: a.id as string,
        code: a.code as string,
        kind: a.kind as string,
        ownerType: a.owner_type as string | null,
        ownerId: a.owner_id as string | null,
        currency: a.currency as string,
        shardCount: Number(a.shard_count),
        balance: Number(a.balance),
        held: Number(a.held),
        available: Number(a.balance) - Number(a.held),
        createdAt: new Date(a.created_at).toISOString(),
      })),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.created_at, last.id) : null,
    };
  }

  // ------------------------------------------------------------------ reversals (maker-checker)

  /** The maker's half: queues an approval of kind "reversal"; a different admin approves it. */
  async function requestReversal({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { transactionId: string; reason: string; adminId: string };
  }) {
    return serializable(
      db,
      async (tx) => {
        const r = await row(input.transactionId, tx);
        if (!REVERSIBLE.includes(r.type as TransactionType))
          throw new AppError("CONFLICT", `A ${r.type} cannot be reversed here.`, { type: r.type });
        if (r.status !== "completed")
          throw new AppError("CONFLICT", `Only a completed transaction can be reversed; this one is ${r.status}.`, {
            status: r.status,
          });
        const owner = r.payerType === "partner" ? r.payeeType : r.payerType;
        const approval = await deps.approvals
          .request(
            {
              kind: "reversal",
              subjectId: r.id,
              amount: r.amount,
              currency: r.currency,
              requestedBy: { type: "admin", id: input.adminId },
              owner: { type: owner, id: r.payerType === "partner" ? r.payeeId : r.payerId },
              summary: {
                type: r.type,
                reason: input.reason,
                fee: Number(r.fee),
                payer: { type: r.payerType, id: r.payerId, name: r.payerName },
                payee: { type: r.payeeType, id: r.payeeId, name: r.payeeName },
                createdAt: r.createdAt.toISOString(),
              },
            },
            tx,
          )
          .catch((error) => {
            if ((error?.cause?.code ?? error?.code) === "23505")
              throw new AppError("CONFLICT", "A reversal of this transaction is already waiting for approval.");
            throw error;
          });
        await deps.audit.record(
          {
            action: "transaction.reversal.request",
            actor: { type: "admin", id: input.adminId },
            target: { type: "transaction", id: r.id },
            details: { approvalId: approval.id, reason: input.reason, amount: Number(r.amount), type: r.type },
          },
          ctx,
          tx,
        );
        return approval;
      },
      { maxRetries: deps.config.serializableMaxRetries, logger: deps.logger, label: "reversal.request" },
    );
  }

  /** The checker's half, run by approvals inside the decision's transaction. */
  async function reverse(tx: Executor, ctx: DecisionContext<ReversalPrepared>) {
    const original = await row(ctx.approval.subjectId, tx);
    if (original.status !== "completed")
      throw new AppError("CONFLICT", `This transaction is ${original.status}; it cannot be reversed now.`);
    const reversalId = newId("txn");
    const reason = String(ctx.approval.summary.reason ?? "");
    const journal = await deps.ledger
      .reverse(
        {
          journalId: original.id,
          id: reversalId,
          metadata: { type: "reversal", approvalId: ctx.approval.id, reason },
        },
        tx,
      )
      .catch(reversalRefused);
    const at = journal.createdAt;
    await tx.update(transactions).set({ status: "reversed", updatedAt: at }).where(eq(transactions.id, original.id));
    const [reversal] = await tx
      .insert(transactions)
      .values({
        id: reversalId,
        type: "reversal",
        status: "completed",
        amount: original.amount,
        fee: original.fee,
        feeBearer: original.feeBearer,
        currency: original.currency,
        payerType: original.payeeType,
        payerId: original.payeeId,
        payerName: original.payeeName,
        payerAccount: original.payeeAccount,
        payeeType: original.payerType,
        payeeId: original.payerId,
        payeeName: original.payerName,
        payeeAccount: original.payerAccount,
        partnerId: original.partnerId,
        reference: `Reversal of ${original.id}`,
        reversalOf: original.id,
        metadata: { approvalId: ctx.approval.id, reason, requestedBy: ctx.approval.requestedBy.id },
        createdAt: at,
        updatedAt: at,
      })
      .returning();

    // What each wallet actually moved back, fee included, from the journal itself.
    const moved = (account: string) =>
      journal.entries.filter((e) => e.accountId === account).reduce((sum, e) => sum + e.amount, 0n);
    const label = original.type;
    const name = (party: Contact | undefined, fallback: string | null) =>
      party?.name ?? fallback ?? (party ? maskPhone(party.phone) : "Keshless");
    // The money came back, so the outflow no longer counts against the payer's limits.
    if (original.payerType === "user" && moved(original.payerAccount) > 0n)
      await deps.payments.refundOutflowAt(original.payerId, original.createdAt, moved(original.payerAccount), tx);
    const { payer, payee } = ctx.prepared;
    if (payer)
      await deps.notifications.enqueue(
        {
          to: payer.phone,
          kind: "reversal_credit",
          dedupeKey: `${reversalId}:payer`,
          body: `Keshless: ${formatAmount(moved(original.payerAccount))} returned to you: your ${label} to ${name(payee, original.payeeName)} (${original.id}) was reversed. Ref ${reversalId}.`,
        },
        tx,
      );
    if (payee)
      await deps.notifications.enqueue(
        {
          to: payee.phone,
          kind: "reversal_debit",
          dedupeKey: `${reversalId}:payee`,
          body: `Keshless: ${formatAmount(-moved(original.payeeAccount))} taken back: the ${label} from ${name(payer, original.payerName)} (${original.id}) was reversed. Ref ${reversalId}.`,
        },
        tx,
      );
    if (original.type === "deposit" && original.partnerId)
      await deps.webhooks.enqueue(
        {
          partnerId: original.partnerId,
          type: "deposit.reversed",
          dedupeKey: `${original.id}:deposit.reversed`,
          data: { transaction: partnerView(original, "reversed"), reversal: partnerView(reversal!) },
        },
        tx,
      );
    await deps.audit.record(
      {
        action: "transaction.reverse",
        actor: ctx.decidedBy,
        target: { type: "transaction", id: original.id },
        details: {
          reversalId,
          approvalId: ctx.approval.id,
          requestedBy: ctx.approval.requestedBy.id,
          amount: Number(original.amount),
          reason,
        },
      },
      ctx.meta,
      tx,
    );
  }

  const reversalKind = approvalKind<ReversalPrepared>({
    label: "Reversal",
    permission: "transactions:reverse",
    // Contacts are read before the decision's transaction: the embedded database has one connection.
    async prepare(approval) {
      const r = await row(approval.subjectId);
      const [payer, payee] = await Promise.all([contactOf(r.payerType, r.payerId), contactOf(r.payeeType, r.payeeId)]);
      return { payer, payee };
    },
    onApprove: reverse,
    // Nothing was held or moved for a reversal request: a rejection or expiry only closes it (audited by approvals).
    onReject: async () => {},
    onExpire: async () => {},
  });

  return { search, detail, trialBalance, accounts, requestReversal, approvalKinds: { reversal: reversalKind } };
}

export type PaymentsAdmin = ReturnType<typeof createPaymentsAdmin>;
