import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { Core } from "../core";
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

/**
 * How long /ready waits for the database to answer `select 1` before it says unreachable: a probe must get an
 * answer in time (Cloud Run's, a load balancer's, an operator's curl), and a database that does not answer at
 * all — stopped, failing over, black-holed — would otherwise hold it for the connect and acquire timeouts.
 */
export const READY_PROBE_TIMEOUT_MS = 1500;

/** Resolves true when `probe` succeeds within `ms`; false when it fails or is still waiting. */
async function answersWithin(query: PromiseLike<unknown>, ms: number): Promise<boolean> {
  // Once: a drizzle query runs again on every then().
  const probe = Promise.resolve(query);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([probe.then(() => true), late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    // The probe goes on after a timeout; its eventual failure is expected and is not an unhandled rejection.
    probe.catch(() => {});
  }
}

export function opsRoutes(deps: Pick<Core, "database">) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/health",
      security: [],
      tags: ["operations"],
      summary: "The process is up",
      // 405: any other method (the app-wide methodNotAllowed); a probe has no other client error.
      responses: { 200: jsonContent(health, "Up"), ...errorResponses(405) },
    }),
    (c) => c.json({ status: "ok" as const }, 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/ready",
      security: [],
      tags: ["operations"],
      summary: "The database is reachable and every migration is applied",
      responses: {
        200: jsonContent(readiness, "Ready"),
        503: jsonContent(readiness, "Not ready"),
        ...errorResponses(405, 500),
      },
    }),
    async (c) => {
      const { database } = deps;
      let applied = 0;
      const reachable = await answersWithin(database.db.execute(sql`select 1`), READY_PROBE_TIMEOUT_MS);
      if (reachable) {
        try {
          applied = await appliedMigrationCount(database);
        } catch {
          // reported below as not ready
        }
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
