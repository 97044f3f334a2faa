import type { Logger } from "pino";
import { z } from "zod";
import type { Fetch } from "./eneza";
import { fitWithin, ImageError, imageFormat } from "./images";
import {
  cleanIdNumber,
  cleanText,
  emptyIdFields,
  ID_FIELDS,
  type IdField,
  type IdImage,
  type IdRead,
  type IdReader,
  ProviderError,
  type ProviderErrorDetails,
  parseDocumentDate,
} from "./kyc-types";

/**
 * Google Gemini generateContent as the ID reader's fallback (INTEGRATIONS.md §6): REST with
 * `x-goog-api-key`, a text instruction and the card's image(s) inline, and a JSON response schema; the JSON
 * comes back as text in the first candidate and is validated here before anyone trusts it.
 */

export interface GeminiReaderOptions {
  /** e.g. https://generativelanguage.googleapis.com, or a simulator's URL. */
  baseUrl: string;
  apiKey: string;
  /** e.g. gemini-2.5-flash ("models/…" accepted). */
  model: string;
  timeoutMs: number;
  fetch?: Fetch;
  logger?: Logger;
}

/** Gemini takes at most 20 MB per request, base64 included: two images of this size still fit. */
const GEMINI_INLINE_IMAGE_MAX_BYTES = 7 * 1024 * 1024;

export const GEMINI_INSTRUCTION = [
  "You read identity documents for a mobile-money wallet's KYC check.",
  "The images are the front (and possibly the back) of one national identity card, most likely from Eswatini,",
  "whose 13-digit personal ID number (PIN) starts with the holder's date of birth as YYMMDD.",
  "Read only what is printed on the card; do not infer or invent anything.",
  "Give names as printed, the ID number as digits only, and dates as YYYY-MM-DD.",
  "Use null for a field that is absent or that you cannot read.",
  "For every field give your confidence from 0 to 100 that the value is exactly what is printed (0 when null).",
].join(" ");

const confidenceSchema = { type: "NUMBER", minimum: 0, maximum: 100 } as const;
const FIELDS_ASKED = ["firstName", "middleName", "lastName", "idNumber", "dateOfBirth", "expirationDate"] as const;

/** The response schema Gemini is asked to follow (its OpenAPI subset). */
export const GEMINI_RESPONSE_SCHEMA = {
  type: "OBJECT",
  properties: {
    firstName: { type: "STRING", nullable: true, description: "Given name(s) as printed, without the surname" },
    middleName: { type: "STRING", nullable: true, description: "Middle name, when printed separately" },
    lastName: { type: "STRING", nullable: true, description: "Surname as printed" },
    idNumber: { type: "STRING", nullable: true, description: "Personal ID number, digits only" },
    dateOfBirth: { type: "STRING", nullable: true, description: "Date of birth, YYYY-MM-DD" },
    expirationDate: { type: "STRING", nullable: true, description: "Expiry date, YYYY-MM-DD" },
    confidence: {
      type: "OBJECT",
      properties: Object.fromEntries(FIELDS_ASKED.map((field) => [field, confidenceSchema])),
      required: ["firstName", "lastName", "idNumber", "dateOfBirth"],
    },
  },
  required: ["firstName", "lastName", "idNumber", "dateOfBirth", "confidence"],
  propertyOrdering: [...FIELDS_ASKED, "confidence"],
} as const;

const text = z.string().max(200).nullish();
const score = z.number().min(0).max(100);

/** What we accept back: the schema above, or a single overall confidence in place of the per-field ones. */
export const geminiReadSchema = z.object({
  firstName: text,
  middleName: text,
  lastName: text,
  idNumber: text,
  dateOfBirth: text,
  expirationDate: text,
  confidence: z.union([score, z.partialRecord(z.enum(FIELDS_ASKED), score.nullable())]),
});

const errorBody = z
  .object({
    error: z
      .object({
        code: z.number().optional(),
        status: z.string().optional(),
        message: z.string().optional(),
        details: z
          .array(z.object({ "@type": z.string().optional(), retryDelay: z.string().optional() }).loose())
          .optional(),
      })
      .loose(),
  })
  .loose();

const responseBody = z
  .object({
    candidates: z
      .array(
        z
          .object({
            content: z
              .object({
                parts: z
                  .array(z.object({ text: z.string().optional(), thought: z.boolean().optional() }).loose())
                  .optional(),
              })
              .loose()
              .optional(),
            finishReason: z.string().optional(),
          })
          .loose(),
      )
      .optional(),
    promptFeedback: z.object({ blockReason: z.string().optional() }).loose().optional(),
    responseId: z.string().optional(),
  })
  .loose();

/** Validated model output → the normalized read. Dates Gemini did not give as real YYYY-MM-DD dates count as not read. */
export function normalizeGeminiRead(output: z.infer<typeof geminiReadSchema>, requestId?: string): IdRead {
  const fields = emptyIdFields();
  fields.firstName = cleanText(output.firstName);
  fields.middleName = cleanText(output.middleName);
  fields.lastName = cleanText(output.lastName);
  fields.idNumber = cleanIdNumber(output.idNumber);
  fields.dateOfBirth = parseDocumentDate(output.dateOfBirth);
  fields.expirationDate = parseDocumentDate(output.expirationDate);
  const confidence: Partial<Record<IdField, number>> = {};
  for (const field of ID_FIELDS) {
    if (fields[field] === null) continue;
    const value = typeof output.confidence === "number" ? output.confidence : output.confidence[field];
    confidence[field] = value ?? 0;
  }
  return {
    provider: "gemini",
    fields,
    confidence,
    rawFieldTypes: ID_FIELDS.filter((field) => fields[field] !== null),
    ...(requestId ? { requestId } : {}),
  };
}

const retryDelayMs = (delay: string | undefined) => {
  const m = delay ? /^(\d+(?:\.\d+)?)s$/.exec(delay) : null;
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
};

function httpFailure(status: number, body: unknown): ProviderError {
  const parsed = errorBody.safeParse(body);
  const error = parsed.success ? parsed.data.error : undefined;
  const retryAfterMs = retryDelayMs(error?.details?.find((d) => d["@type"]?.endsWith("RetryInfo"))?.retryDelay);
  const details: ProviderErrorDetails = {
    status,
    ...(error?.status ? { code: error.status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
  const message = `HTTP ${status}${error?.status ? ` ${error.status}` : ""}: ${String(error?.message ?? "").slice(0, 200)}`;
  if (status === 429) return new ProviderError("gemini", "throttled", message, details);
  // A refused key is our outage, not the applicant's problem: retry once it is fixed.
  if (status >= 500 || status === 401 || status === 403)
    return new ProviderError("gemini", "unavailable", message, details);
  return new ProviderError("gemini", "invalid", message, details);
}

async function inlinePart(image: IdImage) {
  let bytes = image.bytes;
  if (imageFormat(bytes) !== "pdf") {
    try {
      bytes = await fitWithin(bytes, GEMINI_INLINE_IMAGE_MAX_BYTES);
    } catch (error) {
      if (error instanceof ImageError) throw new ProviderError("gemini", "unreadable", error.message);
      throw error;
    }
  }
  const mimeType = bytes === image.bytes ? image.contentType : "image/jpeg";
  return { inlineData: { mimeType, data: Buffer.from(bytes).toString("base64") } };
}

/** The request body, exported for the simulator's tests and for anyone checking what we send. */
export async function geminiRequestBody(images: { front: IdImage; back?: IdImage }) {
  const parts = [
    { text: GEMINI_INSTRUCTION },
    await inlinePart(images.front),
    ...(images.back ? [await inlinePart(images.back)] : []),
  ];
  return {
    contents: [{ role: "user", parts }],
    generationConfig: {
      temperature: 0,
      responseMimeType: "application/json",
      responseSchema: GEMINI_RESPONSE_SCHEMA,
    },
  };
}

async function readOnce(
  options: GeminiReaderOptions,
  images: { front: IdImage; back?: IdImage },
  signal?: AbortSignal,
) {
  const model = options.model.replace(/^models\//, "");
  const url = `${options.baseUrl.replace(/\/+$/, "")}/v1beta/models/${encodeURIComponent(model)}:generateContent`;
  const body = JSON.stringify(await geminiRequestBody(images));
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": options.apiKey },
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (error) {
    const timedOut = timeout.aborted;
    const name = error instanceof Error ? error.name : undefined;
    throw new ProviderError(
      "gemini",
      "unavailable",
      timedOut ? `timed out after ${options.timeoutMs} ms` : "unreachable",
      name ? { code: timedOut ? "TimeoutError" : name } : {},
    );
  }
  const reply: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw httpFailure(response.status, reply);
  const parsed = responseBody.safeParse(reply);
  if (!parsed.success) throw new ProviderError("gemini", "invalid", "response is not a generateContent reply");
  const requestId = parsed.data.responseId;
  const ids = requestId ? { requestId } : {};
  const blocked = parsed.data.promptFeedback?.blockReason;
  const candidate = parsed.data.candidates?.[0];
  if (!candidate)
    throw new ProviderError(
      "gemini",
      blocked ? "unreadable" : "invalid",
      blocked ? `prompt blocked (${blocked})` : "no candidate",
      {
        ...ids,
        ...(blocked ? { code: blocked } : {}),
      },
    );
  const answer = (candidate.content?.parts ?? [])
    .filter((part) => !part.thought && typeof part.text === "string")
    .map((part) => part.text)
    .join("");
  const finish = candidate.finishReason;
  if (!answer && finish && finish !== "STOP")
    throw new ProviderError("gemini", "unreadable", `no answer (finishReason ${finish})`, { ...ids, code: finish });
  let json: unknown;
  try {
    json = JSON.parse(answer);
  } catch {
    throw new ProviderError(
      "gemini",
      "invalid",
      `candidate text is not JSON${finish ? ` (finishReason ${finish})` : ""}`,
      ids,
    );
  }
  const output = geminiReadSchema.safeParse(json);
  if (!output.success) {
    // The paths only, never the values: they are what was read off someone's ID.
    const paths = output.error.issues.map((issue) => issue.path.join(".") || "(root)").slice(0, 5);
    throw new ProviderError(
      "gemini",
      "invalid",
      `candidate JSON does not match the schema at ${paths.join(", ")}`,
      ids,
    );
  }
  return normalizeGeminiRead(output.data, requestId);
}

export function createGeminiReader(options: GeminiReaderOptions): IdReader {
  const logger = options.logger;
  return {
    provider: "gemini",
    async read(images, callOptions = {}) {
      const started = performance.now();
      try {
        const read = await readOnce(options, images, callOptions.signal);
        logger?.debug(
          {
            provider: "gemini",
            pages: images.back ? 2 : 1,
            fieldsRead: read.rawFieldTypes.length,
            requestId: read.requestId,
            ms: Math.round(performance.now() - started),
          },
          "kyc id read",
        );
        return read;
      } catch (error) {
        const failure =
          error instanceof ProviderError
            ? error
            : new ProviderError("gemini", "invalid", error instanceof Error ? error.name : "failed");
        logger?.warn(
          { provider: "gemini", kind: failure.kind, ...failure.details, ms: Math.round(performance.now() - started) },
          "kyc id read failed",
        );
        throw failure;
      }
    },
  };
}
