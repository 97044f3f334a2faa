import { HTTPException } from "hono/http-exception";
import { mapDatabaseError } from "../db/pg-errors";
import { LedgerError } from "../ledger/service";
import { AppError } from "./errors";

const LEDGER_MESSAGES: Partial<Record<LedgerError["code"], string>> = {
  INSUFFICIENT_FUNDS: "The wallet does not have enough available funds.",
};

/**
 * The one translation of anything thrown into the API's error model: our AppErrors as they are,
 * Hono's own HTTP errors, the ledger's errors, and Postgres errors. undefined: an unexpected failure (500).
 */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof LedgerError) {
    const message = LEDGER_MESSAGES[error.code] ?? error.message;
    switch (error.code) {
      case "INSUFFICIENT_FUNDS":
        return new AppError("INSUFFICIENT_FUNDS", message);
      case "NOT_FOUND":
        return new AppError("NOT_FOUND", message);
      case "INVALID":
        return new AppError("VALIDATION_FAILED", message, error.field ? [{ path: error.field, message }] : undefined);
      default:
        return new AppError("CONFLICT", message, error.field ? { field: error.field } : undefined);
    }
  }
  if (error instanceof HTTPException) {
    // Hono's validator throws 400 for a body that is not JSON.
    if (error.status === 400) return new AppError("VALIDATION_FAILED", "The body is not valid JSON.");
    if (error.status === 413) return new AppError("PAYLOAD_TOO_LARGE", "The body is too large.");
    // @hono/zod-openapi refuses a body whose type the route does not declare (routes outside requireJsonBody).
    if (error.status === 415)
      return new AppError("UNSUPPORTED_MEDIA_TYPE", "This route does not accept that Content-Type.");
    if (error.status === 401) return new AppError("UNAUTHENTICATED", "Authentication is required.");
    return undefined;
  }
  return mapDatabaseError(error);
}
