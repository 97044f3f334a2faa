import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { jobRuns } from "../../src/jobs/schema";
import { signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/**
 * POST /jobs/approval-expiry: every pending approval past its TTL is expired — its hold released, the
 * owner told — once, however many runs race or retry; each run is recorded in job_runs.
 */
const t = await createTestContext({
  KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX: "1000",
  KESHLESS_APPROVAL_TTL_HOURS: "24",
  KESHLESS_CARD_FEE: "3000",
});
const kit = await moneyKit(t);
const { fundedUser, expectVerified, inbox } = kit;

let offset = 0;
const real = Date.now;
t.deps.now = () => new Date(real() + offset);
const hours = (h: number) => {
  offset += h * 3_600_000;
};

const run = (secret: string | null = t.config.secrets.job) =>
  t.request("POST", "/jobs/approval-expiry", secret === null ? {} : { headers: { "x-job-secret": secret } });

async function pendingWithdrawal(amount: number) {
  const user = await fundedUser(amount + 10_000);
  const res = await t.request("POST", "/v1/withdrawals", {
    token: user.accessToken,
    headers: { "idempotency-key": key() },
    body: { amount, currency: "SZL", pin: PIN, destination: { type: "agent", agentCode: "AG1" } },
  });
  expect(res.status).toBe(202);
  return { user, id: res.json.id as string };
}

async function pendingCard() {
  const user = await fundedUser(10_000);
  const res = await t.request("POST", "/v1/card-requests", {
    token: user.accessToken,
    headers: { "idempotency-key": key() },
    body: { pin: PIN },
  });
  expect(res.status).toBe(202);
  return { user, id: res.json.id as string };
}

/** Balance and held amount of a user's wallet, read through the ledger (tokens die as the clock moves). */
async function walletOf(userId: string) {
  const account = await t.deps.payments.walletOf("user_wallet", userId);
  const b = await t.deps.ledger.balance(account);
  return { balance: Number(b.balance), held: Number(b.held) };
}

describe("approval expiry", () => {
  test("401 without the right secret, and nothing changes", async () => {
    const w = await pendingWithdrawal(5_000);
    hours(25);
    expect((await run(null)).status).toBe(401);
    expect((await run("not-the-secret-at-all")).status).toBe(401);
    expect((await t.deps.approvals.forSubject("withdrawal", w.id))!.status).toBe("pending");
    hours(-25);
  });

  test("expires what is past its TTL (withdrawals and cards), releases the money, tells the owner; two runs at once act once", async () => {
    const w1 = await pendingWithdrawal(5_000);
    const w2 = await pendingWithdrawal(7_000);
    const card = await pendingCard();
    expect(await walletOf(w1.user.id)).toEqual({ balance: 15_000, held: 5_500 });
    expect(await walletOf(card.user.id)).toEqual({ balance: 10_000, held: 3_000 });
    hours(23);
    const young = await pendingWithdrawal(6_000);
    hours(2);

    const [a, b] = await Promise.all([run(), run()]);
    const statuses = [a.status, b.status].sort();
    // The second either finds the lock taken (409) or, having started after the first finished, nothing to do.
    expect(statuses[0]).toBe(200);
    expect([200, 409]).toContain(statuses[1]!);
    const ran = [a, b].filter((r) => r.status === 200);
    const expired = ran.reduce((n, r) => n + r.json.summary.expired, 0);
    expect(expired).toBe(4); // these three, and the first test's withdrawal (as old by now)
    for (const r of ran)
      expect(r.json).toMatchObject({ jobRunId: expect.stringMatching(/^job_/), status: "succeeded" });
    const loser = [a, b].find((r) => r.status === 409);
    if (loser) expect(loser.json.error).toMatchObject({ code: "CONFLICT", details: { job: "approval-expiry" } });

    for (const w of [w1, w2]) {
      expect((await t.deps.approvals.forSubject("withdrawal", w.id))!.status).toBe("expired");
      const view = await t.deps.withdrawals.view(w.id, { type: "user", id: w.user.id });
      expect(view).toMatchObject({ status: "expired", transaction: { status: "failed" } });
      expect((await inbox(w.user.phone)).filter((m) => m.kind === "withdrawal_expired")).toHaveLength(1);
    }
    expect(await walletOf(w1.user.id)).toEqual({ balance: 15_000, held: 0 });
    expect(await walletOf(card.user.id)).toEqual({ balance: 10_000, held: 0 });
    expect((await t.deps.cards.get(card.id, card.user.id)).status).toBe("expired");
    expect((await inbox(card.user.phone)).filter((m) => m.kind === "card_expired")).toHaveLength(1);
    // Younger than its TTL: untouched.
    expect((await t.deps.approvals.forSubject("withdrawal", young.id))!.status).toBe("pending");
    expect(await walletOf(young.user.id)).toEqual({ balance: 16_000, held: 6_500 });

    // A retried run (Cloud Scheduler retries on any doubt) changes nothing twice.
    const retried = await run();
    expect(retried.status).toBe(200);
    expect(retried.json.summary).toMatchObject({ due: 0, expired: 0 });
    const audit = await t.deps.audit.list({ action: "approval.expire", limit: 50 });
    expect(audit.data).toHaveLength(4);
    await expectVerified();
  });

  test("each run is recorded; admins read the runs and the job registry", async () => {
    const recorded = await t.deps.database.db.select().from(jobRuns).where(eq(jobRuns.name, "approval-expiry"));
    expect(recorded.length).toBeGreaterThanOrEqual(2);
    expect(recorded.every((r) => r.status === "succeeded" && r.finishedAt && r.trigger === "http")).toBe(true);

    const admin = await kit.admin("finance");
    const list = await t.request("GET", "/admin/v1/job-runs?name=approval-expiry&limit=1", { token: admin.token });
    expect(list.status).toBe(200);
    expect(list.json.data).toHaveLength(1);
    expect(list.json.data[0]).toMatchObject({ name: "approval-expiry", status: "succeeded", summary: { due: 0 } });
    expect(list.json.nextCursor).not.toBeNull();
    const next = await t.request(
      "GET",
      `/admin/v1/job-runs?name=approval-expiry&limit=1&cursor=${list.json.nextCursor}`,
      {
        token: admin.token,
      },
    );
    expect(next.json.data[0].id).not.toBe(list.json.data[0].id);
    const one = await t.request("GET", `/admin/v1/job-runs/${list.json.data[0].id}`, { token: admin.token });
    expect(one.json.id).toBe(list.json.data[0].id);
    const registry = await t.request("GET", "/admin/v1/jobs", { token: admin.token });
    // Every module's jobs, in module order (other modules add theirs).
    expect(registry.json.data.map((j: { name: string }) => j.name)).toEqual(
      expect.arrayContaining(["approval-expiry", "airtime-reconcile", "retention"]),
    );
    expect(registry.json.data[0].lastRun.id).toBe(list.json.data[0].id);
    const support = await kit.admin("support");
    expect((await t.request("GET", "/admin/v1/job-runs", { token: support.token })).status).toBe(403);
  });

  test("a run whose process died is marked abandoned by the next run", async () => {
    // What a crash leaves behind: a row still "running" whose lock died with its connection.
    await t.deps.database.db.insert(jobRuns).values({
      id: `job_crashed${Date.now()}`,
      name: "approval-expiry",
      trigger: "http",
      status: "running",
      startedAt: t.deps.now(),
    });
    const res = await run();
    expect(res.status).toBe(200);
    const rows = await t.deps.database.db.select().from(jobRuns).where(eq(jobRuns.status, "abandoned"));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.finishedAt).not.toBeNull();
  });

  test("an item that fails does not stop the others; the run is failed (500 with its id) and a retry finishes the job", async () => {
    let failing = true;
    t.deps.approvals.register("flaky", {
      label: "Flaky",
      onApprove: async () => {},
      onReject: async () => {},
      onExpire: async () => {
        if (failing) throw new Error("downstream unavailable");
      },
    });
    const admin = await kit.admin("finance");
    const flaky = await t.deps.database.db.transaction((tx) =>
      t.deps.approvals.request(
        { kind: "flaky", subjectId: "x1", requestedBy: { type: "admin", id: admin.id } },
        tx as never,
      ),
    );
    const w = await pendingWithdrawal(2_000);
    hours(25);
    const res = await run();
    expect(res.status).toBe(500);
    const jobRunId = res.json.error.details.jobRunId;
    expect(jobRunId).toMatch(/^job_/);
    expect(res.json.error.code).toBe("INTERNAL");
    expect(res.json.error.details.status).toBe("failed");
    // The flaky one failed; the withdrawal (and the one left young by the earlier test) expired regardless.
    expect(res.json.error.details.summary).toMatchObject({ expired: 2, failed: 1 });
    expect((await t.deps.approvals.forSubject("withdrawal", w.id))!.status).toBe("expired");
    expect((await t.deps.approvals.get(flaky.id))!.status).toBe("pending");
    const failedRun = await t.deps.jobs.get(jobRunId);
    expect(failedRun).toMatchObject({ status: "failed" });
    failing = false;
    const retry = await run();
    expect(retry.status).toBe(200);
    expect(retry.json.summary).toMatchObject({ expired: 1, failed: 0 });
    await expectVerified();
  });

  test("while a run is in progress, another is 409 CONFLICT (whichever instance or trigger it comes from)", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    t.deps.approvals.register("gated", {
      label: "Gated",
      onApprove: async () => {},
      onReject: async () => {},
      onExpire: async () => {},
      // Outside the decision's transaction: the embedded database has one connection to share.
      prepare: async () => {
        entered();
        await gate;
      },
    });
    const admin = await kit.admin("finance");
    await t.deps.database.db.transaction((tx) =>
      t.deps.approvals.request(
        { kind: "gated", subjectId: "g1", requestedBy: { type: "admin", id: admin.id } },
        tx as never,
      ),
    );
    hours(25);
    const first = run();
    await inside;
    const second = await run();
    expect(second.status).toBe(409);
    expect(second.json.error).toMatchObject({ code: "CONFLICT", details: { reason: "JOB_RUNNING" } });
    await expect(t.deps.jobs.runJob("approval-expiry", "cli")).rejects.toThrow(/in progress/);
    // Another job is not blocked by this one.
    expect(
      (await t.request("POST", "/jobs/airtime-reconcile", { headers: { "x-job-secret": t.config.secrets.job } }))
        .status,
    ).toBe(200);
    release();
    const done = await first;
    expect(done.status).toBe(200);
    expect(done.json.summary.expired).toBe(1);
    expect((await run()).status).toBe(200);
  });

  test("the CLI runs a job by name, recorded as trigger cli", async () => {
    const run = await t.deps.jobs.runJob("approval-expiry", "cli");
    expect(run).toMatchObject({ name: "approval-expiry", trigger: "cli", status: "succeeded" });
    await expect(t.deps.jobs.runJob("nope", "cli")).rejects.toThrow(/No job/);
    // Keep signInUser reachable for the next reader: a fresh session still works after the clock moved.
    expect((await signInUser(t)).accessToken).toBeString();
  });
});
