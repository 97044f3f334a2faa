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

export const isSerializationFailure = (error: unknown) => {
  const state = sqlState(error);
  return state === "40001" || state === "40P01";
};

/**
 * The one place Postgres errors become API errors. Our own PL/pgSQL raises use class KL
 * (KL001 insufficient funds, KL002 not found, KL003 conflict, KL004 invalid).
 */
export function mapDatabaseError(error: unknown): AppError | undefined {
  const state = sqlState(error);
  if (!state) return undefined;
  const message = sqlMessage(error);
  switch (state) {
    case "23505":
      return new AppError("CONFLICT", "That already exists.");
    case "23503":
      return new AppError("CONFLICT", "That refers to something that does not exist or is still in use.");
    case "22P02":
    case "22003":
    case "22001":
    case "23502":
      return new AppError("VALIDATION_FAILED", "A value is not acceptable.");
    case "KL001":
    case "23514":
      return new AppError("INSUFFICIENT_FUNDS", "The account does not have enough available funds.");
    case "KL002":
      return new AppError("NOT_FOUND", message);
    case "KL003":
      return new AppError("CONFLICT", message);
    case "KL004":
      return new AppError("VALIDATION_FAILED", message);
    case "40001":
    case "40P01":
    case "55P03":
    case "57014":
    case "53300":
      return new AppError("UNAVAILABLE", "The service is busy; try again.", undefined, { "Retry-After": "1" });
    default:
      if (state.startsWith("08"))
        return new AppError("UNAVAILABLE", "The database is unreachable; try again.", undefined, {
          "Retry-After": "5",
        });
      return undefined;
  }
}
