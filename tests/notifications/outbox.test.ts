import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { loadConfig } from "../../src/config";
import { queryRows } from "../../src/db/client";
import { type MessageSender, SendError } from "../../src/integrations/eneza";
import { buildSystem } from "../../src/modules";
import { createNotifications } from "../../src/notifications/service";
import { latestCode, randomPhone } from "../support/factories";
import { startFakeEneza, startFakeYeboLink } from "../support/fake-messaging";
import { createTestContext, TEST_SECRETS } from "../support/harness";

const eneza = startFakeEneza();
const yebolink = startFakeYeboLink();
const ENEZA_KEY = "enz_test_key_0123456789";
const YEBOLINK_KEY = "yl_test_key_0123456789";
const t = await createTestContext({
  KESHLESS_NOTIFICATIONS: "providers",
  KESHLESS_SIMULATORS: "false",
  KESHLESS_ENEZA_URL: eneza.url,
  KESHLESS_ENEZA_API_KEY: ENEZA_KEY,
  KESHLESS_ENEZA_TIMEOUT_MS: "300",
  KESHLESS_YEBOLINK_URL: yebolink.url,
  KESHLESS_YEBOLINK_API_KEY: YEBOLINK_KEY,
  KESHLESS_YEBOLINK_TIMEOUT_MS: "300",
  KESHLESS_OUTBOX_MAX_ATTEMPTS: "3",
});
afterAll(async () => {
  await eneza.stop();
  await yebolink.stop();
});
beforeEach(() => {
  eneza.mode = "ok";
  yebolink.mode = "ok";
  eneza.requests.length = 0;
  yebolink.requests.length = 0;
  t.deps.now = () => new Date();
});

const codes = new Set<string>();

async function row(id: string) {
  const [r] = await queryRows<any>(t.deps.database.db, sql`select * from notification_outbox where id = ${id}`);
  return r;
}

async function queueOtp() {
  const phone = randomPhone();
  const res = await t.request("POST", "/v1/auth/otp", { body: { phone } });
  expect(res.status).toBe(202);
  const [message] = await t.deps.notifications.list({ to: phone, limit: 1 });
  // Once a running worker has sent it, the outbox holds "[delivered]": the code is then what Eneza received.
  const delivered = eneza.requests.findLast((r) => r.body?.to === phone)?.body?.message as string | undefined;
  const code = message?.body.startsWith("[") ? delivered?.match(/\d{6}/)?.[0] : await latestCode(t, phone);
  if (!code) throw new Error(`no code for ${phone}`);
  codes.add(code);
  return { phone, code, id: message!.id };
}

describe("enqueue", () => {
  test("joins the caller's transaction: a rollback queues nothing", async () => {
    const to = randomPhone();
    await t.deps.database.db
      .transaction(async (tx) => {
        await t.deps.notifications.enqueue({ to, body: "hello", kind: "test" }, tx as never);
        throw new Error("rollback");
      })
      .catch(() => {});
    expect(await t.deps.notifications.list({ to, limit: 10 })).toHaveLength(0);
  });

  test("a dedupe key queues once however often the caller retries", async () => {
    const to = randomPhone();
    const first = await t.deps.notifications.enqueue({ to, body: "paid", kind: "payment", dedupeKey: `pay:${to}` });
    const second = await t.deps.notifications.enqueue({ to, body: "paid", kind: "payment", dedupeKey: `pay:${to}` });
    expect(first.queued).toBe(true);
    expect(second).toEqual({ id: first.id, queued: false });
    expect(await t.deps.notifications.list({ to, limit: 10 })).toHaveLength(1);
    await t.deps.notifications.drain();
  });

  test("refuses a recipient that is not an Eswatini mobile", async () => {
    await expect(t.deps.notifications.enqueue({ to: "+27821234567", body: "x", kind: "test" })).rejects.toThrow();
  });
});

describe("delivery", () => {
  test("WhatsApp through Eneza first: its wire format, its key, its message id recorded", async () => {
    const { phone, code, id } = await queueOtp();
    const result = await t.deps.notifications.drain();
    expect(result.sent).toBeGreaterThanOrEqual(1);
    expect(eneza.requests).toHaveLength(1);
    const [req] = eneza.requests;
    expect(req!.method).toBe("POST");
    expect(req!.headers["x-api-key"]).toBe(ENEZA_KEY);
    expect(req!.body).toMatchObject({ to: phone, channel: "whatsapp" });
    expect(req!.body.message).toContain(code);
    expect(yebolink.requests).toHaveLength(0);
    expect(await row(id)).toMatchObject({
      status: "sent",
      channel: "whatsapp",
      provider: "eneza",
      provider_message_id: expect.stringMatching(/^enz-\d+$/),
    });
  });

  for (const mode of ["error", "refuse", "slow"] as const) {
    test(`SMS through YeboLink when WhatsApp fails (${mode})`, async () => {
      eneza.mode = mode;
      eneza.slowMs = 1500;
      const { phone, code, id } = await queueOtp();
      // "slow": Eneza would answer after 1.5 s; the 300 ms timeout gives up first, so YeboLink gets it.
      await t.deps.notifications.drain();
      expect(eneza.requests).toHaveLength(1);
      expect(yebolink.requests).toHaveLength(1);
      const [req] = yebolink.requests;
      expect(req!.path).toBe("/api/v1/messages/send");
      expect(req!.headers["x-api-key"]).toBe(YEBOLINK_KEY);
      expect(req!.body).toMatchObject({ to: phone, channel: "sms", content: { from_name: "Keshless" } });
      expect(req!.body.content.text).toContain(code);
      expect(await row(id)).toMatchObject({
        status: "sent",
        channel: "sms",
        provider: "yebolink",
        provider_message_id: expect.stringMatching(/^yl-\d+$/),
      });
    });
  }

  test("a staff e-mail goes to YeboLink's email channel only: subject, escaped html, no phone; the address masked in logs", async () => {
    const to = `Analyst.${Date.now()}@Keshless.test`;
    const queued = await t.deps.notifications.enqueueEmail({
      to,
      subject: "AML alert aml_1 escalated to level 1",
      body: "Rule: structuring <b>\nIn your queue.",
      kind: "aml_escalation",
    });
    expect(queued.queued).toBe(true);
    await t.deps.notifications.drain();
    expect(eneza.requests).toHaveLength(0);
    const [sent] = yebolink.requests;
    expect(sent).toMatchObject({ method: "POST", path: "/api/v1/messages/send" });
    expect(sent!.headers["x-api-key"]).toBe(YEBOLINK_KEY);
    expect(sent!.body).toEqual({
      to: to.toLowerCase(),
      channel: "email",
      content: {
        subject: "AML alert aml_1 escalated to level 1",
        html: "<p>Rule: structuring &lt;b&gt;<br>In your queue.</p>",
        from_name: "Keshless",
      },
    });
    expect(await row(queued.id)).toMatchObject({
      status: "sent",
      channel: "email",
      provider: "yebolink",
      to_phone: null,
    });
    const logged = t.logs.filter((l) => l.includes(queued.id)).join("\n");
    expect(logged).toContain("***@keshless.test");
    expect(logged).not.toContain(to.toLowerCase());
    await expect(
      t.deps.notifications.enqueueEmail({ to: "not an address", subject: "s", body: "b", kind: "aml_escalation" }),
    ).rejects.toThrow("e-mail address");
  });

  test("both down: retried later with exponential backoff, then failed for good after the last attempt", async () => {
    eneza.mode = "error";
    yebolink.mode = "refuse";
    const to = randomPhone();
    const { id } = await t.deps.notifications.enqueue({
      to,
      body: "Your payment of E15.00 was received",
      kind: "payment",
    });
    const start = Date.now();
    await t.deps.notifications.drain();
    let r = await row(id);
    expect(r).toMatchObject({ status: "pending", attempts: 1 });
    expect(r.last_error).toContain("eneza: HTTP 500");
    expect(r.last_error).toContain("yebolink");
    const firstDelay = new Date(r.next_attempt_at).getTime() - start;
    expect(firstDelay).toBeGreaterThan(1000);
    expect(firstDelay).toBeLessThan(4000);
    // Not due yet: nothing is sent again.
    eneza.requests.length = 0;
    await t.deps.notifications.drain();
    expect(eneza.requests).toHaveLength(0);

    t.deps.now = () => new Date(start + 10_000);
    await t.deps.notifications.drain();
    r = await row(id);
    expect(r.attempts).toBe(2);
    const secondDelay = new Date(r.next_attempt_at).getTime() - (start + 10_000);
    expect(secondDelay).toBeGreaterThan(firstDelay * 1.3);

    t.deps.now = () => new Date(start + 60_000);
    await t.deps.notifications.drain();
    expect((await row(id)).status).toBe("failed");
  });

  test("a retry succeeds once a provider is back", async () => {
    eneza.mode = "error";
    yebolink.mode = "error";
    const { id } = await t.deps.notifications.enqueue({ to: randomPhone(), body: "hello", kind: "test" });
    await t.deps.notifications.drain();
    eneza.mode = "ok";
    t.deps.now = () => new Date(Date.now() + 10_000);
    await t.deps.notifications.drain();
    expect(await row(id)).toMatchObject({ status: "sent", provider: "eneza", attempts: 2 });
  });

  test("a code past its life is not sent", async () => {
    const { id } = await queueOtp();
    t.deps.now = () => new Date(Date.now() + 301_000);
    const result = await t.deps.notifications.drain();
    expect(result.expired).toBe(1);
    expect(eneza.requests).toHaveLength(0);
    expect((await row(id)).status).toBe("expired");
  });

  test("two instances draining at once send each message exactly once", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push((await t.deps.notifications.enqueue({ to: randomPhone(), body: `note ${i}`, kind: "test" })).id);
    const deps2 = await buildSystem(t.config, { database: t.deps.database, logger: t.deps.logger });
    await Promise.all([
      t.deps.notifications.drain({ limit: 5 }),
      deps2.notifications.drain({ limit: 5 }),
      t.deps.notifications.drain({ limit: 5 }),
      deps2.notifications.drain({ limit: 5 }),
    ]);
    const sentTo = eneza.requests.map((r) => r.body.to);
    expect(new Set(sentTo).size).toBe(sentTo.length);
    expect(sentTo.length).toBe(12);
    for (const id of ids) expect((await row(id)).status).toBe("sent");
  });

  test("the worker drains on its own, and at once after a kick", async () => {
    t.deps.notifications.start();
    try {
      const { id } = await queueOtp();
      for (let i = 0; i < 50 && (await row(id)).status !== "sent"; i++) await Bun.sleep(20);
      expect((await row(id)).status).toBe("sent");
    } finally {
      await t.deps.notifications.stop();
    }
  });
});

describe("simulators and the dev outbox", () => {
  test("providers mode with no URLs uses the local simulators (development)", async () => {
    const config = loadConfig({
      KESHLESS_ENV: "development",
      KESHLESS_DATA_DIR: t.config.dataDir,
      ...TEST_SECRETS,
      KESHLESS_NOTIFICATIONS: "providers",
    });
    const deps = await buildSystem(config, { database: t.deps.database, logger: t.deps.logger });
    expect(deps.notifications.senders.map((s) => `${s.provider}/${s.channel}`)).toEqual([
      "eneza/whatsapp",
      "yebolink/sms",
    ]);
    const result = await deps.notifications.senders[0]!.send({ to: randomPhone(), text: "hello" });
    expect(result.messageId).toMatch(/^enz-sim-/);
    const sms = await deps.notifications.senders[1]!.send({ to: randomPhone(), text: "hello" });
    expect(sms.messageId).toMatch(/^yl-sim-/);
  });

  test("outbox mode sends nothing out: rows are delivered to channel outbox", async () => {
    const outbox = createNotifications({ ...t.deps, config: { ...t.config, notifications: "outbox" } });
    const to = randomPhone();
    const { id } = await outbox.enqueue({ to, body: "dev only", kind: "test" });
    await outbox.drain();
    expect(eneza.requests).toHaveLength(0);
    expect(await row(id)).toMatchObject({ status: "sent", channel: "outbox", provider: "outbox" });
  });
});

describe("rounds", () => {
  /** Sends whatever is due now, so a test's counts are its own rows only. */
  async function settle() {
    for (;;) {
      const { claimed, expired } = await t.deps.notifications.drain();
      if (!claimed && !expired) break;
    }
    eneza.requests.length = 0;
  }

  async function queueMany(n: number) {
    const queued = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        t.deps.notifications.enqueue({ to: randomPhone(), body: `note ${i}`, kind: "test" }),
      ),
    );
    return queued.map((q) => q.id);
  }

  async function statuses(ids: string[]) {
    const rows = await queryRows<{ status: string; n: number }>(
      t.deps.database.db,
      sql`select status, count(*)::int as n from notification_outbox
           where id in (select jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)) group by status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /** A channel whose sends wait until the test lets them finish. */
  function gatedSender(provider: string) {
    let started!: () => void;
    let finish!: (outcome: { messageId: string } | Error) => void;
    const sendStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const finished = new Promise<{ messageId: string } | Error>((resolve) => {
      finish = resolve;
    });
    const sender: MessageSender = {
      provider,
      channel: "whatsapp",
      async send() {
        started();
        const outcome = await finished;
        if (outcome instanceof Error) throw outcome;
        return outcome;
      },
    };
    return { sender, sendStarted, finish: (outcome: { messageId: string } | Error) => finish(outcome) };
  }

  test("a delivered message is recorded while a slower one in the same round is still being sent", async () => {
    await settle();
    const { id: quick } = await t.deps.notifications.enqueue({ to: randomPhone(), body: "quick", kind: "test" });
    const { id: slow } = await t.deps.notifications.enqueue({ to: randomPhone(), body: "slow", kind: "test" });
    const gate = gatedSender("slow-provider");
    const mixed: MessageSender = {
      provider: "mixed",
      channel: "whatsapp",
      send: (message) => (message.text === "slow" ? gate.sender.send(message) : Promise.resolve({ messageId: "q-1" })),
    };
    const round = createNotifications(t.deps, [mixed]).drain();
    await gate.sendStarted;
    // Until "sent" commits, a crash would send it again: that must not wait for the slow provider.
    for (let i = 0; i < 500 && (await row(quick)).status !== "sent"; i++) await Bun.sleep(5);
    expect(await row(quick)).toMatchObject({ status: "sent", provider_message_id: "q-1" });
    expect(await row(slow)).toMatchObject({ status: "pending", attempts: 1 });
    gate.finish({ messageId: "s-1" });
    expect(await round).toMatchObject({ claimed: 2, sent: 2, lapsed: 0 });
    expect(await row(slow)).toMatchObject({ status: "sent", provider_message_id: "s-1" });
  });

  test("a round claims at most 200; what is left goes in the next round", async () => {
    await settle();
    const ids = await queueMany(230);
    expect(await t.deps.notifications.drain()).toMatchObject({ claimed: 200, sent: 200, lapsed: 0 });
    expect(await statuses(ids)).toEqual({ sent: 200, pending: 30 });
    expect(await t.deps.notifications.drain()).toMatchObject({ claimed: 30, sent: 30 });
    expect(await statuses(ids)).toEqual({ sent: 230 });
    const sentTo = eneza.requests.map((r) => r.body.to);
    expect(sentTo).toHaveLength(230);
    expect(new Set(sentTo).size).toBe(230);
  });

  test("the worker goes again at once after a full round instead of waiting its interval", async () => {
    await settle();
    const ids = await queueMany(450);
    // An interval longer than the test may run: only rounds that follow a full one can send it all.
    const worker = createNotifications({
      ...t.deps,
      config: { ...t.config, outbox: { ...t.config.outbox, intervalMs: 600_000 } },
    });
    worker.start();
    try {
      for (let i = 0; i < 1000 && (await statuses(ids)).sent !== 450; i++) await Bun.sleep(20);
    } finally {
      await worker.stop();
    }
    expect(await statuses(ids)).toEqual({ sent: 450 });
    expect(eneza.requests).toHaveLength(450);
  });

  test("a late outcome never overwrites a row whose lease passed to another worker", async () => {
    await settle();
    const { id: retried } = await t.deps.notifications.enqueue({ to: randomPhone(), body: "late", kind: "test" });
    const base = Date.now();
    const { id: stale } = await t.deps.notifications.enqueue({
      to: randomPhone(),
      body: "short-lived",
      kind: "test",
      expiresAt: new Date(base + 30_000),
    });
    const firstGate = gatedSender("first");
    const first = createNotifications({ ...t.deps, now: () => new Date(base + 1_000) }, [firstGate.sender]);
    const firstRound = first.drain();
    await firstGate.sendStarted;

    // The first worker hangs past its 60 s lease; a second one takes the message over and expires the other.
    const secondGate = gatedSender("second");
    const second = createNotifications({ ...t.deps, now: () => new Date(base + 62_000) }, [secondGate.sender]);
    const secondRound = second.drain();
    await secondGate.sendStarted;
    expect(await row(retried)).toMatchObject({ status: "pending", attempts: 2 });
    expect(await row(stale)).toMatchObject({ status: "expired", attempts: 1 });
    const leased = (await row(retried)).next_attempt_at;

    // The first worker's sends come back delivered: too late to count, for either row.
    firstGate.finish({ messageId: "first-1" });
    expect(await firstRound).toMatchObject({ claimed: 2, sent: 0, retrying: 0, failed: 0, lapsed: 2 });
    expect(await row(retried)).toMatchObject({
      status: "pending",
      attempts: 2,
      provider: null,
      provider_message_id: null,
      sent_at: null,
    });
    expect((await row(retried)).next_attempt_at).toEqual(leased);
    expect(await row(stale)).toMatchObject({ status: "expired", attempts: 1, provider: null });

    // The second worker's outcome is the one recorded.
    secondGate.finish(new SendError("second", "HTTP 503"));
    expect(await secondRound).toMatchObject({ claimed: 1, retrying: 1, expired: 1, lapsed: 0 });
    const r = await row(retried);
    expect(r).toMatchObject({ status: "pending", attempts: 2, provider: null, last_error: "second: HTTP 503" });
    expect(new Date(r.next_attempt_at).getTime()).toBeLessThan(new Date(leased).getTime());
  });

  test("one round records sent, retrying and failed rows together; sensitive bodies sealed while waiting and cleared once sent", async () => {
    await settle();
    let n = 0;
    const picky: MessageSender = {
      provider: "picky",
      channel: "sms",
      async send({ text }) {
        if (text.startsWith("refused")) throw new SendError("picky", "refused");
        return { messageId: `picky-${++n}` };
      },
    };
    const production = createNotifications({ ...t.deps, config: { ...t.config, notifications: "providers" } }, [picky]);
    const enqueue = (body: string, sensitive: boolean) =>
      production.enqueue({ to: randomPhone(), body, kind: "test", sensitive }).then((q) => q.id);
    const sentSensitive = await enqueue("secret 0001", true);
    const sentPlain = await enqueue("plain 0002", false);
    const retrying = await enqueue("refused 0003", true);
    const failed = await enqueue("refused 0004", false);
    // One attempt left before KESHLESS_OUTBOX_MAX_ATTEMPTS (3).
    await t.deps.database.db.execute(sql`update notification_outbox set attempts = 2 where id = ${failed}`);

    const started = Date.now();
    expect(await production.drain()).toEqual({
      claimed: 4,
      sent: 2,
      retrying: 1,
      failed: 1,
      expired: 0,
      lapsed: 0,
    });
    expect(await row(sentSensitive)).toMatchObject({
      status: "sent",
      channel: "sms",
      provider: "picky",
      provider_message_id: expect.stringMatching(/^picky-\d$/),
      body: "[delivered]",
      last_error: null,
      attempts: 1,
    });
    expect((await row(sentSensitive)).sent_at).not.toBeNull();
    expect(await row(sentPlain)).toMatchObject({ status: "sent", body: "plain 0002", provider: "picky" });
    const r = await row(retrying);
    expect(r).toMatchObject({
      status: "pending",
      attempts: 1,
      // Still waiting for a provider: the code stays sealed (the sender opens it for each attempt).
      body: expect.stringMatching(/^sealed:v1\./),
      channel: null,
      sent_at: null,
      last_error: "picky: refused",
    });
    expect(new Date(r.next_attempt_at).getTime()).toBeGreaterThan(started);
    expect(await row(failed)).toMatchObject({
      status: "failed",
      attempts: 3,
      body: "refused 0004",
      channel: null,
      last_error: "picky: refused",
    });
  });
});

describe("logs", () => {
  test("delivery is logged with provider and message id, never the body, the code or a key", async () => {
    const all = t.logs.join("\n");
    expect(all).toContain("notification sent");
    expect(all).toContain('"provider":"eneza"');
    expect(all).toContain('"providerMessageId":"enz-1"');
    for (const code of codes) expect(all).not.toContain(code);
    expect(all).not.toContain(ENEZA_KEY);
    expect(all).not.toContain(YEBOLINK_KEY);
    expect(all).not.toContain("Your Keshless code");
    expect(all).not.toMatch(/\+2687\d{7}/);
  });
});
