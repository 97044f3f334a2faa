import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseBackupName } from "../../src/operations";
import { startFakeSecretManager } from "../support/fake-secret-manager";
import { createTestContext, TEST_SECRETS } from "../support/harness";

/**
 * POST /backup-jobs/secrets backs up every KESHLESS_* secret, sealed like the database backups — in development
 * from the environment and the data dir's dev-secrets.json, in production from Secret Manager (here a fake speaking
 * its REST API, paged) — and backup:restore-secrets puts them back: to a JSON file, or to one file per secret with
 * the gcloud commands that add them as new versions. No value reaches the stored object, stdout or the logs.
 */

const dirs: string[] = [];
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "keshless-secrets-"));
  dirs.push(dir);
  return dir;
};
const fake = startFakeSecretManager("keshless-test");
afterAll(async () => {
  await fake.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const GATEWAY = "gateway-secret-d41d8cd98f00b204";
const MTN = "mtn-ers-password-9e107d9d372bb682";
const dev = await createTestContext({
  KESHLESS_USSD_GATEWAY_SECRET: GATEWAY,
  KESHLESS_ERS360_MTN_PASSWORD: MTN,
});
const job = (t: typeof dev) =>
  t.request("POST", "/backup-jobs/secrets", { headers: { "x-job-secret": t.config.secrets.job } });

describe("development: the environment and dev-secrets.json", () => {
  const devFile = JSON.parse(readFileSync(join(dev.config.dataDir, "dev-secrets.json"), "utf8"));
  let object: string;

  test("the job seals every secret under secrets/; none of the values is in the stored object", async () => {
    const res = await job(dev);
    expect(res.status).toBe(200);
    object = res.json.summary.object;
    expect(parseBackupName(object)).toMatchObject({ kind: "secrets", format: "json" });
    expect(res.json.summary.source).toBe("environment");
    const stored = Buffer.from(await dev.deps.storage.backups.read(object));
    expect(res.json.summary.bytes).toBe(stored.length);
    for (const value of [GATEWAY, MTN, TEST_SECRETS.KESHLESS_JWT_SECRET, devFile.KESHLESS_BACKUP_KEY])
      expect(stored.includes(Buffer.from(value))).toBe(false);
    expect(stored.includes(Buffer.from("KESHLESS_"))).toBe(false);
    // Listed beside the database backups, as its own kind.
    const listed = await dev.deps.runCommand("backup:list", {});
    expect((listed.result as any).data).toContainEqual(expect.objectContaining({ object, kind: "secrets" }));
    expect(dev.logs.join("\n")).not.toContain(GATEWAY);
  });

  test("restore-secrets writes them to a new file (owner-only), shaped like dev-secrets.json", async () => {
    const out = join(freshDir(), "restored-secrets.json");
    const restored = await dev.deps.runCommand("backup:restore-secrets", { object, out });
    expect(restored.ok).toBe(true);
    expect(JSON.stringify(restored.result)).not.toContain(GATEWAY);
    const file = JSON.parse(readFileSync(out, "utf8"));
    expect(file).toMatchObject({
      KESHLESS_USSD_GATEWAY_SECRET: GATEWAY,
      KESHLESS_ERS360_MTN_PASSWORD: MTN,
      KESHLESS_JOB_SECRET: TEST_SECRETS.KESHLESS_JOB_SECRET,
      KESHLESS_JWT_SECRET: TEST_SECRETS.KESHLESS_JWT_SECRET,
      KESHLESS_PIN_PEPPER: TEST_SECRETS.KESHLESS_PIN_PEPPER,
      // Generated for the data dir, not in the environment: from dev-secrets.json.
      KESHLESS_BACKUP_KEY: devFile.KESHLESS_BACKUP_KEY,
    });
    // Settings that are not secrets stay out.
    expect(Object.keys(file).every((name) => /SECRET|PASSWORD|PEPPER|KEY/.test(name))).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    // An existing file is never overwritten.
    writeFileSync(out, "mine");
    const again = await dev.deps.runCommand("backup:restore-secrets", { object, out });
    expect(again.ok).toBe(false);
    expect(readFileSync(out, "utf8")).toBe("mine");
  });

  test("a damaged secrets backup restores nothing", async () => {
    const bytes = await dev.deps.storage.backups.read(object);
    bytes[bytes.length - 1]! ^= 1;
    const damaged = object.replace(/-[A-Za-z0-9_-]+\.json\.kbk$/, "-damaged.json.kbk");
    await dev.deps.storage.backups.write(damaged, bytes, "application/octet-stream");
    const out = join(freshDir(), "never.json");
    const restored = await dev.deps.runCommand("backup:restore-secrets", { object: damaged, out });
    expect(restored.ok).toBe(false);
    expect((restored.result as any).error).toContain("does not verify");
    expect(existsSync(out)).toBe(false);
  });
});

describe("production: Secret Manager", async () => {
  fake.pageSize = 2;
  fake.secrets.set("KESHLESS_JWT_SECRET", [
    "old-jwt-secret-value-000000000000000",
    "jwt-secret-value-111111111111111111",
  ]);
  fake.secrets.set("KESHLESS_JWT_SECRET_DEV", ["dev-jwt-secret-value-2222222222222222"]);
  fake.secrets.set("KESHLESS_DATABASE_URL", ["postgres://keshless:db-password-333@10.0.0.5/keshless"]);
  fake.secrets.set("KESHLESS_PIN_PEPPER", ["pin-pepper-value-4444444444444444444"]);
  fake.secrets.set("other-team-secret", ["not ours"]);
  const prod = await createTestContext({
    KESHLESS_SECRETS_SOURCE: "secret-manager",
    KESHLESS_GCP_PROJECT: "keshless-test",
    KESHLESS_SECRET_MANAGER_ENDPOINT: fake.url,
  });
  let object: string;

  test("the job reads every KESHLESS_* secret's latest version, page after page", async () => {
    const res = await job(prod);
    expect(res.status).toBe(200);
    expect(res.json.summary).toMatchObject({ source: "secret-manager", secrets: 4 });
    object = res.json.summary.object;
    expect(fake.requests.filter((r) => r.path.endsWith("/secrets")).length).toBe(3);
    expect(fake.requests.some((r) => r.path.includes("other-team-secret"))).toBe(false);
    const stored = Buffer.from(await prod.deps.storage.backups.read(object));
    expect(stored.includes(Buffer.from("db-password-333"))).toBe(false);
  });

  test("restore-secrets writes one file per secret into a new folder and prints the gcloud commands", async () => {
    const out = join(freshDir(), "secrets");
    const restored = await prod.deps.runCommand("backup:restore-secrets", { object, out });
    expect(restored.ok).toBe(true);
    const result = restored.result as { commands: string[]; names: string[] };
    expect(result.names).toEqual([
      "KESHLESS_DATABASE_URL",
      "KESHLESS_JWT_SECRET",
      "KESHLESS_JWT_SECRET_DEV",
      "KESHLESS_PIN_PEPPER",
    ]);
    expect(readdirSync(out).sort()).toEqual(result.names);
    expect(readFileSync(join(out, "KESHLESS_JWT_SECRET"), "utf8")).toBe("jwt-secret-value-111111111111111111");
    expect(statSync(join(out, "KESHLESS_JWT_SECRET")).mode & 0o777).toBe(0o600);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(result.commands).toContain(
      `gcloud secrets versions add KESHLESS_JWT_SECRET --project=keshless-test --data-file=${join(out, "KESHLESS_JWT_SECRET")}`,
    );
    // The values are in the files only, never in what is printed.
    expect(JSON.stringify(restored.result)).not.toContain("jwt-secret-value");
    expect(prod.logs.join("\n")).not.toContain("jwt-secret-value");
    // A folder that is not empty is refused.
    expect((await prod.deps.runCommand("backup:restore-secrets", { object, out })).ok).toBe(false);
  });

  test("Secret Manager refusing the project fails the run, storing nothing", async () => {
    const other = await createTestContext({
      KESHLESS_SECRETS_SOURCE: "secret-manager",
      KESHLESS_GCP_PROJECT: "someone-else",
      KESHLESS_SECRET_MANAGER_ENDPOINT: fake.url,
    });
    const res = await job(other);
    expect(res.status).toBe(500);
    const run = await other.deps.jobs.get(res.json.error.details.jobRunId);
    expect(run!.error).toMatch(/PERMISSION_DENIED|Permission denied/);
    expect(await other.deps.operations.backups.list()).toEqual([]);
  });
});
