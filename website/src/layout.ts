import type { Copy } from "./copy/en";
import { type Content, Html, html } from "./html";

export type Lang = "en" | "ss";
export const LANGS: Lang[] = ["en", "ss"];

/** Every page of the site, by slug; each exists in every language. "" is the home page. */
export const SLUGS = ["", "pay", "fees", "vendors", "safety", "privacy", "terms", "contact"] as const;
export type Slug = (typeof SLUGS)[number];

const NAV: { slug: Slug; key: keyof Copy["nav"] }[] = [
  { slug: "", key: "home" },
  { slug: "pay", key: "pay" },
  { slug: "fees", key: "fees" },
  { slug: "vendors", key: "vendors" },
  { slug: "safety", key: "safety" },
];
const FOOTER: { slug: Slug; key: keyof Copy["nav"] }[] = [
  { slug: "privacy", key: "privacy" },
  { slug: "terms", key: "terms" },
  { slug: "contact", key: "contact" },
];

/** English lives at the root (keshless.com/pay/), siSwati under /ss/ (keshless.com/ss/pay/). */
export function pathOf(lang: Lang, slug: Slug): string {
  const prefix = lang === "en" ? "/" : `/${lang}/`;
  return slug ? `${prefix}${slug}/` : prefix;
}

export interface PageShell {
  lang: Lang;
  /** null for pages outside the sitemap (404), which get no canonical or alternates. */
  slug: Slug | null;
  title: string;
  description: string;
  body: Html;
}

export interface ShellEnv {
  origin: string;
  stylesheet: string;
  copies: Record<Lang, Copy>;
}

/** The document around a page: head (SEO, hreflang), skip link, header navigation, main, footer. */
export function shell(page: PageShell, env: ShellEnv): string {
  const t = env.copies[page.lang];
  const other: Lang = page.lang === "en" ? "ss" : "en";
  const url = (lang: Lang, slug: Slug) => `${env.origin}${pathOf(lang, slug)}`;
  const current = (slug: Slug) => (slug === page.slug ? new Html(' aria-current="page"') : "");
  const link = (slug: Slug, key: keyof Copy["nav"]): Content =>
    html`<li><a href="${pathOf(page.lang, slug)}"${current(slug)}>${t.nav[key]}</a></li>`;

  const seo =
    page.slug === null
      ? html`<meta name="robots" content="noindex">`
      : html`<link rel="canonical" href="${url(page.lang, page.slug)}">
<link rel="alternate" hreflang="en" href="${url("en", page.slug)}">
<link rel="alternate" hreflang="ss" href="${url("ss", page.slug)}">
<link rel="alternate" hreflang="x-default" href="${url("en", page.slug)}">
<meta property="og:type" content="website">
<meta property="og:site_name" content="Keshless">
<meta property="og:title" content="${page.title}">
<meta property="og:description" content="${page.description}">
<meta property="og:url" content="${url(page.lang, page.slug)}">
<meta property="og:locale" content="${page.lang === "en" ? "en_SZ" : "ss_SZ"}">`;

  const switchTo = page.slug === null ? pathOf(other, "") : pathOf(other, page.slug);

  return html`<!doctype html>
<html lang="${page.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<meta name="description" content="${page.description}">
${seo}
<meta name="theme-color" content="#0b6e4f">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${env.stylesheet}">
</head>
<body>
<a class="skip" href="#main">${t.skip}</a>
<header class="site">
<div class="bar">
<a class="brand" href="${pathOf(page.lang, "")}">Keshless <span class="tagline">${t.brandTagline}</span></a>
<a class="lang" href="${switchTo}" hreflang="${other}" lang="${other}">${env.copies[other].languageName}</a>
</div>
<nav aria-label="${t.navLabel}"><ul>${NAV.map((n) => link(n.slug, n.key))}</ul></nav>
</header>
<main id="main" tabindex="-1">
${page.body}
</main>
<footer class="site">
<nav aria-label="${t.footerLabel}"><ul>${FOOTER.map((n) => link(n.slug, n.key))}</ul></nav>
<p>© Keshless · ${t.brandTagline}</p>
</footer>
</body>
</html>
`.value;
}
