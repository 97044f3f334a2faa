/**
 * `bun run measure` (in website/): the browser proof of the website, written to website/RESULTS.md.
 *
 * 1. Builds the site into a temporary folder with the local server as its origin (so canonical links and the
 *    sitemap point where the browser is) and serves it as Pages would, _headers and its CSP included.
 * 2. axe-core, in Debian's chromium driven by playwright-core, on every page of both languages and the 404s, at a
 *    phone's viewport: no serious or critical violation is allowed. Console errors (a CSP refusal would be one)
 *    and failed requests are reported too.
 * 3. Lighthouse (its default, the mobile preset: an emulated phone, simulated slow 4G and a 4× slower CPU) on every
 *    page: performance, accessibility, best practices and SEO must each score at least 95.
 *
 * Exits non-zero when any check fails; RESULTS.md is written either way, with the machine and the date.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import { chromium } from "playwright-core";
import { buildSite } from "../src/build";
import { serveSite } from "../src/serve";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const MIN_SCORE = 95;
const RUNS = 3;
const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"] as const;
const WEBSITE = resolve(import.meta.dir, "..");
const packageOf = (name: string) =>
  JSON.parse(readFileSync(join(WEBSITE, "node_modules", name, "package.json"), "utf8"));

interface AxeRow {
  path: string;
  violations: { id: string; impact: string | null; nodes: number; help: string }[];
  consoleErrors: string[];
}
interface LighthouseRow {
  path: string;
  scores: Record<(typeof CATEGORIES)[number], number>;
  failing: string[];
  performanceRuns: number[];
}

async function runAxe(origin: string, paths: string[]): Promise<{ rows: AxeRow[]; browserVersion: string }> {
  const axeSource = readFileSync(join(WEBSITE, "node_modules/axe-core/axe.min.js"), "utf8");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  const rows: AxeRow[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    for (const path of paths) {
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") consoleErrors.push(m.text());
      });
      page.on("pageerror", (e) => consoleErrors.push(e.message));
      page.on("requestfailed", (r) => consoleErrors.push(`request failed: ${r.url()}`));
      await page.goto(`${origin}${path}`, { waitUntil: "load" });
      // evaluate runs through the DevTools protocol, so the page's CSP (no scripts at all) stays in force.
      await page.evaluate(axeSource);
      const result = (await page.evaluate(() =>
        (globalThis as any).axe.run(document, {
          runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
        }),
      )) as { violations: { id: string; impact: string | null; nodes: unknown[]; help: string }[] };
      rows.push({
        path,
        violations: result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help })),
        consoleErrors: consoleErrors.filter((e) => !(path.endsWith("404.html") && e.includes("404"))),
      });
      await page.close();
    }
    return { rows, browserVersion: browser.version() };
  } finally {
    await browser.close();
  }
}

/** The emulation and throttling Lighthouse ran with, as its report states them. */
let settings = "";

async function lighthouseOnce(url: string) {
  // A fresh browser per run: reusing one across navigations lost the trace's navigation start (NO_NAVSTART).
  const chrome = await chromeLauncher.launch({
    chromePath: CHROMIUM,
    chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
  });
  try {
    const result = await lighthouse(url, {
      port: chrome.port,
      output: "json",
      logLevel: "error",
      onlyCategories: [...CATEGORIES],
    });
    if (!result) throw new Error(`lighthouse returned nothing for ${url}`);
    return result.lhr;
  } finally {
    chrome.kill();
  }
}

async function runLighthouse(origin: string, paths: string[]): Promise<LighthouseRow[]> {
  const rows: LighthouseRow[] = [];
  for (const path of paths) {
    // Three runs, and the one with the median performance score is reported (Lighthouse's own advice on a noisy
    // machine); every run's performance score is kept in the table.
    const runs: Awaited<ReturnType<typeof lighthouseOnce>>[] = [];
    for (let i = 0; i < RUNS; i++) {
      let run = await lighthouseOnce(`${origin}${path}`);
      // A trace lost on a busy machine is the tool failing, not the page: one more run, then give up.
      if (run.runtimeError) run = await lighthouseOnce(`${origin}${path}`);
      if (run.runtimeError) throw new Error(`lighthouse on ${path}: ${run.runtimeError.message}`);
      runs.push(run);
    }
    const performanceOf = (r: (typeof runs)[number]) => r.categories.performance?.score ?? 0;
    const sorted = [...runs].sort((a, b) => performanceOf(a) - performanceOf(b));
    const lhr = sorted[Math.floor(sorted.length / 2)]!;
    const c = lhr.configSettings;
    settings = `${c.formFactor}, ${c.screenEmulation.width}×${c.screenEmulation.height} at ${c.screenEmulation.deviceScaleFactor}x, ${c.throttlingMethod} throttling (${c.throttling.rttMs} ms RTT, ${Math.round(c.throttling.throughputKbps ?? 0)} kbit/s, CPU ×${c.throttling.cpuSlowdownMultiplier})`;
    const scores = Object.fromEntries(
      CATEGORIES.map((c) => [c, Math.round((lhr.categories[c]?.score ?? 0) * 100)]),
    ) as LighthouseRow["scores"];
    // The audits that cost points, so a score under the bar says why.
    const failing = CATEGORIES.flatMap((c) =>
      (lhr.categories[c]?.auditRefs ?? [])
        .filter((ref) => ref.weight > 0 && (lhr.audits[ref.id]?.score ?? 1) < 0.9)
        .map((ref) => `${c}: ${ref.id} (${lhr.audits[ref.id]?.displayValue || lhr.audits[ref.id]?.score})`),
    );
    rows.push({ path, scores, failing, performanceRuns: runs.map((r) => Math.round(performanceOf(r) * 100)) });
    console.log(`lighthouse ${path}: ${CATEGORIES.map((c) => `${c} ${scores[c]}`).join(", ")} ${failing.join("; ")}`);
  }
  return rows;
}

function report(p: {
  started: Date;
  axe: AxeRow[];
  lighthouse: LighthouseRow[];
  browserVersion: string;
  ok: boolean;
}): string {
  const cpu = cpus();
  const versions = ["lighthouse", "axe-core", "playwright-core"].map((n) => `${n} ${packageOf(n).version}`).join(", ");
  const axeLines = p.axe.map((row) => {
    const bad = row.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    const other = row.violations.filter((v) => !(v.impact === "serious" || v.impact === "critical"));
    const describe = (list: AxeRow["violations"]) =>
      list.map((v) => `${v.id} (${v.impact}, ${v.nodes} node${v.nodes === 1 ? "" : "s"})`).join("; ") || "none";
    return `| \`${row.path}\` | ${describe(bad)} | ${describe(other)} | ${row.consoleErrors.join("; ") || "none"} |`;
  });
  const lhLines = p.lighthouse.map(
    (row) =>
      `| \`${row.path}\` | ${CATEGORIES.map((c) => (row.scores[c] < MIN_SCORE ? `**${row.scores[c]}**` : `${row.scores[c]}`)).join(" | ")} | ${row.performanceRuns.join(", ")} | ${row.failing.join("; ") || "—"} |`,
  );
  const lowest = Object.fromEntries(CATEGORIES.map((c) => [c, Math.min(...p.lighthouse.map((r) => r.scores[c]))]));
  return `# Website: accessibility and Lighthouse

Measured by \`cd website && bun run measure\` (website/measure/measure.ts) on ${p.started.toISOString().slice(0, 16).replace("T", " ")} UTC.
Verdict: **${p.ok ? "pass" : "FAIL"}** — every page needs no serious or critical axe-core violation and at least ${MIN_SCORE} in each
Lighthouse category.

- Machine: ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Linux ${release()}, Bun ${Bun.version}
  (a shared 2-core machine: other work ran beside it, which weighs on Lighthouse's CPU-bound numbers).
- Browser: Debian's chromium ${p.browserVersion} (\`/usr/bin/chromium\`, headless). ${versions}.
- The site was built with the local server as its origin and served as Cloudflare Pages serves it, with the
  headers of \`public/_headers\` (its Content-Security-Policy allows no script: axe-core was run through the DevTools
  protocol, so the policy stayed in force).
- Lighthouse: its default mobile preset — ${settings} —, ${RUNS} runs per page, the run with the median performance score reported
  (its four scores; every run's performance score beside them).
- axe-core: WCAG 2.0/2.1/2.2 A and AA rules plus best practices, at a 390 × 844 phone viewport.

## Lighthouse (mobile)

Lowest over all pages: performance ${lowest.performance}, accessibility ${lowest.accessibility}, best practices ${lowest["best-practices"]}, SEO ${lowest.seo}.

| page | performance | accessibility | best practices | SEO | performance of each run | audits under 0.9 (reported run) |
|---|---|---|---|---|---|---|
${lhLines.join("\n")}

## axe-core

| page | serious or critical | moderate or minor | console errors |
|---|---|---|---|
${axeLines.join("\n")}
`;
}

async function main() {
  const started = new Date();
  const dir = mkdtempSync(join(tmpdir(), "keshless-site-"));
  const server = serveSite(dir, 0);
  try {
    const origin = server.url.origin;
    const built = buildSite({ outDir: dir, origin });
    const paths = built.pages.map((p) => p.path);
    const axe = await runAxe(origin, paths);
    const lh = await runLighthouse(
      origin,
      built.pages.filter((p) => p.slug !== null).map((p) => p.path),
    );
    const axeOk = axe.rows.every(
      (r) =>
        r.consoleErrors.length === 0 && r.violations.every((v) => v.impact !== "serious" && v.impact !== "critical"),
    );
    const lhOk = lh.every((r) => CATEGORIES.every((c) => r.scores[c] >= MIN_SCORE));
    const ok = axeOk && lhOk;
    writeFileSync(
      join(WEBSITE, "RESULTS.md"),
      report({ started, axe: axe.rows, lighthouse: lh, browserVersion: axe.browserVersion, ok }),
    );
    console.log(`website/RESULTS.md written: ${ok ? "pass" : "FAIL"}`);
    if (!ok) process.exitCode = 1;
  } finally {
    server.stop(true);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
