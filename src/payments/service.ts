import { and, eq, sql } from "drizzle-orm";
import type { Config, TierLimits } from "../config";
import { callJson, type Database, type Executor, queryRows } from "../db/client";
import { sqlState } from "../db/pg-errors";
import { retrySerializable } from "../db/serializable";
import { AppError } from "../http/errors";
import type { IdempotentRequest, Outcome } from "../http/idempotency";
import { type AccountKind, balanceAfterEntry, computeFee, type Ledger } from "../ledger";
import { usagePeriods } from "../lib/clock";
import { newId } from "../lib/ids";
import { assertAmount, formatAmount } from "../lib/money";
import { maskPhone } from "../lib/phone";
import { type TransactionDto, type TransactionType, transactionDto } from "./dto";
import { transactions } from "./schema";

/**
 * Payments, P2P transfers and partner deposits. Everything that can be read before the money moves
 * (parties, accounts, fee, tier limits) is read first, into a Plan; `commit` then writes the plan in the
 * caller's SERIALIZABLE transaction with one call to payments_commit (usage limits + ledger journal +
 * transaction row) and queues the notifications in the same transaction.
 */

export type PartyType = "user" | "vendor" | "partner" | "system";

export interface Party {
  type: PartyType;
  id: string;
  name: string | null;
  account: string;
  phone?: string | null;
}

export interface UserLike {
  id: string;
  phone: string;
  name: string | null;
  kycTier: number;
  status: string;
}

export interface VendorLike {
  id: string;
  name: string;
  code: string;
  phone: string;
  status: string;
}

/** What payments reads from identity (structurally satisfied by it). */
export interface PaymentsPorts {
  users: {
    get(id: string): Promise<UserLike | undefined>;
    findByPhone(phone: string): Promise<UserLike | undefined>;
  };
  vendors: {
    get(id: string): Promise<VendorLike | undefined>;
    findByCode(code: string): Promise<VendorLike | undefined>;
  };
  partners: { get(id: string): Promise<{ id: string; name: string; status: string } | undefined> };
}

/** Where planning reads the parties: the database by default; the fast lane's caches (src/payments/fast-lane.ts). */
export interface PartyLookup {
  userById(id: string): Promise<UserLike | undefined>;
  userByPhone(phone: string): Promise<UserLike | undefined>;
  vendorByCode(code: string): Promise<VendorLike | undefined>;
}

/**
 * What the fast lane planned from (payments_assume, drizzle/0008, checks each in the commit's statement):
 * the caller's session, the users' and vendors' fields the plan used, and the payer's PIN proof.
 */
export interface Assumptions {
  pinLimit?: { max: number; lockSeconds: number };
  session: { id: string; principalType: "user"; principalId: string };
  users: (Pick<UserLike, "id" | "phone" | "name" | "kycTier"> & { pin?: { keyId: string; hash: string } })[];
  vendors: Pick<VendorLike, "id" | "name" | "phone">[];
}

export interface Plan {
  transactionId: string;
  type: TransactionType;
  amount: bigint;
  fee: bigint;
  feeBearer: "sender" | "receiver";
  currency: string;
  payer: Party;
  payee: Party;
  partnerId?: string;
  reference?: string | null;
  externalReference?: string;
  legs: { accountId: string; amount: bigint }[];
  limits: { owner: string; period: string; amount: string; max: string; name: string }[];
  maxBalances: { account: string; max: string; name: string }[];
  notifications: { to: string; body: string; kind: string; dedupeKey: string }[];
  /** Whose view the response takes. */
  viewer: "payer" | "payee";
  /** Partner webhook events, queued with the notifications; `data.transaction` is the committed response. */
  webhooks?: { partnerId: string; type: "deposit.completed"; dedupeKey: string }[];
  /** Runs first inside the commit's transaction (e.g. claiming a payment request); throwing aborts the payment. */
  beforeCommit?: (tx: Executor) => Promise<void>;
  /** Stored on the transaction row (e.g. the payment request it settled). */
  metadata?: Record<string, unknown>;
}

type Row = typeof transactions.$inferSelect;

/** A usage counter an outflow bumped: the period ("d:2026-11-26", "m:2026-11") and the cents added. */
export interface OutflowCharge {
  period: string;
  amount: string;
}

interface PaymentsDeps {
  config: Config;
  database: Database;
  ledger: Ledger;
  ports: PaymentsPorts;
  now: () => Date;
}

/** A "day" for limits is a local day (src/lib/clock.ts). */
const periods = usagePeriods;

const toNumber = (v: bigint) => Number(v);

export function createPayments({ config, database, ledger, ports, now }: PaymentsDeps) {
  const walletIds = new Map<string, string>();
  const freshLookup: PartyLookup = {
    userById: (id) => ports.users.get(id),
    userByPhone: (phone) => ports.users.findByPhone(phone),
    vendorByCode: (code) => ports.vendors.findByCode(code),
  };

  /** Wallet account ids never change: cached per process after the first lookup. */
  async function walletOf(kind: Extract<AccountKind, "user_wallet" | "vendor_wallet">, ownerId: string) {
    const code = `${kind}:${ownerId}`;
    const cached = walletIds.get(code);
    if (cached) return cached;
    const account = await ledger.findAccount(kind, ownerId, "SZL");
    if (!account) throw new AppError("NOT_FOUND", "That wallet does not exist.");
    walletIds.set(code, account.id);
    return account.id;
  }

  function tierLimits(tier: number): TierLimits {
    const limits = config.kycLimits[String(tier)] ?? config.kycLimits["0"];
    if (!limits) throw new AppError("INTERNAL", "No KYC limits are configured.");
    return limits;
  }

  /** Outflow limits of a user payer: per transaction now, daily and monthly inside the transaction. */
  function outflowLimits(user: UserLike, outflow: bigint): Plan["limits"] {
    const limits = tierLimits(user.kycTier);
    if (outflow > BigInt(limits.perTransaction))
      throw new AppError("LIMIT_EXCEEDED", "This is more than one transaction may move at your KYC tier.", {
        limit: "perTransaction",
        max: limits.perTransaction,
      });
    const { day, month } = periods(now());
    return [
      { owner: user.id, period: day, amount: outflow.toString(), max: String(limits.daily), name: "daily" },
      { owner: user.id, period: month, amount: outflow.toString(), max: String(limits.monthly), name: "monthly" },
    ];
  }

  /**
   * KYC outflow limits for money leaving a user's wallet by another route (withdrawals, airtime, card
   * fees): the per-transaction limit now, then the same daily and monthly usage counters payments bump,
   * in the caller's `tx` — so every outflow counts once against one set of limits. Returns what it
   * charged, for `refundOutflow` when the money never leaves (a rejected withdrawal, a failed top-up).
   */
  async function chargeOutflow(
    user: Pick<UserLike, "id" | "kycTier">,
    outflow: bigint,
    tx: Executor,
  ): Promise<OutflowCharge[]> {
    const limits = outflowLimits(user as UserLike, outflow);
    for (const limit of limits) {
      const [row] = await queryRows<{ total: string }>(
        tx,
        sql`insert into usage_counters as u (owner_id, period, total) values (${limit.owner}, ${limit.period}, ${limit.amount}::bigint)
            on conflict (owner_id, period) do update set total = u.total + excluded.total
            returning total::text as total`,
      );
      if (BigInt(row!.total) > BigInt(limit.max))
        throw new AppError("LIMIT_EXCEEDED", `This would exceed the ${limit.name} limit.`, { limit: limit.name });
    }
    return limits.map((l) => ({ period: l.period, amount: l.amount }));
  }

  /** Gives back what chargeOutflow took (in `tx`), so money that never left does not use up a limit. */
  async function refundOutflow(ownerId: string, charges: OutflowCharge[], tx: Executor): Promise<void> {
    for (const charge of charges)
      await tx.execute(
        sql`update usage_counters set total = greatest(0, total - ${charge.amount}::bigint)
             where owner_id = ${ownerId} and period = ${charge.period}`,
      );
  }

  /**
   * Gives back the usage an outflow of `amount` at `at` took from a user's limits (its day's and month's
   * counters), when the money came back: a reversed payment or transfer.
   */
  async function refundOutflowAt(ownerId: string, at: Date, amount: bigint, tx: Executor): Promise<void> {
    const { day, month } = periods(at);
    await refundOutflow(
      ownerId,
      [day, month].map((period) => ({ period, amount: amount.toString() })),
      tx,
    );
  }

  async function activeUser(userId: string, lookup: PartyLookup): Promise<UserLike> {
    const user = await lookup.userById(userId);
    if (!user) throw new AppError("UNAUTHENTICATED", "Unknown user.");
    if (user.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This account cannot move money right now.");
    return user;
  }

  function splitFee(type: string, amount: bigint) {
    const { fee, bearer } = computeFee(config.fees, type, amount);
    const debit = bearer === "sender" ? amount + fee : amount;
    const credit = bearer === "receiver" ? amount - fee : amount;
    return { fee, bearer, debit, credit };
  }

  async function feeLeg(fee: bigint) {
    if (fee === 0n) return [];
    const account = await ledger.systemAccount("fee_revenue", "SZL");
    return [{ accountId: account.id, amount: fee }];
  }

  async function planPayment(
    input: { userId: string; vendorCode: string; amount: number; currency: string; reference?: string | null },
    lookup: PartyLookup = freshLookup,
  ): Promise<Plan> {
    assertAmount(input.amount, input.currency, config.maxAmount);
    const user = await activeUser(input.userId, lookup);
    const vendor = await lookup.vendorByCode(input.vendorCode.trim().toUpperCase());
    if (!vendor) throw new AppError("NOT_FOUND", "No vendor has that code.");
    if (vendor.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This vendor cannot take payments right now.");
    const amount = BigInt(input.amount);
    const { fee, bearer, debit, credit } = splitFee("payment", amount);
    const [payerAccount, payeeAccount, fees] = await Promise.all([
      walletOf("user_wallet", user.id),
      walletOf("vendor_wallet", vendor.id),
      feeLeg(fee),
    ]);
    const id = newId("txn");
    const payer: Party = { type: "user", id: user.id, name: user.name, account: payerAccount, phone: user.phone };
    const payee: Party = {
      type: "vendor",
      id: vendor.id,
      name: vendor.name,
      account: payeeAccount,
      phone: vendor.phone,
    };
    return {
      transactionId: id,
      type: "payment",
      amount,
      fee,
      feeBearer: bearer,
      currency: "SZL",
      payer,
      payee,
      reference: input.reference ?? null,
      legs: [{ accountId: payerAccount, amount: -debit }, { accountId: payeeAccount, amount: credit }, ...fees],
      limits: outflowLimits(user, debit),
      maxBalances: [],
      notifications: [
        {
          to: user.phone,
          kind: "payment_sent",
          dedupeKey: `${id}:payer`,
          body: `Keshless: you paid ${formatAmount(amount)} to ${vendor.name}${fee ? ` (fee ${formatAmount(fee)})` : ""}. Ref ${id}.`,
        },
        {
          to: vendor.phone,
          kind: "payment_received",
          dedupeKey: `${id}:payee`,
          body: `Keshless: you received ${formatAmount(credit)} from ${user.name ?? maskPhone(user.phone)}. Ref ${id}.`,
        },
      ],
      viewer: "payer",
    };
  }

  async function planTransfer(
    input: { userId: string; toPhone: string; amount: number; currency: string; note?: string | null },
    lookup: PartyLookup = freshLookup,
  ): Promise<Plan> {
    assertAmount(input.amount, input.currency, config.maxAmount);
    const user = await activeUser(input.userId, lookup);
    const recipient = await lookup.userByPhone(input.toPhone);
    if (!recipient)
      throw new AppError("NOT_FOUND", "That number has no Keshless wallet yet. Ask them to join, then send again.");
    if (recipient.id === user.id) throw new AppError("VALIDATION_FAILED", "You cannot send money to yourself.");
    if (recipient.status !== "active")
      throw new AppError("ACCOUNT_FROZEN", "That wallet cannot receive money right now.");
    const amount = BigInt(input.amount);
    const { fee, bearer, debit, credit } = splitFee("transfer", amount);
    const [payerAccount, payeeAccount, fees] = await Promise.all([
      walletOf("user_wallet", user.id),
      walletOf("user_wallet", recipient.id),
      feeLeg(fee),
    ]);
    const id = newId("txn");
    return {
      transactionId: id,
      type: "transfer",
      amount,
      fee,
      feeBearer: bearer,
      currency: "SZL",
      payer: { type: "user", id: user.id, name: user.name, account: payerAccount, phone: user.phone },
      payee: { type: "user", id: recipient.id, name: recipient.name, account: payeeAccount, phone: recipient.phone },
      reference: input.note ?? null,
      legs: [{ accountId: payerAccount, amount: -debit }, { accountId: payeeAccount, amount: credit }, ...fees],
      limits: outflowLimits(user, debit),
      maxBalances: [
        { account: payeeAccount, max: String(tierLimits(recipient.kycTier).maxBalance), name: "recipientMaxBalance" },
      ],
      notifications: [
        {
          to: user.phone,
          kind: "transfer_sent",
          dedupeKey: `${id}:payer`,
          body: `Keshless: you sent ${formatAmount(amount)} to ${recipient.name ?? maskPhone(recipient.phone)}. Ref ${id}.`,
        },
        {
          to: recipient.phone,
          kind: "transfer_received",
          dedupeKey: `${id}:payee`,
          body: `Keshless: you received ${formatAmount(credit)} from ${user.name ?? maskPhone(user.phone)}. Ref ${id}.`,
        },
      ],
      viewer: "payer",
    };
  }

  async function planDeposit(input: {
    partnerId: string;
    phone: string;
    amount: number;
    currency: string;
    externalReference: string;
  }): Promise<Plan> {
    assertAmount(input.amount, input.currency, config.maxAmount);
    const partner = await ports.partners.get(input.partnerId);
    if (partner?.status !== "active") throw new AppError("FORBIDDEN", "This partner cannot deposit.");
    const user = await ports.users.findByPhone(input.phone);
    if (!user) throw new AppError("NOT_FOUND", "No Keshless wallet has that phone number.");
    if (user.status !== "active") throw new AppError("ACCOUNT_FROZEN", "That wallet cannot receive money right now.");
    const amount = BigInt(input.amount);
    const { fee, bearer, debit, credit } = splitFee("deposit", amount);
    const [settlement, payeeAccount, fees] = await Promise.all([
      ledger.systemAccount("partner_settlement", "SZL", partner.id),
      walletOf("user_wallet", user.id),
      feeLeg(fee),
    ]);
    const id = newId("txn");
    return {
      transactionId: id,
      type: "deposit",
      amount,
      fee,
      feeBearer: bearer,
      currency: "SZL",
      payer: { type: "partner", id: partner.id, name: partner.name, account: settlement.id },
      payee: { type: "user", id: user.id, name: user.name, account: payeeAccount, phone: user.phone },
      partnerId: partner.id,
      externalReference: input.externalReference,
      reference: input.externalReference,
      webhooks: [{ partnerId: partner.id, type: "deposit.completed", dedupeKey: `${id}:deposit.completed` }],
      legs: [{ accountId: settlement.id, amount: -debit }, { accountId: payeeAccount, amount: credit }, ...fees],
      limits: [],
      maxBalances: [{ account: payeeAccount, max: String(tierLimits(user.kycTier).maxBalance), name: "maxBalance" }],
      notifications: [
        {
          to: user.phone,
          kind: "deposit_received",
          dedupeKey: `${id}:payee`,
          body: `Keshless: ${formatAmount(credit)} deposited by ${partner.name}. Ref ${id}.`,
        },
      ],
      viewer: "payer",
    };
  }

  /**
   * What payments_execute (drizzle/0008) writes for a plan: usage limits, ledger journal, max balances and
   * the transaction row (payments_commit), the outbox messages, partner webhook events, and the response
   * for the plan's viewer, whose createdAt and balanceAfter the database fills in.
   */
  function statementOf(plan: Plan, extra: { idempotency?: IdempotentRequest; assume?: Assumptions } = {}) {
    const viewer = plan.viewer === "payer" ? plan.payer : plan.payee;
    const legs = plan.legs.map((l) => ({ account: l.accountId, amount: l.amount.toString() }));
    const body: Omit<TransactionDto, "createdAt" | "balanceAfter"> = {
      id: plan.transactionId,
      type: plan.type,
      status: "completed",
      amount: toNumber(plan.amount),
      currency: plan.currency,
      fee: toNumber(plan.fee),
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
  async function commit(plan: Plan, tx: Executor): Promise<Outcome<TransactionDto, 201>> {
    if (plan.beforeCommit) await plan.beforeCommit(tx);
    const [row] = await queryRows<{ r: TransactionDto | string }>(
      tx,
      sql`select payments_execute(${JSON.stringify(statementOf(plan))}::jsonb) as r`,
    ).catch(refusedDeposit(plan));
    return { status: 201, body: typeof row!.r === "string" ? JSON.parse(row!.r) : row!.r };
  }

  /**
   * A plan with no beforeCommit as ONE autocommit statement, idempotency included (the fast lane):
   * KL010 when an assumption no longer holds, KL009 when the key already has an answer.
   */
  /** The fast lane's statement: the new transaction, or (with a PIN assumed) the refusal of a wrong PIN it counted. */
  async function commitAlone<T = TransactionDto>(
    plan: Plan,
    idempotency: IdempotentRequest,
    assume: Assumptions,
  ): Promise<T> {
    const payload = statementOf(plan, { idempotency, assume });
    return retrySerializable(() => callJson<T>(database, "payments_execute", payload), {
      maxRetries: config.serializableMaxRetries,
      label: "payments_execute",
    }).catch(refusedDeposit(plan));
  }

  function counterpartyOf(party: Party) {
    return { type: party.type, id: party.id, name: party.name ?? (party.phone ? maskPhone(party.phone) : null) };
  }

  /** One transaction as `account` sees it. balanceAfter: that account's balance right after it. */
  async function toDto(row: Row, account: string): Promise<TransactionDto> {
    const [after] = await queryRows<{ balance_after: string | null }>(
      database.db,
      sql`select ${balanceAfterEntry}::text as balance_after
            from ledger_entries e join ledger_accounts a on a.id = e.account_id
           where e.journal_id = ${row.id} and e.account_id = ${account}
           order by e.id desc limit 1`,
    );
    const balanceAfter = after?.balance_after == null ? null : Number(after.balance_after);
    return transactionDto(row, { outgoing: row.payerAccount === account, balanceAfter });
  }

  /** Newest first. The cursor is opaque: base64url of "createdAt|id" of the last row returned. */
  async function listForAccount(account: string, options: { limit: number; cursor?: string }) {
    let before: { at: string; id: string } | undefined;
    if (options.cursor) {
      const [at, id] = Buffer.from(options.cursor, "base64url").toString().split("|");
      if (!at || !id || Number.isNaN(Date.parse(at)))
        throw new AppError("VALIDATION_FAILED", "The cursor is not valid.");
      before = { at, id };
    }
    const page = (side: ReturnType<typeof sql>) =>
      sql`(select * from transactions where ${side} = ${account}
           ${before ? sql`and (created_at, id) < (${before.at}::timestamptz, ${before.id})` : sql``}
           order by created_at desc, id desc limit ${options.limit + 1})`;
    const rows = await database.db
      .select()
      .from(transactions)
      .where(
        sql`${transactions.id} in (select id from (${page(sql`payer_account`)} union all ${page(sql`payee_account`)}) u)`,
      )
      .orderBy(sql`${transactions.createdAt} desc, ${transactions.id} desc`)
      .limit(options.limit + 1);
    const data = await Promise.all(rows.slice(0, options.limit).map((row) => toDto(row, account)));
    const last = rows.length > options.limit ? rows[options.limit - 1]! : undefined;
    const nextCursor = last ? Buffer.from(`${last.createdAt.toISOString()}|${last.id}`).toString("base64url") : null;
    return { data, nextCursor };
  }

  /** A transaction the account took part in; anyone else's is 404, never 403, so ids reveal nothing. */
  async function getForAccount(id: string, account: string): Promise<TransactionDto> {
    const [row] = await database.db.select().from(transactions).where(eq(transactions.id, id));
    if (!row || (row.payerAccount !== account && row.payeeAccount !== account))
      throw new AppError("NOT_FOUND", "No such transaction.");
    return toDto(row, account);
  }

  async function getForPartner(id: string, partnerId: string): Promise<TransactionDto> {
    const [row] = await database.db
      .select()
      .from(transactions)
      .where(and(eq(transactions.id, id), eq(transactions.partnerId, partnerId)));
    if (!row) throw new AppError("NOT_FOUND", "No such transaction.");
    // A partner has no wallet: the settlement account's balance is Keshless's books, not the partner's to see.
    const view = await toDto(row, row.payerType === "partner" ? row.payerAccount : row.payeeAccount);
    return { ...view, balanceAfter: null };
  }

  async function wallet(kind: "user_wallet" | "vendor_wallet", ownerId: string) {
    const balance = await ledger.balance(await walletOf(kind, ownerId));
    return {
      currency: "SZL",
      balance: toNumber(balance.balance),
      available: toNumber(balance.available),
      pending: toNumber(balance.held),
    };
  }

  return {
    planPayment,
    planTransfer,
    planDeposit,
    commit,
    commitAlone,
    listForAccount,
    getForAccount,
    getForPartner,
    wallet,
    walletOf,
    chargeOutflow,
    refundOutflow,
    refundOutflowAt,
  };
}

export type Payments = ReturnType<typeof createPayments>;
