import { sql } from "drizzle-orm";
import { bigint, boolean, check, index, integer, jsonb, pgTable, smallint, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Airtime bought over the operators' ERS360. An order holds amount + fee on the wallet; each call to
 * the operator is an attempt with its own clientReference, saved before it is sent, so a crash or a
 * timeout can always be settled by asking the operator about that reference. The order id is the
 * `txn_` id of its transaction row and of the journal that posts the hold.
 */
export const airtimeOrders = pgTable(
  "airtime_orders",
  {
    id: text().primaryKey(),
    userId: text().notNull(),
    accountId: text().notNull(),
    /** E.164 of the phone topped up. */
    msisdn: text().notNull(),
    /** mtn · eswatini_mobile */
    operator: text().notNull(),
    amount: bigint({ mode: "bigint" }).notNull(),
    fee: bigint({ mode: "bigint" }).notNull(),
    feeBearer: text().notNull(),
    currency: text().notNull(),
    /** pending · completed · failed */
    status: text().notNull(),
    holdId: text().notNull(),
    clearingAccount: text().notNull(),
    feeAccount: text(),
    limitCharges: jsonb().notNull().default([]),
    /** Attempts made so far (each a distinct clientReference). */
    attempts: smallint().notNull().default(0),
    /** When the reconciler should next look at it. */
    nextCheckAt: timestamp({ withTimezone: true }),
    ersReference: text(),
    resultCode: integer(),
    resultDescription: text(),
    /** Operations were alerted (e.g. our reseller account ran out of credit, code 104). */
    alerted: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    resolvedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("airtime_orders_due_idx").on(t.nextCheckAt).where(sql`${t.status} = 'pending'`),
    index("airtime_orders_user_idx").on(t.userId, t.createdAt.desc()),
    index("airtime_orders_created_idx").on(t.createdAt.desc(), t.id.desc()),
    check("airtime_orders_status", sql`${t.status} in ('pending','completed','failed')`),
    check("airtime_orders_operator", sql`${t.operator} in ('mtn','eswatini_mobile')`),
  ],
);

export const airtimeAttempts = pgTable(
  "airtime_attempts",
  {
    /** Unique per attempt and saved before the request leaves: the key for every status query. */
    clientReference: text().primaryKey(),
    orderId: text().notNull(),
    attempt: smallint().notNull(),
    /**
     * queued (saved, not yet sent) · sending (claimed by a sender; outcome unknown until it answers) ·
     * succeeded · rejected · unknown (timeout, busy, 105, transport error: ask for its status) ·
     * not_found (the operator has no record of it: it did not happen)
     */
    status: text().notNull(),
    resultCode: integer(),
    resultDescription: text(),
    ersReference: text(),
    /** Status queries made about it. */
    checks: smallint().notNull().default(0),
    sentAt: timestamp({ withTimezone: true }),
    respondedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    index("airtime_attempts_order_idx").on(t.orderId, t.attempt),
    check(
      "airtime_attempts_status",
      sql`${t.status} in ('queued','sending','succeeded','rejected','unknown','not_found')`,
    ),
  ],
);
