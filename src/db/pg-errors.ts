import { AppError } from "../http/errors";

/** SQLSTATE of a database error, looking through drizzle's wrapper (`.cause`). */
export function sqlState(error: unknown): string | undefined {
  let e: any = error;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause) {
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/** The database message of a wrapped error (drizzle puts the query in the outer message). */
export function sqlMessage(error: unknown): string {
  let e: any = error;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause) if (sqlState(e) && e.code) return String(e.message);
  return error instanceof Error ? error.message : String(error);
}

/** The constraint a violation names (postgres.js: constraint_name, PGlite: constraint). */
export function sqlConstraint(error: unknown): string | undefined {
  let e: any = error;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause) {
    const name = e.constraint_name ?? e.constraint;
    if (typeof name === "string") return name;
  }
  return undefined;
}

// The driver's own codes when the database cannot be reached at all (no SQLSTATE was ever received).
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EPIPE",
  "ECONNABORTED",
  "ENETUNREACH",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  // No pool connection became free within KESHLESS_DB_ACQUIRE_TIMEOUT_MS (the query was never sent).
  "CONNECTION_ACQUIRE_TIMEOUT",
]);

/** A connection to the database failed or closed (the statement may or may not have run). */
export function isConnectionFailure(error: unknown): boolean {
  let e: any = error;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause) if (CONNECTION_CODES.has(e.code)) return true;
  return false;
}

// Of those, the ones where the statement never reached a database session (no connection could be had).
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_ACQUIRE_TIMEOUT",
]);

/**
 * The database could not be reached at all: the statement was not run, and another query now would only wait
 * out the same timeouts. Callers that look something up after a failure (a stored idempotent answer, the
 * ordinary path after the fast lane) give up at once on these, so a request stays within one timeout.
 */
export function isDatabaseUnreachable(error: unknown): boolean {
  let e: any = error;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause) if (UNREACHABLE_CODES.has(e.code)) return true;
  return false;
}

/**
 * An error the database raised for one item of a batch it answered item by item (drizzle/0021): the SQLSTATE,
 * message and constraint the item would have raised alone, where the checks above look for them.
 */
export class ItemError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly constraint_name?: string,
  ) {
    super(message);
    this.name = "ItemError";
  }
}

/**
 * The transaction was aborted for what it ran beside, not for what it asked: a serialization failure, a deadlock,
 * or the server's table of SERIALIZABLE predicate locks full for a moment (53200, "out of shared memory", seen under
 * the mixed-day bench). Nothing was written; the same transaction again is the answer.
 */
export const isSerializationFailure = (error: unknown) => {
  const state = sqlState(error);
  return state === "40001" || state === "40P01" || state === "53200";
};

/**
 * The one place Postgres errors become API errors. Our own PL/pgSQL raises use class KL
 * (KL001 insufficient funds, KL002 not found, KL003 conflict, KL004 invalid, KL005 limit named by the message,
 * KL011 an Idempotency-Key held by a request still in flight, KL012 a deposit past the partner's funding limit).
 * KL009 (the key already has a stored answer) and KL010 (the payments fast lane's assumptions no longer hold) are
 * answered by their callers; mapped here only so that one escaping is still a clear answer, never a 500.
 */
export function mapDatabaseError(error: unknown): AppError | undefined {
  if (isConnectionFailure(error))
    return new AppError("UNAVAILABLE", "The database is unreachable; try again.", undefined, { "Retry-After": "5" });
  const state = sqlState(error);
  if (!state) return undefined;
  const message = sqlMessage(error);
  switch (state) {
    case "23505":
      return new AppError("CONFLICT", "That already exists.");
    case "23503":
      return new AppError("CONFLICT", "That refers to something that does not exist or is still in use.");
    case "22P02":
    case "22021":
    case "22003":
    case "22001":
    case "23502":
    // Text or a timestamp Postgres cannot store. The validation hook refuses these first, naming the
    // field (src/lib/input.ts); this is the net for values decoded inside a service, such as an opaque cursor.
    case "22P05":
    case "22007":
    case "22008":
    case "22009":
      return new AppError("VALIDATION_FAILED", "A value is not acceptable.");
    case "KL001":
      return new AppError("INSUFFICIENT_FUNDS", "The account does not have enough available funds.");
    case "23514":
      // Only the balance guards mean "not enough money"; any other CHECK is a value the schema refuses.
      if (/guard/.test(sqlConstraint(error) ?? "guard"))
        return new AppError("INSUFFICIENT_FUNDS", "The account does not have enough available funds.");
      return new AppError("VALIDATION_FAILED", "A value is not acceptable.");
    case "KL002":
      return new AppError("NOT_FOUND", message);
    case "KL003":
      return new AppError("CONFLICT", message);
    case "KL004":
      return new AppError("VALIDATION_FAILED", message);
    case "KL005":
      return new AppError("LIMIT_EXCEEDED", `This would exceed the ${message} limit.`, { limit: message });
    case "KL012":
      return new AppError(
        "LIMIT_EXCEEDED",
        "This deposit would take the partner past its funding limit (its prefunded float); Keshless raises the limit once the bank's transfer into the trust account is confirmed.",
        { limit: "funding" },
      );
    case "KL011":
      return new AppError("IDEMPOTENCY_IN_PROGRESS", "A request with this Idempotency-Key is still being processed.");
    case "KL009":
      return new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used.");
    case "KL010":
    case "40001":
    case "40P01":
    case "55P03":
    case "57014":
    // Out of shared memory (the predicate-lock table of SERIALIZABLE transactions full) or of connections: transient.
    case "53200":
    case "53300":
    case "57P01":
    case "57P02":
    case "57P03":
      return new AppError("UNAVAILABLE", "The service is busy; try again.", undefined, { "Retry-After": "1" });
    default:
      if (state.startsWith("08"))
        return new AppError("UNAVAILABLE", "The database is unreachable; try again.", undefined, {
          "Retry-After": "5",
        });
      return undefined;
  }
}
