import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { claimDue } from "../../src/db/claim";
import { queryRows } from "../../src/db/client";
import { createWebhooks } from "../../src/webhooks/service";
import { createAdmin, createPartner, signInAdmin, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { startReceiver } from "./receiver";

/**
 * Partner webhooks against a real receiver on a local port: signed exactly as API.md, queued in the
 * deposit's own transaction, retried with exponential backoff for 24 hours then failed, logged per
 * attempt, and never delivered as two different events.
 */
const receiver = startReceiver();
const t = await createTestContext({
  // The receiver listens on 127.0.0.1; refusing such addresses is tests/webhooks/ssrf.test.ts.
  KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
  KESHLESS_WEBHOOK_TIMEOUT_MS: "300",
  KESHLESS_WEBHOOK_BACKOFF_MS: "1000",
  KESHLESS_WEBHOOK_MAX_BACKOFF_MS: "3600000",
  KESHLESS_KYC_LIMITS: JSON.stringify({
    "0": { perTransaction: 50_000, daily: 80_000, monthly: 150_000, maxBalance: 200_000 },
  }),
});
afterAll(() => receiver.stop());

const SCOPES = ["deposits:create", "transactions:read", "webhooks:manage"];
let clock = Date.now();
beforeEach(() => {
  receiver.reset();
  clock = Date.now();
  t.deps.now = () => new Date(clock);
  receiver.clock = () => clock;
});
let counter = 0;
const key = () => `wh-${Date.now()}-${++counter}`;

/** A partner with one endpoint pointing at the receiver, whose secret the receiver now holds. */
async function partnerWithEndpoint() {
  const partner = await createPartner(t, { scopes: SCOPES });
  const created = await t.request("POST", "/partner/v1/webhooks", {
    headers: { "x-api-key": partner.apiKey },
    body: { url: receiver.url, description: "primary" },
  });
  expect(created.status).toBe(201);
  receiver.secret = created.json.secret;
  return { ...partner, endpoint: created.json.endpoint, secret: created.json.secret as string };
}

function deposit(apiKey: string, phone: string, amount: number, idem = key()) {
  return t.request("POST", "/partner/v1/deposits", {
    headers: { "x-api-key": apiKey, "idempotency-key": idem },
    body: { phone, amount, currency: "SZL", externalReference: `ext-${idem}` },
  });
}

async function deliveriesOf(transactionId: string) {
  return queryRows<any>(
    t.deps.database.db,
    sql`select d.*, e.body from webhook_deliveries d join webhook_events e on e.id = d.event_id
         where e.dedupe_key like ${`${transactionId}:%`} order by d.created_at`,
  );
}

const dueAt = async (deliveryId: string) => {
  const [row] = await queryRows<{ next_attempt_at: string }>(
    t.deps.database.db,
    sql`select next_attempt_at from webhook_deliveries where id = ${deliveryId}`,
  );
  return new Date(row!.next_attempt_at).getTime();
};

describe("endpoints", () => {
  test("a partner adds, lists, changes and deletes its endpoint; the secret is shown once", async () => {
    const partner = await createPartner(t, { scopes: SCOPES });
    const headers = { "x-api-key": partner.apiKey };
    const created = await t.request("POST", "/partner/v1/webhooks", { headers, body: { url: receiver.url } });
    expect(created.status).toBe(201);
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.json.endpoint).toMatchObject({ url: receiver.url, active: true, partnerId: partner.id });
    expect(created.json.endpoint.secretPrefix).toBe(created.json.secret.slice(0, 12));
    const list = await t.request("GET", "/partner/v1/webhooks", { headers });
    expect(list.json.data).toHaveLength(1);
    expect(list.text).not.toContain(created.json.secret);
    const id = created.json.endpoint.id;
    const patched = await t.request("PATCH", `/partner/v1/webhooks/${id}`, { headers, body: { active: false } });
    expect(patched.json.active).toBe(false);
    expect((await t.request("DELETE", `/partner/v1/webhooks/${id}`, { headers })).status).toBe(204);
    expect((await t.request("GET", "/partner/v1/webhooks", { headers })).json.data).toHaveLength(0);
    expect((await t.request("DELETE", `/partner/v1/webhooks/${id}`, { headers })).status).toBe(404);
    // The secret is stored sealed, never as given.
    const rows = await queryRows<{ secret: string }>(
      t.deps.database.db,
      sql`select secret from webhook_endpoints where id = ${id}`,
    );
    expect(rows[0]!.secret).not.toContain(created.json.secret);
  });

  test("bad URLs and bodies are 400; a key without webhooks:manage is 403; another partner's endpoint is 404", async () => {
    const partner = await createPartner(t, { scopes: SCOPES });
    const headers = { "x-api-key": partner.apiKey };
    for (const url of ["not a url", "ftp://example.com/hook", "http://user:pw@example.com/hook"]) {
      const res = await t.request("POST", "/partner/v1/webhooks", { headers, body: { url } });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
    expect((await t.request("POST", "/partner/v1/webhooks", { headers, body: {} })).status).toBe(400);
    const narrow = await createPartner(t);
    const refused = await t.request("GET", "/partner/v1/webhooks", { headers: { "x-api-key": narrow.apiKey } });
    expect(refused.status).toBe(403);
    const other = await partnerWithEndpoint();
    const peek = await t.request("PATCH", `/partner/v1/webhooks/${other.endpoint.id}`, {
      headers,
      body: { active: false },
    });
    expect(peek.status).toBe(404);
    expect((await t.request("GET", "/partner/v1/webhooks")).status).toBe(401);
  });

  test("in production only public https URLs are accepted", async () => {
    const config = t.deps.config;
    const production = createWebhooks({
      ...t.deps,
      config: { ...config, env: "production", webhooks: { ...config.webhooks, allowPrivateNetworks: false } },
    });
    const partner = await createPartner(t, { scopes: SCOPES });
    const ctx = { actor: { type: "partner" as const, id: partner.id } };
    for (const url of [
      "http://bank.example/hooks",
      "https://localhost/hooks",
      "https://127.0.0.1/hooks",
      "https://2130706433/hooks",
      "https://10.1.2.3/hooks",
      "https://169.254.169.254/computeMetadata/v1/",
      "https://metadata.google.internal/",
      "https://[::1]/hooks",
      "https://192.168.0.10/hooks",
    ])
      await expect(production.createEndpoint({ ctx, input: { partnerId: partner.id, url } })).rejects.toMatchObject({
        code: "VALIDATION_FAILED",
      });
    const ok = await production.createEndpoint({
      ctx,
      input: { partnerId: partner.id, url: "https://bank.example/hooks" },
    });
    expect(ok.endpoint.url).toBe("https://bank.example/hooks");
  });

  test("admins manage any partner's endpoints by role, audited", async () => {
    const partner = await createPartner(t);
    const finance = await signInAdmin(t, await createAdmin(t, "finance"));
    const support = await signInAdmin(t, await createAdmin(t, "support"));
    const created = await t.request("POST", `/admin/v1/partners/${partner.id}/webhooks`, {
      token: finance.accessToken,
      body: { url: receiver.url },
    });
    expect(created.status).toBe(201);
    expect(created.json.secret).toMatch(/^whsec_/);
    const listed = await t.request("GET", `/admin/v1/partners/${partner.id}/webhooks`, { token: finance.accessToken });
    expect(listed.json.data.map((e: any) => e.id)).toEqual([created.json.endpoint.id]);
    const denied = await t.request("GET", `/admin/v1/partners/${partner.id}/webhooks`, { token: support.accessToken });
    expect(denied.status).toBe(403);
    const missing = await t.request("GET", "/admin/v1/partners/prt_nope/webhooks", { token: finance.accessToken });
    expect(missing.status).toBe(404);
    const audit = await t.deps.audit.list({ action: "webhook.endpoint.create", targetId: partner.id, limit: 5 });
    expect(audit.data).toHaveLength(1);
    expect(JSON.stringify(audit.data)).not.toContain(created.json.secret);
  });
});

describe("deposit events", () => {
  test("queued in the deposit's transaction, delivered signed, logged", async () => {
    const partner = await partnerWithEndpoint();
    const user = await signInUser(t);
    const res = await deposit(partner.apiKey, user.phone, 2_500);
    expect(res.status).toBe(201);
    const [queued] = await deliveriesOf(res.json.id);
    expect(queued).toMatchObject({ status: "pending", event_type: "deposit.completed", attempts: 0 });

    expect(await t.deps.webhooks.drain()).toMatchObject({ delivered: 1 });
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.signatureValid).toBe(true);
    expect(got.headers["keshless-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(got.headers["content-type"]).toBe("application/json");
    expect(got.json).toMatchObject({ type: "deposit.completed", data: { transaction: res.json } });
    expect(got.json.id).toMatch(/^evt_/);
    expect(got.eventId).toBe(got.json.id);

    const log = await t.request("GET", `/partner/v1/webhook-deliveries?eventId=${got.json.id}`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(log.json.data).toHaveLength(1);
    expect(log.json.data[0]).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200 });
    const detail = await t.request("GET", `/partner/v1/webhook-deliveries/${log.json.data[0].id}`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(detail.json.attemptLog).toHaveLength(1);
    expect(detail.json.attemptLog[0]).toMatchObject({ attempt: 1, statusCode: 200, error: null });
    expect(detail.json.attemptLog[0].latencyMs).toBeGreaterThanOrEqual(0);
    expect(detail.json.event.payload).toEqual(got.json);
  });

  test("a replayed or refused deposit queues no second event; a partner without endpoints queues none", async () => {
    const partner = await partnerWithEndpoint();
    const user = await signInUser(t);
    const idem = key();
    const first = await deposit(partner.apiKey, user.phone, 1_000, idem);
    const again = await deposit(partner.apiKey, user.phone, 1_000, idem);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await deliveriesOf(first.json.id)).toHaveLength(1);
    const over = await deposit(partner.apiKey, user.phone, 500_000);
    expect(over.status).toBe(422);
    const events = await queryRows<{ n: number }>(
      t.deps.database.db,
      sql`select count(*)::int as n from webhook_events where partner_id = ${partner.id}`,
    );
    expect(events[0]!.n).toBe(1);

    const quiet = await createPartner(t, { scopes: SCOPES });
    const plain = await deposit(quiet.apiKey, user.phone, 1_000);
    expect(plain.status).toBe(201);
    expect(await deliveriesOf(plain.json.id)).toHaveLength(0);
    await t.deps.webhooks.drain();
  });

  test("a failing receiver gets the same event again with backoff, then it is delivered once", async () => {
    const partner = await partnerWithEndpoint();
    const user = await signInUser(t);
    const res = await deposit(partner.apiKey, user.phone, 700);
    receiver.mode = "fail";
    receiver.failStatus = 503;
    expect(await t.deps.webhooks.drain()).toMatchObject({ retrying: 1 });
    const [delivery] = await deliveriesOf(res.json.id);
    // First retry ~1 s later (base 1000 ms, ±20% jitter).
    const wait = (await dueAt(delivery.id)) - clock;
    expect(wait).toBeGreaterThanOrEqual(800);
    expect(wait).toBeLessThanOrEqual(1200);
    expect(await t.deps.webhooks.drain()).toMatchObject({ claimed: 0 });

    clock += 1_300;
    receiver.mode = "ok";
    expect(await t.deps.webhooks.drain()).toMatchObject({ delivered: 1 });
    const sent = receiver.of(receiver.received[0]!.eventId!);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.body).toBe(sent[0]!.body);
    expect(sent.every((r) => r.signatureValid)).toBe(true);
    expect(sent.map((r) => r.headers["keshless-delivery-attempt"])).toEqual(["1", "2"]);

    const detail = await t.deps.webhooks.getDelivery(partner.id, delivery.id);
    expect(detail.attemptLog.map((a) => [a.statusCode, a.error])).toEqual([
      [503, "HTTP 503"],
      [200, null],
    ]);
    clock += 86_400_000;
    expect(await t.deps.webhooks.drain()).toMatchObject({ claimed: 0 });
  });

  test("a slow receiver times out, is logged as such, and is retried", async () => {
    const partner = await partnerWithEndpoint();
    const user = await signInUser(t);
    const res = await deposit(partner.apiKey, user.phone, 300);
    receiver.mode = "slow";
    receiver.slowMs = 1_000;
    const started = performance.now();
    expect(await t.deps.webhooks.drain()).toMatchObject({ retrying: 1 });
    expect(performance.now() - started).toBeLessThan(900);
    const [delivery] = await deliveriesOf(res.json.id);
    const detail = await t.deps.webhooks.getDelivery(partner.id, delivery.id);
    expect(detail.attemptLog[0]!.statusCode).toBeNull();
    expect(detail.attemptLog[0]!.error).toBe("no answer within 300 ms");
    expect(detail.attemptLog[0]!.latencyMs).toBeGreaterThanOrEqual(290);
    expect(detail.status).toBe("pending");
    receiver.mode = "ok";
    clock += 2_000;
    expect(await t.deps.webhooks.drain()).toMatchObject({ delivered: 1 });
  });

  test("retries back off exponentially for 24 hours, then the delivery is failed; a manual retry sends it once more", async () => {
    const partner = await partnerWithEndpoint();
    const user = await signInUser(t);
    const res = await deposit(partner.apiKey, user.phone, 400);
    const created = clock;
    receiver.mode = "fail";
    const [delivery] = await deliveriesOf(res.json.id);
    const gaps: number[] = [];
    let status = "pending";
    for (let i = 0; i < 100 && status === "pending"; i++) {
      await t.deps.webhooks.drain();
      const row = await t.deps.webhooks.getDelivery(partner.id, delivery.id);
      status = row.status;
      if (status === "pending") {
        const next = await dueAt(delivery.id);
        gaps.push(next - clock);
        clock = next;
      }
    }
    expect(status).toBe("failed");
    // Doubling from ~1 s, capped at one hour, the last attempt exactly at the 24-hour mark.
    expect(gaps[1]! / gaps[0]!).toBeGreaterThan(1.2);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3_600_000 * 1.2);
    expect(clock - created).toBe(86_400_000);
    const detail = await t.deps.webhooks.getDelivery(partner.id, delivery.id);
    expect(detail.attempts).toBe(gaps.length + 1);
    expect(detail.attemptLog).toHaveLength(detail.attempts);
    expect(detail.lastError).toBe("HTTP 500");
    const sent = receiver.of(delivery.event_id);
    expect(sent).toHaveLength(detail.attempts);
    expect(new Set(sent.map((r) => r.body)).size).toBe(1);

    receiver.mode = "ok";
    const retried = await t.request("POST", `/partner/v1/webhook-deliveries/${delivery.id}/retry`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(retried.status).toBe(200);
    expect(retried.json.status).toBe("pending");
    await t.deps.webhooks.drain();
    expect((await t.deps.webhooks.getDelivery(partner.id, delivery.id)).status).toBe("delivered");
    const again = await t.request("POST", `/partner/v1/webhook-deliveries/${delivery.id}/retry`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(again.status).toBe(409);
  });

  test("concurrent workers never send one delivery twice; a worker that dies gives its rows back after the lease", async () => {
    const partner = await partnerWithEndpoint();
    const user = await signInUser(t);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await deposit(partner.apiKey, user.phone, 100 + i)).json.id);
    const results = await Promise.all([0, 1, 2].map(() => t.deps.webhooks.drain({ limit: 5 })));
    const more = await t.deps.webhooks.drain();
    const delivered = results.reduce((n, r) => n + r.delivered, more.delivered);
    expect(delivered).toBe(12);
    const eventIds = receiver.received.map((r) => r.eventId);
    expect(new Set(eventIds).size).toBe(12);
    expect(eventIds).toHaveLength(12);

    // A worker claims a row and dies before sending: the row comes back once its lease passes, same event.
    receiver.reset();
    const last = await deposit(partner.apiKey, user.phone, 999);
    const { rows } = await claimDue(t.deps.database.db, {
      table: "webhook_deliveries",
      limit: 10,
      now: t.deps.now(),
      leaseMs: 60_000,
    });
    expect(rows).toHaveLength(1);
    expect(await t.deps.webhooks.drain()).toMatchObject({ claimed: 0 });
    clock += 61_000;
    expect(await t.deps.webhooks.drain()).toMatchObject({ delivered: 1 });
    const [d] = await deliveriesOf(last.json.id);
    expect(receiver.received[0]!.json.id).toBe(d.event_id);
    expect(receiver.received[0]!.headers["keshless-delivery-attempt"]).toBe("2");
  });

  test("a disabled endpoint's pending deliveries fail without a request", async () => {
    const partner = await partnerWithEndpoint();
    const user = await signInUser(t);
    const res = await deposit(partner.apiKey, user.phone, 100);
    await t.request("PATCH", `/partner/v1/webhooks/${partner.endpoint.id}`, {
      headers: { "x-api-key": partner.apiKey },
      body: { active: false },
    });
    expect(await t.deps.webhooks.drain()).toMatchObject({ failed: 1 });
    expect(receiver.received).toHaveLength(0);
    const [delivery] = await deliveriesOf(res.json.id);
    expect(delivery.last_error).toBe("the endpoint was disabled or deleted");
    // And new deposits queue nothing for it.
    const next = await deposit(partner.apiKey, user.phone, 100);
    expect(await deliveriesOf(next.json.id)).toHaveLength(0);
  });
});

describe("test events and secrets", () => {
  test("send test event delivers at once and answers with the attempt", async () => {
    const partner = await partnerWithEndpoint();
    const res = await t.request("POST", `/partner/v1/webhooks/${partner.endpoint.id}/test`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "delivered", eventType: "webhook.test", attempts: 1 });
    expect(res.json.attemptLog[0]).toMatchObject({ statusCode: 200, error: null });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.signatureValid).toBe(true);
    expect(receiver.received[0]!.json.type).toBe("webhook.test");
    // The worker does not send it a second time.
    clock += 120_000;
    expect(await t.deps.webhooks.drain()).toMatchObject({ claimed: 0 });
  });

  test("a failing test event shows the error and is retried later", async () => {
    const partner = await partnerWithEndpoint();
    receiver.mode = "fail";
    receiver.failStatus = 404;
    const res = await t.request("POST", `/partner/v1/webhooks/${partner.endpoint.id}/test`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "pending", lastStatusCode: 404, lastError: "HTTP 404" });
    receiver.mode = "ok";
    clock += 2_000;
    expect(await t.deps.webhooks.drain()).toMatchObject({ delivered: 1 });
    expect(receiver.of(res.json.eventId)).toHaveLength(2);
  });

  test("admins send test events; rotating the secret signs with the new one only", async () => {
    const partner = await partnerWithEndpoint();
    const admin = await signInAdmin(t, await createAdmin(t, "super_admin"));
    const old = partner.secret;
    const rotated = await t.request(
      "POST",
      `/admin/v1/partners/${partner.id}/webhooks/${partner.endpoint.id}/rotate-secret`,
      {
        token: admin.accessToken,
      },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.json.secret).not.toBe(old);
    receiver.secret = old;
    const test1 = await t.request("POST", `/admin/v1/partners/${partner.id}/webhooks/${partner.endpoint.id}/test`, {
      token: admin.accessToken,
    });
    expect(test1.json.status).toBe("delivered");
    expect(receiver.received[0]!.signatureValid).toBe(false);
    receiver.secret = rotated.json.secret;
    await t.request("POST", `/admin/v1/partners/${partner.id}/webhooks/${partner.endpoint.id}/test`, {
      token: admin.accessToken,
    });
    expect(receiver.received[1]!.signatureValid).toBe(true);
    const log = await t.request("GET", `/admin/v1/partners/${partner.id}/webhook-deliveries?eventType=webhook.test`, {
      token: admin.accessToken,
    });
    expect(log.json.data).toHaveLength(2);
    const page = await t.request("GET", `/admin/v1/partners/${partner.id}/webhook-deliveries?limit=1`, {
      token: admin.accessToken,
    });
    expect(page.json.data).toHaveLength(1);
    const next = await t.request(
      "GET",
      `/admin/v1/partners/${partner.id}/webhook-deliveries?limit=1&cursor=${page.json.nextCursor}`,
      { token: admin.accessToken },
    );
    expect(next.json.data[0].id).not.toBe(page.json.data[0].id);
    const bad = await t.request("GET", `/admin/v1/partners/${partner.id}/webhook-deliveries?cursor=zzz`, {
      token: admin.accessToken,
    });
    expect(bad.status).toBe(400);
  });

  test("the ledger is consistent after all of it, and no signing secret reached the logs", async () => {
    expect((await t.deps.ledger.verify()).problems).toEqual([]);
    expect(t.logs.join("\n")).not.toContain("whsec_");
  });
});
