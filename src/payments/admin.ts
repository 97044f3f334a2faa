import type { Approvals } from "../approvals";
import type { Audit } from "../audit";
import type { Core } from "../core";
import type { Identity } from "../identity";
import type { Ledger } from "../ledger";
import type { Notifications } from "../notifications";
import type { Webhooks } from "../webhooks";
import { searchTransactions, type TransactionFilter, transactionDetail } from "./admin-search";
import { transactionVolume } from "./admin-volume";
import { type AccountFilter, listAccounts, trialBalance } from "./ledger-views";
import { requestReversal, reversalKind } from "./reversals";
import type { Payments } from "./service";

/**
 * What admins see of money: transaction search and detail with the ledger journal behind it
 * (admin-search.ts), the trial balance and ledger accounts (ledger-views.ts), and reversals under
 * maker-checker with their "reversal" approval kind (reversals.ts).
 */

export type { AdminTransaction, TransactionFilter } from "./admin-search";

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
  return {
    search: (filter: TransactionFilter) => searchTransactions(deps, filter),
    detail: (id: string) => transactionDetail(deps, id),
    volume: (days: number) => transactionVolume(deps, days),
    trialBalance: () => trialBalance(deps),
    accounts: (filter: AccountFilter) => listAccounts(deps.database.db, filter),
    requestReversal: (args: Parameters<typeof requestReversal>[1]) => requestReversal(deps, args),
    approvalKinds: { reversal: reversalKind(deps) },
  };
}

export type PaymentsAdmin = ReturnType<typeof createPaymentsAdmin>;
