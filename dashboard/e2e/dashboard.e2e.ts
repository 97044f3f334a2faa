/**
 * The dashboard in Debian's Chromium against a seeded API on a fresh database (e2e/stack.ts). Runs in order:
 * each test continues from what the one before left (a reversal asked by finance is approved by the super
 * admin). Every page visited is checked with axe-core (no serious or critical violation) and screenshotted
 * into e2e/artifacts/. Run with `bun run e2e` (add DATABASE_URL for Postgres).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { ARTIFACTS, JOB_SECRET, type SeededAdmin, type Stack, startStack } from "./stack";
import { freshTotp, totpAt } from "./totp";

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
// The reports page and its test come with the API's report routes (the generated client says whether it has them).
const hasReports = readFileSync(join(import.meta.dir, "../src/api/schema.d.ts"), "utf8").includes(
  '"/admin/v1/reports"',
);

let stack: Stack;
let browser: Browser;
const problems: string[] = [];
const tokens = new WeakMap<Page, string>();

beforeAll(async () => {
  stack = await startStack();
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 960 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy|Refused to/i.test(message.text()))
      problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  // The access token lives in the app's memory only; the test reads it off the wire to call the API by hand.
  page.on("request", (request) => {
    const authorization = request.headers().authorization;
    if (authorization?.startsWith("Bearer ")) tokens.set(page, authorization.slice(7));
  });
  return page;
}

/** The API called by hand with the token the page is using. */
async function byHand(page: Page, method: string, path: string, body?: unknown) {
  const token = tokens.get(page);
  if (!token) throw new Error("the page has sent no bearer token yet");
  const response = await fetch(`${stack.api.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      "Idempotency-Key": crypto.randomUUID(),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await Bun.sleep(500);
  }
}

const visited: string[] = [];

/** Settled page: axe-core finds no serious or critical violation; a full-page screenshot is kept. */
async function check(page: Page, name: string) {
  await page.waitForLoadState("networkidle");
  await page.waitForFunction(() => !document.querySelector('[data-slot="skeleton"]'), undefined, { timeout: 15_000 });
  await page.evaluate(axeSource);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run(options: unknown): Promise<unknown> } }).axe.run({
      resultTypes: ["violations"],
    }),
  )) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  visited.push(name);
  const serious = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes
          .map((n) => n.target.join(" "))
          .slice(0, 3)
          .join(", ")}`,
    );
  expect(serious).toEqual([]);
}

async function signIn(page: Page, who: SeededAdmin) {
  await page.goto(`${stack.dashboardUrl}/sign-in`);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByLabel("Authenticator code").fill(await freshTotp(who.totpSecret));
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("heading", { name: "Sign in to the dashboard" }).waitFor();
  await page.context().close();
}

const navLink = (page: Page, label: string) =>
  page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true });

async function go(page: Page, label: string) {
  await navLink(page, label).click();
  await page.getByRole("heading", { level: 1, name: label === "KYC review" ? "KYC review" : label }).waitFor();
}

/** Opens the confirmation behind `trigger`, fills the reason, confirms with `confirm`. */
async function confirm(
  page: Page,
  trigger: string,
  options: { reason?: string; confirm?: string; select?: [string, string] } = {},
) {
  await page.getByRole("button", { name: trigger, exact: true }).first().click();
  const dialog = page.getByRole("dialog");
  await dialog.waitFor();
  if (options.select) await dialog.getByLabel(options.select[0]).selectOption(options.select[1]);
  if (options.reason) await dialog.getByRole("textbox").last().fill(options.reason);
  await dialog.getByRole("button", { name: options.confirm ?? trigger, exact: true }).click();
  await dialog.waitFor({ state: "hidden" });
}

async function findUser(page: Page, phone: string) {
  await go(page, "Users");
  await page.getByLabel("Phone, name or id").fill(phone);
  await page.getByRole("button", { name: "Apply" }).click();
  // The filter is in the URL: a link to this list shows the same search.
  await page.waitForURL((url) => url.searchParams.get("q")?.includes(phone) ?? false);
  await page.getByRole("link", { name: phone }).click();
  await page.getByText(phone).first().waitFor();
}

const balance = (page: Page) => page.getByTestId("wallet-balance").textContent();

const reversals: { phone: string; transactionId: string }[] = [];

describe("the admin dashboard in Chromium", () => {
  test("finance finds users by phone and asks for two reversals, and is never offered to approve its own", async () => {
    // What Pages will send (public/_headers, the API origin written in by the build): the test runs under it.
    const headers = (await fetch(`${stack.dashboardUrl}/users`)).headers;
    const csp = headers.get("content-security-policy") ?? "";
    expect(csp).toContain(`connect-src ${stack.api.url};`);
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(headers.get("x-frame-options")).toBe("DENY");
    const page = await newPage();
    await page.goto(`${stack.dashboardUrl}/`);
    await page.getByRole("heading", { name: "Sign in to the dashboard" }).waitFor();
    await check(page, "sign-in");
    await signIn(page, stack.admins.finance);
    await check(page, "overview-finance");
    for (const user of stack.users.slice(0, 2)) {
      await findUser(page, user.phone);
      expect(await balance(page)).toBe(`E${(user.balance / 100).toFixed(2)}`);
      await page.getByRole("row").filter({ hasText: "deposit" }).getByRole("link").first().click();
      await page.getByRole("heading", { name: /^deposit/ }).waitFor();
      const transactionId = new URL(page.url()).pathname.split("/").pop()!;
      await confirm(page, "Ask for a reversal", { reason: `e2e: refund the deposit to ${user.phone}` });
      await page.getByText("Reversal request").waitFor();
      await page.getByRole("button", { name: "Ask for a reversal" }).waitFor({ state: "detached" });
      reversals.push({ phone: user.phone, transactionId });
    }
    await check(page, "transaction-detail");
    await go(page, "Approvals");
    await page.getByRole("row").filter({ hasText: reversals[0]!.transactionId }).waitFor();
    expect(await page.getByText("Your request").count()).toBe(2);
    expect(await page.getByRole("button", { name: "Approve" }).count()).toBe(0);
    await check(page, "approvals-maker");
    await signOut(page);
  });

  let admin: Page;

  test("a second admin approves one reversal and the wallet's balance changes", async () => {
    admin = await newPage();
    const page = admin;
    await signIn(page, stack.admins.admin);
    const [first] = reversals;
    const user = stack.users.find((u) => u.phone === first!.phone)!;
    await go(page, "Approvals");
    const row = page.getByRole("row").filter({ hasText: first!.transactionId });
    await row.getByRole("button", { name: "Approve" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("button", { name: "Approve", exact: true }).click();
    await dialog.waitFor({ state: "hidden" });
    await findUser(page, user.phone);
    await until("the reversal to reach the wallet", async () => ((await balance(page)) === "E0.00" ? true : undefined));
    await page.getByRole("row").filter({ hasText: "reversal" }).first().waitFor();
    await check(page, "user-detail-after-reversal");
    // What a maker sees, what the API says: the other reversal is still pending.
    const pending = await byHand(page, "GET", "/admin/v1/approvals?status=pending");
    expect(pending.body.data.map((a: { subjectId: string }) => a.subjectId)).toEqual([reversals[1]!.transactionId]);
  });

  test("a user found by the last digits of their phone is frozen, then unfrozen", async () => {
    const lindiwe = stack.users[2]!;
    await findUser(admin, lindiwe.phone.slice(-8));
    await confirm(admin, "Freeze", { reason: "e2e: suspicious activity reported" });
    await admin.getByText("frozen", { exact: true }).first().waitFor();
    expect(
      (await byHand(admin, "GET", `/admin/v1/users?q=${encodeURIComponent(lindiwe.phone)}`)).body.data[0].status,
    ).toBe("frozen");
    await confirm(admin, "Unfreeze", { reason: "e2e: checked with the user" });
    await admin.getByText("active", { exact: true }).first().waitFor();
    await check(admin, "user-detail");
  });

  test("a KYC submission in review is approved with its documents beside the checks", async () => {
    await until("the seeded submission to reach review", async () => {
      const r = await byHand(admin, "GET", "/admin/v1/kyc/submissions?status=in_review");
      return r.body?.data?.length ? true : undefined;
    });
    await go(admin, "KYC review");
    await admin.getByLabel("Status").selectOption("in_review");
    await admin.getByRole("button", { name: "Apply" }).click();
    await admin.getByRole("row").filter({ hasText: "in review" }).getByRole("link").first().click();
    await admin.getByRole("heading", { name: /^KYC of/ }).waitFor();
    await admin.getByRole("img", { name: /id front/ }).waitFor();
    await check(admin, "kyc-submission");
    await confirm(admin, "Approve", { select: ["Tier to grant", "1"] });
    await admin.getByText("approved", { exact: true }).first().waitFor();
  });

  test("an AML alert is assigned, investigated and closed with an outcome", async () => {
    await until("the monitor to open an alert", async () => {
      const r = await byHand(admin, "GET", "/admin/v1/aml/alerts?status=open");
      return r.body?.data?.length ? true : undefined;
    });
    await go(admin, "AML alerts");
    await admin.getByRole("row").filter({ hasText: "large_transaction" }).getByRole("link").first().click();
    await admin.getByRole("heading", { name: /^Alert:/ }).waitFor();
    await confirm(admin, "Assign to me");
    await confirm(admin, "Investigate", { reason: "e2e: looking at the deposits" });
    await admin.getByText("investigating", { exact: true }).first().waitFor();
    await check(admin, "aml-alert");
    await confirm(admin, "Close alert", {
      reason: "e2e: the bank's own deposit",
      select: ["Outcome", "false_positive"],
    });
    await admin.getByText("closed", { exact: true }).first().waitFor();
    await admin.getByText("false positive").first().waitFor();
  });

  test.skipIf(!hasReports)("a report's CSV downloads", async () => {
    // Today's (partial) reports hold the seed's deposits and this run's reversal.
    const today = new Date(Date.now() + 2 * 3_600_000).toISOString().slice(0, 10);
    const generated = await fetch(`${stack.api.url}/report-jobs/generate?date=${today}`, {
      method: "POST",
      headers: { "X-Job-Secret": JOB_SECRET },
    });
    expect(generated.status).toBe(200);
    await go(admin, "Reports");
    const download = admin.waitForEvent("download");
    await admin
      .getByRole("button", { name: /^Download financial report/ })
      .first()
      .click();
    const file = await download;
    const csv = readFileSync((await file.path())!, "utf8");
    const lines = csv.split(/\r?\n/);
    expect(lines[0]).toBe("section,key,metric,currency,count,amount_cents,amount");
    // The seed's deposits are among today's figures.
    expect(lines.filter((line) => line.includes("deposit")).length).toBeGreaterThan(0);
    expect(file.suggestedFilename()).toMatch(/^financial-\d{4}-\d{2}-\d{2}\.csv$/);
    await check(admin, "reports");
  });

  test("every page of the super admin passes axe and is screenshotted", async () => {
    for (const label of [
      "Overview",
      "Vendors",
      "Transactions",
      "Sanctions",
      "Audit log",
      "Partners",
      "Admins",
      "Jobs",
      "Ledger",
      "Airtime",
      "Settings",
      "Approvals",
      "AML alerts",
      "KYC review",
      "Users",
    ]) {
      await navLink(admin, label).click();
      await admin.getByRole("heading", { level: 1 }).first().waitFor();
      await check(admin, label.toLowerCase().replaceAll(" ", "-"));
    }
    // A change the API refuses shows the API's own message in the dialog, which stays open; a valid one applies.
    await go(admin, "Settings");
    const ruleRow = admin.getByRole("row").filter({ hasText: "Large single transaction" });
    await ruleRow.getByRole("button", { name: "Edit" }).click();
    const dialog = admin.getByRole("dialog");
    await dialog.getByLabel("Parameters (JSON)").fill('{"minAmount": -5}');
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.getByRole("alert").waitFor();
    expect(await dialog.getByRole("alert").textContent()).not.toBe("");
    await dialog.getByLabel("Parameters (JSON)").fill("{}");
    await dialog.getByLabel("Priority").fill("5");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    await ruleRow.getByRole("cell", { name: "5", exact: true }).waitFor();
    const rules = await byHand(admin, "GET", "/admin/v1/aml/rules");
    expect(rules.body.data.find((r: { id: string }) => r.id === "large_transaction").priority).toBe(5);

    // The audit log holds more than a page by now: pages follow the API's cursor, and the URL holds the page.
    await go(admin, "Audit log");
    const firstRow = await admin.getByRole("row").nth(1).textContent();
    await admin.getByRole("button", { name: "Next" }).click();
    await admin.waitForURL((url) => url.searchParams.has("cursor"));
    await admin.waitForFunction((row) => document.querySelectorAll("tr")[1]?.textContent !== row, firstRow);
    await admin.getByRole("button", { name: "Previous" }).click();
    await admin.waitForURL((url) => !url.searchParams.has("cursor"));
    // Back on the first page (newer records may have arrived meanwhile): nothing before it.
    await admin.waitForFunction(() =>
      [...document.querySelectorAll("button")].some((b) => b.textContent?.includes("Previous") && b.disabled),
    );
    await go(admin, "Vendors");
    await admin.getByRole("link", { name: "Gogo's Market Stall" }).click();
    await admin.getByRole("heading", { name: "Gogo's Market Stall" }).waitFor();
    await check(admin, "vendor-detail");
    await go(admin, "Partners");
    await admin.getByRole("link", { name: "Keshless Demo Bank" }).click();
    await admin.getByRole("heading", { name: "Keshless Demo Bank" }).waitFor();
    await check(admin, "partner-detail");
    // Sign out everywhere: the session this page holds is over on the API too.
    await confirm(admin, "Sign out everywhere");
    await admin.getByRole("heading", { name: "Sign in to the dashboard" }).waitFor();
    expect((await byHand(admin, "GET", "/admin/v1/me")).status).toBe(401);
    await admin.context().close();
    expect(problems).toEqual([]);
  });

  test("a support admin's first sign-in shows the QR; they see no approval, AML or settings action and the API refuses them", async () => {
    const page = await newPage();
    const support = stack.admins.support;
    await page.goto(`${stack.dashboardUrl}/sign-in`);
    await page.getByLabel("Email").fill(support.email);
    await page.getByLabel("Password").fill(support.password);
    await page.getByRole("button", { name: "First sign-in? Set up your authenticator" }).click();
    await page.locator("svg title", { hasText: "Authenticator QR code" }).waitFor({ state: "attached" });
    await check(page, "first-sign-in-qr");
    const secret = (await page.locator("code").textContent()) ?? "";
    await page.getByLabel("Authenticator code").fill(totpAt(secret, Math.floor(Date.now() / 30_000)));
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await check(page, "overview-support");

    expect(await navLink(page, "AML alerts").count()).toBe(0);
    expect(await navLink(page, "Sanctions").count()).toBe(0);
    await go(page, "Approvals");
    await page.getByRole("row").filter({ hasText: reversals[1]!.transactionId }).waitFor();
    expect(await page.getByRole("button", { name: "Approve" }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "Reject" }).count()).toBe(0);
    await check(page, "approvals-support");
    await go(page, "Settings");
    await page.getByRole("cell", { name: "0", exact: true }).first().waitFor();
    expect(await page.getByRole("button", { name: "Edit" }).count()).toBe(0);
    expect(await page.getByRole("heading", { name: /AML rules/ }).count()).toBe(0);
    await check(page, "settings-support");
    await findUser(page, stack.users[1]!.phone);
    expect(await page.getByRole("button", { name: "Freeze" }).count()).toBe(0);

    const pending = (await byHand(page, "GET", "/admin/v1/approvals?status=pending")).body.data[0];
    const user = (await byHand(page, "GET", `/admin/v1/users?q=${encodeURIComponent(stack.users[1]!.phone)}`)).body
      .data[0];
    const refused = [
      await byHand(page, "POST", `/admin/v1/approvals/${pending.id}/approve`, {}),
      await byHand(page, "POST", `/admin/v1/approvals/${pending.id}/reject`, { reason: "not mine to decide" }),
      await byHand(page, "GET", "/admin/v1/aml/alerts"),
      await byHand(page, "GET", "/admin/v1/aml/rules"),
      await byHand(page, "PUT", "/admin/v1/settings/limits/0", {
        perTransaction: 1,
        daily: 1,
        monthly: 1,
        maxBalance: 1,
      }),
      await byHand(page, "POST", `/admin/v1/users/${user.id}/freeze`, { reason: "trying by hand" }),
    ];
    expect(refused.map((r) => [r.status, r.body?.error?.code])).toEqual(Array(6).fill([403, "FORBIDDEN"]));
    // Signing out ends the session on the API, not just in the page.
    await signOut(page);
    expect((await byHand(page, "GET", "/admin/v1/me")).status).toBe(401);
    expect(problems).toEqual([]);
  });
});
