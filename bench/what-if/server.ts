/**
 * WHAT-IF server (a prototype, not production code): `src/index.ts` with proposed changes switched on by
 * BENCH_WHAT_IF (comma-separated), so `bun run bench payments --entry=bench/what-if/server.ts
 * --what-if=prepare,worker,onecall [--sql=bench/what-if/payments-one-call.sql]` measures each on the same
 * bench as the measured code. Nothing in src/ is changed; each switch stands for a change described in
 * bench/RESULTS.md.
 *
 * - prepare: drizzle's statements are sent as named prepared statements (postgres.js `prepare: true`). drizzle
 *   sends every query unnamed (`prepare: false`), so Postgres parses and plans each one on every call.
 * - worker: the notification worker claims up to 200 due rows in one statement and marks a batch sent in one
 *   statement, on its own READ COMMITTED pool of 2 (the lease is its lock), instead of a 5-statement claim
 *   transaction per 50 rows and one SERIALIZABLE UPDATE per message on the request pool.
 * - onecall: POST /v1/payments verifies the JWT and hashes the PIN candidates in Bun, then does everything
 *   else in one statement, `payments_pay(jsonb)` (bench/what-if/payments-one-call.sql, needs --sql): one round
 *   trip instead of 11, no drizzle on the hot path, no idempotency lookup before the write.
 * - nonotify: NOT a proposal — with onecall, the payment queues no messages: what the outbox costs.
 * - rc: NOT a proposal — a measurement of what SERIALIZABLE costs: the pool's connections default to READ
 *   COMMITTED instead, so the same statements run without SSI's predicate locks and conflict checks.
 */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import postgres from "postgres";
import { z } from "zod";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type Database, openDatabase } from "../../src/db/client";
import { migrate } from "../../src/db/migrate";
import { mapDatabaseError, sqlState } from "../../src/db/pg-errors";
import { retrySerializable } from "../../src/db/serializable";
import { buildDeps, type Deps } from "../../src/deps";
import type { AppEnv } from "../../src/http/context";
import { AppError, errorBody } from "../../src/http/errors";
import { canonical } from "../../src/http/idempotency";
import { requestContext } from "../../src/http/middleware";
import { computeFee } from "../../src/ledger/fees";
import { hmacSha256Hex, sha256Hex } from "../../src/lib/crypto";
import { newId } from "../../src/lib/ids";
import { amountField, pinField } from "../../src/payments/routes";

const whatIf = new Set(
  (process.env.BENCH_WHAT_IF ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const name of whatIf)
  if (!["prepare", "worker", "onecall", "rc", "nonotify"].includes(name))
    throw new Error(`BENCH_WHAT_IF: unknown switch ${name}`);

/** Every statement of this client (and of its transactions) as a named prepared statement. */
function preparing(sql: postgres.Sql): postgres.Sql {
  const s = sql as any;
  const unsafe = s.unsafe;
  s.unsafe = (query: string, args?: unknown, options?: Record<string, unknown>) =>
    Array.isArray(args) && args.length
      ? unsafe.call(sql, query, args, { ...(options ?? {}), prepare: true })
      : unsafe.call(sql, query, args, options);
  const begin = s.begin;
  if (begin)
    s.begin = (...rest: unknown[]) => {
      const fn = rest.pop() as (tx: postgres.Sql) => unknown;
      return begin.call(sql, ...rest, (tx: postgres.Sql) => fn(preparing(tx)));
    };
  return sql;
}

// ── the outbox worker, batched ──────────────────────────────────────────────────────────────────

function startBatchedWorker(deps: Deps, url: string) {
  const sql = postgres(url, {
    max: 2,
    onnotice: () => {},
    connection: { default_transaction_isolation: "read committed", application_name: "keshless-outbox" },
  });
  const { config } = deps;
  let stopped = false;
  let lastExpiry = 0;
  const loop = (async () => {
    while (!stopped) {
      let claimed = 0;
      try {
        if (Date.now() - lastExpiry > 10_000) {
          lastExpiry = Date.now();
          await sql`update notification_outbox set status = 'expired' where status = 'pending' and expires_at <= now()`;
        }
        const rows = await sql<{ id: string; to_phone: string; body: string }[]>`
          update notification_outbox o set attempts = o.attempts + 1, next_attempt_at = now() + interval '60 seconds'
            from (select id from notification_outbox where status = 'pending' and next_attempt_at <= now()
                   order by next_attempt_at limit 200 for update skip locked) due
           where o.id = due.id
       returning o.id, o.to_phone, o.body`;
        claimed = rows.length;
        if (config.notifications === "outbox") {
          if (rows.length)
            await sql`update notification_outbox set status = 'sent', channel = 'outbox', provider = 'outbox',
                        sent_at = now(), last_error = null where id = any(${rows.map((r) => r.id)})`;
        } else {
          const sent: { id: string; channel: string; provider: string; messageId: string | null }[] = [];
          await Promise.all(
            rows.map(async (row) => {
              for (const sender of deps.notifications.senders) {
                try {
                  const { messageId } = await sender.send({ to: row.to_phone, text: row.body });
                  sent.push({ id: row.id, channel: sender.channel, provider: sender.provider, messageId });
                  return;
                } catch {
                  // next channel; a row no channel took stays leased and is retried when the lease passes
                }
              }
            }),
          );
          if (sent.length)
            await sql`update notification_outbox o set status = 'sent', channel = s.channel, provider = s.provider,
                        provider_message_id = s.message_id, sent_at = now(), last_error = null
                        from (select * from unnest(${sent.map((s) => s.id)}::text[], ${sent.map((s) => s.channel)}::text[],
                              ${sent.map((s) => s.provider)}::text[], ${sent.map((s) => s.messageId)}::text[])
                              as t(id, channel, provider, message_id)) s
                       where o.id = s.id`;
        }
      } catch (error) {
        deps.logger.error({ err: error }, "what-if outbox worker failed");
      }
      if (claimed < 200) await Bun.sleep(config.outbox.intervalMs);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    await sql.end({ timeout: 5 });
  };
}

// ── POST /v1/payments in one statement ─────────────────────────────────────────────────────────

const payBody = z.object({
  vendorCode: z.string().min(2).max(16),
  amount: amountField,
  currency: z.literal("SZL"),
  pin: pinField,
  reference: z.string().max(140).optional(),
});

function oneCallPayments(deps: Deps) {
  const { config } = deps;
  const sql = deps.database.sql!;
  const peppers = [config.secrets.pinPepper, ...config.secrets.pinPepperPrevious].map((pepper) => ({
    id: sha256Hex(`pin-pepper:${pepper}`).slice(0, 8),
    pepper,
  }));
  const app = new Hono<AppEnv>();
  app.use("*", requestContext(deps));
  app.use("*", secureHeaders());
  app.onError((error, c) => {
    const appError = error instanceof AppError ? error : mapDatabaseError(error);
    const requestId = (c.get("requestId") as string | undefined) ?? "unknown";
    if (!appError) {
      deps.logger.error({ requestId, err: error }, "unhandled error");
      return c.json(errorBody("INTERNAL", "Something went wrong on our side.", requestId), 500);
    }
    return c.json(errorBody(appError.code, appError.message, requestId, appError.details), appError.status);
  });
  let feeAccount: Promise<string> | undefined;
  app.post("/v1/payments", async (c) => {
    const match = /^Bearer[ \t]+([A-Za-z0-9_.~+/=-]+)[ \t]*$/i.exec(c.req.header("authorization") ?? "");
    if (!match) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
    const key = c.req.header("idempotency-key");
    if (!key || key.length > 255)
      throw new AppError("VALIDATION_FAILED", "The Idempotency-Key header is required (1–255 characters).");
    const claims = await deps.identity.tokens.verifyAccess("user", match[1]!);
    const parsed = payBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) throw new AppError("VALIDATION_FAILED", "The request is not valid.");
    const input = parsed.data;
    if (input.amount > config.maxAmount)
      throw new AppError("VALIDATION_FAILED", `amount must be a whole number of cents from 1 to ${config.maxAmount}.`);
    const amount = BigInt(input.amount);
    const { fee, bearer } = computeFee(config.fees, "payment", amount);
    const now = deps.now();
    const local = new Date(now.getTime() + 2 * 3_600_000).toISOString();
    const scope = `user:${claims.sub}`;
    feeAccount ??= deps.ledger.systemAccount("fee_revenue", "SZL").then((a) => a.id);
    const payload = {
      scope,
      key,
      requestHash: sha256Hex(`POST /v1/payments\n${canonical(input)}`),
      sessionId: claims.sid,
      userId: claims.sub,
      now: now.toISOString(),
      pin: Object.fromEntries(peppers.map((p) => [p.id, hmacSha256Hex(p.pepper, `pin:${claims.sub}:${input.pin}`)])),
      pinMaxAttempts: config.auth.pinMaxAttempts,
      pinLockSeconds: config.auth.pinLock,
      vendorCode: input.vendorCode.trim().toUpperCase(),
      amount: input.amount,
      fee: Number(fee),
      feeBearer: bearer,
      debit: Number(bearer === "sender" ? amount + fee : amount),
      credit: Number(bearer === "receiver" ? amount - fee : amount),
      tiers: config.kycLimits,
      feeAccount: await feeAccount,
      day: `d:${local.slice(0, 10)}`,
      month: `m:${local.slice(0, 7)}`,
      txnId: newId("txn"),
      notificationIds: [newId("ntf"), newId("ntf")],
      reference: input.reference ?? null,
      notify: !whatIf.has("nonotify"),
    };
    try {
      const [row] = await retrySerializable(() => sql`select payments_pay(${JSON.stringify(payload)}::jsonb) as r`, {
        maxRetries: config.serializableMaxRetries,
        logger: deps.logger,
        label: "payments_pay",
      });
      const r = row!.r as { status: number; body?: object; code?: string; message?: string; details?: unknown };
      if (r.status === 201) return c.json(r.body!, 201);
      throw new AppError(r.code as never, r.message ?? "", r.details);
    } catch (error) {
      if (sqlState(error) !== "KL009") throw error;
      // The key was used before: answer as the first time (or refuse another body under it).
      const [stored] = await sql<{ request_hash: string; status: number; body: object }[]>`
        select request_hash, status, body from idempotency_keys where scope = ${scope} and key = ${key}`;
      if (!stored) throw new AppError("UNAVAILABLE", "The service is busy; try again.");
      if (stored.request_hash !== payload.requestHash)
        throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request.");
      c.header("Idempotent-Replayed", "true");
      return c.json(stored.body, stored.status as 201);
    }
  });
  return app;
}

// ── boot (as src/index.ts) ──────────────────────────────────────────────────────────────────────

const config = loadConfig();
let database: Database | undefined;
if (whatIf.has("rc")) {
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const schema = await import("../../src/db/schema");
  const sql = postgres(config.databaseUrl!, {
    max: config.dbPoolMax,
    onnotice: () => {},
    connection: { default_transaction_isolation: "read committed", application_name: "keshless" },
    types: { bigint: postgres.BigInt },
  });
  const db = drizzle({ client: sql, schema, casing: "snake_case" }) as unknown as Database["db"];
  database = { kind: "postgres", db, sql, url: config.databaseUrl, close: () => sql.end({ timeout: 5 }) };
}
if (whatIf.has("prepare")) {
  database ??= await openDatabase({ databaseUrl: config.databaseUrl, poolMax: config.dbPoolMax });
  preparing(database.sql!);
}
const deps = await buildDeps(config, database ? { database } : {});
await migrate(deps.database);
const app = createApp(deps);
const payments = whatIf.has("onecall") ? oneCallPayments(deps) : undefined;
const server = Bun.serve({
  port: config.port,
  maxRequestBodySize: config.maxBodyBytes * 4,
  idleTimeout: 0,
  fetch: (request) =>
    payments && request.method === "POST" && new URL(request.url).pathname === "/v1/payments"
      ? payments.fetch(request)
      : app.fetch(request),
});
const stopWorker = whatIf.has("worker") ? startBatchedWorker(deps, config.databaseUrl!) : undefined;
if (!stopWorker) deps.notifications.start();
deps.webhooks.start();
deps.jobs.start();
deps.logger.warn({ port: server.port, whatIf: [...whatIf] }, "what-if server listening");

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await server.stop(false);
  await stopWorker?.();
  await deps.notifications.stop();
  await deps.jobs.stop();
  await deps.webhooks.stop();
  await deps.database.close();
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
