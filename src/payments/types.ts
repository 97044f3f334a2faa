import type { Executor } from "../db/client";
import type { TransactionType } from "./dto";

/** What planning, commit, limits and history share: the parties, what payments reads of identity, and the Plan. */

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

/** A usage counter an outflow bumped: the period ("d:2026-11-26", "m:2026-11") and the cents added. */
export interface OutflowCharge {
  period: string;
  amount: string;
}
