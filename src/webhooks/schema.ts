import { sql } from "drizzle-orm";
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { partners } from "../identity/schema";

/**
 * Partner webhooks. An event is written in the transaction that moved the money, with one delivery row
 * per active endpoint of the partner; a worker delivers them afterwards (FOR UPDATE SKIP LOCKED) and
 * logs every attempt. So a rolled-back deposit never notifies a partner and a crash loses no event.
 */

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => partners.id),
    url: text().notNull(),
    description: text(),
    /** Sealed (AES-256-GCM): the worker needs it back to sign, and a database dump must not reveal it. */
    secret: text().notNull(),
    /** The secret's first characters, so a partner can tell which one is configured. */
    secretPrefix: text().notNull(),
    active: boolean().notNull().default(true),
    createdBy: text(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    /** Deleted endpoints stay for the delivery log; they receive nothing more. */
    deletedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index("webhook_endpoints_partner_idx").on(t.partnerId)],
);

export const webhookEvents = pgTable(
  "webhook_events",
  {
    /** `evt_…`: the same on every attempt, so a receiver can drop a duplicate. */
    id: text().primaryKey(),
    partnerId: text().notNull(),
    /** deposit.completed · deposit.reversed · webhook.test */
    type: text().notNull(),
    /** One event per business fact (`<txn>:<type>`): a retried caller never queues it twice. */
    dedupeKey: text().unique(),
    /** The exact bytes sent and signed, on every attempt. */
    body: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index("webhook_events_partner_idx").on(t.partnerId, t.createdAt.desc())],
);

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text().primaryKey(),
    eventId: text()
      .notNull()
      .references(() => webhookEvents.id),
    endpointId: text()
      .notNull()
      .references(() => webhookEndpoints.id),
    partnerId: text().notNull(),
    eventType: text().notNull(),
    /** pending · delivered · failed */
    status: text().notNull().default("pending"),
    attempts: smallint().notNull().default(0),
    /** Due time; while an attempt runs, its lease (a crashed worker's rows come back when it passes). */
    nextAttemptAt: timestamp({ withTimezone: true }).notNull(),
    lastAttemptAt: timestamp({ withTimezone: true }),
    lastStatusCode: integer(),
    lastError: text(),
    deliveredAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event_endpoint_idx").on(t.eventId, t.endpointId),
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_partner_idx").on(t.partnerId, t.createdAt.desc(), t.id.desc()),
    check("webhook_deliveries_status", sql`${t.status} in ('pending','delivered','failed')`),
  ],
);

/** One row per HTTP attempt: what the partner's server answered, how fast, or why it could not. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigserial({ mode: "bigint" }).primaryKey(),
    deliveryId: text()
      .notNull()
      .references(() => webhookDeliveries.id),
    attempt: smallint().notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
    statusCode: integer(),
    latencyMs: integer().notNull(),
    error: text(),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId, t.attempt)],
);
