/** What other domains may use of withdrawals: the rest of the folder is its own business. */
export type { Withdrawals } from "./service";
