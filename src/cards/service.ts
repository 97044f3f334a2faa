import { and, desc, eq } from "drizzle-orm";
import type { Approvals } from "../approvals";
import { approvalKind, type DecisionContext } from "../approvals";
import type { Audit, RequestMeta } from "../audit";
import type { Core } from "../core";
import type { Executor } from "../db/client";
import { sqlConstraint, sqlState } from "../db/pg-errors";
import { AppError } from "../http/errors";
import type { Outcome } from "../http/idempotency";
import type { Identity } from "../identity";
import type { Ledger } from "../ledger";
import { newId } from "../lib/ids";
import { formatAmount } from "../lib/money";
import { maskPhone } from "../lib/phone";
import type { Notifications } from "../notifications";
import type { OutflowCharge, Payments, TransactionDto } from "../payments";
import { holdIdFor, insertPendingTransaction, ownerContact, settleTransaction, transactionView } from "../payments";
import { cardRequests } from "./schema";

/**
 * Keshless tap-card requests. The card fee (KESHLESS_CARD_FEE) is held on the user's wallet while an
 * admin reviews the request; approval takes it (to the card-fees account), rejection or expiry releases
 * it. One open request per user: a second tap cannot hold the fee twice.
 */

export interface CardRequestView {
  id: string;
  status: "pending" | "approved" | "rejected" | "expired";
  fee: number;
  currency: string;
  nameOnCard: string | null;
  deliveryAddress: string | null;
  reason: string | null;
  approvalId: string | null;
  createdAt: string;
  resolvedAt: string | null;
  transaction: TransactionDto | null;
}

export interface CardPlan {
  id: string;
  transactionId: string | null;
  user: { id: string; name: string | null; phone: string; kycTier: number };
  accountId: string;
  fee: bigint;
  feeAccount: string | null;
  nameOnCard: string | null;
  deliveryAddress: string | null;
}

type Row = typeof cardRequests.$inferSelect;

/** What card requests are built from: the core and the peers the cards module names. */
export interface CardsDeps extends Core {
  ledger: Ledger;
  payments: Payments;
  identity: Identity;
  approvals: Approvals;
  notifications: Notifications;
  audit: Audit;
}

export function createCards(deps: CardsDeps) {
  const { config, ledger, payments, identity, approvals, notifications, audit } = deps;
  const { db } = deps.database;

  async function plan(input: {
    userId: string;
    nameOnCard?: string | undefined;
    deliveryAddress?: string | undefined;
  }): Promise<CardPlan> {
    const user = await identity.users.get(input.userId);
    if (!user) throw new AppError("UNAUTHENTICATED", "Unknown user.");
    if (user.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This account cannot move money right now.");
    const fee = BigInt(config.cards.fee);
    const [accountId, feeAccount] = await Promise.all([
      payments.walletOf("user_wallet", user.id),
      fee > 0n ? ledger.systemAccount("card_fees", "SZL") : undefined,
    ]);
    return {
      id: newId("crd"),
      transactionId: fee > 0n ? newId("txn") : null,
      user: { id: user.id, name: user.name, phone: user.phone, kycTier: user.kycTier },
      accountId,
      fee,
      feeAccount: feeAccount?.id ?? null,
      nameOnCard: input.nameOnCard?.trim() || user.name,
      deliveryAddress: input.deliveryAddress?.trim() || null,
    };
  }

  function toView(r: Row, transaction: TransactionDto | null): CardRequestView {
    return {
      id: r.id,
      status: r.status as CardRequestView["status"],
      fee: Number(r.fee),
      currency: r.currency,
      nameOnCard: r.nameOnCard,
      deliveryAddress: r.deliveryAddress,
      reason: r.reason,
      approvalId: r.approvalId,
      createdAt: r.createdAt.toISOString(),
      resolvedAt: r.resolvedAt?.toISOString() ?? null,
      transaction,
    };
  }

  /** Holds the fee and queues the approval, in the caller's idempotent transaction. 202: it waits for an admin. */
  async function commit(p: CardPlan, tx: Executor, meta: RequestMeta = {}): Promise<Outcome<CardRequestView, 202>> {
    const now = deps.now();
    // The request row first: a second open request is refused (409) before any money is held.
    const [row] = await tx
      .insert(cardRequests)
      .values({
        id: p.id,
        userId: p.user.id,
        accountId: p.accountId,
        transactionId: p.transactionId,
        holdId: p.transactionId ? holdIdFor(p.transactionId) : null,
        fee: p.fee,
        currency: "SZL",
        nameOnCard: p.nameOnCard,
        deliveryAddress: p.deliveryAddress,
        status: "pending",
        feeAccount: p.feeAccount,
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .catch((error) => {
        if (sqlState(error) === "23505" && sqlConstraint(error) === "card_requests_one_pending_idx")
          throw new AppError("CONFLICT", "You already have a card request waiting for review.", {
            reason: "CARD_REQUEST_PENDING",
          });
        throw error;
      });
    if (p.transactionId && p.feeAccount) {
      const limitCharges = await payments.chargeOutflow({ id: p.user.id, kycTier: p.user.kycTier }, p.fee, tx);
      await ledger.hold(
        {
          id: holdIdFor(p.transactionId),
          accountId: p.accountId,
          amount: p.fee,
          metadata: { type: "card", cardRequestId: p.id },
        },
        tx,
      );
      await insertPendingTransaction(tx, {
        id: p.transactionId,
        type: "card",
        amount: p.fee,
        fee: 0n,
        feeBearer: "sender",
        currency: "SZL",
        payer: { type: "user", id: p.user.id, name: p.user.name, account: p.accountId },
        payee: { id: "card_fees", name: "Keshless tap card", account: p.feeAccount },
        holdId: holdIdFor(p.transactionId),
        reference: p.id,
        metadata: { cardRequestId: p.id },
        createdAt: now,
      });
      await tx.update(cardRequests).set({ limitCharges }).where(eq(cardRequests.id, p.id));
    }
    const approval = await approvals.request(
      {
        kind: "card",
        subjectId: p.id,
        amount: p.fee,
        currency: "SZL",
        requestedBy: { type: "user", id: p.user.id },
        owner: { type: "user", id: p.user.id },
        summary: {
          owner: { type: "user", id: p.user.id, name: p.user.name, phone: maskPhone(p.user.phone) },
          nameOnCard: p.nameOnCard,
          deliveryAddress: p.deliveryAddress,
          transactionId: p.transactionId,
        },
      },
      tx,
    );
    const [updated] = await tx
      .update(cardRequests)
      .set({ approvalId: approval.id })
      .where(eq(cardRequests.id, row!.id))
      .returning();
    await notifications.enqueue(
      {
        to: p.user.phone,
        kind: "card_requested",
        dedupeKey: `${p.id}:requested`,
        body: `Keshless: we received your card request${p.fee ? `; the fee of ${formatAmount(p.fee)} is reserved until it is reviewed` : ""}. Ref ${p.id}.`,
      },
      tx,
    );
    await audit.record(
      {
        action: "card.requested",
        actor: { type: "user", id: p.user.id },
        target: { type: "card_request", id: p.id },
        details: { fee: Number(p.fee) },
      },
      meta,
      tx,
    );
    return {
      status: 202,
      body: toView(updated!, p.transactionId ? await transactionView(tx, p.transactionId) : null),
    };
  }

  async function locked(tx: Executor, id: string): Promise<Row> {
    const [row] = await tx.select().from(cardRequests).where(eq(cardRequests.id, id)).for("update");
    if (!row) throw new AppError("NOT_FOUND", `Card request ${id} does not exist.`);
    if (row.status !== "pending")
      throw new AppError("CONFLICT", `Card request ${id} is already ${row.status}.`, { status: row.status });
    return row;
  }

  async function notify(tx: Executor, r: Row, kind: string, body: string) {
    const contact = await ownerContact(tx, { type: "user", id: r.userId });
    if (contact) await notifications.enqueue({ to: contact.phone, body, kind, dedupeKey: `${r.id}:${kind}` }, tx);
  }

  async function close(tx: Executor, ctx: DecisionContext, outcome: "approved" | "rejected" | "expired") {
    const r = await locked(tx, ctx.approval.subjectId);
    if (r.holdId && r.transactionId) {
      if (outcome === "approved")
        await ledger.postHold(
          {
            holdId: r.holdId,
            id: r.transactionId,
            kind: "card",
            legs: [{ accountId: r.feeAccount!, amount: r.fee }],
            metadata: { type: "card", cardRequestId: r.id },
          },
          tx,
        );
      else if (outcome === "rejected") await ledger.voidHold(r.holdId, tx);
      else await ledger.expireHold(r.holdId, tx);
      await settleTransaction(tx, r.transactionId, outcome === "approved" ? "completed" : "failed", ctx.now);
      if (outcome !== "approved") await payments.refundOutflow(r.userId, r.limitCharges as OutflowCharge[], tx);
    }
    await tx
      .update(cardRequests)
      .set({
        status: outcome,
        reason: outcome === "approved" ? null : ctx.reason,
        resolvedAt: ctx.now,
        updatedAt: ctx.now,
      })
      .where(eq(cardRequests.id, r.id));
    const released = r.fee > 0n ? " The reserved fee is available again." : "";
    const body =
      outcome === "approved"
        ? `Keshless: your card request was approved${r.fee > 0n ? ` and the fee of ${formatAmount(r.fee)} paid` : ""}. We will tell you when the card is ready. Ref ${r.id}.`
        : outcome === "rejected"
          ? `Keshless: your card request was declined: ${ctx.reason}.${released} Ref ${r.id}.`
          : `Keshless: your card request was not reviewed in time and has been cancelled.${released} Ref ${r.id}.`;
    await notify(tx, r, `card_${outcome}`, body);
  }

  const cardKind = approvalKind({
    label: "Card request",
    onApprove: (tx, ctx) => close(tx, ctx, "approved"),
    onReject: (tx, ctx) => close(tx, ctx, "rejected"),
    onExpire: (tx, ctx) => close(tx, ctx, "expired"),
  });

  async function get(id: string, userId: string): Promise<CardRequestView> {
    const [r] = await db
      .select()
      .from(cardRequests)
      .where(and(eq(cardRequests.id, id), eq(cardRequests.userId, userId)));
    if (!r) throw new AppError("NOT_FOUND", "No such card request.");
    return toView(r, r.transactionId ? await transactionView(db, r.transactionId) : null);
  }

  async function list(userId: string): Promise<{ data: CardRequestView[] }> {
    const rows = await db
      .select()
      .from(cardRequests)
      .where(eq(cardRequests.userId, userId))
      .orderBy(desc(cardRequests.createdAt))
      .limit(20);
    return {
      data: await Promise.all(
        rows.map(async (r) => toView(r, r.transactionId ? await transactionView(db, r.transactionId) : null)),
      ),
    };
  }

  return { plan, commit, get, list, approvalKinds: { card: cardKind } };
}

export type Cards = ReturnType<typeof createCards>;
