import { describe, expect, test } from "bun:test";
import { createTestContext } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/** Card requests: the fee held pending approval; approve takes it, reject releases it. */
const t = await createTestContext({ KESHLESS_CARD_FEE: "5000" });
const kit = await moneyKit(t);
const { fundedUser, wallet, expectVerified, systemBalance, inbox, decide } = kit;
const compliance = await kit.admin("compliance");

const requestCard = (token: string, body: Record<string, unknown> = { pin: PIN }, idem = key()) =>
  t.request("POST", "/v1/card-requests", { token, headers: { "idempotency-key": idem }, body });

describe("card requests", () => {
  test("the fee is held; approval takes it to card fees and tells the user", async () => {
    const user = await fundedUser(20_000);
    const before = await systemBalance("card_fees");
    const idem = key();
    const res = await requestCard(
      user.accessToken,
      { pin: PIN, nameOnCard: "T DLAMINI", deliveryAddress: "Plot 12, Mbabane" },
      idem,
    );
    expect(res.status).toBe(202);
    expect(res.json.id).toMatch(/^crd_/);
    expect(res.json).toMatchObject({
      status: "pending",
      fee: 5_000,
      nameOnCard: "T DLAMINI",
      deliveryAddress: "Plot 12, Mbabane",
      transaction: { type: "card", status: "pending", amount: 5_000, fee: 0, counterparty: { id: "card_fees" } },
    });
    const replay = await requestCard(
      user.accessToken,
      { pin: PIN, nameOnCard: "T DLAMINI", deliveryAddress: "Plot 12, Mbabane" },
      idem,
    );
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.json.id).toBe(res.json.id);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 20_000, available: 15_000, pending: 5_000 });

    const approval = (
      await t.request("GET", `/admin/v1/approvals?subjectId=${res.json.id}`, { token: compliance.token })
    ).json.data[0];
    expect(approval).toMatchObject({
      kind: "card",
      amount: 5_000,
      requiredApprovals: 1,
      summary: { nameOnCard: "T DLAMINI" },
    });
    const ok = await decide(compliance.token, approval.id, "approve");
    expect(ok.status).toBe(200);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 15_000, available: 15_000, pending: 0 });
    expect(await systemBalance("card_fees")).toBe(before + 5_000);
    const mine = await t.request("GET", `/v1/card-requests/${res.json.id}`, { token: user.accessToken });
    expect(mine.json).toMatchObject({ status: "approved", transaction: { status: "completed", balanceAfter: 15_000 } });
    expect((await inbox(user.phone)).map((m) => m.kind)).toEqual(
      expect.arrayContaining(["card_requested", "card_approved"]),
    );
    await expectVerified();
  });

  test("one open request at a time; rejection releases the fee and says why", async () => {
    const user = await fundedUser(20_000);
    const first = await requestCard(user.accessToken);
    expect(first.status).toBe(202);
    const second = await requestCard(user.accessToken);
    expect(second.status).toBe(409);
    expect(second.json.error.details.reason).toBe("CARD_REQUEST_PENDING");
    expect((await wallet(user.accessToken)).pending).toBe(5_000);
    const approval = (
      await t.request("GET", `/admin/v1/approvals?subjectId=${first.json.id}`, { token: compliance.token })
    ).json.data[0];
    const rejected = await decide(compliance.token, approval.id, "reject", { reason: "ID document expired" });
    expect(rejected.status).toBe(200);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 20_000, available: 20_000, pending: 0 });
    const mine = await t.request("GET", `/v1/card-requests/${first.json.id}`, { token: user.accessToken });
    expect(mine.json).toMatchObject({
      status: "rejected",
      reason: "ID document expired",
      transaction: { status: "failed" },
    });
    expect(
      (await inbox(user.phone)).some((m) => m.kind === "card_rejected" && m.body.includes("ID document expired")),
    ).toBe(true);
    // Closed: a new request is welcome.
    expect((await requestCard(user.accessToken)).status).toBe(202);
    const list = await t.request("GET", "/v1/card-requests", { token: user.accessToken });
    expect(list.json.data.map((r: { status: string }) => r.status)).toEqual(["pending", "rejected"]);
    await expectVerified();
  });

  test("concurrent requests with different keys: one holds the fee, the other is 409", async () => {
    const user = await fundedUser(20_000);
    const results = await Promise.all([
      requestCard(user.accessToken),
      requestCard(user.accessToken),
      requestCard(user.accessToken),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 409, 409]);
    expect((await wallet(user.accessToken)).pending).toBe(5_000);
    await expectVerified();
  });

  test("insufficient funds is 422 and leaves no request; wrong PIN is 401; others' requests are 404", async () => {
    const user = await fundedUser(4_000);
    const poor = await requestCard(user.accessToken);
    expect(poor.status).toBe(422);
    expect(poor.json.error.code).toBe("INSUFFICIENT_FUNDS");
    expect((await t.request("GET", "/v1/card-requests", { token: user.accessToken })).json.data).toEqual([]);
    expect((await requestCard(user.accessToken, { pin: "1111" })).status).toBe(401);
    expect((await requestCard(user.accessToken, { pin: PIN, nameOnCard: "x" })).status).toBe(400);
    await kit.deposit(user.phone, 1_000);
    const ok = await requestCard(user.accessToken);
    expect(ok.status).toBe(202);
    const other = await fundedUser(0);
    expect((await t.request("GET", `/v1/card-requests/${ok.json.id}`, { token: other.accessToken })).status).toBe(404);
    expect(await wallet(user.accessToken)).toMatchObject({ balance: 5_000, available: 0 });
    await expectVerified();
  });
});

describe("free cards", async () => {
  const free = await createTestContext({ KESHLESS_CARD_FEE: "0" });
  const freeKit = await moneyKit(free);
  test("with no fee nothing is held and approval still closes the request", async () => {
    const user = await freeKit.fundedUser(0);
    const res = await free.request("POST", "/v1/card-requests", {
      token: user.accessToken,
      headers: { "idempotency-key": key() },
      body: { pin: PIN },
    });
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ fee: 0, transaction: null, status: "pending" });
    const admin = await freeKit.admin("finance");
    const approval = (await free.request("GET", `/admin/v1/approvals?subjectId=${res.json.id}`, { token: admin.token }))
      .json.data[0];
    expect((await freeKit.decide(admin.token, approval.id, "approve")).status).toBe(200);
    const mine = await free.request("GET", `/v1/card-requests/${res.json.id}`, { token: user.accessToken });
    expect(mine.json.status).toBe("approved");
    await freeKit.expectVerified();
  });
});
