import { expect } from "bun:test";
import { createAdmin, createPartner, signInAdmin, signInUser } from "../support/factories";
import type { TestContext } from "../support/harness";

/** What the hold-based money tests (withdrawals, cards, approvals, jobs, airtime) share. */

export const PIN = "4729";
let counter = 0;
export const key = () => `key-${Date.now()}-${++counter}`;

export async function moneyKit(t: TestContext) {
  const partner = await createPartner(t);

  async function deposit(phone: string, amount: number) {
    const res = await t.request("POST", "/partner/v1/deposits", {
      headers: { "x-api-key": partner.apiKey, "idempotency-key": key() },
      body: { phone, amount, currency: "SZL", externalReference: `ext-${key()}` },
    });
    expect(res.status).toBe(201);
  }

  async function fundedUser(amount: number, options: { phone?: string } = {}) {
    const user = await signInUser(t, { pin: PIN, ...options });
    if (amount) await deposit(user.phone, amount);
    return user;
  }

  const wallet = async (token: string) => (await t.request("GET", "/v1/wallet", { token })).json;

  async function expectVerified() {
    const report = await t.deps.ledger.verify();
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
  }

  /** An admin of `role`, signed in. */
  async function admin(role: string) {
    const a = await createAdmin(t, role);
    const session = await signInAdmin(t, a);
    return { ...a, token: session.accessToken };
  }

  /** Balance of a system account (summed over shards). */
  async function systemBalance(
    kind: "withdrawal_clearing" | "fee_revenue" | "card_fees" | "airtime_clearing",
    owner?: string,
  ) {
    const account = await t.deps.ledger.systemAccount(kind, "SZL", owner);
    return Number((await t.deps.ledger.balance(account.id)).balance);
  }

  async function inbox(phone: string) {
    return t.deps.notifications.list({ to: phone, limit: 50 });
  }

  const decide = (
    token: string,
    id: string,
    action: "approve" | "reject",
    body: Record<string, unknown> = {},
    idem = key(),
  ) => t.request("POST", `/admin/v1/approvals/${id}/${action}`, { token, headers: { "idempotency-key": idem }, body });

  return { partner, deposit, fundedUser, wallet, expectVerified, admin, systemBalance, inbox, decide };
}
