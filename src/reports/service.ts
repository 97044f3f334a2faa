import { and, desc, eq, gte, lt, lte, or, type SQL } from "drizzle-orm";
import type { Core } from "../core";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import { decodeCursor, encodeCursor } from "../http/pagination";
import { eswatiniDay, eswatiniDayRange, previousEswatiniDay } from "../lib/clock";
import { csvDocument } from "../lib/csv";
import { newId } from "../lib/ids";
import type { Storage } from "../storage";
import {
  CSV_HEADER,
  complianceBody,
  csvRows,
  financialBody,
  operationalBody,
  REPORT_TYPES,
  type ReportType,
} from "./build";
import { reports } from "./schema";

/** Where each day's CSVs go in the backups bucket: `reports/2026-11-26/financial.csv`. */
export const reportObjectKey = (day: string, type: ReportType) => `reports/${day}/${type}.csv`;

export interface ReportsDeps extends Core {
  storage: Pick<Storage, "backups">;
}

type Row = typeof reports.$inferSelect;

export interface ReportListItem {
  id: string;
  type: ReportType;
  date: string;
  generatedAt: string;
  summary: Record<string, unknown>;
}

const listItem = (r: Row): ReportListItem => ({
  id: r.id,
  type: r.type as ReportType,
  date: r.date,
  generatedAt: r.generatedAt.toISOString(),
  summary: r.summary,
});

export interface Generated {
  date: string;
  /** The financial report's trial balance summed to zero in every currency. */
  balanced: boolean;
  reports: { id: string; type: ReportType; csvObject: string; summary: Record<string, unknown> }[];
}

/**
 * The daily reports: generated for one local day (Africa/Mbabane) from one consistent snapshot of the database,
 * stored in `reports` (one row per type and day; generating the day again replaces it) and as CSV in the backups
 * bucket; listed and read by finance and compliance.
 */
export function createReports(deps: ReportsDeps) {
  const { db } = deps.database;
  const log = deps.logger.child({ component: "reports" });

  async function generate(day?: string): Promise<Generated> {
    const now = deps.now();
    const date = day ?? previousEswatiniDay(now);
    const range = eswatiniDayRange(date);
    // A day not yet begun has nothing to count; today's reports are partial (`complete: false`) until it ends.
    if (range.from > now)
      throw new AppError("VALIDATION_FAILED", "That day has not begun in Africa/Mbabane.", [
        { path: "date", message: `at most ${eswatiniDay(now)}` },
      ]);
    const bodies = await withTransaction(
      deps,
      async (tx) => ({
        financial: await financialBody(tx, range),
        operational: await operationalBody(tx, range),
        compliance: await complianceBody(tx, range, deps.config.aml.cashThreshold),
      }),
      // One snapshot for the three: figures taken mid-flight would not reconcile.
      { label: "reports.generate", isolation: "repeatable read", readOnly: true },
    );
    const generatedAt = deps.now();
    const stored: Generated["reports"] = [];
    for (const type of REPORT_TYPES) {
      const { summary, ...figures } = bodies[type];
      const body = {
        type,
        date,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        complete: generatedAt >= range.to,
        summary,
        ...figures,
      };
      const csvObject = reportObjectKey(date, type);
      const csv = csvDocument(CSV_HEADER, csvRows(type, body));
      await deps.storage.backups.write(csvObject, new TextEncoder().encode(csv), "text/csv; charset=utf-8");
      const [row] = await withTransaction(
        deps,
        (tx) =>
          tx
            .insert(reports)
            .values({ id: newId("rpt"), type, date, generatedAt, summary, body, csvObject })
            // The same day again replaces the report and keeps its id, so a link to it stays good.
            .onConflictDoUpdate({
              target: [reports.type, reports.date],
              set: { generatedAt, summary, body, csvObject },
            })
            .returning(),
        { label: "reports.store" },
      );
      stored.push({ id: row!.id, type, csvObject, summary });
    }
    const balanced = bodies.financial.trialBalance.balanced;
    if (!balanced)
      log.error(
        { date, trialBalance: bodies.financial.trialBalance.currencies.filter((c) => !c.balanced) },
        "the trial balance does not sum to zero: the ledger is inconsistent; run ledger:verify",
      );
    return { date, balanced, reports: stored };
  }

  async function list(filter: { type?: ReportType; from?: string; to?: string; limit: number; cursor?: string }) {
    const where: (SQL | undefined)[] = [];
    if (filter.type) where.push(eq(reports.type, filter.type));
    if (filter.from) where.push(gte(reports.date, filter.from));
    if (filter.to) where.push(lte(reports.date, filter.to));
    if (filter.cursor) {
      const c = decodeCursor(filter.cursor);
      const day = c.at.toISOString().slice(0, 10);
      where.push(or(lt(reports.date, day), and(eq(reports.date, day), lt(reports.id, c.id))));
    }
    const rows = await db
      .select()
      .from(reports)
      .where(and(...where))
      .orderBy(desc(reports.date), desc(reports.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(listItem),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(`${last.date}T00:00:00Z`, last.id) : null,
    };
  }

  async function get(id: string) {
    const [row] = await db.select().from(reports).where(eq(reports.id, id));
    if (!row) throw new AppError("NOT_FOUND", "No report has this id.");
    return {
      ...listItem(row),
      csvObject: row.csvObject,
      body: row.body,
      csv: () => csvDocument(CSV_HEADER, csvRows(row.type as ReportType, row.body)),
    };
  }

  /** Whether the day's reports exist (the in-process loop generates yesterday's when they do not). */
  async function has(day: string): Promise<boolean> {
    const rows = await db.select({ id: reports.id }).from(reports).where(eq(reports.date, day));
    return rows.length === REPORT_TYPES.length;
  }

  return { generate, list, get, has };
}

export type Reports = ReturnType<typeof createReports>;
