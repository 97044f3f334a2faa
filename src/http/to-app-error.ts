import { HTTPException } from "hono/http-exception";
import { mapDatabaseError } from "../db/pg-errors";
import { AppError, statesItself } from "./errors";

/**
 * The one translation of anything thrown into the API's error model: our AppErrors as they are,
 * Hono's own HTTP errors, errors that state themselves (the ledger's), and Postgres errors. undefined: an unexpected failure (500).
 */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (statesItself(error)) return error.toAppError();
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
