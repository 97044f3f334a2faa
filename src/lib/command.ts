/**
 * An operator command (`bun run cli <name> --flag value …`), declared by the module whose services it runs
 * over. Prints one JSON object; `ok: false` exits 1.
 */
export type Flags = Record<string, string>;

export interface Command<Services> {
  describe: string;
  /** The `--name value` flags the command takes (every value a string); any other is refused. */
  flags?: string[];
  run: (services: Services, flags: Flags) => Promise<{ result: unknown; ok?: boolean }>;
}

export class CliError extends Error {}

export function requireFlag(flags: Flags, name: string): string {
  const value = flags[name];
  if (!value) throw new CliError(`--${name} is required`);
  return value;
}
