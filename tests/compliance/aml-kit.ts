import { expect } from "bun:test";
import { createAml } from "../../src/compliance/aml-service";
import { createAdmin, signInAdmin, signInUser } from "../support/factories";
import type { TestContext } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/** What the AML tests share: limits high enough for amounts around the cash threshold, and real money through the API. */

export const AML_ENV = {
  // Tier 0 may move E10,000 at a time, so amounts around the E5,000 cash threshold are real payments.
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 1_000_000, daily: 10_000_000, monthly: 50_000_000, maxBalance: 50_000_000 },
  }),
  // Nothing else writes beside a test's requests: the monitor may read right up to now.
  KESHLESS_AML_MONITOR_SAFETY_MS: "0",
};

export async function amlKit(t: TestContext) {
  const money = await moneyKit(t);
  const compliance = t.deps.modules.find((m) => m.name === "compliance")!;
  /** A second instance of the service over the same database, as another process (or a restarted one) has. */
  const instance = () =>
    createAml({
      ...t.deps.core,
      audit: t.deps.audit,
      admins: t.deps.identity.admins,
      notifications: t.deps.notifications,
    });
  const aml = instance();

  async function adminToken(role: string) {
    return (await signInAdmin(t, await createAdmin(t, role))).accessToken;
  }

  /** A user funded by deposits of `each` cents (deposits below every rule's amount). */
  async function fundedUser(deposits: number[]) {
    const user = await signInUser(t, { pin: PIN });
    for (const amount of deposits) await money.deposit(user.phone, amount);
    return user;
  }

  async function transfer(from: { accessToken: string }, to: { phone: string }, amount: number) {
    const res = await t.request("POST", "/v1/transfers", {
      token: from.accessToken,
      headers: { "idempotency-key": key() },
      body: { toPhone: to.phone, amount, currency: "SZL", pin: PIN },
    });
    expect(res.status).toBe(201);
    return res.json.id as string;
  }

  const receiver = () => signInUser(t, { pin: PIN });

  async function alertsOf(subjectId: string, token: string, rule?: string) {
    const query = new URLSearchParams({ subjectId, ...(rule ? { rule } : {}), limit: "100" });
    const res = await t.request("GET", `/admin/v1/aml/alerts?${query}`, { token });
    expect(res.status).toBe(200);
    return res.json.data as { id: string; rule: string; hits: number; priority: number; status: string }[];
  }

  async function alert(id: string, token: string) {
    const res = await t.request("GET", `/admin/v1/aml/alerts/${id}`, { token });
    expect(res.status).toBe(200);
    return res.json;
  }

  return { ...money, compliance, instance, aml, adminToken, fundedUser, transfer, receiver, alertsOf, alert };
}
