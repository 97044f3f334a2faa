import { mkdir, open, readdir, readFile, rename, rm, stat as statFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { AppError } from "../../http/errors";
import { constantTimeEqual, hmacSha256Hex, randomToken } from "../../lib/crypto";
import { assertObjectKey, checkRead, checkUpload, isObjectKey, ObjectNotFoundError } from "./keys";
import type { ObjectStore, SignedRead, SignedUpload, StoredObject } from "./types";

export interface LocalStoreOptions {
  bucket: string;
  /** The folder objects live under, as `<root>/<bucket>/<key>`: e.g. `<dataDir>/objects`. */
  root: string;
  /** The app's public URL (e.g. http://localhost:8080): signed URLs are `${baseUrl}/storage/<bucket>/<key>?…`. */
  baseUrl: string;
  /** The HMAC-SHA-256 secret URLs are signed with. */
  key: string | Buffer;
  now?: () => Date;
}

/** What a signed URL allows, once `verify` has accepted it. */
export interface Grant {
  /** PUT only: the Content-Type the upload must carry, and the most bytes it may have. */
  contentType: string | null;
  maxLength: number | null;
}

/**
 * The local adapter, plus what its HTTP side (local-routes.ts) needs: checking a URL it signed, and moving
 * bytes between a request and a file without holding them in memory.
 */
export interface LocalStore extends ObjectStore {
  readonly kind: "local";
  /** The grant a URL carries, or why it carries none (tampered, expired, signed for another method). */
  verify(method: "PUT" | "GET", key: string, query: URLSearchParams): Grant | { refused: string };
  /** Streams `body` into `key`, refusing it (and keeping nothing) once it passes `maxBytes`. */
  receive(
    key: string,
    body: ReadableStream<Uint8Array> | null,
    contentType: string,
    maxBytes: number,
  ): Promise<{ size: number }>;
  /** The stored object and a stream of its bytes, or null. */
  open(key: string): Promise<{ object: StoredObject; stream: ReadableStream<Uint8Array> } | null>;
}

const BUCKET = /^[a-z0-9][a-z0-9._-]{1,62}$/;
const SIGNING_VERSION = "KESHLESS-STORAGE-V1";

/**
 * Objects as files under `<root>/<bucket>/<key>`, each with its content type in a dotfile beside it
 * (`.<name>.meta.json`: no key can name a dotfile, see keys.ts). Writes go to a dotted temp file renamed
 * into place, so a reader never sees half an object and a refused upload leaves nothing behind.
 */
export function createLocalStore(options: LocalStoreOptions): LocalStore {
  const { bucket, key: secret } = options;
  if (!BUCKET.test(bucket)) throw new TypeError(`Not a bucket name: ${JSON.stringify(bucket)}.`);
  const now = options.now ?? (() => new Date());
  const folder = resolve(options.root, bucket);
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const files = { folder, bucket };

  const signature = (method: string, key: string, expires: string, contentType = "", maxLength = "") =>
    hmacSha256Hex(secret, [SIGNING_VERSION, method, bucket, key, expires, contentType, maxLength].join("\n"));

  function signedUrl(method: "PUT" | "GET", key: string, expiresAt: Date, put?: { contentType: string; max: number }) {
    const expires = String(Math.floor(expiresAt.getTime() / 1000));
    const query = new URLSearchParams(put ? { contentType: put.contentType, maxLength: String(put.max) } : {});
    query.set("expires", expires);
    // `token`, not `signature`: the request log redacts a parameter of that name (src/http/logger.ts).
    query.set("token", signature(method, key, expires, put?.contentType, put ? String(put.max) : undefined));
    return `${baseUrl}/storage/${bucket}/${key}?${query}`;
  }

  // Whole seconds, as the URL carries them: expiresAt is exactly when verify starts refusing.
  const expiry = (seconds: number) => new Date((Math.floor(now().getTime() / 1000) + seconds) * 1000);

  return {
    kind: "local",
    bucket,

    async signUpload(input): Promise<SignedUpload> {
      checkUpload(input);
      const expiresAt = expiry(input.expiresInSeconds);
      return {
        method: "PUT",
        url: signedUrl("PUT", input.key, expiresAt, { contentType: input.contentType, max: input.sizeBytes }),
        headers: { "Content-Type": input.contentType },
        expiresAt,
      };
    },

    async signRead(input): Promise<SignedRead> {
      checkRead(input);
      const expiresAt = expiry(input.expiresInSeconds);
      return { url: signedUrl("GET", input.key, expiresAt), expiresAt };
    },

    verify(method, key, query) {
      const expires = query.get("expires") ?? "";
      const given = query.get("token") ?? "";
      const contentType = query.get("contentType");
      const maxLength = query.get("maxLength");
      if (!isObjectKey(key) || !/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(given))
        return { refused: "This is not a signed storage URL." };
      if (method === "PUT" && (contentType === null || maxLength === null || !/^\d{1,16}$/.test(maxLength)))
        return { refused: "This URL is not signed for uploads." };
      const expected = signature(method, key, expires, contentType ?? undefined, maxLength ?? undefined);
      if (!constantTimeEqual(expected, given)) return { refused: "The URL's signature does not match." };
      if (now().getTime() >= Number(expires) * 1000) return { refused: "The URL has expired." };
      return { contentType, maxLength: maxLength === null ? null : Number(maxLength) };
    },

    async receive(key, body, contentType, maxBytes) {
      const size = await writeObject(files, key, contentType, body, maxBytes);
      return { size };
    },

    async open(key) {
      const object = await statObject(files, key);
      return object && { object, stream: Bun.file(pathOf(files, key)).stream() };
    },

    stat: (key) => statObject(files, key),

    async readHead(key, bytes) {
      const handle = await openExisting(files, key);
      try {
        const buffer = new Uint8Array(Math.max(0, bytes));
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buffer.subarray(0, filled);
      } finally {
        await handle.close();
      }
    },

    async read(key) {
      try {
        return new Uint8Array(await readFile(pathOf(files, key)));
      } catch (error) {
        throw missing(error) ? new ObjectNotFoundError(bucket, key) : error;
      }
    },

    async write(key, body, contentType) {
      return { size: await writeObject(files, key, contentType, body, Number.POSITIVE_INFINITY) };
    },

    async readStream(key) {
      if (!(await statObject(files, key))) throw new ObjectNotFoundError(bucket, key);
      return Bun.file(pathOf(files, key)).stream();
    },

    async delete(key) {
      await rm(pathOf(files, key), { force: true });
      await rm(metaPathOf(files, key), { force: true });
    },

    async list(prefix) {
      let names: string[];
      try {
        names = await readdir(folder, { recursive: true });
      } catch (error) {
        if (missing(error)) return [];
        throw error;
      }
      const keys = names
        .map((name) => name.split(sep).join("/"))
        .filter((key) => key.startsWith(prefix) && isObjectKey(key))
        .sort();
      const objects = await Promise.all(keys.map((key) => statObject(files, key)));
      return objects.filter((object): object is StoredObject => object !== null);
    },
  };
}

interface Files {
  folder: string;
  bucket: string;
}

function pathOf({ folder }: Files, key: string): string {
  const path = join(folder, ...assertObjectKey(key).split("/"));
  // assertObjectKey already rules out any way up; this makes the rule visible where the path is built.
  if (relative(folder, path).startsWith("..")) throw new TypeError("An object key left its bucket.");
  return path;
}

const metaPathOf = (files: Files, key: string) => {
  const path = pathOf(files, key);
  return join(dirname(path), `.${basename(path)}.meta.json`);
};

const missing = (error: unknown) => ["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException)?.code ?? "");

async function openExisting(files: Files, key: string) {
  try {
    return await open(pathOf(files, key), "r");
  } catch (error) {
    throw missing(error) ? new ObjectNotFoundError(files.bucket, key) : error;
  }
}

async function statObject(files: Files, key: string): Promise<StoredObject | null> {
  let info: Awaited<ReturnType<typeof statFile>>;
  try {
    info = await statFile(pathOf(files, key));
  } catch (error) {
    if (missing(error)) return null;
    throw error;
  }
  if (!info.isFile()) return null;
  let contentType: string | null = null;
  try {
    contentType = JSON.parse(await readFile(metaPathOf(files, key), "utf8")).contentType ?? null;
  } catch {
    // An object whose metadata is missing or unreadable still exists; its type is just unknown.
  }
  return { key, size: info.size, contentType, updatedAt: info.mtime };
}

/**
 * Streams `body` to a temp file beside the object, counting bytes, then renames it into place: memory holds
 * one chunk at a time, whatever the size. Past `maxBytes` the source is cancelled, the temp file removed, and
 * 413 thrown, so a refused upload stores nothing.
 */
async function writeObject(
  files: Files,
  key: string,
  contentType: string,
  body: ReadableStream<Uint8Array> | Uint8Array | null,
  maxBytes: number,
): Promise<number> {
  const path = pathOf(files, key);
  await mkdir(dirname(path), { recursive: true });
  const temp = join(dirname(path), `.${basename(path)}.${randomToken(9)}.tmp`);
  const handle = await open(temp, "wx");
  let size = 0;
  try {
    const append = async (chunk: Uint8Array) => {
      size += chunk.byteLength;
      if (size > maxBytes)
        throw new AppError("PAYLOAD_TOO_LARGE", `The body is larger than the ${maxBytes} bytes this URL allows.`);
      for (let at = 0; at < chunk.byteLength; ) at += (await handle.write(chunk, at)).bytesWritten;
    };
    if (body instanceof Uint8Array) await append(body);
    else if (body) {
      const reader = body.getReader();
      try {
        for (let next = await reader.read(); !next.done; next = await reader.read()) await append(next.value);
      } catch (error) {
        await reader.cancel().catch(() => {});
        throw error;
      }
    }
    await handle.datasync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  await rename(temp, path);
  const meta = `${temp}.meta`;
  await writeFile(meta, JSON.stringify({ contentType }));
  await rename(meta, metaPathOf(files, key));
  return size;
}
