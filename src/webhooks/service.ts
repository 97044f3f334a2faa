import { randomBytes } from "node:crypto";
import { and, desc, eq, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { Audit, RequestMeta } from "../audit";
import type { Config } from "../config";
import { claimDue } from "../db/claim";
import { type Database, type Executor, queryRows } from "../db/client";
import { retrySerializable, serializable } from "../db/serializable";
import { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import { after, encodeCursor } from "../http/pagination";
import { backoffMs } from "../lib/backoff";
import { newId } from "../lib/ids";
import { AddressRefusedError, guardedPost, nonPublicHostname } from "../lib/net-guard";
import { createPoller } from "../lib/poller";
import { createSealer } from "../lib/sealer";
import { webhookAttempts, webhookDeliveries, webhookEndpoints, webhookEvents } from "./schema";
import { SIGNATURE_HEADER, signatureHeader } from "./signature";

/**
 * Partner webhooks: endpoints, events queued in the caller's transaction, a delivery worker and the
 * delivery log. Delivery is at least once: a crash after the partner answered but before we recorded it
 * sends the event again — with the same `id` (and `Keshless-Event-Id`), so the receiver drops it.
 */

export type WebhookEventType = "deposit.completed" | "deposit.reversed" | "webhook.test";

export interface WebhookEventInput {
  partnerId: string;
  type: WebhookEventType;
  /** One event per business fact (e.g. `<txn>:deposit.completed`): a retried caller queues it once. */
  dedupeKey: string;
  data: Record<string, unknown>;
}

export interface WebhookEndpoint {
  id: string;
  partnerId: string;
  url: string;
  description: string | null;
  active: boolean;
  secretPrefix: string;
  createdAt: string;
  updatedAt: string;
}

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

export interface DrainResult {
  claimed: number;
  delivered: number;
  retrying: number;
  failed: number;
}

interface WebhookDeps {
  database: Database;
  logger: Logger;
  config: Pick<Config, "env" | "webhooks" | "secrets" | "serializableMaxRetries">;
  audit: Audit;
  now: () => Date;
}

/** Endpoints a partner may have at once: enough for a primary and a standby, few enough to bound fan-out. */
const MAX_ENDPOINTS = 5;
const BATCH = 50;
const USER_AGENT = "Keshless-Webhooks/1";

type EndpointRow = typeof webhookEndpoints.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  partnerId: r.partnerId,
  url: r.url,
  description: r.description,
  active: r.active,
  secretPrefix: r.secretPrefix,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

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

const newSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

interface Claimed {
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

export function createWebhooks(deps: WebhookDeps) {
  const { db } = deps.database;
  const log = deps.logger.child({ component: "webhooks" });
  const sealer = createSealer(deps.config.secrets.webhook, deps.config.secrets.webhookPrevious);
  const settings = deps.config.webhooks;
  // Longer than one attempt can take, so a live worker never loses its row to another.
  const leaseMs = settings.timeoutMs + 30_000;
  const retry = <T>(fn: () => Promise<T>, label: string) =>
    retrySerializable(fn, { maxRetries: deps.config.serializableMaxRetries, logger: log, label });
  const transact = <T>(fn: (tx: Executor) => Promise<T>, label: string) =>
    serializable(db, fn, { maxRetries: deps.config.serializableMaxRetries, logger: log, label });

  function checkUrl(url: string): string {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalidUrl("is not a URL");
    }
    if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && deps.config.env !== "production"))
      throw invalidUrl(deps.config.env === "production" ? "must be https" : "must be http or https");
    if (parsed.username || parsed.password) throw invalidUrl("must not carry credentials");
    // A partner must not be able to make our servers call our own network (the metadata server above all).
    // Only what the text itself shows is refused here; where a name resolves is checked at every delivery.
    const internal = settings.allowPrivateNetworks ? null : nonPublicHostname(parsed.hostname);
    if (internal) throw invalidUrl(`must be a public address (the host is ${internal})`);
    return parsed.toString();
  }

  // ------------------------------------------------------------------ events

  /**
   * Queues an event for every active endpoint of the partner, in the caller's transaction: one statement,
   * and nothing at all when the partner has no endpoint. A repeated dedupeKey queues nothing more.
   */
  /** Queues an event for the partner's live endpoints, in the caller's transaction (webhooks_enqueue, drizzle/0008). */
  async function enqueue(event: WebhookEventInput, tx: Executor): Promise<void> {
    const id = newId("evt");
    const createdAt = deps.now().toISOString();
    const body = JSON.stringify({ id, type: event.type, createdAt, data: event.data });
    const row = { id, partnerId: event.partnerId, type: event.type, dedupeKey: event.dedupeKey, body, createdAt };
    await tx.execute(sql`select webhooks_enqueue(${JSON.stringify(row)}::jsonb)`);
  }

  // ------------------------------------------------------------------ delivery

  async function load(ids: string[]): Promise<Claimed[]> {
    if (!ids.length) return [];
    const rows = await db
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
  async function post(row: Claimed): Promise<{ statusCode: number | null; latencyMs: number; error: string | null }> {
    const started = performance.now();
    const unix = Math.floor(deps.now().getTime() / 1000);
    let secret: string;
    try {
      secret = sealer.open(row.secret);
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

  /** Sends one claimed delivery and records the attempt and the delivery's new state together. */
  async function attempt(row: Claimed): Promise<"delivered" | "retrying" | "failed"> {
    const result = row.usable
      ? await post(row)
      : { statusCode: null, latencyMs: 0, error: "the endpoint was disabled or deleted" };
    const now = deps.now();
    const deadline = row.createdAt.getTime() + settings.retryWindowSeconds * 1000;
    let outcome: "delivered" | "retrying" | "failed";
    let next = now;
    if (result.error === null) outcome = "delivered";
    else if (!row.usable || now.getTime() >= deadline) outcome = "failed";
    else {
      outcome = "retrying";
      // The last try lands on the deadline itself, then the delivery is marked failed.
      next = new Date(
        Math.min(deadline, now.getTime() + backoffMs(row.attempts, settings.backoffMs, settings.maxBackoffMs)),
      );
    }
    await retry(
      () =>
        db.transaction(async (tx) => {
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
        }),
      "webhooks.record",
    );
    const fields = {
      deliveryId: row.id,
      eventId: row.eventId,
      eventType: row.eventType,
      attempt: row.attempts,
      statusCode: result.statusCode,
      latencyMs: result.latencyMs,
    };
    if (outcome === "delivered") log.info(fields, "webhook delivered");
    else if (outcome === "retrying") log.warn({ ...fields, error: result.error, next }, "webhook attempt failed");
    else log.error({ ...fields, error: result.error }, "webhook undeliverable");
    return outcome;
  }

  /** Delivers what is due, `limit` at a time, in parallel. Safe to run on every instance at once. */
  async function drain(options: { limit?: number } = {}): Promise<DrainResult> {
    const { rows } = await claimDue<{ id: string; attempts: number }>(db, {
      table: "webhook_deliveries",
      limit: options.limit ?? BATCH,
      now: deps.now(),
      leaseMs,
    });
    const result: DrainResult = { claimed: rows.length, delivered: 0, retrying: 0, failed: 0 };
    const claimed = await load(rows.map((r) => r.id));
    const attempts = new Map(rows.map((r) => [r.id, r.attempts]));
    const outcomes = await Promise.all(claimed.map((row) => attempt({ ...row, attempts: attempts.get(row.id)! })));
    for (const outcome of outcomes) result[outcome]++;
    return result;
  }

  const poller = createPoller({
    intervalMs: settings.intervalMs,
    pass: async () => ({ more: (await drain()).claimed >= BATCH }),
    onError: (error, { retryInMs }) =>
      log.error({ err: error, retryInMs }, "webhook drain failed; backing off until a pass succeeds"),
    onRecover: ({ failures, downMs }) => log.info({ failures, downMs }, "webhook drain recovered"),
  });

  // ------------------------------------------------------------------ endpoints

  async function endpointRow(partnerId: string, endpointId: string, tx: Executor = db) {
    const [row] = await tx
      .select()
      .from(webhookEndpoints)
      .where(
        and(
          eq(webhookEndpoints.id, endpointId),
          eq(webhookEndpoints.partnerId, partnerId),
          isNull(webhookEndpoints.deletedAt),
        ),
      );
    if (!row) throw new AppError("NOT_FOUND", "No such webhook endpoint.");
    return row;
  }

  async function listEndpoints(partnerId: string): Promise<WebhookEndpoint[]> {
    const rows = await db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.partnerId, partnerId), isNull(webhookEndpoints.deletedAt)))
      .orderBy(desc(webhookEndpoints.createdAt));
    return rows.map(toEndpoint);
  }

  /** The signing secret is returned here and on rotation only; we keep it sealed. */
  async function createEndpoint({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; url: string; description?: string | undefined };
  }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = checkUrl(input.url);
    const secret = newSecret();
    const endpoint = await transact(async (tx) => {
      const [{ count } = { count: 0 }] = await queryRows<{ count: number }>(
        tx,
        sql`select count(*)::int as count from webhook_endpoints
             where partner_id = ${input.partnerId} and deleted_at is null`,
      );
      if (count >= MAX_ENDPOINTS)
        throw new AppError("CONFLICT", `A partner may have at most ${MAX_ENDPOINTS} webhook endpoints.`);
      const now = deps.now();
      const [row] = await tx
        .insert(webhookEndpoints)
        .values({
          id: newId("whk"),
          partnerId: input.partnerId,
          url,
          description: input.description ?? null,
          secret: sealer.seal(secret),
          secretPrefix: secret.slice(0, 12),
          createdBy: ctx.actor?.id ?? null,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await deps.audit.record(
        {
          action: "webhook.endpoint.create",
          target: { type: "partner", id: input.partnerId },
          details: { endpointId: row!.id, url },
        },
        ctx,
        tx,
      );
      return toEndpoint(row!);
    }, "webhooks.createEndpoint");
    return { endpoint, secret };
  }

  async function updateEndpoint({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: {
      partnerId: string;
      endpointId: string;
      url?: string | undefined;
      description?: string | null | undefined;
      active?: boolean | undefined;
    };
  }): Promise<WebhookEndpoint> {
    const url = input.url === undefined ? undefined : checkUrl(input.url);
    return transact(async (tx) => {
      await endpointRow(input.partnerId, input.endpointId, tx);
      const changes = {
        ...(url !== undefined ? { url } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
      };
      const [row] = await tx
        .update(webhookEndpoints)
        .set({ ...changes, updatedAt: deps.now() })
        .where(eq(webhookEndpoints.id, input.endpointId))
        .returning();
      await deps.audit.record(
        {
          action: "webhook.endpoint.update",
          target: { type: "partner", id: input.partnerId },
          details: { endpointId: input.endpointId, ...changes },
        },
        ctx,
        tx,
      );
      return toEndpoint(row!);
    }, "webhooks.updateEndpoint");
  }

  /** Gone from the list and sent nothing more; its delivery log stays. */
  async function deleteEndpoint({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; endpointId: string };
  }) {
    await transact(async (tx) => {
      await endpointRow(input.partnerId, input.endpointId, tx);
      const now = deps.now();
      await tx
        .update(webhookEndpoints)
        .set({ active: false, deletedAt: now, updatedAt: now })
        .where(eq(webhookEndpoints.id, input.endpointId));
      await deps.audit.record(
        {
          action: "webhook.endpoint.delete",
          target: { type: "partner", id: input.partnerId },
          details: { endpointId: input.endpointId },
        },
        ctx,
        tx,
      );
    }, "webhooks.deleteEndpoint");
  }

  /** A new secret at once: deliveries from now on are signed with it only. */
  async function rotateSecret({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; endpointId: string };
  }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const secret = newSecret();
    const endpoint = await transact(async (tx) => {
      await endpointRow(input.partnerId, input.endpointId, tx);
      const [row] = await tx
        .update(webhookEndpoints)
        .set({ secret: sealer.seal(secret), secretPrefix: secret.slice(0, 12), updatedAt: deps.now() })
        .where(eq(webhookEndpoints.id, input.endpointId))
        .returning();
      await deps.audit.record(
        {
          action: "webhook.endpoint.rotate_secret",
          target: { type: "partner", id: input.partnerId },
          details: { endpointId: input.endpointId },
        },
        ctx,
        tx,
      );
      return toEndpoint(row!);
    }, "webhooks.rotateSecret");
    return { endpoint, secret };
  }

  /**
   * Sends a `webhook.test` event to one endpoint now and returns the delivery with this first attempt.
   * The row is created already leased to this request, so the worker leaves it alone; if the attempt
   * fails it is retried like any other delivery.
   */
  async function sendTest({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; endpointId: string };
  }): Promise<WebhookDelivery & { attemptLog: WebhookAttempt[] }> {
    const endpoint = await endpointRow(input.partnerId, input.endpointId);
    if (!endpoint.active) throw new AppError("CONFLICT", "The endpoint is disabled; enable it first.");
    const eventId = newId("evt");
    const deliveryId = newId("whd");
    const now = deps.now();
    const body = JSON.stringify({
      id: eventId,
      type: "webhook.test",
      createdAt: now.toISOString(),
      data: { endpointId: endpoint.id, message: "A test event from Keshless. Answer 2xx to acknowledge it." },
    });
    await transact(async (tx) => {
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
        nextAttemptAt: new Date(now.getTime() + leaseMs),
        createdAt: now,
      });
      await deps.audit.record(
        {
          action: "webhook.test",
          target: { type: "partner", id: input.partnerId },
          details: { endpointId: endpoint.id, eventId },
        },
        ctx,
        tx,
      );
    }, "webhooks.sendTest");
    await attempt({
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
    return getDelivery(input.partnerId, deliveryId);
  }

  /** A failed delivery gets one more attempt as soon as the worker passes (its retry window has closed). */
  async function redeliver({ ctx, input }: { ctx: RequestMeta; input: { partnerId: string; deliveryId: string } }) {
    await transact(async (tx) => {
      const [row] = await tx
        .select({ status: webhookDeliveries.status })
        .from(webhookDeliveries)
        .where(and(eq(webhookDeliveries.id, input.deliveryId), eq(webhookDeliveries.partnerId, input.partnerId)));
      if (!row) throw new AppError("NOT_FOUND", "No such webhook delivery.");
      if (row.status !== "failed")
        throw new AppError("CONFLICT", `Only a failed delivery can be sent again; this one is ${row.status}.`);
      await tx
        .update(webhookDeliveries)
        .set({ status: "pending", nextAttemptAt: deps.now() })
        .where(eq(webhookDeliveries.id, input.deliveryId));
      await deps.audit.record(
        {
          action: "webhook.redeliver",
          target: { type: "partner", id: input.partnerId },
          details: { deliveryId: input.deliveryId },
        },
        ctx,
        tx,
      );
    }, "webhooks.redeliver");
    poller.kick();
    return getDelivery(input.partnerId, input.deliveryId);
  }

  // ------------------------------------------------------------------ delivery log

  /** Newest first; filter by endpoint, status, event id or type. */
  async function listDeliveries(filter: {
    partnerId: string;
    endpointId?: string | undefined;
    status?: WebhookDelivery["status"] | undefined;
    eventId?: string | undefined;
    eventType?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<{ data: WebhookDelivery[]; nextCursor: string | null }> {
    const where: (SQL | undefined)[] = [eq(webhookDeliveries.partnerId, filter.partnerId)];
    if (filter.endpointId) where.push(eq(webhookDeliveries.endpointId, filter.endpointId));
    if (filter.status) where.push(eq(webhookDeliveries.status, filter.status));
    if (filter.eventId) where.push(eq(webhookDeliveries.eventId, filter.eventId));
    if (filter.eventType) where.push(eq(webhookDeliveries.eventType, filter.eventType));
    if (filter.cursor) where.push(after(filter.cursor, webhookDeliveries.createdAt, webhookDeliveries.id));
    const rows = await db
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
  async function getDelivery(
    partnerId: string,
    deliveryId: string,
  ): Promise<
    WebhookDelivery & { attemptLog: WebhookAttempt[]; event: { id: string; type: string; payload: unknown } }
  > {
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

  return {
    enqueue,
    drain,
    start: poller.start,
    stop: poller.stop,
    kick: poller.kick,
    listEndpoints,
    createEndpoint,
    updateEndpoint,
    deleteEndpoint,
    rotateSecret,
    sendTest,
    redeliver,
    listDeliveries,
    getDelivery,
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;

function invalidUrl(message: string) {
  return new AppError("VALIDATION_FAILED", `The webhook URL ${message}.`, [{ path: "url", message }]);
}
