import { describe, expect, test } from "bun:test";
import { createVendor, signInVendor } from "../support/factories";
import { createTestContext } from "../support/harness";
import { key, moneyKit, PIN } from "./kit";

/**
 * Withdrawals from the outside: automatic below the threshold, approval above it (one finance admin,
 * two from the dual-approval line), reject, every validation, idempotency, concurrency, funds, limits,
 * vendors — and ledger:verify after each money path.
 */
const t = await createTestContext({
  KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX: "10000",
  KESHLESS_WITHDRAWAL_DUAL_APPROVAL_MIN: "50000",
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 100_000, daily: 150_000, monthly: 400_000, maxBalance: 1_000_000 },
  }),
});
const kit = await moneyKit(t);
const { fundedUser, wallet, expectVerified, systemBalance, inbox, decide } = kit;
const finance = await kit.admin("finance");
const finance2 = await kit.admin("finance");
const compliance = await kit.admin("compliance");
const support = await kit.admin("support");
const superAdmin = await kit.admin("super_admin");

const bank = { type: "bank", bankCode: "FNB", accountNumber: "6200 123 4567", accountName: "Thandi Dlamini" };
const withdraw = (token: string, body: Record<string, unknown>, idem = key()) =>
  t.request("POST", "/v1/withdrawals", { token, headers: { "idempotency-key": idem }, body });
const body = (amount: number, destination: Record<string, unknown> = bank) => ({
  amount,
  currency: "SZL",
  pin: PIN,
  destination,
});

async function approvalFor(subjectId: string) {
  const res = await t.request("GET", `/admin/v1/approvals?subjectId=${subjectId}`, { token: finance.token });
  expect(res.status).toBe(200);
  return res.json.data[0];
}

describe("below the auto-approve line", () => {
  test("completes at once: 201, amount + fee leave the wallet, clearing and fee revenue credited", async () => {
    const user = await fundedUser(20_000);
    const [clearing, fees] = [await systemBalance("withdrawal_clearing"), await systemBalance("fee_revenue")];
    const idem = key();
    const res = await withdraw(user.accessToken, body(5_000), idem);
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({
      type: "withdrawal",
      status: "completed",
      amount: 5_000,
      fee: 500,
      feeBearer: "sender",
      direction: "debit",
      counterparty: { type: "system", id: "withdrawal_clearing", name: "FNB ••••4567" },
      balanceAfter: 14_500,
    });
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 14_500, available: 14_500, pending: 0 });
    expect(await systemBalance("withdrawal_clearing")).toBe(clearing + 5_000);
    expect(await systemBalance("fee_revenue")).toBe(fees + 500);

    const again = await withdraw(user.accessToken, body(5_000), idem);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.json).toEqual(res.json);
    const reused = await withdraw(user.accessToken, body(5_001), idem);
    expect(reused.status).toBe(422);
    expect(reused.json.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect((await wallet(user.accessToken)).balance).toBe(14_500);

    const detail = await t.request("GET", `/v1/withdrawals/${res.json.id}`, { token: user.accessToken });
    expect(detail.json).toMatchObject({
      status: "completed",
      destination: { type: "bank", bankCode: "FNB", accountNumber: "62001234567", accountName: "Thandi Dlamini" },
      transaction: { id: res.json.id, status: "completed" },
    });
    const listed = await t.request("GET", "/v1/wallet/transactions?limit=1", { token: user.accessToken });
    expect(listed.json.data[0]).toMatchObject({ id: res.json.id, type: "withdrawal", status: "completed" });
    expect(
      (await inbox(user.phone)).some((m) => m.kind === "withdrawal_completed" && m.body.includes(res.json.id)),
    ).toBe(true);
    const stranger = await fundedUser(0);
    expect((await t.request("GET", `/v1/withdrawals/${res.json.id}`, { token: stranger.accessToken })).status).toBe(
      404,
    );
    await expectVerified();
  });

  test("agent cash-out is a destination too", async () => {
    const user = await fundedUser(10_000);
    const res = await withdraw(user.accessToken, body(2_000, { type: "agent", agentCode: "ag1042" }));
    expect(res.status).toBe(201);
    expect(res.json.counterparty.name).toBe("Agent AG1042");
    await expectVerified();
  });

  test("two identical requests at once make one withdrawal", async () => {
    const user = await fundedUser(10_000);
    const idem = key();
    const results = await Promise.all([
      withdraw(user.accessToken, body(1_000), idem),
      withdraw(user.accessToken, body(1_000), idem),
    ]);
    expect(results.map((r) => r.status).sort()[0]).toBe(201);
    for (const r of results) expect([201, 409]).toContain(r.status);
    expect((await wallet(user.accessToken)).balance).toBe(10_000 - 1_500);
    await expectVerified();
  });

  test("concurrent distinct withdrawals never overdraw the wallet", async () => {
    const user = await fundedUser(6 * 1_500);
    const results = await Promise.all(Array.from({ length: 10 }, () => withdraw(user.accessToken, body(1_000))));
    expect(results.filter((r) => r.status === 201).length).toBe(6);
    expect(results.filter((r) => r.status !== 201).every((r) => r.json.error.code === "INSUFFICIENT_FUNDS")).toBe(true);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 0, available: 0 });
    await expectVerified();
  });
});

describe("refusals change nothing", () => {
  test("bad destinations, amounts and currencies are 400", async () => {
    const user = await fundedUser(10_000);
    const bad: Record<string, unknown>[] = [
      { ...bank, bankCode: "NOPE" },
      { ...bank, accountNumber: "12ab" },
      { ...bank, accountNumber: "123" },
      { ...bank, accountName: " " },
      { type: "agent", agentCode: "a!" },
      { type: "mpesa", phone: "x" },
      { bankCode: "FNB" },
    ];
    for (const destination of bad) {
      const res = await withdraw(user.accessToken, body(1_000, destination));
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
    for (const amount of [0, -5, 1.5, "100", 10_000_001]) {
      const res = await withdraw(user.accessToken, { ...body(1_000), amount });
      expect(res.status).toBe(400);
    }
    expect((await withdraw(user.accessToken, { ...body(1_000), currency: "USD" })).status).toBe(400);
    const noKey = await t.request("POST", "/v1/withdrawals", { token: user.accessToken, body: body(1_000) });
    expect(noKey.status).toBe(400);
    const anon = await t.request("POST", "/v1/withdrawals", {
      headers: { "idempotency-key": key() },
      body: body(1_000),
    });
    expect(anon.status).toBe(401);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 10_000, available: 10_000, pending: 0 });
  });

  test("a wrong PIN is 401 INVALID_PIN; insufficient funds is 422", async () => {
    const user = await fundedUser(3_000);
    const wrong = await withdraw(user.accessToken, { ...body(1_000), pin: "9999" });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe("INVALID_PIN");
    const poor = await withdraw(user.accessToken, body(2_600));
    expect(poor.status).toBe(422);
    expect(poor.json.error.code).toBe("INSUFFICIENT_FUNDS");
    const poorPending = await withdraw(user.accessToken, body(20_000));
    expect(poorPending.status).toBe(422);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 3_000, available: 3_000, pending: 0 });
    expect(
      (await t.request("GET", `/admin/v1/approvals?ownerId=${user.id}`, { token: finance.token })).json.data,
    ).toEqual([]);
  });

  test("KYC limits: per transaction and daily, naming the limit; a rejected withdrawal gives its share back", async () => {
    const user = await fundedUser(400_000);
    const big = await withdraw(user.accessToken, body(100_000));
    expect(big.status).toBe(422);
    expect(big.json.error).toMatchObject({ code: "LIMIT_EXCEEDED", details: { limit: "perTransaction" } });
    const first = await withdraw(user.accessToken, body(90_000));
    expect(first.status).toBe(202);
    const daily = await withdraw(user.accessToken, body(60_000));
    expect(daily.status).toBe(422);
    expect(daily.json.error.details.limit).toBe("daily");
    const approval = await approvalFor(first.json.id);
    expect((await decide(finance.token, approval.id, "reject", { reason: "Account name mismatch" })).status).toBe(200);
    const after = await withdraw(user.accessToken, body(60_000));
    expect(after.status).toBe(202);
    await expectVerified();
  });
});

describe("above the auto-approve line", () => {
  test("202 pending: held, queued for a finance admin; approval posts it and tells the owner", async () => {
    const user = await fundedUser(50_000);
    const clearing = await systemBalance("withdrawal_clearing");
    const res = await withdraw(user.accessToken, body(20_000));
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({
      type: "withdrawal",
      status: "pending",
      amount: 20_000,
      fee: 500,
      balanceAfter: null,
    });
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 50_000, available: 29_500, pending: 20_500 });
    expect((await inbox(user.phone)).some((m) => m.kind === "withdrawal_pending")).toBe(true);

    const approval = await approvalFor(res.json.id);
    expect(approval).toMatchObject({
      kind: "withdrawal",
      status: "pending",
      amount: 20_000,
      requiredApprovals: 1,
      requestedBy: { type: "user", id: user.id },
      summary: { destination: { bankCode: "FNB", accountNumber: "62001234567" }, fee: 500, held: 20_500 },
    });
    // Compliance may decide approvals in general, but withdrawals are finance's; support decides none.
    const byCompliance = await decide(compliance.token, approval.id, "approve");
    expect(byCompliance.status).toBe(403);
    expect(byCompliance.json.error.details.permission).toBe("withdrawals:approve");
    expect((await decide(support.token, approval.id, "approve")).status).toBe(403);
    expect((await decide(finance.token, approval.id, "approve", {}, "")).status).toBe(400);

    const idem = key();
    const ok = await decide(finance.token, approval.id, "approve", { note: "checked" }, idem);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      status: "approved",
      decidedBy: finance.id,
      checkers: [{ adminId: finance.id, note: "checked" }],
    });
    const replay = await decide(finance.token, approval.id, "approve", { note: "checked" }, idem);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await decide(finance2.token, approval.id, "approve")).status).toBe(409);

    expect(await wallet(user.accessToken)).toMatchObject({ balance: 29_500, available: 29_500, pending: 0 });
    expect(await systemBalance("withdrawal_clearing")).toBe(clearing + 20_000);
    const mine = await t.request("GET", `/v1/transactions/${res.json.id}`, { token: user.accessToken });
    expect(mine.json).toMatchObject({ status: "completed", balanceAfter: 29_500 });
    expect(
      (await inbox(user.phone)).some((m) => m.kind === "withdrawal_completed" && m.body.includes("approved")),
    ).toBe(true);
    const audit = await t.request("GET", `/admin/v1/audit?action=approval.*&targetId=${approval.id}`, {
      token: superAdmin.token,
    });
    expect(audit.status).toBe(200);
    expect(audit.json.data).toEqual([
      expect.objectContaining({ action: "approval.approve", actorType: "admin", actorId: finance.id }),
    ]);
    await expectVerified();
  });

  test("reject with a reason: the hold is released, the transaction fails, the owner hears why", async () => {
    const user = await fundedUser(30_000);
    const res = await withdraw(user.accessToken, body(15_000, { type: "agent", agentCode: "AG77" }));
    expect(res.status).toBe(202);
    const approval = await approvalFor(res.json.id);
    expect((await decide(finance.token, approval.id, "reject", {})).status).toBe(400);
    const rejected = await decide(finance.token, approval.id, "reject", { reason: "Agent is suspended" });
    expect(rejected.status).toBe(200);
    expect(rejected.json).toMatchObject({ status: "rejected", reason: "Agent is suspended", decidedBy: finance.id });
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 30_000, available: 30_000, pending: 0 });
    const mine = await t.request("GET", `/v1/withdrawals/${res.json.id}`, { token: user.accessToken });
    expect(mine.json).toMatchObject({
      status: "rejected",
      reason: "Agent is suspended",
      transaction: { status: "failed" },
    });
    expect(
      (await inbox(user.phone)).some((m) => m.kind === "withdrawal_rejected" && m.body.includes("Agent is suspended")),
    ).toBe(true);
    expect((await decide(finance.token, approval.id, "approve")).status).toBe(409);
    await expectVerified();
  });

  test("large withdrawals need two different finance admins (maker-checker)", async () => {
    const user = await fundedUser(100_000);
    const res = await withdraw(user.accessToken, body(60_000));
    expect(res.status).toBe(202);
    const approval = await approvalFor(res.json.id);
    expect(approval.requiredApprovals).toBe(2);
    const first = await decide(finance.token, approval.id, "approve");
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ status: "pending", checkers: [{ adminId: finance.id }] });
    expect((await wallet(user.accessToken)).pending).toBe(60_500);
    const same = await decide(finance.token, approval.id, "approve");
    expect(same.status).toBe(409);
    expect(same.json.error.details.reason).toBe("SAME_CHECKER");
    const second = await decide(finance2.token, approval.id, "approve");
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ status: "approved", decidedBy: finance2.id });
    expect(second.json.checkers).toHaveLength(2);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 39_500, pending: 0 });
    await expectVerified();
  });

  test("two admins deciding at once: one wins, the money moves once", async () => {
    const user = await fundedUser(40_000);
    const res = await withdraw(user.accessToken, body(30_000));
    const approval = await approvalFor(res.json.id);
    const results = await Promise.all([
      decide(finance.token, approval.id, "approve"),
      decide(finance2.token, approval.id, "reject", { reason: "duplicate request" }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409]);
    const w = (await t.request("GET", `/v1/withdrawals/${res.json.id}`, { token: user.accessToken })).json;
    expect(["completed", "rejected"]).toContain(w.status);
    expect((await wallet(user.accessToken)).balance).toBe(w.status === "completed" ? 9_500 : 40_000);
    expect((await wallet(user.accessToken)).pending).toBe(0);
    await expectVerified();
  });

  test("the queue filters and pages", async () => {
    const user = await fundedUser(100_000);
    for (let i = 0; i < 3; i++) expect((await withdraw(user.accessToken, body(11_000 + i))).status).toBe(202);
    const page1 = await t.request(
      "GET",
      `/admin/v1/approvals?ownerId=${user.id}&status=pending&kind=withdrawal&limit=2`,
      {
        token: support.token,
      },
    );
    expect(page1.status).toBe(200);
    expect(page1.json.data.map((a: { amount: number }) => a.amount)).toEqual([11_002, 11_001]);
    const page2 = await t.request(
      "GET",
      `/admin/v1/approvals?ownerId=${user.id}&status=pending&limit=2&cursor=${page1.json.nextCursor}`,
      { token: support.token },
    );
    expect(page2.json.data.map((a: { amount: number }) => a.amount)).toEqual([11_000]);
    expect(page2.json.nextCursor).toBeNull();
    const one = await t.request("GET", `/admin/v1/approvals/${page2.json.data[0].id}`, { token: support.token });
    expect(one.json.amount).toBe(11_000);
    expect((await t.request("GET", "/admin/v1/approvals/apr_nope", { token: support.token })).status).toBe(404);
    expect((await t.request("GET", "/admin/v1/approvals?status=bogus", { token: support.token })).status).toBe(400);
    expect((await t.request("GET", "/admin/v1/approvals?cursor=%%%", { token: support.token })).status).toBe(400);
    expect((await t.request("GET", "/admin/v1/approvals", { token: user.accessToken })).status).toBe(401);
  });
});

describe("vendors", () => {
  test("confirm with their password: completes, or waits for approval; a wrong password is 403 WRONG_PASSWORD", async () => {
    const vendor = await createVendor(t);
    const session = await signInVendor(t, vendor);
    const payer = await fundedUser(100_000);
    const paid = await t.request("POST", "/v1/payments", {
      token: payer.accessToken,
      headers: { "idempotency-key": key() },
      body: { vendorCode: vendor.code, amount: 60_000, currency: "SZL", pin: PIN },
    });
    expect(paid.status).toBe(201);
    const vwithdraw = (b: Record<string, unknown>, idem = key()) =>
      t.request("POST", "/v1/vendor/withdrawals", {
        token: session.accessToken,
        headers: { "idempotency-key": idem },
        body: b,
      });
    const vwallet = async () => (await t.request("GET", "/v1/vendor/wallet", { token: session.accessToken })).json;

    const wrong = await vwithdraw({ amount: 1_000, currency: "SZL", password: "not-it", destination: bank });
    // 403 with a reason, not 401: the session is still good and the app must not sign the vendor out.
    expect(wrong.status).toBe(403);
    expect(wrong.json.error).toMatchObject({ code: "FORBIDDEN", details: { reason: "WRONG_PASSWORD" } });
    expect((await t.request("GET", "/v1/vendor/wallet", { token: session.accessToken })).status).toBe(200);
    expect((await vwithdraw({ amount: 1_000, currency: "SZL", pin: PIN, destination: bank })).status).toBe(400);
    expect((await vwallet()).balance).toBe(60_000);

    const idem = key();
    const small = await vwithdraw(
      { amount: 5_000, currency: "SZL", password: vendor.password, destination: bank },
      idem,
    );
    expect(small.status).toBe(201);
    expect(small.json).toMatchObject({ type: "withdrawal", status: "completed", amount: 5_000, fee: 500 });
    const replay = await vwithdraw(
      { amount: 5_000, currency: "SZL", password: vendor.password, destination: bank },
      idem,
    );
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await vwallet()).balance).toBe(54_500);

    const large = await vwithdraw({ amount: 20_000, currency: "SZL", password: vendor.password, destination: bank });
    expect(large.status).toBe(202);
    expect(await vwallet()).toMatchObject({ balance: 54_500, pending: 20_500 });
    const approval = await approvalFor(large.json.id);
    expect(approval.requestedBy).toEqual({ type: "vendor", id: vendor.id });
    expect((await decide(finance.token, approval.id, "approve")).status).toBe(200);
    expect(await vwallet()).toMatchObject({ balance: 34_000, pending: 0 });
    const detail = await t.request("GET", `/v1/vendor/withdrawals/${large.json.id}`, { token: session.accessToken });
    expect(detail.json.status).toBe("completed");
    expect((await t.request("GET", `/v1/withdrawals/${large.json.id}`, { token: payer.accessToken })).status).toBe(404);
    expect((await inbox(vendor.phone)).some((m) => m.kind === "withdrawal_completed")).toBe(true);
    // A user token cannot withdraw a vendor's money, nor the reverse.
    expect(
      (
        await t.request("POST", "/v1/vendor/withdrawals", {
          token: payer.accessToken,
          headers: { "idempotency-key": key() },
          body: { amount: 1_000, currency: "SZL", password: "x", destination: bank },
        })
      ).status,
    ).toBe(401);
    expect((await withdraw(session.accessToken, body(1_000))).status).toBe(401);
    await expectVerified();
  });

  test("password attempts are rate-limited per vendor", async () => {
    const vendor = await createVendor(t);
    const session = await signInVendor(t, vendor);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await t.request("POST", "/v1/vendor/withdrawals", {
        token: session.accessToken,
        headers: { "idempotency-key": key() },
        body: { amount: 1_000, currency: "SZL", password: `guess-${i}`, destination: bank },
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 5)).toEqual([403, 403, 403, 403, 403]);
    expect(statuses[5]).toBe(429);
  });
});

describe("the smallest withdrawal", () => {
  test("an amount below the fee is refused, naming amount, and moves nothing", async () => {
    const user = await fundedUser(10_000);
    const fee = 500; // the default withdrawal fee, E5 flat on the sender
    const tiny = await withdraw(user.accessToken, body(100));
    expect(tiny.status).toBe(400);
    expect(tiny.json.error.code).toBe("VALIDATION_FAILED");
    expect(tiny.json.error.details).toEqual([{ path: "amount", message: expect.stringContaining(`${fee} cents`) }]);
    expect((await t.request("GET", "/v1/wallet", { token: user.accessToken })).json.balance).toBe(10_000);
    // The fee itself is the smallest amount accepted.
    expect((await withdraw(user.accessToken, body(fee))).status).toBe(201);
    await expectVerified();
  });
});
