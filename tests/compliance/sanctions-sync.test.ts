import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { sanctionsEntries, sanctionsLists } from "../../src/compliance/schema";
import { users } from "../../src/identity/schema";
import { createAdmin, createVendor, signInAdmin, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { REAL_LIST, startListServer, withDate, without } from "./list-server";

/**
 * POST /sanctions-jobs/sync against the real 2024-09-26 list served behind a 302 by a local server: the list is
 * replaced only by a whole, newer file, in one transaction; a truncated, malformed, shortened or older file fails
 * the run and changes nothing; a DATAID that disappears is a delisting; what is new is screened against every
 * user and vendor, and a hit freezes them.
 */
const lists = startListServer();
const t = await createTestContext({ KESHLESS_SANCTIONS_URL: lists.url });
const admin = await signInAdmin(t, await createAdmin(t, "compliance"));
const token = admin.accessToken;

const sync = () => t.request("POST", "/sanctions-jobs/sync", { headers: { "x-job-secret": t.config.secrets.job } });
const current = () => t.request("GET", "/admin/v1/sanctions/list", { token });
const versions = async () => (await t.deps.database.db.select().from(sanctionsLists)).length;

async function failedRun(res: Awaited<ReturnType<typeof sync>>) {
  expect(res.status).toBe(500);
  const run = await t.deps.jobs.get(res.json.error.details.jobRunId);
  expect(run?.status).toBe("failed");
  return run!.error ?? "";
}

// A user whose (verified) name is a listed person's, and a vendor trading under a listed entity's name.
const listedUser = await signInUser(t);
await t.deps.database.db.update(users).set({ name: "Abdur Rehman" }).where(eq(users.id, listedUser.id));
const listedVendor = await createVendor(t, { name: "Korea Mining Development Trading Corporation" });
const ordinary = await signInUser(t);
await t.deps.database.db.update(users).set({ name: "Sipho Dlamini" }).where(eq(users.id, ordinary.id));

/** The sync's in-process loop check (every minute): due with no list, or no good sync in the last 25 hours. */
const syncDue = () =>
  t.deps.modules
    .find((m) => m.name === "compliance")!
    .jobs.find((j) => j.name === "sanctions-sync")!
    .loop!.due();

describe("sanctions sync", () => {
  test("before the first sync there is no list, and screening is unavailable", async () => {
    expect((await current()).status).toBe(404);
    expect(await syncDue()).toBe(true);
    const screened = await t.request("POST", "/admin/v1/sanctions/screen", { token, body: { name: "Abdur Rehman" } });
    expect(screened.status).toBe(503);
  });

  test("the real list behind a 302 → 682 individuals, 193 entities; new entries screened, hits frozen", async () => {
    const res = await sync();
    expect(res.status).toBe(200);
    expect(res.json.summary).toMatchObject({
      listVersion: "unsc-20240926T000007514Z",
      individuals: 682,
      entities: 193,
      added: 875,
      removed: 0,
    });
    expect(res.json.summary.screened).toBeGreaterThanOrEqual(3);
    expect(res.json.summary.matches).toBeGreaterThanOrEqual(2);
    expect(lists.requests.slice(0, 2)).toEqual([
      "/resources/xml/en/consolidated.xml",
      "/publiclegacyxmlfiles/EN/consolidated.xml",
    ]);
    const list = await current();
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({
      version: "unsc-20240926T000007514Z",
      dateGenerated: "2024-09-26T00:00:07.514Z",
      individuals: 682,
      entities: 193,
      sha256: "c6ca69960536d56d714dee1981723cdbeb26b2e8da84537a46696269a3942eb1",
    });

    const open = await t.request("GET", "/admin/v1/sanctions/matches?status=open&limit=100", { token });
    const subjects = open.json.data.map((m: { subject: { id: string } }) => m.subject.id);
    expect(subjects).toContain(listedUser.id);
    expect(subjects).toContain(listedVendor.id);
    expect(subjects).not.toContain(ordinary.id);
    expect((await t.deps.identity.users.get(listedUser.id))?.status).toBe("frozen");
    expect((await t.deps.identity.vendors.get(listedVendor.id))?.status).toBe("frozen");
    expect((await t.deps.identity.users.get(ordinary.id))?.status).toBe("active");
  });

  test("the loop leaves a list synced within 25 hours alone, and syncs one older than that", async () => {
    expect(await syncDue()).toBe(false);
    const real = t.deps.now;
    t.deps.now = () => new Date(real().getTime() + 26 * 3_600_000);
    try {
      expect(await syncDue()).toBe(true);
    } finally {
      t.deps.now = real;
    }
  });

  test("the same file again is a quiet no-op", async () => {
    const res = await sync();
    expect(res.status).toBe(200);
    expect(res.json.summary).toMatchObject({ unchanged: true, added: 0, removed: 0, matches: 0 });
    expect(await versions()).toBe(1);
  });

  test("a truncated download fails the run and changes nothing", async () => {
    lists.serve(withDate(REAL_LIST, "2024-10-01T00:00:00.000Z").slice(0, Math.floor(REAL_LIST.length * 0.6)));
    expect(await failedRun(await sync())).toContain("not well-formed");
    expect((await current()).json.version).toBe("unsc-20240926T000007514Z");
    expect(await versions()).toBe(1);
  });

  test("a malformed download fails the run and changes nothing", async () => {
    const broken = withDate(REAL_LIST, "2024-10-01T00:00:00.000Z").replace("</FIRST_NAME>", "</FIRST_NAM>");
    lists.serve(broken);
    expect(await failedRun(await sync())).toContain("not well-formed");
    expect(await versions()).toBe(1);
  });

  test("a well-formed file far shorter than the current list is refused as cut short", async () => {
    const xml = withDate(REAL_LIST, "2024-10-01T00:00:00.000Z");
    const cut = `${xml.slice(0, xml.indexOf("<INDIVIDUAL>", 200_000))}</INDIVIDUALS><ENTITIES>${xml.slice(xml.indexOf("<ENTITY>"))}`;
    lists.serve(cut);
    expect(await failedRun(await sync())).toContain("cut short");
    expect(await versions()).toBe(1);
  });

  test("an older list is refused", async () => {
    lists.serve(withDate(REAL_LIST, "2024-09-01T00:00:00.000Z"));
    expect(await failedRun(await sync())).toContain("older than the current list");
    expect((await current()).json.version).toBe("unsc-20240926T000007514Z");
    expect(await versions()).toBe(1);
  });

  test("a newer list with one entry removed → one delisting, the old version kept", async () => {
    // 2983651 is ABDUR REHMAN (QDi.309).
    lists.serve(without(withDate(REAL_LIST, "2024-10-02T00:00:00.000Z"), "2983651"));
    const res = await sync();
    expect(res.status).toBe(200);
    expect(res.json.summary).toMatchObject({
      listVersion: "unsc-20241002T000000000Z",
      individuals: 681,
      entities: 193,
      added: 0,
      removed: 1,
      screened: 0,
      matches: 0,
    });
    expect((await current()).json).toMatchObject({ version: "unsc-20241002T000000000Z", removed: 1 });
    const [row] = await t.deps.database.db
      .select()
      .from(sanctionsLists)
      .where(eq(sanctionsLists.id, "unsc-20241002T000000000Z"));
    expect(row?.removedDataids).toEqual(["2983651"]);
    expect(await versions()).toBe(2);
    const kept = await t.deps.database.db
      .select({ dataid: sanctionsEntries.dataid })
      .from(sanctionsEntries)
      .where(eq(sanctionsEntries.listId, "unsc-20240926T000007514Z"));
    expect(kept.length).toBe(875);
    // The delisted person no longer matches.
    const screened = await t.request("POST", "/admin/v1/sanctions/screen", { token, body: { name: "Abdur Rehman" } });
    expect(screened.status).toBe(200);
    expect(screened.json.listVersion).toBe("unsc-20241002T000000000Z");
    expect(screened.json.matches.map((m: { dataid: string }) => m.dataid)).not.toContain("2983651");
  });
});
