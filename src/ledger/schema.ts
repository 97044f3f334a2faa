import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

/**
 * The double-entry ledger. Invariants that must hold whatever code runs are enforced here, by the
 * database: balanced journals (deferred trigger), immutable entries, guarded balances never negative.
 * Triggers and the one-round-trip write functions live in the hand-written migration drizzle/0001_*.sql.
 */

export const ledgerAccounts = pgTable(
  "ledger_accounts",
  {
    id: text().primaryKey(),
    /** user_wallet · vendor_wallet · fee_revenue · partner_settlement · airtime_clearing · withdrawal_clearing · card_fees · suspense */
    kind: text().notNull(),
    ownerType: text(),
    ownerId: text(),
    /** Stable natural key, e.g. `wallet:usr_…:SZL`, `fee_revenue:SZL`. */
    code: text().notNull().unique(),
    currency: text().notNull(),
    /** May not go negative (wallets). */
    guarded: boolean().notNull(),
    /** Balance rows whose sum is the balance: hot accounts spread concurrent writers over them. */
    shardCount: smallint().notNull().default(1),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("ledger_accounts_owner_idx").on(t.ownerType, t.ownerId),
    check("ledger_accounts_shards", sql`${t.shardCount} between 1 and 256`),
    check("ledger_accounts_currency", sql`${t.currency} ~ '^[A-Z]{3}$'`),
  ],
);

export const ledgerBalances = pgTable(
  "ledger_balances",
  {
    accountId: text()
      .notNull()
      .references(() => ledgerAccounts.id),
    shard: smallint().notNull(),
    currency: text().notNull(),
    guarded: boolean().notNull(),
    balance: bigint({ mode: "bigint" }).notNull().default(sql`0`),
    /** Reserved by pending holds. */
    held: bigint({ mode: "bigint" }).notNull().default(sql`0`),
  },
  (t) => [
    primaryKey({ columns: [t.accountId, t.shard] }),
    check("ledger_balances_held_nonnegative", sql`${t.held} >= 0`),
    check("ledger_balances_guard", sql`not ${t.guarded} or (${t.balance} - ${t.held} >= 0)`),
  ],
);

export const ledgerJournals = pgTable(
  "ledger_journals",
  {
    /** The transfer id: the caller's idempotency handle. */
    id: text().primaryKey(),
    kind: text().notNull(),
    reversalOf: text().unique(),
    holdId: text(),
    /** Canonical request content, compared on a replay of the same id. */
    request: jsonb().notNull(),
    metadata: jsonb().notNull().default({}),
    /** Per-currency running sum of entries; must be all zero at commit. */
    imbalance: jsonb().notNull().default({}),
    entryCount: integer().notNull().default(0),
    txid: bigint({ mode: "bigint" }).notNull().default(sql`txid_current()`),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("ledger_journals_created_idx").on(t.createdAt)],
);

export const ledgerEntries = pgTable(
  "ledger_entries",
  {
    id: bigserial({ mode: "bigint" }).primaryKey(),
    // No foreign key: the ledger_entries_accumulate trigger (drizzle/0022) already refuses an entry unless its
    // journal exists and was created by the same transaction, and journals can never be deleted — the key's
    // check was a second lookup per entry on every payment (drizzle/0010).
    journalId: text().notNull(),
    accountId: text().notNull(),
    shard: smallint().notNull(),
    currency: text().notNull(),
    /** Signed cents: positive credits the account, negative debits it. */
    amount: bigint({ mode: "bigint" }).notNull(),
    /** The shard's balance after this entry (the account's, for single-shard accounts). */
    balanceAfter: bigint({ mode: "bigint" }).notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().default(sql`clock_timestamp()`),
  },
  (t) => [
    index("ledger_entries_account_idx").on(t.accountId, t.id),
    index("ledger_entries_account_shard_idx").on(t.accountId, t.shard, t.id),
    index("ledger_entries_journal_idx").on(t.journalId),
    check("ledger_entries_nonzero", sql`${t.amount} <> 0`),
  ],
);

export const ledgerHolds = pgTable(
  "ledger_holds",
  {
    id: text().primaryKey(),
    accountId: text()
      .notNull()
      .references(() => ledgerAccounts.id),
    currency: text().notNull(),
    amount: bigint({ mode: "bigint" }).notNull(),
    /** Which shards carry the reservation: [{shard, amount}]. */
    allocations: jsonb().notNull(),
    /** pending · posted · voided · expired */
    status: text().notNull().default("pending"),
    postedAmount: bigint({ mode: "bigint" }),
    journalId: text().unique(),
    expiresAt: timestamp({ withTimezone: true }),
    metadata: jsonb().notNull().default({}),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("ledger_holds_pending_idx").on(t.expiresAt).where(sql`${t.status} = 'pending'`),
    index("ledger_holds_account_idx").on(t.accountId),
    check("ledger_holds_amount_positive", sql`${t.amount} > 0`),
    check("ledger_holds_status", sql`${t.status} in ('pending','posted','voided','expired')`),
  ],
);
