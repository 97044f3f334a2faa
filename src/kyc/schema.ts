import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { users } from "../identity/schema";
import type { SubmissionChecks } from "./checks";

const tz = { withTimezone: true } as const;

export const DOCUMENT_TYPES = ["id_front", "id_back", "passport", "selfie", "proof_of_address"] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];
export const CONTENT_TYPES = ["image/jpeg", "image/png", "application/pdf"] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/**
 * A document a user uploads for KYC: declared first (type, content type, size), then PUT straight to object
 * storage by a signed URL — the bytes never pass through the API — then completed, when the stored object's
 * size and magic bytes are checked. The object key is random and unguessable; reads are by signed URL only.
 */
export const kycDocuments = pgTable(
  "kyc_documents",
  {
    id: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id),
    type: text().$type<DocumentType>().notNull(),
    contentType: text().$type<ContentType>().notNull(),
    /** What the user declared; the stored object may be no larger. */
    sizeBytes: bigint({ mode: "number" }).notNull(),
    objectKey: text().notNull().unique(),
    /** awaiting_upload · uploaded · refused · deleted */
    status: text().notNull(),
    /** The submission that used it (a document serves one submission). */
    submissionId: text(),
    uploadExpiresAt: timestamp(tz).notNull(),
    uploadedAt: timestamp(tz),
    deletedAt: timestamp(tz),
    createdAt: timestamp(tz).notNull(),
    updatedAt: timestamp(tz).notNull(),
  },
  (t) => [
    index("kyc_documents_user_idx").on(t.userId, t.createdAt.desc()),
    index("kyc_documents_submission_idx").on(t.submissionId),
    check("kyc_documents_status", sql`${t.status} in ('awaiting_upload','uploaded','refused','deleted')`),
    check("kyc_documents_type", sql`${t.type} in ('id_front','id_back','passport','selfie','proof_of_address')`),
  ],
);

/**
 * A user's claim to a tier: an ID number and documents, checked in the background (ID reading, face match,
 * ID number, sanctions) and then approved at once or sent to review with every reason. While `processing` it is
 * the verification worker's queue, the way outboxes are (src/db/claim.ts): a worker leases it by moving
 * `next_attempt_at`, so a worker that dies mid-check gives it back when the lease passes.
 */
export const kycSubmissions = pgTable(
  "kyc_submissions",
  {
    id: text().primaryKey(),
    userId: text()
      .notNull()
      .references(() => users.id),
    /** The national ID number as the user typed it (never logged). */
    idNumber: text().notNull(),
    documentIds: jsonb().$type<string[]>().notNull(),
    /** processing · in_review · approved · rejected */
    status: text().notNull(),
    /** The tier the documents can reach (1: ID read and checked; 2: and a matching selfie). */
    tierRequested: smallint().notNull(),
    /** The tier granted on approval. */
    tierGranted: smallint(),
    /** Why it is in review, or why it was rejected: every reason, each a code and a sentence. */
    reasons: jsonb().$type<{ code: string; message: string }[]>().notNull().default([]),
    /** What each check found (ocr, faceMatch, idNumber, sanctions), as the admin detail shows it. */
    checks: jsonb().$type<Partial<SubmissionChecks>>().notNull().default({}),
    /** The verification worker's lease and tries while `processing` (src/db/claim.ts). */
    attempts: integer().notNull().default(0),
    nextAttemptAt: timestamp(tz).notNull(),
    lastError: text(),
    /** The name and date of birth as the document shows them (what the user's profile takes on approval). */
    documentName: text(),
    documentDateOfBirth: date({ mode: "string" }),
    decidedBy: text(),
    decidedAt: timestamp(tz),
    note: text(),
    reason: text(),
    /** Set when a rejected submission's documents were deleted by retention. */
    documentsPurgedAt: timestamp(tz),
    createdAt: timestamp(tz).notNull(),
    updatedAt: timestamp(tz).notNull(),
  },
  (t) => [
    // One open submission per user: a second while one is processing or in review is 409.
    uniqueIndex("kyc_submissions_one_open_idx").on(t.userId).where(sql`${t.status} in ('processing','in_review')`),
    index("kyc_submissions_queue_idx").on(t.status, t.createdAt.desc(), t.id.desc()),
    index("kyc_submissions_user_idx").on(t.userId, t.createdAt.desc()),
    index("kyc_submissions_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'processing'`),
    check("kyc_submissions_status", sql`${t.status} in ('processing','in_review','approved','rejected')`),
  ],
);
