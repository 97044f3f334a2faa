import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { auditLog } from "../../src/audit/schema";
import { users } from "../../src/identity/schema";
import { createAdmin, createVendor, signInAdmin, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { startListServer } from "./list-server";

/**
 * /admin/v1/sanctions: screening a name exactly as API.md says, the current list (404 before the first sync), the
 * matches, and clearing or confirming one — audited, the subject unfrozen or kept frozen — each behind its
 * permission (super_admin and compliance only).
 */
const lists = startListServer();
const t = await createTestContext({ KESHLESS_SANCTIONS_URL: lists.url });
const session = async (role: string) => (await signInAdmin(t, await createAdmin(t, role))).accessToken;
const compliance = await session("compliance");
const superAdmin = await session("super_admin");
const support = await session("support");
const finance = await session("finance");

const listedUser = await signInUser(t);
await t.deps.database.db.update(users).set({ name: "Muhammad Taher Anwari" }).where(eq(users.id, listedUser.id));
const listedVendor = await createVendor(t, { name: "Korea Mining Development Trading Corporation" });

const screen = (body: unknown, token = compliance) => t.request("POST", "/admin/v1/sanctions/screen", { token, body });
const matchOf = async (subjectId: string) => {
  const res = await t.request("GET", `/admin/v1/sanctions/matches?subjectId=${subjectId}`, { token: compliance });
  expect(res.status).toBe(200);
  return res.json.data[0];
};
const audits = (action: string, targetId: string) =>
  t.deps.database.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), eq(auditLog.targetId, targetId)));

describe("admin sanctions routes", () => {
  test("GET list is 404 before the first sync", async () => {
    const res = await t.request("GET", "/admin/v1/sanctions/list", { token: compliance });
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe("NOT_FOUND");
  });

  test("only super_admin and compliance may read, screen and decide", async () => {
    const body = { note: "not them" };
    for (const token of [support, finance]) {
      expect((await t.request("GET", "/admin/v1/sanctions/list", { token })).status).toBe(403);
      expect((await t.request("GET", "/admin/v1/sanctions/matches", { token })).status).toBe(403);
      expect((await screen({ name: "Anyone" }, token)).status).toBe(403);
      expect((await t.request("POST", "/admin/v1/sanctions/matches/snm_x/clear", { token, body })).status).toBe(403);
      expect((await t.request("POST", "/admin/v1/sanctions/matches/snm_x/confirm", { token, body })).status).toBe(403);
    }
    expect((await t.request("GET", "/admin/v1/sanctions/matches")).status).toBe(401);
  });

  test("after a sync: screen returns the listed person, best first, as API.md says", async () => {
    const synced = await t.request("POST", "/sanctions-jobs/sync", {
      headers: { "x-job-secret": t.config.secrets.job },
    });
    expect(synced.status).toBe(200);
    const res = await screen({ name: "Muhammad Tahir Anwari", dateOfBirth: "1961-06-01", nationality: "AF" });
    expect(res.status).toBe(200);
    expect(res.json.listVersion).toBe("unsc-20240926T000007514Z");
    expect(res.json.matches[0]).toMatchObject({
      dataid: "110447",
      name: "MUHAMMAD TAHER ANWARI",
      matchedName: "Muhammad Tahir Anwari",
      listType: "individual",
      referenceNumber: "TAi.005",
      score: 1,
    });
    expect(res.json.matches[0].reasons).toEqual(
      expect.arrayContaining(["alias", "dob_consistent", "nationality_match"]),
    );
    for (const m of res.json.matches) expect(m.score).toBeGreaterThanOrEqual(0.8);
    const scores = res.json.matches.map((m: { score: number }) => m.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));

    const entity = await screen({ name: "Korea Mining Development Trading Corp" }, superAdmin);
    expect(entity.json.matches[0]).toMatchObject({ listType: "entity", referenceNumber: "KPe.001" });
    expect((await screen({ name: "Sipho Dlamini" })).json.matches).toEqual([]);
    expect((await screen({ name: "" })).status).toBe(400);
    expect((await screen({ name: "X", dateOfBirth: "26/09/1961" })).status).toBe(400);
    // The screened name stays out of the info log: a hash stands for it.
    expect(t.logs.filter((l) => l.includes("Tahir")).length).toBe(0);
  });

  test("GET list shows the current version", async () => {
    const res = await t.request("GET", "/admin/v1/sanctions/list", { token: compliance });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ version: "unsc-20240926T000007514Z", individuals: 682, entities: 193 });
    expect(typeof res.json.syncedAt).toBe("string");
  });

  test("the sync opened matches for the listed user and vendor, and froze them", async () => {
    const open = await t.request("GET", "/admin/v1/sanctions/matches?status=open", { token: compliance });
    expect(open.status).toBe(200);
    const user = await matchOf(listedUser.id);
    expect(user).toMatchObject({
      subject: { type: "user", id: listedUser.id, name: "Muhammad Taher Anwari" },
      dataid: "110447",
      status: "open",
      score: 1,
    });
    expect((await t.deps.identity.users.get(listedUser.id))?.status).toBe("frozen");
    expect((await t.deps.identity.vendors.get(listedVendor.id))?.status).toBe("frozen");
    expect((await audits("sanctions.match.opened", listedUser.id)).length).toBe(1);
  });

  test("a vendor created under a listed name is screened at once: frozen, matched, alerted; an ordinary one is not", async () => {
    const listed = await createVendor(t, { name: "Korea Kwangson Banking Corp" });
    expect((await t.deps.identity.vendors.get(listed.id))?.status).toBe("frozen");
    expect(await matchOf(listed.id)).toMatchObject({ subject: { type: "vendor", id: listed.id }, status: "open" });
    const alerts = await t.request("GET", `/admin/v1/aml/alerts?subjectId=${listed.id}`, { token: compliance });
    expect(alerts.json.data.map((a: { rule: string }) => a.rule)).toEqual(["sanctions_match"]);
    const ordinary = await createVendor(t, { name: "Dlamini Fresh Produce" });
    expect((await t.deps.identity.vendors.get(ordinary.id))?.status).toBe("active");
    expect(await matchOf(ordinary.id)).toBeUndefined();
  });

  test("clear: audited, the user unfrozen; a second decision is 409", async () => {
    const match = await matchOf(listedUser.id);
    const res = await t.request("POST", `/admin/v1/sanctions/matches/${match.id}/clear`, {
      token: compliance,
      body: { note: "different person: ID document and date of birth checked" },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: match.id, status: "cleared", note: expect.stringContaining("different") });
    expect(res.json.decidedBy).toMatch(/^adm_/);
    expect((await t.deps.identity.users.get(listedUser.id))?.status).toBe("active");
    const [audit] = await audits("sanctions.match.cleared", listedUser.id);
    expect(audit).toMatchObject({ actorType: "admin", actorId: res.json.decidedBy });
    expect(audit!.details).toMatchObject({ matchId: match.id, dataid: "110447" });
    expect((await audits("user.unfreeze", listedUser.id)).length).toBe(1);

    const again = await t.request("POST", `/admin/v1/sanctions/matches/${match.id}/confirm`, {
      token: compliance,
      body: { note: "changed my mind" },
    });
    expect(again.status).toBe(409);
    const cleared = await t.request("GET", "/admin/v1/sanctions/matches?status=cleared", { token: compliance });
    expect(cleared.json.data.map((m: { id: string }) => m.id)).toContain(match.id);
  });

  test("a re-screen of the same name never reopens what an analyst decided", async () => {
    const res = await t.request("POST", "/sanctions-jobs/sync", { headers: { "x-job-secret": t.config.secrets.job } });
    expect(res.status).toBe(200);
    expect((await t.deps.identity.users.get(listedUser.id))?.status).toBe("active");
  });

  test("confirm: audited, the vendor stays frozen", async () => {
    const match = await matchOf(listedVendor.id);
    const res = await t.request("POST", `/admin/v1/sanctions/matches/${match.id}/confirm`, {
      token: superAdmin,
      body: { note: "registration documents name the listed company" },
    });
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("confirmed");
    expect((await t.deps.identity.vendors.get(listedVendor.id))?.status).toBe("frozen");
    expect((await audits("sanctions.match.confirmed", listedVendor.id)).length).toBe(1);
    const one = await t.request("GET", `/admin/v1/sanctions/matches/${match.id}`, { token: compliance });
    expect(one.json).toMatchObject({ id: match.id, status: "confirmed" });
  });

  test("an unknown match is 404; a decision needs a note", async () => {
    const missing = await t.request("POST", "/admin/v1/sanctions/matches/snm_nope/clear", {
      token: compliance,
      body: { note: "not them" },
    });
    expect(missing.status).toBe(404);
    expect((await t.request("GET", "/admin/v1/sanctions/matches/snm_nope", { token: compliance })).status).toBe(404);
    const match = await matchOf(listedVendor.id);
    const noNote = await t.request("POST", `/admin/v1/sanctions/matches/${match.id}/clear`, {
      token: compliance,
      body: {},
    });
    expect(noNote.status).toBe(400);
  });
});
