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
  KESHLESS_REFRESH_GRACE_SECONDS: int(0, 300).default(30),
  KESHLESS_ADMIN_REFRESH_TOKEN_TTL: int(300, 7 * 86_400).default(12 * 3600),
  KESHLESS_OTP_TTL: int(60, 1800).default(300),
  KESHLESS_OTP_MAX_ATTEMPTS: int(1, 20).default(5),
  KESHLESS_OTP_RESEND_COOLDOWN: int(0, 3600).default(60),
  KESHLESS_OTP_PHONE_PER_HOUR: int(1, 1000).default(5),
  KESHLESS_OTP_PHONE_PER_DAY: int(1, 10_000).default(10),
  KESHLESS_OTP_IP_PER_HOUR: int(1, 1_000_000).default(2000),
  KESHLESS_AUTH_IP_PER_HOUR: int(1, 1_000_000).default(2000),
  // 0: X-Forwarded-For is whatever the client wrote; only a deployment that knows its proxies trusts their entries
  // (cloudbuild.yaml sets 1 for Cloud Run's front end).
  KESHLESS_TRUSTED_PROXY_HOPS: int(0, 10).default(0),
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

/** USSD (issue 7). Times in seconds unless named _MS. */
const ussdEnv = {
  KESHLESS_USSD_GATEWAY_SECRET_MTN: z.string().min(16).optional(),
  KESHLESS_USSD_GATEWAY_SECRET_AT: z.string().min(16).optional(),
  KESHLESS_USSD_SESSION_TTL: int(30, 3600).default(180),
  KESHLESS_USSD_RETRY_WINDOW_MS: int(0, 60_000).default(1500),
  KESHLESS_USSD_TERMS_URL: z.string().min(1).max(40).default("keshless.co.sz/terms"),
};

/** Withdrawals, cards, approvals, scheduled jobs and airtime over ERS360 (issue 6). Amounts in cents. */
const ersOutcome = z.enum(["success", "pending", "unknown", "rejected", "not_found"]);
export type Ers360Outcome = z.infer<typeof ersOutcome>;
const holdsEnv = {
  KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX: int(0, Number.MAX_SAFE_INTEGER).default(50_000),
  KESHLESS_WITHDRAWAL_DUAL_APPROVAL_MIN: int(1, Number.MAX_SAFE_INTEGER).default(1_000_000),
  KESHLESS_WITHDRAWAL_BANKS: jsonOf(z.record(z.string().regex(/^[A-Z0-9_]{2,16}$/), z.string().min(1))).optional(),
  KESHLESS_VENDOR_WITHDRAWAL_PASSWORD_ATTEMPTS: int(1, 100).default(5),
  KESHLESS_APPROVAL_TTL_HOURS: int(1, 30 * 24).default(24),
  KESHLESS_RETENTION_DAYS: int(7, 3650).default(90),
  KESHLESS_CARD_FEE: int(0, 10_000_000).default(5_000),
  KESHLESS_AIRTIME_MIN_AMOUNT: int(1, 10_000_000).default(100),
  KESHLESS_AIRTIME_MAX_AMOUNT: int(1, 10_000_000).default(100_000),
  KESHLESS_AIRTIME_RECONCILE_INTERVAL_MS: int(200, 3_600_000).default(30_000),
  KESHLESS_AIRTIME_MAX_ATTEMPTS: int(1, 5).default(2),
  KESHLESS_AIRTIME_NOT_FOUND_GRACE: int(0, 86_400).default(120),
  KESHLESS_ERS360_TIMEOUT_MS: int(200, 120_000).default(15_000),
  KESHLESS_ERS360_CLIENT_ID: z.string().min(1).max(64).default("KESHLESS"),
  KESHLESS_ERS360_CHANNEL: z.string().min(1).max(64).default("WSClient"),
  KESHLESS_ERS360_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default("SZL"),
  KESHLESS_ERS360_RESULT_CODES: jsonOf(z.record(z.string().regex(/^\d{1,6}$/), ersOutcome)).optional(),
  KESHLESS_ERS360_PROXY_SECRET: z.string().min(16).optional(),
  KESHLESS_ERS360_MTN_URL: z.url().optional(),
  KESHLESS_ERS360_MTN_RESELLER_ID: z.string().min(1).optional(),
  KESHLESS_ERS360_MTN_USER_ID: z.string().min(1).optional(),
  KESHLESS_ERS360_MTN_PASSWORD: z.string().min(1).optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_URL: z.url().optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_PROXY_URL: z.url().optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_RESELLER_ID: z.string().min(1).optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_USER_ID: z.string().min(1).optional(),
  KESHLESS_ERS360_ESWATINI_MOBILE_PASSWORD: z.string().min(1).optional(),
};

/** Partners' funding limits (their prefunded float, checked on every deposit). Cents. */
const partnersEnv = {
  // No default here: it depends on KESHLESS_ENV (0 in production: nothing until finance tops a partner up).
  KESHLESS_PARTNER_DEFAULT_FUNDING_LIMIT: int(0, Number.MAX_SAFE_INTEGER).optional(),
};

export interface PartnersConfig {
  /** The funding limit a new partner starts with (cents): E10,000,000 in development and tests, 0 in production. */
  defaultFundingLimit: number;
}

export const DEV_PARTNER_FUNDING_LIMIT = 1_000_000_000;

function partnerSettings(e: Env): Pick<Config, "partners"> {
  const fallback = e.KESHLESS_ENV === "production" ? 0 : DEV_PARTNER_FUNDING_LIMIT;
  return { partners: { defaultFundingLimit: e.KESHLESS_PARTNER_DEFAULT_FUNDING_LIMIT ?? fallback } };
}

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
  // With the database unreachable, a request answers 503 within about connect + acquire, never waits longer.
  KESHLESS_DB_CONNECT_TIMEOUT_MS: int(100, 60_000).default(3000),
  KESHLESS_DB_ACQUIRE_TIMEOUT_MS: int(100, 120_000).default(5000),
  KESHLESS_MAX_BODY_BYTES: int(1024, 50 * 1024 * 1024).default(1024 * 1024),
  KESHLESS_MAX_AMOUNT: int(1, Number.MAX_SAFE_INTEGER).default(10_000_000),
  KESHLESS_FEES: jsonOf(feeSchedule).optional(),
  KESHLESS_KYC_LIMITS: jsonOf(kycLimits).optional(),
  KESHLESS_HOT_ACCOUNT_SHARDS: int(1, 256).default(32),
  KESHLESS_SERIALIZABLE_MAX_RETRIES: int(0, 100).default(20),
  KESHLESS_NOTIFICATIONS: z.enum(["outbox", "providers"]).default("outbox"),
  KESHLESS_SIMULATORS: bool.default(true),
  KESHLESS_WEBHOOK_KEY: z.string().min(32).optional(),
  KESHLESS_WEBHOOK_KEY_PREVIOUS: z.string().optional(),
  KESHLESS_WEBHOOK_INTERVAL_MS: int(50, 600_000).default(1000),
  KESHLESS_WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  KESHLESS_WEBHOOK_BACKOFF_MS: int(10, 3_600_000).default(30_000),
  KESHLESS_WEBHOOK_MAX_BACKOFF_MS: int(10, 24 * 3_600_000).default(3_600_000),
  KESHLESS_WEBHOOK_RETRY_WINDOW: int(1, 7 * 86_400).default(86_400),
  // No default here: it depends on KESHLESS_ENV (true only in development), applied in loadConfig.
  KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.optional(),
  KESHLESS_PAYMENT_REQUEST_TTL: int(60, 30 * 86_400).default(86_400),
  KESHLESS_PAYMENT_REQUEST_LOOKUPS_PER_MINUTE: int(1, 10_000).default(30),
  ...identityEnv,
  ...ussdEnv,
  ...holdsEnv,
  ...partnersEnv,
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
  /** Opening a Postgres connection / waiting for a pool connection, in ms (then 503 UNAVAILABLE). */
  dbConnectTimeoutMs: number;
  dbAcquireTimeoutMs: number;
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
    /** Encrypts partners' webhook signing secrets at rest. */
    webhook: string;
    /** Verify-only previous webhook keys: secrets sealed under one still open after KESHLESS_WEBHOOK_KEY rotates. */
    webhookPrevious: string[];
  };
  auth: AuthConfig;
  outbox: { intervalMs: number; maxAttempts: number; backoffMs: number };
  /** Partner webhooks: retried with exponential backoff for `retryWindowSeconds`, then failed. */
  webhooks: {
    intervalMs: number;
    timeoutMs: number;
    backoffMs: number;
    maxBackoffMs: number;
    retryWindowSeconds: number;
    /**
     * Whether endpoints may be (and resolve to) loopback, private, link-local or other non-public addresses.
     * Off outside development, so a partner cannot make our servers call our own network.
     */
    allowPrivateNetworks: boolean;
  };
  /** Default life of a vendor payment request, in seconds. */
  paymentRequestTtl: number;
  /** Payment-request code lookups (preview or pay) per user per minute: 7-digit codes must not be enumerable. */
  paymentRequestLookupsPerMinute: number;
  eneza: EnezaConfig;
  yebolink: YeboLinkConfig;
  ussd: UssdConfig;
  withdrawals: WithdrawalsConfig;
  approvals: { ttlHours: number };
  /** Finished operational rows (notifications, webhook deliveries) older than `days` are deleted by the retention job. */
  retention: { days: number };
  cards: { fee: number };
  partners: PartnersConfig;
  airtime: AirtimeConfig;
  ers360: Ers360Config;
  /** Secrets generated for this data dir because none were configured (development only). */
  generatedSecrets: string[];
}

export interface AuthConfig {
  issuer: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  /** A refresh token presented again within this many seconds of its exchange gets the same new pair (0: never). */
  refreshGraceSeconds: number;
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

export interface UssdConfig {
  /** Per-gateway X-Gateway-Secret values; a gateway without one uses secrets.ussdGateway. */
  gatewaySecrets: { mtn: string | undefined; at: string | undefined };
  /** Idle seconds before a session is dead (gateways give up after about 180 s). */
  sessionTtl: number;
  /**
   * For a gateway that sends only the latest input (MTN): the same input again within this is the
   * gateway resending, not the subscriber — no one reads a new screen and answers it that fast.
   */
  retryWindowMs: number;
  termsUrl: string;
}

export interface WithdrawalsConfig {
  /** At most this (cents) completes at once; more waits for a finance admin. */
  autoApproveMax: number;
  /** From this amount (cents) a second, different admin must approve too. */
  dualApprovalMin: number;
  /** Bank codes a bank withdrawal may name → bank names. */
  banks: Record<string, string>;
  /** Wrong vendor passwords allowed per 15 minutes on withdrawals. */
  vendorPasswordAttempts: number;
}

export interface AirtimeConfig {
  minAmount: number;
  maxAmount: number;
  reconcileIntervalMs: number;
  /** Top-up requests per order (each a new clientReference), made only when the last one provably did not happen. */
  maxAttempts: number;
  /** Seconds after sending before an operator's "no such transaction" is believed. */
  notFoundGraceSeconds: number;
}

export type AirtimeOperator = "mtn" | "eswatini_mobile";

export interface Ers360OperatorConfig {
  /** The operator's topup service, e.g. http://host:8913/topupservice/service. */
  url: string | undefined;
  /** Our internal proxy route (Swazi Mobile's ERS360 sits on a private network reached from keshless-ussd). */
  proxyUrl: string | undefined;
  resellerId: string | undefined;
  userId: string | undefined;
  password: string | undefined;
}

export interface Ers360Config {
  timeoutMs: number;
  clientId: string;
  channel: string;
  currency: string;
  /** resultCode → outcome, over the defaults of INTEGRATIONS.md §3 (operators customise codes). */
  resultCodes: Record<string, Ers360Outcome>;
  /** X-Internal-Secret between the API and the proxy route on the USSD deployment. */
  proxySecret: string | undefined;
  operators: Record<AirtimeOperator, Ers360OperatorConfig>;
}

/** Eswatini's banks (codes are ours; override with KESHLESS_WITHDRAWAL_BANKS). */
export const DEFAULT_BANKS: Record<string, string> = {
  FNB: "First National Bank Eswatini",
  SBE: "Standard Bank Eswatini",
  NED: "Nedbank Eswatini",
  EBK: "Eswatini Bank",
  EBS: "Eswatini Building Society",
};

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
    for (const [operator, prefix] of [
      ["MTN", "KESHLESS_ERS360_MTN"],
      ["Eswatini Mobile", "KESHLESS_ERS360_ESWATINI_MOBILE"],
    ] as const) {
      if (prefix === "KESHLESS_ERS360_MTN" && !e.KESHLESS_ERS360_MTN_URL)
        problems.push(`${prefix}_URL: required in production (${operator} airtime)`);
      if (prefix !== "KESHLESS_ERS360_MTN" && !e[`${prefix}_URL`] && !e[`${prefix}_PROXY_URL`])
        problems.push(`${prefix}_URL or ${prefix}_PROXY_URL: required in production (${operator} airtime; set one)`);
      for (const part of ["RESELLER_ID", "PASSWORD"] as const)
        if (!e[`${prefix}_${part}`]) problems.push(`${prefix}_${part}: required in production (${operator} airtime)`);
    }
    if (e.KESHLESS_ERS360_ESWATINI_MOBILE_PROXY_URL && !e.KESHLESS_ERS360_PROXY_SECRET)
      problems.push("KESHLESS_ERS360_PROXY_SECRET: required in production when the ERS360 proxy is used");
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
    dbConnectTimeoutMs: e.KESHLESS_DB_CONNECT_TIMEOUT_MS,
    dbAcquireTimeoutMs: e.KESHLESS_DB_ACQUIRE_TIMEOUT_MS,
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
      webhook: e.KESHLESS_WEBHOOK_KEY ?? `webhook:${secret("KESHLESS_JWT_SECRET")}`,
      webhookPrevious: list(e.KESHLESS_WEBHOOK_KEY_PREVIOUS),
    },
    webhooks: {
      intervalMs: e.KESHLESS_WEBHOOK_INTERVAL_MS,
      timeoutMs: e.KESHLESS_WEBHOOK_TIMEOUT_MS,
      backoffMs: e.KESHLESS_WEBHOOK_BACKOFF_MS,
      maxBackoffMs: e.KESHLESS_WEBHOOK_MAX_BACKOFF_MS,
      retryWindowSeconds: e.KESHLESS_WEBHOOK_RETRY_WINDOW,
      allowPrivateNetworks: e.KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? e.KESHLESS_ENV === "development",
    },
    paymentRequestTtl: e.KESHLESS_PAYMENT_REQUEST_TTL,
    paymentRequestLookupsPerMinute: e.KESHLESS_PAYMENT_REQUEST_LOOKUPS_PER_MINUTE,
    ...identitySettings(e),
    ussd: {
      gatewaySecrets: { mtn: e.KESHLESS_USSD_GATEWAY_SECRET_MTN, at: e.KESHLESS_USSD_GATEWAY_SECRET_AT },
      sessionTtl: e.KESHLESS_USSD_SESSION_TTL,
      retryWindowMs: e.KESHLESS_USSD_RETRY_WINDOW_MS,
      termsUrl: e.KESHLESS_USSD_TERMS_URL,
    },
    ...holdsSettings(e),
    ...partnerSettings(e),
    retention: { days: e.KESHLESS_RETENTION_DAYS },
    generatedSecrets: [...new Set(generated)],
  };
}

/** Default meaning of ERS360 result codes (INTEGRATIONS.md §3); anything unlisted is "unknown": ask, never guess. */
export const DEFAULT_ERS360_RESULT_CODES: Record<string, Ers360Outcome> = {
  "0": "success",
  "1": "pending",
  ...Object.fromEntries(
    [10, 11, 12, 13, 20, 21, 29, 30, 31, 32, 37, 38, 39, 40, 41, 44, 47, 94, 102, 104, 106].map((c) => [
      String(c),
      "rejected" as const,
    ]),
  ),
  "90": "unknown",
  "93": "unknown",
  "105": "unknown",
  "933": "not_found",
};

function holdsSettings(e: Env): Pick<Config, "withdrawals" | "approvals" | "cards" | "airtime" | "ers360"> {
  if (e.KESHLESS_AIRTIME_MIN_AMOUNT > e.KESHLESS_AIRTIME_MAX_AMOUNT)
    throw new ConfigError(
      "invalid configuration:\n  KESHLESS_AIRTIME_MIN_AMOUNT: must not exceed KESHLESS_AIRTIME_MAX_AMOUNT",
    );
  const operator = (prefix: "KESHLESS_ERS360_MTN" | "KESHLESS_ERS360_ESWATINI_MOBILE"): Ers360OperatorConfig => ({
    url: e[`${prefix}_URL`],
    proxyUrl: prefix === "KESHLESS_ERS360_ESWATINI_MOBILE" ? e.KESHLESS_ERS360_ESWATINI_MOBILE_PROXY_URL : undefined,
    resellerId: e[`${prefix}_RESELLER_ID`],
    userId: e[`${prefix}_USER_ID`],
    password: e[`${prefix}_PASSWORD`],
  });
  return {
    withdrawals: {
      autoApproveMax: e.KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX,
      dualApprovalMin: e.KESHLESS_WITHDRAWAL_DUAL_APPROVAL_MIN,
      banks: e.KESHLESS_WITHDRAWAL_BANKS ?? DEFAULT_BANKS,
      vendorPasswordAttempts: e.KESHLESS_VENDOR_WITHDRAWAL_PASSWORD_ATTEMPTS,
    },
    approvals: { ttlHours: e.KESHLESS_APPROVAL_TTL_HOURS },
    cards: { fee: e.KESHLESS_CARD_FEE },
    airtime: {
      minAmount: e.KESHLESS_AIRTIME_MIN_AMOUNT,
      maxAmount: e.KESHLESS_AIRTIME_MAX_AMOUNT,
      reconcileIntervalMs: e.KESHLESS_AIRTIME_RECONCILE_INTERVAL_MS,
      maxAttempts: e.KESHLESS_AIRTIME_MAX_ATTEMPTS,
      notFoundGraceSeconds: e.KESHLESS_AIRTIME_NOT_FOUND_GRACE,
    },
    ers360: {
      timeoutMs: e.KESHLESS_ERS360_TIMEOUT_MS,
      clientId: e.KESHLESS_ERS360_CLIENT_ID,
      channel: e.KESHLESS_ERS360_CHANNEL,
      currency: e.KESHLESS_ERS360_CURRENCY,
      resultCodes: { ...DEFAULT_ERS360_RESULT_CODES, ...(e.KESHLESS_ERS360_RESULT_CODES ?? {}) },
      proxySecret: e.KESHLESS_ERS360_PROXY_SECRET,
      operators: { mtn: operator("KESHLESS_ERS360_MTN"), eswatini_mobile: operator("KESHLESS_ERS360_ESWATINI_MOBILE") },
    },
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
      refreshGraceSeconds: e.KESHLESS_REFRESH_GRACE_SECONDS,
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
