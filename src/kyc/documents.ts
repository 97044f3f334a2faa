import { and, eq } from "drizzle-orm";
import type { Core } from "../core";
import { AppError } from "../http/errors";
import type { ObjectStore } from "../integrations/storage/types";
import { newObjectKey } from "../integrations/storage/types";
import { newId } from "../lib/ids";
import { CONTENT_TYPES, type ContentType, DOCUMENT_TYPES, type DocumentType, kycDocuments } from "./schema";

export { CONTENT_TYPES, type ContentType, DOCUMENT_TYPES, type DocumentType };

/** API.md: documents over 10 MB are refused, declared or stored. */
export const MAX_DOCUMENT_BYTES = 10_485_760;

export interface KycDocument {
  id: string;
  type: DocumentType;
  status: "awaiting_upload" | "uploaded" | "refused" | "deleted";
  contentType: ContentType;
  sizeBytes: number;
}

type Row = typeof kycDocuments.$inferSelect;

const toDocument = (r: Row): KycDocument => ({
  id: r.id,
  type: r.type as DocumentType,
  status: r.status as KycDocument["status"],
  contentType: r.contentType as ContentType,
  sizeBytes: Number(r.sizeBytes),
});

/** What the bytes are, by their first bytes: JPEG, PNG or PDF, else null. The declared type is never trusted. */
export function sniffContentType(head: Uint8Array): ContentType | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return "image/png";
  if (starts(0x25, 0x50, 0x44, 0x46, 0x2d)) return "application/pdf";
  return null;
}

export interface DocumentsDeps extends Pick<Core, "database" | "config" | "now" | "logger"> {
  store: ObjectStore;
}

/** Declares an upload: a row awaiting its bytes and a signed URL the app PUTs them to, straight to storage. */
export async function declareDocument(
  deps: DocumentsDeps,
  userId: string,
  input: { type: DocumentType; contentType: ContentType; sizeBytes: number },
) {
  if (input.sizeBytes > MAX_DOCUMENT_BYTES)
    throw new AppError("PAYLOAD_TOO_LARGE", `A document may be at most ${MAX_DOCUMENT_BYTES} bytes (10 MB).`, {
      maxBytes: MAX_DOCUMENT_BYTES,
    });
  if (input.type === "selfie" && !input.contentType.startsWith("image/"))
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "A selfie must be a JPEG or PNG image.");
  const now = deps.now();
  const id = newId("kyd");
  const objectKey = newObjectKey("kyc");
  const upload = await deps.store.signUpload({
    key: objectKey,
    contentType: input.contentType,
    sizeBytes: input.sizeBytes,
    expiresInSeconds: deps.config.kyc.uploadTtlSeconds,
  });
  const [row] = await deps.database.db
    .insert(kycDocuments)
    .values({
      id,
      userId,
      type: input.type,
      contentType: input.contentType,
      sizeBytes: input.sizeBytes,
      objectKey,
      status: "awaiting_upload",
      uploadExpiresAt: upload.expiresAt,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  return {
    id: row!.id,
    type: input.type,
    status: "awaiting_upload" as const,
    upload: {
      method: upload.method,
      url: upload.url,
      headers: upload.headers,
      expiresAt: upload.expiresAt.toISOString(),
    },
  };
}

async function ownDocument(deps: DocumentsDeps, userId: string, id: string): Promise<Row> {
  const [row] = await deps.database.db
    .select()
    .from(kycDocuments)
    .where(and(eq(kycDocuments.id, id), eq(kycDocuments.userId, userId)));
  if (!row || row.status === "deleted") throw new AppError("NOT_FOUND", "No such document.");
  return row;
}

async function refuse(deps: DocumentsDeps, row: Row, error: AppError): Promise<never> {
  // Deleted first: a refused object must not stay readable, whatever happens to the row update.
  await deps.store.delete(row.objectKey);
  await deps.database.db
    .update(kycDocuments)
    .set({ status: "refused", updatedAt: deps.now() })
    .where(eq(kycDocuments.id, row.id));
  throw error;
}

/**
 * The upload is done: the stored object (not the client's word) must exist, be no larger than declared and
 * start with the magic bytes of the declared type. A refused object is deleted. Completing twice is harmless.
 */
export async function completeDocument(deps: DocumentsDeps, userId: string, id: string): Promise<KycDocument> {
  const row = await ownDocument(deps, userId, id);
  if (row.status === "uploaded") return toDocument(row);
  if (row.status === "refused") throw new AppError("CONFLICT", "This document was refused; declare a new one.");
  const stored = await deps.store.stat(row.objectKey);
  if (!stored) throw new AppError("CONFLICT", "Nothing has been uploaded for this document yet.");
  const limit = Math.min(Number(row.sizeBytes), MAX_DOCUMENT_BYTES);
  if (stored.size > limit)
    return refuse(
      deps,
      row,
      new AppError("PAYLOAD_TOO_LARGE", `The upload is larger than the ${limit} bytes declared.`, { maxBytes: limit }),
    );
  const sniffed = sniffContentType(await deps.store.readHead(row.objectKey, 8));
  if (sniffed !== row.contentType)
    return refuse(
      deps,
      row,
      new AppError("UNSUPPORTED_MEDIA_TYPE", `The file is not the ${row.contentType} it was declared as.`),
    );
  const now = deps.now();
  const [updated] = await deps.database.db
    .update(kycDocuments)
    .set({ status: "uploaded", sizeBytes: stored.size, uploadedAt: now, updatedAt: now })
    .where(and(eq(kycDocuments.id, row.id), eq(kycDocuments.status, "awaiting_upload")))
    .returning();
  return toDocument(updated ?? { ...row, status: "uploaded", sizeBytes: stored.size });
}
