import { sql } from "drizzle-orm";
import { check, date, index, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

const tz = { withTimezone: true } as const;

/**
 * The daily reports (financial, operational, compliance), one per type and local day (Africa/Mbabane): generating
 * a day again replaces its row, keeping the id. `body` is the whole report as GET /admin/v1/reports/:id returns
 * it; its CSV is written beside the backups, at `csv_object` in the backups bucket.
 */
export const reports = pgTable(
  "reports",
  {
    id: text().primaryKey(),
    /** financial · operational · compliance */
    type: text().notNull(),
    date: date({ mode: "string" }).notNull(),
    generatedAt: timestamp(tz).notNull(),
    summary: jsonb().$type<Record<string, unknown>>().notNull(),
    body: jsonb().$type<Record<string, unknown>>().notNull(),
    csvObject: text().notNull(),
  },
  (t) => [
    uniqueIndex("reports_type_date_idx").on(t.type, t.date),
    index("reports_date_idx").on(t.date.desc(), t.type),
    check("reports_type", sql`${t.type} in ('financial','operational','compliance')`),
  ],
);
