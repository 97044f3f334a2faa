import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type Config, loadConfig } from "./config";
import { migrate } from "./db/migrate";
import { createLogger } from "./http/logger";
import { CliError, type Flags } from "./lib/command";
import { buildSystem, commandCatalog, type System } from "./modules";

/**
 * `bun run cli <command> [--flag value …]`: operator commands. Each prints one JSON object on stdout
 * and exits non-zero on failure. Logs go to stderr so stdout stays machine-readable.
 */

const commands = commandCatalog();

/** Runs one command over an existing system (the CLI process, or a server on behalf of one). */
export function runCommand(system: System, name: string, flags: Flags): Promise<{ result: unknown; ok: boolean }> {
  return system.runCommand(name, flags);
}

/**
 * The embedded database (PGlite) belongs to one process. While `bun run start` holds it, the server
 * leaves its address in the data dir and CLI commands run inside that server (POST /dev/cli, guarded by
 * the job secret, development only) instead of opening a second, diverging copy of the database.
 */
const serverFile = (config: Pick<Config, "dataDir">) => join(config.dataDir, "server.json");

export function announceEmbeddedServer(config: Config, port: number) {
  writeFileSync(serverFile(config), JSON.stringify({ pid: process.pid, port }), { mode: 0o600 });
}

export function withdrawEmbeddedServer(config: Config) {
  rmSync(serverFile(config), { force: true });
}

function runningEmbeddedServer(config: Config): { port: number } | undefined {
  if (config.databaseUrl || !existsSync(serverFile(config))) return undefined;
  try {
    const { pid, port } = JSON.parse(readFileSync(serverFile(config), "utf8"));
    process.kill(pid, 0);
    return { port };
  } catch {
    return undefined;
  }
}

const printJson = (value: unknown) =>
  console.log(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));

/** `--name value` or `--name=value`, each a flag the command declares (node:util parseArgs, strict). */
function parseFlags(command: { flags?: string[] }, args: string[]): Flags {
  try {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries((command.flags ?? []).map((flag) => [flag, { type: "string" as const }])),
      strict: true,
      allowPositionals: false,
    });
    return values as Flags;
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? commands[name] : undefined;
  if (!command) {
    const usage = Object.fromEntries(Object.entries(commands).map(([n, c]) => [n, c.describe]));
    console.log(
      JSON.stringify({ ok: false, error: name ? `unknown command ${name}` : "no command given", commands: usage }),
    );
    return 2;
  }
  let system: System | undefined;
  try {
    const flags = parseFlags(command, rest);
    const config = loadConfig();
    const server = runningEmbeddedServer(config);
    if (server) {
      const response = await fetch(`http://127.0.0.1:${server.port}/dev/cli`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-job-secret": config.secrets.job },
        body: JSON.stringify({ command: name, flags }),
      });
      const body = (await response.json()) as { result?: unknown; ok?: boolean; error?: { message: string } };
      if (!response.ok) throw new CliError(body.error?.message ?? `server answered ${response.status}`);
      printJson(body.result);
      return body.ok ? 0 : 1;
    }
    system = await buildSystem(config, { logger: createLogger(config, process.stderr as never) });
    if (name !== "db:migrate") await migrate(system.database);
    const { result, ok } = await system.runCommand(name!, flags);
    printJson(result);
    return ok ? 0 : 1;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.log(JSON.stringify({ ok: false, error: message }));
    return 1;
  } finally {
    await system?.database.close();
  }
}

if (import.meta.main) {
  process.exit(await runCli(process.argv.slice(2)));
}
