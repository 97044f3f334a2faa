import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * One row per live USSD session, keyed by gateway and the gateway's session id, so whichever instance
 * answers the next hop finds the menu position here (nothing about a session lives in process memory).
 * `hop` counts processed inputs and doubles as the optimistic version of the row; `nonce` makes
 * idempotency keys unique even if a gateway reuses a session id later. Rows past `expires_at` are dead.
 */
export const ussdSessions = pgTable(
  "ussd_sessions",
  {
    gateway: text().notNull(),
    sessionId: text().notNull(),
    nonce: text().notNull(),
    phone: text().notNull(),
    /** Menu position, the inputs collected so far (never a PIN) and the back stack. */
    state: jsonb().notNull(),
    hop: integer().notNull().default(0),
    /** Keyed hash of the last request, to answer a gateway's retry with the same reply. */
    lastFingerprint: text(),
    lastReply: text().notNull(),
    /** The last reply closed the session; kept until expiry only to replay it to a retry. */
    ended: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    expiresAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.gateway, t.sessionId] }), index("ussd_sessions_expires_idx").on(t.expiresAt)],
);

/** The USSD language a phone chose, asked once and remembered (keyed by phone: newcomers choose before they register). */
export const ussdProfiles = pgTable(
  "ussd_profiles",
  {
    phone: text().primaryKey(),
    language: text().notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [check("ussd_profiles_language_check", sql`${t.language} in ('en', 'ss')`)],
);
