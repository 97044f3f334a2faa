import { and, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import type { Core } from "../core";
import type { ObjectStore } from "../integrations/storage/types";
import { kycDocuments, kycSubmissions } from "./schema";

const DAY = 86_400_000;
/** Uploaded and never submitted: personal documents with no purpose left after this. */
const UNUSED_DAYS = 30;
const BATCH = 200;

/**
 * Documents past their use: a rejected submission's, once compliance's retention period
 * (KESHLESS_KYC_REJECTED_RETENTION_DAYS) has passed since the decision, and uploads never submitted after 30 days.
 * An open submission's (processing or in review) and an approved one's are never touched. The object goes first,
 * then the row is marked deleted, so a failure half-way is finished by the next run.
 */
export async function sweepDocuments(
  deps: Pick<Core, "database" | "config" | "logger"> & { store: ObjectStore },
  now: Date,
): Promise<number> {
  const { db } = deps.database;
  const rejectedBefore = new Date(now.getTime() - deps.config.kyc.rejectedRetentionDays * DAY);
  const rejected = await db
    .select({ id: kycSubmissions.id, documentIds: kycSubmissions.documentIds })
    .from(kycSubmissions)
    .where(
      and(
        eq(kycSubmissions.status, "rejected"),
        isNull(kycSubmissions.documentsPurgedAt),
        lt(kycSubmissions.decidedAt, rejectedBefore),
      ),
    )
    .limit(BATCH);
  const unused = await db
    .select({ id: kycDocuments.id })
    .from(kycDocuments)
    .where(
      and(
        isNull(kycDocuments.submissionId),
        inArray(kycDocuments.status, ["awaiting_upload", "uploaded"]),
        lt(kycDocuments.createdAt, new Date(now.getTime() - UNUSED_DAYS * DAY)),
      ),
    )
    .limit(BATCH);
  const ids = [...rejected.flatMap((s) => s.documentIds), ...unused.map((d) => d.id)];
  let deleted = 0;
  if (ids.length) {
    const documents = await db
      .select({ id: kycDocuments.id, objectKey: kycDocuments.objectKey })
      .from(kycDocuments)
      .where(and(inArray(kycDocuments.id, ids), sql`${kycDocuments.status} <> 'deleted'`));
    for (const doc of documents) {
      await deps.store.delete(doc.objectKey);
      await db
        .update(kycDocuments)
        .set({ status: "deleted", deletedAt: now, updatedAt: now })
        .where(eq(kycDocuments.id, doc.id));
      deleted++;
    }
  }
  if (rejected.length)
    await db
      .update(kycSubmissions)
      .set({ documentsPurgedAt: now })
      .where(
        inArray(
          kycSubmissions.id,
          rejected.map((s) => s.id),
        ),
      );
  return deleted;
}
