import { createApp } from "./app";
import { announceEmbeddedServer, withdrawEmbeddedServer } from "./cli";
import { ConfigError, loadConfig } from "./config";
import { migrate } from "./db/migrate";
import { isConnectionFailure } from "./db/pg-errors";
import { buildDeps } from "./deps";

/** Boot: config → deps → migrations → HTTP. SIGTERM (Cloud Run) drains in-flight requests, then closes the pool. */
async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78);
    }
    throw error;
  }
  const deps = await buildDeps(config);
  const { logger } = deps;
  // A connection that closes can still reject a promise inside postgres.js that no caller awaits (every caller's
  // own query is settled by the patch; tests/ops/db-outage.test.ts found one more under load). Losing the process
  // over it would drop every request in flight, so that one kind is logged; anything else stays fatal.
  const unowned = (kind: string) => (reason: unknown) => {
    if (isConnectionFailure(reason)) {
      logger.warn({ err: reason, kind }, "a database connection error nobody awaited (ignored)");
      return;
    }
    logger.fatal({ err: reason, kind }, "process failure");
    process.exit(1);
  };
  process.on("unhandledRejection", unowned("unhandledRejection"));
  process.on("uncaughtException", unowned("uncaughtException"));
  if (config.generatedSecrets.length)
    logger.warn(
      { generated: config.generatedSecrets, file: `${config.dataDir}/dev-secrets.json` },
      "development secrets generated for this data dir (read them from the file, never from logs)",
    );
  const { applied } = await migrate(deps.database);
  const app = createApp(deps);
  const server = Bun.serve({
    port: config.port,
    fetch: app.fetch,
    maxRequestBodySize: config.maxBodyBytes * 4,
    // Bun's default (10 s) resets any response slower than that, e.g. a backup or report job; Cloud Run's
    // request timeout (300 s) is the bound that matters.
    idleTimeout: 0,
  });
  if (deps.database.kind === "pglite") announceEmbeddedServer(config, server.port ?? config.port);
  // Delivers queued notifications (OTP codes first) and sweeps spent rate-limit rows.
  deps.notifications.start();
  // Delivers partner webhooks (retried with backoff for 24 h).
  deps.webhooks.start();
  // Approval expiry and airtime reconciliation, whenever either has work due (Cloud Scheduler calls them too).
  if (config.role !== "ussd") deps.jobs.start();
  const sweeper = setInterval(
    () => void deps.rateLimiter.sweep(deps.now()).catch((err) => logger.warn({ err }, "rate-limit sweep failed")),
    5 * 60_000,
  );
  logger.info(
    { port: server.port, role: config.role, env: config.env, database: deps.database.kind, migrations: applied },
    "keshless listening",
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining in-flight requests");
    await server.stop(false);
    if (deps.database.kind === "pglite") withdrawEmbeddedServer(config);
    clearInterval(sweeper);
    await deps.notifications.stop();
    await deps.jobs.stop();
    // A top-up already sent is waited for, so its answer is recorded rather than left for the reconciler.
    await deps.airtime.idle();
    await deps.webhooks.stop();
    await deps.database.close();
    logger.info("shutdown complete");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

await main();
