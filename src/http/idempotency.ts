import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import type { TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { type Database, type Executor, queryRows } from "../db/client";
import { isDatabaseUnreachable, sqlState } from "../db/pg-errors";
import { serializable } from "../db/serializable";
import { sha256Hex } from "../lib/crypto";
import type { AppContext } from "./context";
import { AppError } from "./errors";
import type { Logger } from "./logger";

/** Stored responses of money-moving POSTs, per caller and Idempotency-Key; kept ≥ 24 h. */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    scope: text().notNull(),
    key: text().notNull(),
    requestHash: text().notNull(),
    status: integer().notNull(),
    body: jsonb().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("idempotency_keys_created_idx").on(t.createdAt)],
);

export type SuccessStatus = 200 | 201 | 202;

/** An answer and its status; a service that always answers one status says which, so its route's declared responses check it. */
export interface Outcome<T, S extends SuccessStatus = SuccessStatus> {
  status: S;
  body: T;
}

/** What `c.json(body, status)` returns: typed with the body and status, which a route's declared responses are checked against. */
export type JsonResponse<T, S extends SuccessStatus> = Response & TypedResponse<JSONParsed<T>, S, "json">;

/** JSON with sorted keys: the same request hashes the same whatever its key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Who asks under which key, and a hash of what they asked: the identity of an idempotent request. */
export interface IdempotentRequest {
  scope: string;
  key: string;
  requestHash: string;
}

/**
 * After an attempt failed: if the key already holds a stored answer, that answer (a replay) — or 422
 * IDEMPOTENCY_KEY_REUSED when it was stored for another body; otherwise the failure itself. Keys are
 * written last (idempotency_store), never looked up first, so this read happens only on failures: a
 * replay (KL009, the movement rolled back) or a refusal that a stored answer must override.
 */
export async function storedAnswer<T, S extends SuccessStatus = SuccessStatus>(
  database: Database,
  request: IdempotentRequest,
  failure: unknown,
): Promise<Outcome<T, S> & { replayed: true }> {
  const inFlight =
    sqlState(failure) === "KL011" || (failure instanceof AppError && failure.code === "IDEMPOTENCY_IN_PROGRESS");
  // Unreachable: no answer can be looked up either (and looking would wait out the timeouts a second time).
  if (inFlight || isDatabaseUnreachable(failure)) throw failure;
  const [stored] = await queryRows<{ request_hash: string; status: number; body: unknown }>(
    database.db,
    sql`select request_hash, status, body from idempotency_keys where scope = ${request.scope} and key = ${request.key}`,
  );
  if (!stored) throw failure;
  if (stored.request_hash !== request.requestHash)
    throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request.");
  const body = typeof stored.body === "string" ? JSON.parse(stored.body) : stored.body;
  // Stored under this scope, key and request hash, so by the same request's execute: its status and body.
  return { replayed: true, status: stored.status as S, body: body as T };
}

/**
 * The transport-free core of `idempotent`: runs `execute` at most once per scope and key, in one
 * SERIALIZABLE transaction that also stores its outcome — written last, by idempotency_store, which
 * rolls the transaction back (KL009) when the key already has an answer; that answer is then replayed.
 * USSD calls it directly (scope = gateway, key = session + step), REST through `idempotent`. Throws
 * IDEMPOTENCY_KEY_REUSED for the same key with another requestHash, IDEMPOTENCY_IN_PROGRESS while the
 * first holder still runs (idempotency_lock's advisory lock).
 */
export async function runIdempotent<T, S extends SuccessStatus = SuccessStatus>(
  deps: { database: Database; config: { serializableMaxRetries: number }; logger: Logger },
  scope: string,
  key: string,
  requestHash: string,
  execute: (tx: Executor) => Promise<Outcome<T, S>>,
): Promise<Outcome<T, S> & { replayed: boolean }> {
  const { database, config, logger } = deps;
  try {
    return await serializable(
      database.db,
      async (tx) => {
        await tx.execute(sql`select idempotency_lock(${scope}, ${key})`);
        const outcome = await execute(tx);
        await tx.execute(
          sql`select idempotency_store(${scope}, ${key}, ${requestHash}, ${outcome.status}, ${JSON.stringify(outcome.body)}::jsonb)`,
        );
        return { replayed: false, ...outcome };
      },
      { maxRetries: config.serializableMaxRetries, logger, label: "idempotent" },
    );
  } catch (failure) {
    return storedAnswer<T, S>(database, { scope, key, requestHash }, failure);
  }
}

/** The request's identity under its Idempotency-Key header (400 without one); needs an authenticated principal. */
export function idempotentRequest(c: AppContext, input: unknown): IdempotentRequest {
  const key = c.req.header("idempotency-key");
  if (!key || key.length > 255)
    throw new AppError("VALIDATION_FAILED", "The Idempotency-Key header is required (1–255 characters).", [
      { path: "Idempotency-Key", message: "required, 1–255 characters" },
    ]);
  const principal = c.get("principal");
  if (!principal) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
  return {
    scope: `${principal.kind}:${principal.id}`,
    key,
    requestHash: sha256Hex(`${c.req.method} ${c.req.path}\n${canonical(input)}`),
  };
}

/**
 * Runs a money-moving request at most once per caller and Idempotency-Key, inside one SERIALIZABLE
 * transaction that also stores the response — so nothing is acknowledged that was not committed, and
 * a crash before commit leaves no record and no money moved.
 * - same key, same body: the stored status and body, with `Idempotent-Replayed: true`;
 * - same key, another body: 422 IDEMPOTENCY_KEY_REUSED;
 * - same key while the first still runs: 409 IDEMPOTENCY_IN_PROGRESS (a transaction-scoped advisory lock).
 * A request that fails changes nothing and stores nothing, so its retry is judged afresh.
 */
export async function idempotent<T extends object, S extends SuccessStatus>(
  c: AppContext,
  input: unknown,
  execute: (tx: Executor) => Promise<Outcome<T, S>>,
): Promise<JsonResponse<T, S>> {
  const { scope, key, requestHash } = idempotentRequest(c, input);
  const result = await runIdempotent(c.get("core"), scope, key, requestHash, execute);
  if (result.replayed) c.header("Idempotent-Replayed", "true");
  return c.json(result.body, result.status);
}
