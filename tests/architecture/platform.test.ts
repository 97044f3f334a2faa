import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

/**
 * The platform (src/db, src/http, src/lib) knows no domain: a domain builds on it, never the reverse, so any
 * domain can be read, tested and replaced on its own. Every relative import of a platform file, type imports
 * included, must stay inside the platform (or reach config, the core every layer reads).
 *
 * KNOWN is what is left of the old layout (issue 12), each with where it is going; the test fails on a new
 * crossing, and on a listed one that is gone (so the list only shrinks).
 */
const SRC = join(import.meta.dir, "../../src");
const PLATFORM = ["db", "http", "lib"];
const CORE = ["config.ts"];
const KNOWN = new Set([
  // The request context carries the whole-world Deps: replaced by each module's own typed dependencies.
  "http/context.ts -> deps",
  "http/middleware.ts -> deps",
]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

function crossings(): string[] {
  const found: string[] = [];
  for (const layer of PLATFORM)
    for (const file of files(join(SRC, layer))) {
      const text = readFileSync(file, "utf8");
      for (const [, spec] of text.matchAll(/(?:import|export)[^;]*?from\s+"(\.[^"]+)"/g)) {
        const target = relative(SRC, join(file, "..", spec!));
        const top = target.split("/")[0]!;
        if (PLATFORM.includes(top) || CORE.includes(`${top}.ts`) || CORE.includes(top)) continue;
        found.push(`${relative(SRC, file)} -> ${target}`);
      }
    }
  return found.sort();
}

test("db, http and lib import no domain (beyond the known crossings still being moved)", () => {
  const found = crossings();
  expect(found.filter((c) => !KNOWN.has(c))).toEqual([]);
  expect([...KNOWN].filter((c) => !found.includes(c))).toEqual([]);
});
