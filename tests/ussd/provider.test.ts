import { afterAll, expect, test } from "bun:test";
import { createPartner, randomPhone, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { dialer, useClock } from "./support";

/**
 * "Every reply within 2 s even when a provider hangs": MTN's ERS360 here is a local HTTP server that
 * takes the top-up request and never answers. The USSD screen does not wait for it.
 */
let received = 0;
const hung: (() => void)[] = [];
const ers = Bun.serve({
  port: 0,
  fetch: () => {
    received++;
    return new Promise<Response>((resolve) => hung.push(() => resolve(new Response("", { status: 503 }))));
  },
});

const t = await createTestContext({
  KESHLESS_ERS360_MTN_URL: `http://127.0.0.1:${ers.port}/topupservice/service`,
  KESHLESS_ERS360_MTN_RESELLER_ID: "KESHLESS_TEST",
  KESHLESS_ERS360_MTN_PASSWORD: "test-password",
  KESHLESS_ERS360_TIMEOUT_MS: "10000",
});
useClock(t);

afterAll(() => ers.stop(true));

test("airtime while the operator hangs: the subscriber is answered at once; the order waits", async () => {
  const partner = await createPartner(t);
  let phone = randomPhone();
  while (phone.endsWith("7481")) phone = randomPhone();
  const user = await signInUser(t, { pin: "7481", phone });
  await t.request("POST", "/partner/v1/deposits", {
    headers: { "x-api-key": partner.apiKey, "idempotency-key": "hang-1" },
    body: { phone, amount: 5_000, currency: "SZL", externalReference: "hang-1" },
  });
  for (const format of ["mtn", "at"] as const) {
    const d = dialer(t, format, phone);
    await d.home();
    await d.play("4", "1", "10");
    // ERS360 never answers here: a screen that waited for it would not come back before the test's timeout.
    const reply = await d.send("7481");
    expect(reply.text).toContain("is on its way. You will receive an SMS.");
  }
  for (let i = 0; i < 100 && received < 2; i++) await Bun.sleep(20);
  expect(received).toBe(2);
  const orders = await t.deps.airtime.listOrders({ userId: user.id, limit: 5 });
  expect(orders.data.map((o) => o.status)).toEqual(["pending", "pending"]);
  // The money is held, not spent, until the operator answers.
  expect(await t.deps.payments.wallet("user_wallet", user.id)).toMatchObject({ balance: 5_000, available: 3_000 });
  // The operator finally fails the calls: the orders stay pending for the reconciler (no double top-up).
  for (const release of hung) release();
  await t.deps.airtime.idle();
  expect((await t.deps.airtime.listOrders({ userId: user.id, limit: 5 })).data.map((o) => o.status)).toEqual([
    "pending",
    "pending",
  ]);
});
