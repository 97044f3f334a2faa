import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { en } from "./copy/en";
import { ss } from "./copy/ss";
import { type Facts, loadFacts } from "./facts";
import { LANGS, type Lang, type PageShell, pathOf, SLUGS, shell } from "./layout";
import { notFound, page, type SiteSettings } from "./pages";

/**
 * `bun run build` (in website/): the static site for Cloudflare Pages, into dist/. Every page in English (at the
 * root) and siSwati (under /ss/), the 404 pages, sitemap.xml, robots.txt, the stylesheet under a content hash
 * (cached for good) and public/ (_headers, the icon) copied as they are. No JavaScript is shipped.
 */

export const WEBSITE_DIR = resolve(import.meta.dir, "..");
export const DEFAULT_ORIGIN = "https://keshless.com";
export const DEFAULT_SITE: SiteSettings = { email: "support@keshless.com" };

export interface BuildOptions {
  outDir: string;
  /** The site's public origin, for canonical links, hreflang and the sitemap. */
  origin?: string;
  /** Environment the money and USSD figures are read from (only the variables facts.ts names). */
  env?: Record<string, string | undefined>;
  site?: SiteSettings;
}

export interface BuiltPage {
  lang: Lang;
  slug: string | null;
  /** URL path, "/ss/fees/". */
  path: string;
  /** File under outDir, "ss/fees/index.html". */
  file: string;
}

export interface BuildResult {
  outDir: string;
  origin: string;
  facts: Facts;
  pages: BuiltPage[];
  stylesheet: string;
}

const copies = { en, ss };

export function buildSite(options: BuildOptions): BuildResult {
  const outDir = resolve(options.outDir);
  const origin = (options.origin ?? DEFAULT_ORIGIN).replace(/\/$/, "");
  const facts = loadFacts(options.env ?? {});
  const site = options.site ?? DEFAULT_SITE;

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(join(WEBSITE_DIR, "public"), outDir, { recursive: true });

  const css = readFileSync(join(WEBSITE_DIR, "src/style.css"), "utf8");
  const stylesheet = `/assets/site.${createHash("sha256").update(css).digest("hex").slice(0, 10)}.css`;
  write(outDir, stylesheet.slice(1), css);

  const env = { origin, stylesheet, copies };
  const pages: BuiltPage[] = [];
  const emit = (shellPage: PageShell, file: string, path: string) => {
    write(outDir, file, shell(shellPage, env));
    pages.push({ lang: shellPage.lang, slug: shellPage.slug, path, file });
  };

  for (const lang of LANGS) {
    const ctx = { lang, t: copies[lang], facts, site };
    for (const slug of SLUGS) {
      const path = pathOf(lang, slug);
      emit(page(slug, ctx), `${path.slice(1)}index.html`, path);
    }
    // Pages serves the nearest 404.html up the path: /ss/… misses get the siSwati one.
    const prefix = pathOf(lang, "");
    emit(notFound(ctx), `${prefix.slice(1)}404.html`, `${prefix}404.html`);
  }

  write(outDir, "sitemap.xml", sitemap(origin));
  write(outDir, "robots.txt", `User-agent: *\nAllow: /\n\nSitemap: ${origin}/sitemap.xml\n`);
  return { outDir, origin, facts, pages, stylesheet };
}

function sitemap(origin: string): string {
  const urls = LANGS.flatMap((lang) =>
    SLUGS.map((slug) => {
      const alternates = LANGS.map(
        (alt) => `    <xhtml:link rel="alternate" hreflang="${alt}" href="${origin}${pathOf(alt, slug)}"/>`,
      ).join("\n");
      return `  <url>\n    <loc>${origin}${pathOf(lang, slug)}</loc>\n${alternates}\n    <xhtml:link rel="alternate" hreflang="x-default" href="${origin}${pathOf("en", slug)}"/>\n  </url>`;
    }),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n${urls.join("\n")}\n</urlset>\n`;
}

function write(outDir: string, file: string, text: string) {
  const target = join(outDir, file);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
}

if (import.meta.main) {
  const outDir = process.argv[2] ?? join(WEBSITE_DIR, "dist");
  const result = buildSite({ outDir, origin: process.env.KESHLESS_SITE_ORIGIN ?? DEFAULT_ORIGIN, env: process.env });
  console.log(`website: ${result.pages.length} pages into ${result.outDir} (${result.origin})`);
}
