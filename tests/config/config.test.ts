import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config";

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "keshless-config-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A complete production environment. A variable that becomes required in production belongs here too. */
const PRODUCTION = {
  KESHLESS_ENV: "production",
  DATABASE_URL: "postgres://keshless@10.0.0.5:5432/keshless",
  KESHLESS_JOB_SECRET: "j".repeat(24),
  KESHLESS_JWT_SECRET: "w".repeat(48),
  KESHLESS_PIN_PEPPER: "p".repeat(48),
  KESHLESS_USSD_GATEWAY_SECRET: "g".repeat(24),
  KESHLESS_SIMULATORS: "false",
  KESHLESS_NOTIFICATIONS: "providers",
  KESHLESS_ENEZA_URL: "https://eneza.example.sz",
  KESHLESS_ENEZA_API_KEY: "eneza-key",
  KESHLESS_YEBOLINK_API_KEY: "yebolink-key",
  KESHLESS_ERS360_MTN_URL: "http://10.1.0.7:8913/topupservice/service",
  KESHLESS_ERS360_MTN_RESELLER_ID: "KESHLESS_MTN",
  KESHLESS_ERS360_MTN_PASSWORD: "mtn-ers-password",
  KESHLESS_ERS360_ESWATINI_MOBILE_PROXY_URL: "https://keshless-ussd.example.sz/internal/ers/eswatini-mobile",
  KESHLESS_ERS360_ESWATINI_MOBILE_RESELLER_ID: "KESHLESS_EM",
  KESHLESS_ERS360_ESWATINI_MOBILE_PASSWORD: "em-ers-password",
  KESHLESS_ERS360_PROXY_SECRET: "x".repeat(24),
  KESHLESS_STORAGE: "gcs",
  KESHLESS_GEMINI_API_KEY: "gemini-key",
  KESHLESS_BACKUP_KEY: Buffer.alloc(32, 7).toString("base64"),
  KESHLESS_GCP_PROJECT: "keshless-prod",
};

function configError(source: Record<string, string | undefined>): string {
  try {
    loadConfig(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error("expected loadConfig to refuse this configuration");
}

describe("development", () => {
  test("no configuration at all is a working setup", () => {
    const dir = freshDir();
    const config = loadConfig({ KESHLESS_DATA_DIR: dir });
    expect(config).toMatchObject({ env: "development", port: 8080, role: "all", logLevel: "info", simulators: true });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.notifications).toBe("outbox");
  });

  test("empty strings count as unset", () => {
    const config = loadConfig({ KESHLESS_DATA_DIR: freshDir(), PORT: "", DATABASE_URL: "" });
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBeUndefined();
  });

  test("missing secrets are generated once per data dir, private to the owner, and reused", () => {
    const dir = freshDir();
    const first = loadConfig({ KESHLESS_DATA_DIR: dir });
    expect(first.generatedSecrets.sort()).toEqual([
      "KESHLESS_BACKUP_KEY",
      "KESHLESS_JOB_SECRET",
      "KESHLESS_JWT_SECRET",
      "KESHLESS_PIN_PEPPER",
    ]);
    const file = join(dir, "dev-secrets.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadConfig({ KESHLESS_DATA_DIR: dir });
    expect(second.secrets).toEqual(first.secrets);
    const other = loadConfig({ KESHLESS_DATA_DIR: freshDir() });
    expect(other.secrets.jwt).not.toBe(first.secrets.jwt);
  });

  test("configured secrets win and nothing is written", () => {
    const dir = freshDir();
    const config = loadConfig({
      KESHLESS_DATA_DIR: dir,
      KESHLESS_JOB_SECRET: PRODUCTION.KESHLESS_JOB_SECRET,
      KESHLESS_JWT_SECRET: PRODUCTION.KESHLESS_JWT_SECRET,
      KESHLESS_PIN_PEPPER: PRODUCTION.KESHLESS_PIN_PEPPER,
      KESHLESS_BACKUP_KEY: PRODUCTION.KESHLESS_BACKUP_KEY,
    });
    expect(config.generatedSecrets).toEqual([]);
    expect(config.secrets.jwt).toBe(PRODUCTION.KESHLESS_JWT_SECRET);
    expect(existsSync(join(dir, "dev-secrets.json"))).toBe(false);
  });

  test("a secrets file from an older version gains the new secret and keeps the old ones", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "dev-secrets.json"), JSON.stringify({ KESHLESS_JWT_SECRET: "x".repeat(40) }));
    const config = loadConfig({ KESHLESS_DATA_DIR: dir });
    expect(config.secrets.jwt).toBe("x".repeat(40));
    expect(config.secrets.pinPepper.length).toBeGreaterThan(32);
    expect(JSON.parse(readFileSync(join(dir, "dev-secrets.json"), "utf8")).KESHLESS_PIN_PEPPER).toBe(
      config.secrets.pinPepper,
    );
  });

  test("a corrupt secrets file stops boot naming the file", () => {
    const dir = freshDir();
    writeFileSync(join(dir, "dev-secrets.json"), "{not json");
    expect(configError({ KESHLESS_DATA_DIR: dir })).toContain("dev-secrets.json");
  });
});

describe("a bad value stops boot, naming the variable", () => {
  const cases: [string, string][] = [
    ["PORT", "eighty"],
    ["PORT", "70000"],
    ["DATABASE_URL", "mysql://root@localhost/keshless"],
    ["DATABASE_URL", "not a url"],
    ["KESHLESS_ENV", "staging"],
    ["KESHLESS_ROLE", "worker"],
    ["LOG_LEVEL", "verbose"],
    ["KESHLESS_JWT_SECRET", "too-short"],
    ["KESHLESS_MAX_BODY_BYTES", "12"],
    ["KESHLESS_SIMULATORS", "yes"],
    ["KESHLESS_FEES", "{not json"],
    ["KESHLESS_FEES", '{"payment":{"bps":-1}}'],
    ["KESHLESS_SERIALIZABLE_MAX_RETRIES", "1.5"],
    ["KESHLESS_BACKUP_KEY", Buffer.alloc(16).toString("base64")],
    ["KESHLESS_BACKUP_PREVIOUS_KEYS", `old-key=${Buffer.alloc(32).toString("base64")}`],
  ];
  for (const [name, value] of cases)
    test(`${name}=${value}`, () => {
      const message = configError({ KESHLESS_DATA_DIR: freshDir(), [name]: value });
      expect(message).toContain(`${name}:`);
    });

  test("several bad values are all named at once", () => {
    const message = configError({ KESHLESS_DATA_DIR: freshDir(), PORT: "x", KESHLESS_ROLE: "y", LOG_LEVEL: "z" });
    for (const name of ["PORT", "KESHLESS_ROLE", "LOG_LEVEL"]) expect(message).toContain(`${name}:`);
  });
});

describe("production", () => {
  test("a complete configuration boots and generates nothing", () => {
    const dir = freshDir();
    const config = loadConfig({ ...PRODUCTION, KESHLESS_DATA_DIR: dir });
    expect(config.env).toBe("production");
    expect(config.generatedSecrets).toEqual([]);
    expect(existsSync(join(dir, "dev-secrets.json"))).toBe(false);
  });

  test("with nothing configured, every missing piece is named", () => {
    const message = configError({ KESHLESS_ENV: "production", KESHLESS_DATA_DIR: freshDir() });
    for (const name of [
      "KESHLESS_JOB_SECRET",
      "KESHLESS_JWT_SECRET",
      "KESHLESS_PIN_PEPPER",
      "KESHLESS_USSD_GATEWAY_SECRET",
      "DATABASE_URL",
      "KESHLESS_SIMULATORS",
      "KESHLESS_NOTIFICATIONS",
    ])
      expect(message).toContain(`${name}:`);
  });

  // Each refusal on its own, so a message naming everything cannot hide a check that never fires.
  const refusals: [string, Record<string, string | undefined>][] = [
    ["the simulators", { KESHLESS_SIMULATORS: "true" }],
    ["the dev outbox", { KESHLESS_NOTIFICATIONS: "outbox" }],
    ["PGlite (no DATABASE_URL)", { DATABASE_URL: undefined }],
    // Every other variable of a complete production config is required too (simulators and outbox are on by default).
    ...Object.keys(PRODUCTION)
      .filter((name) => name !== "KESHLESS_ENV" && name !== "DATABASE_URL")
      .map((name): [string, Record<string, undefined>] => [`a missing ${name}`, { [name]: undefined }]),
  ];
  for (const [what, change] of refusals)
    test(`refuses ${what}`, () => {
      const [name] = Object.keys(change) as [string];
      const message = configError({ ...PRODUCTION, KESHLESS_DATA_DIR: freshDir(), ...change });
      const named = Object.keys(PRODUCTION).filter((n) => message.includes(`${n}:`));
      expect(named).toEqual([name]);
    });
});

describe("boot", () => {
  async function boot(env: Record<string, string>) {
    const proc = Bun.spawn(["bun", "src/index.ts"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", KESHLESS_DATA_DIR: freshDir(), ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 15_000);
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    clearTimeout(timer);
    return { code, stderr };
  }

  test("a bad value exits 78 (EX_CONFIG) before listening, naming the variable", async () => {
    const { code, stderr } = await boot({ PORT: "eighty" });
    expect(code).toBe(78);
    expect(stderr).toContain("PORT:");
  });

  test("production without its secrets exits 78 naming them, and never prints a secret", async () => {
    const { code, stderr } = await boot({ KESHLESS_ENV: "production", KESHLESS_JWT_SECRET: "w".repeat(48) });
    expect(code).toBe(78);
    expect(stderr).toContain("KESHLESS_JOB_SECRET:");
    expect(stderr).toContain("DATABASE_URL:");
    expect(stderr).not.toContain("w".repeat(48));
  });
});
