/** What other domains may use of notifications: the rest of the folder is its own business. */
export type { Notifications } from "./service";
