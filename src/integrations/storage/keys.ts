import { AppError, type StatesItself } from "../../http/errors";
import { randomToken } from "../../lib/crypto";

/** API.md "KYC": a document is readable for at most 15 minutes per URL. */
export const MAX_READ_SECONDS = 900;
/** The longest any V4-signed GCS URL may live (INTEGRATIONS.md §7); the local adapter keeps the same bound. */
export const MAX_SIGNED_SECONDS = 604_800;
const MAX_KEY_LENGTH = 512;

/**
 * One path segment: letters, digits, `-`, `_`, and dots only between them. No `.`/`..`, no empty segment,
 * no leading dot (the local adapter keeps its metadata and temp files as dotfiles beside the objects, so
 * no key can name one), nothing that needs percent-encoding in a URL path.
 */
const SEGMENT = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

export const isObjectKey = (key: string): boolean =>
  typeof key === "string" && key.length <= MAX_KEY_LENGTH && key.split("/").every((part) => SEGMENT.test(part));

/** Both adapters refuse any other key, so a key is never a way out of its bucket's folder or into another URL. */
export function assertObjectKey(key: string): string {
  if (!isObjectKey(key)) throw new TypeError(`Not a valid object key: ${JSON.stringify(String(key).slice(0, 80))}.`);
  return key;
}

/**
 * `<prefix>/<192 random bits, base64url>`: a document's key is unguessable, so knowing one user's key says
 * nothing of another's, and a URL for one object can never be edited into a URL for the next.
 */
export function newObjectKey(prefix: string): string {
  const base = prefix.replace(/\/+$/, "");
  return assertObjectKey(base ? `${base}/${randomToken(24)}` : randomToken(24));
}

/** The checks both adapters make before signing: a mistake here is the caller's bug, not the client's. */
export function checkUpload(input: { key: string; contentType: string; sizeBytes: number; expiresInSeconds: number }) {
  assertObjectKey(input.key);
  // Signed as a header value: no line breaks that could split it into two.
  if (!/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(?:\s*;[\x20-\x7e]*)?$/.test(input.contentType) || input.contentType.length > 255)
    throw new TypeError(`Not a content type: ${JSON.stringify(input.contentType.slice(0, 80))}.`);
  if (!Number.isSafeInteger(input.sizeBytes) || input.sizeBytes < 0)
    throw new RangeError(`sizeBytes must be a whole number of bytes, not ${input.sizeBytes}.`);
  checkLifetime(input.expiresInSeconds, MAX_SIGNED_SECONDS);
}

export function checkRead(input: { key: string; expiresInSeconds: number }) {
  assertObjectKey(input.key);
  checkLifetime(input.expiresInSeconds, MAX_READ_SECONDS);
}

function checkLifetime(seconds: number, max: number) {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > max)
    throw new RangeError(`A signed URL lives 1 to ${max} seconds, not ${seconds}.`);
}

/** read/readHead/readStream of a key nothing is stored under. */
export class ObjectNotFoundError extends Error implements StatesItself {
  override name = "ObjectNotFoundError";
  constructor(
    readonly bucket: string,
    readonly key: string,
  ) {
    super(`No object ${key} in ${bucket}.`);
  }
  toAppError(): AppError {
    return new AppError("NOT_FOUND", "No such object.");
  }
}
