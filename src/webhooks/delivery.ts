import { and, eq, inArray, sql } from "drizzle-orm";
import { claimDue } from "../db/claim";
import type { Executor } from "../db/client";
import { withTransaction } from "../db/transaction";
import { backoffMs } from "../lib/backoff";
import { newId } from "../lib/ids";
import { AddressRefusedError, guardedPost } from "../lib/net-guard";
import { createPoller } from "../lib/poller";
import type { WebhookContext } from "./context";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "./schema";
import { SIGNATURE_HEADER, signatureHeader } from "./signature";

/**
 * Events queued in the caller's transaction, and the worker that delivers them: claim what is due, sign and
 * send it, record the attempt, retry with backoff until the retry window closes.
 */

export type WebhookEventType = "deposit.completed" | "deposit.reversed" | "webhook.test";

export interface WebhookEventInput {
  partnerId: string;
  type: WebhookEventType;
  /** One event per business fact (e.g. `<txn>:deposit.completed`): a retried caller queues it once. */
  dedupeKey: string;
  data: Record<string, unknown>;
}

export interface DrainResult {
  claimed: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/** A leased delivery with everything needed to send it. */
export interface Claimed {
  id: string;
  attempts: number;
  createdAt: Date;
  eventId: string;
  eventType: string;
  body: string;
  url: string;
  secret: string;
  usable: boolean;
}

type DeliveryDeps = Pick<WebhookContext, "database" | "config" | "logger" | "now" | "sealer" | "leaseMs">;
type Outcome = "delivered" | "retrying" | "failed";
type AttemptResult = { statusCode: number | null; latencyMs: number; error: string | null };

const BATCH = 50;
const USER_AGENT = "Keshless-Webhooks/1";

/**
 * Queues an event for every active endpoint of the partner, in the caller's transaction: one statement
 * (webhooks_enqueue, drizzle/0008), and nothing at all when the partner has no endpoint. A repeated
 * dedupeKey queues nothing more.
 */
export async function enqueue(c: Pick<WebhookContext, "now">, event: WebhookEventInput, tx: Executor): Promise<void> {
  const id = newId("evt");
  const createdAt = c.now().toISOString();
  const body = JSON.stringify({ id, type: event.type, createdAt, data: event.data });
  const row = { id, partnerId: event.partnerId, type: event.type, dedupeKey: event.dedupeKey, body, createdAt };
  await tx.execute(sql`select webhooks_enqueue(${JSON.stringify(row)}::jsonb)`);
}

async function load(c: Pick<DeliveryDeps, "database">, ids: string[]): Promise<Claimed[]> {
  if (!ids.length) return [];
  const rows = await c.database.db
    .select({
      id: webhookDeliveries.id,
      attempts: webhookDeliveries.attempts,
      createdAt: webhookDeliveries.createdAt,
      eventId: webhookEvents.id,
      eventType: webhookEvents.type,
      body: webhookEvents.body,
      url: webhookEndpoints.url,
      secret: webhookEndpoints.secret,
      active: webhookEndpoints.active,
      deletedAt: webhookEndpoints.deletedAt,
    })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(inArray(webhookDeliveries.id, ids));
  return rows.map((r) => ({ ...r, usable: r.active && !r.deletedAt }));
}

/** One HTTP attempt. Never throws: every outcome is a status code or an error string for the log. */
async function post(c: Pick<DeliveryDeps, "config" | "now" | "sealer">, row: Claimed): Promise<AttemptResult> {
  const settings = c.config.webhooks;
  const started = performance.now();
  const unix = Math.floor(c.now().getTime() / 1000);
  let secret: string;
  try {
    secret = c.sealer.open(row.secret);
  } catch {
    return { statusCode: null, latencyMs: 0, error: "the endpoint's secret cannot be read (key rotated?)" };
  }
  try {
    // Resolved once, refused unless public (outside development), connected to at the checked address.
    const response = await guardedPost({
      url: row.url,
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        [SIGNATURE_HEADER]: signatureHeader(secret, row.body, unix),
        "Keshless-Event-Id": row.eventId,
        "Keshless-Event-Type": row.eventType,
        "Keshless-Delivery-Id": row.id,
        "Keshless-Delivery-Attempt": String(row.attempts),
      },
      body: row.body,
      timeoutMs: settings.timeoutMs,
      allowPrivate: settings.allowPrivateNetworks,
    });
    const latencyMs = Math.round(performance.now() - started);
    const status = response.status;
    // A redirect is an answer, not a place to send money events to: it is never followed.
    const error =
      status >= 200 && status < 300
        ? null
        : status >= 300 && status < 400
          ? `HTTP ${status} (redirects are not followed)`
          : `HTTP ${status}`;
    return { statusCode: status, latencyMs, error };
  } catch (error) {
    const latencyMs = Math.round(performance.now() - started);
    const name = (error as Error)?.name;
    const message = ((error as Error)?.message ?? String(error)).slice(0, 200);
    const reason =
      error instanceof AddressRefusedError
        ? `refused: ${message}`
        : name === "TimeoutError" || name === "AbortError"
          ? `no answer within ${settings.timeoutMs} ms`
          : `could not connect: ${message}`;
    return { statusCode: null, latencyMs, error: reason };
  }
}

/** Delivered, or when to try again — or failed, once the endpoint is gone or the retry window has closed. */
function decide(
  settings: DeliveryDeps["config"]["webhooks"],
  row: Claimed,
  result: AttemptResult,
  now: Date,
): { outcome: Outcome; next: Date } {
  if (result.error === null) return { outcome: "delivered", next: now };
  const deadline = row.createdAt.getTime() + settings.retryWindowSeconds * 1000;
  if (!row.usable || now.getTime() >= deadline) return { outcome: "failed", next: now };
  // The last try lands on the deadline itself, then the delivery is marked failed.
  const next = new Date(
    Math.min(deadline, now.getTime() + backoffMs(row.attempts, settings.backoffMs, settings.maxBackoffMs)),
  );
  return { outcome: "retrying", next };
}

/** Sends one claimed delivery and records the attempt and the delivery's new state together. */
export async function attempt(c: DeliveryDeps, row: Claimed): Promise<Outcome> {
  const result = row.usable
    ? await post(c, row)
    : { statusCode: null, latencyMs: 0, error: "the endpoint was disabled or deleted" };
  const now = c.now();
  const { outcome, next } = decide(c.config.webhooks, row, result, now);
  await withTransaction(
    c,
    async (tx) => {
      await tx.insert(webhookAttempts).values({
        deliveryId: row.id,
        attempt: row.attempts,
        at: now,
        statusCode: result.statusCode,
        latencyMs: result.latencyMs,
        error: result.error,
      });
      // Only while this worker still holds the lease: a late answer never overwrites a newer attempt.
      await tx
        .update(webhookDeliveries)
        .set({
          status: outcome === "retrying" ? "pending" : outcome,
          nextAttemptAt: next,
          lastAttemptAt: now,
          lastStatusCode: result.statusCode,
          lastError: result.error,
          deliveredAt: outcome === "delivered" ? now : null,
        })
        .where(
          and(
            eq(webhookDeliveries.id, row.id),
            eq(webhookDeliveries.attempts, row.attempts),
            eq(webhookDeliveries.status, "pending"),
          ),
        );
    },
    { label: "webhooks.record" },
  );
  const fields = {
    deliveryId: row.id,
    eventId: row.eventId,
    eventType: row.eventType,
    attempt: row.attempts,
    statusCode: result.statusCode,
    latencyMs: result.latencyMs,
  };
  if (outcome === "delivered") c.logger.info(fields, "webhook delivered");
  else if (outcome === "retrying") c.logger.warn({ ...fields, error: result.error, next }, "webhook attempt failed");
  else c.logger.error({ ...fields, error: result.error }, "webhook undeliverable");
  return outcome;
}

/** Delivers what is due, `limit` at a time, in parallel. Safe to run on every instance at once. */
export async function drain(c: DeliveryDeps, options: { limit?: number } = {}): Promise<DrainResult> {
  const { rows } = await claimDue<{ id: string; attempts: number }>(c.database.db, {
    table: "webhook_deliveries",
    limit: options.limit ?? BATCH,
    now: c.now(),
    leaseMs: c.leaseMs,
  });
  const result: DrainResult = { claimed: rows.length, delivered: 0, retrying: 0, failed: 0 };
  const claimed = await load(
    c,
    rows.map((r) => r.id),
  );
  const attempts = new Map(rows.map((r) => [r.id, r.attempts]));
  const outcomes = await Promise.all(claimed.map((row) => attempt(c, { ...row, attempts: attempts.get(row.id)! })));
  for (const outcome of outcomes) result[outcome]++;
  return result;
}

/** The background loop: drains every interval, and again at once while a pass fills its batch. */
export function deliveryLoop(c: DeliveryDeps) {
  return createPoller({
    intervalMs: c.config.webhooks.intervalMs,
    pass: async () => ({ more: (await drain(c)).claimed >= BATCH }),
    onError: (error, { retryInMs }) =>
      c.logger.error({ err: error, retryInMs }, "webhook drain failed; backing off until a pass succeeds"),
    onRecover: ({ failures, downMs }) => c.logger.info({ failures, downMs }, "webhook drain recovered"),
  });
}
