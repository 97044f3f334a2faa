/** What other domains may use of airtime: the rest of the folder is its own business. */
export type { Airtime } from "./service";
