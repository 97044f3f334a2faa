import { eq } from "drizzle-orm";
import type { Approvals } from "../approvals";
import { approvalKind, type DecisionContext } from "../approvals";
import type { Audit, RequestMeta } from "../audit";
import type { Core } from "../core";
import type { Executor } from "../db/client";
import { AppError } from "../http/errors";
import type { Outcome } from "../http/idempotency";
import type { Identity } from "../identity";
import type { Ledger } from "../ledger";
import { computeFee } from "../ledger";
import { newId } from "../lib/ids";
import { assertAmount, formatAmount } from "../lib/money";
import { maskPhone } from "../lib/phone";
import type { Notifications } from "../notifications";
import type { OutflowCharge, Payments, TransactionDto } from "../payments";
import { holdIdFor, insertPendingTransaction, ownerContact, settleTransaction, transactionView } from "../payments";
import { withdrawals } from "./schema";

/**
 * Withdrawals of users and vendors to a bank account or an agent (cash-out).
 *
 * amount + fee is held on the wallet inside the request's idempotent transaction. Up to
 * KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX the hold is posted at once (to withdrawal clearing, the fee to
 * fee revenue) and the answer is 201 completed; above it an approval request is queued for a finance
 * admin (two different admins from KESHLESS_WITHDRAWAL_DUAL_APPROVAL_MIN) and the answer is 202 pending.
 * Approve posts the hold, reject voids it, expiry expires it — in the decision's transaction — and the
 * owner is told each time. Users' withdrawals count against their KYC outflow limits (given back when
 * the money never leaves); vendors have no KYC tier.
 *
 * Vendors have no PIN. A vendor confirms a withdrawal with their account password (argon2id, as at
 * sign-in): the bearer token alone proves a trusted device, not that its holder may empty the wallet.
 */

export type Destination =
  | { type: "bank"; bankCode: string; accountNumber: string; accountName: string }
  | { type: "agent"; agentCode: string };

export type OwnerType = "user" | "vendor";

export interface WithdrawalPlan {
  id: string;
  holdId: string;
  owner: { type: OwnerType; id: string; name: string | null; phone: string; kycTier: number | null };
  accountId: string;
  amount: bigint;
  fee: bigint;
  feeBearer: "sender" | "receiver";
  /** Held and, when posted, taken from the wallet. */
  debit: bigint;
  /** What reaches withdrawal clearing. */
  credit: bigint;
  destination: Destination;
  label: string;
  clearingAccount: string;
  feeAccount: string | null;
  automatic: boolean;
  requiredApprovals: number;
}

export interface WithdrawalView {
  id: string;
  status: "pending" | "completed" | "rejected" | "expired";
  amount: number;
  fee: number;
  currency: string;
  destination: Destination;
  reason: string | null;
  approvalId: string | null;
  createdAt: string;
  resolvedAt: string | null;
  transaction: TransactionDto;
}

type Row = typeof withdrawals.$inferSelect;

/** Bank destinations as people read them: "FNB ••••4321". */
export function destinationLabel(destination: Destination): string {
  if (destination.type === "agent") return `Agent ${destination.agentCode}`;
  return `${destination.bankCode} ••••${destination.accountNumber.slice(-4)}`;
}

/** What withdrawals are built from: the core and the peers the withdrawals module names. */
export interface WithdrawalsDeps extends Core {
  ledger: Ledger;
  payments: Payments;
  identity: Identity;
  approvals: Approvals;
  notifications: Notifications;
  audit: Audit;
}

export function createWithdrawals(deps: WithdrawalsDeps) {
  const { config, ledger, payments, identity, approvals, notifications, audit } = deps;
  const { db } = deps.database;

  /** Normalises and checks a destination; a bad one is a 400 naming the field. */
  function validDestination(input: Destination): Destination {
    const bad = (path: string, message: string) =>
      new AppError("VALIDATION_FAILED", `The destination is not valid: ${message}.`, [
        { path: `destination.${path}`, message },
      ]);
    if (input.type === "bank") {
      const bankCode = input.bankCode.trim().toUpperCase();
      if (!config.withdrawals.banks[bankCode])
        throw bad("bankCode", `unknown bank code; one of ${Object.keys(config.withdrawals.banks).join(", ")}`);
      const accountNumber = input.accountNumber.replace(/[\s-]/g, "");
      if (!/^\d{6,20}$/.test(accountNumber)) throw bad("accountNumber", "6 to 20 digits");
      const accountName = input.accountName.trim().replace(/\s+/g, " ");
      if (accountName.length < 2 || accountName.length > 100) throw bad("accountName", "2 to 100 characters");
      return { type: "bank", bankCode, accountNumber, accountName };
    }
    const agentCode = input.agentCode.trim().toUpperCase();
    if (!/^[A-Z0-9]{3,12}$/.test(agentCode)) throw bad("agentCode", "3 to 12 letters or digits");
    return { type: "agent", agentCode };
  }

  /** A vendor's step-up confirmation: their password, rate-limited per vendor, failures audited. */
  async function confirmVendor(vendorId: string, password: string, meta: RequestMeta) {
    await deps.rateLimiter.enforce(
      [
        {
          key: `vendor-withdrawal:${vendorId}`,
          limit: config.withdrawals.vendorPasswordAttempts,
          periodSeconds: 900,
        },
      ],
      deps.now(),
      "Too many withdrawal attempts; try again later.",
    );
    if (await identity.vendors.passwordMatches(vendorId, password)) return;
    await audit.record(
      {
        action: "vendor.withdrawal.refused",
        target: { type: "vendor", id: vendorId },
        details: { reason: "wrong_password" },
      },
      meta,
    );
    // 403, not 401: the session is fine (apps read 401 as "sign in again"); this one confirmation failed.
    throw new AppError("FORBIDDEN", "The password is wrong.", { reason: "WRONG_PASSWORD" });
  }

  /** Everything readable before money moves: owner, wallet, fee, accounts, and whether it needs approval. */
  async function plan(input: {
    owner: { type: OwnerType; id: string };
    amount: number;
    currency: string;
    destination: Destination;
  }): Promise<WithdrawalPlan> {
    assertAmount(input.amount, input.currency, config.maxAmount);
    const destination = validDestination(input.destination);
    let owner: WithdrawalPlan["owner"];
    if (input.owner.type === "user") {
      const user = await identity.users.get(input.owner.id);
      if (!user) throw new AppError("UNAUTHENTICATED", "Unknown user.");
      if (user.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This account cannot move money right now.");
      owner = { type: "user", id: user.id, name: user.name, phone: user.phone, kycTier: user.kycTier };
    } else {
      const vendor = await identity.vendors.get(input.owner.id);
      if (!vendor) throw new AppError("UNAUTHENTICATED", "Unknown vendor.");
      if (vendor.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This account cannot move money right now.");
      owner = { type: "vendor", id: vendor.id, name: vendor.name, phone: vendor.phone, kycTier: null };
    }
    const amount = BigInt(input.amount);
    const { fee, bearer } = computeFee(config.fees, "withdrawal", amount);
    const debit = bearer === "sender" ? amount + fee : amount;
    const credit = bearer === "receiver" ? amount - fee : amount;
    // A fee larger than the money withdrawn is never what anyone meant (E5 to take out E1): the smallest
    // withdrawal is its own fee.
    if (fee > amount || credit <= 0n)
      throw new AppError("VALIDATION_FAILED", `The smallest withdrawal is the fee, ${formatAmount(fee)}.`, [
        { path: "amount", message: `at least the withdrawal fee (${fee} cents)` },
      ]);
    const [accountId, clearing, feeAccount] = await Promise.all([
      payments.walletOf(owner.type === "user" ? "user_wallet" : "vendor_wallet", owner.id),
      ledger.systemAccount("withdrawal_clearing", "SZL"),
      fee > 0n ? ledger.systemAccount("fee_revenue", "SZL") : undefined,
    ]);
    const id = newId("txn");
    return {
      id,
      holdId: holdIdFor(id),
      owner,
      accountId,
      amount,
      fee,
      feeBearer: bearer,
      debit,
      credit,
      destination,
      label: destinationLabel(destination),
      clearingAccount: clearing.id,
      feeAccount: feeAccount?.id ?? null,
      automatic: amount <= BigInt(config.withdrawals.autoApproveMax),
      requiredApprovals: amount >= BigInt(config.withdrawals.dualApprovalMin) ? 2 : 1,
    };
  }

  async function post(tx: Executor, w: Row) {
    const legs = [{ accountId: w.clearingAccount, amount: w.feeBearer === "receiver" ? w.amount - w.fee : w.amount }];
    if (w.fee > 0n && w.feeAccount) legs.push({ accountId: w.feeAccount, amount: w.fee });
    await ledger.postHold(
      { holdId: w.holdId, id: w.id, kind: "withdrawal", legs, metadata: { type: "withdrawal" } },
      tx,
    );
  }

  /**
   * `phone`: the owner's, when the caller's plan has just read it — a request's own commit. Read again in the
   * transaction, it was one more SERIALIZABLE read where the mixed day's withdrawals were aborted as pivots.
   */
  async function notify(tx: Executor, w: Row, kind: string, body: string, phone?: string) {
    const to = phone ?? (await ownerContact(tx, { type: w.ownerType, id: w.ownerId }))?.phone;
    if (to) await notifications.enqueue({ to, body, kind, dedupeKey: `${w.id}:${kind}` }, tx);
  }

  /**
   * Writes the plan in the caller's (idempotent) transaction: limits, hold, transaction row, withdrawal
   * row, then either the posting or the approval request. 201 when completed, 202 when it waits.
   */
  async function commit(
    p: WithdrawalPlan,
    tx: Executor,
    meta: RequestMeta = {},
  ): Promise<Outcome<TransactionDto, 201 | 202>> {
    const now = deps.now();
    const limitCharges: OutflowCharge[] =
      p.owner.type === "user" && p.owner.kycTier !== null
        ? await payments.chargeOutflow({ id: p.owner.id, kycTier: p.owner.kycTier }, p.debit, tx)
        : [];
    await ledger.hold(
      { id: p.holdId, accountId: p.accountId, amount: p.debit, metadata: { type: "withdrawal", withdrawalId: p.id } },
      tx,
    );
    await insertPendingTransaction(tx, {
      id: p.id,
      type: "withdrawal",
      amount: p.amount,
      fee: p.fee,
      feeBearer: p.feeBearer,
      currency: "SZL",
      payer: { type: p.owner.type, id: p.owner.id, name: p.owner.name, account: p.accountId },
      payee: { id: "withdrawal_clearing", name: p.label, account: p.clearingAccount },
      holdId: p.holdId,
      reference: null,
      metadata: { destination: p.destination },
      createdAt: now,
    });
    const [row] = await tx
      .insert(withdrawals)
      .values({
        id: p.id,
        ownerType: p.owner.type,
        ownerId: p.owner.id,
        accountId: p.accountId,
        amount: p.amount,
        fee: p.fee,
        feeBearer: p.feeBearer,
        currency: "SZL",
        destination: p.destination,
        status: "pending",
        holdId: p.holdId,
        clearingAccount: p.clearingAccount,
        feeAccount: p.feeAccount,
        limitCharges,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    const w = row!;
    const total = formatAmount(p.debit);
    if (p.automatic) {
      await post(tx, w);
      await tx
        .update(withdrawals)
        .set({ status: "completed", resolvedAt: now, updatedAt: now })
        .where(eq(withdrawals.id, p.id));
      await settleTransaction(tx, p.id, "completed", now);
      await notify(
        tx,
        w,
        "withdrawal_completed",
        `Keshless: your withdrawal of ${formatAmount(p.amount)} to ${p.label} is on its way${p.fee ? ` (fee ${formatAmount(p.fee)})` : ""}. Ref ${p.id}.`,
        p.owner.phone,
      );
    } else {
      const approval = await approvals.request(
        {
          kind: "withdrawal",
          subjectId: p.id,
          amount: p.amount,
          currency: "SZL",
          requestedBy: { type: p.owner.type, id: p.owner.id },
          owner: { type: p.owner.type, id: p.owner.id },
          requiredApprovals: p.requiredApprovals,
          summary: {
            owner: { type: p.owner.type, id: p.owner.id, name: p.owner.name, phone: maskPhone(p.owner.phone) },
            destination: p.destination,
            fee: Number(p.fee),
            held: Number(p.debit),
          },
        },
        tx,
      );
      await tx.update(withdrawals).set({ approvalId: approval.id }).where(eq(withdrawals.id, p.id));
      await notify(
        tx,
        w,
        "withdrawal_pending",
        `Keshless: your withdrawal of ${formatAmount(p.amount)} to ${p.label} is being reviewed. ${total} is reserved meanwhile. Ref ${p.id}.`,
        p.owner.phone,
      );
    }
    await audit.record(
      {
        action: p.automatic ? "withdrawal.completed" : "withdrawal.requested",
        actor: { type: p.owner.type, id: p.owner.id },
        target: { type: "transaction", id: p.id },
        details: { amount: Number(p.amount), fee: Number(p.fee), destination: p.label },
      },
      meta,
      tx,
    );
    return { status: p.automatic ? 201 : 202, body: await transactionView(tx, p.id) };
  }

  async function lockedWithdrawal(tx: Executor, id: string): Promise<Row> {
    const [row] = await tx.select().from(withdrawals).where(eq(withdrawals.id, id)).for("update");
    if (!row) throw new AppError("NOT_FOUND", `Withdrawal ${id} does not exist.`);
    if (row.status !== "pending")
      throw new AppError("CONFLICT", `Withdrawal ${id} is already ${row.status}.`, { status: row.status });
    return row;
  }

  /** Voids (rejected) or expires (no decision in time) the hold and gives back the limits. */
  async function release(tx: Executor, ctx: DecisionContext, outcome: "rejected" | "expired") {
    const w = await lockedWithdrawal(tx, ctx.approval.subjectId);
    if (outcome === "rejected") await ledger.voidHold(w.holdId, tx);
    else await ledger.expireHold(w.holdId, tx);
    await tx
      .update(withdrawals)
      .set({ status: outcome, reason: ctx.reason, resolvedAt: ctx.now, updatedAt: ctx.now })
      .where(eq(withdrawals.id, w.id));
    await settleTransaction(tx, w.id, "failed", ctx.now);
    if (w.ownerType === "user") await payments.refundOutflow(w.ownerId, w.limitCharges as OutflowCharge[], tx);
    const label = destinationLabel(w.destination as Destination);
    await notify(
      tx,
      w,
      `withdrawal_${outcome}`,
      outcome === "rejected"
        ? `Keshless: your withdrawal of ${formatAmount(w.amount)} to ${label} was declined: ${ctx.reason}. The reserved money is available again. Ref ${w.id}.`
        : `Keshless: your withdrawal of ${formatAmount(w.amount)} to ${label} was not reviewed in time and has been cancelled. The reserved money is available again. Ref ${w.id}.`,
    );
  }

  const withdrawalKind = approvalKind({
    label: "Withdrawal",
    permission: "withdrawals:approve",
    async onApprove(tx, ctx) {
      const w = await lockedWithdrawal(tx, ctx.approval.subjectId);
      await post(tx, w);
      await tx
        .update(withdrawals)
        .set({ status: "completed", resolvedAt: ctx.now, updatedAt: ctx.now })
        .where(eq(withdrawals.id, w.id));
      await settleTransaction(tx, w.id, "completed", ctx.now);
      await notify(
        tx,
        w,
        "withdrawal_completed",
        `Keshless: your withdrawal of ${formatAmount(w.amount)} to ${destinationLabel(w.destination as Destination)} was approved and is on its way. Ref ${w.id}.`,
      );
    },
    onReject: (tx, ctx) => release(tx, ctx, "rejected"),
    onExpire: (tx, ctx) => release(tx, ctx, "expired"),
  });

  /** One of the owner's withdrawals; anyone else's is 404. */
  async function view(id: string, owner: { type: OwnerType; id: string }): Promise<WithdrawalView> {
    const [w] = await db.select().from(withdrawals).where(eq(withdrawals.id, id));
    if (!w || w.ownerType !== owner.type || w.ownerId !== owner.id)
      throw new AppError("NOT_FOUND", "No such withdrawal.");
    return {
      id: w.id,
      status: w.status as WithdrawalView["status"],
      amount: Number(w.amount),
      fee: Number(w.fee),
      currency: w.currency,
      destination: w.destination as Destination,
      reason: w.reason,
      approvalId: w.approvalId,
      createdAt: w.createdAt.toISOString(),
      resolvedAt: w.resolvedAt?.toISOString() ?? null,
      transaction: await transactionView(db, w.id),
    };
  }

  return { plan, commit, confirmVendor, view, validDestination, approvalKinds: { withdrawal: withdrawalKind } };
}

export type Withdrawals = ReturnType<typeof createWithdrawals>;
