import { expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { createPayers, createVendor } from "../support/factories";
import { createTestContext } from "../support/harness";

/**
 * Group commit (src/db/group-commit.ts, drizzle/0021): concurrent fast-lane payments are written by one
 * statement. With one batch in flight at a time, whatever arrives while it runs is written together by the
 * next, so these tests can put chosen requests in one batch and check that each is answered as if alone.
 */
const t = await createTestContext({
  KESHLESS_GROUP_COMMIT_IN_FLIGHT: "1",
  // A daily limit the statement enforces (usage counters), low enough for one payer below to reach it.
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 5_000, daily: 3_000, monthly: 1_000_000, maxBalance: 1_000_000 },
  }),
});
const PIN = "4729";
const { key, fundedUser, pay } = await createPayers(t, PIN);
const batches = t.deps.payments.groupCommitStats;

const balance = async (token: string) => (await t.request("GET", "/v1/wallet", { token })).json.balance as number;
const exec = (query: ReturnType<typeof sql>) => queryRows<Record<string, any>>(t.deps.database.db, query);

test("payments that arrive together share a batch; a refusal in it excludes that payment alone", async () => {
  const vendor = await createVendor(t);
  const rich = [];
  for (let i = 0; i < 8; i++) rich.push(await fundedUser(10_000));
  const poor = [];
  for (let i = 0; i < 3; i++) poor.push(await fundedUser(600));
  const guesser = await fundedUser(10_000);
  const busy = await fundedUser(10_000);
  // Warm every profile cache, so the next round takes the fast lane.
  for (const user of [...rich, ...poor, guesser, busy])
    expect((await pay(user.accessToken, vendor.code, 50)).status).toBe(201);

  const before = { ...batches };
  const answers = await Promise.all([
    ...rich.map((u) => pay(u.accessToken, vendor.code, 2_000)),
    ...poor.map((u) => pay(u.accessToken, vendor.code, 2_000)),
    pay(guesser.accessToken, vendor.code, 2_000, "0000"),
    pay(busy.accessToken, vendor.code, 2_950), // with the warm-up's E1.00, past the E30 daily limit
  ]);
  const written = { batches: batches.batches - before.batches, items: batches.items - before.items };
  expect(written.items).toBe(13);
  expect(written.batches).toBeLessThan(written.items); // some were written together

  for (const [i, user] of rich.entries()) {
    expect(answers[i]!.status).toBe(201);
    expect(answers[i]!.json.balanceAfter).toBe(await balance(user.accessToken));
    expect(answers[i]!.json.balanceAfter).toBe(10_000 - 100 - 2_050); // each with the E0.50 minimum fee
  }
  for (const [i, user] of poor.entries()) {
    expect(answers[rich.length + i]!.json.error.code).toBe("INSUFFICIENT_FUNDS");
    expect(await balance(user.accessToken)).toBe(600 - 100);
  }
  const limited = answers.at(-1)!;
  expect(limited.json.error.code).toBe("LIMIT_EXCEEDED");
  expect(limited.json.error.details).toEqual({ limit: "daily" });
  expect(await balance(busy.accessToken)).toBe(10_000 - 100);
  const guessed = answers.at(-2)!;
  expect(guessed.status).toBe(401);
  expect(guessed.json.error.code).toBe("INVALID_PIN");
  const [counted] = await exec(sql`select pin_failed_count from users where id = ${guesser.id}`);
  expect(counted!.pin_failed_count).toBe(1);
  expect(await balance(guesser.accessToken)).toBe(10_000 - 100);

  // Every committed payment told both parties, once; the refused ones told no one.
  const ids = answers.filter((a) => a.status === 201).map((a) => a.json.id);
  const [messages] = await exec(
    sql`select count(*)::int as n from notification_outbox where dedupe_key in ${sql`(${sql.join(
      ids.flatMap((id) => [`${id}:payer`, `${id}:payee`]).map((k) => sql`${k}`),
      sql`, `,
    )})`}`,
  );
  expect(messages!.n).toBe(ids.length * 2);
  expect((await t.deps.ledger.verify()).problems).toEqual([]);
});

test("the same key twice in one batch moves the money once; the second is the first's replay", async () => {
  const vendor = await createVendor(t);
  const user = await fundedUser(10_000);
  const other = await fundedUser(10_000);
  await pay(user.accessToken, vendor.code, 50);
  await pay(other.accessToken, vendor.code, 50);
  const idem = key();
  const before = { ...batches };
  // The first request keeps the one batch slot busy while the two copies arrive behind it.
  const [, first, second] = await Promise.all([
    pay(other.accessToken, vendor.code, 100),
    pay(user.accessToken, vendor.code, 1_000, PIN, idem),
    pay(user.accessToken, vendor.code, 1_000, PIN, idem),
  ]);
  expect(batches.items - before.items).toBeGreaterThanOrEqual(2);
  expect([first!.status, second!.status]).toEqual([201, 201]);
  expect(second!.json).toEqual(first!.json);
  const replays = [first!, second!].filter((a) => a.headers.get("idempotent-replayed") === "true");
  expect(replays.length).toBe(1);
  expect(await balance(user.accessToken)).toBe(10_000 - 100 - 1_050);
  expect((await t.deps.ledger.verify()).problems).toEqual([]);
});
