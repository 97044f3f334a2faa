import { index, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Append-only record of every admin action and security event. A trigger (drizzle/0002_identity.sql)
 * refuses UPDATE, DELETE and TRUNCATE, so not even a buggy admin route can rewrite history.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: text().primaryKey(),
    at: timestamp({ withTimezone: true }).notNull(),
    /** admin · user · vendor · partner · system · anonymous */
    actorType: text().notNull(),
    actorId: text(),
    /** `<subject>.<event>`, e.g. `user.freeze`, `vendor.login.failed`, `auth.refresh.reuse`. */
    action: text().notNull(),
    targetType: text(),
    targetId: text(),
    ip: text(),
    requestId: text(),
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index("audit_log_at_idx").on(t.at.desc(), t.id.desc()),
    index("audit_log_actor_idx").on(t.actorId, t.at.desc()),
    index("audit_log_target_idx").on(t.targetType, t.targetId, t.at.desc()),
    index("audit_log_action_idx").on(t.action, t.at.desc()),
  ],
);
