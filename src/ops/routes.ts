import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { appliedMigrationCount, expectedMigrationCount } from "../db/migrate";
import { createRouter, errorResponses, jsonContent } from "../http/router";

const health = z.object({ status: z.literal("ok") }).openapi("Health");
const readiness = z
  .object({
    status: z.enum(["ready", "not_ready"]),
    database: z.enum(["ok", "unreachable"]),
    migrations: z.object({ applied: z.number().int(), expected: z.number().int() }),
  })
  .openapi("Readiness");

const EXPECTED_MIGRATIONS = expectedMigrationCount();

export function opsRoutes() {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/health",
      tags: ["operations"],
      summary: "The process is up",
      responses: { 200: jsonContent(health, "Up") },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/ready",
      tags: ["operations"],
      summary: "The database is reachable and every migration is applied",
      responses: {
        200: jsonContent(readiness, "Ready"),
        503: jsonContent(readiness, "Not ready"),
        ...errorResponses(500),
      },
    }),
    async (c) => {
      const { database } = c.get("deps");
      let applied = 0;
      let reachable = false;
      try {
        await database.db.execute(sql`select 1`);
        reachable = true;
        applied = await appliedMigrationCount(database);
      } catch {
        // reported below as not ready
      }
      const ready = reachable && applied >= EXPECTED_MIGRATIONS;
      const body = {
        status: ready ? ("ready" as const) : ("not_ready" as const),
        database: reachable ? ("ok" as const) : ("unreachable" as const),
        migrations: { applied, expected: EXPECTED_MIGRATIONS },
      };
      return ready ? c.json(body, 200) : c.json(body, 503);
    },
  );

  return router;
}
