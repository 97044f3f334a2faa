import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Core } from "../core";
import { jobAuth } from "../http/auth";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { createRouter, errorResponses, jsonContent } from "../http/router";

/** Runs a registered CLI command by name (src/modules.ts); throws CliError for an unknown one. */
export type RunCommand = (name: string, flags: Record<string, string>) => Promise<{ result: unknown; ok: boolean }>;

/**
 * Development only, embedded database only: runs a CLI command inside the server that owns the
 * PGlite data dir (see runningEmbeddedServer in src/cli.ts). 404 in production and on Postgres.
 */
export function devCliRoutes(deps: Pick<Core, "config" | "database"> & { run: RunCommand }) {
  const router = createRouter();
  const embeddedOnly: MiddlewareHandler<AppEnv> = async (_c, next) => {
    const { config, database } = deps;
    if (config.env === "production" || database.kind !== "pglite") throw new AppError("NOT_FOUND", "Not found.");
    await next();
  };
  router.openapi(
    createRoute({
      method: "post",
      path: "/dev/cli",
      tags: ["operations"],
      summary: "Run a CLI command in the server that holds the embedded database (development)",
      security: [{ jobSecret: [] }],
      middleware: [embeddedOnly, jobAuth] as const,
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({ command: z.string().max(64), flags: z.record(z.string(), z.string()) }),
            },
          },
        },
      },
      responses: {
        200: jsonContent(z.object({ ok: z.boolean(), result: z.unknown() }), "The command's JSON"),
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { command, flags } = c.req.valid("json");
      try {
        const { result, ok } = await deps.run(command, flags);
        return c.json(
          JSON.parse(JSON.stringify({ ok, result }, (_k, v) => (typeof v === "bigint" ? String(v) : v))),
          200,
        );
      } catch (error) {
        if (error instanceof AppError) throw error;
        throw new AppError("VALIDATION_FAILED", error instanceof Error ? error.message : String(error));
      }
    },
  );
  return router;
}
