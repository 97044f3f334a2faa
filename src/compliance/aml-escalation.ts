import { and, asc, eq, lte, ne, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { queryRows } from "../db/client";
import { withTransaction } from "../db/transaction";
import type { AlertsDeps } from "./aml-alerts";
import { amlAlerts } from "./schema";

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

export async function escalateDue(
  deps: Omit<AlertsDeps, "admins">,
  now: Date,
  meta: RequestMeta = {},
): Promise<{ escalated: number; capped: number }> {
  const { ladder, intervalMs } = deps.config.aml.escalation;
  const top = ladder.length - 1;
  const next = new Date(now.getTime() + intervalMs);
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
          // There is no channel to admins yet (no email or push to staff): this row is the notice, and the
          // role's queue (GET /admin/v1/aml/alerts) is where they see it.
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
                notified: { channel: "audit", role },
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
