import { describe, expect, test } from "bun:test";
import { and, eq, like } from "drizzle-orm";
import { auditLog } from "../../src/audit/schema";
import { users } from "../../src/identity/schema";
import { createAdmin, signInAdmin, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { AML_ENV, amlKit } from "./aml-kit";
import { startListServer } from "./list-server";

/**
 * The analyst's side of AML: the rules (read, changed — validated per type and audited), alerts (filters, pages,
 * assignment, open → investigating → closed with an outcome, reopen; every move audited and in the alert's
 * history), the permissions, the STR export as CSV, and the alerts a sanctions match opens.
 */
const lists = startListServer();
const t = await createTestContext({
  ...AML_ENV,
  KESHLESS_SANCTIONS_URL: lists.url,
  KESHLESS_AML_CASH_THRESHOLD: "300000",
});
const k = await amlKit(t);
const { db } = t.deps.database;

const complianceAdmin = await createAdmin(t, "compliance");
const compliance = (await signInAdmin(t, complianceAdmin)).accessToken;
const superAdmin = await k.adminToken("super_admin");
const supportAdmin = await createAdmin(t, "support");
const support = (await signInAdmin(t, supportAdmin)).accessToken;
const finance = await k.adminToken("finance");

const audits = (action: string, targetId: string) =>
  db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.targetId, targetId)));

/** A user whose deposit of `amount` (≥ the E3,000 threshold of this file) opens a large-transaction alert. */
async function largeAlert(amount = 300_000) {
  const user = await k.fundedUser([amount]);
  await k.aml.monitor.drain();
  const [alert] = await k.alertsOf(user.id, compliance, "large_transaction");
  expect(alert).toBeDefined();
  return { user, alert: alert! };
}

const move = (id: string, body: Record<string, unknown>, token = compliance) =>
  t.request("POST", `/admin/v1/aml/alerts/${id}/status`, { token, body });
const assign = (id: string, adminId: string, token = compliance) =>
  t.request("POST", `/admin/v1/aml/alerts/${id}/assign`, { token, body: { adminId } });

describe("permissions", () => {
  test("super_admin and compliance read and review; finance and support neither; no token is 401", async () => {
    const { alert } = await largeAlert();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const reads = (token?: string) => [
      t.request("GET", "/admin/v1/aml/rules", { token }),
      t.request("GET", "/admin/v1/aml/alerts", { token }),
      t.request("GET", `/admin/v1/aml/alerts/${alert.id}`, { token }),
      t.request("GET", `/admin/v1/reports/str?from=${from}&to=${to}`, { token }),
    ];
    const reviews = (token?: string) => [
      t.request("PUT", "/admin/v1/aml/rules/dormant_reactivation", { token, body: { priority: 2 } }),
      t.request("POST", `/admin/v1/aml/alerts/${alert.id}/assign`, { token, body: { adminId: complianceAdmin.id } }),
      t.request("POST", `/admin/v1/aml/alerts/${alert.id}/status`, {
        token,
        body: { status: "investigating", note: "looking" },
      }),
    ];
    const statuses = async (calls: Promise<{ status: number }>[]) => (await Promise.all(calls)).map((r) => r.status);
    for (const token of [finance, support]) {
      expect(await statuses(reads(token))).toEqual([403, 403, 403, 403]);
      expect(await statuses(reviews(token))).toEqual([403, 403, 403]);
    }
    expect(await statuses([...reads(), ...reviews()])).toEqual([401, 401, 401, 401, 401, 401, 401]);
    for (const token of [superAdmin, compliance]) expect(await statuses(reads(token))).toEqual([200, 200, 200, 200]);
    const [put, assigned, moved] = await statuses(reviews(superAdmin));
    expect([put, assigned]).toEqual([200, 200]);
    expect(moved).toBe(200);
    expect((await move(alert.id, { status: "closed", outcome: "valuable", note: "compliance closes" })).status).toBe(
      200,
    );
  });
});

describe("rules", () => {
  test("GET lists every rule with the configured cash threshold", async () => {
    const res = await t.request("GET", "/admin/v1/aml/rules", { token: compliance });
    expect(res.status).toBe(200);
    expect(res.json.cashThreshold).toBe(300_000);
    const ids = res.json.data.map((r: { id: string }) => r.id);
    for (const id of [
      "large_transaction",
      "daily_aggregate",
      "weekly_aggregate",
      "velocity_count",
      "velocity_counterparties",
      "structuring",
      "rapid_in_out",
      "dormant_reactivation",
      "round_amounts",
      "sanctions_match",
    ])
      expect(ids).toContain(id);
    expect(res.json.data.find((r: { id: string }) => r.id === "structuring")).toMatchObject({
      type: "structuring",
      enabled: true,
      priority: 4,
      params: { threshold: null, margin: 50_000, minCount: 3, windowHours: 24, direction: "any" },
      updatedBy: null,
    });
  });

  test("PUT validates against the rule's type and changes nothing on a refusal", async () => {
    const put = (id: string, body: unknown) =>
      t.request("PUT", `/admin/v1/aml/rules/${id}`, { token: compliance, body });
    const cases: [string, unknown, string][] = [
      ["structuring", { params: { margin: 300_000 } }, "params.margin"],
      ["structuring", { params: { minCount: 1 } }, "params.minCount"],
      ["velocity_count", { params: { measure: "speed" } }, "params.measure"],
      ["velocity_count", { params: { speed: 3 } }, "params"],
      ["daily_aggregate", { params: { minAmount: -5 } }, "params.minAmount"],
      ["sanctions_match", { params: { anything: true } }, "params"],
    ];
    for (const [id, body, path] of cases) {
      const res = await put(id, body);
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
      expect(res.json.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect((await put("structuring", {})).status).toBe(400);
    expect((await put("structuring", { priority: 11 })).status).toBe(400);
    expect((await put("structuring", { enabled: "yes" })).status).toBe(400);
    expect((await put("structuring", { bogus: 1 })).status).toBe(400);
    expect((await put("no_such_rule", { priority: 2 })).status).toBe(404);
    const rules = (await t.request("GET", "/admin/v1/aml/rules", { token: compliance })).json.data;
    expect(rules.find((r: { id: string }) => r.id === "structuring").params.margin).toBe(50_000);
    expect(await audits("aml.rule.updated", "velocity_count")).toEqual([]);
  });

  test("PUT merges the parameters given, is audited with before and after, and the monitor uses it", async () => {
    const res = await t.request("PUT", "/admin/v1/aml/rules/round_amounts", {
      token: compliance,
      body: { priority: 2, params: { minCount: 2, direction: "any" } },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      id: "round_amounts",
      priority: 2,
      params: { unit: 100_000, minAmount: 100_000, minCount: 2, windowHours: 24, direction: "any" },
      updatedBy: complianceAdmin.id,
    });
    const [row] = await audits("aml.rule.updated", "round_amounts");
    expect(row).toMatchObject({ actorType: "admin", actorId: complianceAdmin.id, targetType: "aml_rule" });
    expect(row!.details).toMatchObject({
      before: { priority: 1, params: { minCount: 3, direction: "out" } },
      after: { priority: 2, params: { minCount: 2, direction: "any" } },
    });

    // Two round deposits now make a hit; disabled, the rule is not evaluated at all.
    const user = await k.fundedUser([100_000, 200_000]);
    await k.aml.monitor.drain();
    expect((await k.alertsOf(user.id, compliance, "round_amounts")).map((a) => a.priority)).toEqual([2]);
    const off = await t.request("PUT", "/admin/v1/aml/rules/round_amounts", {
      token: compliance,
      body: { enabled: false },
    });
    expect(off.json.enabled).toBe(false);
    const quiet = await k.fundedUser([100_000, 200_000]);
    await k.aml.monitor.drain();
    expect(await k.alertsOf(quiet.id, compliance, "round_amounts")).toEqual([]);
  });
});

describe("alerts", () => {
  test("assign, investigate, close with an outcome, reopen, close again: each move audited and in the history", async () => {
    const { alert } = await largeAlert();
    expect(alert).toMatchObject({ status: "open", assignee: null, assigneeRole: "compliance", escalationLevel: 0 });

    expect((await assign(alert.id, supportAdmin.id)).status).toBe(400);
    expect((await assign(alert.id, "adm_nobody")).status).toBe(404);
    const assigned = await assign(alert.id, complianceAdmin.id, superAdmin);
    expect(assigned.status).toBe(200);
    expect(assigned.json.assignee).toBe(complianceAdmin.id);

    const noOutcome = await move(alert.id, { status: "closed", note: "done" });
    expect(noOutcome.status).toBe(400);
    expect(noOutcome.json.error.details[0].path).toBe("outcome");
    expect((await move(alert.id, { status: "investigating", outcome: "valuable", note: "x x" })).status).toBe(400);
    expect((await move(alert.id, { status: "investigating", note: "" })).status).toBe(400);
    expect((await move(alert.id, { status: "investigating", note: "calling the customer" })).json.status).toBe(
      "investigating",
    );
    expect((await move(alert.id, { status: "investigating", note: "again" })).status).toBe(409);

    const closed = await move(alert.id, {
      status: "closed",
      outcome: "confirmed_risk",
      note: "source of funds unclear",
    });
    expect(closed.status).toBe(200);
    expect(closed.json).toMatchObject({ status: "closed", outcome: "confirmed_risk", nextEscalationAt: null });
    expect(closed.json.closedBy).toBe(complianceAdmin.id);
    expect((await move(alert.id, { status: "investigating", note: "not yet" })).status).toBe(409);
    expect((await assign(alert.id, complianceAdmin.id)).status).toBe(409);

    const reopened = await move(alert.id, { status: "open", note: "new information" });
    expect(reopened.status).toBe(200);
    expect(reopened.json).toMatchObject({ status: "open", outcome: null, closedAt: null });
    expect(reopened.json.nextEscalationAt).not.toBeNull();
    expect(
      (await move(alert.id, { status: "closed", outcome: "false_positive", note: "salary, documented" })).status,
    ).toBe(200);

    const detail = await k.alert(alert.id, compliance);
    expect(detail.history.map((h: { action: string }) => h.action).reverse()).toEqual([
      "aml.alert.opened",
      "aml.alert.assigned",
      "aml.alert.investigating",
      "aml.alert.closed",
      "aml.alert.reopened",
      "aml.alert.closed",
    ]);
    expect(detail.history[0]).toMatchObject({
      actor: { type: "admin", id: complianceAdmin.id },
      details: { from: "open", to: "closed", outcome: "false_positive", note: "salary, documented" },
    });
    expect(detail.evidence).toHaveLength(1);
    expect(detail.evidence[0]).toMatchObject({ type: "deposit", amount: 300_000, status: "completed" });
    expect((await t.request("GET", "/admin/v1/aml/alerts/aml_nope", { token: compliance })).status).toBe(404);
    expect((await move("aml_nope", { status: "investigating", note: "x x x" })).status).toBe(404);
  });

  test("a closed alert's rule and subject get a new alert on the next hit; reopening the old one is then 409", async () => {
    const { user, alert } = await largeAlert();
    await move(alert.id, { status: "closed", outcome: "valuable", note: "reported internally" });
    await k.deposit(user.phone, 310_000);
    await k.aml.monitor.drain();
    const all = await k.alertsOf(user.id, compliance, "large_transaction");
    expect(all).toHaveLength(2);
    const fresh = all.find((a) => a.id !== alert.id)!;
    expect(fresh).toMatchObject({ status: "open", hits: 1 });
    const reopen = await move(alert.id, { status: "open", note: "second look" });
    expect(reopen.status).toBe(409);
    expect(reopen.json.error.details.openAlertId).toBe(fresh.id);
  });

  test("filters by status, rule, assignee and subject; pages newest first", async () => {
    const { user, alert } = await largeAlert();
    // Three just under this file's E3,000 threshold: a structuring alert too.
    for (let i = 0; i < 3; i++) await k.deposit(user.phone, 260_000);
    await k.aml.monitor.drain();
    await assign(alert.id, complianceAdmin.id);
    const list = async (query: string) =>
      (await t.request("GET", `/admin/v1/aml/alerts?${query}`, { token: compliance })).json;
    const both = await list(`subjectId=${user.id}`);
    expect(both.data.map((a: { rule: string }) => a.rule)).toEqual(["structuring", "large_transaction"]);
    const page1 = await list(`subjectId=${user.id}&limit=1`);
    expect(page1.data.map((a: { rule: string }) => a.rule)).toEqual(["structuring"]);
    const page2 = await list(`subjectId=${user.id}&limit=1&cursor=${page1.nextCursor}`);
    expect(page2.data.map((a: { id: string }) => a.id)).toEqual([alert.id]);
    expect(page2.nextCursor).toBeNull();
    const mine = await list(`assignee=${complianceAdmin.id}&status=open&subjectId=${user.id}`);
    expect(mine.data.map((a: { id: string }) => a.id)).toEqual([alert.id]);
    expect((await list(`rule=structuring&subjectId=${user.id}`)).data).toHaveLength(1);
    expect((await list(`status=closed&subjectId=${user.id}`)).data).toEqual([]);
    expect((await t.request("GET", "/admin/v1/aml/alerts?status=snoozed", { token: compliance })).status).toBe(400);
    expect((await t.request("GET", "/admin/v1/aml/alerts?cursor=%%%", { token: compliance })).status).toBe(400);
  });
});

describe("STR export", () => {
  test("text/csv of the alerts closed as confirmed_risk in [from, to), with their transactions", async () => {
    const risky = await largeAlert(333_300);
    const benign = await largeAlert(344_400);
    await move(risky.alert.id, { status: "closed", outcome: "confirmed_risk", note: '=HYPERLINK("x"), "quoted"' });
    await move(benign.alert.id, { status: "closed", outcome: "false_positive", note: "fine" });
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const res = await t.request("GET", `/admin/v1/reports/str?from=${from}&to=${to}`, { token: compliance });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/csv");
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const lines = res.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe(
      "alert_id,rule,rule_type,subject_type,subject_id,subject_name,opened_at,closed_at,closed_by,priority,hits," +
        "transactions,total_amount_cents,currency,transaction_ids,sanctions_match_ids,note",
    );
    const line = lines.find((l) => l.startsWith(`${risky.alert.id},`))!;
    expect(line).toContain(`,user,${risky.user.id},`);
    expect(line).toContain(",1,333300,SZL,txn_");
    // A formula is defused and quotes are doubled.
    expect(line.endsWith(`"'=HYPERLINK(""x""), ""quoted"""`)).toBe(true);
    expect(res.text).not.toContain(benign.alert.id);

    const before = await t.request("GET", `/admin/v1/reports/str?from=2020-01-01&to=${from}`, { token: compliance });
    expect(before.text.trimEnd().split("\r\n")).toHaveLength(1);
    expect((await t.request("GET", `/admin/v1/reports/str?from=${to}&to=${from}`, { token: compliance })).status).toBe(
      400,
    );
    expect((await t.request("GET", `/admin/v1/reports/str?to=${to}`, { token: compliance })).status).toBe(400);
  });
});

describe("sanctions", () => {
  test("a match opens a sanctions alert in its transaction; confirming it is a further hit on that alert", async () => {
    const user = await signInUser(t);
    await db.update(users).set({ name: "Muhammad Taher Anwari" }).where(eq(users.id, user.id));
    const synced = await t.request("POST", "/sanctions-jobs/sync", {
      headers: { "x-job-secret": t.config.secrets.job },
    });
    expect(synced.status).toBe(200);
    const match = (await t.request("GET", `/admin/v1/sanctions/matches?subjectId=${user.id}`, { token: compliance }))
      .json.data[0];
    expect(match).toBeDefined();

    const [alert] = await k.alertsOf(user.id, compliance, "sanctions_match");
    expect(alert).toMatchObject({ hits: 1, priority: 5, status: "open" });
    const detail = await k.alert(alert!.id, compliance);
    expect(detail.sanctionsMatches.map((m: { id: string }) => m.id)).toEqual([match.id]);
    expect(detail.subject).toEqual({ type: "user", id: user.id, name: "Muhammad Taher Anwari" });
    expect(detail.details).toMatchObject({ matchId: match.id, matchStatus: "open", referenceNumber: "TAi.005" });

    const confirmed = await t.request("POST", `/admin/v1/sanctions/matches/${match.id}/confirm`, {
      token: compliance,
      body: { note: "same person, same date of birth" },
    });
    expect(confirmed.status).toBe(200);
    const after = await k.alertsOf(user.id, compliance, "sanctions_match");
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: alert!.id, hits: 2, priority: 6 });
    expect((await k.alert(alert!.id, compliance)).details).toMatchObject({ matchStatus: "confirmed" });
    const rows = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.targetId, alert!.id), like(auditLog.action, "aml.alert.%")));
    expect(rows.map((r) => r.action).sort()).toEqual(["aml.alert.hit", "aml.alert.opened"]);
  });
});
