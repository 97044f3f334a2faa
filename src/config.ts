import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";

/**
 * The environment, parsed once at boot and injected everywhere as `deps.config`.
 * Nothing else reads process.env: that keeps tests and the CLI able to build any configuration.
 */

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const feeRule = z.object({
  flat: z.number().int().min(0).default(0),
  bps: z.number().int().min(0).max(10_000).default(0),
  min: z.number().int().min(0).default(0),
  max: z.number().int().min(0).nullable().default(null),
  bearer: z.enum(["sender", "receiver"]).default("sender"),
});
export type FeeRule = z.infer<typeof feeRule>;

const feeSchedule = z.record(z.string(), feeRule);
export type FeeSchedule = z.infer<typeof feeSchedule>;

const jsonOf = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.infer<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "is not valid JSON" });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      ctx.addIssue({
        code: "custom",
        message: result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      });
      return z.NEVER;
    }
    return result.data;
  });

/** Defaults: payments cost the payer 1% (min E0.50, max E10); P2P and deposits are free. */
export const DEFAULT_FEES: FeeSchedule = {
  payment: { flat: 0, bps: 100, min: 50, max: 1000, bearer: "sender" },
  transfer: { flat: 0, bps: 0, min: 0, max: null, bearer: "sender" },
  deposit: { flat: 0, bps: 0, min: 0, max: null, bearer: "receiver" },
  withdrawal: { flat: 500, bps: 0, min: 0, max: null, bearer: "sender" },
  airtime: { flat: 0, bps: 0, min: 0, max: null, bearer: "sender" },
};

const envSchema = z.object({
  PORT: int(1, 65535).default(8080),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  KESHLESS_DATA_DIR: z.string().min(1).default(".data"),
  KESHLESS_ENV: z.enum(["development", "test", "production"]).default("development"),
  KESHLESS_ROLE: z.enum(["all", "api", "ussd"]).default("all"),
  KESHLESS_JOB_SECRET: z.string().min(16).optional(),
  KESHLESS_USSD_GATEWAY_SECRET: z.string().min(16).optional(),
  KESHLESS_JWT_SECRET: z.string().min(32).optional(),
  KESHLESS_PIN_PEPPER: z.string().min(32).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  KESHLESS_DASHBOARD_ORIGIN: z.string().default("http://localhost:5173"),
  KESHLESS_GCP_PROJECT: z.string().optional(),
  KESHLESS_DB_POOL_MAX: int(1, 200).default(10),
  KESHLESS_MAX_BODY_BYTES: int(1024, 50 * 1024 * 1024).default(1024 * 1024),
  KESHLESS_MAX_AMOUNT: int(1, Number.MAX_SAFE_INTEGER).default(10_000_000),
  KESHLESS_FEES: jsonOf(feeSchedule).optional(),
  KESHLESS_HOT_ACCOUNT_SHARDS: int(1, 256).default(16),
  KESHLESS_SERIALIZABLE_MAX_RETRIES: int(0, 100).default(20),
  KESHLESS_NOTIFICATIONS: z.enum(["outbox", "providers"]).default("outbox"),
  KESHLESS_SIMULATORS: bool.default(true),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env["KESHLESS_ENV"];
  port: number;
  role: Env["KESHLESS_ROLE"];
  databaseUrl: string | undefined;
  dataDir: string;
  logLevel: Env["LOG_LEVEL"];
  dashboardOrigin: string;
  gcpProject: string | undefined;
  dbPoolMax: number;
  maxBodyBytes: number;
  maxAmount: number;
  fees: FeeSchedule;
  hotAccountShards: number;
  serializableMaxRetries: number;
  notifications: Env["KESHLESS_NOTIFICATIONS"];
  simulators: boolean;
  secrets: { job: string; jwt: string; pinPepper: string; ussdGateway: string | undefined };
  /** Secrets generated for this data dir because none were configured (development only). */
  generatedSecrets: string[];
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Development secrets persist per data dir, so tokens survive a restart of `bun run start`. */
function devSecrets(dataDir: string): Record<string, string> {
  const file = join(dataDir, "dev-secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
  const secrets = {
    KESHLESS_JOB_SECRET: randomBytes(24).toString("base64url"),
    KESHLESS_JWT_SECRET: randomBytes(48).toString("base64url"),
    KESHLESS_PIN_PEPPER: randomBytes(48).toString("base64url"),
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const raw = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(environment)"}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join("\n  ")}`);
  }
  const e = parsed.data;
  const production = e.KESHLESS_ENV === "production";

  if (production) {
    const problems: string[] = [];
    for (const name of [
      "KESHLESS_JOB_SECRET",
      "KESHLESS_JWT_SECRET",
      "KESHLESS_PIN_PEPPER",
      "KESHLESS_USSD_GATEWAY_SECRET",
    ] as const)
      if (!e[name]) problems.push(`${name}: required in production`);
    if (!e.DATABASE_URL)
      problems.push("DATABASE_URL: required in production (the embedded PGlite database is for development)");
    if (e.KESHLESS_SIMULATORS) problems.push("KESHLESS_SIMULATORS: must be false in production");
    if (e.KESHLESS_NOTIFICATIONS === "outbox")
      problems.push("KESHLESS_NOTIFICATIONS: the dev outbox is refused in production; set providers");
    if (problems.length) throw new ConfigError(`invalid production configuration:\n  ${problems.join("\n  ")}`);
  }

  const dataDir = resolve(e.KESHLESS_DATA_DIR);
  const generated: string[] = [];
  const missing = !e.KESHLESS_JOB_SECRET || !e.KESHLESS_JWT_SECRET || !e.KESHLESS_PIN_PEPPER;
  const dev = missing ? devSecrets(dataDir) : {};
  const secret = (name: "KESHLESS_JOB_SECRET" | "KESHLESS_JWT_SECRET" | "KESHLESS_PIN_PEPPER") => {
    if (e[name]) return e[name];
    generated.push(name);
    return dev[name]!;
  };

  return {
    env: e.KESHLESS_ENV,
    port: e.PORT,
    role: e.KESHLESS_ROLE,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    logLevel: e.LOG_LEVEL,
    dashboardOrigin: e.KESHLESS_DASHBOARD_ORIGIN,
    gcpProject: e.KESHLESS_GCP_PROJECT,
    dbPoolMax: e.KESHLESS_DB_POOL_MAX,
    maxBodyBytes: e.KESHLESS_MAX_BODY_BYTES,
    maxAmount: e.KESHLESS_MAX_AMOUNT,
    fees: { ...DEFAULT_FEES, ...(e.KESHLESS_FEES ?? {}) },
    hotAccountShards: e.KESHLESS_HOT_ACCOUNT_SHARDS,
    serializableMaxRetries: e.KESHLESS_SERIALIZABLE_MAX_RETRIES,
    notifications: e.KESHLESS_NOTIFICATIONS,
    simulators: e.KESHLESS_SIMULATORS,
    secrets: {
      job: secret("KESHLESS_JOB_SECRET"),
      jwt: secret("KESHLESS_JWT_SECRET"),
      pinPepper: secret("KESHLESS_PIN_PEPPER"),
      ussdGateway: e.KESHLESS_USSD_GATEWAY_SECRET,
    },
    generatedSecrets: generated,
  };
}
