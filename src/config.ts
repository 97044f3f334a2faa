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

const tierLimits = z.object({
  perTransaction: z.number().int().positive(),
  daily: z.number().int().positive(),
  monthly: z.number().int().positive(),
  maxBalance: z.number().int().positive(),
});
export type TierLimits = z.infer<typeof tierLimits>;
const kycLimits = z.record(z.string().regex(/^\d$/), tierLimits);

/** Tier 0 is phone-only, so it is kept low; higher tiers follow KYC review. Cents. */
export const DEFAULT_KYC_LIMITS: Record<string, TierLimits> = {
  "0": { perTransaction: 100_000, daily: 200_000, monthly: 500_000, maxBalance: 500_000 },
  "1": { perTransaction: 500_000, daily: 1_000_000, monthly: 5_000_000, maxBalance: 2_500_000 },
  "2": { perTransaction: 2_500_000, daily: 5_000_000, monthly: 20_000_000, maxBalance: 10_000_000 },
};

/** Identity, sessions, OTP and notification settings (issue 4). Times in seconds unless named _MS. */
const identityEnv = {
  KESHLESS_JWT_PREVIOUS_SECRETS: z.string().optional(),
  KESHLESS_PIN_PEPPER_PREVIOUS: z.string().optional(),
  KESHLESS_TOTP_KEY: z.string().min(32).optional(),
  KESHLESS_JWT_ISSUER: z.string().min(1).default("keshless"),
  KESHLESS_ACCESS_TOKEN_TTL: int(60, 3600).default(900),
  KESHLESS_REFRESH_TOKEN_TTL: int(300, 90 * 86_400).default(30 * 86_400),
  KESHLESS_ADMIN_REFRESH_TOKEN_TTL: int(300, 7 * 86_400).default(12 * 3600),
  KESHLESS_OTP_TTL: int(60, 1800).default(300),
  KESHLESS_OTP_MAX_ATTEMPTS: int(1, 20).default(5),
  KESHLESS_OTP_RESEND_COOLDOWN: int(0, 3600).default(60),
  KESHLESS_OTP_PHONE_PER_HOUR: int(1, 1000).default(5),
  KESHLESS_OTP_PHONE_PER_DAY: int(1, 10_000).default(10),
  KESHLESS_OTP_IP_PER_HOUR: int(1, 1_000_000).default(2000),
  KESHLESS_AUTH_IP_PER_HOUR: int(1, 1_000_000).default(2000),
  KESHLESS_TRUSTED_PROXY_HOPS: int(0, 10).default(1),
  KESHLESS_PIN_MAX_ATTEMPTS: int(1, 20).default(5),
  KESHLESS_PIN_LOCK: int(1, 7 * 86_400).default(1800),
  KESHLESS_PIN_RESET_WINDOW: int(60, 3600).default(600),
  KESHLESS_LOGIN_MAX_ATTEMPTS: int(1, 50).default(5),
  KESHLESS_LOGIN_LOCK: int(1, 86_400).default(900),
  KESHLESS_ARGON2_MEMORY_KIB: int(1024, 1024 * 1024).optional(),
  KESHLESS_ARGON2_TIME_COST: int(1, 20).optional(),
  KESHLESS_PARTNER_KEY_RATE_PER_MINUTE: int(1, 1_000_000).default(600),
  KESHLESS_PARTNER_KEY_OVERLAP: int(0, 30 * 86_400).default(86_400),
  KESHLESS_OUTBOX_INTERVAL_MS: int(50, 600_000).default(1000),
  KESHLESS_OUTBOX_MAX_ATTEMPTS: int(1, 100).default(8),
  KESHLESS_OUTBOX_BACKOFF_MS: int(10, 600_000).default(2000),
  KESHLESS_ENEZA_URL: z.url().optional(),
  KESHLESS_ENEZA_PATH: z.string().startsWith("/").default("/v1/messages"),
  KESHLESS_ENEZA_API_KEY: z.string().min(1).optional(),
  KESHLESS_ENEZA_TIMEOUT_MS: int(100, 60_000).default(5000),
  KESHLESS_ENEZA_BODY: z.string().default('{"to":"{{to}}","channel":"whatsapp","message":"{{text}}"}'),
  KESHLESS_ENEZA_SUCCESS_PATH: z.string().optional(),
  KESHLESS_ENEZA_ID_PATH: z.string().optional(),
  KESHLESS_YEBOLINK_URL: z.url().default("https://api.yebolink.com"),
  KESHLESS_YEBOLINK_API_KEY: z.string().min(1).optional(),
  KESHLESS_YEBOLINK_TIMEOUT_MS: int(100, 60_000).default(5000),
  KESHLESS_YEBOLINK_CHANNEL: z.enum(["sms", "whatsapp"]).default("sms"),
  KESHLESS_YEBOLINK_FROM_NAME: z.string().min(1).max(30).default("Keshless"),
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
  KESHLESS_KYC_LIMITS: jsonOf(kycLimits).optional(),
  KESHLESS_HOT_ACCOUNT_SHARDS: int(1, 256).default(16),
  KESHLESS_SERIALIZABLE_MAX_RETRIES: int(0, 100).default(20),
  KESHLESS_NOTIFICATIONS: z.enum(["outbox", "providers"]).default("outbox"),
  KESHLESS_SIMULATORS: bool.default(true),
  ...identityEnv,
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
  kycLimits: Record<string, TierLimits>;
  hotAccountShards: number;
  serializableMaxRetries: number;
  notifications: Env["KESHLESS_NOTIFICATIONS"];
  simulators: boolean;
  secrets: {
    job: string;
    jwt: string;
    pinPepper: string;
    ussdGateway: string | undefined;
    /** Verify-only signing secrets, so rotating KESHLESS_JWT_SECRET logs nobody out. */
    jwtPrevious: string[];
    /** Verify-only PIN peppers: a PIN hashed under one is rehashed under the current one on its next success. */
    pinPepperPrevious: string[];
    /** Encrypts admins' TOTP secrets at rest. */
    totp: string;
  };
  auth: AuthConfig;
  outbox: { intervalMs: number; maxAttempts: number; backoffMs: number };
  eneza: EnezaConfig;
  yebolink: YeboLinkConfig;
  /** Secrets generated for this data dir because none were configured (development only). */
  generatedSecrets: string[];
}

export interface AuthConfig {
  issuer: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  adminRefreshTokenTtl: number;
  otpTtl: number;
  otpMaxAttempts: number;
  otpResendCooldown: number;
  otpPhonePerHour: number;
  otpPhonePerDay: number;
  otpIpPerHour: number;
  authIpPerHour: number;
  trustedProxyHops: number;
  pinMaxAttempts: number;
  pinLock: number;
  pinResetWindow: number;
  loginMaxAttempts: number;
  loginLock: number;
  argon2: { memoryCost: number; timeCost: number };
  partnerKeyRatePerMinute: number;
  partnerKeyOverlap: number;
}

export interface EnezaConfig {
  url: string | undefined;
  path: string;
  apiKey: string | undefined;
  timeoutMs: number;
  /** JSON body template; string values "{{to}}" and "{{text}}" are filled in. */
  bodyTemplate: unknown;
  successPath: string | undefined;
  idPath: string | undefined;
}

export interface YeboLinkConfig {
  url: string;
  apiKey: string | undefined;
  timeoutMs: number;
  channel: "sms" | "whatsapp";
  fromName: string;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Development secrets persist per data dir, so tokens survive a restart of `bun run start`. */
function devSecrets(dataDir: string): Record<string, string> {
  const file = join(dataDir, "dev-secrets.json");
  let secrets: Record<string, unknown> = {};
  if (existsSync(file)) {
    try {
      secrets = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      throw new ConfigError(`${file}: not valid JSON; delete it to generate new development secrets`);
    }
  }
  // A data dir from before a secret existed gets the new one added, keeping the others (and their tokens) valid.
  const sizes = { KESHLESS_JOB_SECRET: 24, KESHLESS_JWT_SECRET: 48, KESHLESS_PIN_PEPPER: 48 };
  const missing = Object.entries(sizes).filter(([name]) => typeof secrets[name] !== "string");
  if (missing.length) {
    for (const [name, bytes] of missing) secrets[name] = randomBytes(bytes).toString("base64url");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets as Record<string, string>;
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
    for (const name of ["KESHLESS_ENEZA_URL", "KESHLESS_ENEZA_API_KEY", "KESHLESS_YEBOLINK_API_KEY"] as const)
      if (!e[name]) problems.push(`${name}: required in production (OTP delivery)`);
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
    kycLimits: { ...DEFAULT_KYC_LIMITS, ...(e.KESHLESS_KYC_LIMITS ?? {}) },
    hotAccountShards: e.KESHLESS_HOT_ACCOUNT_SHARDS,
    serializableMaxRetries: e.KESHLESS_SERIALIZABLE_MAX_RETRIES,
    notifications: e.KESHLESS_NOTIFICATIONS,
    simulators: e.KESHLESS_SIMULATORS,
    secrets: {
      job: secret("KESHLESS_JOB_SECRET"),
      jwt: secret("KESHLESS_JWT_SECRET"),
      pinPepper: secret("KESHLESS_PIN_PEPPER"),
      ussdGateway: e.KESHLESS_USSD_GATEWAY_SECRET,
      jwtPrevious: list(e.KESHLESS_JWT_PREVIOUS_SECRETS),
      pinPepperPrevious: list(e.KESHLESS_PIN_PEPPER_PREVIOUS),
      // Derived from the JWT secret unless set: one secret less to manage in development.
      totp: e.KESHLESS_TOTP_KEY ?? `totp:${secret("KESHLESS_JWT_SECRET")}`,
    },
    ...identitySettings(e),
    generatedSecrets: [...new Set(generated)],
  };
}

const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);

function identitySettings(e: Env): Pick<Config, "auth" | "outbox" | "eneza" | "yebolink"> {
  let bodyTemplate: unknown;
  try {
    bodyTemplate = JSON.parse(e.KESHLESS_ENEZA_BODY);
  } catch {
    throw new ConfigError("invalid configuration:\n  KESHLESS_ENEZA_BODY: is not valid JSON");
  }
  // Tests hash many passwords: a cheap argon2id there; Bun's defaults (64 MiB, t=2) everywhere else.
  const testing = e.KESHLESS_ENV === "test";
  return {
    auth: {
      issuer: e.KESHLESS_JWT_ISSUER,
      accessTokenTtl: e.KESHLESS_ACCESS_TOKEN_TTL,
      refreshTokenTtl: e.KESHLESS_REFRESH_TOKEN_TTL,
      adminRefreshTokenTtl: e.KESHLESS_ADMIN_REFRESH_TOKEN_TTL,
      otpTtl: e.KESHLESS_OTP_TTL,
      otpMaxAttempts: e.KESHLESS_OTP_MAX_ATTEMPTS,
      otpResendCooldown: e.KESHLESS_OTP_RESEND_COOLDOWN,
      otpPhonePerHour: e.KESHLESS_OTP_PHONE_PER_HOUR,
      otpPhonePerDay: e.KESHLESS_OTP_PHONE_PER_DAY,
      otpIpPerHour: e.KESHLESS_OTP_IP_PER_HOUR,
      authIpPerHour: e.KESHLESS_AUTH_IP_PER_HOUR,
      trustedProxyHops: e.KESHLESS_TRUSTED_PROXY_HOPS,
      pinMaxAttempts: e.KESHLESS_PIN_MAX_ATTEMPTS,
      pinLock: e.KESHLESS_PIN_LOCK,
      pinResetWindow: e.KESHLESS_PIN_RESET_WINDOW,
      loginMaxAttempts: e.KESHLESS_LOGIN_MAX_ATTEMPTS,
      loginLock: e.KESHLESS_LOGIN_LOCK,
      argon2: {
        memoryCost: e.KESHLESS_ARGON2_MEMORY_KIB ?? (testing ? 1024 : 65_536),
        timeCost: e.KESHLESS_ARGON2_TIME_COST ?? (testing ? 1 : 2),
      },
      partnerKeyRatePerMinute: e.KESHLESS_PARTNER_KEY_RATE_PER_MINUTE,
      partnerKeyOverlap: e.KESHLESS_PARTNER_KEY_OVERLAP,
    },
    outbox: {
      intervalMs: e.KESHLESS_OUTBOX_INTERVAL_MS,
      maxAttempts: e.KESHLESS_OUTBOX_MAX_ATTEMPTS,
      backoffMs: e.KESHLESS_OUTBOX_BACKOFF_MS,
    },
    eneza: {
      url: e.KESHLESS_ENEZA_URL,
      path: e.KESHLESS_ENEZA_PATH,
      apiKey: e.KESHLESS_ENEZA_API_KEY,
      timeoutMs: e.KESHLESS_ENEZA_TIMEOUT_MS,
      bodyTemplate,
      successPath: e.KESHLESS_ENEZA_SUCCESS_PATH,
      idPath: e.KESHLESS_ENEZA_ID_PATH,
    },
    yebolink: {
      url: e.KESHLESS_YEBOLINK_URL,
      apiKey: e.KESHLESS_YEBOLINK_API_KEY,
      timeoutMs: e.KESHLESS_YEBOLINK_TIMEOUT_MS,
      channel: e.KESHLESS_YEBOLINK_CHANNEL,
      fromName: e.KESHLESS_YEBOLINK_FROM_NAME,
    },
  };
}
