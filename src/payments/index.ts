/** What other domains may use of payments: the rest of the folder is its own business. */

export { type TransactionDto, transactionSchema } from "./dto";
export { holdIdFor, insertPendingTransaction, ownerContact, settleTransaction, transactionView } from "./held";
export type { OutflowCharge, Payments } from "./service";
export type { LimitsTable, TierLimitsCache } from "./tier-limits";
