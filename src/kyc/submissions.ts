import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import type { TierLimits } from "../config";
import type { Core } from "../core";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import { newId } from "../lib/ids";
import { tierReached } from "./checks";
import { kycDocuments, kycSubmissions } from "./schema";

export type SubmissionStatus = "processing" | "in_review" | "approved" | "rejected";

/** What each tier asks for beyond the one below it (API.md "KYC"). */
const REQUIRES: Record<number, string[]> = {
  1: ["idNumber", "id_front"],
  2: ["idNumber", "id_front", "selfie"],
};

export type SubmissionsDeps = Pick<Core, "database" | "config" | "now" | "logger"> & {
  /** The tiers' limits as payments applies them now (compliance's settings, not the environment). */
  kycLimits(): Promise<Record<string, TierLimits>>;
};

/**
 * A user's claim to a tier: the ID number and documents they uploaded. Checked in the background (verify.ts),
 * so this answers 202 at once; one open submission per user (a second while one is processing or in review is
 * 409, enforced by a unique index, so two at once cannot both get in).
 */
export async function submit(
  deps: SubmissionsDeps,
  userId: string,
  input: { idNumber: string; documentIds: string[] },
): Promise<{ id: string; status: "processing" }> {
  const ids = [...new Set(input.documentIds)];
  const documents = await deps.database.db
    .select()
    .from(kycDocuments)
    .where(and(eq(kycDocuments.userId, userId), inArray(kycDocuments.id, ids)));
  const missing = ids.filter((id) => !documents.some((d) => d.id === id));
  if (missing.length) throw new AppError("NOT_FOUND", "No such document.", { documentIds: missing });
  const notReady = documents.filter((d) => d.status !== "uploaded" || d.submissionId);
  if (notReady.length)
    throw new AppError("VALIDATION_FAILED", "Every document must be uploaded, completed and not used before.", [
      ...notReady.map((d) => ({ path: "documentIds", message: `${d.id} is ${d.submissionId ? "used" : d.status}` })),
    ]);
  const tier = tierReached(documents.map((d) => d.type));
  if (tier === 0)
    throw new AppError("VALIDATION_FAILED", "An ID document (id_front or passport) is required.", [
      { path: "documentIds", message: "no id_front or passport" },
    ]);
  const now = deps.now();
  const id = newId("kys");
  await withTransaction(
    deps,
    async (tx) => {
      const open = await tx
        .select({ id: kycSubmissions.id })
        .from(kycSubmissions)
        .where(and(eq(kycSubmissions.userId, userId), inArray(kycSubmissions.status, ["processing", "in_review"])));
      if (open.length) throw new AppError("CONFLICT", "A submission is already being checked or reviewed.");
      await tx.insert(kycSubmissions).values({
        id,
        userId,
        idNumber: input.idNumber,
        documentIds: ids,
        status: "processing",
        tierRequested: tier,
        nextAttemptAt: now,
        createdAt: now,
        updatedAt: now,
      });
      const claimed = await tx
        .update(kycDocuments)
        .set({ submissionId: id, updatedAt: now })
        .where(and(inArray(kycDocuments.id, ids), isNull(kycDocuments.submissionId)))
        .returning({ id: kycDocuments.id });
      if (claimed.length !== ids.length)
        throw new AppError("CONFLICT", "A document was just used by another submission.");
    },
    { label: "kyc.submit" },
  );
  return { id, status: "processing" };
}

/** GET /v1/kyc: the tier, its limits, the latest submission, and what the next tier needs. */
export async function kycStatus(deps: SubmissionsDeps, user: { id: string; kycTier: number }) {
  const [latest] = await deps.database.db
    .select()
    .from(kycSubmissions)
    .where(eq(kycSubmissions.userId, user.id))
    .orderBy(desc(kycSubmissions.createdAt), desc(kycSubmissions.id))
    .limit(1);
  const kycLimits = await deps.kycLimits();
  const limits = kycLimits[String(user.kycTier)] ?? kycLimits["0"]!;
  const next = user.kycTier + 1;
  return {
    tier: user.kycTier,
    limits: {
      perTransaction: limits.perTransaction,
      daily: limits.daily,
      monthly: limits.monthly,
      maxBalance: limits.maxBalance,
    },
    submission: latest
      ? {
          id: latest.id,
          status: latest.status as SubmissionStatus,
          ...(latest.status === "rejected" && latest.reason ? { reason: latest.reason } : {}),
          createdAt: latest.createdAt.toISOString(),
        }
      : null,
    next: REQUIRES[next] && kycLimits[String(next)] ? { tier: next, requires: REQUIRES[next]! } : null,
  };
}
