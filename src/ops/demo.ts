import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * `bun run demo`: everything a newcomer needs to see Keshless working, in one command, on the embedded default —
 * the dashboard built (once, and again when its sources change), the demo data seeded (admins with their TOTP
 * secrets, vendors, funded users, a KYC submission in review), then the API on :8080 (`bun run start`) and the
 * built dashboard on :5173, served as Pages serves it (dashboard/scripts/serve.ts) from the origin the API's CORS
 * allows by default. Ctrl-C stops both. `bun run start` alone stays the API and nothing else.
 */

const ROOT = join(import.meta.dir, "../..");
const DASHBOARD = join(ROOT, "dashboard");
const DASHBOARD_PORT = 5173;

function run(cmd: string[], cwd: string): void {
  const result = Bun.spawnSync(cmd, { cwd, stdout: "inherit", stderr: "inherit", env: process.env });
  if (result.exitCode !== 0) {
    console.error(`demo: \`${cmd.join(" ")}\` failed (exit ${result.exitCode})`);
    process.exit(result.exitCode ?? 1);
  }
}

/** The newest modification time under `dir` (sources only: no node_modules, no dist). */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function buildDashboard() {
  if (!existsSync(join(DASHBOARD, "node_modules"))) run(["bun", "install", "--frozen-lockfile"], DASHBOARD);
  const built = join(DASHBOARD, "dist", "index.html");
  const stale = !existsSync(built) || statSync(built).mtimeMs < newest(DASHBOARD);
  if (stale) run(["bun", "run", "build"], DASHBOARD);
  else console.error("demo: dashboard/dist is up to date");
}

buildDashboard();
// Before the API starts: the CLI then owns the embedded database for the moment it takes.
run(["bun", "src/cli.ts", "seed"], ROOT);

const api = Bun.spawn(["bun", "src/index.ts"], { cwd: ROOT, stdout: "inherit", stderr: "inherit", env: process.env });
const dashboard = Bun.spawn(["bun", "scripts/serve.ts", String(DASHBOARD_PORT)], {
  cwd: DASHBOARD,
  stdout: "inherit",
  stderr: "inherit",
});
console.error(
  `demo: the API on http://localhost:${process.env.PORT ?? 8080}, the dashboard on http://localhost:${DASHBOARD_PORT} — ` +
    "sign in as admin@keshless.local / keshless-demo-admin with a code for the totpSecret printed above (Ctrl-C stops both)",
);

const stop = (signal: NodeJS.Signals) => {
  api.kill(signal);
  dashboard.kill(signal);
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
// Either one ending ends the demo: a dashboard without its API (or the reverse) is no demo.
const first = await Promise.race([api.exited, dashboard.exited]);
stop("SIGTERM");
await Promise.all([api.exited, dashboard.exited]);
process.exit(first);
