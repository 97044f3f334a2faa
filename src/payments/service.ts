import type { Executor } from "../db/client";
import type { IdempotentRequest } from "../http/idempotency";
import { commit, commitAlone } from "./commit";
import { type PaymentsContext, type PaymentsDeps, paymentsContext, type WalletKind, walletOf } from "./context";
import type { TransactionDto } from "./dto";
import { getForAccount, getForPartner, listForAccount, wallet } from "./history";
import { chargeOutflow, refundOutflow, refundOutflowAt } from "./limits";
import {
  type DepositInput,
  type PaymentInput,
  planDeposit,
  planPayment,
  planTransfer,
  type TransferInput,
} from "./plans";
import type { Assumptions, PartyLookup, Plan, UserLike } from "./types";

/**
 * Payments, P2P transfers and partner deposits. Everything that can be read before the money moves
 * (parties, accounts, fee, tier limits) is read first, into a Plan (plans.ts); `commit` then writes the plan
 * in the caller's SERIALIZABLE transaction with one call to payments_commit (usage limits + ledger journal +
 * transaction row) and queues the notifications in the same transaction (commit.ts). The KYC limits and the
 * usage counters other outflows charge are in limits.ts; the wallet, statement and transaction views in
 * history.ts. This factory only wires them to one context (context.ts).
 */

export type {
  Assumptions,
  OutflowCharge,
  Party,
  PartyLookup,
  PartyType,
  PaymentsPorts,
  Plan,
  UserLike,
  VendorLike,
} from "./types";

export function createPayments(deps: PaymentsDeps) {
  const c: PaymentsContext = paymentsContext(deps);
  const { database } = c;
  return {
    planPayment: (input: PaymentInput, lookup?: PartyLookup) => planPayment(c, input, lookup),
    planTransfer: (input: TransferInput, lookup?: PartyLookup) => planTransfer(c, input, lookup),
    planDeposit: (input: DepositInput) => planDeposit(c, input),
    commit: (plan: Plan, tx: Executor) => commit(c, plan, tx),
    commitAlone: <T = TransactionDto>(plan: Plan, idempotency: IdempotentRequest, assume: Assumptions) =>
      commitAlone<T>(c, plan, idempotency, assume),
    listForAccount: (account: string, options: { limit: number; cursor?: string }) =>
      listForAccount(database, account, options),
    getForAccount: (id: string, account: string) => getForAccount(database, id, account),
    getForPartner: (id: string, partnerId: string) => getForPartner(database, id, partnerId),
    wallet: (kind: WalletKind, ownerId: string) => wallet(c, kind, ownerId),
    walletOf: (kind: WalletKind, ownerId: string) => walletOf(c, kind, ownerId),
    chargeOutflow: (user: Pick<UserLike, "id" | "kycTier">, outflow: bigint, tx: Executor) =>
      chargeOutflow(c, user, outflow, tx),
    refundOutflow,
    refundOutflowAt,
    /** Batches the fast lane wrote and the movements in them (tests and benchmarks read these). */
    groupCommitStats: c.groupCommit.stats,
  };
}

export type Payments = ReturnType<typeof createPayments>;
