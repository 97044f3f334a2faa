/** What other domains may use of webhooks: the rest of the folder is its own business. */
export type { Webhooks } from "./service";
