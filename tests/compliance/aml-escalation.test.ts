import { describe, expect, test } from "bun:test";
import { and, eq, inArray } from "drizzle-orm";
import { auditLog } from "../../src/audit/schema";
import { raiseAlert } from "../../src/compliance/aml-alerts";
import { amlAlerts } from "../../src/compliance/schema";
import { ConfigError, loadConfig } from "../../src/config";
import { withTransaction } from "../../src/db/transaction";
import { createAdmin, signInAdmin } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { amlKit } from "./aml-kit";

/**
 * Escalation with a short interval (KESHLESS_AML_ESCALATION_HOURS may be a fraction): alerts due go up one level
 * along the ladder, once per interval, capped at its top; two runs at once escalate each alert once; a closed
 * alert never escalates; POST /jobs/alert-escalation runs it behind the job secret.
 */
const INTERVAL_MS = 3600; // 0.001 h
const t = await createTestContext({
  KESHLESS_AML_ESCALATION_HOURS: "0.001",
  KESHLESS_AML_ESCALATION_LADDER: "compliance,compliance,super_admin",
});
const k = await amlKit(t);
const { db } = t.deps.database;
const analyst = await createAdmin(t, "compliance");
const compliance = (await signInAdmin(t, analyst)).accessToken;

/** Moves every module's clock; alerts are timed by it. */
let offsetMs = 0;
const realNow = t.deps.now;
t.deps.now = () => new Date(realNow().getTime() + offsetMs);
const later = (ms: number) => {
  offsetMs += ms;
  return t.deps.now();
};

let subjects = 0;
/** `n` open alerts on fresh subjects, as the monitor would raise them. */
async function openAlerts(n: number): Promise<string[]> {
  const ids: string[] = [];
  await withTransaction(t.deps, async (tx) => {
    for (let i = 0; i < n; i++) {
      const hit = {
        rule: { id: "large_transaction", type: "large_transaction" as const, priority: 3 },
        subject: { type: "user" as const, id: `usr_escalation${++subjects}`, name: null },
        evidence: { kind: "transaction" as const, ids: [] },
        details: {},
      };
      ids.push((await raiseAlert(t.deps, tx, hit, { actor: { type: "system", id: "test" } })).id);
    }
  });
  return ids;
}

const rows = (ids: string[]) => db.select().from(amlAlerts).where(inArray(amlAlerts.id, ids));
const escalations = (id: string) =>
  db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, "aml.alert.escalated"), eq(auditLog.targetId, id)));

describe("alert escalation", () => {
  test("a new alert waits one interval in the first role's queue", async () => {
    const [id] = await openAlerts(1);
    const [row] = await rows([id!]);
    expect(row).toMatchObject({ escalationLevel: 0, assigneeRole: "compliance" });
    expect(row!.nextEscalationAt!.getTime() - row!.createdAt.getTime()).toBe(INTERVAL_MS);
    expect(await k.aml.escalateDue(t.deps.now())).toEqual({ escalated: 0, capped: 0 });
    const detail = await k.alert(id!, compliance);
    expect(detail.escalationLevel).toBe(0);
  });

  test("due alerts go up once, are reassigned along the ladder, audited, and wait another interval", async () => {
    const ids = await openAlerts(3);
    const assigned = await t.request("POST", `/admin/v1/aml/alerts/${ids[0]}/assign`, {
      token: compliance,
      body: { adminId: analyst.id },
    });
    expect(assigned.status).toBe(200);
    const now = later(INTERVAL_MS + 1);
    const result = await k.aml.escalateDue(now);
    expect(result.escalated).toBeGreaterThanOrEqual(3);
    for (const row of await rows(ids)) {
      expect(row).toMatchObject({ escalationLevel: 1, assigneeRole: "compliance", assignee: null });
      expect(row.nextEscalationAt!.getTime()).toBe(now.getTime() + INTERVAL_MS);
    }
    const [audit] = await escalations(ids[0]!);
    expect(audit).toMatchObject({ actorType: "system", actorId: "alert-escalation", targetType: "aml_alert" });
    expect(audit!.details).toMatchObject({
      fromLevel: 0,
      toLevel: 1,
      capped: false,
      role: "compliance",
      previousAssignee: analyst.id,
      notified: { channel: "email", role: "compliance" },
    });
    expect((audit!.details as { notified: { admins: string[] } }).notified.admins).toContain(analyst.id);
    // The role's admins are e-mailed (queued with the escalation), one notice per alert and level.
    const notices = async (email: string) =>
      (await t.deps.notifications.list({ to: email, limit: 100 })).filter((m) => m.kind === "aml_escalation");
    const told = (await notices(analyst.email)).filter((m) => ids.some((id) => m.body.includes(id)));
    expect(told).toHaveLength(3);
    expect(told[0]!.body).toContain("escalated to level 1");
    expect(told[0]!.body).not.toContain(analyst.email);

    // Run again at once: nothing is due.
    expect((await k.aml.escalateDue(now)).escalated).toBe(0);
    for (const id of ids) expect(await escalations(id)).toHaveLength(1);

    // After another interval, the top of the ladder; after a third, the cap holds and the alert waits again.
    await k.aml.escalateDue(later(INTERVAL_MS + 1));
    const capped = await k.aml.escalateDue(later(INTERVAL_MS + 1));
    expect(capped.capped).toBeGreaterThanOrEqual(3);
    for (const row of await rows(ids)) expect(row).toMatchObject({ escalationLevel: 2, assigneeRole: "super_admin" });
    // Level 2 is super_admin's: the analyst hears no more of these, an active super admin does, each time it waits again.
    expect((await notices(analyst.email)).filter((m) => ids.some((id) => m.body.includes(id)))).toHaveLength(3);
    const officer = await createAdmin(t, "super_admin");
    await k.aml.escalateDue(later(INTERVAL_MS + 1));
    const officerTold = (await notices(officer.email)).filter((m) => m.body.includes(ids[0]!));
    expect(officerTold).toHaveLength(1);
    expect(officerTold[0]!.body).toContain("still unresolved at the top level");
    const history = (await k.alert(ids[1]!, compliance)).history.filter(
      (h: { action: string }) => h.action === "aml.alert.escalated",
    );
    expect(
      history.map((h: { details: { toLevel: number; capped: boolean } }) => [h.details.toLevel, h.details.capped]),
    ).toEqual([
      [2, true],
      [2, true],
      [2, false],
      [1, false],
    ]);
  });

  test("two runs at once escalate each due alert once", async () => {
    const ids = await openAlerts(250);
    const now = later(INTERVAL_MS + 1);
    const [a, b] = await Promise.all([k.aml.escalateDue(now), k.instance().escalateDue(now)]);
    expect(a.escalated + b.escalated).toBeGreaterThanOrEqual(250);
    for (const row of await rows(ids)) expect(row.escalationLevel).toBe(1);
    const audits = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "aml.alert.escalated"), inArray(auditLog.targetId, ids)));
    expect(audits).toHaveLength(250);
  });

  test("a closed alert never escalates; reopened, it waits a whole interval again", async () => {
    const [id] = await openAlerts(1);
    const closed = await t.request("POST", `/admin/v1/aml/alerts/${id}/status`, {
      token: compliance,
      body: { status: "closed", outcome: "false_positive", note: "known customer" },
    });
    expect(closed.json.nextEscalationAt).toBeNull();
    for (let i = 0; i < 3; i++) await k.aml.escalateDue(later(INTERVAL_MS + 1));
    expect((await rows([id!]))[0]!.escalationLevel).toBe(0);
    expect(await escalations(id!)).toEqual([]);

    const reopened = await t.request("POST", `/admin/v1/aml/alerts/${id}/status`, {
      token: compliance,
      body: { status: "open", note: "customer called back" },
    });
    expect(Date.parse(reopened.json.nextEscalationAt) - Date.parse(reopened.json.updatedAt)).toBe(INTERVAL_MS);
    await k.aml.escalateDue(t.deps.now());
    expect(await escalations(id!)).toEqual([]);
    await k.aml.escalateDue(later(INTERVAL_MS + 1));
    expect(await escalations(id!)).toHaveLength(1);
  });

  test("POST /jobs/alert-escalation needs the job secret and reports what it escalated", async () => {
    const [id] = await openAlerts(1);
    later(INTERVAL_MS + 1);
    expect((await t.request("POST", "/jobs/alert-escalation")).status).toBe(401);
    const res = await t.request("POST", "/jobs/alert-escalation", {
      headers: { "x-job-secret": t.config.secrets.job },
    });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("succeeded");
    expect(res.json.summary.escalated).toBeGreaterThanOrEqual(1);
    expect(await escalations(id!)).toHaveLength(1);
    expect(t.deps.jobs.definitions().find((j) => j.name === "alert-escalation")).toMatchObject({
      path: "/jobs/alert-escalation",
      schedule: "*/15 * * * *",
      loop: true,
    });
  });

  test("configuration: fractional hours, a ladder of roles that review alerts, the cash threshold", () => {
    const load = (env: Record<string, string>) =>
      loadConfig({ KESHLESS_ENV: "test", KESHLESS_DATA_DIR: t.config.dataDir, ...TEST_SECRETS, ...env });
    expect(t.config.aml.escalation).toEqual({
      intervalMs: INTERVAL_MS,
      ladder: ["compliance", "compliance", "super_admin"],
    });
    expect(load({}).aml).toMatchObject({
      cashThreshold: 500_000,
      escalation: { intervalMs: 4 * 3_600_000, ladder: ["compliance", "compliance", "super_admin"] },
    });
    expect(load({ KESHLESS_AML_ESCALATION_LADDER: " super_admin , compliance" }).aml.escalation.ladder).toEqual([
      "super_admin",
      "compliance",
    ]);
    expect(load({ KESHLESS_AML_CASH_THRESHOLD: "250000" }).aml.cashThreshold).toBe(250_000);
    const refused: Record<string, string>[] = [
      { KESHLESS_AML_ESCALATION_LADDER: "compliance,support" },
      { KESHLESS_AML_ESCALATION_LADDER: "compliance,officer" },
      { KESHLESS_AML_ESCALATION_LADDER: " , " },
      { KESHLESS_AML_ESCALATION_HOURS: "0" },
      { KESHLESS_AML_CASH_THRESHOLD: "0" },
    ];
    for (const env of refused) expect(() => load(env)).toThrow(ConfigError);
  });
});
