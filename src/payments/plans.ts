import type { Config } from "../config";
import { AppError } from "../http/errors";
import { computeFee, type Ledger } from "../ledger";
import { newId } from "../lib/ids";
import { assertAmount, formatAmount } from "../lib/money";
import { maskPhone } from "../lib/phone";
import { type PaymentsContext, walletOf } from "./context";
import { outflowLimits, tierLimits } from "./limits";
import type { Party, PartyLookup, Plan, UserLike } from "./types";

/**
 * Planning: everything that can be read before the money moves — the parties, their wallets, the fee and
 * the tier limits (held in memory: limits.ts) — read into a Plan that commit.ts writes in one statement. Nothing
 * here writes.
 */

export interface PaymentInput {
  userId: string;
  vendorCode: string;
  amount: number;
  currency: string;
  reference?: string | null;
}

export interface TransferInput {
  userId: string;
  toPhone: string;
  amount: number;
  currency: string;
  note?: string | null;
}

export interface DepositInput {
  partnerId: string;
  phone: string;
  amount: number;
  currency: string;
  externalReference: string;
}

async function activeUser(userId: string, lookup: PartyLookup): Promise<UserLike> {
  const user = await lookup.userById(userId);
  if (!user) throw new AppError("UNAUTHENTICATED", "Unknown user.");
  if (user.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This account cannot move money right now.");
  return user;
}

function splitFee(config: Pick<Config, "fees">, type: string, amount: bigint) {
  const { fee, bearer } = computeFee(config.fees, type, amount);
  const debit = bearer === "sender" ? amount + fee : amount;
  const credit = bearer === "receiver" ? amount - fee : amount;
  return { fee, bearer, debit, credit };
}

async function feeLeg(ledger: Ledger, fee: bigint) {
  if (fee === 0n) return [];
  const account = await ledger.systemAccount("fee_revenue", "SZL");
  return [{ accountId: account.id, amount: fee }];
}

export async function planPayment(
  c: PaymentsContext,
  input: PaymentInput,
  lookup: PartyLookup = c.freshLookup,
): Promise<Plan> {
  const { config } = c;
  assertAmount(input.amount, input.currency, config.maxAmount);
  const limits = c.tierLimits.current() ?? (await c.tierLimits.load());
  const user = await activeUser(input.userId, lookup);
  const vendor = await lookup.vendorByCode(input.vendorCode.trim().toUpperCase());
  if (!vendor) throw new AppError("NOT_FOUND", "No vendor has that code.");
  if (vendor.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This vendor cannot take payments right now.");
  const amount = BigInt(input.amount);
  const { fee, bearer, debit, credit } = splitFee(config, "payment", amount);
  const [payerAccount, payeeAccount, fees] = await Promise.all([
    walletOf(c, "user_wallet", user.id),
    walletOf(c, "vendor_wallet", vendor.id),
    feeLeg(c.ledger, fee),
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
    limits: outflowLimits(c, limits, user, debit),
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

export async function planTransfer(
  c: PaymentsContext,
  input: TransferInput,
  lookup: PartyLookup = c.freshLookup,
): Promise<Plan> {
  const { config } = c;
  assertAmount(input.amount, input.currency, config.maxAmount);
  const limits = c.tierLimits.current() ?? (await c.tierLimits.load());
  const user = await activeUser(input.userId, lookup);
  const recipient = await lookup.userByPhone(input.toPhone);
  if (!recipient)
    throw new AppError("NOT_FOUND", "That number has no Keshless wallet yet. Ask them to join, then send again.");
  if (recipient.id === user.id) throw new AppError("VALIDATION_FAILED", "You cannot send money to yourself.");
  if (recipient.status !== "active")
    throw new AppError("ACCOUNT_FROZEN", "That wallet cannot receive money right now.");
  const amount = BigInt(input.amount);
  const { fee, bearer, debit, credit } = splitFee(config, "transfer", amount);
  const [payerAccount, payeeAccount, fees] = await Promise.all([
    walletOf(c, "user_wallet", user.id),
    walletOf(c, "user_wallet", recipient.id),
    feeLeg(c.ledger, fee),
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
    limits: outflowLimits(c, limits, user, debit),
    maxBalances: [
      {
        account: payeeAccount,
        max: String(tierLimits(limits, recipient.kycTier).maxBalance),
        name: "recipientMaxBalance",
      },
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

/** A partner's deposit: its parties are always read fresh (the fast lane takes only users' payments and transfers). */
export async function planDeposit(c: PaymentsContext, input: DepositInput): Promise<Plan> {
  const { config, ledger, ports } = c;
  assertAmount(input.amount, input.currency, config.maxAmount);
  const limits = c.tierLimits.current() ?? (await c.tierLimits.load());
  const partner = await ports.partners.get(input.partnerId);
  if (partner?.status !== "active") throw new AppError("FORBIDDEN", "This partner cannot deposit.");
  const user = await ports.users.findByPhone(input.phone);
  if (!user) throw new AppError("NOT_FOUND", "No Keshless wallet has that phone number.");
  if (user.status !== "active") throw new AppError("ACCOUNT_FROZEN", "That wallet cannot receive money right now.");
  const amount = BigInt(input.amount);
  const { fee, bearer, debit, credit } = splitFee(config, "deposit", amount);
  const [settlement, payeeAccount, fees] = await Promise.all([
    ledger.systemAccount("partner_settlement", "SZL", partner.id),
    walletOf(c, "user_wallet", user.id),
    feeLeg(ledger, fee),
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
    maxBalances: [
      { account: payeeAccount, max: String(tierLimits(limits, user.kycTier).maxBalance), name: "maxBalance" },
    ],
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
