import { index, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Rate-limit state shared by every instance: one row per key holding GCRA's theoretical arrival
 * time. A request is allowed when `tat - now` stays within the burst; rows whose tat has passed are spent.
 */
export const rateLimits = pgTable(
  "rate_limits",
  {
    key: text().primaryKey(),
    tat: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index("rate_limits_tat_idx").on(t.tat)],
);
