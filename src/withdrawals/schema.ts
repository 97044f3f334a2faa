import { sql } from "drizzle-orm";
import { bigint, check, index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Withdrawals of users and vendors to a bank account or an agent. The id is the `txn_` id of its
 * transaction row and of the ledger journal that posts it; the hold is `hld_` + the same suffix, so a
 * retry at any step finds the same ledger objects. Clearing and fee accounts are resolved when the
 * withdrawal is made, so deciding it later is one short transaction.
 */
export const withdrawals = pgTable(
  "withdrawals",
  {
    id: text().primaryKey(),
    /** user · vendor */
    ownerType: text().notNull(),
    ownerId: text().notNull(),
    accountId: text().notNull(),
    amount: bigint({ mode: "bigint" }).notNull(),
    fee: bigint({ mode: "bigint" }).notNull(),
    feeBearer: text().notNull(),
    currency: text().notNull(),
    /** {type:"bank", bankCode, accountNumber, accountName} · {type:"agent", agentCode} */
    destination: jsonb().notNull(),
    /** pending (awaiting approval) · completed · rejected · expired */
    status: text().notNull(),
    holdId: text().notNull(),
    approvalId: text(),
    clearingAccount: text().notNull(),
    feeAccount: text(),
    /** Usage counters this withdrawal charged ([{period, amount}]), given back if it never happens. */
    limitCharges: jsonb().notNull().default([]),
    reason: text(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    resolvedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("withdrawals_owner_idx").on(t.ownerId, t.createdAt.desc()),
    index("withdrawals_status_idx").on(t.status, t.createdAt.desc()),
    check("withdrawals_status", sql`${t.status} in ('pending','completed','rejected','expired')`),
    check("withdrawals_amount_positive", sql`${t.amount} > 0`),
  ],
);
