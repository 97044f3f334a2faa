/**
 * Object storage as the app uses it: two buckets (KYC documents, backups) behind one interface, with a GCS
 * adapter (gcs.ts) and a local folder for the embedded default (local.ts). Clients never get a bucket's
 * credentials: they PUT and GET through short-lived signed URLs, so bytes go to storage, not through the API.
 */

// Beside the interface because callers that hold an ObjectStore also name the keys they put in it.
export { newObjectKey } from "./keys";

export interface SignedUpload {
  method: "PUT";
  url: string;
  headers: Record<string, string>;
  expiresAt: Date;
}

export interface SignedRead {
  url: string;
  expiresAt: Date;
}

export interface StoredObject {
  key: string;
  size: number;
  contentType: string | null;
  updatedAt: Date;
}

export interface ObjectStore {
  readonly bucket: string;
  /** A URL the client PUTs exactly `sizeBytes` (at most) of `contentType` to, with `headers`, before expiresAt. */
  signUpload(input: {
    key: string;
    contentType: string;
    sizeBytes: number;
    expiresInSeconds: number;
  }): Promise<SignedUpload>;
  /** A read URL, at most 15 minutes. */
  signRead(input: { key: string; expiresInSeconds: number }): Promise<SignedRead>;
  stat(key: string): Promise<StoredObject | null>;
  /** The first `bytes` bytes (magic-byte checks) without reading the whole object. */
  readHead(key: string, bytes: number): Promise<Uint8Array>;
  read(key: string): Promise<Uint8Array>;
  write(key: string, body: ReadableStream<Uint8Array> | Uint8Array, contentType: string): Promise<{ size: number }>;
  readStream(key: string): Promise<ReadableStream<Uint8Array>>;
  delete(key: string): Promise<void>; // idempotent
  list(prefix: string): Promise<StoredObject[]>;
}

export interface Storage {
  documents: ObjectStore;
  backups: ObjectStore;
}
