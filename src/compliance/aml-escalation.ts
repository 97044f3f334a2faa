import { and, asc, eq, lte, ne, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { type Executor, queryRows } from "../db/client";
import { withTransaction } from "../db/transaction";
import { admins } from "../identity/schema";
import type { AlertsDeps } from "./aml-alerts";
import { amlAlerts } from "./schema";

/** How escalation tells the staff: an e-mail per active admin of the role, queued in the escalation's transaction. */
export interface EscalationNotices {
  enqueueEmail(
    input: { to: string; subject: string; body: string; kind: string; dedupeKey?: string },
    tx?: Executor,
  ): Promise<{ id: string; queued: boolean }>;
}

/**
 * Escalation (COMPLIANCE.md §4, `POST /jobs/alert-escalation`): every alert not closed whose `next_escalation_at`
 * has passed goes up one level (capped at the ladder's top), into the queue of the ladder's role for that level,
 * and waits another interval. Rows are taken `FOR UPDATE SKIP LOCKED` in READ COMMITTED: a run skips what another
 * holds, and a row another run escalated meanwhile is re-read on locking and is no longer due — so two runs at once
 * never escalate one alert twice.
 */

const BATCH = 100;

export async function countDueAlerts(deps: Pick<AlertsDeps, "database">, now: Date): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    deps.database.db,
    sql`select count(*)::int as n from (select 1 from aml_alerts
          where status <> 'closed' and next_escalation_at <= ${now.toISOString()}::timestamptz limit 1000) due`,
  );
  return row?.n ?? 0;
}

/** The notice: what went up, to whom, and where to look — no customer detail beyond the alert's subject name. */
function noticeOf(alert: typeof amlAlerts.$inferSelect, level: number, capped: boolean, next: Date) {
  const subject = `AML alert ${alert.id} ${capped ? "still unresolved at the top level" : `escalated to level ${level}`}`;
  const body = [
    `${subject}.`,
    `Rule: ${alert.ruleId} · subject: ${alert.subjectType} ${alert.subjectName ?? alert.subjectId} · priority ${alert.priority} · ${alert.hits} hit(s) · status ${alert.status}.`,
    `It is in your role's queue in the dashboard (AML alerts); it escalates again at ${next.toISOString()} unless closed.`,
  ].join("\n");
  return { subject, body };
}

export async function escalateDue(
  deps: Omit<AlertsDeps, "admins"> & { notifications: EscalationNotices },
  now: Date,
  meta: RequestMeta = {},
): Promise<{ escalated: number; capped: number }> {
  const { ladder, intervalMs } = deps.config.aml.escalation;
  const top = ladder.length - 1;
  const next = new Date(now.getTime() + intervalMs);
  // Who holds each role, read once per run: a backlog of alerts escalating together goes to the same people.
  const staffByRole = new Map<string, { id: string; email: string }[]>();
  const staffOf = async (tx: Executor, role: string) => {
    let staff = staffByRole.get(role);
    if (!staff) {
      staff = await tx
        .select({ id: admins.id, email: admins.email })
        .from(admins)
        .where(and(eq(admins.role, role), eq(admins.status, "active")));
      staffByRole.set(role, staff);
    }
    return staff;
  };
  let escalated = 0;
  let capped = 0;
  for (;;) {
    const taken = await withTransaction(
      deps,
      async (tx) => {
        const due = await tx
          .select()
          .from(amlAlerts)
          .where(and(ne(amlAlerts.status, "closed"), lte(amlAlerts.nextEscalationAt, now)))
          .orderBy(asc(amlAlerts.nextEscalationAt), asc(amlAlerts.id))
          .limit(BATCH)
          .for("update", { skipLocked: true });
        for (const alert of due) {
          const level = Math.min(alert.escalationLevel + 1, top);
          const atTop = level === alert.escalationLevel;
          const role = ladder[level]!;
          // A new level is a new queue: whoever held the alert at the last one let it wait, so it is theirs no more.
          const assignee = atTop ? alert.assignee : null;
          await tx
            .update(amlAlerts)
            .set({ escalationLevel: level, assigneeRole: role, assignee, nextEscalationAt: next, updatedAt: now })
            .where(eq(amlAlerts.id, alert.id));
          // Every active admin of the role is told, in this transaction (the outbox): an escalation that rolls
          // back e-mails no one, one that commits is told once (the dedupe key holds across a retried run).
          const staff = await staffOf(tx, role);
          const notice = noticeOf(alert, level, atTop, next);
          for (const admin of staff)
            await deps.notifications.enqueueEmail(
              {
                to: admin.email,
                ...notice,
                kind: "aml_escalation",
                dedupeKey: `aml-escalation:${alert.id}:${level}:${alert.nextEscalationAt?.toISOString()}:${admin.id}`,
              },
              tx,
            );
          await deps.audit.record(
            {
              action: "aml.alert.escalated",
              actor: { type: "system", id: "alert-escalation" },
              target: { type: "aml_alert", id: alert.id },
              details: {
                fromLevel: alert.escalationLevel,
                toLevel: level,
                capped: atTop,
                role,
                previousAssignee: alert.assignee,
                assignee,
                nextEscalationAt: next.toISOString(),
                notified: { channel: "email", role, admins: staff.map((a) => a.id) },
              },
            },
            meta,
            tx,
          );
          if (atTop) capped++;
        }
        return due.length;
      },
      { label: "aml.escalate", isolation: "read committed" },
    );
    escalated += taken;
    if (taken < BATCH) return { escalated, capped };
  }
}
