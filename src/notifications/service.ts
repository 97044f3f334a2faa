import { and, desc, eq, sql } from "drizzle-orm";
import type { Config } from "../config";
import { claimDue } from "../db/claim";
import { type Database, type Executor, queryRows } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import { createEnezaClient, createEnezaSimulator, type MessageSender, SendError } from "../integrations/eneza";
import { createYeboLinkClient, createYeboLinkSimulator } from "../integrations/yebolink";
import { backoffMs } from "../lib/backoff";
import { newId } from "../lib/ids";
import { maskPhone, normalizePhone } from "../lib/phone";
import { createPoller } from "../lib/poller";
import { createSealer } from "../lib/sealer";
import { notificationOutbox } from "./schema";

export interface EnqueueInput {
  /** E.164 (other accepted spellings are normalised). */
  to: string;
  body: string;
  kind: string;
  /** Unique: a retried caller never queues the same message twice. */
  dedupeKey?: string;
  /**
   * Holds a code: stored sealed (AES-GCM) while it waits, opened only to hand it to the provider, and cleared
   * once sent, failed or expired. In `outbox` mode (development) the dev outbox is the recipient: the sealed
   * body is shown there until it expires, then cleared.
   */
  sensitive?: boolean;
  /** Not worth sending after this (an OTP past its life). */
  expiresAt?: Date;
}

/** A notice to staff by e-mail (an AML alert escalated to their role): no phone, a subject. */
export interface EmailInput {
  to: string;
  subject: string;
  body: string;
  kind: string;
  dedupeKey?: string;
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

/** One round: rows claimed, then what was recorded for them (sent, retrying, failed) or not (lapsed). */
export interface DrainResult {
  claimed: number;
  sent: number;
  retrying: number;
  failed: number;
  expired: number;
  /** Outcomes not recorded because this worker's lease had passed (another worker owns the row now). */
  lapsed: number;
}

interface NotificationDeps {
  database: Database;
  logger: Logger;
  config: Pick<
    Config,
    "env" | "notifications" | "simulators" | "outbox" | "eneza" | "yebolink" | "serializableMaxRetries" | "secrets"
  >;
  now: () => Date;
}

/** How long a claimed row stays invisible to other workers: longer than both providers' timeouts. */
const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 15 * 60_000;
/** Rows per round: each payment queues two messages, so under load rounds are full and run back to back. */
const BATCH = 200;

interface Claimed {
  id: string;
  to_phone: string | null;
  to_email: string | null;
  subject: string | null;
  body: string;
  kind: string;
  attempts: number;
}

type Outcome =
  | { row: Claimed; status: "sent"; channel: string; provider: string; messageId: string | null; sentAt: Date }
  | { row: Claimed; status: "retrying" | "failed"; errors: string[]; nextAttemptAt: Date };

/** The e-mail channel (staff notices): YeboLink's. */
export function buildEmailSenders(config: NotificationDeps["config"]): MessageSender[] {
  if (config.notifications === "outbox") return [];
  if (config.yebolink.apiKey) return [createYeboLinkClient(config.yebolink, fetch, config.yebolink.url, "email")];
  if (!config.simulators) return [];
  const simulator = createYeboLinkSimulator();
  return [
    createYeboLinkClient({ ...config.yebolink, apiKey: "simulator" }, simulator.fetch, "http://yebolink.sim", "email"),
  ];
}

/** A recipient as a log line may show it: a masked phone, or an address with its local part hidden. */
const maskRecipient = (row: Pick<Claimed, "to_phone" | "to_email">) =>
  row.to_phone ? maskPhone(row.to_phone) : `***@${row.to_email?.split("@")[1] ?? ""}`;

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
 * Outbox + delivery worker. `enqueue` writes in the caller's transaction; `drain` is one round: it claims
 * up to 200 due rows with FOR UPDATE SKIP LOCKED (so any number of instances drain in parallel without
 * sending twice), sends them all at once outside any transaction, then records every outcome of the round
 * in one statement. In `outbox` mode (development) nothing leaves the process: rows are marked delivered
 * on channel "outbox" and GET /dev/outbox shows them.
 */
export function createNotifications(
  deps: NotificationDeps,
  senders: MessageSender[] = buildSenders(deps.config),
  emailSenders: MessageSender[] = buildEmailSenders(deps.config),
) {
  const { db } = deps.database;
  const log = deps.logger.child({ component: "notifications" });
  // Its own key, derived: a database dump (or a support query) must not show a pending code.
  const sealer = createSealer(`${deps.config.secrets.jwt}:notification-outbox`);
  const SEALED = "sealed:";
  /** What a row's body says to whoever reads it: a sealed body opened (unreadable under a rotated key). */
  const readable = (body: string) => {
    if (!body.startsWith(SEALED)) return body;
    try {
      return sealer.open(body.slice(SEALED.length));
    } catch {
      return "[sealed under a retired key]";
    }
  };

  type Recipient = { toPhone: string } | { toEmail: string; subject: string };

  /** The one insert behind enqueue and enqueueEmail: a dedupe key already queued answers the row it queued. */
  async function queue(
    recipient: Recipient,
    message: { body: string; kind: string; dedupeKey?: string; sensitive?: boolean; expiresAt?: Date },
    tx?: Executor,
  ): Promise<{ id: string; queued: boolean }> {
    const now = deps.now();
    const id = newId("ntf");
    const inserted = await (tx ?? db)
      .insert(notificationOutbox)
      .values({
        id,
        ...recipient,
        body: message.sensitive ? `${SEALED}${sealer.seal(message.body)}` : message.body,
        kind: message.kind,
        dedupeKey: message.dedupeKey ?? null,
        sensitive: message.sensitive ?? false,
        nextAttemptAt: now,
        expiresAt: message.expiresAt ?? null,
        createdAt: now,
      })
      .onConflictDoNothing({ target: notificationOutbox.dedupeKey })
      .returning({ id: notificationOutbox.id });
    if (inserted[0]) return { id, queued: true };
    const [existing] = await (tx ?? db)
      .select({ id: notificationOutbox.id })
      .from(notificationOutbox)
      .where(eq(notificationOutbox.dedupeKey, message.dedupeKey!));
    return { id: existing?.id ?? id, queued: false };
  }

  async function enqueue(input: EnqueueInput, tx?: Executor): Promise<{ id: string; queued: boolean }> {
    const to = normalizePhone(input.to);
    if (!to) throw new AppError("VALIDATION_FAILED", "The recipient is not an Eswatini mobile number.");
    return queue({ toPhone: to }, input, tx);
  }

  /** Queues an e-mail to staff in the caller's transaction, like `enqueue`; delivered by the same worker. */
  async function enqueueEmail(input: EmailInput, tx?: Executor): Promise<{ id: string; queued: boolean }> {
    const to = input.to.trim().toLowerCase();
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(to))
      throw new AppError("VALIDATION_FAILED", "The recipient is not an e-mail address.");
    return queue({ toEmail: to, subject: input.subject }, input, tx);
  }

  /** Leases up to `limit` due rows to this worker; due rows past their life are expired by the same statement. */
  async function claim(limit: number, now: Date) {
    const { rows, expired } = await claimDue<Claimed>(db, {
      table: "notification_outbox",
      limit,
      now,
      leaseMs: LEASE_MS,
      columns: ["to_phone", "to_email", "subject", "body", "kind"],
      expire: sql`o.expires_at <= ${now.toISOString()}::timestamptz`,
    });
    await clearExpired(
      expired.map((row) => row.id),
      now,
    );
    return { rows, expired: expired.length };
  }

  let lastDevSweep = 0;
  const DEV_SWEEP_MS = 60_000;
  /**
   * Clears the codes of expired rows: those the claim just expired, and — in `outbox` mode, where "sent"
   * means "shown in the dev outbox" — delivered ones past their life.
   */
  async function clearExpired(ids: string[], now: Date) {
    // The dev outbox's sweep scans the table: once a minute is soon enough for a code that lived five.
    const devOutbox = deps.config.notifications === "outbox" && now.getTime() - lastDevSweep >= DEV_SWEEP_MS;
    if (!ids.length && !devOutbox) return;
    if (devOutbox) lastDevSweep = now.getTime();
    await withTransaction(
      deps,
      (tx) =>
        tx.execute(sql`update notification_outbox set body = '[expired]'
                        where sensitive and body like ${`${SEALED}%`}
                          and (id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))
                               ${devOutbox ? sql`or (status = 'sent' and expires_at <= ${now.toISOString()}::timestamptz)` : sql``})`),
      { isolation: "read committed", label: "outbox.expire" },
    );
  }

  /** One attempt at one row: each channel in turn until one takes it. Touches no database. */
  async function attempt(row: Claimed, now: Date): Promise<Outcome> {
    if (deps.config.notifications === "outbox")
      return { row, status: "sent", channel: "outbox", provider: "outbox", messageId: null, sentAt: now };
    const errors: string[] = [];
    const channels = row.to_email ? emailSenders : senders;
    for (const sender of channels) {
      try {
        const { messageId } = await sender.send({
          to: row.to_email ?? row.to_phone!,
          text: readable(row.body),
          ...(row.subject ? { subject: row.subject } : {}),
        });
        return {
          row,
          status: "sent",
          channel: sender.channel,
          provider: sender.provider,
          messageId,
          sentAt: deps.now(),
        };
      } catch (error) {
        const reason = error instanceof SendError ? error.message : "unexpected error";
        errors.push(`${sender.provider}: ${reason}`);
        log.warn(
          { notificationId: row.id, provider: sender.provider, channel: sender.channel, reason, attempt: row.attempts },
          "notification provider failed",
        );
      }
    }
    if (!channels.length) errors.push("no provider configured");
    const jittered = backoffMs(row.attempts, deps.config.outbox.backoffMs, MAX_BACKOFF_MS);
    return {
      row,
      status: row.attempts >= deps.config.outbox.maxAttempts ? "failed" : "retrying",
      errors,
      nextAttemptAt: new Date(now.getTime() + jittered),
    };
  }

  /**
   * Records a round's outcomes in one statement and returns the ids it recorded. READ COMMITTED: the lease
   * is the lock, and SERIALIZABLE would only add predicate locks that conflict with the payments queueing
   * into this table. A row counts only while this worker still holds its lease (`attempts` as claimed, still
   * pending): after the lease passed another worker may have claimed it, and its outcome stands.
   */
  async function record(outcomes: Outcome[]): Promise<Set<string>> {
    if (!outcomes.length) return new Set();
    const rows = outcomes.map((o) =>
      o.status === "sent"
        ? {
            id: o.row.id,
            attempts: o.row.attempts,
            status: "sent",
            channel: o.channel,
            provider: o.provider,
            message_id: o.messageId,
            sent_at: o.sentAt.toISOString(),
            last_error: null,
            next_attempt_at: null,
          }
        : {
            id: o.row.id,
            attempts: o.row.attempts,
            status: o.status === "failed" ? "failed" : "pending",
            last_error: o.errors.join("; ").slice(0, 500),
            next_attempt_at: o.nextAttemptAt.toISOString(),
          },
    );
    // A code is cleared once it has left (or never will); the dev outbox keeps it, sealed, until it expires.
    const body =
      deps.config.notifications === "outbox"
        ? sql`o.body`
        : sql`case when o.sensitive and r.status = 'sent' then '[delivered]'
                   when o.sensitive and r.status = 'failed' then '[undeliverable]' else o.body end`;
    // Disjoint leases leave nothing to deadlock on but a lapsed row; retried all the same.
    const recorded = await withTransaction(
      { ...deps, logger: log },
      (tx) =>
        queryRows<{ id: string }>(
          tx,
          sql`update notification_outbox o
                     set status = r.status, channel = r.channel, provider = r.provider,
                         provider_message_id = r.message_id, sent_at = r.sent_at, last_error = r.last_error,
                         next_attempt_at = coalesce(r.next_attempt_at, o.next_attempt_at),
                         body = ${body}
                    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
                         as r(id text, attempts int, status text, channel text, provider text, message_id text,
                              sent_at timestamptz, last_error text, next_attempt_at timestamptz)
                   where o.id = r.id and o.attempts = r.attempts and o.status = 'pending'
               returning o.id`,
        ),
      { isolation: "read committed", label: "outbox" },
    );
    return new Set(recorded.map((r) => r.id));
  }

  function logOutcome(outcome: Outcome) {
    const { row } = outcome;
    if (outcome.status === "sent" && outcome.provider === "outbox")
      log.info(
        { notificationId: row.id, to: maskRecipient(row), kind: row.kind, channel: "outbox" },
        "notification recorded in the dev outbox",
      );
    else if (outcome.status === "sent")
      log.info(
        {
          notificationId: row.id,
          to: maskRecipient(row),
          kind: row.kind,
          provider: outcome.provider,
          channel: outcome.channel,
          providerMessageId: outcome.messageId,
          attempt: row.attempts,
        },
        "notification sent",
      );
    else if (outcome.status === "failed")
      log.error(
        { notificationId: row.id, kind: row.kind, attempts: row.attempts, errors: outcome.errors },
        "notification undeliverable",
      );
  }

  /** One round: delivers what is due, `limit` at a time (200 by default). Safe to run on every instance at once. */
  async function drain(options: { limit?: number } = {}): Promise<DrainResult> {
    const now = deps.now();
    const { rows, expired } = await claim(options.limit ?? BATCH, now);
    // Outcomes are recorded as the sends finish, a group per statement (whatever finished while the previous
    // group was being written), not once for the whole round: a message the provider accepted but whose
    // "sent" is not yet committed goes out again after a crash, so that window stays one statement long
    // instead of lasting until the round's slowest provider call returns.
    const outcomes: Outcome[] = [];
    const recorded = new Set<string>();
    let waiting: Outcome[] = [];
    let writing = false;
    const writers: Promise<void>[] = [];
    const writeWaiting = async () => {
      writing = true;
      try {
        while (waiting.length) {
          const group = waiting;
          waiting = [];
          for (const id of await record(group)) recorded.add(id);
        }
      } finally {
        writing = false;
      }
    };
    await Promise.all(
      rows.map(async (row) => {
        const outcome = await attempt(row, now);
        outcomes.push(outcome);
        waiting.push(outcome);
        if (!writing) writers.push(writeWaiting());
      }),
    );
    await Promise.all(writers);
    const result: DrainResult = { claimed: rows.length, sent: 0, retrying: 0, failed: 0, expired, lapsed: 0 };
    for (const outcome of outcomes) {
      if (recorded.has(outcome.row.id)) {
        result[outcome.status]++;
        logOutcome(outcome);
        continue;
      }
      result.lapsed++;
      log.warn(
        {
          notificationId: outcome.row.id,
          kind: outcome.row.kind,
          attempt: outcome.row.attempts,
          outcome: outcome.status,
        },
        "notification outcome not recorded: the lease had passed to another worker",
      );
    }
    return result;
  }

  // ------------------------------------------------------------------ the worker
  const poller = createPoller({
    intervalMs: deps.config.outbox.intervalMs,
    // A full round means more is due: go again at once instead of waiting the interval.
    pass: async () => {
      const { claimed, expired } = await drain();
      return { more: claimed + expired >= BATCH };
    },
    onError: (error, { retryInMs }) =>
      log.error({ err: error, retryInMs }, "outbox drain failed; backing off until a pass succeeds"),
    onRecover: ({ failures, downMs }) => log.info({ failures, downMs }, "outbox drain recovered"),
  });
  const start = () => poller.start();
  const stop = () => poller.stop();
  /** Drain soon (an OTP was just queued), without waiting for the next interval. Only while started. */
  const kick = () => poller.kick();

  async function list(filter: { to?: string; limit: number }): Promise<OutboxMessage[]> {
    const rows = await db
      .select()
      .from(notificationOutbox)
      .where(
        filter.to
          ? filter.to.includes("@")
            ? eq(notificationOutbox.toEmail, filter.to.toLowerCase())
            : and(eq(notificationOutbox.toPhone, filter.to))
          : undefined,
      )
      .orderBy(desc(notificationOutbox.createdAt), desc(notificationOutbox.id))
      .limit(filter.limit);
    return rows.map((r) => ({
      id: r.id,
      to: (r.toPhone ?? r.toEmail)!,
      channel: r.channel,
      body: readable(r.body),
      kind: r.kind,
      status: r.status,
      createdAt: r.createdAt.toISOString(),
    }));
  }

  return { enqueue, enqueueEmail, drain, start, stop, kick, list, senders };
}

export type Notifications = ReturnType<typeof createNotifications>;
