import { expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { randomPhone } from "../support/factories";
import { createTestContext } from "../support/harness";

/**
 * A pending one-time code is not in the outbox in plaintext (issue 11, item 8): the row holds it sealed, the
 * sender (here the dev outbox, development's recipient) opens it, and once it expires the body is cleared.
 */
const t = await createTestContext({ KESHLESS_NOTIFICATIONS: "outbox" });

const stored = async (phone: string) =>
  (
    await queryRows<{ body: string; status: string }>(
      t.deps.database.db,
      sql`select body, status from notification_outbox where to_phone = ${phone}`,
    )
  )[0]!;

test("an OTP waits sealed, reaches its recipient, and is cleared once expired", async () => {
  const phone = randomPhone();
  expect((await t.request("POST", "/v1/auth/otp", { body: { phone } })).status).toBe(202);
  const pending = await stored(phone);
  expect(pending.body).toMatch(/^sealed:v1\./);
  expect(pending.body).not.toMatch(/\d{6}/);

  await t.deps.notifications.drain();
  const outbox = await t.request("GET", `/dev/outbox?to=${encodeURIComponent(phone)}`);
  const code = outbox.json.data[0].body.match(/\d{6}/)?.[0];
  expect(code).toMatch(/^\d{6}$/);
  expect((await stored(phone)).body).not.toContain(code);

  // Past its life the code is gone from the row and from the dev outbox; it no longer signs anyone in.
  const now = t.deps.now;
  t.deps.now = () => new Date(Date.now() + (t.config.auth.otpTtl + 1) * 1000);
  try {
    await t.deps.notifications.drain();
    expect((await stored(phone)).body).toBe("[expired]");
    const after = await t.request("GET", `/dev/outbox?to=${encodeURIComponent(phone)}`);
    expect(after.text).not.toContain(code);
    expect((await t.request("POST", "/v1/auth/otp/verify", { body: { phone, code } })).status).toBe(401);
  } finally {
    t.deps.now = now;
  }
});

test("a code that expires before it is sent is never sent, and is cleared", async () => {
  const phone = randomPhone();
  const queued = await t.deps.notifications.enqueue({
    to: phone,
    body: "Your Keshless code is 424242.",
    kind: "otp",
    sensitive: true,
    expiresAt: new Date(Date.now() - 1_000),
  });
  expect(queued.queued).toBe(true);
  const result = await t.deps.notifications.drain();
  expect(result.expired).toBeGreaterThanOrEqual(1);
  expect(await stored(phone)).toEqual({ body: "[expired]", status: "expired" });
});
