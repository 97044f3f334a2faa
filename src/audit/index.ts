/** What other domains may use of audit: the rest of the folder is its own business. */
export type { Actor, Audit, RequestMeta } from "./service";
