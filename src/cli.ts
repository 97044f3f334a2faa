import { loadConfig } from "./config";
import { migrate } from "./db/migrate";
import { buildDeps, type Deps } from "./deps";
import { createLogger } from "./http/logger";

/**
 * `bun run cli <command> [--flag value …]`: operator commands. Each prints one JSON object on stdout
 * and exits non-zero on failure. Logs go to stderr so stdout stays machine-readable.
 */

type Flags = Record<string, string>;
type Command = { describe: string; run: (deps: Deps, flags: Flags) => Promise<{ result: unknown; ok?: boolean }> };

export class CliError extends Error {}

export function requireFlag(flags: Flags, name: string): string {
  const value = flags[name];
  if (!value) throw new CliError(`--${name} is required`);
  return value;
}

const commands: Record<string, Command> = {
  "db:migrate": {
    describe: "apply every pending migration",
    run: async (deps) => ({ result: { ok: true, ...(await migrate(deps.database)) } }),
  },
  "ledger:verify": {
    describe: "check every ledger invariant; exit 1 when any fails",
    run: async (deps) => {
      const report = await deps.ledger.verify();
      return { result: report, ok: report.ok };
    },
  },
};

/** Later domains register their commands here (admin:create, vendor:create, partner:create, seed …). */
export function registerCommand(name: string, command: Command) {
  commands[name] = command;
}

function parseFlags(args: string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) throw new CliError(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split("=", 2) as [string, string | undefined];
    flags[name] = inline ?? args[++i] ?? "";
  }
  return flags;
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
  let deps: Deps | undefined;
  try {
    const flags = parseFlags(rest);
    const config = loadConfig();
    deps = await buildDeps(config, { logger: createLogger(config, process.stderr as never) });
    if (name !== "db:migrate") await migrate(deps.database);
    const { result, ok = true } = await command.run(deps, flags);
    console.log(JSON.stringify(result, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
    return ok ? 0 : 1;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.log(JSON.stringify({ ok: false, error: message }));
    return 1;
  } finally {
    await deps?.database.close();
  }
}

if (import.meta.main) {
  await import("./commands");
  process.exit(await runCli(process.argv.slice(2)));
}
