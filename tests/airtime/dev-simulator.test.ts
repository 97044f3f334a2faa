import { afterAll, describe, expect, test } from "bun:test";
import { createTestContext } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/**
 * The embedded default: no ERS360 configured, simulators on — airtime works in process, a number's
 * last digits choose the operator's behaviour, and the in-process loop reconciles what is left unknown.
 */
const t = await createTestContext({
  KESHLESS_AIRTIME_RECONCILE_INTERVAL_MS: "200",
  KESHLESS_AIRTIME_NOT_FOUND_GRACE: "0",
  KESHLESS_ERS360_TIMEOUT_MS: "300",
});
const kit = await moneyKit(t);
afterAll(async () => {
  await t.deps.jobs.stop();
  for (const sim of Object.values(t.deps.airtime.simulators)) sim?.close();
});

const buy = (token: string, msisdn: string) =>
  t.request("POST", "/v1/airtime", {
    token,
    headers: { "idempotency-key": key() },
    body: { msisdn, amount: 2_000, currency: "SZL", pin: PIN },
  });

describe("in-process ERS360 simulators", () => {
  test("both operators are served with no configuration; magic suffixes pick outcomes", async () => {
    expect(Object.keys(t.deps.airtime.simulators).sort()).toEqual(["eswatini_mobile", "mtn"]);
    const user = await kit.fundedUser(20_000);
    const ok = await buy(user.accessToken, "76551234");
    const em = await buy(user.accessToken, "79551234");
    const refused = await buy(user.accessToken, "76550011");
    await t.deps.airtime.idle();
    expect((await t.deps.airtime.getOrder(ok.json.id))!.status).toBe("completed");
    expect((await t.deps.airtime.getOrder(em.json.id))!).toMatchObject({
      status: "completed",
      operator: "eswatini_mobile",
    });
    expect((await t.deps.airtime.getOrder(refused.json.id))!).toMatchObject({ status: "failed", resultCode: 11 });
    expect((await kit.wallet(user.accessToken)).balance).toBe(16_000);
    await kit.expectVerified();
  });

  test("the background loop settles an unknown outcome without anyone calling the job", async () => {
    const user = await kit.fundedUser(10_000);
    const busy = await buy(user.accessToken, "76550093"); // always busy: the loop retries, then refunds
    const slow = await buy(user.accessToken, "78550999"); // done, but answered after the client gave up
    await t.deps.airtime.idle();
    expect((await t.deps.airtime.getOrder(slow.json.id))!.status).toBe("pending");
    const real = t.deps.now;
    let offset = 0;
    t.deps.now = () => new Date(real().getTime() + offset);
    t.deps.jobs.start();
    for (let i = 0; i < 60; i++) {
      offset += 30_000;
      await Bun.sleep(100);
      await t.deps.airtime.idle();
      const states = [
        (await t.deps.airtime.getOrder(busy.json.id))!.status,
        (await t.deps.airtime.getOrder(slow.json.id))!.status,
      ];
      if (!states.includes("pending")) break;
    }
    await t.deps.jobs.stop();
    t.deps.now = real;
    expect((await t.deps.airtime.getOrder(slow.json.id))!.status).toBe("completed");
    expect((await t.deps.airtime.getOrder(busy.json.id))!).toMatchObject({ status: "failed" });
    expect((await kit.wallet(user.accessToken)).balance).toBe(8_000);
    const runs = await t.deps.jobs.list({ name: "airtime-reconcile", limit: 100 });
    expect(runs.data.length).toBeGreaterThan(0);
    expect(runs.data.every((r) => r.trigger === "loop" && r.status === "succeeded")).toBe(true);
    await kit.expectVerified();
  });
});
