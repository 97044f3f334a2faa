import type { FileSink } from "bun";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "../db/client";

/**
 * The dump tools: pg_dump and pg_restore (postgresql-client, at least the server's major version) for Postgres,
 * and PGlite's own WASM pg_dump for the embedded default. Connection passwords travel in the child's
 * environment (PGPASSWORD), never in its arguments, so they are not in `ps` or any error message.
 */

/** A dump or restore tool that is missing, too old, or failed: the run fails with this message. */
export class BackupToolError extends Error {
  override name = "BackupToolError";
}

const STDERR_LIMIT = 4000;

/** A libpq connection: the URL without its password (for argv), and the password for PGPASSWORD. */
export function libpqTarget(url: string): { dbname: string; env: Record<string, string> } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = "";
  return { dbname: parsed.toString(), env: password ? { PGPASSWORD: password } : {} };
}

function spawn(path: string, args: string[], options: { env?: Record<string, string>; stdin?: "pipe" | "ignore" }) {
  try {
    return Bun.spawn([path, ...args], {
      stdin: options.stdin ?? "ignore",
      stdout: "pipe",
      stderr: "pipe",
      // The environment it would inherit anyway, plus the password kept out of its arguments.
      env: { ...process.env, ...options.env },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new BackupToolError(
      code === "ENOENT" || code === "EACCES" || /not found|no such file/i.test(String(error))
        ? `${path} was not found or cannot be run`
        : `${path} could not be started: ${(error as Error).message}`,
    );
  }
}

/** The first STDERR_LIMIT characters a child wrote to stderr (all of it is read, so it never blocks on a full pipe). */
async function stderrText(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read())
    if (text.length < STDERR_LIMIT) text += decoder.decode(next.value, { stream: true });
  return text.slice(0, STDERR_LIMIT).trim();
}

export interface ToolVersion {
  major: number;
  text: string;
}

/** `<tool> --version` → its major version ("pg_dump (PostgreSQL) 15.20 (Debian 15.20-1)" → 15). */
export async function toolVersion(path: string, tool: string): Promise<ToolVersion> {
  const proc = spawn(path, ["--version"], {});
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), stderrText(proc.stderr), proc.exited]);
  if (code === 127 || (code !== 0 && /not found|no such file/i.test(err)))
    throw new BackupToolError(`${path} was not found or cannot be run`);
  if (code !== 0) throw new BackupToolError(`${path} --version failed (exit ${code}): ${err}`);
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(out);
  if (!m)
    throw new BackupToolError(
      `${path} --version printed no PostgreSQL version (${JSON.stringify(out.trim().split("\n")[0])}): is it ${tool}?`,
    );
  return { major: Number(m[1]), text: `${m[1]}${m[2] ? `.${m[2]}` : ""}` };
}

/** The server's major version (server_version_num 150020 → 15). */
export async function serverMajor(database: Database): Promise<number> {
  const [row] = await queryRows<{ v: number | string }>(
    database.db,
    sql`select current_setting('server_version_num')::int as v`,
  );
  return Math.floor(Number(row!.v) / 10_000);
}

/**
 * Refuses a tool that is missing or older than the server: pg_dump refuses an older one itself, but only once a
 * run is under way; pg_restore may not read what a newer pg_dump wrote. Named by its variable, so the message
 * says what to change.
 */
export async function checkTool(
  path: string,
  tool: "pg_dump" | "pg_restore",
  variable: string,
  server: number,
): Promise<ToolVersion> {
  let version: ToolVersion;
  try {
    version = await toolVersion(path, tool);
  } catch (error) {
    throw new BackupToolError(
      `${tool} is missing or unusable: ${(error as Error).message}. Install postgresql-client-${server} (the server is PostgreSQL ${server}) or point ${variable} at its ${tool}.`,
    );
  }
  if (version.major < server)
    throw new BackupToolError(
      `${tool} at ${path} is version ${version.text}, older than the server (PostgreSQL ${server}): install postgresql-client-${server} or newer, or point ${variable} at one.`,
    );
  return version;
}

/**
 * `pg_dump --format=custom` of `url`, as a stream of its stdout. The stream ends normally only when pg_dump
 * exited 0; otherwise it errors with pg_dump's message, so nothing downstream mistakes part of a dump for one.
 */
export function pgDumpStream(path: string, url: string): { stream: ReadableStream<Uint8Array>; kill(): void } {
  const { dbname, env } = libpqTarget(url);
  const proc = spawn(path, ["--format=custom", "--no-password", `--dbname=${dbname}`], { env });
  const errors = stderrText(proc.stderr);
  const exited = new TransformStream<Uint8Array, Uint8Array>({
    async flush() {
      const code = await proc.exited;
      if (code !== 0) throw new BackupToolError(`pg_dump failed (exit ${code}): ${await errors}`);
    },
  });
  return {
    stream: proc.stdout.pipeThrough(exited),
    kill: () => {
      if (proc.exitCode === null) proc.kill("SIGKILL");
    },
  };
}

/**
 * `pg_restore --single-transaction --exit-on-error` into `url`, fed from `source`. The restore commits only when
 * pg_restore has read the whole archive; if `source` fails first (a chunk that does not authenticate), pg_restore
 * is killed before its commit, its connection drops, and the target is left as it was.
 */
export async function pgRestore(path: string, url: string, source: ReadableStream<Uint8Array>): Promise<void> {
  const { dbname, env } = libpqTarget(url);
  const proc = spawn(
    path,
    ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--no-password", `--dbname=${dbname}`],
    { env, stdin: "pipe" },
  );
  const errors = stderrText(proc.stderr);
  void new Response(proc.stdout).arrayBuffer();
  const failed = async (code: number) => new BackupToolError(`pg_restore failed (exit ${code}): ${await errors}`);
  const stdin = proc.stdin as FileSink;
  const reader = source.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      stdin.write(next.value);
      await stdin.flush();
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    // pg_restore stopping on an error closes its stdin under us: report its error, not the broken pipe.
    if (proc.exitCode !== null && proc.exitCode !== 0) throw await failed(proc.exitCode);
    proc.kill("SIGKILL");
    await proc.exited;
    throw error;
  }
  try {
    await stdin.end();
  } catch {
    // Already closed by pg_restore; its exit code says how it went.
  }
  const code = await proc.exited;
  if (code !== 0) throw await failed(code);
}
