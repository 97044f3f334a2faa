import { AnalyzeIDCommand, type IdentityDocument, TextractClient } from "@aws-sdk/client-textract";
import { AWS_INLINE_IMAGE_MAX_BYTES, fitWithin, ImageError } from "./images";
import {
  type AwsClientOptions,
  awsClientConfig,
  cleanIdNumber,
  cleanText,
  emptyIdFields,
  fromAwsError,
  type IdField,
  type IdImage,
  type IdRead,
  type IdReader,
  ProviderError,
  parseDocumentDate,
} from "./kyc-types";

/**
 * AWS Textract AnalyzeID through the real SDK client (INTEGRATIONS.md §5): the front and, when there is one,
 * the back of the card as two document pages. AnalyzeID is built for US licences and passports, so on an
 * Eswatini card expect fields back empty ("Text": "") — the caller then asks Gemini.
 */

const FIELD_OF_TYPE: Record<string, IdField> = {
  FIRST_NAME: "firstName",
  MIDDLE_NAME: "middleName",
  LAST_NAME: "lastName",
  DOCUMENT_NUMBER: "idNumber",
  DATE_OF_BIRTH: "dateOfBirth",
  EXPIRATION_DATE: "expirationDate",
};

const DATE_FIELDS = new Set<IdField>(["dateOfBirth", "expirationDate"]);

function fieldValue(field: IdField, text: string | undefined, normalized: string | undefined): string | null {
  if (DATE_FIELDS.has(field)) {
    // The normalized value (dates only) is Textract's own reading of the printed order; trust it over ours.
    if (!cleanText(text) && !normalized) return null;
    return parseDocumentDate(normalized?.slice(0, 10)) ?? parseDocumentDate(text);
  }
  return field === "idNumber" ? cleanIdNumber(text) : cleanText(text);
}

/** AnalyzeID's documents (one per page) → one read: per field, the value read with the highest confidence. */
export function normalizeAnalyzeId(documents: IdentityDocument[] | undefined, requestId?: string): IdRead {
  const read: IdRead = {
    provider: "textract",
    fields: emptyIdFields(),
    confidence: {},
    rawFieldTypes: [],
    ...(requestId ? { requestId } : {}),
  };
  const seen = new Set<string>();
  for (const document of documents ?? []) {
    for (const item of document.IdentityDocumentFields ?? []) {
      const type = item.Type?.Text;
      const detection = item.ValueDetection;
      if (!type || !cleanText(detection?.Text)) continue;
      seen.add(type);
      const field = FIELD_OF_TYPE[type];
      if (!field) continue;
      const value = fieldValue(field, detection?.Text, detection?.NormalizedValue?.Value);
      const confidence = detection?.Confidence ?? 0;
      if (value === null || confidence <= (read.confidence[field] ?? -1)) continue;
      read.fields[field] = value;
      read.confidence[field] = confidence;
    }
  }
  read.rawFieldTypes = [...seen].sort();
  return read;
}

async function pageBytes(image: IdImage): Promise<Uint8Array> {
  try {
    return await fitWithin(image.bytes, AWS_INLINE_IMAGE_MAX_BYTES);
  } catch (error) {
    if (error instanceof ImageError) throw new ProviderError("textract", "unreadable", error.message);
    throw error;
  }
}

export function createTextractReader(options: AwsClientOptions): IdReader & { client: TextractClient; close(): void } {
  const client = new TextractClient(awsClientConfig("textract", options));
  const logger = options.logger;
  return {
    provider: "textract",
    client,
    close: () => client.destroy(),
    async read(images, callOptions = {}) {
      const started = performance.now();
      const pages = [images.front, ...(images.back ? [images.back] : [])];
      try {
        const DocumentPages = await Promise.all(pages.map(async (page) => ({ Bytes: await pageBytes(page) })));
        const output = await client.send(
          new AnalyzeIDCommand({ DocumentPages }),
          callOptions.signal ? { abortSignal: callOptions.signal } : {},
        );
        const read = normalizeAnalyzeId(output.IdentityDocuments, output.$metadata.requestId);
        logger?.debug(
          {
            provider: "textract",
            pages: pages.length,
            fieldsRead: Object.keys(read.confidence).length,
            requestId: read.requestId,
            ms: Math.round(performance.now() - started),
          },
          "kyc id read",
        );
        return read;
      } catch (error) {
        const failure = fromAwsError("textract", error);
        logger?.warn(
          { provider: "textract", kind: failure.kind, ...failure.details, ms: Math.round(performance.now() - started) },
          "kyc id read failed",
        );
        throw failure;
      }
    },
  };
}
