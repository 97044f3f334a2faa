import { existsSync, readFileSync, statSync } from "node:fs";
import { join, normalize, resolve } from "node:path";

/**
 * Serves a built site the way Cloudflare Pages does, for `bun run preview` and the browser checks: index.html for a
 * folder (a folder without its slash redirects to it), the nearest 404.html with status 404 for anything missing,
 * and the headers of _headers (which itself is not served) — so the checks run under the real CSP.
 */

export interface HeaderRule {
  pattern: string;
  headers: [string, string][];
}

/** The _headers format: a path pattern on its own line, then indented `Name: value` lines; # starts a comment. */
export function parseHeaders(text: string): HeaderRule[] {
  const rules: HeaderRule[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trimStart().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      rules.push({ pattern: line.trim(), headers: [] });
      continue;
    }
    const rule = rules.at(-1);
    const colon = line.indexOf(":");
    if (!rule || colon < 0) throw new Error(`_headers: a header line outside a rule or without a colon: ${line}`);
    rule.headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return rules;
}

/** A Pages URL pattern as a regular expression: `*` matches anything (the splat), `:name` one path segment. */
function patternRegex(pattern: string): RegExp {
  const source = pattern
    .split(/(\*|:[A-Za-z]\w*)/)
    .map((part) => (part === "*" ? ".*" : part.startsWith(":") ? "[^/]+" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`);
}

/** The headers every matching rule attaches to `path`, in file order. */
export function headersFor(rules: HeaderRule[], path: string): Headers {
  const headers = new Headers();
  for (const rule of rules)
    if (patternRegex(rule.pattern).test(path)) for (const [k, v] of rule.headers) headers.append(k, v);
  return headers;
}

export function serveSite(root: string, port = 0) {
  const dir = resolve(root);
  const rulesFile = join(dir, "_headers");
  // Read on first request, not at start: a caller may start the server to learn its origin, then build into it.
  let rules: HeaderRule[] | undefined;
  const currentRules = () => {
    rules ??= existsSync(rulesFile) ? parseHeaders(readFileSync(rulesFile, "utf8")) : [];
    return rules;
  };
  const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

  const respond = (path: string, file: string, status = 200) => {
    const headers = headersFor(currentRules(), path);
    const body = Bun.file(file);
    headers.set("content-type", body.type);
    return new Response(body, { status, headers });
  };

  return Bun.serve({
    port,
    hostname: "127.0.0.1",
    fetch(request) {
      const path = decodeURIComponent(new URL(request.url).pathname);
      const target = normalize(join(dir, path));
      if (!target.startsWith(dir) || path.split("/").includes("_headers"))
        return new Response("Not found", { status: 404 });
      if (path.endsWith("/") && isFile(join(target, "index.html"))) return respond(path, join(target, "index.html"));
      if (!path.endsWith("/") && isFile(join(target, "index.html")))
        return new Response(null, { status: 308, headers: { location: `${path}/` } });
      if (isFile(target)) return respond(path, target);
      // The nearest 404.html up the path, as Pages does.
      const parts = path.split("/").filter(Boolean);
      for (let n = parts.length; n >= 0; n--) {
        const candidate = join(dir, ...parts.slice(0, n), "404.html");
        if (isFile(candidate)) return respond(path, candidate, 404);
      }
      return new Response("Not found", { status: 404 });
    },
  });
}

if (import.meta.main) {
  const root = process.argv[2] ?? resolve(import.meta.dir, "../dist");
  const server = serveSite(root, Number(process.env.PORT ?? 4321));
  console.log(`website: serving ${root} at ${server.url}`);
}
