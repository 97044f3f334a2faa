import type { GcsStoreOptions } from "./gcs";
import { createLocalStore, type LocalStore, type LocalStoreOptions } from "./local";
import type { ObjectStore, Storage } from "./types";

/**
 * A GCS store whose client library (about 30 MB resident) loads on first use, not at boot: an instance that
 * never touches a document or a backup — most of them, serving payments — never pays for it.
 */
function lazyGcsStore(options: GcsStoreOptions): ObjectStore {
  let store: Promise<ObjectStore> | undefined;
  const get = () => {
    store ??= import("./gcs").then((m) => m.createGcsStore(options));
    return store;
  };
  return {
    bucket: options.bucket,
    signUpload: async (input) => (await get()).signUpload(input),
    signRead: async (input) => (await get()).signRead(input),
    stat: async (key) => (await get()).stat(key),
    readHead: async (key, bytes) => (await get()).readHead(key, bytes),
    read: async (key) => (await get()).read(key),
    write: async (key, body, contentType) => (await get()).write(key, body, contentType),
    readStream: async (key) => (await get()).readStream(key),
    delete: async (key) => (await get()).delete(key),
    list: async (prefix) => (await get()).list(prefix),
  };
}

export type { GcsStoreOptions } from "./gcs";
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
        documents: lazyGcsStore({ ...gcs, bucket: buckets.documents }),
        backups: lazyGcsStore({ ...gcs, bucket: buckets.backups }),
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
