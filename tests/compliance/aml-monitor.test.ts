import { describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import { MONITORED_TYPES } from "../../src/compliance/aml-monitor";
import { amlMonitorPending, amlMonitorState } from "../../src/compliance/schema";
import { queryRows } from "../../src/db/client";
import { transactions } from "../../src/payments/schema";
import { createTestContext } from "../support/harness";
import { key, PIN } from "../withdrawals/kit";
import { AML_ENV, amlKit } from "./aml-kit";

/**
 * The AML monitor over real payments made through the API: structuring and velocity each raise exactly one alert
 * with their transactions as evidence; payments go through while the monitor is stopped and a restarted one
 * catches up without missing or repeating a transaction; a row that was pending when passed is evaluated when it
 * completes; and (Postgres) a transaction that commits after later ones is still seen, once.
 */
const t = await createTestContext({ ...AML_ENV, KESHLESS_AML_MONITOR_INTERVAL_MS: "50" });
const k = await amlKit(t);
const { db } = t.deps.database;
const compliance = await k.adminToken("compliance");
const finance = await k.admin("finance");

// This file's velocity scenarios: more than 5 outgoing in an hour, or more than 3 recipients in a day.
for (const [id, maxCount] of [
  ["velocity_count", 5],
  ["velocity_counterparties", 3],
] as const) {
  const res = await t.request("PUT", `/admin/v1/aml/rules/${id}`, {
    token: compliance,
    body: { params: { maxCount } },
  });
  expect(res.status).toBe(200);
}

const evaluated = async () => (await db.select().from(amlMonitorState))[0]?.evaluated ?? 0;
/** Every completed (or since reversed) transaction the monitor looks at. */
async function evaluable(): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from transactions
          where status in ('completed', 'reversed') and type in (${sql.join(
            MONITORED_TYPES.map((type) => sql`${type}`),
            sql`, `,
          )})`,
  );
  return row!.n;
}

async function until(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the monitor");
    await Bun.sleep(25);
  }
}

/** A user who can send E4,800 four times without the money passing straight through (rapid in-out). */
const structuringUser = () => k.fundedUser(Array(6).fill(401_000));

describe("rules over real payments", () => {
  test("structuring: three transfers just under the cash threshold in a day raise one alert, the three its evidence", async () => {
    const user = await structuringUser();
    const receivers = [await k.receiver(), await k.receiver(), await k.receiver()];
    const sent = [];
    for (const r of receivers) sent.push(await k.transfer(user, r, 480_000));
    await k.aml.monitor.drain();

    const alerts = await k.alertsOf(user.id, compliance);
    expect(alerts.map((a) => a.rule)).toEqual(["structuring"]);
    expect(alerts[0]).toMatchObject({ status: "open", hits: 1, priority: 4, escalationLevel: 0 });
    const detail = await k.alert(alerts[0]!.id, compliance);
    expect(detail.evidence.map((e: { id: string }) => e.id).sort()).toEqual([...sent].sort());
    expect(detail.details).toMatchObject({ count: 3, threshold: 500_000, margin: 50_000, total: 1_440_000 });
    expect(detail.history.map((h: { action: string }) => h.action)).toEqual(["aml.alert.opened"]);
    for (const r of receivers) expect(await k.alertsOf(r.id, compliance)).toEqual([]);

    // A fourth is a new hit on the same alert: more evidence, a higher priority, no second alert.
    const fourth = await k.transfer(user, receivers[0]!, 470_000);
    await k.aml.monitor.drain();
    const after = await k.alertsOf(user.id, compliance);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: alerts[0]!.id, hits: 2, priority: 5 });
    const more = await k.alert(alerts[0]!.id, compliance);
    expect(more.evidence.map((e: { id: string }) => e.id).sort()).toEqual([...sent, fourth].sort());
  });

  test("hits read in one pass count one by one: four structured transfers make one alert with two hits", async () => {
    const user = await structuringUser();
    // Two recipients: four would be a velocity hit in this file.
    const receivers = [await k.receiver(), await k.receiver()];
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(await k.transfer(user, receivers[i % 2]!, 480_000 - i * 1_000));
    await k.aml.monitor.drain();
    const alerts = await k.alertsOf(user.id, compliance);
    expect(alerts.map((a) => a.rule)).toEqual(["structuring"]);
    // The third opened it (priority 4), the fourth is a further hit (5) — the same as over two passes.
    expect(alerts[0]).toMatchObject({ hits: 2, priority: 5 });
    const detail = await k.alert(alerts[0]!.id, compliance);
    expect(detail.evidence.map((e: { id: string }) => e.id).sort()).toEqual([...sent].sort());
    expect(detail.details).toMatchObject({ count: 4 });
  });

  test("velocity by count: the sixth transfer within an hour raises one alert with all six", async () => {
    const user = await k.fundedUser([300_100]);
    const to = await k.receiver();
    const sent = [];
    for (let i = 0; i < 6; i++) sent.push(await k.transfer(user, to, 1_010));
    await k.aml.monitor.drain();
    const alerts = await k.alertsOf(user.id, compliance);
    expect(alerts.map((a) => a.rule)).toEqual(["velocity_count"]);
    expect(alerts[0]!.hits).toBe(1);
    const detail = await k.alert(alerts[0]!.id, compliance);
    expect(detail.evidence.map((e: { id: string }) => e.id).sort()).toEqual([...sent].sort());
    expect(detail.details).toMatchObject({ measure: "count", count: 6, maxCount: 5, windowHours: 1 });
    expect(await k.alertsOf(to.id, compliance)).toEqual([]);
  });

  test("velocity by counterparties: a fourth recipient in a day raises one alert with the four transfers", async () => {
    const user = await k.fundedUser([300_100]);
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push(await k.transfer(user, await k.receiver(), 1_010));
    await k.aml.monitor.drain();
    const alerts = await k.alertsOf(user.id, compliance);
    expect(alerts.map((a) => a.rule)).toEqual(["velocity_counterparties"]);
    const detail = await k.alert(alerts[0]!.id, compliance);
    expect(detail.evidence.map((e: { id: string }) => e.id).sort()).toEqual([...sent].sort());
    expect(detail.details).toMatchObject({ measure: "counterparties", counterparties: 4, maxCount: 3 });
  });
});

describe("a durable reader", () => {
  test("payments succeed while the monitor is stopped; restarted, it catches up without missing or doubling one", async () => {
    const worker = k.compliance.workers[0]!;
    worker.start();
    await until(async () => (await evaluated()) === (await evaluable()));
    await worker.stop();

    const before = await evaluated();
    const user = await structuringUser();
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await k.transfer(user, await k.receiver(), 490_000));
    await Bun.sleep(200);
    expect(await evaluated()).toBe(before);
    expect(await k.alertsOf(user.id, compliance)).toEqual([]);

    // Another process (or this one restarted): nothing but the database carries over.
    const restarted = k.instance().monitor;
    restarted.start();
    await until(async () => (await evaluated()) === (await evaluable()));
    await restarted.stop();
    expect(await evaluated()).toBe(before + 6 + 3);
    const alerts = await k.alertsOf(user.id, compliance);
    expect(alerts.map((a) => [a.rule, a.hits])).toEqual([["structuring", 1]]);
    expect((await k.alert(alerts[0]!.id, compliance)).evidence).toHaveLength(3);

    // Passes over what was read change nothing, from either instance.
    await restarted.drain();
    await k.aml.monitor.drain();
    expect(await evaluated()).toBe(await evaluable());
    expect((await k.alertsOf(user.id, compliance))[0]).toMatchObject({ hits: 1 });
  });

  test("history kept between passes: what another instance passed is read again, what this one passed is not lost", async () => {
    const user = await k.fundedUser([300_100]);
    const to = await k.receiver();
    const here = k.aml.monitor;
    const elsewhere = k.instance().monitor;
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await k.transfer(user, to, 1_010));
    await here.drain(); // this instance now holds the user's history: 3 transfers
    for (let i = 0; i < 2; i++) sent.push(await k.transfer(user, to, 1_010));
    await elsewhere.drain(); // 5 in the hour: under the limit, and not seen here
    expect(await k.alertsOf(user.id, compliance)).toEqual([]);
    sent.push(await k.transfer(user, to, 1_010));
    await here.drain(); // the sixth: only a history read afresh counts six
    const [alert] = await k.alertsOf(user.id, compliance);
    expect(alert).toMatchObject({ rule: "velocity_count", hits: 1 });
    sent.push(await k.transfer(user, to, 1_010));
    await here.drain(); // the seventh, on the history this instance kept
    const after = await k.alertsOf(user.id, compliance);
    expect(after.map((a) => [a.rule, a.hits])).toEqual([["velocity_count", 2]]);
    const detail = await k.alert(alert!.id, compliance);
    expect(detail.evidence.map((e: { id: string }) => e.id).sort()).toEqual([...sent].sort());
    expect(detail.details).toMatchObject({ measure: "count", count: 7 });
  });

  test("a withdrawal passed while pending waits, parked, and is evaluated once when it completes", async () => {
    const user = await k.fundedUser([300_100]);
    const res = await t.request("POST", "/v1/withdrawals", {
      token: user.accessToken,
      headers: { "idempotency-key": key() },
      body: {
        amount: 60_000,
        currency: "SZL",
        pin: PIN,
        destination: { type: "bank", bankCode: "FNB", accountNumber: "6200 123 4567", accountName: "Thandi Dlamini" },
      },
    });
    expect(res.status).toBe(202);
    await k.aml.monitor.drain();
    const parked = () => db.select().from(amlMonitorPending).where(eq(amlMonitorPending.transactionId, res.json.id));
    expect(await parked()).toHaveLength(1);
    expect(await evaluated()).toBe(await evaluable());

    const approval = (await t.request("GET", `/admin/v1/approvals?subjectId=${res.json.id}`, { token: finance.token }))
      .json.data[0];
    expect((await k.decide(finance.token, approval.id, "approve")).status).toBe(200);
    const [row] = await db.select().from(transactions).where(eq(transactions.id, res.json.id));
    expect(row!.status).toBe("completed");
    const before = await evaluated();
    await k.aml.monitor.drain();
    expect(await evaluated()).toBe(before + 1);
    expect(await parked()).toEqual([]);
    await k.aml.monitor.drain();
    expect(await evaluated()).toBe(before + 1);
  });

  // PGlite is one connection: no transaction can be open beside the monitor's, so there is no late commit to see.
  test.skipIf(!t.deps.database.sql)(
    "a transaction that commits after later ones is seen once: the cursor waits below the oldest open transaction",
    async () => {
      const pg = t.deps.database.sql!;
      const payer = await k.fundedUser([401_000]);
      const payee = await k.receiver();
      await k.transfer(payer, payee, 1_010);
      const [first] = await db
        .select()
        .from(transactions)
        .where(and(eq(transactions.payerId, payer.id), eq(transactions.payeeId, payee.id)));
      await k.aml.monitor.drain();
      const lateId = `txn_late${Date.now()}`;

      const open = await pg.reserve();
      let laterId: string;
      try {
        await open`begin`;
        // The row a slow payment writes: its created_at is its transaction's start, now.
        await open`insert into transactions (id, type, status, amount, fee, fee_bearer, currency,
                     payer_type, payer_id, payer_account, payee_type, payee_id, payee_account)
                   values (${lateId}, 'transfer', 'completed', 600000, 0, 'sender', 'SZL',
                     'user', ${payer.id}, ${first!.payerAccount}, 'user', ${payee.id}, ${first!.payeeAccount})`;
        // Begun after it and committed before it: a plain created_at cursor would move past the late row here.
        laterId = await k.transfer(payer, payee, 1_020);
        await k.aml.monitor.drain();
        const [held] = await queryRows<{ behind: boolean }>(
          db,
          sql`select s.cursor_at < t.created_at as behind from aml_monitor_state s, transactions t where t.id = ${laterId}`,
        );
        expect(held!.behind).toBe(true);
        expect(await k.alertsOf(payer.id, compliance)).toEqual([]);
        await open`commit`;
      } finally {
        open.release();
      }

      await k.aml.monitor.drain();
      const alerts = await k.alertsOf(payer.id, compliance, "large_transaction");
      expect(alerts.map((a) => a.hits)).toEqual([1]);
      expect((await k.alert(alerts[0]!.id, compliance)).evidence.map((e: { id: string }) => e.id)).toEqual([lateId]);
      await k.aml.monitor.drain();
      expect((await k.alertsOf(payer.id, compliance, "large_transaction"))[0]!.hits).toBe(1);
      expect(await evaluated()).toBe(await evaluable());
    },
  );
});
