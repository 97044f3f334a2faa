import { and, desc, eq, inArray, type SQL } from "drizzle-orm";
import type { Core } from "../core";
import { withTransaction } from "../db/transaction";
import type { RequestMeta } from "../http/context";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { users } from "../identity/schema";
import type { ObjectStore } from "../integrations/storage/types";
import type { Reason } from "./checks";
import { type OutcomeDeps, recordDecision } from "./outcome";
import { kycDocuments, kycSubmissions } from "./schema";
import type { SubmissionStatus } from "./submissions";

export interface ReviewDeps extends Pick<Core, "database" | "config" | "now" | "logger">, OutcomeDeps {
  store: ObjectStore;
}

type Row = typeof kycSubmissions.$inferSelect;

function summary(r: Row, user: { id: string; phone: string; name: string | null }) {
  return {
    id: r.id,
    user,
    status: r.status as SubmissionStatus,
    tier: r.tierGranted ?? r.tierRequested,
    tierRequested: r.tierRequested,
    reasons: r.reasons as Reason[],
    createdAt: r.createdAt.toISOString(),
  };
}

/** The review queue, newest first: by status and by user. */
export async function listSubmissions(
  deps: ReviewDeps,
  filter: { status?: SubmissionStatus; userId?: string; limit: number; cursor?: string },
) {
  const where: (SQL | undefined)[] = [
    filter.status ? eq(kycSubmissions.status, filter.status) : undefined,
    filter.userId ? eq(kycSubmissions.userId, filter.userId) : undefined,
    filter.cursor ? after(filter.cursor, kycSubmissions.createdAt, kycSubmissions.id) : undefined,
  ];
  const rows = await deps.database.db
    .select({ s: kycSubmissions, user: { id: users.id, phone: users.phone, name: users.name } })
    .from(kycSubmissions)
    .innerJoin(users, eq(users.id, kycSubmissions.userId))
    .where(and(...where))
    .orderBy(desc(kycSubmissions.createdAt), desc(kycSubmissions.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    data: page.map((r) => summary(r.s, r.user)),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.s.createdAt, last.s.id) : null,
  };
}

async function load(deps: ReviewDeps, id: string) {
  const [row] = await deps.database.db
    .select({ s: kycSubmissions, user: { id: users.id, phone: users.phone, name: users.name } })
    .from(kycSubmissions)
    .innerJoin(users, eq(users.id, kycSubmissions.userId))
    .where(eq(kycSubmissions.id, id));
  if (!row) throw new AppError("NOT_FOUND", "No such submission.");
  return row;
}

/** One submission with every check, and its documents behind signed read URLs (≤ 15 minutes). */
export async function getSubmission(deps: ReviewDeps, id: string) {
  const { s, user } = await load(deps, id);
  const documents = await deps.database.db.select().from(kycDocuments).where(inArray(kycDocuments.id, s.documentIds));
  const checks = s.checks;
  return {
    ...summary(s, user),
    idNumber: s.idNumber,
    documentName: s.documentName,
    documentDateOfBirth: s.documentDateOfBirth,
    checks: {
      ocr: checks.ocr ?? null,
      faceMatch: checks.faceMatch ?? null,
      idNumber: checks.idNumber ?? null,
      sanctions: checks.sanctions ?? null,
    },
    decidedBy: s.decidedBy,
    decidedAt: s.decidedAt?.toISOString() ?? null,
    note: s.note,
    reason: s.reason,
    documents: await Promise.all(
      documents
        .filter((d) => d.status === "uploaded")
        .map(async (d) => {
          const read = await deps.store.signRead({
            key: d.objectKey,
            expiresInSeconds: deps.config.kyc.readTtlSeconds,
          });
          return {
            id: d.id,
            type: d.type,
            contentType: d.contentType,
            url: read.url,
            expiresAt: read.expiresAt.toISOString(),
          };
        }),
    ),
  };
}

const TIERS = (deps: ReviewDeps) =>
  Object.keys(deps.config.kycLimits)
    .map(Number)
    .filter((t) => t > 0);

/**
 * An admin decides a submission still open (processing or in review): approve at a tier the configuration knows,
 * or reject with a reason. Audited and told to the user in the same transaction; the tier applies at once.
 */
export async function decideSubmission(
  deps: ReviewDeps,
  id: string,
  decision: { status: "approved"; tier: number; note?: string } | { status: "rejected"; reason: string },
  admin: { id: string },
  meta: RequestMeta,
) {
  if (decision.status === "approved" && !TIERS(deps).includes(decision.tier))
    throw new AppError("VALIDATION_FAILED", "No such tier.", [
      { path: "tier", message: `one of ${TIERS(deps).join(", ")}` },
    ]);
  await withTransaction(
    deps,
    async (tx) => {
      const [row] = await tx.select().from(kycSubmissions).where(eq(kycSubmissions.id, id)).for("update");
      if (!row) throw new AppError("NOT_FOUND", "No such submission.");
      if (row.status !== "in_review" && row.status !== "processing")
        throw new AppError("CONFLICT", `This submission is already ${row.status}.`, { status: row.status });
      await recordDecision(deps, tx, {
        submissionId: row.id,
        userId: row.userId,
        decision: decision.status === "approved" ? { ...decision, note: decision.note ?? null } : decision,
        documentName: row.documentName,
        documentDateOfBirth: row.documentDateOfBirth,
        admin,
        meta,
      });
    },
    { label: `kyc.${decision.status}` },
  );
  return getSubmission(deps, id);
}

/** An admin lowers (or restores) a user's tier with a reason, outside any submission; audited. */
export async function setUserTier(
  deps: ReviewDeps,
  input: { userId: string; tier: number; reason: string },
  admin: { id: string },
  meta: RequestMeta,
) {
  if (input.tier !== 0 && !TIERS(deps).includes(input.tier))
    throw new AppError("VALIDATION_FAILED", "No such tier.", [{ path: "tier", message: "unknown tier" }]);
  return withTransaction(
    deps,
    async (tx) => {
      const applied = await deps.apply(tx, { userId: input.userId, tier: input.tier });
      await deps.audit.record(
        {
          action: "kyc.tier.set",
          actor: { type: "admin", id: admin.id },
          target: { type: "user", id: input.userId },
          details: { tier: input.tier, previousTier: applied.previousTier, reason: input.reason },
        },
        meta,
        tx,
      );
      return { userId: input.userId, tier: input.tier, previousTier: applied.previousTier };
    },
    { label: "kyc.setTier" },
  );
}
