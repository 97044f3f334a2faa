/** What other domains may use of storage: the two buckets behind one interface. */
export type { ObjectStore, Storage } from "../integrations/storage";
