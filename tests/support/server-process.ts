import { createServer } from "node:net";
import { join } from "node:path";

/**
 * The real server as a separate process (`bun src/index.ts`), for tests and benchmarks that need what an
 * in-process app cannot give: a kill -9, a restart on the same database, the process's own CPU and memory.
 * No bun:test import, so bench/ can use it too.
 */

export const REPO_ROOT = join(import.meta.dir, "../..");

/** A port nobody listens on right now (the OS picks it; we release it for the child to take). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer().once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** The child's environment: only what is given, plus PATH and HOME (never this process's DATABASE_URL & co). */
function childEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env };
}

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  /** stdout + stderr so far (the last `outputLimit` characters). */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGKILL, then waits for the process to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartServerOptions {
  /** Environment of the server (DATABASE_URL, KESHLESS_* …); PORT is set from `port`. */
  env: Record<string, string>;
  port?: number;
  /** The entry file, relative to the repository (default src/index.ts, the production boot). */
  entry?: string;
  /** Flags for bun itself, before the entry (e.g. --cpu-prof-md). */
  bunArgs?: string[];
  readyTimeoutMs?: number;
  outputLimit?: number;
}

/** Spawns `bun src/index.ts` and waits until GET /ready answers 200 (migrations applied, database reachable). */
export async function startServer(options: StartServerOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const limit = options.outputLimit ?? 64 * 1024;
  const proc = Bun.spawn(["bun", ...(options.bunArgs ?? []), options.entry ?? "src/index.ts"], {
    cwd: REPO_ROOT,
    env: childEnv({ ...options.env, PORT: String(port) }),
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      output += decoder.decode(chunk.value, { stream: true });
      if (output.length > 2 * limit) output = output.slice(-limit);
    }
  };
  const drained = Promise.all([collect(proc.stdout), collect(proc.stderr)]).catch(() => {});
  const exited = proc.exited.then(async (code) => {
    await drained;
    return proc.signalCode ? null : code;
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    const status = await fetch(`${url}/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (gone || Date.now() > deadline) {
      proc.kill("SIGKILL");
      await exited;
      throw new Error(
        `server on port ${port} ${gone ? `exited (${proc.exitCode})` : "not ready in time"}:\n${output.slice(-4000)}`,
      );
    }
    await Bun.sleep(50);
  }

  return {
    url,
    port,
    pid: proc.pid,
    output: () => output.slice(-limit),
    exited,
    async kill9() {
      proc.kill("SIGKILL");
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (gone) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** `bun src/cli.ts …` (what `bun run cli …` runs) with `env`; stdout is one JSON object. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  const proc = Bun.spawn(["bun", "src/cli.ts", ...args], {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  let json: any;
  try {
    json = JSON.parse(stdout.trim().split("\n").at(-1) ?? "");
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  json: any;
}

/** One JSON request to a running server. Network failures propagate (the caller decides what "no answer" means). */
export async function api(
  url: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: response.status, headers: response.headers, json };
}

export interface HttpUser {
  id: string;
  phone: string;
  accessToken: string;
  pin: string;
}

/**
 * A user signed in the way the app does it: POST /v1/auth/otp, the code as delivered (`readCode`: from the
 * outbox table, or a fake provider's records), POST /v1/auth/otp/verify, then PUT /v1/me/pin.
 */
export async function signInOverHttp(
  url: string,
  phone: string,
  pin: string,
  readCode: (phone: string) => Promise<string | undefined>,
): Promise<HttpUser> {
  const sent = await api(url, "POST", "/v1/auth/otp", { body: { phone } });
  if (sent.status !== 202) throw new Error(`POST /v1/auth/otp ${phone}: ${sent.status} ${JSON.stringify(sent.json)}`);
  let code: string | undefined;
  for (let i = 0; i < 200 && !code; i++) {
    code = await readCode(phone);
    if (!code) await Bun.sleep(25);
  }
  if (!code) throw new Error(`no OTP code reached ${phone}`);
  let verified = await api(url, "POST", "/v1/auth/otp/verify", { body: { phone, code } });
  // A sign-in that lost a serialization race is 503 with nothing changed: the app would retry it.
  for (let i = 0; i < 5 && verified.status === 503; i++) {
    await Bun.sleep(20 + Math.random() * 50);
    verified = await api(url, "POST", "/v1/auth/otp/verify", { body: { phone, code } });
  }
  if (verified.status !== 200)
    throw new Error(`POST /v1/auth/otp/verify ${phone}: ${verified.status} ${JSON.stringify(verified.json)}`);
  const accessToken = verified.json.accessToken as string;
  const set = await api(url, "PUT", "/v1/me/pin", { token: accessToken, body: { pin } });
  if (set.status !== 204) throw new Error(`PUT /v1/me/pin: ${set.status} ${JSON.stringify(set.json)}`);
  return { id: verified.json.user.id, phone, accessToken, pin };
}

/** The 6-digit code of a message text (an OTP). */
export const codeIn = (text: string | undefined | null) => text?.match(/(?<!\d)\d{6}(?!\d)/)?.[0];
