import { describe, expect, test } from "bun:test";
import { type BackupKind, backupObjectName, planRetention } from "../../src/operations";
import { createTestContext } from "../support/harness";

/**
 * POST /backup-jobs/cleanup over a synthetic calendar: a database backup every night at 01:30 (Africa/Mbabane)
 * for three years, and a few secrets backups whose newest is damaged. It keeps exactly every backup of the last
 * 30 days, the first of each month for 24 months, the first of each year for 2 years, the newest backup that
 * verifies, and whatever a restore holds a lease on; `?dryRun=true` lists the same deletions and deletes nothing.
 */

const t = await createTestContext();
const { backups } = t.deps.operations;
const store = t.deps.storage.backups;
const secret = t.config.secrets.job;
const cleanup = (query = "") =>
  t.request("POST", `/backup-jobs/cleanup${query}`, { headers: { "x-job-secret": secret } });

/** 01:30 local time on a local calendar day "2026-12-03" (UTC+2 all year). */
const at = (day: string, time = "01:30") => new Date(`${day}T${time}:00+02:00`);
const dayOf = (date: Date) => new Date(date.getTime() + 2 * 3_600_000).toISOString().slice(0, 10);

function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T12:00:00Z`); dayOf(d) <= to; d = new Date(d.getTime() + 86_400_000))
    out.push(d.toISOString().slice(0, 10));
  return out;
}

const names = new Map<string, string>(); // object → "kind day"
async function put(kind: BackupKind, day: string, damaged = false) {
  const object = backupObjectName(kind, kind === "database" ? "sql" : "json", at(day));
  const sealed = await backups.seal(object, new Blob([`${kind} of ${day}`]).stream());
  if (damaged) {
    const bytes = await store.read(object);
    bytes[bytes.length - 3]! ^= 1;
    await store.write(object, bytes, "application/octet-stream");
  }
  names.set(sealed.object, `${kind} ${day}`);
  return object;
}

const calendar = days("2023-12-01", "2026-12-03");
for (const day of calendar) await put("database", day);
const secretDays = ["2026-08-01", "2026-08-15", "2026-09-01", "2026-09-10"];
for (const day of secretDays) await put("secrets", day);
const leasedSecret = [...names].find(([, v]) => v === "secrets 2026-08-15")![0];
await put("secrets", "2026-09-20", true);
t.deps.now = () => at("2026-12-03", "12:00");

// What the rules keep, worked out here from the calendar, not by the code under test.
const firstsOfMonths = days("2025-01-01", "2026-12-03").filter((d) => d.endsWith("-01"));
const expectedDatabase = new Set([...calendar.filter((d) => d >= "2026-11-04"), ...firstsOfMonths]);
// Secrets: the firsts of August and September, and 09-10 as the newest that verifies (09-20 is damaged).
const expectedSecrets = new Set(["2026-08-01", "2026-09-01", "2026-09-10"]);
const expectedKept = new Set([
  ...[...expectedDatabase].map((d) => `database ${d}`),
  ...[...expectedSecrets].map((d) => `secrets ${d}`),
]);
const expectedDeleted = [...names].filter(([, v]) => !expectedKept.has(v)).map(([object]) => object);

const listed = async () => new Set((await backups.list()).map((b) => names.get(b.object)!));

describe("cleanup on three years of nightly backups", () => {
  test("the calendar is what the test means: 1,099 nights, 53 of them to keep", () => {
    expect(calendar.length).toBe(1099);
    expect(expectedDatabase.size).toBe(53);
    expect(expectedDatabase.has("2025-01-01") && expectedDatabase.has("2026-11-01")).toBe(true);
    expect(expectedDatabase.has("2024-12-01") || expectedDatabase.has("2026-11-03")).toBe(false);
  });

  test("?dryRun=true lists exactly what falls outside the rules and deletes nothing", async () => {
    const res = await cleanup("?dryRun=true");
    expect(res.status).toBe(200);
    expect(res.json.summary.dryRun).toBe(true);
    expect([...res.json.summary.deleted].sort()).toEqual([...expectedDeleted].sort());
    expect(res.json.summary.kept).toBe(expectedKept.size);
    expect((await listed()).size).toBe(names.size);
  });

  test("a backup a restore is reading is kept while its lease holds", async () => {
    const res = await backups.leased(leasedSecret, "test restore", () => cleanup("?dryRun=true"));
    expect(res.json.summary.deleted).not.toContain(leasedSecret);
    expect(res.json.summary.leased).toEqual([leasedSecret]);
    // Lease released: the next run would delete it.
    expect((await cleanup("?dryRun=true")).json.summary.deleted).toContain(leasedSecret);
  });

  test("the run deletes exactly that and keeps exactly the rest, the newest good secrets backup included", async () => {
    // The in-process loop's test, from the listing alone: there is work before the run, none after.
    expect(await backups.cleanupDue()).toBe(true);
    const res = await cleanup();
    expect(res.status).toBe(200);
    expect(res.json.summary.dryRun).toBe(false);
    expect([...res.json.summary.deleted].sort()).toEqual([...expectedDeleted].sort());
    expect(res.json.summary.newestGood.secrets).toBe([...names].find(([, v]) => v === "secrets 2026-09-10")![0]);
    expect(await listed()).toEqual(expectedKept);
    expect(await backups.cleanupDue()).toBe(false);
    // Again: nothing more to delete.
    const again = await cleanup();
    expect(again.json.summary.deleted).toEqual([]);
    expect(again.json.summary.kept).toBe(expectedKept.size);
  });

  test("a bad query is a 400, and no run", async () => {
    const res = await cleanup("?dryRun=maybe");
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe("VALIDATION_FAILED");
  });
});

describe("the rules, each configurable", () => {
  const nightly = (from: string, to: string) => days(from, to).map((d) => ({ object: d, createdAt: at(d) }));
  const now = at("2026-12-03", "12:00");

  test("days, months and years as configured", () => {
    const plan = planRetention(nightly("2019-06-15", "2026-12-03"), now, { days: 7, months: 3, years: 5 });
    expect([...plan.keep.keys()].sort()).toEqual([
      "2022-01-01",
      "2023-01-01",
      "2024-01-01",
      "2025-01-01",
      "2026-01-01",
      "2026-10-01",
      "2026-11-01",
      ...days("2026-11-27", "2026-12-03"),
    ]);
    expect(plan.keep.get("2026-01-01")).toEqual(["yearly"]);
    expect(plan.keep.get("2026-12-01")).toEqual(["daily", "monthly"]);
  });

  test("nothing but what is protected, with every count at its minimum", () => {
    const plan = planRetention(
      nightly("2026-01-01", "2026-03-01"),
      now,
      { days: 1, months: 0, years: 0 },
      new Set(["2026-03-01"]),
    );
    expect([...plan.keep.keys()]).toEqual(["2026-03-01"]);
    expect(plan.delete).toHaveLength(days("2026-01-01", "2026-02-28").length);
  });

  test("the first of a month is the earliest backup in it, wherever in the month it falls", () => {
    const backups = ["2026-06-07", "2026-06-03", "2026-07-30"].map((d) => ({ object: d, createdAt: at(d) }));
    const plan = planRetention(backups, now, { days: 1, months: 12, years: 0 });
    expect([...plan.keep.keys()].sort()).toEqual(["2026-06-03", "2026-07-30"]);
  });

  test("local days: 00:30 in Mbabane is the previous day in UTC and counts for the local one", () => {
    const backups = [{ object: "just after midnight", createdAt: at("2026-11-01", "00:30") }];
    const plan = planRetention(backups, now, { days: 1, months: 2, years: 0 });
    expect(plan.keep.get("just after midnight")).toEqual(["monthly"]);
  });
});
