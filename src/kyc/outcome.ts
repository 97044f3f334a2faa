import { and, eq } from "drizzle-orm";
import type { Audit } from "../audit";
import type { Executor } from "../db/client";
import type { RequestMeta } from "../http/context";
import type { Notifications } from "../notifications";
import type { Reason, SubmissionChecks, Verdict } from "./checks";
import { kycSubmissions } from "./schema";

/**
 * Sets a user's tier (and, from an approved document, their verified name and date of birth) in the caller's
 * transaction; answers the phone to tell them on. Identity's users service provides it (module.ts).
 */
export type ApplyVerdict = (
  tx: Executor,
  change: { userId: string; tier: number; name?: string | null; dateOfBirth?: string | null },
) => Promise<{ phone: string; previousTier: number }>;

export interface OutcomeDeps {
  apply: ApplyVerdict;
  /** The phone of a user whose tier does not change (a rejection), read in the transaction. */
  phoneOf: (tx: Executor, userId: string) => Promise<string | null>;
  audit: Pick<Audit, "record">;
  notifications: Pick<Notifications, "enqueue">;
  now: () => Date;
}

const SYSTEM = { type: "system" as const, id: "kyc-verification" };

function message(status: "approved" | "in_review" | "rejected", tier: number, reason?: string | null) {
  if (status === "approved")
    return `Keshless: your identity is verified. Your wallet is now tier ${tier}, with higher limits.`;
  if (status === "rejected")
    return `Keshless: we could not verify your identity${reason ? `: ${reason}` : "."} You may submit new documents.`;
  return "Keshless: we have your documents. A person will check them shortly; we will tell you the outcome.";
}

/**
 * The worker's verdict, recorded only while its lease holds (still processing, attempts as claimed): a worker
 * that lost its lease to another finds nothing to update, so a submission is decided once. Approval raises the
 * tier in the same transaction, with its audit row; the user is told through the outbox either way.
 */
export async function recordVerdict(
  deps: OutcomeDeps,
  tx: Executor,
  input: {
    submissionId: string;
    userId: string;
    leaseAttempts: number;
    verdict: Verdict;
    checks: SubmissionChecks;
    documentName: string | null;
    documentDateOfBirth: string | null;
  },
): Promise<boolean> {
  const now = deps.now();
  const approved = input.verdict.status === "approved";
  const updated = await tx
    .update(kycSubmissions)
    .set({
      status: input.verdict.status,
      reasons: input.verdict.reasons,
      checks: input.checks,
      tierGranted: approved ? input.verdict.tier : null,
      documentName: input.documentName,
      documentDateOfBirth: input.documentDateOfBirth,
      decidedBy: approved ? SYSTEM.id : null,
      decidedAt: approved ? now : null,
      lastError: null,
      updatedAt: now,
    })
    .where(
      and(
        eq(kycSubmissions.id, input.submissionId),
        eq(kycSubmissions.status, "processing"),
        eq(kycSubmissions.attempts, input.leaseAttempts),
      ),
    )
    .returning({ id: kycSubmissions.id });
  if (!updated.length) return false;
  const phone = approved
    ? (
        await deps.apply(tx, {
          userId: input.userId,
          tier: input.verdict.tier,
          name: input.documentName,
          dateOfBirth: input.documentDateOfBirth,
        })
      ).phone
    : await deps.phoneOf(tx, input.userId);
  await deps.audit.record(
    {
      action: approved ? "kyc.approve" : "kyc.review",
      actor: SYSTEM,
      target: { type: "user", id: input.userId },
      details: {
        submissionId: input.submissionId,
        tier: approved ? input.verdict.tier : null,
        reasons: input.verdict.reasons.map((r: Reason) => r.code),
      },
    },
    {},
    tx,
  );
  if (phone)
    await deps.notifications.enqueue(
      {
        to: phone,
        kind: approved ? "kyc_approved" : "kyc_in_review",
        body: message(input.verdict.status, input.verdict.tier),
        dedupeKey: `kyc:${input.submissionId}:${input.verdict.status}`,
      },
      tx,
    );
  return true;
}

/** An admin's decision on a submission in review (or still processing): approve at a tier, or reject with a reason. */
export async function recordDecision(
  deps: OutcomeDeps,
  tx: Executor,
  input: {
    submissionId: string;
    userId: string;
    decision: { status: "approved"; tier: number; note?: string | null } | { status: "rejected"; reason: string };
    documentName: string | null;
    documentDateOfBirth: string | null;
    admin: { id: string };
    meta: RequestMeta;
  },
): Promise<void> {
  const now = deps.now();
  const { decision } = input;
  const approved = decision.status === "approved";
  await tx
    .update(kycSubmissions)
    .set({
      status: decision.status,
      tierGranted: approved ? decision.tier : null,
      note: approved ? (decision.note ?? null) : null,
      reason: approved ? null : decision.reason,
      decidedBy: input.admin.id,
      decidedAt: now,
      updatedAt: now,
    })
    .where(eq(kycSubmissions.id, input.submissionId));
  const applied = approved
    ? await deps.apply(tx, {
        userId: input.userId,
        tier: decision.tier,
        name: input.documentName,
        dateOfBirth: input.documentDateOfBirth,
      })
    : null;
  const phone = applied?.phone ?? (await deps.phoneOf(tx, input.userId));
  await deps.audit.record(
    {
      action: approved ? "kyc.approve" : "kyc.reject",
      actor: { type: "admin", id: input.admin.id },
      target: { type: "user", id: input.userId },
      details: approved
        ? { submissionId: input.submissionId, tier: decision.tier, previousTier: applied?.previousTier ?? null }
        : { submissionId: input.submissionId, reason: decision.reason },
    },
    input.meta,
    tx,
  );
  if (phone)
    await deps.notifications.enqueue(
      {
        to: phone,
        kind: approved ? "kyc_approved" : "kyc_rejected",
        body: approved ? message("approved", decision.tier) : message("rejected", 0, decision.reason),
        dedupeKey: `kyc:${input.submissionId}:${decision.status}`,
      },
      tx,
    );
}
