import { resolve } from "node:path";
import { z } from "zod";
import { bool, int } from "./shared";

/** The process, the HTTP server and the database. */
export const coreEnv = z.object({
  PORT: int(1, 65535).default(8080),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  KESHLESS_DATA_DIR: z.string().min(1).default(".data"),
  KESHLESS_ENV: z.enum(["development", "test", "production"]).default("development"),
  KESHLESS_ROLE: z.enum(["all", "api", "ussd"]).default("all"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  KESHLESS_DASHBOARD_ORIGIN: z.string().default("http://localhost:5173"),
  KESHLESS_GCP_PROJECT: z.string().optional(),
  KESHLESS_DB_POOL_MAX: int(1, 200).default(10),
  // With the database unreachable, a request answers 503 within about connect + acquire, never waits longer.
  KESHLESS_DB_CONNECT_TIMEOUT_MS: int(100, 60_000).default(3000),
  KESHLESS_DB_ACQUIRE_TIMEOUT_MS: int(100, 120_000).default(5000),
  KESHLESS_MAX_BODY_BYTES: int(1024, 50 * 1024 * 1024).default(1024 * 1024),
  KESHLESS_HOT_ACCOUNT_SHARDS: int(1, 256).default(32),
  KESHLESS_SERIALIZABLE_MAX_RETRIES: int(0, 100).default(20),
  KESHLESS_SIMULATORS: bool.default(true),
});
export type CoreEnv = z.infer<typeof coreEnv>;

/** What a slice needs to know of the deployment when its defaults depend on it. */
export type Deployment = Pick<CoreEnv, "KESHLESS_ENV">;

export function coreSettings(e: CoreEnv) {
  return {
    env: e.KESHLESS_ENV,
    port: e.PORT,
    role: e.KESHLESS_ROLE,
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(e.KESHLESS_DATA_DIR),
    logLevel: e.LOG_LEVEL,
    dashboardOrigin: e.KESHLESS_DASHBOARD_ORIGIN,
    gcpProject: e.KESHLESS_GCP_PROJECT,
    dbPoolMax: e.KESHLESS_DB_POOL_MAX,
    /** Opening a Postgres connection / waiting for a pool connection, in ms (then 503 UNAVAILABLE). */
    dbConnectTimeoutMs: e.KESHLESS_DB_CONNECT_TIMEOUT_MS,
    dbAcquireTimeoutMs: e.KESHLESS_DB_ACQUIRE_TIMEOUT_MS,
    maxBodyBytes: e.KESHLESS_MAX_BODY_BYTES,
    hotAccountShards: e.KESHLESS_HOT_ACCOUNT_SHARDS,
    serializableMaxRetries: e.KESHLESS_SERIALIZABLE_MAX_RETRIES,
    simulators: e.KESHLESS_SIMULATORS,
  };
}
export type CoreSlice = ReturnType<typeof coreSettings>;
