import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type AirtimeSlice, airtimeEnv, airtimeSettings } from "./airtime";
import { type AuthSlice, authEnv, authSettings } from "./auth";
import { type BackupsSlice, backupsEnv, backupsProblems, backupsSettings } from "./backups";
import { type ComplianceSlice, complianceEnv, complianceProblems, complianceSettings } from "./compliance";
import { type CoreSlice, coreEnv, coreSettings } from "./core";
import { type HoldsSlice, holdsEnv, holdsSettings } from "./holds";
import { type JobsSlice, jobsEnv, jobsSettings } from "./jobs";
import { type KycSlice, kycEnv, kycProblems, kycSettings } from "./kyc";
import { type NotificationsSlice, notificationsEnv, notificationsSettings } from "./notifications";
import { type PartnersSlice, partnersEnv, partnersSettings } from "./partners";
import { type PaymentsSlice, paymentsEnv, paymentsSettings } from "./payments";
import { type GeneratedSecret, type SecretsSlice, secretsEnv, secretsSettings } from "./secrets";
import { ConfigError } from "./shared";
import { type UssdSlice, ussdEnv, ussdSettings } from "./ussd";
import { type WebhooksSlice, webhooksEnv, webhooksSettings } from "./webhooks";

/**
 * The environment, parsed once at boot and injected everywhere as `deps.config`.
 * Nothing else reads process.env: that keeps tests and the CLI able to build any configuration.
 *
 * Each area's file declares its variables once (name, validation, default) and turns them into its part of
 * Config; this file joins them, and holds what spans areas: development secrets and production's refusals.
 */

export {
  type AirtimeConfig,
  type AirtimeOperator,
  DEFAULT_ERS360_RESULT_CODES,
  type Ers360Config,
  type Ers360OperatorConfig,
  type Ers360Outcome,
} from "./airtime";
export type { AuthConfig } from "./auth";
export { DEFAULT_BANKS, type WithdrawalsConfig } from "./holds";
export type { EnezaConfig, YeboLinkConfig } from "./notifications";
export { DEV_PARTNER_FUNDING_LIMIT, type PartnersConfig } from "./partners";
export { DEFAULT_FEES, DEFAULT_KYC_LIMITS, type FeeRule, type FeeSchedule, type TierLimits } from "./payments";
export { ConfigError } from "./shared";
export type { UssdConfig } from "./ussd";

const envSchema = z.object({
  ...coreEnv.shape,
  ...secretsEnv.shape,
  ...paymentsEnv.shape,
  ...webhooksEnv.shape,
  ...authEnv.shape,
  ...notificationsEnv.shape,
  ...ussdEnv.shape,
  ...holdsEnv.shape,
  ...jobsEnv.shape,
  ...airtimeEnv.shape,
  ...partnersEnv.shape,
  ...kycEnv.shape,
  ...complianceEnv.shape,
  ...backupsEnv.shape,
});

export type Env = z.infer<typeof envSchema>;

export interface Config
  extends CoreSlice,
    SecretsSlice,
    PaymentsSlice,
    WebhooksSlice,
    AuthSlice,
    NotificationsSlice,
    UssdSlice,
    HoldsSlice,
    JobsSlice,
    AirtimeSlice,
    PartnersSlice,
    KycSlice,
    ComplianceSlice,
    BackupsSlice {
  /** Secrets generated for this data dir because none were configured (development only). */
  generatedSecrets: string[];
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
  const sizes = { KESHLESS_JOB_SECRET: 24, KESHLESS_JWT_SECRET: 48, KESHLESS_PIN_PEPPER: 48, KESHLESS_BACKUP_KEY: 32 };
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
    problems.push(...kycProblems(e));
    problems.push(...complianceProblems(e));
    problems.push(...backupsProblems(e));
    if (problems.length) throw new ConfigError(`invalid production configuration:\n  ${problems.join("\n  ")}`);
  }

  const core = coreSettings(e);
  const generated: string[] = [];
  const missing = !e.KESHLESS_JOB_SECRET || !e.KESHLESS_JWT_SECRET || !e.KESHLESS_PIN_PEPPER || !e.KESHLESS_BACKUP_KEY;
  const dev = missing ? devSecrets(core.dataDir) : {};
  const secret = (name: GeneratedSecret) => {
    if (e[name]) return e[name];
    generated.push(name);
    return dev[name]!;
  };

  if (!e.KESHLESS_BACKUP_KEY) generated.push("KESHLESS_BACKUP_KEY");
  // Notifications' check (KESHLESS_ENEZA_BODY) runs before airtime's (min <= max): with both wrong, the first is named.
  return {
    ...core,
    ...secretsSettings(e, secret),
    ...paymentsSettings(e),
    ...webhooksSettings(e),
    ...authSettings(e),
    ...notificationsSettings(e),
    ...ussdSettings(e),
    ...holdsSettings(e),
    ...jobsSettings(e),
    ...airtimeSettings(e),
    ...partnersSettings(e),
    ...kycSettings(e, secret("KESHLESS_JWT_SECRET")),
    ...complianceSettings(e),
    ...backupsSettings(e, e, e.KESHLESS_BACKUP_KEY ?? dev.KESHLESS_BACKUP_KEY!),
    generatedSecrets: [...new Set(generated)],
  };
}
