import { sql } from "drizzle-orm";
import { bigint, check, index, jsonb, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

/**
 * Requests for a Keshless tap card. The card fee is held on the user's wallet until an admin approves
 * (the fee is taken) or rejects (released). The fee's transaction row and journal share `transactionId`.
 */
export const cardRequests = pgTable(
  "card_requests",
  {
    id: text().primaryKey(),
    userId: text().notNull(),
    accountId: text().notNull(),
    /** txn_… of the fee (null when cards are free). */
    transactionId: text(),
    holdId: text(),
    approvalId: text(),
    fee: bigint({ mode: "bigint" }).notNull(),
    currency: text().notNull(),
    nameOnCard: text(),
    deliveryAddress: text(),
    /** pending · approved · rejected · expired */
    status: text().notNull(),
    feeAccount: text(),
    limitCharges: jsonb().notNull().default([]),
    reason: text(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    resolvedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    // One open request per user: a second tap on "request card" cannot hold the fee twice.
    uniqueIndex("card_requests_one_pending_idx").on(t.userId).where(sql`${t.status} = 'pending'`),
    index("card_requests_user_idx").on(t.userId, t.createdAt.desc()),
    check("card_requests_status", sql`${t.status} in ('pending','approved','rejected','expired')`),
  ],
);
