/**
 * Serves dist/ the way Cloudflare Pages does: files as they are, every other path the SPA's index.html, and the
 * headers public/_headers declares (so the e2e runs under the Content-Security-Policy production sends).
 * `bun run preview [port]` after `bun run build`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, normalize } from "node:path";

const DIST = join(import.meta.dir, "../dist");

/** Pages' _headers: a path pattern line, then indented "Name: value" lines; `*` matches anything. */
export function parseHeaders(text: string): { pattern: RegExp; headers: [string, string][] }[] {
  const rules: { pattern: RegExp; headers: [string, string][] }[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trimStart().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      const source = line
        .trim()
        .replace(/[.+?^${}()|[\]\\]/g, "\\$&")
        .replaceAll("*", ".*");
      rules.push({ pattern: new RegExp(`^${source}$`), headers: [] });
    } else {
      const at = line.indexOf(":");
      rules.at(-1)?.headers.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
    }
  }
  return rules;
}

export function serveDist(port: number, hostname = "127.0.0.1") {
  const rules = parseHeaders(readFileSync(join(DIST, "_headers"), "utf8"));
  return Bun.serve({
    port,
    hostname,
    fetch(request) {
      const path = decodeURIComponent(new URL(request.url).pathname);
      const file = normalize(join(DIST, path));
      const found = file.startsWith(DIST) && existsSync(file) && statSync(file).isFile() && !path.endsWith("/_headers");
      const response = new Response(Bun.file(found ? file : join(DIST, "index.html")));
      // Later rules override earlier ones for the same header, as on Pages when both match.
      for (const rule of rules)
        if (rule.pattern.test(path)) for (const [name, value] of rule.headers) response.headers.set(name, value);
      return response;
    },
  });
}

if (import.meta.main) {
  const port = Number(process.argv[2] ?? 4173);
  serveDist(port, "localhost");
  console.log(`dist/ on http://localhost:${port}`);
}
