import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "./context";
import { AppError, errorBodySchema } from "./errors";

/**
 * Every router is built here, so every validation failure leaves through the same hook:
 * 400 VALIDATION_FAILED with the zod issues as details.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const details = result.error.issues.map((issue) => ({
          path: issue.path.join("."),
          message: issue.message,
        }));
        throw new AppError("VALIDATION_FAILED", "The request is not valid.", details);
      }
    },
  });
}

/** Standard error responses for route definitions, so the OpenAPI document lists them truthfully. */
export function errorResponses(...statuses: number[]) {
  const content = { "application/json": { schema: errorBodySchema } };
  return Object.fromEntries(statuses.map((s) => [s, { description: `Error (${s})`, content }])) as Record<
    number,
    { description: string; content: typeof content }
  >;
}

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable() });

export const paginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});
