import { eq } from "drizzle-orm";
import type { Approvals } from "../approvals";
import { approvalKind, type DecisionContext } from "../approvals";
import type { Audit, RequestMeta } from "../audit";
import type { Core } from "../core";
import type { Executor } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import type { Identity } from "../identity";
import type { Ledger } from "../ledger";
import { LedgerError } from "../ledger";
import { newId } from "../lib/ids";
import { formatAmount } from "../lib/money";
import { maskPhone } from "../lib/phone";
import type { Notifications } from "../notifications";
import type { Webhooks } from "../webhooks";
import { type TransactionRow, transactionRow } from "./admin-search";
import { type TransactionDto, type TransactionStatus, type TransactionType, transactionDto } from "./dto";
import { transactions } from "./schema";
import type { Payments } from "./service";

/**
 * Reversals under maker-checker: one admin asks (an approval request of kind "reversal"), a different admin
 * approves through /admin/v1/approvals, and the reversal runs in that decision's transaction: ledger.reverse,
 * the original marked reversed, a `reversal` transaction row, both parties notified, and the partner's webhook
 * for a deposit.
 */

/** Transactions an admin may reverse: simple two-party movements. Holds-based flows settle their own way. */
const REVERSIBLE: TransactionType[] = ["payment", "transfer", "deposit"];

interface Contact {
  phone: string;
  name: string | null;
}

interface ReversalPrepared {
  payer: Contact | undefined;
  payee: Contact | undefined;
}

type RequestDeps = Pick<Core, "database" | "config" | "logger"> & { approvals: Approvals; audit: Audit };
interface ReverseDeps {
  ledger: Ledger;
  notifications: Notifications;
  webhooks: Webhooks;
  audit: Audit;
  payments: Payments;
}
export type ReversalDeps = RequestDeps & ReverseDeps & { identity: Identity };

/** A transaction as a partner sees it (its webhooks), from the settlement side; partners have no wallet balance. */
function partnerView(r: TransactionRow, status: TransactionStatus = r.status as TransactionStatus): TransactionDto {
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

async function contactOf(identity: Identity, type: string, id: string): Promise<Contact | undefined> {
  if (type === "user") {
    const user = await identity.users.get(id);
    return user ? { phone: user.phone, name: user.name } : undefined;
  }
  if (type === "vendor") {
    const vendor = await identity.vendors.get(id);
    return vendor ? { phone: vendor.phone, name: vendor.name } : undefined;
  }
  return undefined;
}

/** The maker's half: queues an approval of kind "reversal"; a different admin approves it. */
export function requestReversal(
  deps: RequestDeps,
  { ctx, input }: { ctx: RequestMeta; input: { transactionId: string; reason: string; adminId: string } },
) {
  return withTransaction(
    deps,
    async (tx) => {
      const r = await transactionRow(tx, input.transactionId);
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
    { label: "reversal.request" },
  );
}

/** The checker's half, run by approvals inside the decision's transaction. */
async function reverse(deps: ReverseDeps, tx: Executor, ctx: DecisionContext<ReversalPrepared>) {
  const original = await transactionRow(tx, ctx.approval.subjectId);
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

/** The "reversal" approval kind: what approvals runs when a reversal request is decided. */
export function reversalKind(deps: ReversalDeps) {
  return approvalKind<ReversalPrepared>({
    label: "Reversal",
    permission: "transactions:reverse",
    // Contacts are read before the decision's transaction: the embedded database has one connection.
    async prepare(approval) {
      const r = await transactionRow(deps.database.db, approval.subjectId);
      const [payer, payee] = await Promise.all([
        contactOf(deps.identity, r.payerType, r.payerId),
        contactOf(deps.identity, r.payeeType, r.payeeId),
      ]);
      return { payer, payee };
    },
    onApprove: (tx, ctx) => reverse(deps, tx, ctx),
    // Nothing was held or moved for a reversal request: a rejection or expiry only closes it (audited by approvals).
    onReject: async () => {},
    onExpire: async () => {},
  });
}
