import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/cli";
import { totpCode, totpStep } from "../../src/identity/secrets";
import { buildSystem } from "../../src/modules";
import { latestCode } from "../support/factories";
import { createTestContext } from "../support/harness";

/** `bun run seed`: demo data through the real services, safe to run twice, and everything it prints works. */
const t = await createTestContext();

describe("seed", () => {
  test("creates admins, vendors, a partner and funded users; every printed credential signs in", async () => {
    const { result, ok } = await runCommand(t.deps, "seed", {});
    const out = result as any;
    expect(ok).toBe(true);
    expect(out.existing).toEqual([]);
    expect(out.admins.accounts).toHaveLength(2);
    expect(out.vendors.accounts).toHaveLength(3);
    expect(out.users.accounts.map((u: any) => u.balance)).toEqual([50_000, 25_000, 10_000]);
    expect((await t.deps.ledger.verify()).problems).toEqual([]);

    const admin = out.admins.accounts[0];
    expect(admin.role).toBe("super_admin");
    const login = await t.request("POST", "/admin/v1/auth/login", {
      body: { email: admin.email, password: admin.password, totp: totpCode(admin.totpSecret, totpStep(new Date())) },
    });
    expect(login.status).toBe(200);

    const me = await t.request("GET", "/partner/v1/me", { headers: { "x-api-key": out.partner.apiKey } });
    expect(me.json.id).toBe(out.partner.id);

    const user = out.users.accounts[0];
    await t.request("POST", "/v1/auth/otp", { body: { phone: user.phone } });
    const session = await t.request("POST", "/v1/auth/otp/verify", {
      body: { phone: user.phone, code: await latestCode(t, user.phone) },
    });
    expect(session.status).toBe(200);
    const paid = await t.request("POST", "/v1/payments", {
      token: session.json.accessToken,
      headers: { "idempotency-key": "seed-try-1" },
      body: { vendorCode: out.vendors.accounts[0].code, amount: 1_000, currency: "SZL", pin: user.pin },
    });
    expect(paid.status).toBe(201);

    const vendor = out.vendors.accounts[0];
    const vendorLogin = await t.request("POST", "/v1/vendor/auth/login", {
      body: { email: vendor.email, password: vendor.password, deviceId: "seed-test" },
    });
    expect(vendorLogin.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
    expect(statSync(join(t.config.dataDir, "seed.json")).mode & 0o777).toBe(0o600);
  });

  test("a second run reports what exists, prints the same credentials, and changes no balance", async () => {
    const first = (await runCommand(t.deps, "seed", {})).result as any;
    expect(first.created).toEqual([]);
    expect(first.existing).toHaveLength(2 + 3 + 1 + 3);
    expect(first.admins.accounts[0].totpSecret).toMatch(/^[A-Z2-7]{32}$/);
    expect(first.users.accounts[0].balance).toBe(50_000 - 1_050);
    expect((await t.deps.ledger.verify()).problems).toEqual([]);
  });

  test("as a process against a fresh embedded data dir, then ledger:verify", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keshless-seed-"));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      KESHLESS_DATA_DIR: dir,
      KESHLESS_ARGON2_MEMORY_KIB: "1024",
      KESHLESS_ARGON2_TIME_COST: "1",
      LOG_LEVEL: "warn",
    };
    const run = (command: string) => {
      const proc = Bun.spawnSync(["bun", "src/cli.ts", command], { env, cwd: join(import.meta.dir, "../..") });
      return { code: proc.exitCode, out: JSON.parse(proc.stdout.toString()) };
    };
    try {
      const first = run("seed");
      expect(first.code).toBe(0);
      expect(first.out.created).toHaveLength(9);
      expect(first.out.partner.apiKey).toMatch(/^kl_test_/);
      const verify = run("ledger:verify");
      expect(verify.code).toBe(0);
      expect(verify.out.ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("refuses to run in production", async () => {
    // A system built over this database whose configuration says production (commands run over their module's services).
    const production = await buildSystem(
      { ...t.config, env: "production" },
      { database: t.deps.database, logger: t.deps.logger },
    );
    await expect(runCommand(production, "seed", {})).rejects.toThrow(/never in production/);
  });
});
