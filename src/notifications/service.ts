import { and, desc, eq, sql } from "drizzle-orm";
import type { Config } from "../config";
import { claimDue } from "../db/claim";
import type { Database, Executor } from "../db/client";
import { retrySerializable } from "../db/serializable";
import { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import { createEnezaClient, createEnezaSimulator, type MessageSender, SendError } from "../integrations/eneza";
import { createYeboLinkClient, createYeboLinkSimulator } from "../integrations/yebolink";
import { backoffMs } from "../lib/backoff";
import { newId } from "../lib/ids";
import { maskPhone, normalizePhone } from "../lib/phone";
import { createPoller } from "../lib/poller";
import { notificationOutbox } from "./schema";

export interface EnqueueInput {
  /** E.164 (other accepted spellings are normalised). */
  to: string;
  body: string;
  kind: string;
  /** Unique: a retried caller never queues the same message twice. */
  dedupeKey?: string;
  /** Holds a code: blanked once delivered in production. */
  sensitive?: boolean;
  /** Not worth sending after this (an OTP past its life). */
  expiresAt?: Date;
}

export interface OutboxMessage {
  id: string;
  to: string;
  channel: string | null;
  body: string;
  kind: string;
  status: string;
  createdAt: string;
}

export interface DrainResult {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
  expired: number;
}

interface NotificationDeps {
  database: Database;
  logger: Logger;
  config: Pick<
    Config,
    "env" | "notifications" | "simulators" | "outbox" | "eneza" | "yebolink" | "serializableMaxRetries"
  >;
  now: () => Date;
}

/** How long a claimed row stays invisible to other workers: longer than both providers' timeouts. */
const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 15 * 60_000;

/** The channels in the order we try them: WhatsApp (Eneza), then SMS (YeboLink). */
export function buildSenders(config: NotificationDeps["config"]): MessageSender[] {
  if (config.notifications === "outbox") return [];
  const senders: MessageSender[] = [];
  if (config.eneza.url) senders.push(createEnezaClient(config.eneza));
  else if (config.simulators)
    senders.push(
      createEnezaClient({ ...config.eneza, apiKey: "simulator" }, createEnezaSimulator().fetch, "http://eneza.sim"),
    );
  if (config.yebolink.apiKey) senders.push(createYeboLinkClient(config.yebolink));
  else if (config.simulators)
    senders.push(
      createYeboLinkClient(
        { ...config.yebolink, apiKey: "simulator" },
        createYeboLinkSimulator().fetch,
        "http://yebolink.sim",
      ),
    );
  return senders;
}

/**
 * Outbox + delivery worker. `enqueue` writes in the caller's transaction; `drain` claims due rows with
 * FOR UPDATE SKIP LOCKED (so any number of instances drain in parallel without sending twice), sends
 * outside any transaction, then records the outcome. In `outbox` mode (development) nothing leaves the
 * process: rows are marked delivered on channel "outbox" and GET /dev/outbox shows them.
 */
export function createNotifications(deps: NotificationDeps, senders: MessageSender[] = buildSenders(deps.config)) {
  const { db } = deps.database;
  const log = deps.logger.child({ component: "notifications" });
  /** One-statement writes to rows this worker holds the lease on: retried on the rare SERIALIZABLE conflict. */
  const write = (statement: ReturnType<typeof sql>) =>
    retrySerializable(() => db.execute(statement), {
      maxRetries: deps.config.serializableMaxRetries,
      logger: log,
      label: "outbox",
    });

  async function enqueue(input: EnqueueInput, tx?: Executor): Promise<{ id: string; queued: boolean }> {
    const to = normalizePhone(input.to);
    if (!to) throw new AppError("VALIDATION_FAILED", "The recipient is not an Eswatini mobile number.");
    const now = deps.now();
    const id = newId("ntf");
    const inserted = await (tx ?? db)
      .insert(notificationOutbox)
      .values({
        id,
        toPhone: to,
        body: input.body,
        kind: input.kind,
        dedupeKey: input.dedupeKey ?? null,
        sensitive: input.sensitive ?? false,
        nextAttemptAt: now,
        expiresAt: input.expiresAt ?? null,
        createdAt: now,
      })
      .onConflictDoNothing({ target: notificationOutbox.dedupeKey })
      .returning({ id: notificationOutbox.id });
    if (inserted[0]) return { id, queued: true };
    const [existing] = await (tx ?? db)
      .select({ id: notificationOutbox.id })
      .from(notificationOutbox)
      .where(eq(notificationOutbox.dedupeKey, input.dedupeKey!));
    return { id: existing?.id ?? id, queued: false };
  }

  /** Expires what is no longer worth sending, then leases up to `limit` due rows to this worker. */
  async function claim(limit: number, now: Date) {
    const { rows, before } = await claimDue<{
      id: string;
      to_phone: string;
      body: string;
      kind: string;
      attempts: number;
    }>(db, {
      table: "notification_outbox",
      limit,
      now,
      leaseMs: LEASE_MS,
      columns: ["to_phone", "body", "kind"],
      before: sql`update notification_outbox set status = 'expired'
                     where status = 'pending' and expires_at <= ${now.toISOString()}::timestamptz
                 returning id`,
    });
    return { rows, expired: before };
  }

  async function markSent(
    row: { id: string },
    outcome: { channel: string; provider: string; messageId: string | null },
    now: Date,
  ) {
    const blank = deps.config.env === "production";
    await write(
      sql`update notification_outbox
             set status = 'sent', channel = ${outcome.channel}, provider = ${outcome.provider},
                 provider_message_id = ${outcome.messageId}, sent_at = ${now.toISOString()}::timestamptz,
                 last_error = null,
                 body = case when sensitive and ${blank} then '[delivered]' else body end
           where id = ${row.id}`,
    );
  }

  async function deliver(
    row: { id: string; to_phone: string; body: string; kind: string; attempts: number },
    now: Date,
  ): Promise<"sent" | "retrying" | "failed"> {
    if (deps.config.notifications === "outbox") {
      await markSent(row, { channel: "outbox", provider: "outbox", messageId: null }, now);
      log.info(
        { notificationId: row.id, to: maskPhone(row.to_phone), kind: row.kind, channel: "outbox" },
        "notification recorded in the dev outbox",
      );
      return "sent";
    }
    const errors: string[] = [];
    for (const sender of senders) {
      try {
        const { messageId } = await sender.send({ to: row.to_phone, text: row.body });
        await markSent(row, { channel: sender.channel, provider: sender.provider, messageId }, deps.now());
        log.info(
          {
            notificationId: row.id,
            to: maskPhone(row.to_phone),
            kind: row.kind,
            provider: sender.provider,
            channel: sender.channel,
            providerMessageId: messageId,
            attempt: row.attempts,
          },
          "notification sent",
        );
        return "sent";
      } catch (error) {
        const reason = error instanceof SendError ? error.message : "unexpected error";
        errors.push(`${sender.provider}: ${reason}`);
        log.warn(
          { notificationId: row.id, provider: sender.provider, channel: sender.channel, reason, attempt: row.attempts },
          "notification provider failed",
        );
      }
    }
    if (!senders.length) errors.push("no provider configured");
    const final = row.attempts >= deps.config.outbox.maxAttempts;
    const jittered = backoffMs(row.attempts, deps.config.outbox.backoffMs, MAX_BACKOFF_MS);
    await write(
      sql`update notification_outbox
             set status = ${final ? "failed" : "pending"}, last_error = ${errors.join("; ").slice(0, 500)},
                 next_attempt_at = ${now.toISOString()}::timestamptz + ${jittered} * interval '1 millisecond'
           where id = ${row.id}`,
    );
    if (final)
      log.error(
        { notificationId: row.id, kind: row.kind, attempts: row.attempts, errors },
        "notification undeliverable",
      );
    return final ? "failed" : "retrying";
  }

  /** Delivers what is due, `limit` at a time. Safe to run on every instance at once. */
  async function drain(options: { limit?: number } = {}): Promise<DrainResult> {
    const now = deps.now();
    const { rows, expired } = await claim(options.limit ?? 50, now);
    const result: DrainResult = { claimed: rows.length, sent: 0, retrying: 0, failed: 0, expired };
    const outcomes = await Promise.all(rows.map((row) => deliver(row, now)));
    for (const outcome of outcomes) result[outcome]++;
    return result;
  }

  // ------------------------------------------------------------------ the worker
  const poller = createPoller({
    intervalMs: deps.config.outbox.intervalMs,
    pass: async () => ({ more: (await drain()).claimed >= 50 }),
    onError: (error) => log.error({ err: error }, "outbox drain failed"),
  });
  const start = () => poller.start();
  const stop = () => poller.stop();
  /** Drain soon (an OTP was just queued), without waiting for the next interval. Only while started. */
  const kick = () => poller.kick();

  async function list(filter: { to?: string; limit: number }): Promise<OutboxMessage[]> {
    const rows = await db
      .select()
      .from(notificationOutbox)
      .where(filter.to ? and(eq(notificationOutbox.toPhone, filter.to)) : undefined)
      .orderBy(desc(notificationOutbox.createdAt), desc(notificationOutbox.id))
      .limit(filter.limit);
    return rows.map((r) => ({
      id: r.id,
      to: r.toPhone,
      channel: r.channel,
      body: r.body,
      kind: r.kind,
      status: r.status,
      createdAt: r.createdAt.toISOString(),
    }));
  }

  return { enqueue, drain, start, stop, kick, list, senders };
}

export type Notifications = ReturnType<typeof createNotifications>;
