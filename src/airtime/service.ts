import { and, asc, desc, eq, inArray, lte, type SQL, sql } from "drizzle-orm";
import type { Audit } from "../audit";
import type { AirtimeOperator, Config } from "../config";
import type { Core } from "../core";
import type { Executor } from "../db/client";
import { retrySerializable } from "../db/serializable";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import type { Outcome } from "../http/idempotency";
import { after, encodeCursor } from "../http/pagination";
import type { Identity } from "../identity";
import { createErs360Client, type Ers360Client, type Ers360Reply } from "../integrations/ers360";
import { createErs360Simulator, type Ers360Simulator } from "../integrations/ers360-simulator";
import type { Ledger } from "../ledger";
import { computeFee } from "../ledger";
import { newId } from "../lib/ids";
import { assertAmount, formatAmount } from "../lib/money";
import { maskPhone, normalizePhone, operatorOf } from "../lib/phone";
import type { Notifications } from "../notifications";
import type { OutflowCharge, Payments, TransactionDto } from "../payments";
import { holdIdFor, insertPendingTransaction, ownerContact, settleTransaction, transactionView } from "../payments";
import { airtimeAttempts, airtimeOrders } from "./schema";

/**
 * Airtime over the operators' ERS360.
 *
 * POST /v1/airtime holds amount + fee and saves the order with its first attempt (a fresh
 * clientReference) in one idempotent transaction, answers 202 pending, and then sends the top-up.
 * The attempt is claimed (queued → sending, committed) before the request leaves, so two workers never
 * send the same attempt, and a crash mid-call leaves an attempt we know to ask about.
 * - resultCode 0 → post the hold to the operator's airtime clearing (fee to fee revenue): completed;
 * - a definitive rejection → void the hold and give back the limits: failed, refunded in full;
 *   104 (our reseller account is out of credit) also alerts operations;
 * - timeout, 93, 105, a transport error, HTTP 5xx, malformed XML → unknown: the reconciler asks
 *   getTransactionStatus about that clientReference until it settles. Only when the operator says it
 *   never saw the reference (933, after a grace period) is a new attempt made, with a new reference —
 *   so nobody is topped up twice, and nobody is charged without airtime.
 */

export const OPERATOR_NAMES: Record<AirtimeOperator, string> = { mtn: "MTN", eswatini_mobile: "Eswatini Mobile" };

export interface AirtimePlan {
  id: string;
  user: { id: string; name: string | null; phone: string; kycTier: number };
  accountId: string;
  msisdn: string;
  operator: AirtimeOperator;
  amount: bigint;
  fee: bigint;
  feeBearer: "sender" | "receiver";
  debit: bigint;
  credit: bigint;
  clearingAccount: string;
  feeAccount: string | null;
}

export type AttemptStatus = "queued" | "sending" | "succeeded" | "rejected" | "unknown" | "not_found";

export interface AttemptView {
  clientReference: string;
  attempt: number;
  status: AttemptStatus;
  resultCode: number | null;
  resultDescription: string | null;
  ersReference: string | null;
  checks: number;
  sentAt: string | null;
  respondedAt: string | null;
}

export interface OrderView {
  id: string;
  userId: string;
  msisdn: string;
  operator: AirtimeOperator;
  amount: number;
  fee: number;
  currency: string;
  status: "pending" | "completed" | "failed";
  ersReference: string | null;
  resultCode: number | null;
  resultDescription: string | null;
  alerted: boolean;
  nextCheckAt: string | null;
  createdAt: string;
  resolvedAt: string | null;
  attempts: AttemptView[];
}

export interface ReconcileSummary {
  due: number;
  completed: number;
  refunded: number;
  retried: number;
  dispatched: number;
  stillPending: number;
  /** Due but left for the next run: the run's time budget was spent (an operator answering slowly). */
  deferred: number;
  failed: number;
  errors: { orderId: string; error: string }[];
}

/** Orders asked about at once, and the wall-clock budget of one run (a scheduler's request must end). */
const RECONCILE_CONCURRENCY = 4;
const RECONCILE_BUDGET_MS = 120_000;

type Order = typeof airtimeOrders.$inferSelect;
type Attempt = typeof airtimeAttempts.$inferSelect;
type Settled = "completed" | "refunded" | "pending" | "retried" | "dispatched";

/** The clients per operator: configured ones, else (development) in-process simulators. */
export function buildErs360Clients(config: Pick<Config, "ers360" | "simulators">) {
  const clients: Partial<Record<AirtimeOperator, Ers360Client>> = {};
  const simulators: Partial<Record<AirtimeOperator, Ers360Simulator>> = {};
  const common = {
    timeoutMs: config.ers360.timeoutMs,
    clientId: config.ers360.clientId,
    channel: config.ers360.channel,
    currency: config.ers360.currency,
    resultCodes: config.ers360.resultCodes,
  };
  for (const operator of ["mtn", "eswatini_mobile"] as const) {
    const o = config.ers360.operators[operator];
    const url = o.proxyUrl ?? o.url;
    if (url && o.resellerId && o.password) {
      const headers: Record<string, string> =
        o.proxyUrl && config.ers360.proxySecret ? { "x-internal-secret": config.ers360.proxySecret } : {};
      clients[operator] = createErs360Client({
        ...common,
        url,
        resellerId: o.resellerId,
        userId: o.userId,
        password: o.password,
        headers,
      });
    } else if (config.simulators) {
      const simulator = createErs360Simulator({ magic: true, name: `${OPERATOR_NAMES[operator]} simulator` });
      simulators[operator] = simulator;
      clients[operator] = createErs360Client(
        {
          ...common,
          url: `http://ers360-${operator}.simulator/topupservice/service`,
          resellerId: "KESHLESS_SIM",
          userId: undefined,
          password: "simulator",
        },
        simulator.fetch,
      );
    }
  }
  return { clients, simulators };
}

/** Seconds to wait before asking again about an unknown outcome: 15 s doubling to 15 min. */
const recheckSeconds = (checks: number) => Math.min(900, 15 * 2 ** Math.min(checks, 6));

/** What airtime is built from: the core and the peers the airtime module names. */
export interface AirtimeDeps extends Core {
  ledger: Ledger;
  payments: Payments;
  identity: Identity;
  notifications: Notifications;
  audit: Audit;
}

export function createAirtime(deps: AirtimeDeps, built = buildErs360Clients(deps.config)) {
  const { config, ledger, payments, identity, notifications, audit } = deps;
  const { db } = deps.database;
  const log = deps.logger.child({ component: "airtime" });
  const { clients, simulators } = built;
  const inFlight = new Set<Promise<unknown>>();
  const retry = (label: string) => ({ maxRetries: config.serializableMaxRetries, logger: log, label });
  /** How long a sent attempt may take before we stop waiting for its answer and ask about it. */
  const inFlightMs = () => config.ers360.timeoutMs + 5_000;

  async function plan(input: {
    userId: string;
    msisdn: string;
    amount: number;
    currency: string;
  }): Promise<AirtimePlan> {
    const msisdn = normalizePhone(input.msisdn);
    if (!msisdn)
      throw new AppError("VALIDATION_FAILED", "That is not an Eswatini mobile number (8 digits starting 75–79).", [
        { path: "msisdn", message: "an Eswatini mobile: 8 digits starting 75–79, optionally with +268" },
      ]);
    const operator = operatorOf(msisdn);
    if (operator !== "mtn" && operator !== "eswatini_mobile")
      throw new AppError(
        "VALIDATION_FAILED",
        "Airtime is sold for MTN (76, 78) and Eswatini Mobile (75, 79) numbers only; this number is on another network.",
        [{ path: "msisdn", message: "not an MTN or Eswatini Mobile number" }],
      );
    assertAmount(input.amount, input.currency, config.airtime.maxAmount, config.airtime.minAmount);
    if (!clients[operator])
      throw new AppError("UNAVAILABLE", `${OPERATOR_NAMES[operator]} airtime is not available right now.`, undefined, {
        "Retry-After": "60",
      });
    const user = await identity.users.get(input.userId);
    if (!user) throw new AppError("UNAUTHENTICATED", "Unknown user.");
    if (user.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This account cannot move money right now.");
    const amount = BigInt(input.amount);
    const { fee, bearer } = computeFee(config.fees, "airtime", amount);
    const debit = bearer === "sender" ? amount + fee : amount;
    const credit = bearer === "receiver" ? amount - fee : amount;
    if (credit <= 0n) throw new AppError("VALIDATION_FAILED", "The amount does not cover the airtime fee.");
    const [accountId, clearing, feeAccount] = await Promise.all([
      payments.walletOf("user_wallet", user.id),
      ledger.systemAccount("airtime_clearing", "SZL", operator),
      fee > 0n ? ledger.systemAccount("fee_revenue", "SZL") : undefined,
    ]);
    return {
      id: newId("txn"),
      user: { id: user.id, name: user.name, phone: user.phone, kycTier: user.kycTier },
      accountId,
      msisdn,
      operator,
      amount,
      fee,
      feeBearer: bearer,
      debit,
      credit,
      clearingAccount: clearing.id,
      feeAccount: feeAccount?.id ?? null,
    };
  }

  const referenceFor = (orderId: string, attempt: number) => `${orderId.replace(/^txn_/, "ks")}-${attempt}`;

  /** Holds, records the order and its first attempt (the clientReference saved before anything is sent). */
  async function commit(p: AirtimePlan, tx: Executor): Promise<Outcome<TransactionDto, 202>> {
    const now = deps.now();
    const limitCharges = await payments.chargeOutflow({ id: p.user.id, kycTier: p.user.kycTier }, p.debit, tx);
    const holdId = holdIdFor(p.id);
    await ledger.hold(
      { id: holdId, accountId: p.accountId, amount: p.debit, metadata: { type: "airtime", orderId: p.id } },
      tx,
    );
    await insertPendingTransaction(tx, {
      id: p.id,
      type: "airtime",
      amount: p.amount,
      fee: p.fee,
      feeBearer: p.feeBearer,
      currency: "SZL",
      payer: { type: "user", id: p.user.id, name: p.user.name, account: p.accountId },
      payee: { id: "airtime_clearing", name: `${OPERATOR_NAMES[p.operator]} airtime`, account: p.clearingAccount },
      holdId,
      reference: p.msisdn,
      metadata: { operator: p.operator, msisdn: p.msisdn },
      createdAt: now,
    });
    await tx.insert(airtimeOrders).values({
      id: p.id,
      userId: p.user.id,
      accountId: p.accountId,
      msisdn: p.msisdn,
      operator: p.operator,
      amount: p.amount,
      fee: p.fee,
      feeBearer: p.feeBearer,
      currency: "SZL",
      status: "pending",
      holdId,
      clearingAccount: p.clearingAccount,
      feeAccount: p.feeAccount,
      limitCharges,
      attempts: 1,
      // If nobody sends it (a crash right after commit), the reconciler will.
      nextCheckAt: new Date(now.getTime() + inFlightMs()),
      createdAt: now,
      updatedAt: now,
    });
    await tx.insert(airtimeAttempts).values({
      clientReference: referenceFor(p.id, 1),
      orderId: p.id,
      attempt: 1,
      status: "queued",
      createdAt: now,
      updatedAt: now,
    });
    return { status: 202, body: await transactionView(tx, p.id) };
  }

  // ---------------------------------------------------------------- settling

  async function lockedPending(tx: Executor, orderId: string): Promise<Order | undefined> {
    const [order] = await tx.select().from(airtimeOrders).where(eq(airtimeOrders.id, orderId)).for("update");
    return order?.status === "pending" ? order : undefined;
  }

  const describe = (reply: Ers360Reply) =>
    reply.failure
      ? `${reply.failure}${reply.failure === "http" ? ` (HTTP ${reply.httpStatus})` : ""}`
      : (reply.resultDescription ?? null);

  async function settleSuccess(orderId: string, reference: string, reply: Ers360Reply): Promise<Settled> {
    return withTransaction<Settled>(
      deps,
      async (tx) => {
        const order = await lockedPending(tx, orderId);
        if (!order) return "completed";
        const now = deps.now();
        await tx
          .update(airtimeAttempts)
          .set({
            status: "succeeded",
            resultCode: reply.resultCode,
            resultDescription: describe(reply),
            ersReference: reply.ersReference,
            respondedAt: now,
            updatedAt: now,
          })
          .where(eq(airtimeAttempts.clientReference, reference));
        const legs = [
          {
            accountId: order.clearingAccount,
            amount: order.feeBearer === "receiver" ? order.amount - order.fee : order.amount,
          },
        ];
        if (order.fee > 0n && order.feeAccount) legs.push({ accountId: order.feeAccount, amount: order.fee });
        await ledger.postHold(
          {
            holdId: order.holdId,
            id: order.id,
            kind: "airtime",
            legs,
            metadata: {
              type: "airtime",
              operator: order.operator,
              clientReference: reference,
              ersReference: reply.ersReference,
            },
          },
          tx,
        );
        await tx
          .update(airtimeOrders)
          .set({
            status: "completed",
            ersReference: reply.ersReference,
            resultCode: reply.resultCode,
            resultDescription: describe(reply),
            nextCheckAt: null,
            resolvedAt: now,
            updatedAt: now,
          })
          .where(eq(airtimeOrders.id, order.id));
        await settleTransaction(tx, order.id, "completed", now);
        await notifyOwner(
          tx,
          order,
          "airtime_completed",
          `Keshless: ${formatAmount(order.amount)} ${OPERATOR_NAMES[order.operator as AirtimeOperator]} airtime sent to ${order.msisdn}. Ref ${order.id}.`,
        );
        log.info(
          { orderId: order.id, operator: order.operator, msisdn: maskPhone(order.msisdn), clientReference: reference },
          "airtime delivered",
        );
        return "completed";
      },
      { label: "airtime.success" },
    );
  }

  async function settleFailure(
    orderId: string,
    reference: string | null,
    reply: Ers360Reply,
    attemptStatus: "rejected" | "not_found",
  ): Promise<Settled> {
    return withTransaction<Settled>(
      deps,
      async (tx) => {
        const order = await lockedPending(tx, orderId);
        if (!order) return "refunded";
        const now = deps.now();
        if (reference)
          await tx
            .update(airtimeAttempts)
            .set({
              status: attemptStatus,
              resultCode: reply.resultCode,
              resultDescription: describe(reply),
              ersReference: reply.ersReference,
              respondedAt: now,
              updatedAt: now,
            })
            .where(eq(airtimeAttempts.clientReference, reference));
        await ledger.voidHold(order.holdId, tx);
        const outOfCredit = reply.resultCode === 104;
        await tx
          .update(airtimeOrders)
          .set({
            status: "failed",
            resultCode: reply.resultCode,
            resultDescription: describe(reply),
            ersReference: reply.ersReference,
            alerted: outOfCredit || order.alerted,
            nextCheckAt: null,
            resolvedAt: now,
            updatedAt: now,
          })
          .where(eq(airtimeOrders.id, order.id));
        await settleTransaction(tx, order.id, "failed", now);
        await payments.refundOutflow(order.userId, order.limitCharges as OutflowCharge[], tx);
        const why =
          attemptStatus === "not_found"
            ? "the operator did not receive the request"
            : `the operator declined it${reply.resultCode !== null ? ` (code ${reply.resultCode})` : ""}`;
        await notifyOwner(
          tx,
          order,
          "airtime_failed",
          `Keshless: we could not buy ${formatAmount(order.amount)} airtime for ${order.msisdn}: ${why}. ${formatAmount(order.amount + (order.feeBearer === "sender" ? order.fee : 0n))} is back in your wallet. Ref ${order.id}.`,
        );
        if (outOfCredit) {
          // Our reseller account at the operator is empty: every top-up will fail until someone tops it up.
          log.warn(
            { orderId: order.id, operator: order.operator, resultCode: 104, alert: "ers360_sender_credit" },
            "ALERT: ERS360 reseller account out of credit (104); airtime is failing",
          );
          await audit.record(
            {
              action: "airtime.alert.sender_credit",
              actor: { type: "system", id: "airtime" },
              target: { type: "airtime_order", id: order.id },
              details: { operator: order.operator, resultCode: 104, clientReference: reference },
            },
            {},
            tx,
          );
        }
        return "refunded";
      },
      { label: "airtime.failure" },
    );
  }

  /** Outcome not known yet: remember what we heard and when to ask next. */
  async function markUnknown(
    orderId: string,
    reference: string,
    reply: Ers360Reply,
    queried: boolean,
  ): Promise<Settled> {
    return withTransaction<Settled>(
      deps,
      async (tx) => {
        const order = await lockedPending(tx, orderId);
        if (!order) return "pending";
        const now = deps.now();
        const [attempt] = await tx
          .update(airtimeAttempts)
          .set({
            status: "unknown",
            resultCode: reply.resultCode,
            resultDescription: describe(reply),
            ...(queried ? { checks: sql`${airtimeAttempts.checks} + 1` } : { respondedAt: now }),
            updatedAt: now,
          })
          .where(eq(airtimeAttempts.clientReference, reference))
          .returning();
        await tx
          .update(airtimeOrders)
          .set({
            nextCheckAt: new Date(now.getTime() + recheckSeconds(attempt?.checks ?? 0) * 1000),
            resultCode: reply.resultCode,
            resultDescription: describe(reply),
            updatedAt: now,
          })
          .where(eq(airtimeOrders.id, orderId));
        return "pending";
      },
      { label: "airtime.unknown" },
    );
  }

  async function notifyOwner(tx: Executor, order: Order, kind: string, body: string) {
    const owner = await ownerContact(tx, { type: "user", id: order.userId });
    if (owner) await notifications.enqueue({ to: owner.phone, body, kind, dedupeKey: `${order.id}:${kind}` }, tx);
  }

  async function act(order: Order, attempt: Attempt, reply: Ers360Reply, queried: boolean): Promise<Settled> {
    if (reply.outcome === "success") return settleSuccess(order.id, attempt.clientReference, reply);
    if (reply.outcome === "rejected") return settleFailure(order.id, attempt.clientReference, reply, "rejected");
    if (reply.outcome === "not_found" && queried) return notFound(order, attempt, reply);
    return markUnknown(order.id, attempt.clientReference, reply, queried);
  }

  /**
   * The operator has no record of the reference. Believed only once the attempt is older than the
   * grace period (a request still in their queue is not found either); then a new attempt with a new
   * reference, or — attempts spent — a full refund.
   */
  async function notFound(order: Order, attempt: Attempt, reply: Ers360Reply): Promise<Settled> {
    const sentAt = attempt.sentAt ?? attempt.createdAt;
    if (deps.now().getTime() - sentAt.getTime() < config.airtime.notFoundGraceSeconds * 1000)
      return markUnknown(order.id, attempt.clientReference, reply, true);
    if (order.attempts >= config.airtime.maxAttempts)
      return settleFailure(order.id, attempt.clientReference, reply, "not_found");
    const next = await withTransaction(
      deps,
      async (tx) => {
        const locked = await lockedPending(tx, order.id);
        if (!locked || locked.attempts !== order.attempts) return false;
        const now = deps.now();
        await tx
          .update(airtimeAttempts)
          .set({
            status: "not_found",
            resultCode: reply.resultCode,
            resultDescription: describe(reply),
            checks: sql`${airtimeAttempts.checks} + 1`,
            updatedAt: now,
          })
          .where(eq(airtimeAttempts.clientReference, attempt.clientReference));
        const n = locked.attempts + 1;
        await tx.insert(airtimeAttempts).values({
          clientReference: referenceFor(order.id, n),
          orderId: order.id,
          attempt: n,
          status: "queued",
          createdAt: now,
          updatedAt: now,
        });
        await tx
          .update(airtimeOrders)
          .set({ attempts: n, nextCheckAt: new Date(now.getTime() + inFlightMs()), updatedAt: now })
          .where(eq(airtimeOrders.id, order.id));
        return true;
      },
      { label: "airtime.retry" },
    );
    if (!next) return "pending";
    log.info(
      { orderId: order.id, previous: attempt.clientReference },
      "airtime attempt not found by the operator; retrying",
    );
    await dispatch(order.id);
    return "retried";
  }

  // ---------------------------------------------------------------- sending and asking

  /**
   * Sends the order's queued attempt, if any. The claim (queued → sending) commits before the request
   * leaves: whoever loses the claim sends nothing.
   */
  async function dispatch(orderId: string): Promise<Settled> {
    const now = deps.now();
    const claimed = await retrySerializable(
      () =>
        db
          .update(airtimeAttempts)
          .set({ status: "sending", sentAt: now, updatedAt: now })
          .where(and(eq(airtimeAttempts.orderId, orderId), eq(airtimeAttempts.status, "queued")))
          .returning(),
      retry("airtime.claim"),
    );
    const attempt = claimed[0];
    if (!attempt) return "pending";
    const [order] = await db.select().from(airtimeOrders).where(eq(airtimeOrders.id, orderId));
    if (!order) return "pending";
    const client = clients[order.operator as AirtimeOperator];
    if (!client) return markUnknown(order.id, attempt.clientReference, unavailable(), false);
    const reply = await client.requestTopup({
      clientReference: attempt.clientReference,
      msisdn: order.msisdn.replace(/^\+/, ""),
      amountCents: order.feeBearer === "receiver" ? order.amount - order.fee : order.amount,
    });
    log.info(
      {
        orderId,
        operator: order.operator,
        msisdn: maskPhone(order.msisdn),
        clientReference: attempt.clientReference,
        resultCode: reply.resultCode,
        outcome: reply.outcome,
        failure: reply.failure,
      },
      "ERS360 requestTopup answered",
    );
    const settled = await act(order, attempt, reply, false);
    return settled === "pending" ? "pending" : settled;
  }

  const unavailable = (): Ers360Reply => ({
    outcome: "unknown",
    resultCode: null,
    resultDescription: "operator not configured",
    ersReference: null,
    failure: "transport",
  });

  /** Sends after the response has gone: tracked so tests and shutdown can wait for it. */
  function dispatchInBackground(orderId: string) {
    const p = dispatch(orderId).catch((err) => log.error({ err, orderId }, "airtime dispatch failed"));
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  async function idle() {
    while (inFlight.size) await Promise.allSettled([...inFlight]);
  }

  async function reconcileOrder(order: Order): Promise<Settled> {
    const [attempt] = await db
      .select()
      .from(airtimeAttempts)
      .where(eq(airtimeAttempts.orderId, order.id))
      .orderBy(desc(airtimeAttempts.attempt))
      .limit(1);
    if (!attempt) throw new Error(`airtime order ${order.id} has no attempt`);
    const now = deps.now();
    if (attempt.status === "queued") {
      await dispatch(order.id);
      return "dispatched";
    }
    if (attempt.status === "sending" && attempt.sentAt && now.getTime() - attempt.sentAt.getTime() < inFlightMs()) {
      // Another worker is still waiting for the operator's answer: look again once it must have one.
      await retrySerializable(
        () =>
          db
            .update(airtimeOrders)
            .set({ nextCheckAt: new Date(attempt.sentAt!.getTime() + inFlightMs()) })
            .where(and(eq(airtimeOrders.id, order.id), eq(airtimeOrders.status, "pending"))),
        retry("airtime.defer"),
      );
      return "pending";
    }
    const client = clients[order.operator as AirtimeOperator];
    const reply = client ? await client.getTransactionStatus(attempt.clientReference) : unavailable();
    log.info(
      {
        orderId: order.id,
        clientReference: attempt.clientReference,
        resultCode: reply.resultCode,
        outcome: reply.outcome,
        failure: reply.failure,
      },
      "ERS360 getTransactionStatus answered",
    );
    return act(order, attempt, reply, true);
  }

  /** Every pending order whose check is due: ask, then post, refund, retry or wait. */
  async function reconcile(limit = 200, budgetMs = RECONCILE_BUDGET_MS): Promise<ReconcileSummary> {
    const due = await db
      .select()
      .from(airtimeOrders)
      .where(and(eq(airtimeOrders.status, "pending"), lte(airtimeOrders.nextCheckAt, deps.now())))
      .orderBy(asc(airtimeOrders.nextCheckAt))
      .limit(limit);
    const summary: ReconcileSummary = {
      due: due.length,
      completed: 0,
      refunded: 0,
      retried: 0,
      dispatched: 0,
      stillPending: 0,
      deferred: 0,
      failed: 0,
      errors: [],
    };
    const deadline = Date.now() + budgetMs;
    let next = 0;
    const worker = async () => {
      while (next < due.length && Date.now() < deadline) {
        const order = due[next++]!;
        try {
          const outcome = await reconcileOrder(order);
          if (outcome === "pending") summary.stillPending++;
          else summary[outcome]++;
        } catch (error) {
          summary.failed++;
          summary.errors.push({ orderId: order.id, error: error instanceof Error ? error.message : String(error) });
          log.error({ err: error, orderId: order.id }, "could not reconcile an airtime order");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECONCILE_CONCURRENCY, due.length) }, worker));
    summary.deferred = due.length - next;
    return summary;
  }

  async function countDue(): Promise<number> {
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(airtimeOrders)
      .where(and(eq(airtimeOrders.status, "pending"), lte(airtimeOrders.nextCheckAt, deps.now())));
    return Number(row?.n ?? 0);
  }

  // ---------------------------------------------------------------- reading

  async function views(orders: Order[]): Promise<OrderView[]> {
    if (!orders.length) return [];
    const attempts = await db
      .select()
      .from(airtimeAttempts)
      .where(
        inArray(
          airtimeAttempts.orderId,
          orders.map((o) => o.id),
        ),
      )
      .orderBy(asc(airtimeAttempts.attempt));
    return orders.map((o) => ({
      id: o.id,
      userId: o.userId,
      msisdn: o.msisdn,
      operator: o.operator as AirtimeOperator,
      amount: Number(o.amount),
      fee: Number(o.fee),
      currency: o.currency,
      status: o.status as OrderView["status"],
      ersReference: o.ersReference,
      resultCode: o.resultCode,
      resultDescription: o.resultDescription,
      alerted: o.alerted,
      nextCheckAt: o.nextCheckAt?.toISOString() ?? null,
      createdAt: o.createdAt.toISOString(),
      resolvedAt: o.resolvedAt?.toISOString() ?? null,
      attempts: attempts
        .filter((a) => a.orderId === o.id)
        .map((a) => ({
          clientReference: a.clientReference,
          attempt: a.attempt,
          status: a.status as AttemptStatus,
          resultCode: a.resultCode,
          resultDescription: a.resultDescription,
          ersReference: a.ersReference,
          checks: a.checks,
          sentAt: a.sentAt?.toISOString() ?? null,
          respondedAt: a.respondedAt?.toISOString() ?? null,
        })),
    }));
  }

  async function getOrder(id: string): Promise<OrderView | undefined> {
    const [order] = await db.select().from(airtimeOrders).where(eq(airtimeOrders.id, id));
    return order ? (await views([order]))[0] : undefined;
  }

  async function listOrders(filter: {
    status?: "pending" | "completed" | "failed";
    operator?: AirtimeOperator;
    userId?: string;
    msisdn?: string;
    limit: number;
    cursor?: string;
  }) {
    const where: (SQL | undefined)[] = [];
    if (filter.status) where.push(eq(airtimeOrders.status, filter.status));
    if (filter.operator) where.push(eq(airtimeOrders.operator, filter.operator));
    if (filter.userId) where.push(eq(airtimeOrders.userId, filter.userId));
    if (filter.msisdn) {
      const msisdn = normalizePhone(filter.msisdn);
      if (!msisdn) throw new AppError("VALIDATION_FAILED", "msisdn is not an Eswatini mobile number.");
      where.push(eq(airtimeOrders.msisdn, msisdn));
    }
    if (filter.cursor) {
      where.push(after(filter.cursor, airtimeOrders.createdAt, airtimeOrders.id));
    }
    const rows = await db
      .select()
      .from(airtimeOrders)
      .where(and(...where))
      .orderBy(desc(airtimeOrders.createdAt), desc(airtimeOrders.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: await views(page),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  /** Everything not yet settled, oldest first, with totals: what operations reconcile against the operators. */
  async function reconciliation(limit: number) {
    const rows = await db
      .select()
      .from(airtimeOrders)
      .where(eq(airtimeOrders.status, "pending"))
      .orderBy(asc(airtimeOrders.createdAt))
      .limit(limit);
    const totals = await db
      .select({
        operator: airtimeOrders.operator,
        count: sql<number>`count(*)::int`,
        amount: sql<string>`coalesce(sum(${airtimeOrders.amount}), 0)::text`,
        oldest: sql<string | null>`min(${airtimeOrders.createdAt})::text`,
      })
      .from(airtimeOrders)
      .where(eq(airtimeOrders.status, "pending"))
      .groupBy(airtimeOrders.operator);
    const byOperator = Object.fromEntries(
      totals.map((t) => [t.operator, { count: Number(t.count), amount: Number(t.amount) }]),
    );
    const oldest = totals
      .map((t) => (t.oldest ? new Date(t.oldest).getTime() : Number.POSITIVE_INFINITY))
      .reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
    return {
      data: await views(rows),
      totals: {
        count: totals.reduce((n, t) => n + Number(t.count), 0),
        amount: totals.reduce((n, t) => n + Number(t.amount), 0),
        byOperator,
        oldestCreatedAt: Number.isFinite(oldest) ? new Date(oldest).toISOString() : null,
      },
    };
  }

  return {
    plan,
    commit,
    dispatch,
    dispatchInBackground,
    idle,
    reconcile,
    countDue,
    getOrder,
    listOrders,
    reconciliation,
    /** The in-process simulators serving operators with no configured ERS360 (development). */
    simulators,
  };
}

export type Airtime = ReturnType<typeof createAirtime>;
