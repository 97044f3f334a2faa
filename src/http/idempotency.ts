import { sql } from "drizzle-orm";
import { index, integer, jsonb, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";
import { type Database, type Executor, queryRows } from "../db/client";
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

export interface Outcome<T> {
  status: 200 | 201 | 202;
  body: T;
}

/** JSON with sorted keys: the same request hashes the same whatever its key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The transport-free core of `idempotent`: runs `execute` at most once per scope and key, in one
 * SERIALIZABLE transaction that also stores its outcome. USSD calls it directly (scope = gateway,
 * key = session + step), REST through `idempotent`. Throws IDEMPOTENCY_KEY_REUSED for the same key
 * with another requestHash, IDEMPOTENCY_IN_PROGRESS while the first holder still runs.
 */
export async function runIdempotent<T>(
  deps: { database: Database; config: { serializableMaxRetries: number }; logger: Logger },
  scope: string,
  key: string,
  requestHash: string,
  execute: (tx: Executor) => Promise<Outcome<T>>,
): Promise<Outcome<T> & { replayed: boolean }> {
  const { database, config, logger } = deps;
  return serializable(
    database.db,
    async (tx) => {
      const [row] = await queryRows<{ locked: boolean; existing: { hash: string; status: number; body: T } | null }>(
        tx,
        sql`select pg_try_advisory_xact_lock(hashtextextended(${`${scope} ${key}`}, 0)) as locked,
                   (select json_build_object('hash', request_hash, 'status', status, 'body', body)
                      from idempotency_keys where scope = ${scope} and key = ${key}) as existing`,
      );
      if (!row?.locked)
        throw new AppError("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still being processed.");
      const existing = typeof row.existing === "string" ? JSON.parse(row.existing) : row.existing;
      if (existing) {
        if (existing.hash !== requestHash)
          throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request.");
        return { replayed: true, status: existing.status as Outcome<T>["status"], body: existing.body as T };
      }
      const outcome = await execute(tx);
      await tx
        .insert(idempotencyKeys)
        .values({ scope, key, requestHash, status: outcome.status, body: outcome.body as object });
      return { replayed: false, ...outcome };
    },
    { maxRetries: config.serializableMaxRetries, logger, label: "idempotent" },
  );
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
export async function idempotent<T>(
  c: AppContext,
  input: unknown,
  execute: (tx: Executor) => Promise<Outcome<T>>,
): Promise<Response> {
  const key = c.req.header("idempotency-key");
  if (!key || key.length > 255)
    throw new AppError("VALIDATION_FAILED", "The Idempotency-Key header is required (1–255 characters).", [
      { path: "Idempotency-Key", message: "required, 1–255 characters" },
    ]);
  const principal = c.get("principal");
  if (!principal) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
  const scope = `${principal.kind}:${principal.id}`;
  const requestHash = sha256Hex(`${c.req.method} ${c.req.path}\n${canonical(input)}`);
  const result = await runIdempotent(c.get("deps"), scope, key, requestHash, execute);
  if (result.replayed) c.header("Idempotent-Replayed", "true");
  return c.json(result.body as object, result.status);
}
