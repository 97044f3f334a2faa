import { sql } from "drizzle-orm";
import { boolean, check, index, pgTable, smallint, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The notification outbox: a message is queued in the transaction that decided to send it, and a
 * worker delivers it afterwards. So a rolled-back OTP or payment never texts anyone, and a crash
 * after commit loses nothing.
 */
export const notificationOutbox = pgTable(
  "notification_outbox",
  {
    id: text().primaryKey(),
    /** A person's phone (E.164), or — for staff notices — toEmail: exactly one of the two. */
    toPhone: text(),
    toEmail: text(),
    /** An e-mail's subject line. */
    subject: text(),
    body: text().notNull(),
    /** otp · device_otp · payment · … (what the message is for; routing and retention key on it). */
    kind: text().notNull(),
    /** A retried caller queues once: unique when set. */
    dedupeKey: text().unique(),
    /** Bodies holding codes are blanked once delivered in production. */
    sensitive: boolean().notNull().default(false),
    /** pending · sent · failed · expired */
    status: text().notNull().default("pending"),
    attempts: smallint().notNull().default(0),
    /** Due time; a claimed row's lease (a crashed worker's rows come back when it passes). */
    nextAttemptAt: timestamp({ withTimezone: true }).notNull(),
    /** An OTP nobody can use any more is not worth sending. */
    expiresAt: timestamp({ withTimezone: true }),
    /** whatsapp · sms · email · outbox (development: recorded, not sent) */
    channel: text(),
    provider: text(),
    providerMessageId: text(),
    lastError: text(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    sentAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index("notification_outbox_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("notification_outbox_to_idx").on(t.toPhone, t.createdAt.desc()),
    check("notification_outbox_status", sql`${t.status} in ('pending','sent','failed','expired')`),
    check("notification_outbox_recipient", sql`(${t.toPhone} is null) <> (${t.toEmail} is null)`),
  ],
);
