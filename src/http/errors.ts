import { z } from "@hono/zod-openapi";

/** The one error model: every failure leaves the service as `{error:{code,message,requestId,details?}}`. */
export const errorCodes = z.enum([
  "VALIDATION_FAILED",
  "UNAUTHENTICATED",
  "INVALID_PIN",
  "FORBIDDEN",
  "ACCOUNT_FROZEN",
  "DEVICE_VERIFICATION_REQUIRED",
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "CONFLICT",
  "IDEMPOTENCY_IN_PROGRESS",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "IDEMPOTENCY_KEY_REUSED",
  "INSUFFICIENT_FUNDS",
  "LIMIT_EXCEEDED",
  "RATE_LIMITED",
  "INTERNAL",
  "UNAVAILABLE",
]);
export type ErrorCode = z.infer<typeof errorCodes>;

export const statusOf = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_PIN: 401,
  FORBIDDEN: 403,
  ACCOUNT_FROZEN: 403,
  DEVICE_VERIFICATION_REQUIRED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  IDEMPOTENCY_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  INSUFFICIENT_FUNDS: 422,
  LIMIT_EXCEEDED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<ErrorCode, number>;

export class AppError extends Error {
  override name = "AppError";
  readonly status: (typeof statusOf)[ErrorCode];
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = statusOf[code];
  }
}

export const errorBodySchema = z
  .object({
    error: z.object({
      code: errorCodes,
      message: z.string(),
      requestId: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi("Error");

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: unknown) {
  return { error: details === undefined ? { code, message, requestId } : { code, message, requestId, details } };
}

/**
 * An error a domain defines and knows how to state in the API's terms (the ledger's LedgerError): the one
 * translation (src/http/to-app-error.ts) asks it, so the platform needs to know no domain's errors.
 */
export interface StatesItself {
  toAppError(): AppError;
}

export const statesItself = (error: unknown): error is StatesItself =>
  error instanceof Error && typeof (error as Partial<StatesItself>).toAppError === "function";
