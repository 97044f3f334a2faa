import { OpenAPIHono, z } from "@hono/zod-openapi";
import { unstorableText } from "../lib/input";
import type { AppEnv } from "./context";
import { AppError, errorBodySchema } from "./errors";

/**
 * Every router is built here, so every validation failure leaves through the same hook:
 * 400 VALIDATION_FAILED with the zod issues as details. The hook sees every validated input — JSON and
 * form bodies, query strings, path params, headers — so it is also where the one rule for text lives:
 * a string Postgres cannot store (src/lib/input.ts) is refused here, naming the field, before any handler
 * could take it to the database and fail there with a 500.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      const details = result.success
        ? unstorableText(result.data)
        : result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
      if (details.length) throw new AppError("VALIDATION_FAILED", "The request is not valid.", details);
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

/**
 * A bound that configuration sets, not code: a schema names the variable under this OpenAPI extension
 * (`.openapi({ [CONFIGURED_MAXIMUM]: "KESHLESS_MAX_AMOUNT" })`) and `publishConfiguredBounds` writes the
 * running server's value into its `maximum` when /openapi.json is served — so the document states the
 * limit this server enforces (in the service) rather than whatever the schema was built with.
 */
export const CONFIGURED_MAXIMUM = "x-configured-maximum";

/** The document with every `CONFIGURED_MAXIMUM` schema's `maximum` set from `values` (variable → value). */
export function publishConfiguredBounds<T>(document: T, values: Record<string, number>): T {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) visit(item);
    else if (node && typeof node === "object") {
      const schema = node as Record<string, unknown>;
      const name = schema[CONFIGURED_MAXIMUM];
      if (typeof name === "string" && values[name] !== undefined) schema.maximum = values[name];
      for (const child of Object.values(schema)) visit(child);
    }
  };
  visit(document);
  return document;
}

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/**
 * The operationId a route gets when its createRoute declares none: the method, then each path segment
 * in camelCase with the version segments (`v1`) left out and a parameter as `By<Name>` —
 * `GET /admin/v1/partners/{id}/keys` is `getAdminPartnersByIdKeys`. Stable while the path is, which is
 * what generated clients name their calls by.
 */
export function operationIdFor(method: string, path: string, keepVersions = false): string {
  const pascal = (word: string) =>
    word
      .split(/[-_.]/)
      .filter(Boolean)
      .map((part) => part[0]!.toUpperCase() + part.slice(1))
      .join("");
  const segments = path
    .split("/")
    .filter((segment) => segment && (keepVersions || !/^v\d+$/.test(segment)))
    .map((segment) => {
      const param = /^\{(.+)\}$/.exec(segment);
      return param ? `By${pascal(param[1]!)}` : pascal(segment);
    });
  return method.toLowerCase() + segments.join("");
}

/**
 * The document with an operationId on every operation (`operationIdFor` unless declared). Serving never
 * fails on a clash: a derived id already taken keeps the version segments, then gets a number (tests
 * assert the real app has no clash).
 */
export function publishOperationIds<T>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, { operationId?: string }>> }).paths ?? {};
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method, operation]) => HTTP_METHODS.includes(method) && operation && typeof operation === "object")
      .map(([method, operation]) => ({ path, method, operation })),
  );
  const taken = new Set(operations.flatMap(({ operation }) => operation.operationId ?? []));
  for (const { path, method, operation } of operations) {
    if (operation.operationId) continue;
    let id = operationIdFor(method, path);
    if (taken.has(id)) id = operationIdFor(method, path, true);
    for (let n = 2; taken.has(id); n++) id = `${operationIdFor(method, path, true)}${n}`;
    operation.operationId = id;
    taken.add(id);
  }
  return document;
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
