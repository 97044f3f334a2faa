import { and, asc, desc, eq, inArray, ne, type SQL, sql } from "drizzle-orm";
import type { Audit, RequestMeta } from "../audit";
import type { Database, Executor } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { can } from "../http/permissions";
import { newId } from "../lib/ids";
import { transactions } from "../payments/schema";
import type { Rule, RuleType } from "./aml-rules";
import type { SubjectType } from "./sanctions-subjects";
import { amlAlertEvidence, amlAlerts } from "./schema";

/**
 * AML alerts (COMPLIANCE.md §4): one not closed per (rule, subject) — a new hit on it adds its evidence and raises
 * its priority — and the analyst's lifecycle `open → investigating → closed` (an outcome and a note; reopened to
 * `open`), with assignment. Every change is audited in the transaction that makes it, and the audit rows on the
 * alert are its history.
 */

export type AlertStatus = "open" | "investigating" | "closed";
export type AlertOutcome = "false_positive" | "valuable" | "confirmed_risk";
export type EvidenceKind = "transaction" | "sanctions_match";

/** A hit's priority climbs by one per further hit, to this. */
export const MAX_PRIORITY = 10;

export interface AlertsDeps {
  database: Pick<Database, "db">;
  config: {
    serializableMaxRetries: number;
    aml: { escalation: { intervalMs: number; ladder: readonly string[] } };
  };
  now: () => Date;
  audit: Pick<Audit, "record" | "list">;
  /** Who alerts may be assigned to: an active admin whose role reviews alerts. */
  admins: { get(id: string): Promise<{ id: string; role: string; status: string } | undefined> };
}

export interface AlertView {
  id: string;
  rule: string;
  ruleType: RuleType;
  subject: { type: SubjectType; id: string; name: string | null };
  status: AlertStatus;
  outcome: AlertOutcome | null;
  note: string | null;
  priority: number;
  hits: number;
  escalationLevel: number;
  assigneeRole: string;
  assignee: string | null;
  nextEscalationAt: string | null;
  details: Record<string, unknown>;
  lastHitAt: string;
  closedAt: string | null;
  closedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

type Row = typeof amlAlerts.$inferSelect;

export const alertView = (r: Row): AlertView => ({
  id: r.id,
  rule: r.ruleId,
  ruleType: r.ruleType as RuleType,
  subject: { type: r.subjectType as SubjectType, id: r.subjectId, name: r.subjectName },
  status: r.status as AlertStatus,
  outcome: r.outcome as AlertOutcome | null,
  note: r.note,
  priority: r.priority,
  hits: r.hits,
  escalationLevel: r.escalationLevel,
  assigneeRole: r.assigneeRole,
  assignee: r.assignee,
  nextEscalationAt: r.nextEscalationAt?.toISOString() ?? null,
  details: r.details,
  lastHitAt: r.lastHitAt.toISOString(),
  closedAt: r.closedAt?.toISOString() ?? null,
  closedBy: r.closedBy,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

const nextEscalation = (deps: Pick<AlertsDeps, "config">, from: Date) =>
  new Date(from.getTime() + deps.config.aml.escalation.intervalMs);

export interface RaiseInput {
  rule: Pick<Rule, "id" | "type" | "priority">;
  subject: { type: SubjectType; id: string; name: string | null };
  evidence: { kind: EvidenceKind; ids: string[] };
  details: Record<string, unknown>;
  /** Hits this raise stands for (the monitor folds one pass's hits on an alert into one raise); 1 when unset. */
  count?: number;
}

/**
 * A rule's hit on a subject, in the caller's transaction: opens the alert, or — one not closed exists — adds a hit
 * to it (priority up by one per hit, to MAX_PRIORITY). The upsert is one statement on the partial unique index, so two
 * hits at once still make one alert. Evidence already recorded is not added twice.
 */
export async function raiseAlert(
  deps: Pick<AlertsDeps, "config" | "now"> & { audit: Pick<Audit, "record"> },
  tx: Executor,
  input: RaiseInput,
  meta: RequestMeta,
): Promise<{ id: string; opened: boolean }> {
  const now = deps.now();
  const id = newId("aml");
  const count = Math.max(1, input.count ?? 1);
  const [row] = await tx
    .insert(amlAlerts)
    .values({
      id,
      ruleId: input.rule.id,
      ruleType: input.rule.type,
      subjectType: input.subject.type,
      subjectId: input.subject.id,
      subjectName: input.subject.name,
      // As if its hits had come one at a time: the first opens it, each further one raises it.
      hits: count,
      priority: Math.min(input.rule.priority + count - 1, MAX_PRIORITY),
      assigneeRole: deps.config.aml.escalation.ladder[0]!,
      nextEscalationAt: nextEscalation(deps, now),
      details: input.details,
      lastHitAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [amlAlerts.ruleId, amlAlerts.subjectType, amlAlerts.subjectId],
      targetWhere: sql`status <> 'closed'`,
      set: {
        hits: sql`${amlAlerts.hits} + ${count}`,
        priority: sql`least(${amlAlerts.priority} + ${count}, ${MAX_PRIORITY})`,
        subjectName: sql`coalesce(excluded.subject_name, ${amlAlerts.subjectName})`,
        details: input.details,
        lastHitAt: now,
        updatedAt: now,
      },
    })
    .returning({ id: amlAlerts.id, hits: amlAlerts.hits, priority: amlAlerts.priority });
  const opened = row!.id === id;
  if (input.evidence.ids.length)
    await tx
      .insert(amlAlertEvidence)
      .values(input.evidence.ids.map((refId) => ({ alertId: row!.id, kind: input.evidence.kind, refId, addedAt: now })))
      .onConflictDoNothing();
  await deps.audit.record(
    {
      action: opened ? "aml.alert.opened" : "aml.alert.hit",
      target: { type: "aml_alert", id: row!.id },
      details: {
        rule: input.rule.id,
        subject: { type: input.subject.type, id: input.subject.id },
        // The ids are the alert's evidence rows; the audit row says how many, not all of a busy vendor's day again.
        evidence: { kind: input.evidence.kind, count: input.evidence.ids.length },
        newHits: count,
        hits: row!.hits,
        priority: row!.priority,
        ...input.details,
      },
    },
    meta,
    tx,
  );
  return { id: row!.id, opened };
}

export interface AlertFilter {
  status?: AlertStatus | undefined;
  rule?: string | undefined;
  assignee?: string | undefined;
  subjectId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Newest first. */
export async function listAlerts(
  deps: Pick<AlertsDeps, "database">,
  filter: AlertFilter,
): Promise<{ data: AlertView[]; nextCursor: string | null }> {
  const where: (SQL | undefined)[] = [
    filter.status ? eq(amlAlerts.status, filter.status) : undefined,
    filter.rule ? eq(amlAlerts.ruleId, filter.rule) : undefined,
    filter.assignee ? eq(amlAlerts.assignee, filter.assignee) : undefined,
    filter.subjectId ? eq(amlAlerts.subjectId, filter.subjectId) : undefined,
    filter.cursor ? after(filter.cursor, amlAlerts.createdAt, amlAlerts.id) : undefined,
  ];
  const rows = await deps.database.db
    .select()
    .from(amlAlerts)
    .where(and(...where))
    .orderBy(desc(amlAlerts.createdAt), desc(amlAlerts.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    data: page.map(alertView),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

export interface EvidenceTransaction {
  id: string;
  type: string;
  status: string;
  amount: number;
  fee: number;
  currency: string;
  payer: { type: string; id: string; name: string | null };
  payee: { type: string; id: string; name: string | null };
  createdAt: string;
  addedAt: string;
}

export interface AlertDetail extends AlertView {
  evidence: EvidenceTransaction[];
  sanctionsMatches: { id: string; addedAt: string }[];
  history: { at: string; action: string; actor: { type: string; id: string | null }; details: unknown }[];
}

/** How much of an alert's audit history its view carries (the audit log has the rest). */
const HISTORY = 200;

/** The alert, its evidence (the transactions, oldest first; the sanctions matches) and its history, newest first. */
export async function getAlert(deps: AlertsDeps, id: string): Promise<AlertDetail | undefined> {
  const { db } = deps.database;
  const [row] = await db.select().from(amlAlerts).where(eq(amlAlerts.id, id));
  if (!row) return undefined;
  const [evidence, audit] = await Promise.all([
    db
      .select()
      .from(amlAlertEvidence)
      .where(eq(amlAlertEvidence.alertId, id))
      .orderBy(asc(amlAlertEvidence.addedAt), asc(amlAlertEvidence.refId)),
    deps.audit.list({ targetType: "aml_alert", targetId: id, limit: HISTORY }),
  ]);
  const added = new Map(evidence.filter((e) => e.kind === "transaction").map((e) => [e.refId, e.addedAt]));
  const moved = added.size
    ? await db
        .select()
        .from(transactions)
        .where(inArray(transactions.id, [...added.keys()]))
        .orderBy(asc(transactions.createdAt), asc(transactions.id))
    : [];
  return {
    ...alertView(row),
    evidence: moved.map((t) => ({
      id: t.id,
      type: t.type,
      status: t.status,
      amount: Number(t.amount),
      fee: Number(t.fee),
      currency: t.currency,
      payer: { type: t.payerType, id: t.payerId, name: t.payerName },
      payee: { type: t.payeeType, id: t.payeeId, name: t.payeeName },
      createdAt: t.createdAt.toISOString(),
      addedAt: added.get(t.id)!.toISOString(),
    })),
    sanctionsMatches: evidence
      .filter((e) => e.kind === "sanctions_match")
      .map((e) => ({ id: e.refId, addedAt: e.addedAt.toISOString() })),
    history: audit.data.map((a) => ({
      at: a.at,
      action: a.action,
      actor: { type: a.actorType, id: a.actorId },
      details: a.details,
    })),
  };
}

async function lockAlert(tx: Executor, id: string): Promise<Row> {
  const [row] = await tx.select().from(amlAlerts).where(eq(amlAlerts.id, id)).for("update");
  if (!row) throw new AppError("NOT_FOUND", "No such AML alert.");
  return row;
}

/** Gives the alert to an admin who reviews alerts (aml:review); a closed alert is not assigned. */
export async function assignAlert(
  deps: AlertsDeps,
  input: { id: string; adminId: string; by: string },
  meta: RequestMeta,
): Promise<AlertView> {
  const admin = await deps.admins.get(input.adminId);
  if (!admin) throw new AppError("NOT_FOUND", "No such admin.");
  if (admin.status !== "active" || !can(admin.role, "aml:review"))
    throw new AppError("VALIDATION_FAILED", "That admin cannot review AML alerts.", [
      { path: "adminId", message: `an active admin holding aml:review (this one is ${admin.status} ${admin.role})` },
    ]);
  return withTransaction(
    deps,
    async (tx) => {
      const current = await lockAlert(tx, input.id);
      if (current.status === "closed")
        throw new AppError("CONFLICT", "A closed alert is not assigned; reopen it first.");
      if (current.assignee === admin.id) return alertView(current);
      const [row] = await tx
        .update(amlAlerts)
        .set({ assignee: admin.id, updatedAt: deps.now() })
        .where(eq(amlAlerts.id, input.id))
        .returning();
      await deps.audit.record(
        {
          action: "aml.alert.assigned",
          actor: { type: "admin", id: input.by },
          target: { type: "aml_alert", id: input.id },
          details: { from: current.assignee, to: admin.id, role: admin.role },
        },
        meta,
        tx,
      );
      return alertView(row!);
    },
    { label: "aml.alert.assign" },
  );
}

/** Where each status may go: closing needs an outcome; a closed alert can only be reopened. */
const MOVES: Record<AlertStatus, AlertStatus[]> = {
  open: ["investigating", "closed"],
  investigating: ["open", "closed"],
  closed: ["open"],
};

export async function setAlertStatus(
  deps: AlertsDeps,
  input: { id: string; status: AlertStatus; outcome?: AlertOutcome | undefined; note: string; by: string },
  meta: RequestMeta,
): Promise<AlertView> {
  if (input.status === "closed" && !input.outcome)
    throw new AppError("VALIDATION_FAILED", "Closing an alert needs its outcome.", [
      { path: "outcome", message: "required when status is closed" },
    ]);
  if (input.status !== "closed" && input.outcome)
    throw new AppError("VALIDATION_FAILED", "Only closing an alert sets an outcome.", [
      { path: "outcome", message: "only with status closed" },
    ]);
  return withTransaction(
    deps,
    async (tx) => {
      const current = await lockAlert(tx, input.id);
      const from = current.status as AlertStatus;
      if (!MOVES[from].includes(input.status))
        throw new AppError("CONFLICT", `An alert that is ${from} cannot become ${input.status}.`, {
          status: from,
        });
      const now = deps.now();
      let set: Partial<typeof amlAlerts.$inferInsert> = { status: input.status, note: input.note, updatedAt: now };
      if (input.status === "closed")
        // Closing stops the escalation.
        set = { ...set, outcome: input.outcome!, closedAt: now, closedBy: input.by, nextEscalationAt: null };
      else if (from === "closed") {
        const [other] = await tx
          .select({ id: amlAlerts.id })
          .from(amlAlerts)
          .where(
            and(
              eq(amlAlerts.ruleId, current.ruleId),
              eq(amlAlerts.subjectType, current.subjectType),
              eq(amlAlerts.subjectId, current.subjectId),
              ne(amlAlerts.status, "closed"),
            ),
          );
        if (other)
          throw new AppError("CONFLICT", "Another alert of this rule is open on this subject; work that one.", {
            openAlertId: other.id,
          });
        set = { ...set, outcome: null, closedAt: null, closedBy: null, nextEscalationAt: nextEscalation(deps, now) };
      }
      const [row] = await tx.update(amlAlerts).set(set).where(eq(amlAlerts.id, input.id)).returning();
      await deps.audit.record(
        {
          action: from === "closed" ? "aml.alert.reopened" : `aml.alert.${input.status}`,
          actor: { type: "admin", id: input.by },
          target: { type: "aml_alert", id: input.id },
          details: { from, to: input.status, outcome: input.outcome ?? null, note: input.note },
        },
        meta,
        tx,
      );
      return alertView(row!);
    },
    { label: "aml.alert.status" },
  );
}
