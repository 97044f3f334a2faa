import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * Business-level record of every money movement, one row per ledger journal (same `txn_` id).
 * Unlike ledger entries this row is mutable: status moves (pending → completed, completed → reversed).
 * Names are snapshotted so history reads without joins and shows what the payer saw.
 */
export const transactions = pgTable(
  "transactions",
  {
    id: text().primaryKey(),
    /** payment · transfer · deposit · withdrawal · airtime · reversal · fee · card */
    type: text().notNull(),
    /** pending · completed · failed · reversed */
    status: text().notNull(),
    amount: bigint({ mode: "bigint" }).notNull(),
    fee: bigint({ mode: "bigint" }).notNull(),
    feeBearer: text().notNull(),
    currency: text().notNull(),
    payerType: text().notNull(),
    payerId: text().notNull(),
    payerName: text(),
    payerAccount: text().notNull(),
    payeeType: text().notNull(),
    payeeId: text().notNull(),
    payeeName: text(),
    payeeAccount: text().notNull(),
    partnerId: text(),
    reference: text(),
    externalReference: text(),
    holdId: text(),
    reversalOf: text(),
    metadata: jsonb().notNull().default({}),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("transactions_payer_idx").on(t.payerAccount, t.createdAt.desc(), t.id.desc()),
    index("transactions_payee_idx").on(t.payeeAccount, t.createdAt.desc(), t.id.desc()),
    index("transactions_type_created_idx").on(t.type, t.createdAt.desc()),
    uniqueIndex("transactions_partner_reference_idx")
      .on(t.partnerId, t.externalReference)
      .where(sql`${t.type} = 'deposit'`),
  ],
);

/**
 * Outflow per owner and period ("d:2026-11-26", "m:2026-11"), bumped inside the payment's transaction
 * so concurrent payments by one person cannot both slip under a limit.
 */
export const usageCounters = pgTable(
  "usage_counters",
  {
    ownerId: text().notNull(),
    period: text().notNull(),
    total: bigint({ mode: "bigint" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.period] })],
);

/**
 * The KYC tiers' limits (cents), as compliance admins set them (PUT /admin/v1/settings/limits/:tier, audited).
 * A tier missing here is taken once from KESHLESS_KYC_LIMITS (or the defaults) by the first process to read
 * the table, and the environment never overwrites a stored tier afterwards (tier-limits.ts).
 */
export const kycTierLimits = pgTable(
  "kyc_tier_limits",
  {
    tier: smallint().primaryKey(),
    perTransaction: bigint({ mode: "number" }).notNull(),
    daily: bigint({ mode: "number" }).notNull(),
    monthly: bigint({ mode: "number" }).notNull(),
    maxBalance: bigint({ mode: "number" }).notNull(),
    /** The admin who last set them; null while they are the environment's first-boot default. */
    updatedBy: text(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      "kyc_tier_limits_positive",
      sql`${t.perTransaction} > 0 and ${t.daily} > 0 and ${t.monthly} > 0 and ${t.maxBalance} > 0`,
    ),
  ],
);
