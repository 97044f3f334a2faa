import type { Logger } from "pino";

/**
 * What the KYC adapters (Textract, Gemini, Rekognition) share: the normalized ID read, the one error type
 * the verification worker branches on, and the AWS client wiring. Nothing here knows the KYC domain.
 */

export type ProviderName = "textract" | "gemini" | "rekognition";

/**
 * How a call failed, in the terms the worker decides on:
 * - throttled: the provider said "slow down" (ThrottlingException, ProvisionedThroughputExceededException,
 *   HTTP 429) — retry later;
 * - unavailable: no usable answer this time (5xx, network, timeout, missing or refused credentials) — retry
 *   later, or fall back to the other reader;
 * - invalid: an answer we cannot use (malformed or off-schema output, a 4xx refusal of our request) — fall back,
 *   else review; retrying the same request would get the same answer;
 * - unreadable: the image itself was refused (not a supported format, too large, no document in it, a
 *   safety block) — review, or ask for a new picture.
 */
export type ProviderErrorKind = "throttled" | "unavailable" | "invalid" | "unreadable";

export interface ProviderErrorDetails {
  /** The provider's error code (AWS exception name, Gemini `error.status`), when it sent one. */
  code?: string;
  status?: number;
  requestId?: string;
  /** How long the provider asked us to wait (Gemini's RetryInfo), when it said. */
  retryAfterMs?: number;
}

/** The message never carries image bytes or what was read from the document. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    readonly provider: ProviderName,
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: ProviderErrorDetails = {},
  ) {
    super(message);
  }

  /** Worth trying the same call again later. */
  get retryable(): boolean {
    return this.kind === "throttled" || this.kind === "unavailable";
  }
}

export const isProviderError = (error: unknown): error is ProviderError => error instanceof ProviderError;

/** One picture of a document: the stored bytes and their (magic-byte checked) content type. */
export interface IdImage {
  bytes: Uint8Array;
  contentType: string;
}

export interface IdImages {
  front: IdImage;
  back?: IdImage;
}

/** What a reader found on the document; null when the field was not read (an empty value counts as not read). */
export interface IdFields {
  firstName: string | null;
  middleName: string | null;
  lastName: string | null;
  /** The document number as printed, spaces and dashes removed; for an Eswatini card, the 13-digit PIN. */
  idNumber: string | null;
  /** YYYY-MM-DD. */
  dateOfBirth: string | null;
  /** YYYY-MM-DD. */
  expirationDate: string | null;
}

export type IdField = keyof IdFields;

export const ID_FIELDS: readonly IdField[] = [
  "firstName",
  "middleName",
  "lastName",
  "idNumber",
  "dateOfBirth",
  "expirationDate",
];

/** The fields a submission cannot be decided without. */
export const REQUIRED_ID_FIELDS: readonly IdField[] = ["firstName", "lastName", "idNumber", "dateOfBirth"];

export interface IdRead {
  provider: "textract" | "gemini";
  fields: IdFields;
  /** 0–100, only for the fields that were read. */
  confidence: Partial<Record<IdField, number>>;
  /**
   * The provider's own names for what it read with a value (Textract: FIRST_NAME, DOCUMENT_NUMBER, ID_TYPE…;
   * Gemini: the JSON keys), for the review screen and for tuning — never the values.
   */
  rawFieldTypes: string[];
  requestId?: string;
}

export interface IdReader {
  readonly provider: IdRead["provider"];
  /** Throws ProviderError only. */
  read(images: IdImages, options?: { signal?: AbortSignal }): Promise<IdRead>;
}

/** The required fields missing from a read or read below `minConfidence` (0–100): empty means the read is enough. */
export function weakIdFields(read: IdRead, minConfidence: number): IdField[] {
  return REQUIRED_ID_FIELDS.filter(
    (field) => read.fields[field] === null || (read.confidence[field] ?? 0) < minConfidence,
  );
}

export const emptyIdFields = (): IdFields => ({
  firstName: null,
  middleName: null,
  lastName: null,
  idNumber: null,
  dateOfBirth: null,
  expirationDate: null,
});

/** Trimmed, inner whitespace collapsed; "" → null. */
export function cleanText(value: string | null | undefined): string | null {
  const text = value?.replace(/\s+/g, " ").trim();
  return text ? text : null;
}

export function cleanIdNumber(value: string | null | undefined): string | null {
  const text = value?.replace(/[\s-]+/g, "");
  return text ? text : null;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};

function isoDate(year: number, month: number, day: number): string | null {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/**
 * A printed date as YYYY-MM-DD, or null. Numeric day/month orders are accepted only when unambiguous
 * (one part above 12): a US reader prints 01-05-1948 for 5 January, an Eswatini card 05-01-1948, and a
 * guessed date of birth would be worse than none (the read then goes to the fallback or to review).
 */
export function parseDocumentDate(value: string | null | undefined): string | null {
  const text = value?.trim().toLowerCase();
  if (!text) return null;
  let m = /^(\d{4})[-/. ]?(\d{2})[-/. ]?(\d{2})(?:t.*)?$/.exec(text);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})$/.exec(text);
  if (m) {
    const [a, b, year] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (a > 12 && b <= 12) return isoDate(year, b, a);
    if (b > 12 && a <= 12) return isoDate(year, a, b);
    return a === b ? isoDate(year, a, b) : null;
  }
  m = /^(\d{1,2})[-/. ]*([a-z]{3})[a-z]*\.?[-/., ]*(\d{4})$/.exec(text);
  if (m && MONTHS[m[2]!]) return isoDate(Number(m[3]), MONTHS[m[2]!]!, Number(m[1]));
  m = /^([a-z]{3})[a-z]*\.?[-/. ]*(\d{1,2}),?[-/. ]*(\d{4})$/.exec(text);
  if (m && MONTHS[m[1]!]) return isoDate(Number(m[3]), MONTHS[m[1]!]!, Number(m[2]));
  return null;
}

/** Options shared by the Textract and Rekognition adapters. */
export interface AwsClientOptions {
  region: string;
  /** Any server speaking AWS JSON 1.1 (the simulator, a fake); unset → AWS. */
  endpoint?: string;
  /** Unset → AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) read at call time, nothing else. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Total attempts per call, first included: 1 leaves every retry to the caller. */
  maxAttempts: number;
  /** Per attempt; unset → 30 s. */
  timeoutMs?: number;
  logger?: Logger;
}

const DEFAULT_AWS_TIMEOUT_MS = 30_000;

/**
 * Only the environment's keys, never the SDK's default chain: that chain ends at the EC2 instance-metadata
 * address, which we do not run on (and must not probe), and it would hide a missing key behind timeouts.
 */
function envCredentials(provider: ProviderName) {
  return async () => {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey)
      throw new ProviderError(
        provider,
        "unavailable",
        "no AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)",
        {
          code: "CredentialsMissing",
        },
      );
    const sessionToken = process.env.AWS_SESSION_TOKEN;
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  };
}

/** The client configuration both AWS adapters use: our retry budget, our timeout, no SDK logging. */
export function awsClientConfig(provider: ProviderName, options: AwsClientOptions) {
  const timeout = options.timeoutMs ?? DEFAULT_AWS_TIMEOUT_MS;
  return {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    credentials: options.credentials ?? envCredentials(provider),
    maxAttempts: options.maxAttempts,
    retryMode: "standard",
    requestHandler: { connectionTimeout: timeout, requestTimeout: timeout },
  };
}

const THROTTLED = new Set([
  "ThrottlingException",
  "Throttling",
  "ProvisionedThroughputExceededException",
  "LimitExceededException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
]);
const UNREADABLE = new Set([
  "BadDocumentException",
  "UnsupportedDocumentException",
  "DocumentTooLargeException",
  "ImageTooLargeException",
  "InvalidImageFormatException",
]);
// A refused or missing key is an outage on our side, not a reason to send the person to review.
const UNAVAILABLE = new Set([
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "CredentialsProviderError",
  "ServiceUnavailableException",
  "InternalServerError",
  "InternalServerErrorException",
  "TimeoutError",
  "AbortError",
]);

/** Any error from an AWS SDK v3 client → ProviderError (an existing ProviderError passes through). */
export function fromAwsError(provider: ProviderName, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as {
    name?: string;
    message?: string;
    $fault?: "client" | "server";
    $metadata?: { httpStatusCode?: number; requestId?: string };
    $retryable?: { throttling?: boolean };
    code?: unknown;
  };
  // A socket failure comes as a plain Error with a node code (ECONNREFUSED, ECONNRESET).
  const code = e.name && e.name !== "Error" ? e.name : typeof e.code === "string" ? e.code : undefined;
  const status = e.$metadata?.httpStatusCode;
  const details: ProviderErrorDetails = {
    ...(code ? { code } : {}),
    ...(status ? { status } : {}),
    ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}),
  };
  const message = `${code ?? "error"}${status ? ` (HTTP ${status})` : ""}: ${String(e.message ?? "").slice(0, 200)}`;
  let kind: ProviderErrorKind;
  if ((code && THROTTLED.has(code)) || e.$retryable?.throttling || status === 429) kind = "throttled";
  else if (code && UNREADABLE.has(code)) kind = "unreadable";
  else if ((code && UNAVAILABLE.has(code)) || e.$fault === "server" || (status ?? 0) >= 500 || !status)
    // No status at all: the request never got an HTTP answer (refused connection, reset, timeout).
    kind = "unavailable";
  else kind = "invalid";
  return new ProviderError(provider, kind, message, details);
}
