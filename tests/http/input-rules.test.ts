import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { encodeCursor } from "../../src/http/pagination";
import { MAX_FUNDING_CHANGE } from "../../src/identity/partner-funding";
import { createAdmin, createPartner, createVendor, signInAdmin, signInUser } from "../support/factories";
import { createTestContext, type TestResponse } from "../support/harness";

/**
 * The shared input rules (src/lib/input.ts, applied by the one validation hook in src/http/router.ts), from
 * outside: text Postgres cannot store (U+0000, a lone UTF-16 surrogate) and dates outside 1900–9999 are a
 * 400 VALIDATION_FAILED naming the field, wherever they come in — JSON, forms, query strings, path params —
 * and nothing changes. Before, the database refused them (22P05, 22021, 22008, 22009) and callers got a 500.
 * Also: /openapi.json publishes the amount maximum this server is configured with (KESHLESS_MAX_AMOUNT).
 */
const GATEWAY_SECRET = "input-rules-gateway-secret-0123";
// Not the default maximum, so the OpenAPI test below can tell the configured value from a built-in one.
const MAX_AMOUNT = 2_500_000;
const t = await createTestContext({
  KESHLESS_USSD_GATEWAY_SECRET: GATEWAY_SECRET,
  KESHLESS_MAX_AMOUNT: String(MAX_AMOUNT),
});
const PIN = "4729";
let counter = 0;
const key = () => `rules-${Date.now()}-${++counter}`;

const partner = await createPartner(t);
const vendor = await createVendor(t);
const superAdmin = (await signInAdmin(t, await createAdmin(t, "super_admin"))).accessToken;
const finance = (await signInAdmin(t, await createAdmin(t, "finance"))).accessToken;

const NUL = "a\u0000b";
const LONE_SURROGATE = "a\ud800b";

const deposit = (phone: string, amount: number, externalReference: string, idem = key()) =>
  t.request("POST", "/partner/v1/deposits", {
    headers: { "x-api-key": partner.apiKey, "idempotency-key": idem },
    body: { phone, amount, currency: "SZL", externalReference },
  });

async function fundedUser(amount: number) {
  const user = await signInUser(t, { pin: PIN });
  expect((await deposit(user.phone, amount, key())).status).toBe(201);
  return user;
}

const wallet = async (token: string) => (await t.request("GET", "/v1/wallet", { token })).json;

/** The request was refused for `path`, in the one error shape the validation hook gives. */
function expectRefused(res: TestResponse, path: string) {
  expect(res.status).toBe(400);
  expect(res.json.error.code).toBe("VALIDATION_FAILED");
  expect(res.json.error.details).toEqual(expect.arrayContaining([{ path, message: expect.any(String) }]));
}

async function expectLedgerOk() {
  const report = await t.deps.ledger.verify();
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
}

const count = async (table: string) =>
  Number(
    (await queryRows<{ n: number }>(t.deps.database.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n,
  );

describe("text Postgres cannot store is refused, naming the field, and nothing moves", () => {
  test("a transfer's note", async () => {
    const [from, to] = [await fundedUser(5_000), await fundedUser(1_000)];
    const before = [await wallet(from.accessToken), await wallet(to.accessToken)];
    const transactions = await count("transactions");
    for (const note of [NUL, LONE_SURROGATE]) {
      const idem = key();
      const res = await t.request("POST", "/v1/transfers", {
        token: from.accessToken,
        headers: { "idempotency-key": idem },
        body: { toPhone: to.phone, amount: 500, currency: "SZL", pin: PIN, note },
      });
      expectRefused(res, "note");
      // Nothing was stored under the key either: the same key with a good body is judged afresh.
      if (note === NUL) {
        const ok = await t.request("POST", "/v1/transfers", {
          token: from.accessToken,
          headers: { "idempotency-key": idem },
          body: { toPhone: to.phone, amount: 1, currency: "SZL", pin: PIN, note: "ab" },
        });
        expect(ok.status).toBe(201);
        expect(ok.headers.get("idempotent-replayed")).toBeNull();
      }
    }
    expect((await wallet(from.accessToken)).balance).toBe(before[0].balance - 1);
    expect((await wallet(to.accessToken)).balance).toBe(before[1].balance + 1);
    expect(await count("transactions")).toBe(transactions + 1);
    await expectLedgerOk();
  });

  test("a payment's reference", async () => {
    const user = await fundedUser(5_000);
    const before = await wallet(user.accessToken);
    for (const reference of [NUL, LONE_SURROGATE]) {
      const res = await t.request("POST", "/v1/payments", {
        token: user.accessToken,
        headers: { "idempotency-key": key() },
        body: { vendorCode: vendor.code, amount: 500, currency: "SZL", pin: PIN, reference },
      });
      expectRefused(res, "reference");
    }
    expect(await wallet(user.accessToken)).toEqual(before);
    await expectLedgerOk();
  });

  test("a partner deposit's externalReference", async () => {
    const user = await signInUser(t, { pin: PIN });
    const transactions = await count("transactions");
    for (const externalReference of [NUL, LONE_SURROGATE, `\u0000`])
      expectRefused(await deposit(user.phone, 1_000, externalReference), "externalReference");
    expect((await wallet(user.accessToken)).balance).toBe(0);
    expect(await count("transactions")).toBe(transactions);
    await expectLedgerOk();
  });

  test("a withdrawal's accountName", async () => {
    const user = await fundedUser(5_000);
    const before = await wallet(user.accessToken);
    const res = await t.request("POST", "/v1/withdrawals", {
      token: user.accessToken,
      headers: { "idempotency-key": key() },
      body: {
        amount: 1_000,
        currency: "SZL",
        pin: PIN,
        destination: { type: "bank", bankCode: "FNB", accountNumber: "62001234567", accountName: `Thandi${NUL}` },
      },
    });
    expectRefused(res, "destination.accountName");
    expect(await wallet(user.accessToken)).toEqual(before);
    await expectLedgerOk();
  });

  test("an admin's reversal reason", async () => {
    const user = await fundedUser(5_000);
    const paid = await t.request("POST", "/v1/payments", {
      token: user.accessToken,
      headers: { "idempotency-key": key() },
      body: { vendorCode: vendor.code, amount: 1_000, currency: "SZL", pin: PIN },
    });
    expect(paid.status).toBe(201);
    const approvals = await count("approval_requests");
    for (const reason of [`goods not delivered${NUL}`, `goods not delivered${LONE_SURROGATE}`]) {
      const res = await t.request("POST", `/admin/v1/transactions/${paid.json.id}/reversal`, {
        token: finance,
        body: { reason },
      });
      expectRefused(res, "reason");
    }
    expect(await count("approval_requests")).toBe(approvals);
    const detail = await t.request("GET", `/admin/v1/transactions/${paid.json.id}`, { token: superAdmin });
    expect(detail.json).toMatchObject({ status: "completed", reversalRequest: null });
    await expectLedgerOk();
  });

  test("path params and query strings: the same rule", async () => {
    const user = await fundedUser(1_000);
    expectRefused(await t.request("GET", "/v1/transactions/txn_%00", { token: user.accessToken }), "id");
    expectRefused(
      await t.request("GET", `/admin/v1/transactions/${encodeURIComponent(NUL)}`, { token: superAdmin }),
      "id",
    );
    expectRefused(await t.request("GET", "/admin/v1/transactions?userId=usr_%00", { token: superAdmin }), "userId");
    expectRefused(await t.request("GET", "/admin/v1/audit?action=user.%00", { token: superAdmin }), "action");
    // A good request still answers.
    expect((await t.request("GET", "/admin/v1/transactions?userId=usr_nobody", { token: superAdmin })).status).toBe(
      200,
    );
  });

  test("a cursor carrying such text (or an impossible date) is refused, not a 500", async () => {
    const user = await fundedUser(1_000);
    const bad = [
      encodeCursor(new Date(), NUL),
      Buffer.from(JSON.stringify(["99999-01-01", "x"])).toString("base64url"),
    ];
    for (const cursor of bad) {
      const res = await t.request("GET", `/admin/v1/audit?cursor=${cursor}`, { token: superAdmin });
      expectRefused(res, "cursor");
      expectRefused(await t.request("GET", `/admin/v1/transactions?cursor=${cursor}`, { token: superAdmin }), "cursor");
    }
    for (const raw of [`2024-01-01T00:00:00.000Z|txn_${NUL}`, "0000-01-01T00:00:00.000Z|txn_x"]) {
      const cursor = Buffer.from(raw).toString("base64url");
      const res = await t.request("GET", `/v1/wallet/transactions?cursor=${cursor}`, { token: user.accessToken });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("VALIDATION_FAILED");
    }
  });

  test("a NUL in a header never reaches the app: fetch will not send one and the server refuses it", async () => {
    expect(() => new Headers({ "idempotency-key": NUL })).toThrow();
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => t.app.fetch(request) });
    try {
      const transactions = await count("transactions");
      const reply = await new Promise<string>((resolve, reject) => {
        let text = "";
        Bun.connect({
          hostname: "127.0.0.1",
          port: server.port!,
          socket: {
            open(socket) {
              socket.write(
                `POST /partner/v1/deposits HTTP/1.1\r\nHost: x\r\nIdempotency-Key: ${NUL}\r\n` +
                  `X-API-Key: ${partner.apiKey}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n` +
                  "Connection: close\r\n\r\n{}",
              );
            },
            data(_socket, data) {
              text += data.toString("latin1");
            },
            close: () => resolve(text),
            error: (_socket, error) => reject(error),
          },
        }).catch(reject);
      });
      expect(reply).toStartWith("HTTP/1.1 400");
      expect(await count("transactions")).toBe(transactions);
    } finally {
      server.stop(true);
    }
  });
});

describe("USSD: a session id Postgres cannot store is a 400 in the gateway's error shape, and no session is kept", () => {
  const headers = { "x-gateway-secret": GATEWAY_SECRET };
  const form = { "content-type": "application/x-www-form-urlencoded", ...headers };

  test("MTN (JSON)", async () => {
    const sessions = await count("ussd_sessions");
    for (const sessionId of [NUL, LONE_SURROGATE]) {
      const res = await t.request("POST", "/ussd/mtn", {
        headers,
        body: { sessionId, messageType: "0", msisdn: "26876100300", serviceCode: "*247#", ussdString: "*247#" },
      });
      expectRefused(res, "sessionId");
    }
    expect(await count("ussd_sessions")).toBe(sessions);
  });

  test("Africa's Talking (form) and its end notice", async () => {
    const sessions = await count("ussd_sessions");
    const begin = new URLSearchParams({ sessionId: NUL, serviceCode: "*247#", phoneNumber: "+26876100301", text: "" });
    expectRefused(await t.request("POST", "/ussd/at", { rawBody: begin.toString(), headers: form }), "sessionId");
    const input = new URLSearchParams({ sessionId: "AT-ok", serviceCode: "*247#", phoneNumber: "+26876100301" });
    input.set("text", `1*${NUL}`);
    expectRefused(await t.request("POST", "/ussd/at", { rawBody: input.toString(), headers: form }), "text");
    const end = new URLSearchParams({ sessionId: NUL, status: "Success" });
    expectRefused(await t.request("POST", "/ussd/at/end", { rawBody: end.toString(), headers: form }), "sessionId");
    expect(await count("ussd_sessions")).toBe(sessions);
  });
});

describe("dates: one field, years 1900–9999, on every date query", () => {
  const outOfRange = [
    "99999-01-01",
    "+099999-01-01T00:00:00Z",
    "0000-01-01",
    "1899-12-31T23:59:59Z",
    "10000-01-01",
    "9999-12-31T23:00:00-05:00",
    "2024-02-30",
    "2024-13-01",
    "2024-01-01T25:00:00Z",
    "yesterday",
    `2024-01-01${NUL}`,
  ];
  const inRange = ["1900-01-01", "9999-12-31T23:59:59.999Z", "2024-06-01T12:00:00+02:00", "2024-06-01"];
  const dateQueries = [
    ["/admin/v1/transactions", "from"],
    ["/admin/v1/transactions", "to"],
    ["/admin/v1/audit", "from"],
    ["/admin/v1/audit", "to"],
  ] as const;

  for (const [path, field] of dateQueries)
    test(`${path}?${field}=`, async () => {
      for (const value of outOfRange) {
        const res = await t.request("GET", `${path}?${field}=${encodeURIComponent(value)}`, { token: superAdmin });
        expect({ value, status: res.status }).toEqual({ value, status: 400 });
        expectRefused(res, field);
      }
      for (const value of inRange) {
        const res = await t.request("GET", `${path}?${field}=${encodeURIComponent(value)}`, { token: superAdmin });
        expect({ value, status: res.status }).toEqual({ value, status: 200 });
      }
    });

  test("every date query in /openapi.json is the shared field", async () => {
    const doc = (await t.request("GET", "/openapi.json")).json;
    for (const [path, field] of dateQueries) {
      const param = doc.paths[path].get.parameters.find((p: any) => p.name === field);
      expect(param.schema).toMatchObject({ type: "string", format: "date-time" });
    }
  });
});

describe("/openapi.json publishes the configured amount maximum", () => {
  test("every money body's amount has maximum KESHLESS_MAX_AMOUNT (airtime: KESHLESS_AIRTIME_MAX_AMOUNT)", async () => {
    const doc = (await t.request("GET", "/openapi.json")).json;
    const resolve = (schema: any) => (schema?.$ref ? doc.components.schemas[schema.$ref.split("/").pop()] : schema);
    const amounts: Record<string, any> = {};
    for (const [path, item] of Object.entries<any>(doc.paths))
      for (const [method, operation] of Object.entries<any>(item)) {
        const amount = resolve(operation.requestBody?.content?.["application/json"]?.schema)?.properties?.amount;
        if (amount) amounts[`${method.toUpperCase()} ${path}`] = amount;
      }
    expect(Object.keys(amounts)).toEqual(
      expect.arrayContaining([
        "POST /v1/payments",
        "POST /v1/transfers",
        "POST /partner/v1/deposits",
        "POST /v1/withdrawals",
        "POST /v1/vendor/withdrawals",
        "POST /v1/vendor/payment-requests",
        "POST /v1/airtime",
      ]),
    );
    for (const [route, amount] of Object.entries(amounts)) {
      // A partner's funding limit changes by admin request, moving no money: its own bound (partner-funding.ts).
      const expected =
        route === "POST /v1/airtime"
          ? t.config.airtime.maxAmount
          : route.startsWith("POST /admin/v1/partners/{id}/funding")
            ? MAX_FUNDING_CHANGE
            : MAX_AMOUNT;
      expect({ route, maximum: amount.maximum }).toEqual({ route, maximum: expected });
    }
    expect(t.config.maxAmount).toBe(MAX_AMOUNT);
    expect(JSON.stringify(doc)).not.toContain(String(Number.MAX_SAFE_INTEGER));
  });

  test("an amount over it is still the service's 400 naming amount", async () => {
    const user = await signInUser(t, { pin: PIN });
    const res = await deposit(user.phone, MAX_AMOUNT + 1, key());
    expectRefused(res, "amount");
    // At the maximum the amount is valid; what refuses it then is the tier-0 balance limit, not validation.
    expect((await deposit(user.phone, MAX_AMOUNT, key())).json.error.code).toBe("LIMIT_EXCEEDED");
  });
});
