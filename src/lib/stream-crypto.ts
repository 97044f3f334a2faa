import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * Authenticated encryption of a byte stream of any length, one chunk in memory at a time: the STREAM
 * construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015) as age and Tink's streaming AEAD use it.
 *
 * Layout: a header, then chunks. The header holds the magic, the format version, the id of the key, the chunk
 * size, a random salt and a random nonce prefix. Each object is sealed under its own key, HKDF-SHA-256 of the
 * named key and the salt, so nonces never repeat across objects whatever the prefix. Chunk i is AES-256-GCM of
 * `chunkSize` plaintext bytes (the last one fewer, possibly none) with nonce = prefix (7) ‖ i (4, big-endian) ‖
 * last-chunk flag (1), and the whole header as additional data. So a changed byte anywhere (header included), a
 * chunk moved, dropped or repeated, a stream cut at a chunk boundary (the new last chunk was not sealed as last)
 * and bytes appended after the end are all refused — by the chunk where they happen, before its plaintext is
 * handed on. What came out before that point was genuine but is not the whole: a consumer that must not act on
 * part of a stream reads it through once to the end (a verify) before acting on it.
 */

const MAGIC = Buffer.from("KSHLSTRM", "ascii");
const VERSION = 1;
const SALT_BYTES = 16;
const PREFIX_BYTES = 7;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const MAX_KEY_ID = 64;
const KEY_ID = /^[\x21-\x7e]{1,64}$/;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** A header claiming more is refused before anything is buffered for it. */
export const MAX_CHUNK_SIZE = 8 * 1024 * 1024;
const MAX_CHUNKS = 2 ** 32;
const HKDF_INFO = Buffer.from("keshless stream v1", "ascii");

export interface StreamKey {
  /** Printable ASCII, 1–64 characters: written in the clear in every header so decryption finds its key. */
  id: string;
  /** 32 bytes. */
  key: Uint8Array;
}

/** The key new streams are sealed under, and earlier keys that still open what was sealed under them. */
export interface Keyring {
  current: StreamKey;
  previous: readonly StreamKey[];
}

export type StreamCryptoFailure =
  /** Not this format at all (another file, or the header's first bytes damaged). */
  | "not_encrypted"
  | "unsupported_version"
  /** Sealed under a key id this keyring does not hold. */
  | "unknown_key"
  /** A chunk failed authentication: changed, moved, dropped, or another key under the same id. */
  | "damaged"
  /** The stream ended inside the header, or without its last chunk. */
  | "truncated";

export class StreamCryptoError extends Error {
  override name = "StreamCryptoError";
  constructor(
    readonly reason: StreamCryptoFailure,
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
  }
}

export function createKeyring(current: StreamKey, previous: readonly StreamKey[] = []): Keyring {
  const seen = new Set<string>();
  for (const key of [current, ...previous]) {
    if (!KEY_ID.test(key.id)) throw new TypeError(`A stream key id is 1–${MAX_KEY_ID} printable ASCII characters.`);
    if (key.key.byteLength !== KEY_BYTES) throw new TypeError(`Stream key ${key.id} is not ${KEY_BYTES} bytes.`);
    if (seen.has(key.id)) throw new TypeError(`Stream key id ${key.id} is given twice.`);
    seen.add(key.id);
  }
  return { current, previous };
}

export interface StreamStats {
  /** Chunks sealed or opened so far. */
  chunks: number;
  /** Plaintext bytes sealed or opened so far. */
  bytes: number;
  /** The key id the stream names (known once the header is read, when decrypting). */
  keyId: string | null;
}

/** A transform with the running count of what went through it. */
export interface CryptoStream extends ReadableWritablePair<Uint8Array, Uint8Array> {
  readonly stats: StreamStats;
}

interface Header {
  bytes: Buffer;
  keyId: string;
  chunkSize: number;
  salt: Buffer;
  prefix: Buffer;
}

function encodeHeader(keyId: string, chunkSize: number, salt: Buffer, prefix: Buffer): Header {
  const id = Buffer.from(keyId, "ascii");
  const size = Buffer.alloc(4);
  size.writeUInt32BE(chunkSize);
  const bytes = Buffer.concat([MAGIC, Buffer.from([VERSION, id.length]), id, size, salt, prefix]);
  return { bytes, keyId, chunkSize, salt, prefix };
}

/** The header's length once its first 10 bytes are known (magic, version, key id length). */
function headerLength(idLength: number) {
  return MAGIC.length + 2 + idLength + 4 + SALT_BYTES + PREFIX_BYTES;
}

function parseHeaderStart(start: Buffer): number {
  if (!start.subarray(0, MAGIC.length).equals(MAGIC))
    throw new StreamCryptoError("not_encrypted", "This is not an encrypted stream (its header is missing or damaged).");
  const version = start[MAGIC.length]!;
  if (version !== VERSION)
    throw new StreamCryptoError(
      "unsupported_version",
      `The stream is format version ${version}; this reads ${VERSION}.`,
    );
  const idLength = start[MAGIC.length + 1]!;
  if (idLength < 1 || idLength > MAX_KEY_ID)
    throw new StreamCryptoError("not_encrypted", "This is not an encrypted stream (its header is damaged).");
  return headerLength(idLength);
}

function parseHeader(bytes: Buffer): Header {
  let at = MAGIC.length + 2;
  const idLength = bytes[MAGIC.length + 1]!;
  const keyId = bytes.subarray(at, at + idLength).toString("latin1");
  at += idLength;
  const chunkSize = bytes.readUInt32BE(at);
  at += 4;
  const salt = bytes.subarray(at, at + SALT_BYTES);
  at += SALT_BYTES;
  const prefix = bytes.subarray(at, at + PREFIX_BYTES);
  if (!KEY_ID.test(keyId) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE)
    throw new StreamCryptoError("not_encrypted", "This is not an encrypted stream (its header is damaged).");
  return { bytes, keyId, chunkSize, salt, prefix };
}

const objectKey = (key: Uint8Array, salt: Buffer) => Buffer.from(hkdfSync("sha256", key, salt, HKDF_INFO, KEY_BYTES));

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  if (index >= MAX_CHUNKS) throw new StreamCryptoError("damaged", "The stream has more chunks than the format allows.");
  const value = Buffer.alloc(12);
  prefix.copy(value, 0);
  value.writeUInt32BE(index, PREFIX_BYTES);
  value[11] = last ? 1 : 0;
  return value;
}

/** Bytes arriving in pieces of any size, taken out in pieces of the size the format needs. */
class ByteQueue {
  private parts: Buffer[] = [];
  length = 0;
  push(bytes: Uint8Array) {
    if (bytes.byteLength === 0) return;
    this.parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.length += bytes.byteLength;
  }
  peek(n: number): Buffer {
    return Buffer.concat(this.parts, Math.min(n, this.length)).subarray(0, n);
  }
  take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const part = this.parts[0]!;
      const need = n - filled;
      if (part.length <= need) {
        part.copy(out, filled);
        filled += part.length;
        this.parts.shift();
      } else {
        part.copy(out, filled, 0, need);
        this.parts[0] = part.subarray(need);
        filled += need;
      }
    }
    this.length -= n;
    return out;
  }
}

/**
 * Seals what is written into it under the keyring's current key. Holds at most two chunks: a full chunk waits
 * until more input shows it is not the last.
 */
export function createEncryptStream(keyring: Keyring, options: { chunkSize?: number } = {}): CryptoStream {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE)
    throw new RangeError(`The chunk size is 1 to ${MAX_CHUNK_SIZE} bytes, not ${chunkSize}.`);
  const { id, key } = keyring.current;
  const header = encodeHeader(id, chunkSize, randomBytes(SALT_BYTES), randomBytes(PREFIX_BYTES));
  const sealKey = objectKey(key, header.salt);
  const stats: StreamStats = { chunks: 0, bytes: 0, keyId: id };
  const queue = new ByteQueue();

  const seal = (plain: Buffer, last: boolean): Buffer => {
    const cipher = createCipheriv("aes-256-gcm", sealKey, nonce(header.prefix, stats.chunks, last));
    cipher.setAAD(header.bytes);
    const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    stats.chunks += 1;
    stats.bytes += plain.length;
    return sealed;
  };

  const transform = new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(header.bytes));
    },
    transform(chunk, controller) {
      queue.push(chunk);
      // Strictly more than a chunk: the last full one might be the stream's last.
      while (queue.length > chunkSize) controller.enqueue(new Uint8Array(seal(queue.take(chunkSize), false)));
    },
    flush(controller) {
      controller.enqueue(new Uint8Array(seal(queue.take(queue.length), true)));
    },
  });
  return { readable: transform.readable, writable: transform.writable, stats };
}

/**
 * Opens a stream sealed by createEncryptStream under any key of the keyring. Every chunk is authenticated
 * before its plaintext is passed on; the stream errors with a StreamCryptoError at the first chunk (or header)
 * that fails, and at the end when the last chunk is missing.
 */
export function createDecryptStream(keyring: Keyring): CryptoStream {
  const keys = new Map([keyring.current, ...keyring.previous].map((k) => [k.id, k.key]));
  const stats: StreamStats = { chunks: 0, bytes: 0, keyId: null };
  const queue = new ByteQueue();
  let header: Header | undefined;
  let openKey: Buffer | undefined;

  const open = (sealed: Buffer, last: boolean): Buffer => {
    const h = header!;
    const decipher = createDecipheriv("aes-256-gcm", openKey!, nonce(h.prefix, stats.chunks, last));
    decipher.setAAD(h.bytes);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new StreamCryptoError(
        "damaged",
        stats.chunks === 0
          ? `Chunk 0 does not authenticate under key ${h.keyId}: the key is wrong or the stream is damaged.`
          : last
            ? `The stream's end does not authenticate (chunk ${stats.chunks}): it is truncated or damaged.`
            : `Chunk ${stats.chunks} does not authenticate: the stream is damaged or its chunks were reordered.`,
        h.keyId,
      );
    }
    stats.chunks += 1;
    stats.bytes += plain.length;
    return plain;
  };

  const readHeader = (): boolean => {
    if (header) return true;
    if (queue.length < MAGIC.length + 2) return false;
    const length = parseHeaderStart(queue.peek(MAGIC.length + 2));
    if (queue.length < length) return false;
    header = parseHeader(queue.take(length));
    stats.keyId = header.keyId;
    const key = keys.get(header.keyId);
    if (!key)
      throw new StreamCryptoError(
        "unknown_key",
        `The stream is sealed under key ${header.keyId}, which is neither the current key nor a previous one.`,
        header.keyId,
      );
    openKey = objectKey(key, header.salt);
    return true;
  };

  const transform = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      queue.push(chunk);
      if (!readHeader()) return;
      const sealedSize = header!.chunkSize + TAG_BYTES;
      while (queue.length > sealedSize) controller.enqueue(new Uint8Array(open(queue.take(sealedSize), false)));
    },
    flush(controller) {
      if (!header) {
        // Too short to tell: refuse as what it is not, before as what it might be.
        if (queue.length >= MAGIC.length + 2) parseHeaderStart(queue.peek(MAGIC.length + 2));
        else if (!MAGIC.subarray(0, queue.length).equals(queue.peek(queue.length)))
          throw new StreamCryptoError("not_encrypted", "This is not an encrypted stream.");
        throw new StreamCryptoError("truncated", "The stream ends inside its header.");
      }
      if (queue.length < TAG_BYTES)
        throw new StreamCryptoError(
          "truncated",
          `The stream ends without its last chunk (after ${stats.chunks} chunks).`,
          header.keyId,
        );
      controller.enqueue(new Uint8Array(open(queue.take(queue.length), true)));
    },
  });
  return { readable: transform.readable, writable: transform.writable, stats };
}
