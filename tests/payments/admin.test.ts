import { afterAll, describe, expect, test } from "bun:test";
import { createAdmin, createPartner, createVendor, signInAdmin, signInUser, signInVendor } from "../support/factories";
import { createTestContext } from "../support/harness";
import { startReceiver } from "../webhooks/receiver";

/**
 * Admin money routes: search, detail with ledger entries, trial balance, and reversals under
 * maker-checker (one admin asks, a different one approves, then the money goes back).
 */
const receiver = startReceiver();
afterAll(() => receiver.stop());
// The webhook receiver listens on 127.0.0.1.
const t = await createTestContext({ KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
const PIN = "4729";
let counter = 0;
const key = () => `adm-${Date.now()}-${++counter}`;

const partner = await createPartner(t, { scopes: ["deposits:create", "transactions:read", "webhooks:manage"] });
const vendor = await createVendor(t);
const maker = await signInAdmin(t, await createAdmin(t, "finance"));
const makerId = (await t.request("GET", "/admin/v1/me", { token: maker.accessToken })).json.id;
const checker = await signInAdmin(t, await createAdmin(t, "super_admin"));
const compliance = await signInAdmin(t, await createAdmin(t, "compliance"));
const support = await signInAdmin(t, await createAdmin(t, "support"));

async function deposit(phone: string, amount: number) {
  const res = await t.request("POST", "/partner/v1/deposits", {
    headers: { "x-api-key": partner.apiKey, "idempotency-key": key() },
    body: { phone, amount, currency: "SZL", externalReference: key() },
  });
  expect(res.status).toBe(201);
  return res.json;
}

async function fundedUser(amount: number) {
  const user = await signInUser(t, { pin: PIN });
  if (amount) await deposit(user.phone, amount);
  return user;
}

const balance = async (token: string) => (await t.request("GET", "/v1/wallet", { token })).json.balance;
const pay = async (token: string, amount: number) => {
  const res = await t.request("POST", "/v1/payments", {
    token,
    headers: { "idempotency-key": key() },
    body: { vendorCode: vendor.code, amount, currency: "SZL", pin: PIN },
  });
  expect(res.status).toBe(201);
  return res.json;
};
const search = (query: string, token = support.accessToken) =>
  t.request("GET", `/admin/v1/transactions?${query}`, { token });
const askReversal = (id: string, token = maker.accessToken, reason = "customer dispute, goods not delivered") =>
  t.request("POST", `/admin/v1/transactions/${id}/reversal`, { token, body: { reason } });
const decide = (approvalId: string, verb: "approve" | "reject", token: string, body: Record<string, unknown> = {}) =>
  t.request("POST", `/admin/v1/approvals/${approvalId}/${verb}`, {
    token,
    headers: { "idempotency-key": key() },
    body,
  });

async function expectVerified() {
  expect((await t.deps.ledger.verify()).problems).toEqual([]);
}

describe("search and detail", () => {
  test("filters by user, vendor, partner, type, status and date range; pages newest first", async () => {
    const user = await fundedUser(20_000);
    const other = await fundedUser(5_000);
    const p1 = await pay(user.accessToken, 1_000);
    const p2 = await pay(user.accessToken, 2_000);
    await pay(other.accessToken, 700);

    const mine = await search(`userId=${user.id}`);
    expect(mine.status).toBe(200);
    expect(mine.json.data.map((x: any) => x.id).slice(0, 2)).toEqual([p2.id, p1.id]);
    expect(mine.json.data).toHaveLength(3);
    expect(mine.json.data[0]).toMatchObject({
      type: "payment",
      status: "completed",
      amount: 2_000,
      fee: 50,
      payer: { type: "user", id: user.id },
      payee: { type: "vendor", id: vendor.id },
    });
    const payments = await search(`userId=${user.id}&type=payment`);
    expect(payments.json.data).toHaveLength(2);
    const deposits = await search(`partnerId=${partner.id}&type=deposit&limit=100`);
    expect(deposits.json.data.every((x: any) => x.partnerId === partner.id && x.type === "deposit")).toBe(true);
    const atVendor = await search(`vendorId=${vendor.id}&limit=100`);
    expect(atVendor.json.data.map((x: any) => x.id)).toEqual(expect.arrayContaining([p1.id, p2.id]));

    const first = await search(`userId=${user.id}&limit=2`);
    expect(first.json.nextCursor).not.toBeNull();
    const rest = await search(`userId=${user.id}&limit=2&cursor=${first.json.nextCursor}`);
    expect(rest.json.data).toHaveLength(1);
    expect(rest.json.data[0].type).toBe("deposit");
    expect(rest.json.nextCursor).toBeNull();

    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await search(`userId=${user.id}&from=${future}`)).json.data).toEqual([]);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    expect((await search(`userId=${user.id}&from=${past}&to=${future}`)).json.data).toHaveLength(3);
    expect((await search("userId=usr_nobody")).json.data).toEqual([]);
    expect((await search(`userId=${user.id}&status=reversed`)).json.data).toEqual([]);
  });

  test("bad filters are 400; a user token is 401; every search is audited", async () => {
    expect((await search("from=yesterday")).status).toBe(400);
    expect((await search("type=gift")).status).toBe(400);
    expect((await search("cursor=abc")).status).toBe(400);
    expect((await search("limit=1000")).status).toBe(400);
    const user = await fundedUser(0);
    expect((await search("", user.accessToken)).status).toBe(401);
    const audit = await t.deps.audit.list({ action: "transaction.search", limit: 50 });
    expect(audit.data.length).toBeGreaterThan(0);
  });

  test("detail shows the ledger journal, balanced, with account codes", async () => {
    const user = await fundedUser(5_000);
    const p = await pay(user.accessToken, 1_000);
    const res = await t.request("GET", `/admin/v1/transactions/${p.id}`, { token: support.accessToken });
    expect(res.status).toBe(200);
    expect(res.json.ledger.journalId).toBe(p.id);
    const entries = res.json.ledger.entries as any[];
    expect(entries.reduce((sum, e) => sum + e.amount, 0)).toBe(0);
    expect(entries.find((e) => e.accountKind === "user_wallet")).toMatchObject({ amount: -1_050, balanceAfter: 3_950 });
    expect(entries.find((e) => e.accountKind === "vendor_wallet").amount).toBe(1_000);
    expect(entries.find((e) => e.accountKind === "fee_revenue").amount).toBe(50);
    expect(res.json.reversedBy).toBeNull();
    expect(res.json.reversalRequest).toBeNull();
    expect((await t.request("GET", "/admin/v1/transactions/txn_nope", { token: support.accessToken })).status).toBe(
      404,
    );
  });
});

describe("ledger", () => {
  test("the trial balance nets to zero per currency and lists accounts by kind", async () => {
    const res = await t.request("GET", "/admin/v1/ledger/trial-balance", { token: maker.accessToken });
    expect(res.status).toBe(200);
    expect(res.json.balanced).toBe(true);
    const szl = res.json.currencies.find((c: any) => c.currency === "SZL");
    expect(szl.net).toBe(0);
    expect(szl.debitTotal).toBe(szl.creditTotal);
    expect(szl.kinds.reduce((sum: number, k: any) => sum + k.balance, 0)).toBe(0);
    const kinds = Object.fromEntries(szl.kinds.map((k: any) => [k.kind, k]));
    expect(kinds.user_wallet.balance).toBeGreaterThan(0);
    expect(kinds.fee_revenue.balance).toBeGreaterThan(0);
    expect(kinds.partner_settlement.balance).toBeLessThan(0);
    for (const k of szl.kinds) expect(k.accounts.reduce((sum: number, a: any) => sum + a.balance, 0)).toBe(k.balance);
    const settlement = kinds.partner_settlement.accounts.find((a: any) => a.ownerId === partner.id);
    expect(settlement.code).toBe(`partner_settlement:${partner.id}:SZL`);
    expect((await t.request("GET", "/admin/v1/ledger/trial-balance", { token: compliance.accessToken })).status).toBe(
      403,
    );
  });

  test("accounts page through every account with its balance", async () => {
    const page = await t.request("GET", "/admin/v1/ledger/accounts?kind=user_wallet&limit=2", {
      token: checker.accessToken,
    });
    expect(page.status).toBe(200);
    expect(page.json.data).toHaveLength(2);
    expect(page.json.data[0]).toMatchObject({ kind: "user_wallet", currency: "SZL" });
    const next = await t.request(
      "GET",
      `/admin/v1/ledger/accounts?kind=user_wallet&limit=2&cursor=${page.json.nextCursor}`,
      { token: checker.accessToken },
    );
    expect(next.json.data[0].id).not.toBe(page.json.data[0].id);
  });
});

describe("reversal (maker-checker)", () => {
  test("one admin asks, another approves: money back, original reversed, reversal recorded, both told", async () => {
    const user = await fundedUser(10_000);
    const p = await pay(user.accessToken, 2_000);
    expect(await balance(user.accessToken)).toBe(7_950);

    const asked = await askReversal(p.id);
    expect(asked.status).toBe(202);
    expect(asked.json).toMatchObject({
      kind: "reversal",
      subjectId: p.id,
      status: "pending",
      amount: 2_000,
      requestedBy: { type: "admin", id: makerId },
    });
    const dup = await askReversal(p.id, checker.accessToken);
    expect(dup.status).toBe(409);

    const self = await decide(asked.json.id, "approve", maker.accessToken);
    expect(self.status).toBe(403);
    const wrongRole = await decide(asked.json.id, "approve", compliance.accessToken);
    expect(wrongRole.status).toBe(403);
    expect(await balance(user.accessToken)).toBe(7_950);

    const approved = await decide(asked.json.id, "approve", checker.accessToken, { note: "checked the receipt" });
    expect(approved.status).toBe(200);
    expect(approved.json.status).toBe("approved");
    expect(await balance(user.accessToken)).toBe(10_000);

    const detail = await t.request("GET", `/admin/v1/transactions/${p.id}`, { token: support.accessToken });
    expect(detail.json.status).toBe("reversed");
    expect(detail.json.reversedBy).toMatch(/^txn_/);
    expect(detail.json.reversalRequest).toMatchObject({ approvalId: asked.json.id, status: "approved" });
    const reversal = await t.request("GET", `/admin/v1/transactions/${detail.json.reversedBy}`, {
      token: support.accessToken,
    });
    expect(reversal.json).toMatchObject({
      type: "reversal",
      status: "completed",
      reversalOf: p.id,
      amount: 2_000,
      payer: { type: "vendor", id: vendor.id },
      payee: { type: "user", id: user.id },
    });
    expect(reversal.json.ledger.reversalOf).toBe(p.id);

    const history = await t.request("GET", "/v1/wallet/transactions?limit=2", { token: user.accessToken });
    expect(history.json.data[0]).toMatchObject({
      id: detail.json.reversedBy,
      type: "reversal",
      direction: "credit",
      balanceAfter: 10_000,
    });
    expect(history.json.data[1]).toMatchObject({ id: p.id, status: "reversed" });
    const [toUser] = await t.deps.notifications.list({ to: user.phone, limit: 1 });
    expect(toUser!.body).toContain("E20.50 returned to you");
    const [toVendor] = await t.deps.notifications.list({ to: vendor.phone, limit: 1 });
    expect(toVendor!.body).toContain("E20.00 taken back");
    const audit = await t.deps.audit.list({ action: "transaction.reverse", targetId: p.id, limit: 5 });
    expect(audit.data).toHaveLength(1);
    const requested = await t.deps.audit.list({ action: "transaction.reversal.request", targetId: p.id, limit: 5 });
    expect(requested.data).toHaveLength(1);

    const again = await askReversal(p.id);
    expect(again.status).toBe(409);
    const ofReversal = await askReversal(detail.json.reversedBy);
    expect(ofReversal.status).toBe(409);
    await expectVerified();
  });

  test("a rejected request changes nothing; only finance and super admins may ask", async () => {
    const user = await fundedUser(5_000);
    const p = await pay(user.accessToken, 500);
    expect((await askReversal(p.id, support.accessToken)).status).toBe(403);
    expect((await askReversal(p.id, maker.accessToken, "")).status).toBe(400);
    const asked = await askReversal(p.id);
    const rejected = await decide(asked.json.id, "reject", checker.accessToken, { reason: "receipt shows delivery" });
    expect(rejected.status).toBe(200);
    expect(rejected.json.status).toBe("rejected");
    const detail = await t.request("GET", `/admin/v1/transactions/${p.id}`, { token: support.accessToken });
    expect(detail.json.status).toBe("completed");
    expect(await balance(user.accessToken)).toBe(5_000 - 550);
    // A new request may follow a rejected one.
    expect((await askReversal(p.id)).status).toBe(202);
  });

  test("money that came back no longer counts against the payer's daily limit", async () => {
    const sender = await fundedUser(250_000);
    const [first, second] = [await fundedUser(0), await fundedUser(0)];
    const send = (to: string, amount: number) =>
      t.request("POST", "/v1/transfers", {
        token: sender.accessToken,
        headers: { "idempotency-key": key() },
        body: { toPhone: to, amount, currency: "SZL", pin: PIN },
      });
    const reversed = await send(first.phone, 100_000);
    expect(reversed.status).toBe(201);
    expect((await send(second.phone, 99_000)).status).toBe(201);
    const over = await send(second.phone, 2_000);
    expect(over.status).toBe(422);
    expect(over.json.error.details).toMatchObject({ limit: "daily" });

    const asked = await askReversal(reversed.json.id);
    expect((await decide(asked.json.id, "approve", checker.accessToken)).status).toBe(200);
    expect((await send(second.phone, 2_000)).status).toBe(201);
    expect((await send(second.phone, 99_001)).json.error?.details).toMatchObject({ limit: "daily" });
    await expectVerified();
  });

  test("if the receiver already spent the money, approval is 422 and nothing changes", async () => {
    const sender = await fundedUser(5_000);
    const receiverUser = await fundedUser(0);
    const sent = await t.request("POST", "/v1/transfers", {
      token: sender.accessToken,
      headers: { "idempotency-key": key() },
      body: { toPhone: receiverUser.phone, amount: 3_000, currency: "SZL", pin: PIN },
    });
    expect(sent.status).toBe(201);
    await pay(receiverUser.accessToken, 2_500);
    const asked = await askReversal(sent.json.id);
    const approved = await decide(asked.json.id, "approve", checker.accessToken);
    expect(approved.status).toBe(422);
    expect(approved.json.error.code).toBe("INSUFFICIENT_FUNDS");
    expect(await balance(sender.accessToken)).toBe(2_000);
    const detail = await t.request("GET", `/admin/v1/transactions/${sent.json.id}`, { token: support.accessToken });
    expect(detail.json.status).toBe("completed");
    expect(detail.json.reversalRequest.status).toBe("pending");
    await expectVerified();
  });

  test("a reversed deposit goes back to the partner's settlement and to its webhook", async () => {
    const created = await t.request("POST", "/partner/v1/webhooks", {
      headers: { "x-api-key": partner.apiKey },
      body: { url: receiver.url },
    });
    receiver.secret = created.json.secret;
    const user = await fundedUser(0);
    const d = await deposit(user.phone, 4_000);
    const asked = await askReversal(d.id);
    expect(asked.json.owner).toEqual({ type: "user", id: user.id });
    expect((await decide(asked.json.id, "approve", checker.accessToken)).status).toBe(200);
    expect(await balance(user.accessToken)).toBe(0);
    const lookup = await t.request("GET", `/partner/v1/transactions/${d.id}`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(lookup.json.status).toBe("reversed");

    await t.deps.webhooks.drain();
    const types = receiver.received.map((r) => r.json.type);
    expect(types).toEqual(["deposit.completed", "deposit.reversed"]);
    const reversed = receiver.received[1]!;
    expect(reversed.signatureValid).toBe(true);
    expect(reversed.json.data.transaction).toMatchObject({ id: d.id, status: "reversed", type: "deposit" });
    expect(reversed.json.data.reversal).toMatchObject({ type: "reversal", amount: 4_000, direction: "credit" });
    await expectVerified();
  });

  test("a vendor sees the reversal taken from its wallet", async () => {
    const session = await signInVendor(t, vendor);
    const list = await t.request("GET", "/v1/vendor/transactions?limit=50", { token: session.accessToken });
    const reversal = list.json.data.find((x: any) => x.type === "reversal");
    expect(reversal).toMatchObject({ direction: "debit", counterparty: { type: "user" } });
  });
});
