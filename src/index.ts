import { createApp } from "./app";
import { announceEmbeddedServer, withdrawEmbeddedServer } from "./cli";
import { ConfigError, loadConfig } from "./config";
import { migrate } from "./db/migrate";
import { isConnectionFailure } from "./db/pg-errors";
import { buildSystem } from "./modules";

/** Boot: config → core and modules (src/modules.ts) → migrations → HTTP → workers. SIGTERM (Cloud Run) drains in-flight requests, then closes the pool. */
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
  const system = await buildSystem(config);
  const { logger } = system;
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
  const { applied } = await migrate(system.database);
  const app = createApp(system);
  const server = Bun.serve({
    port: config.port,
    fetch: app.fetch,
    // KYC documents (≤ 10 MB) reach the embedded default's local store through the app; routes bound the rest.
    maxRequestBodySize: Math.max(config.maxBodyBytes * 4, 11 * 1024 * 1024),
    // Bun's default (10 s) resets any response slower than that, e.g. a backup or report job; Cloud Run's
    // request timeout (300 s) is the bound that matters.
    idleTimeout: 0,
  });
  if (system.database.kind === "pglite") announceEmbeddedServer(config, server.port ?? config.port);
  // Each module's background work: notification and webhook delivery, the job loops (src/modules.ts).
  const workers = system.modules.flatMap((module) => module.workers);
  for (const worker of workers) worker.start();
  const sweeper = setInterval(
    () => void system.rateLimiter.sweep(system.now()).catch((err) => logger.warn({ err }, "rate-limit sweep failed")),
    5 * 60_000,
  );
  logger.info(
    { port: server.port, role: config.role, env: config.env, database: system.database.kind, migrations: applied },
    "keshless listening",
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining in-flight requests");
    await server.stop(false);
    if (system.database.kind === "pglite") withdrawEmbeddedServer(config);
    clearInterval(sweeper);
    // Stopping a worker ends its loop after the round in flight; airtime waits for a top-up already sent. What
    // that work still queues (notifications, webhook events) is written to its table, for the next instance.
    for (const worker of workers) await worker.stop();
    await system.database.close();
    logger.info("shutdown complete");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

await main();
