import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/**
 * The layout's rules (DESIGN.md "Layout"), checked on the source text — type imports included, because a type
 * cycle is still a cycle for whoever reads the code:
 * - the platform (src/db, src/http, src/lib, src/integrations, and src/core.ts and src/config) knows no domain;
 * - a domain uses another only through its public surface: the folder's index.ts, or a schema file (tables
 *   that a foreign key or a join names);
 * - no file imports itself back through any chain;
 * - only the composition root (src/app.ts, src/index.ts, src/cli.ts and scripts) knows the whole system.
 */
const SRC = join(import.meta.dir, "../../src");
const PLATFORM = new Set(["db", "http", "lib", "integrations", "core.ts", "config", "config.ts"]);
const ROOT = new Set(["app.ts", "index.ts", "cli.ts", "modules.ts", "module.ts", "ops/openapi-lint.ts"]);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  return [`${base}.ts`, join(base, "index.ts")].find((candidate) => existsSync(candidate));
}

/** Every relative import (static, type-only, re-export, side effect) of every file under src/, resolved to a file. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const text = readFileSync(file, "utf8");
    const specs = [
      ...text.matchAll(/(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"/g),
      ...text.matchAll(/import\s+"(\.[^"]+)"/g),
      ...text.matchAll(/import\(\s*"(\.[^"]+)"\s*\)/g),
    ].map((m) => m[1]!);
    graph.set(
      relative(SRC, file),
      specs.flatMap((spec) => {
        const target = resolveImport(file, spec);
        return target ? [relative(SRC, target)] : [];
      }),
    );
  }
  return graph;
}

const top = (file: string) => file.split("/")[0]!;
const isPlatform = (file: string) => PLATFORM.has(top(file));
const isDomain = (file: string) => file.includes("/") && !isPlatform(file);

test("the platform imports no domain", () => {
  const crossings = [...importGraph()].flatMap(([file, targets]) =>
    isPlatform(file) ? targets.filter((t) => !isPlatform(t)).map((t) => `${file} -> ${t}`) : [],
  );
  expect(crossings).toEqual([]);
});

test("a domain uses another only through its index.ts or its schema", () => {
  const publicFile = (file: string) => /^[^/]+\/(index|schema|[\w-]+-schema)\.ts$/.test(file);
  const crossings = [...importGraph()].flatMap(([file, targets]) =>
    isDomain(file) && !ROOT.has(file)
      ? targets.filter((t) => isDomain(t) && top(t) !== top(file) && !publicFile(t)).map((t) => `${file} -> ${t}`)
      : [],
  );
  expect(crossings).toEqual([]);
});

test("only the composition root knows the whole system (src/modules.ts)", () => {
  const importers = [...importGraph()]
    .filter(([file, targets]) => targets.includes("modules.ts") && !ROOT.has(file))
    .map(([file]) => file);
  expect(importers).toEqual([]);
});

test("no import cycle among src/ files, type imports included", () => {
  const graph = importGraph();
  // Tarjan's strongly connected components: any component of more than one file (or a self-import) is a cycle.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  expect(cycles).toEqual([]);
});

test("the checks see the tree: a known domain-to-domain import resolves", () => {
  // Guards the guards: if the import parsing broke, every rule above would pass vacuously.
  const graph = importGraph();
  expect(graph.size).toBeGreaterThan(100);
  expect(graph.get("payments/module.ts")).toContain("identity/index.ts");
});

test("one way to declare a route's auth: a secured route names its guard beside its security, never by path", () => {
  const offenders: string[] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, "utf8");
    const name = relative(SRC, file);
    if (/\brouter\.use\(\s*"/.test(text)) offenders.push(`${name}: router.use(path, …)`);
    for (const [, route] of text.matchAll(/createRoute\(\{([\s\S]*?)\n\s*\}\),/g)) {
      const secured = /\bsecurity(?:,|:(?!\s*\[\]))/.test(route!);
      if (secured && !/\bmiddleware:/.test(route!)) offenders.push(`${name}: ${/path: ([^\n]+)/.exec(route!)?.[1]}`);
    }
  }
  expect(offenders).toEqual([]);
});
