import { sql } from "drizzle-orm";
import { bigint, check, index, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * Vendor payment requests: "pay me E15 for ref 42" as a QR code or a short numeric code a feature phone
 * can type. Paid at most once: the pay path marks the row paid in the same transaction as the money.
 */
export const paymentRequests = pgTable(
  "payment_requests",
  {
    id: text().primaryKey(),
    vendorId: text().notNull(),
    /** 7 digits (vendor codes have 6), unique among open requests; reused only once a request is closed. */
    code: text().notNull(),
    amount: bigint({ mode: "bigint" }).notNull(),
    currency: text().notNull(),
    reference: text(),
    /** open · paid · cancelled · expired (an open request past expires_at reads as expired) */
    status: text().notNull().default("open"),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
    transactionId: text(),
    paidBy: text(),
    paidAt: timestamp({ withTimezone: true }),
    cancelledAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("payment_requests_open_code_idx").on(t.code).where(sql`${t.status} = 'open'`),
    index("payment_requests_code_idx").on(t.code, t.createdAt.desc()),
    index("payment_requests_vendor_idx").on(t.vendorId, t.createdAt.desc(), t.id.desc()),
    check("payment_requests_status", sql`${t.status} in ('open','paid','cancelled','expired')`),
    check("payment_requests_amount", sql`${t.amount} > 0`),
  ],
);
