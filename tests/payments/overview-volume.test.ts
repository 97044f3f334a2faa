import { describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import { eswatiniIso } from "../../src/lib/clock";
import { createAdmin, createPartner, createVendor, signInAdmin, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";

const t = await createTestContext();
const partner = await createPartner(t);
const vendor = await createVendor(t);
const admin = await signInAdmin(t, await createAdmin(t, "support"));

async function deposit(phone: string, amount: number) {
  const res = await t.request("POST", "/partner/v1/deposits", {
    headers: { "x-api-key": partner.apiKey, "idempotency-key": randomUUID() },
    body: { phone, amount, currency: "SZL", externalReference: randomUUID() },
  });
  expect(res.status).toBe(201);
}

const volume = (query = "") => t.request("GET", `/admin/v1/overview/volume${query}`, { token: admin.accessToken });

describe("GET /admin/v1/overview/volume", () => {
  test("completed transactions per local day and type, with fees, and the users who moved money", async () => {
    const empty = await volume();
    expect(empty.status).toBe(200);
    expect(empty.json.days).toEqual([]);
    expect(empty.json.activeUsers).toEqual({ today: 0, range: 0 });

    const payer = await signInUser(t, { pin: "2580" });
    const idle = await signInUser(t, { pin: "2581" });
    await deposit(payer.phone, 100_000);
    await deposit(payer.phone, 50_000);
    const pay = await t.request("POST", "/v1/payments", {
      token: payer.accessToken,
      headers: { "idempotency-key": randomUUID() },
      body: { vendorCode: vendor.code, amount: 10_000, currency: "SZL", pin: "2580" },
    });
    expect(pay.status).toBe(201);
    // A refused payment (wrong PIN) moves nothing and is not counted.
    await t.request("POST", "/v1/payments", {
      token: idle.accessToken,
      headers: { "idempotency-key": randomUUID() },
      body: { vendorCode: vendor.code, amount: 10_000, currency: "SZL", pin: "9999" },
    });

    const res = await volume("?days=7");
    expect(res.status).toBe(200);
    const today = eswatiniIso(new Date()).slice(0, 10);
    const rows = Object.fromEntries(res.json.days.map((d: { type: string }) => [d.type, d]));
    expect(rows.deposit).toEqual({ date: today, type: "deposit", currency: "SZL", count: 2, amount: 150_000, fees: 0 });
    expect(rows.payment).toMatchObject({ date: today, type: "payment", count: 1, amount: 10_000 });
    expect(rows.payment.fees).toBe(pay.json.fee);
    expect(res.json.activeUsers).toEqual({ today: 1, range: 1 });
    expect(Date.parse(res.json.to) - Date.parse(res.json.from)).toBe(7 * 86_400_000);
  });

  test("days are bounded; a token is needed", async () => {
    expect((await volume("?days=0")).status).toBe(400);
    expect((await volume("?days=91")).status).toBe(400);
    expect((await t.request("GET", "/admin/v1/overview/volume")).status).toBe(401);
  });
});
