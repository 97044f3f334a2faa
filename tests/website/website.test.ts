import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FEES, DEFAULT_KYC_LIMITS, loadConfig } from "../../src/config";
import { computeFee } from "../../src/ledger/fees";
import { catalogs } from "../../src/ussd/catalog";
import { MAX_SCREEN } from "../../src/ussd/text";
import { type BuildResult, buildSite, WEBSITE_DIR } from "../../website/src/build";
import { headersFor, parseHeaders, serveSite } from "../../website/src/serve";

/**
 * The public website (website/), built into a temporary folder as `bun run build` builds it: every page in both
 * languages, its SEO links, links that resolve, no script anywhere, the figures on the pages equal to the API's
 * configuration defaults (and following the configuration when it changes), the USSD screens as the menus render
 * them, and the Pages headers. The browser checks (axe-core, Lighthouse) are `cd website && bun run measure`.
 */

const ORIGIN = "https://keshless.com";
const SLUGS = ["", "pay", "fees", "vendors", "safety", "privacy", "terms", "contact"];
const path = (lang: "en" | "ss", slug: string) => `${lang === "en" ? "/" : "/ss/"}${slug ? `${slug}/` : ""}`;

interface Parsed {
  lang: string | null;
  title: string;
  description: string | null;
  canonical: string | null;
  alternates: Record<string, string>;
  hrefs: string[];
  srcs: string[];
  ids: Set<string>;
  scripts: number;
  h1: number;
  landmarks: Set<string>;
  facts: { name: string; value: string; text: string }[];
  screens: string[];
  langSwitch: { hreflang: string | null; lang: string | null } | null;
}

async function parse(html: string): Promise<Parsed> {
  const p: Parsed = {
    lang: null,
    title: "",
    description: null,
    canonical: null,
    alternates: {},
    hrefs: [],
    srcs: [],
    ids: new Set(),
    scripts: 0,
    h1: 0,
    landmarks: new Set(),
    facts: [],
    screens: [],
    langSwitch: null,
  };
  let fact: Parsed["facts"][number] | undefined;
  let rewriter = new HTMLRewriter()
    .on("html", {
      element(e) {
        p.lang = e.getAttribute("lang");
      },
    })
    .on("title", {
      text(t) {
        p.title += t.text;
      },
    })
    .on('meta[name="description"]', {
      element(e) {
        p.description = e.getAttribute("content");
      },
    })
    .on('link[rel="canonical"]', {
      element(e) {
        p.canonical = e.getAttribute("href");
      },
    })
    .on('link[rel="alternate"]', {
      element(e) {
        p.alternates[e.getAttribute("hreflang")!] = e.getAttribute("href")!;
      },
    })
    .on("[href]", { element: (e) => void p.hrefs.push(e.getAttribute("href")!) })
    .on("[src]", { element: (e) => void p.srcs.push(e.getAttribute("src")!) })
    .on("[id]", { element: (e) => void p.ids.add(e.getAttribute("id")!) })
    .on("script", { element: () => void p.scripts++ })
    .on("h1", { element: () => void p.h1++ })
    .on("a.lang", {
      element(e) {
        p.langSwitch = { hreflang: e.getAttribute("hreflang"), lang: e.getAttribute("lang") };
      },
    })
    .on("data[data-fact]", {
      element(e) {
        fact = { name: e.getAttribute("data-fact")!, value: e.getAttribute("value")!, text: "" };
        p.facts.push(fact);
      },
      text(t) {
        if (fact) fact.text += t.text;
      },
    })
    .on("pre.screen", {
      element: () => void p.screens.push(""),
      text(t) {
        p.screens[p.screens.length - 1] += t.text;
      },
    });
  for (const tag of ["header", "nav", "main", "footer"])
    rewriter = rewriter.on(tag, { element: () => void p.landmarks.add(tag) });
  await rewriter.transform(new Response(html)).text();
  return p;
}

const decodeEntities = (text: string) =>
  text
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");

/** Written independently of the site's formatter: 500000 → "E5,000.00". */
const szl = (cents: number) =>
  `E${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

let dir: string;
let built: BuildResult;
const pages = new Map<string, Parsed>();
const html = new Map<string, string>();

async function buildInto(env: Record<string, string> = {}) {
  const out = mkdtempSync(join(tmpdir(), "keshless-website-"));
  const result = buildSite({ outDir: out, origin: ORIGIN, env });
  const parsed = new Map<string, Parsed>();
  const texts = new Map<string, string>();
  for (const page of result.pages) {
    const text = readFileSync(join(out, page.file), "utf8");
    texts.set(page.path, text);
    parsed.set(page.path, await parse(text));
  }
  return { out, result, parsed, texts };
}

beforeAll(async () => {
  const b = await buildInto();
  dir = b.out;
  built = b.result;
  for (const [k, v] of b.parsed) pages.set(k, v);
  for (const [k, v] of b.texts) html.set(k, v);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = loadConfig({
  KESHLESS_JOB_SECRET: "x".repeat(32),
  KESHLESS_JWT_SECRET: "x".repeat(48),
  KESHLESS_PIN_PEPPER: "x".repeat(48),
});

describe("pages", () => {
  test("every page exists in English and siSwati, marked with its language, one h1 and the landmarks", () => {
    for (const lang of ["en", "ss"] as const)
      for (const slug of SLUGS) {
        const file = join(dir, path(lang, slug).slice(1), "index.html");
        expect(existsSync(file)).toBe(true);
        const p = pages.get(path(lang, slug))!;
        expect(p.lang).toBe(lang);
        expect(p.h1).toBe(1);
        expect([...p.landmarks].sort()).toEqual(["footer", "header", "main", "nav"]);
        expect(p.title.length).toBeGreaterThan(5);
        expect(p.description!.length).toBeGreaterThan(30);
        expect(p.description!.length).toBeLessThanOrEqual(170);
      }
    expect(existsSync(join(dir, "404.html"))).toBe(true);
    expect(existsSync(join(dir, "ss/404.html"))).toBe(true);
  });

  test("the siSwati pages are translated, not copies, and titles and descriptions are unique", () => {
    const titles = new Set<string>();
    const descriptions = new Set<string>();
    for (const slug of SLUGS) {
      const en = pages.get(path("en", slug))!;
      const ss = pages.get(path("ss", slug))!;
      expect(ss.title).not.toBe(en.title);
      expect(ss.description).not.toBe(en.description);
      titles.add(en.title).add(ss.title);
      descriptions.add(en.description!).add(ss.description!);
    }
    expect(titles.size).toBe(SLUGS.length * 2);
    expect(descriptions.size).toBe(SLUGS.length * 2);
  });

  test("canonical and hreflang links pair each page with its translation; the language switch says where it goes", () => {
    for (const lang of ["en", "ss"] as const)
      for (const slug of SLUGS) {
        const p = pages.get(path(lang, slug))!;
        expect(p.canonical).toBe(`${ORIGIN}${path(lang, slug)}`);
        expect(p.alternates).toEqual({
          en: `${ORIGIN}${path("en", slug)}`,
          ss: `${ORIGIN}${path("ss", slug)}`,
          "x-default": `${ORIGIN}${path("en", slug)}`,
        });
        const other = lang === "en" ? "ss" : "en";
        expect(p.langSwitch).toEqual({ hreflang: other, lang: other });
        expect(p.hrefs).toContain(path(other, slug));
      }
  });

  test("every internal link and fragment resolves to a built file or an element", () => {
    for (const [pagePath, p] of pages) {
      for (const href of [...p.hrefs, ...p.srcs]) {
        if (href.startsWith("mailto:")) continue;
        if (href.startsWith(ORIGIN)) continue; // canonical, alternates, og:url: checked above
        expect(href, `${pagePath} links outside: ${href}`).not.toMatch(/^[a-z]+:|^\/\//i);
        if (href.startsWith("#")) {
          expect(p.ids.has(href.slice(1)), `${pagePath}: ${href}`).toBe(true);
          continue;
        }
        expect(href.startsWith("/"), `${pagePath}: relative link ${href}`).toBe(true);
        const file = join(dir, href.endsWith("/") ? `${href}index.html` : href);
        expect(existsSync(file), `${pagePath} → ${href}`).toBe(true);
      }
    }
  });

  test("no script at all: no <script>, no inline handlers, no javascript: URLs, nothing from another origin", () => {
    for (const [pagePath, text] of html) {
      const p = pages.get(pagePath)!;
      expect(p.scripts, pagePath).toBe(0);
      expect(text, pagePath).not.toMatch(/\son[a-z]+\s*=/i);
      expect(text, pagePath).not.toMatch(/javascript:/i);
      expect(p.srcs.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
      expect(p.hrefs.filter((h) => /^(https?:)?\/\//.test(h) && !h.startsWith(ORIGIN))).toEqual([]);
    }
  });

  test("sitemap.xml lists every page with its alternates; robots.txt points to it", () => {
    const sitemap = readFileSync(join(dir, "sitemap.xml"), "utf8");
    const locs = [...sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]);
    expect(locs.sort()).toEqual(
      (["en", "ss"] as const).flatMap((lang) => SLUGS.map((slug) => `${ORIGIN}${path(lang, slug)}`)).sort(),
    );
    expect(sitemap).toContain(`hreflang="ss" href="${ORIGIN}/ss/fees/"`);
    expect(readFileSync(join(dir, "robots.txt"), "utf8")).toContain(`Sitemap: ${ORIGIN}/sitemap.xml`);
  });
});

describe("figures", () => {
  const factsOf = (p: Parsed) => new Map(p.facts.map((f) => [f.name, f]));

  test("fees and limits on the pages equal the API's configuration defaults, in both languages", () => {
    for (const lang of ["en", "ss"] as const) {
      const facts = factsOf(pages.get(path(lang, "fees"))!);
      for (const [tier, limits] of Object.entries(DEFAULT_KYC_LIMITS))
        for (const [key, cents] of Object.entries(limits)) {
          const f = facts.get(`limits.${tier}.${key}`);
          expect(f, `limits.${tier}.${key}`).toBeDefined();
          expect(Number(f!.value)).toBe(cents);
          expect(f!.text).toBe(szl(cents));
        }
      const payment = DEFAULT_FEES.payment!;
      expect(facts.get("fees.payment.bps")!.text).toBe(`${payment.bps / 100}%`);
      expect(Number(facts.get("fees.payment.min")!.value)).toBe(payment.min);
      expect(Number(facts.get("fees.payment.max")!.value)).toBe(payment.max!);
      expect(facts.get("fees.withdrawal.flat")!.text).toBe(szl(DEFAULT_FEES.withdrawal!.flat));
      for (const amount of [2_000, 20_000, 200_000]) {
        const f = facts.get(`fee.payment.${amount}`)!;
        const expected = Number(computeFee(DEFAULT_FEES, "payment", BigInt(amount)).fee);
        expect(Number(f.value)).toBe(expected);
        expect(f.text).toBe(szl(expected));
      }
      expect(Number(facts.get("maxAmount")!.value)).toBe(config.maxAmount);
      expect(Number(facts.get("airtime.min")!.value)).toBe(config.airtime.minAmount);
      expect(Number(facts.get("airtime.max")!.value)).toBe(config.airtime.maxAmount);
      expect(Number(facts.get("cards.fee")!.value)).toBe(config.cards.fee);
      expect(Number(facts.get("withdrawals.autoApproveMax")!.value)).toBe(config.withdrawals.autoApproveMax);
      // Every figure on the page is written as its value says.
      for (const f of facts.values()) if (!f.name.endsWith(".bps")) expect(f.text, f.name).toBe(szl(Number(f.value)));
    }
  });

  test("the USSD walkthrough shows the configured dial code and the menus' own screens, each fitting one screen", () => {
    for (const lang of ["en", "ss"] as const) {
      const p = pages.get(path(lang, "pay"))!;
      const screens = p.screens.map(decodeEntities);
      expect(screens).toContain(catalogs[lang].screen.main);
      expect(screens).toContain(catalogs[lang].screen.language);
      expect(screens).toContain(`${catalogs[lang].screen.sendPhone}\n${catalogs[lang].nav}`);
      expect(screens.length).toBeGreaterThan(15);
      for (const s of screens) expect(s.length, s).toBeLessThanOrEqual(MAX_SCREEN);
      expect(html.get(path(lang, "pay"))).toContain(config.ussd.code);
      expect(html.get(path(lang, ""))).toContain(config.ussd.code);
    }
    expect(config.ussd.code).toBe("*247#");
  });

  test("a build given other fees, limits and dial code publishes those", async () => {
    const other = await buildInto({
      KESHLESS_FEES: JSON.stringify({ payment: { bps: 250, min: 100, max: 2_500, bearer: "receiver" } }),
      KESHLESS_KYC_LIMITS: JSON.stringify({
        "0": { perTransaction: 12_300, daily: 45_600, monthly: 78_900, maxBalance: 99_900 },
      }),
      KESHLESS_USSD_CODE: "*123*4#",
      PATH_TO_NOTHING: "ignored",
    });
    try {
      const facts = factsOf(other.parsed.get("/fees/")!);
      expect(facts.get("fees.payment.bps")!.text).toBe("2.5%");
      expect(Number(facts.get("fee.payment.20000")!.value)).toBe(500);
      expect(Number(facts.get("limits.0.daily")!.value)).toBe(45_600);
      expect(Number(facts.get("limits.1.daily")!.value)).toBe(DEFAULT_KYC_LIMITS["1"]!.daily);
      const pay = other.texts.get("/pay/")!;
      expect(pay).toContain("*123*4#");
      expect(pay).not.toContain("*247#");
      // A receiver-borne payment fee changes what the vendors page promises.
      const vendors = other.texts.get("/vendors/")!;
      expect(vendors).toContain("taken from each payment you receive");
      expect(html.get("/vendors/")).toContain("the customer pays the fee");
    } finally {
      rmSync(other.out, { recursive: true, force: true });
    }
  });
});

describe("Pages configuration", () => {
  test("_headers: a strict CSP with frame-ancestors 'none', HSTS and the other security headers on every path", () => {
    const file = join(dir, "_headers");
    expect(existsSync(file)).toBe(true);
    const rules = parseHeaders(readFileSync(file, "utf8"));
    for (const p of ["/", "/ss/fees/", "/assets/x.css"]) {
      const h = headersFor(rules, p);
      const csp = h.get("content-security-policy")!;
      const directives = new Map(
        csp.split(";").map((d) => {
          const [name, ...values] = d.trim().split(/\s+/);
          return [name!, values.join(" ")];
        }),
      );
      expect(directives.get("default-src")).toBe("'none'");
      expect(directives.get("frame-ancestors")).toBe("'none'");
      expect(directives.get("base-uri")).toBe("'none'");
      expect(directives.get("form-action")).toBe("'none'");
      expect(directives.has("script-src")).toBe(false);
      expect(csp).not.toContain("unsafe");
      expect(Number(/max-age=(\d+)/.exec(h.get("strict-transport-security")!)![1])).toBeGreaterThanOrEqual(31_536_000);
      expect(h.get("x-content-type-options")).toBe("nosniff");
      expect(h.get("x-frame-options")).toBe("DENY");
      expect(h.get("referrer-policy")).toBeTruthy();
    }
    expect(headersFor(rules, built.stylesheet).get("cache-control")).toContain("immutable");
    expect(headersFor(rules, "/fees/").get("cache-control")).toBeNull();
  });

  test("served as Pages serves it: headers applied, folders redirect to their slash, misses get the nearest 404", async () => {
    const server = serveSite(dir, 0);
    try {
      const home = await fetch(new URL("/", server.url));
      expect(home.status).toBe(200);
      expect(home.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(await home.text()).toContain('<html lang="en">');
      const css = await fetch(new URL(built.stylesheet, server.url));
      expect(css.headers.get("content-type")).toContain("text/css");
      const bare = await fetch(new URL("/ss/fees", server.url), { redirect: "manual" });
      expect(bare.status).toBe(308);
      expect(bare.headers.get("location")).toBe("/ss/fees/");
      const missing = await fetch(new URL("/ss/nothing-here/", server.url));
      expect(missing.status).toBe(404);
      expect(await missing.text()).toContain('<html lang="ss">');
      expect((await fetch(new URL("/_headers", server.url))).status).toBe(404);
    } finally {
      server.stop(true);
    }
  });

  test("wrangler.toml: the website's names the built folder; the top-level one lists both Pages projects", () => {
    const site = Bun.TOML.parse(readFileSync(join(WEBSITE_DIR, "wrangler.toml"), "utf8")) as Record<string, unknown>;
    expect(site.name).toBe("keshless-website");
    expect(join(WEBSITE_DIR, String(site.pages_build_output_dir))).toBe(join(WEBSITE_DIR, "dist"));
    const top = readFileSync(join(WEBSITE_DIR, "../wrangler.toml"), "utf8");
    expect(top).toContain("website/wrangler.toml");
    expect(top).toContain("dashboard/wrangler.toml");
    Bun.TOML.parse(top);
  });
});
