import { createGcsStore, type GcsStoreOptions } from "./gcs";
import { createLocalStore, type LocalStore, type LocalStoreOptions } from "./local";
import type { Storage } from "./types";

export { createGcsStore, type GcsStoreOptions } from "./gcs";
export {
  assertObjectKey,
  isObjectKey,
  MAX_READ_SECONDS,
  MAX_SIGNED_SECONDS,
  newObjectKey,
  ObjectNotFoundError,
} from "./keys";
export { createLocalStore, type LocalStore, type LocalStoreOptions } from "./local";
export { localStorageRoutes } from "./local-routes";
export type { ObjectStore, SignedRead, SignedUpload, Storage, StoredObject } from "./types";

export interface StorageOptions {
  kind: "local" | "gcs";
  documentsBucket: string;
  backupsBucket: string;
  /** Required for `local`: everything of LocalStoreOptions but the bucket. */
  local?: Omit<LocalStoreOptions, "bucket">;
  /** For `gcs`: everything of GcsStoreOptions but the bucket (all optional: the runtime's credentials). */
  gcs?: Omit<GcsStoreOptions, "bucket">;
}

/**
 * The two buckets, from explicit options (the caller maps configuration onto them). `localStores` is what
 * `localStorageRoutes` serves: empty with GCS, where Google serves the signed URLs.
 */
export function createStorage(options: StorageOptions): { storage: Storage; localStores: LocalStore[] } {
  const buckets = { documents: options.documentsBucket, backups: options.backupsBucket };
  if (buckets.documents === buckets.backups) throw new TypeError("The documents and backups buckets must differ.");
  if (options.kind === "gcs") {
    const gcs = options.gcs ?? {};
    return {
      storage: {
        documents: createGcsStore({ ...gcs, bucket: buckets.documents }),
        backups: createGcsStore({ ...gcs, bucket: buckets.backups }),
      },
      localStores: [],
    };
  }
  const local = options.local;
  if (!local) throw new TypeError("Local storage needs its root folder, base URL and signing key.");
  const documents = createLocalStore({ ...local, bucket: buckets.documents });
  const backups = createLocalStore({ ...local, bucket: buckets.backups });
  return { storage: { documents, backups }, localStores: [documents, backups] };
}
