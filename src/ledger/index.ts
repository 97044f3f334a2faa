/** What other domains may use of ledger: the rest of the folder is its own business. */

export { computeFee } from "./fees";
export { type AccountKind, balanceAfterEntry, type Ledger, LedgerError } from "./service";
