import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "../db/client";
import { ItemError, sqlState } from "../db/pg-errors";
import { AppError } from "../http/errors";
import type { IdempotentRequest, Outcome } from "../http/idempotency";
import { newId } from "../lib/ids";
import { maskPhone } from "../lib/phone";
import type { PaymentsContext } from "./context";
import type { TransactionDto } from "./dto";
import type { Assumptions, Party, Plan } from "./types";

/**
 * Writing a plan: ONE call to payments_execute (drizzle/0008) does it all — usage limits, ledger journal,
 * max balances, the transaction row, the notifications and partner webhooks — either in the caller's
 * SERIALIZABLE transaction (commit) or, with the idempotency key, in a batch of concurrent ones written by one
 * autocommit statement (commitAlone: payments_execute_batch, drizzle/0021, gathered by src/db/group-commit.ts).
 */

function counterpartyOf(party: Party) {
  return { type: party.type, id: party.id, name: party.name ?? (party.phone ? maskPhone(party.phone) : null) };
}

/**
 * What payments_execute (drizzle/0008) writes for a plan: usage limits, ledger journal, max balances and
 * the transaction row (payments_commit), the outbox messages, partner webhook events, and the response
 * for the plan's viewer, whose createdAt and balanceAfter the database fills in.
 */
function statementOf(
  now: () => Date,
  plan: Plan,
  extra: { idempotency?: IdempotentRequest; assume?: Assumptions } = {},
) {
  const viewer = plan.viewer === "payer" ? plan.payer : plan.payee;
  const legs = plan.legs.map((l) => ({ account: l.accountId, amount: l.amount.toString() }));
  const body: Omit<TransactionDto, "createdAt" | "balanceAfter"> = {
    id: plan.transactionId,
    type: plan.type,
    status: "completed",
    amount: Number(plan.amount),
    currency: plan.currency,
    fee: Number(plan.fee),
    feeBearer: plan.feeBearer,
    direction: plan.viewer === "payer" ? "debit" : "credit",
    counterparty: counterpartyOf(plan.viewer === "payer" ? plan.payee : plan.payer),
    reference: plan.reference ?? null,
  };
  return {
    now: now().toISOString(),
    limits: plan.limits,
    maxBalances: plan.maxBalances,
    transfer: {
      id: plan.transactionId,
      kind: plan.type,
      request: { kind: plan.type, legs },
      metadata: { type: plan.type },
      legs,
    },
    transaction: {
      id: plan.transactionId,
      type: plan.type,
      status: "completed",
      amount: plan.amount.toString(),
      fee: plan.fee.toString(),
      fee_bearer: plan.feeBearer,
      currency: plan.currency,
      payer_type: plan.payer.type,
      payer_id: plan.payer.id,
      payer_name: plan.payer.name,
      payer_account: plan.payer.account,
      payee_type: plan.payee.type,
      payee_id: plan.payee.id,
      payee_name: plan.payee.name,
      payee_account: plan.payee.account,
      partner_id: plan.partnerId ?? null,
      reference: plan.reference ?? null,
      external_reference: plan.externalReference ?? null,
      metadata: plan.metadata ?? {},
    },
    body,
    // Only a single-shard wallet (a user's) has one balance right after an entry; a sharded one's is a sum.
    ...(viewer.type === "user" ? { balanceOf: viewer.account } : {}),
    // Whatever a partner pays (deposits) is held to its funding limit in the statement itself (drizzle/0012).
    ...(plan.payer.type === "partner" ? { funding: { partner: plan.payer.id, account: plan.payer.account } } : {}),
    notifications: plan.notifications.map((m) => ({ id: newId("ntf"), ...m })),
    webhooks: (plan.webhooks ?? []).map((w) => ({ id: newId("evt"), ...w })),
    ...extra,
  };
}

function refusedDeposit(plan: Plan) {
  return (error: unknown): never => {
    if (sqlState(error) === "23505" && plan.externalReference)
      throw new AppError("CONFLICT", "This externalReference was already deposited.", {
        externalReference: plan.externalReference,
      });
    throw error;
  };
}

/** Writes a plan inside the caller's transaction; returns the response for the plan's viewer. */
export async function commit(
  { now }: Pick<PaymentsContext, "now">,
  plan: Plan,
  tx: Executor,
): Promise<Outcome<TransactionDto, 201>> {
  if (plan.beforeCommit) await plan.beforeCommit(tx);
  const [row] = await queryRows<{ r: TransactionDto | string }>(
    tx,
    sql`select payments_execute(${JSON.stringify(statementOf(now, plan))}::jsonb) as r`,
  ).catch(refusedDeposit(plan));
  return { status: 201, body: typeof row!.r === "string" ? JSON.parse(row!.r) : row!.r };
}

/**
 * A plan with no beforeCommit, idempotency included, written in a batch of concurrent ones (the fast lane): the
 * new transaction, or (with a PIN assumed) the refusal of a wrong PIN it counted. KL010 when an assumption no
 * longer holds, KL009 when the key already has an answer — thrown as the item's own error.
 */
export async function commitAlone<T = TransactionDto>(
  { now, groupCommit }: Pick<PaymentsContext, "now" | "groupCommit">,
  plan: Plan,
  idempotency: IdempotentRequest,
  assume: Assumptions,
): Promise<T> {
  const answer = await groupCommit.submit(statementOf(now, plan, { idempotency, assume }));
  if ("ok" in answer) return answer.ok as T;
  const { code, message, constraint } = answer.error;
  return refusedDeposit(plan)(new ItemError(code, message, constraint ?? undefined));
}
