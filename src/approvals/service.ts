import { and, desc, eq, lte, type SQL, sql } from "drizzle-orm";
import type { Actor, Audit, RequestMeta } from "../audit";
import type { Database, Executor } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import { after, encodeCursor } from "../http/pagination";
import { can, type Permission } from "../http/permissions";
import { newId } from "../lib/ids";
import { approvalRequests } from "./schema";

/**
 * Generic approvals (maker-checker). A module registers a kind with handlers; `request` queues one in
 * the maker's transaction; `approve` / `reject` / `expire` close it and run the kind's handler in the
 * same SERIALIZABLE transaction, so the decision and its effect (post or void a hold, reverse a journal)
 * commit together or not at all. Rules every kind gets:
 * - nobody decides their own request (the maker is never a checker);
 * - a request needing two approvals needs two different admins;
 * - a request past its expiry can no longer be approved: the expiry job closes it instead.
 */

export type ApprovalStatus = "pending" | "approved" | "rejected" | "expired";

export interface ApprovalParty {
  type: string;
  id: string;
}

export interface Checker {
  adminId: string;
  role: string;
  at: string;
  note: string | null;
}

export interface Approval {
  id: string;
  kind: string;
  subjectId: string;
  amount: number | null;
  currency: string | null;
  status: ApprovalStatus;
  requestedBy: ApprovalParty;
  owner: ApprovalParty | null;
  requiredApprovals: number;
  checkers: Checker[];
  decidedBy: string | null;
  reason: string | null;
  summary: Record<string, unknown>;
  expiresAt: string;
  decidedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What a handler is told: the request as it now stands, who decided, and anything `prepare` read. */
const EXPIRY: Actor = { type: "system", id: "approval-expiry" };

export interface DecisionContext<P = unknown> {
  approval: Approval;
  admin: { id: string; role: string } | null;
  /** Who decided, for the kind's audit records: the checker, or the expiry job. */
  decidedBy: Actor;
  reason: string | null;
  now: Date;
  meta: RequestMeta;
  prepared: P;
}

export interface ApprovalKind<P = unknown> {
  /** How the dashboard names it ("Withdrawal"). */
  label: string;
  /** What a checker needs besides approvals:decide (e.g. withdrawals:approve: finance only). */
  permission?: Permission;
  /**
   * Reads the handlers need, done before the decision's transaction opens (the embedded database has
   * one connection: a read outside the transaction while it is open would wait for ever).
   */
  prepare?(approval: Approval): Promise<P>;
  onApprove(tx: Executor, ctx: DecisionContext<P>): Promise<void>;
  onReject(tx: Executor, ctx: DecisionContext<P>): Promise<void>;
  onExpire(tx: Executor, ctx: DecisionContext<P>): Promise<void>;
}

/** Declares a kind (the identity function: it infers what `prepare` hands the other handlers). */
export function approvalKind<P>(kind: ApprovalKind<P>): ApprovalKind<P> {
  return kind;
}

/** A kind whose prepared value is its own business: what the module list registers. */
export type AnyApprovalKind = ApprovalKind<any>;

export interface RequestInput {
  kind: string;
  subjectId: string;
  amount?: bigint | null;
  currency?: string | null;
  requestedBy: ApprovalParty;
  owner?: ApprovalParty | null;
  /** 1 unless the kind's rules say a second, different admin must approve too. */
  requiredApprovals?: number;
  summary?: Record<string, unknown>;
  /** Defaults to now + KESHLESS_APPROVAL_TTL_HOURS. */
  expiresAt?: Date;
}

export interface ApprovalFilter {
  status?: ApprovalStatus;
  kind?: string;
  ownerId?: string;
  requestedById?: string;
  subjectId?: string;
  limit: number;
  cursor?: string;
}

export interface DecisionInput {
  id: string;
  admin: { id: string; role: string };
  /** Required to reject; optional note to approve. */
  reason?: string | null;
}

/** A decision whose `prepare` step already ran, ready to run inside a caller's transaction. */
export interface PreparedDecision {
  id: string;
  prepared: unknown;
}

export interface ExpiryResult {
  due: number;
  expired: number;
  /** Closed by someone else (approved, rejected or expired) between the scan and its turn. */
  skipped: number;
  failed: number;
  byKind: Record<string, number>;
  errors: { id: string; error: string }[];
}

interface ApprovalsDeps {
  database: Database;
  logger: Logger;
  audit: Audit;
  config: { serializableMaxRetries: number; approvals: { ttlHours: number } };
  now: () => Date;
}

type Row = typeof approvalRequests.$inferSelect;

function toApproval(r: Row): Approval {
  return {
    id: r.id,
    kind: r.kind,
    subjectId: r.subjectId,
    amount: r.amount === null ? null : Number(r.amount),
    currency: r.currency,
    status: r.status as ApprovalStatus,
    requestedBy: { type: r.requestedByType, id: r.requestedById },
    owner: r.ownerType && r.ownerId ? { type: r.ownerType, id: r.ownerId } : null,
    requiredApprovals: r.requiredApprovals,
    checkers: (r.checkers ?? []) as Checker[],
    decidedBy: r.decidedBy,
    reason: r.reason,
    summary: (r.summary ?? {}) as Record<string, unknown>,
    expiresAt: r.expiresAt.toISOString(),
    decidedAt: r.decidedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export function createApprovals(deps: ApprovalsDeps) {
  const { db } = deps.database;
  const kinds = new Map<string, ApprovalKind<any>>();

  function register<P>(kind: string, handler: ApprovalKind<P>) {
    if (kinds.has(kind)) throw new Error(`approvals: kind "${kind}" is already registered`);
    kinds.set(kind, handler);
  }

  function kindOf(name: string): ApprovalKind<unknown> {
    const kind = kinds.get(name);
    if (!kind) throw new AppError("INTERNAL", `No handler is registered for approvals of kind "${name}".`);
    return kind;
  }

  /** Queues a request in the maker's transaction (so it exists exactly when the maker's change does). */
  async function request(input: RequestInput, tx: Executor): Promise<Approval> {
    kindOf(input.kind);
    const required = input.requiredApprovals ?? 1;
    if (!Number.isInteger(required) || required < 1 || required > 3)
      throw new AppError("INTERNAL", "requiredApprovals must be 1, 2 or 3.");
    const now = deps.now();
    const [row] = await tx
      .insert(approvalRequests)
      .values({
        id: newId("apr"),
        kind: input.kind,
        subjectId: input.subjectId,
        amount: input.amount ?? null,
        currency: input.currency ?? null,
        requestedByType: input.requestedBy.type,
        requestedById: input.requestedBy.id,
        ownerType: input.owner?.type ?? null,
        ownerId: input.owner?.id ?? null,
        requiredApprovals: required,
        summary: input.summary ?? {},
        expiresAt: input.expiresAt ?? new Date(now.getTime() + deps.config.approvals.ttlHours * 3_600_000),
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    return toApproval(row!);
  }

  async function get(id: string, tx?: Executor): Promise<Approval | undefined> {
    const [row] = await (tx ?? db).select().from(approvalRequests).where(eq(approvalRequests.id, id));
    return row ? toApproval(row) : undefined;
  }

  /** The open (or latest) request about a subject. */
  async function forSubject(kind: string, subjectId: string): Promise<Approval | undefined> {
    const [row] = await db
      .select()
      .from(approvalRequests)
      .where(and(eq(approvalRequests.kind, kind), eq(approvalRequests.subjectId, subjectId)))
      .orderBy(desc(approvalRequests.createdAt))
      .limit(1);
    return row ? toApproval(row) : undefined;
  }

  async function list(filter: ApprovalFilter): Promise<{ data: Approval[]; nextCursor: string | null }> {
    const where: (SQL | undefined)[] = [];
    if (filter.status) where.push(eq(approvalRequests.status, filter.status));
    if (filter.kind) where.push(eq(approvalRequests.kind, filter.kind));
    if (filter.ownerId) where.push(eq(approvalRequests.ownerId, filter.ownerId));
    if (filter.requestedById) where.push(eq(approvalRequests.requestedById, filter.requestedById));
    if (filter.subjectId) where.push(eq(approvalRequests.subjectId, filter.subjectId));
    if (filter.cursor) {
      where.push(after(filter.cursor, approvalRequests.createdAt, approvalRequests.id));
    }
    const rows = await db
      .select()
      .from(approvalRequests)
      .where(and(...where))
      .orderBy(desc(approvalRequests.createdAt), desc(approvalRequests.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(toApproval),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  /** Runs the kind's `prepare` (outside any transaction). Call before opening the decision's transaction. */
  async function prepare(id: string): Promise<PreparedDecision> {
    const approval = await get(id);
    if (!approval) throw new AppError("NOT_FOUND", "No such approval request.");
    const kind = kindOf(approval.kind);
    return { id, prepared: kind.prepare ? await kind.prepare(approval) : undefined };
  }

  async function lockedRow(tx: Executor, id: string): Promise<Row> {
    const [row] = await tx.select().from(approvalRequests).where(eq(approvalRequests.id, id)).for("update");
    if (!row) throw new AppError("NOT_FOUND", "No such approval request.");
    return row;
  }

  function assertCanDecide(row: Row, admin: { id: string; role: string }, kind: ApprovalKind<unknown>, now: Date) {
    if (row.status !== "pending")
      throw new AppError("CONFLICT", `This request is already ${row.status}.`, { status: row.status });
    if (row.expiresAt <= now)
      throw new AppError("CONFLICT", "This request has expired; it can no longer be decided.", {
        status: "expired",
        expiresAt: row.expiresAt.toISOString(),
      });
    if (row.requestedByType === "admin" && row.requestedById === admin.id)
      throw new AppError("FORBIDDEN", "You made this request: another admin must decide it (maker-checker).", {
        reason: "MAKER_CANNOT_CHECK",
      });
    if (kind.permission && !can(admin.role, kind.permission))
      throw new AppError("FORBIDDEN", "Your role does not allow deciding this kind of request.", {
        permission: kind.permission,
      });
  }

  /**
   * One admin's approval. The last approval a request needs closes it and runs the kind's onApprove in
   * this transaction; an earlier one is recorded and the request stays pending for a different admin.
   */
  async function approve(
    { ctx, input }: { ctx: RequestMeta; input: DecisionInput },
    tx?: Executor,
    prepared?: PreparedDecision,
  ): Promise<Approval> {
    const ready = prepared ?? (tx ? undefined : await prepare(input.id));
    return withTransaction(
      deps,
      async (t) => {
        const row = await lockedRow(t, input.id);
        const kind = kindOf(row.kind);
        const now = deps.now();
        assertCanDecide(row, input.admin, kind, now);
        const checkers = (row.checkers ?? []) as Checker[];
        if (checkers.some((c) => c.adminId === input.admin.id))
          throw new AppError("CONFLICT", "You have already approved this; a second, different admin must approve it.", {
            reason: "SAME_CHECKER",
          });
        const next = [
          ...checkers,
          { adminId: input.admin.id, role: input.admin.role, at: now.toISOString(), note: input.reason ?? null },
        ];
        const done = next.length >= row.requiredApprovals;
        const [updated] = await t
          .update(approvalRequests)
          .set({
            checkers: next,
            updatedAt: now,
            ...(done ? { status: "approved", decidedBy: input.admin.id, decidedAt: now } : {}),
          })
          .where(eq(approvalRequests.id, row.id))
          .returning();
        const approval = toApproval(updated!);
        if (done)
          await kind.onApprove(t, {
            approval,
            admin: input.admin,
            decidedBy: { type: "admin", id: input.admin.id },
            reason: input.reason ?? null,
            now,
            meta: ctx,
            prepared: ready?.prepared,
          });
        await deps.audit.record(
          {
            action: done ? "approval.approve" : "approval.approve.partial",
            actor: { type: "admin", id: input.admin.id },
            target: { type: "approval", id: row.id },
            details: {
              kind: row.kind,
              subjectId: row.subjectId,
              approvals: next.length,
              required: row.requiredApprovals,
              note: input.reason ?? null,
            },
          },
          ctx,
          t,
        );
        return approval;
      },
      { tx, label: "approvals.approve" },
    );
  }

  /** Rejects with a reason (shown to the owner); the kind's onReject runs in this transaction. */
  async function reject(
    { ctx, input }: { ctx: RequestMeta; input: DecisionInput },
    tx?: Executor,
    prepared?: PreparedDecision,
  ): Promise<Approval> {
    const reason = input.reason?.trim();
    if (!reason)
      throw new AppError("VALIDATION_FAILED", "A reason is required to reject.", [
        { path: "reason", message: "required" },
      ]);
    const ready = prepared ?? (tx ? undefined : await prepare(input.id));
    return withTransaction(
      deps,
      async (t) => {
        const row = await lockedRow(t, input.id);
        const kind = kindOf(row.kind);
        const now = deps.now();
        assertCanDecide(row, input.admin, kind, now);
        const [updated] = await t
          .update(approvalRequests)
          .set({ status: "rejected", decidedBy: input.admin.id, decidedAt: now, reason, updatedAt: now })
          .where(eq(approvalRequests.id, row.id))
          .returning();
        const approval = toApproval(updated!);
        await kind.onReject(t, {
          approval,
          admin: input.admin,
          decidedBy: { type: "admin", id: input.admin.id },
          reason,
          now,
          meta: ctx,
          prepared: ready?.prepared,
        });
        await deps.audit.record(
          {
            action: "approval.reject",
            actor: { type: "admin", id: input.admin.id },
            target: { type: "approval", id: row.id },
            details: { kind: row.kind, subjectId: row.subjectId, reason },
          },
          ctx,
          t,
        );
        return approval;
      },
      { tx, label: "approvals.reject" },
    );
  }

  /**
   * Expires one request if it is still pending and past its time; the kind's onExpire runs in the same
   * transaction. Anything else (already decided, already expired, not yet due) changes nothing, so a
   * retried or concurrent expiry run can never act twice.
   */
  async function expire(id: string, now: Date, ctx: RequestMeta = {}): Promise<{ expired: boolean; kind: string }> {
    const ready = await prepare(id);
    return withTransaction(
      deps,
      async (t) => {
        const row = await lockedRow(t, id);
        if (row.status !== "pending" || row.expiresAt > now) return { expired: false, kind: row.kind };
        const kind = kindOf(row.kind);
        const hours = Math.round((row.expiresAt.getTime() - row.createdAt.getTime()) / 3_600_000);
        const reason = `No decision within ${hours} hours.`;
        const [updated] = await t
          .update(approvalRequests)
          .set({ status: "expired", decidedAt: now, reason, updatedAt: now })
          .where(eq(approvalRequests.id, row.id))
          .returning();
        await kind.onExpire(t, {
          approval: toApproval(updated!),
          admin: null,
          decidedBy: EXPIRY,
          reason,
          now,
          meta: ctx,
          prepared: ready.prepared,
        });
        await deps.audit.record(
          {
            action: "approval.expire",
            actor: EXPIRY,
            target: { type: "approval", id: row.id },
            details: { kind: row.kind, subjectId: row.subjectId },
          },
          ctx,
          t,
        );
        return { expired: true, kind: row.kind };
      },
      { label: "approvals.expire" },
    );
  }

  /** Every pending request past its expiry, each in its own transaction: one failure stops nothing. */
  async function expireDue(now: Date, ctx: RequestMeta = {}, limit = 1000): Promise<ExpiryResult> {
    const due = await db
      .select({ id: approvalRequests.id })
      .from(approvalRequests)
      .where(and(eq(approvalRequests.status, "pending"), lte(approvalRequests.expiresAt, now)))
      .orderBy(approvalRequests.expiresAt)
      .limit(limit);
    const result: ExpiryResult = { due: due.length, expired: 0, skipped: 0, failed: 0, byKind: {}, errors: [] };
    for (const { id } of due) {
      try {
        const outcome = await expire(id, now, ctx);
        if (outcome.expired) {
          result.expired++;
          result.byKind[outcome.kind] = (result.byKind[outcome.kind] ?? 0) + 1;
        } else result.skipped++;
      } catch (error) {
        result.failed++;
        const message = error instanceof Error ? error.message : String(error);
        result.errors.push({ id, error: message });
        deps.logger.error({ err: error, approvalId: id }, "could not expire an approval request");
      }
    }
    return result;
  }

  /** How many pending requests are past their expiry (cheap check before taking a job's lock). */
  async function countDue(now: Date): Promise<number> {
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(approvalRequests)
      .where(and(eq(approvalRequests.status, "pending"), lte(approvalRequests.expiresAt, now)));
    return Number(row?.n ?? 0);
  }

  return {
    register,
    request,
    get,
    forSubject,
    list,
    prepare,
    approve,
    reject,
    expire,
    expireDue,
    countDue,
    kinds: () => [...kinds.entries()].map(([name, k]) => ({ kind: name, label: k.label, permission: k.permission })),
  };
}

export type Approvals = ReturnType<typeof createApprovals>;
