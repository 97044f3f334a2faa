import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeWebStream } from "node:stream/web";
import { type File, type FileMetadata, Storage as GcsClient } from "@google-cloud/storage";
import { assertObjectKey, checkRead, checkUpload, ObjectNotFoundError } from "./keys";
import type { ObjectStore, StoredObject } from "./types";

export interface GcsStoreOptions {
  bucket: string;
  /** An emulator or fake instead of Google (KESHLESS_GCS_API_ENDPOINT); signed URLs then point at it too. */
  apiEndpoint?: string;
  projectId?: string;
  /**
   * A service account key: URLs are then signed locally. Without one the library uses the runtime's
   * credentials and signs through IAM signBlob (the account needs Service Account Token Creator on itself).
   */
  credentials?: { client_email: string; private_key: string };
}

/**
 * Google Cloud Storage through @google-cloud/storage. Every URL is V4-signed (the library's default is v2,
 * which pins neither the headers nor the lifetime): uploads pin the Content-Type and
 * `x-goog-content-length-range: 0,<sizeBytes>`, so GCS itself refuses another type or one byte too many.
 */
export function createGcsStore(options: GcsStoreOptions): ObjectStore {
  const client = new GcsClient({
    ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
    ...(options.projectId ? { projectId: options.projectId } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
  const bucket = client.bucket(options.bucket);
  // Keys are checked as in the local adapter, so code that works on one cannot name a key the other refuses.
  const file = (key: string) => bucket.file(assertObjectKey(key));

  // X-Goog-Date has whole seconds: signing from a whole second makes expiresAt exactly what GCS enforces.
  const window = (seconds: number) => {
    const from = Math.floor(Date.now() / 1000) * 1000;
    return { accessibleAt: new Date(from), expires: from + seconds * 1000, expiresAt: new Date(from + seconds * 1000) };
  };

  return {
    bucket: options.bucket,

    async signUpload(input) {
      checkUpload(input);
      const { accessibleAt, expires, expiresAt } = window(input.expiresInSeconds);
      const lengthRange = `0,${input.sizeBytes}`;
      const [url] = await file(input.key).getSignedUrl({
        version: "v4",
        action: "write",
        accessibleAt,
        expires,
        contentType: input.contentType,
        extensionHeaders: { "x-goog-content-length-range": lengthRange },
      });
      // Signed headers: the client must send exactly these, or GCS refuses the signature.
      const headers = { "Content-Type": input.contentType, "x-goog-content-length-range": lengthRange };
      return { method: "PUT", url, headers, expiresAt };
    },

    async signRead(input) {
      checkRead(input);
      const { accessibleAt, expires, expiresAt } = window(input.expiresInSeconds);
      const [url] = await file(input.key).getSignedUrl({ version: "v4", action: "read", accessibleAt, expires });
      return { url, expiresAt };
    },

    async stat(key) {
      try {
        const [metadata] = await file(key).getMetadata();
        return storedObject(key, metadata);
      } catch (error) {
        if (status(error) === 404) return null;
        throw error;
      }
    },

    async readHead(key, bytes) {
      if (bytes <= 0) return new Uint8Array(0);
      try {
        const chunks: Buffer[] = [];
        let length = 0;
        // A ranged read: only the first bytes cross the wire, however large the object.
        for await (const chunk of file(key).createReadStream({ start: 0, end: bytes - 1 })) {
          chunks.push(chunk);
          length += chunk.length;
          if (length >= bytes) break;
        }
        return new Uint8Array(Buffer.concat(chunks).subarray(0, bytes));
      } catch (error) {
        // 416: the object is empty, so no byte is in range.
        if (status(error) === 416) return new Uint8Array(0);
        throw notFound(error, options.bucket, key);
      }
    },

    async read(key) {
      try {
        const [contents] = await file(key).download();
        return new Uint8Array(contents);
      } catch (error) {
        throw notFound(error, options.bucket, key);
      }
    },

    async write(key, body, contentType) {
      let size = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          done(null, chunk);
        },
      });
      const source =
        body instanceof Uint8Array
          ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)])
          : Readable.fromWeb(body as unknown as NodeWebStream);
      // Resumable, in one streamed request: memory holds a chunk at a time, never the whole backup.
      await pipeline(
        source,
        counter,
        file(key).createWriteStream({ resumable: true, contentType, metadata: { contentType } }),
      );
      return { size };
    },

    async readStream(key) {
      const stream = file(key).createReadStream();
      // The request goes out on the first read; wait for its answer so a missing object rejects here
      // (a failed answer is announced as a response too, then as the error that follows it).
      await new Promise<void>((resolve, reject) => {
        stream.once("response", (response: { statusCode?: number }) => {
          if ((response.statusCode ?? 0) < 300) resolve();
        });
        stream.once("error", (error) => reject(notFound(error, options.bucket, key)));
        stream.pause();
        stream.read(0);
      });
      return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
    },

    async delete(key) {
      await file(key).delete({ ignoreNotFound: true });
    },

    async list(prefix) {
      const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
      return files.map((found: File) => storedObject(found.name, found.metadata));
    },
  };
}

function storedObject(key: string, metadata: FileMetadata): StoredObject {
  return {
    key,
    size: Number(metadata.size ?? 0),
    contentType: metadata.contentType ?? null,
    updatedAt: new Date(metadata.updated ?? metadata.timeCreated ?? 0),
  };
}

const status = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "number" ? code : undefined;
};

const notFound = (error: unknown, bucket: string, key: string) =>
  status(error) === 404 ? new ObjectNotFoundError(bucket, key) : error;
