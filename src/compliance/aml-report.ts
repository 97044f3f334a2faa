import { and, asc, eq, gte, inArray, lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { csvCell } from "../lib/csv";
import { transactions } from "../payments/schema";
import { amlAlertEvidence, amlAlerts } from "./schema";

/**
 * The suspicious transaction report for the EFIU (COMPLIANCE.md §6): every alert closed as `confirmed_risk` in
 * [from, to), one CSV line each with the subject, the analyst's note and the transactions it rests on.
 */

const COLUMNS = [
  "alert_id",
  "rule",
  "rule_type",
  "subject_type",
  "subject_id",
  "subject_name",
  "opened_at",
  "closed_at",
  "closed_by",
  "priority",
  "hits",
  "transactions",
  "total_amount_cents",
  "currency",
  "transaction_ids",
  "sanctions_match_ids",
  "note",
];

export async function strCsv(database: Pick<Database, "db">, range: { from: Date; to: Date }): Promise<string> {
  const { db } = database;
  const alerts = await db
    .select()
    .from(amlAlerts)
    .where(
      and(
        eq(amlAlerts.outcome, "confirmed_risk"),
        gte(amlAlerts.closedAt, range.from),
        lt(amlAlerts.closedAt, range.to),
      ),
    )
    .orderBy(asc(amlAlerts.closedAt), asc(amlAlerts.id));
  const ids = alerts.map((a) => a.id);
  const evidence = ids.length
    ? await db.select().from(amlAlertEvidence).where(inArray(amlAlertEvidence.alertId, ids))
    : [];
  const txIds = [...new Set(evidence.filter((e) => e.kind === "transaction").map((e) => e.refId))];
  const moved = txIds.length
    ? await db
        .select({ id: transactions.id, amount: transactions.amount, currency: transactions.currency })
        .from(transactions)
        .where(inArray(transactions.id, txIds))
    : [];
  const amounts = new Map(moved.map((t) => [t.id, t]));
  const lines = [COLUMNS.join(",")];
  for (const a of alerts) {
    const mine = evidence.filter((e) => e.alertId === a.id);
    const txs = mine
      .filter((e) => e.kind === "transaction")
      .map((e) => e.refId)
      .sort();
    const matches = mine
      .filter((e) => e.kind === "sanctions_match")
      .map((e) => e.refId)
      .sort();
    const total = txs.reduce((sum, id) => sum + Number(amounts.get(id)?.amount ?? 0), 0);
    const currency = txs.length ? (amounts.get(txs[0]!)?.currency ?? "SZL") : "SZL";
    const cells = [
      a.id,
      a.ruleId,
      a.ruleType,
      a.subjectType,
      a.subjectId,
      a.subjectName,
      a.createdAt.toISOString(),
      a.closedAt!.toISOString(),
      a.closedBy,
      a.priority,
      a.hits,
      txs.length,
      total,
      currency,
      txs.join(";"),
      matches.join(";"),
      a.note,
    ];
    lines.push(cells.map(csvCell).join(","));
  }
  return `${lines.join("\r\n")}\r\n`;
}
