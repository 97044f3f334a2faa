import { and, desc, eq, type SQL } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { newId } from "../lib/ids";
import { auditChange, type WebhookContext } from "./context";
import { attempt } from "./delivery";
import { endpointRow } from "./endpoints";
import { webhookAttempts, webhookDeliveries, webhookEvents } from "./schema";

/** The delivery log a partner reads, and what it may do from it: send a test event, send a failed one again. */

export interface WebhookAttempt {
  attempt: number;
  at: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  endpointId: string;
  status: "pending" | "delivered" | "failed";
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  eventId: r.eventId,
  eventType: r.eventType,
  endpointId: r.endpointId,
  status: r.status as WebhookDelivery["status"],
  attempts: r.attempts,
  lastStatusCode: r.lastStatusCode,
  lastError: r.lastError,
  lastAttemptAt: r.lastAttemptAt?.toISOString() ?? null,
  nextAttemptAt: r.status === "pending" ? r.nextAttemptAt.toISOString() : null,
  deliveredAt: r.deliveredAt?.toISOString() ?? null,
  createdAt: r.createdAt.toISOString(),
});

/** Newest first; filter by endpoint, status, event id or type. */
export async function listDeliveries(
  c: Pick<WebhookContext, "database">,
  filter: {
    partnerId: string;
    endpointId?: string | undefined;
    status?: WebhookDelivery["status"] | undefined;
    eventId?: string | undefined;
    eventType?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
): Promise<{ data: WebhookDelivery[]; nextCursor: string | null }> {
  const where: (SQL | undefined)[] = [eq(webhookDeliveries.partnerId, filter.partnerId)];
  if (filter.endpointId) where.push(eq(webhookDeliveries.endpointId, filter.endpointId));
  if (filter.status) where.push(eq(webhookDeliveries.status, filter.status));
  if (filter.eventId) where.push(eq(webhookDeliveries.eventId, filter.eventId));
  if (filter.eventType) where.push(eq(webhookDeliveries.eventType, filter.eventType));
  if (filter.cursor) where.push(after(filter.cursor, webhookDeliveries.createdAt, webhookDeliveries.id));
  const rows = await c.database.db
    .select()
    .from(webhookDeliveries)
    .where(and(...where))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toDelivery),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

/** One delivery with every attempt and the event exactly as sent. */
export async function getDelivery(
  c: Pick<WebhookContext, "database">,
  partnerId: string,
  deliveryId: string,
): Promise<WebhookDelivery & { attemptLog: WebhookAttempt[]; event: { id: string; type: string; payload: unknown } }> {
  const { db } = c.database;
  const [row] = await db
    .select({ delivery: webhookDeliveries, body: webhookEvents.body })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.partnerId, partnerId)));
  if (!row) throw new AppError("NOT_FOUND", "No such webhook delivery.");
  const attempts = await db
    .select()
    .from(webhookAttempts)
    .where(eq(webhookAttempts.deliveryId, deliveryId))
    .orderBy(webhookAttempts.attempt, webhookAttempts.id);
  return {
    ...toDelivery(row.delivery),
    event: { id: row.delivery.eventId, type: row.delivery.eventType, payload: JSON.parse(row.body) },
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      at: a.at.toISOString(),
      statusCode: a.statusCode,
      latencyMs: a.latencyMs,
      error: a.error,
    })),
  };
}

/**
 * Sends a `webhook.test` event to one endpoint now and returns the delivery with this first attempt.
 * The row is created already leased to this request, so the worker leaves it alone; if the attempt
 * fails it is retried like any other delivery.
 */
export async function sendTest(
  c: WebhookContext,
  { ctx, input }: { ctx: RequestMeta; input: { partnerId: string; endpointId: string } },
): ReturnType<typeof getDelivery> {
  const endpoint = await endpointRow(c.database.db, input.partnerId, input.endpointId);
  if (!endpoint.active) throw new AppError("CONFLICT", "The endpoint is disabled; enable it first.");
  const eventId = newId("evt");
  const deliveryId = newId("whd");
  const now = c.now();
  const body = JSON.stringify({
    id: eventId,
    type: "webhook.test",
    createdAt: now.toISOString(),
    data: { endpointId: endpoint.id, message: "A test event from Keshless. Answer 2xx to acknowledge it." },
  });
  await withTransaction(
    c,
    async (tx) => {
      await tx.insert(webhookEvents).values({
        id: eventId,
        partnerId: input.partnerId,
        type: "webhook.test",
        dedupeKey: null,
        body,
        createdAt: now,
      });
      await tx.insert(webhookDeliveries).values({
        id: deliveryId,
        eventId,
        endpointId: endpoint.id,
        partnerId: input.partnerId,
        eventType: "webhook.test",
        attempts: 1,
        nextAttemptAt: new Date(now.getTime() + c.leaseMs),
        createdAt: now,
      });
      await auditChange(
        c.audit,
        { action: "webhook.test", partnerId: input.partnerId, details: { endpointId: endpoint.id, eventId } },
        ctx,
        tx,
      );
    },
    { label: "webhooks.sendTest" },
  );
  await attempt(c, {
    id: deliveryId,
    attempts: 1,
    createdAt: now,
    eventId,
    eventType: "webhook.test",
    body,
    url: endpoint.url,
    secret: endpoint.secret,
    usable: true,
  });
  return getDelivery(c, input.partnerId, deliveryId);
}

/**
 * A failed delivery gets one more attempt as soon as the worker passes (its retry window has closed);
 * `kick` wakes the worker so that is now.
 */
export async function redeliver(
  c: Pick<WebhookContext, "database" | "config" | "logger" | "audit" | "now">,
  kick: () => void,
  { ctx, input }: { ctx: RequestMeta; input: { partnerId: string; deliveryId: string } },
) {
  await withTransaction(
    c,
    async (tx) => {
      const [row] = await tx
        .select({ status: webhookDeliveries.status })
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.id, input.deliveryId), eq(webhookDeliveries.partnerId, input.partnerId)));
      if (!row) throw new AppError("NOT_FOUND", "No such webhook delivery.");
      if (row.status !== "failed")
        throw new AppError("CONFLICT", `Only a failed delivery can be sent again; this one is ${row.status}.`);
      await tx
        .update(webhookDeliveries)
        .set({ status: "pending", nextAttemptAt: c.now() })
        .where(eq(webhookDeliveries.id, input.deliveryId));
      await auditChange(
        c.audit,
        { action: "webhook.redeliver", partnerId: input.partnerId, details: { deliveryId: input.deliveryId } },
        ctx,
        tx,
      );
    },
    { label: "webhooks.redeliver" },
  );
  kick();
  return getDelivery(c, input.partnerId, input.deliveryId);
}
