import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { ConfigError, loadConfig } from "../../src/config";
import { queryRows } from "../../src/db/client";
import { retentionDue } from "../../src/jobs/retention";
import { newId } from "../../src/lib/ids";
import { createPartner, createVendor } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/**
 * POST /jobs/retention: operational rows past their use go — in batches, whichever side of each cutoff
 * they are on decides — and nothing else: pending work however old, recent rows, and every money
 * record stay. A stored payment answer younger than a week still replays.
 */
const t = await createTestContext({ KESHLESS_RETENTION_DAYS: "30" });
const kit = await moneyKit(t);
const db = t.deps.database.db;

// Local noon today (Eswatini is UTC+2): day and month cutoffs cannot move while a test runs.
const real = Date.now;
const local = new Date(real() + 2 * 3_600_000).toISOString().slice(0, 10);
const offset = Date.parse(`${local}T10:00:00Z`) - real();
t.deps.now = () => new Date(real() + offset);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(t.deps.now().getTime() - ms).toISOString();
const localDay = (daysAgo: number) =>
  `d:${new Date(Date.parse(`${local}T10:00:00Z`) - daysAgo * DAY).toISOString().slice(0, 10)}`;
const localMonth = (monthsAgo: number) => {
  const [y, m] = local.split("-").map(Number);
  return `m:${new Date(Date.UTC(y!, m! - 1 - monthsAgo, 1)).toISOString().slice(0, 7)}`;
};

const run = (secret: string | null = t.config.secrets.job) =>
  t.request("POST", "/jobs/retention", secret === null ? {} : { headers: { "x-job-secret": secret } });

const exists = async (query: ReturnType<typeof sql>) => (await queryRows(db, query)).length > 0;
const count = async (table: string) =>
  Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!.n);

const MONEY_TABLES = [
  "ledger_accounts",
  "ledger_balances",
  "ledger_journals",
  "ledger_entries",
  "ledger_holds",
  "transactions",
  "audit_log",
  "approval_requests",
];
const moneyCounts = async () =>
  Object.fromEntries(await Promise.all(MONEY_TABLES.map(async (n) => [n, await count(n)])));

async function outboxRow(status: string, createdAt: string) {
  const id = newId("ntf");
  await db.execute(sql`insert into notification_outbox (id, to_phone, body, kind, status, next_attempt_at, created_at)
                       values (${id}, '+26876000000', 'x', 'payment', ${status}, ${createdAt}::timestamptz, ${createdAt}::timestamptz)`);
  return id;
}

/** An event with one delivery per `deliveries` status (one endpoint each) and `attempts` attempts per delivery. */
async function webhookEvent(
  partnerId: string,
  endpoints: string[],
  createdAt: string,
  deliveries: string[],
  attempts = 1,
) {
  const eventId = newId("evt");
  await db.execute(sql`insert into webhook_events (id, partner_id, type, body, created_at)
                       values (${eventId}, ${partnerId}, 'deposit.completed', '{}', ${createdAt}::timestamptz)`);
  const ids: string[] = [];
  for (const [i, status] of deliveries.entries()) {
    const id = newId("whd");
    ids.push(id);
    await db.execute(sql`insert into webhook_deliveries (id, event_id, endpoint_id, partner_id, event_type, status, attempts, next_attempt_at, created_at)
                         values (${id}, ${eventId}, ${endpoints[i]!}, ${partnerId}, 'deposit.completed', ${status}, ${attempts},
                                 ${createdAt}::timestamptz, ${createdAt}::timestamptz)`);
    for (let a = 1; a <= attempts; a++)
      await db.execute(sql`insert into webhook_attempts (delivery_id, attempt, at, latency_ms)
                           values (${id}, ${a}, ${createdAt}::timestamptz, 5)`);
  }
  return { eventId, deliveries: ids };
}

async function ussdSession(expiresAt: string, ended = false) {
  const id = `s-${newId("ses")}`;
  await db.execute(sql`insert into ussd_sessions (gateway, session_id, nonce, phone, state, last_reply, ended, created_at, updated_at, expires_at)
                       values ('mtn', ${id}, 'n', '+26876000000', '{}'::jsonb, 'END bye', ${ended},
                               ${expiresAt}::timestamptz, ${expiresAt}::timestamptz, ${expiresAt}::timestamptz)`);
  return id;
}

async function otpChallenge(expiresAt: string) {
  const id = newId("otp");
  await db.execute(sql`insert into otp_challenges (id, purpose, phone, code_hash, key_id, status, created_at, expires_at)
                       values (${id}, 'user_login', '+26876000000', 'h', 'k', 'pending', ${expiresAt}::timestamptz, ${expiresAt}::timestamptz)`);
  return id;
}

const vendor = await createVendor(t);
const pay = (token: string, amount: number, idem: string) =>
  t.request("POST", "/v1/payments", {
    token,
    headers: { "idempotency-key": idem },
    body: { vendorCode: vendor.code, amount, currency: "SZL", pin: PIN },
  });

describe("retention", () => {
  test("401 without the right secret", async () => {
    expect((await run(null)).status).toBe(401);
    expect((await run("not-the-secret-at-all")).status).toBe(401);
  });

  test("deletes exactly the rows past their use; pending work, recent rows and every money record stay; a young payment still replays", async () => {
    // Money: payments whose stored answers are 6 days (kept) and 8 days (past the 7) old.
    const user = await kit.fundedUser(50_000);
    const youngKey = key();
    const young = await pay(user.accessToken, 1_000, youngKey);
    expect(young.status).toBe(201);
    const oldKey = key();
    expect((await pay(user.accessToken, 2_000, oldKey)).status).toBe(201);
    await db.execute(
      sql`update idempotency_keys set created_at = ${ago(6 * DAY)}::timestamptz where key = ${youngKey}`,
    );
    await db.execute(sql`update idempotency_keys set created_at = ${ago(8 * DAY)}::timestamptz where key = ${oldKey}`);
    await db.execute(sql`insert into idempotency_keys (scope, key, request_hash, status, body, created_at)
                         values ('mtn', 'ancient', 'h', 201, '{}'::jsonb, ${ago(30 * DAY)}::timestamptz)`);
    // More than two batches' worth, so the run has to come back for the rest.
    await db.execute(sql`insert into idempotency_keys (scope, key, request_hash, status, body, created_at)
                         select 'bulk', 'k' || g, 'h', 201, '{}'::jsonb, ${ago(10 * DAY)}::timestamptz
                           from generate_series(1, 12001) g`);

    // Usage counters: today's (from the payments) and 3 days back stay; 4 days back goes; months likewise.
    for (const period of [localDay(3), localDay(4), localDay(40), localMonth(2), localMonth(3), localMonth(14)])
      await db.execute(sql`insert into usage_counters (owner_id, period, total) values (${user.id}, ${period}, 100)`);
    const usageKept = [localDay(0), localDay(3), localMonth(0), localMonth(2)];
    const usageGone = [localDay(4), localDay(40), localMonth(3), localMonth(14)];

    // Outbox: finished rows past 30 days go; pending rows however old, and younger finished rows, stay.
    const outboxGone = [
      await outboxRow("sent", ago(31 * DAY)),
      await outboxRow("failed", ago(31 * DAY)),
      await outboxRow("expired", ago(400 * DAY)),
    ];
    const outboxKept = [
      await outboxRow("pending", ago(400 * DAY)),
      await outboxRow("sent", ago(29 * DAY)),
      await outboxRow("failed", ago(29 * DAY)),
    ];

    // Webhooks: a partner with two endpoints; its real deposit's delivery is pending and recent.
    const partner = await createPartner(t, { scopes: ["deposits:create", "webhooks:manage"] });
    const endpoints: string[] = [];
    for (const url of ["https://bank.example/a", "https://bank.example/b"]) {
      const created = await t.request("POST", "/partner/v1/webhooks", {
        headers: { "x-api-key": partner.apiKey },
        body: { url },
      });
      expect(created.status).toBe(201);
      endpoints.push(created.json.endpoint.id);
    }
    const deposited = await t.request("POST", "/partner/v1/deposits", {
      headers: { "x-api-key": partner.apiKey, "idempotency-key": key() },
      body: { phone: user.phone, amount: 500, currency: "SZL", externalReference: `ext-${key()}` },
    });
    expect(deposited.status).toBe(201);
    const delivered = await webhookEvent(partner.id, endpoints, ago(31 * DAY), ["delivered", "failed"], 3);
    const stillPending = await webhookEvent(partner.id, endpoints, ago(31 * DAY), ["pending"], 2);
    const halfDone = await webhookEvent(partner.id, endpoints, ago(31 * DAY), ["delivered", "pending"]);
    const recent = await webhookEvent(partner.id, endpoints, ago(29 * DAY), ["delivered"]);
    const orphanOld = await webhookEvent(partner.id, endpoints, ago(31 * DAY), []);
    const orphanYoung = await webhookEvent(partner.id, endpoints, ago(29 * DAY), []);
    const deliveriesBefore = await count("webhook_deliveries");
    const attemptsBefore = await count("webhook_attempts");
    const eventsBefore = await count("webhook_events");

    // USSD sessions and OTP challenges: dead for more than a day go.
    const sessionsGone = [await ussdSession(ago(25 * HOUR)), await ussdSession(ago(3 * DAY), true)];
    const sessionsKept = [await ussdSession(ago(23 * HOUR), true), await ussdSession(ago(-2 * 60_000))];
    const otpGone = await otpChallenge(ago(25 * HOUR));
    const otpKept = [await otpChallenge(ago(23 * HOUR)), await otpChallenge(ago(-5 * 60_000))];
    const otpBefore = await count("otp_challenges");
    const sessionsBefore = await count("ussd_sessions");
    const outboxBefore = await count("notification_outbox");

    // Rate limits: a spent row (tat passed) goes, a live one stays.
    await db.execute(sql`insert into rate_limits (key, tat) values ('test:spent', ${ago(HOUR)}::timestamptz),
                                                                   ('test:live', ${ago(-HOUR)}::timestamptz)`);

    const keysBefore = await count("idempotency_keys");
    const money = await moneyCounts();
    const wallet = (await kit.wallet(user.accessToken)).balance;

    const res = await run();
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ jobRunId: expect.stringMatching(/^job_/), status: "succeeded" });
    const { deleted, failed, complete } = res.json.summary;
    expect(failed).toEqual([]);
    expect(complete).toBe(true);
    expect(deleted).toMatchObject({
      idempotency_keys: 12_003,
      usage_counters: 4,
      notification_outbox: 3,
      webhook_deliveries: 3,
      webhook_attempts: 7,
      webhook_events: 2,
      ussd_sessions: 2,
      otp_challenges: 1,
    });
    expect(deleted.rate_limits).toBeGreaterThanOrEqual(1);

    // Exactly those went.
    expect(await count("idempotency_keys")).toBe(keysBefore - 12_003);
    expect(
      await exists(sql`select 1 from idempotency_keys where key in (${oldKey}, 'ancient') or scope = 'bulk'`),
    ).toBe(false);
    expect(await exists(sql`select 1 from idempotency_keys where key = ${youngKey}`)).toBe(true);
    const periods = (
      await queryRows<{ period: string }>(db, sql`select period from usage_counters where owner_id = ${user.id}`)
    ).map((r) => r.period);
    expect(periods.sort()).toEqual([...usageKept].sort());
    for (const id of usageGone) expect(periods).not.toContain(id);
    const outboxIds = async (ids: string[]) =>
      (await queryRows<{ id: string }>(db, sql`select id from notification_outbox`)).filter((r) => ids.includes(r.id))
        .length;
    expect(await outboxIds(outboxGone)).toBe(0);
    expect(await outboxIds(outboxKept)).toBe(outboxKept.length);
    expect(await count("notification_outbox")).toBe(outboxBefore - 3);

    const deliveryIds = (await queryRows<{ id: string }>(db, sql`select id from webhook_deliveries`)).map((r) => r.id);
    for (const id of delivered.deliveries) expect(deliveryIds).not.toContain(id);
    expect(deliveryIds).toContain(halfDone.deliveries[1]!);
    expect(deliveryIds).not.toContain(halfDone.deliveries[0]!);
    for (const id of [...stillPending.deliveries, ...recent.deliveries]) expect(deliveryIds).toContain(id);
    expect(await count("webhook_deliveries")).toBe(deliveriesBefore - 3);
    expect(await count("webhook_attempts")).toBe(attemptsBefore - 7);
    const eventIds = (await queryRows<{ id: string }>(db, sql`select id from webhook_events`)).map((r) => r.id);
    for (const id of [delivered.eventId, orphanOld.eventId]) expect(eventIds).not.toContain(id);
    for (const id of [stillPending.eventId, halfDone.eventId, recent.eventId, orphanYoung.eventId])
      expect(eventIds).toContain(id);
    expect(await count("webhook_events")).toBe(eventsBefore - 2);
    expect(
      await exists(sql`select 1 from webhook_deliveries where partner_id = ${partner.id} and status = 'pending'
                         and created_at > ${ago(HOUR)}::timestamptz`),
    ).toBe(true);

    const sessions = (await queryRows<{ session_id: string }>(db, sql`select session_id from ussd_sessions`)).map(
      (r) => r.session_id,
    );
    for (const id of sessionsGone) expect(sessions).not.toContain(id);
    for (const id of sessionsKept) expect(sessions).toContain(id);
    expect(await count("ussd_sessions")).toBe(sessionsBefore - 2);
    expect(await exists(sql`select 1 from otp_challenges where id = ${otpGone}`)).toBe(false);
    for (const id of otpKept) expect(await exists(sql`select 1 from otp_challenges where id = ${id}`)).toBe(true);
    expect(await count("otp_challenges")).toBe(otpBefore - 1);
    expect(await exists(sql`select 1 from rate_limits where key = 'test:spent'`)).toBe(false);
    expect(await exists(sql`select 1 from rate_limits where key = 'test:live'`)).toBe(true);

    // Money records: every row still there, the ledger still whole.
    expect(await moneyCounts()).toEqual(money);
    await kit.expectVerified();

    // The 6-day-old answer still replays: the same payment, not a second one.
    const replay = await pay(user.accessToken, 1_000, youngKey);
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json).toEqual(young.json);
    expect((await kit.wallet(user.accessToken)).balance).toBe(wallet);
    expect(await moneyCounts()).toEqual(money);

    // A run right after finds nothing old left.
    const again = await run();
    expect(again.status).toBe(200);
    const { rate_limits: _spentSince, ...rest } = again.json.summary.deleted;
    expect(Object.values(rest).every((n) => n === 0)).toBe(true);
  });

  test("while a run is in progress, a second one is 409 CONFLICT", async () => {
    // Hold job_runs so whichever run takes the job's lock first stalls recording its start.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = db.transaction(
      async (tx) => {
        await tx.execute(sql`lock table job_runs in exclusive mode`);
        locked();
        await gate;
      },
      { isolationLevel: "read committed" },
    );
    await holding;
    const a = run();
    const b = run();
    const first = await Promise.race([a, b]);
    expect(first.status).toBe(409);
    expect(first.json.error).toMatchObject({ code: "CONFLICT", details: { job: "retention", reason: "JOB_RUNNING" } });
    release();
    await holder;
    const statuses = [(await a).status, (await b).status].sort();
    expect(statuses).toEqual([200, 409]);
  });

  test("the in-process loop is due only without a successful, complete run in the last 20 hours", async () => {
    expect(await retentionDue(t.deps, "retention")).toBe(false);
    const saved = t.deps.now;
    t.deps.now = () => new Date(saved().getTime() + 21 * HOUR);
    try {
      expect(await retentionDue(t.deps, "retention")).toBe(true);
    } finally {
      t.deps.now = saved;
    }
    const registry = await t.request("GET", "/admin/v1/jobs", { token: (await kit.admin("finance")).token });
    expect(registry.json.data.find((j: { name: string }) => j.name === "retention")).toMatchObject({
      path: "/jobs/retention",
      loop: true,
      lastRun: { status: "succeeded" },
    });
  });

  test("KESHLESS_RETENTION_DAYS defaults to 90 and refuses less than a week", () => {
    const base = { KESHLESS_ENV: "test", KESHLESS_DATA_DIR: "/tmp/keshless-unused", ...TEST_SECRETS };
    expect(loadConfig(base).retention.days).toBe(90);
    expect(t.config.retention.days).toBe(30);
    expect(() => loadConfig({ ...base, KESHLESS_RETENTION_DAYS: "3" })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, KESHLESS_RETENTION_DAYS: "3" })).toThrow(/KESHLESS_RETENTION_DAYS/);
  });
});
