import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { eswatiniDay } from "../../src/lib/clock";
import { signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { moneyKit } from "../withdrawals/kit";
import { runReportJob } from "./support";

/**
 * A trial balance that does not sum to zero fails the report job loudly. The database refuses an unbalanced
 * journal whatever code runs (a deferred constraint trigger), so the only way to one is around the database's
 * own rules: here, as a superuser would, with triggers off for one transaction (session_replication_role =
 * replica), one stray entry is written — the kind of damage a bad manual fix or a broken restore leaves.
 */
const t = await createTestContext();
const kit = await moneyKit(t);
const finance = await kit.admin("finance");
const day = eswatiniDay(t.deps.now());

const user = await signInUser(t);
await kit.deposit(user.phone, 10_000);
const wallet = await t.deps.payments.walletOf("user_wallet", user.id);

await t.deps.database.db.transaction(async (tx) => {
  await tx.execute(sql`set local session_replication_role = replica`);
  await tx.execute(
    sql`insert into ledger_journals (id, kind, request) values ('txn_stray_entry', 'manual_fix', '{}'::jsonb)`,
  );
  await tx.execute(
    sql`insert into ledger_entries (journal_id, account_id, shard, currency, amount, balance_after)
        values ('txn_stray_entry', ${wallet}, 0, 'SZL', 250, 10250)`,
  );
});

describe("an unbalanced trial balance", () => {
  test("is what ledger:verify sees too", async () => {
    const verify = await t.deps.ledger.verify();
    expect(verify.ok).toBe(false);
    expect(verify.problems.map((p) => p.check)).toContain("journal_unbalanced");
  });

  test("fails the run (500 with its jobRunId), logs an error, and stores the report saying it does not balance", async () => {
    const res = await runReportJob(t, `?date=${day}`);
    expect(res.status).toBe(500);
    expect(res.json.error.details).toMatchObject({
      status: "failed",
      summary: { date: day, balanced: false, error: "the trial balance does not sum to zero" },
    });
    const run = await t.deps.jobs.get(res.json.error.details.jobRunId);
    expect(run).toMatchObject({ name: "report-generation", status: "failed" });
    const logged = t.logs
      .map((line) => JSON.parse(line))
      .filter((l) => l.component === "reports" && l.level === "error");
    expect(logged.map((l) => l.message)).toEqual([
      "the trial balance does not sum to zero: the ledger is inconsistent; run ledger:verify",
    ]);

    const list = await t.request("GET", `/admin/v1/reports?type=financial&from=${day}&to=${day}`, {
      token: finance.token,
    });
    const report = (await t.request("GET", `/admin/v1/reports/${list.json.data[0].id}`, { token: finance.token })).json;
    expect(report.summary).toMatchObject({ balanced: false, unexplained: -250 });
    expect(report.trialBalance.balanced).toBe(false);
    expect(report.trialBalance.currencies[0]).toMatchObject({ currency: "SZL", balanced: false, net: 250 });
    // The stray 250 cents sit in a wallet with nothing behind them: e-money the float does not cover.
    expect(report.eMoney[0]).toMatchObject({ outstanding: 10_250, float: 10_000, difference: -250, unexplained: -250 });
  });
});
