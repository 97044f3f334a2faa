import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { SQL } from "bun";
import { type ApiServer, freePort, ROOT, startApi } from "../scripts/api-server";
import { serveDist } from "../scripts/serve";

export const DASHBOARD = join(import.meta.dir, "..");
export const ARTIFACTS = join(import.meta.dir, "artifacts");
/** `X-Job-Secret` of the API under test: the e2e generates today's reports by hand. */
export const JOB_SECRET = `e2e-${randomBytes(16).toString("hex")}`;

export interface SeededAdmin {
  email: string;
  password: string;
  role: string;
  totpSecret: string;
}

export interface Stack {
  api: ApiServer;
  dashboardUrl: string;
  admins: { admin: SeededAdmin; finance: SeededAdmin; support: Omit<SeededAdmin, "totpSecret"> };
  users: { name: string; phone: string; balance: number }[];
  stop(): Promise<void>;
}

async function run(command: string[], options: { cwd: string; env: Record<string, string> }): Promise<string> {
  const child = Bun.spawn(command, { ...options, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}: ${err.slice(-2000)}`);
  return out;
}

/** A Postgres database of its own under DATABASE_URL's server, dropped afterwards. */
async function freshDatabase(url: string) {
  const name = `keshless_e2e_${randomBytes(5).toString("hex")}`;
  const admin = new SQL(url);
  await admin.unsafe(`create database ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.close();
    },
  };
}

/**
 * The dashboard against a real API: dist/ built for this API's URL, the API (`bun src/index.ts`) on a fresh
 * database — a new Postgres database when DATABASE_URL is set, else PGlite in a temporary data dir — seeded by
 * `bun run seed` plus a support admin from the CLI, and dist/ served with the headers Pages would send.
 */
export async function startStack(): Promise<Stack> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const apiPort = freePort();
  const dashboardPort = freePort();
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  const base = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp" };

  await run(["bun", "run", "build"], { cwd: DASHBOARD, env: { ...base, VITE_API_URL: apiUrl } });

  const database = process.env.DATABASE_URL ? await freshDatabase(process.env.DATABASE_URL) : undefined;
  const api = await startApi({
    port: apiPort,
    ...(database ? { databaseUrl: database.url } : {}),
    log: join(ARTIFACTS, "api.log"),
    env: {
      KESHLESS_DASHBOARD_ORIGIN: dashboardUrl,
      KESHLESS_JOB_SECRET: JOB_SECRET,
      KESHLESS_PUBLIC_URL: apiUrl,
      // The seed's deposits (E100 to E500) are then "large": each opens an AML alert to close.
      KESHLESS_AML_CASH_THRESHOLD: "10000",
      KESHLESS_AML_MONITOR_INTERVAL_MS: "500",
      KESHLESS_KYC_WORKER_INTERVAL_MS: "500",
    },
  });
  const cli = (args: string[]) => run(["bun", "src/cli.ts", ...args], { cwd: ROOT, env: api.env });
  const seeded = JSON.parse(await cli(["seed"]));
  const support = { email: "support@keshless.local", password: "keshless-demo-support", role: "support" };
  await cli(["admin:create", "--email", support.email, "--password", support.password, "--role", "support"]);
  const byRole = (role: string) => seeded.admins.accounts.find((a: SeededAdmin) => a.role === role) as SeededAdmin;
  const server = serveDist(dashboardPort);
  return {
    api,
    dashboardUrl,
    admins: { admin: byRole("super_admin"), finance: byRole("finance"), support },
    users: seeded.users.accounts,
    async stop() {
      server.stop(true);
      await api.stop();
      await database?.drop();
    },
  };
}
