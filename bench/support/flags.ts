/**
 * `--name=value` / `--name` flags of a bench, checked against the names it knows. `num` reads a number with
 * a default and a lower bound; errors name the bench and the flag.
 */
export function parseFlags(bench: string, args: string[], known: readonly string[]) {
  const flags = new Map<string, string>();
  for (const arg of args) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || !known.includes(m[1]!))
      throw new Error(`bench ${bench}: unknown flag ${arg} (known: --${known.join(", --")})`);
    flags.set(m[1]!, m[2] ?? "true");
  }
  const num = (name: string, fallback: number, min: number) => {
    const raw = flags.get(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`bench ${bench}: --${name} must be a number ≥ ${min}`);
    return value;
  };
  return { flags, num };
}
