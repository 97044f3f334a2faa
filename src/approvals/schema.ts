import { sql } from "drizzle-orm";
import { bigint, check, index, jsonb, pgTable, smallint, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * Requests that wait for an admin's decision (maker-checker): withdrawals above the auto-approve line,
 * card requests, admin reversals, … One row per request; `kind` names the module whose handlers run
 * when it is approved, rejected or expires — in the same transaction as the decision.
 */
export const approvalRequests = pgTable(
  "approval_requests",
  {
    id: text().primaryKey(),
    /** withdrawal · card · reversal · … (a registered kind) */
    kind: text().notNull(),
    /** What is being approved, in the kind's own ids (txn_…, crd_…). */
    subjectId: text().notNull(),
    amount: bigint({ mode: "bigint" }),
    currency: text(),
    /** The maker: user · vendor · admin · system, and its id. Never allowed to check their own request. */
    requestedByType: text().notNull(),
    requestedById: text().notNull(),
    /** Whose money or account it concerns (for filtering and notifying); often the maker. */
    ownerType: text(),
    ownerId: text(),
    /** pending · approved · rejected · expired */
    status: text().notNull().default("pending"),
    /** How many different admins must approve (2 for large amounts). */
    requiredApprovals: smallint().notNull().default(1),
    /** Approvals given so far: [{adminId, role, at, note}]. */
    checkers: jsonb().notNull().default([]),
    /** The admin whose decision closed it (the last approver, or the rejecter). */
    decidedBy: text(),
    /** Why it was rejected or expired. */
    reason: text(),
    /** What the queue shows without joins (destination, names, …), written by the kind. */
    summary: jsonb().notNull().default({}),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    decidedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    // One open request per subject: a retried maker cannot queue the same thing twice.
    uniqueIndex("approval_requests_open_subject_idx").on(t.kind, t.subjectId).where(sql`${t.status} = 'pending'`),
    index("approval_requests_created_idx").on(t.createdAt.desc(), t.id.desc()),
    index("approval_requests_status_created_idx").on(t.status, t.createdAt.desc(), t.id.desc()),
    index("approval_requests_due_idx").on(t.expiresAt).where(sql`${t.status} = 'pending'`),
    index("approval_requests_subject_idx").on(t.subjectId),
    index("approval_requests_owner_idx").on(t.ownerId, t.createdAt.desc()),
    check("approval_requests_status", sql`${t.status} in ('pending','approved','rejected','expired')`),
    check("approval_requests_required", sql`${t.requiredApprovals} between 1 and 3`),
  ],
);
