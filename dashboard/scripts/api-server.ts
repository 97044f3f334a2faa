import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

/** The repository root: the API this dashboard is a view of. */
export const ROOT = resolve(import.meta.dir, "../..");

export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

export interface ApiServer {
  url: string;
  dataDir: string;
  env: Record<string, string>;
  process: Subprocess;
  stop(): Promise<void>;
}

/**
 * `bun src/index.ts` — the API exactly as `bun run start` serves it — on a fresh data dir and, with a database
 * URL, on that database. Only the variables given here reach it (plus PATH and HOME), so what the developer has
 * exported cannot change what it serves.
 */
export async function startApi(
  options: { env?: Record<string, string>; databaseUrl?: string; log?: string; port?: number } = {},
): Promise<ApiServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "keshless-dashboard-"));
  const port = options.port ?? freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? dataDir,
    PORT: String(port),
    KESHLESS_DATA_DIR: dataDir,
    KESHLESS_ENV: "development",
    LOG_LEVEL: "warn",
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...options.env,
  };
  const child = Bun.spawn(["bun", "src/index.ts"], {
    cwd: ROOT,
    env,
    stdout: options.log ? Bun.file(options.log) : "ignore",
    stderr: options.log ? Bun.file(`${options.log}.err`) : "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error("the API was not ready within 60 s");
    }
    await Bun.sleep(250);
  }
  return {
    url,
    dataDir,
    env,
    process: child,
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
