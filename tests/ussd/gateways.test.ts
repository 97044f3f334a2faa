import { describe, expect, test } from "bun:test";
import { randomPhone, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { clock, dialer, useClock } from "./support";

/** The gateway edge: shared secrets, malformed requests, wire details, and which deployment serves USSD. */

const SHARED = "shared-gateway-secret-0123456789";
const AT_SECRET = "at-only-gateway-secret-987654321";
const t = await createTestContext({ KESHLESS_USSD_GATEWAY_SECRET: SHARED, KESHLESS_USSD_GATEWAY_SECRET_AT: AT_SECRET });
useClock(t);

const mtnBody = (over: Record<string, unknown> = {}) => ({
  sessionId: `s-${Math.random().toString(36).slice(2)}`,
  messageType: "0",
  msisdn: "26876100200",
  serviceCode: "*247#",
  ussdString: "*247#",
  ...over,
});
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

describe("X-Gateway-Secret", () => {
  test("MTN needs the shared secret: missing or wrong is 401 in the one error shape", async () => {
    const none = await t.request("POST", "/ussd/mtn", { body: mtnBody() });
    expect(none.status).toBe(401);
    expect(none.json.error).toMatchObject({ code: "UNAUTHENTICATED", requestId: expect.any(String) });
    const wrong = await t.request("POST", "/ussd/mtn", { body: mtnBody(), headers: { "x-gateway-secret": AT_SECRET } });
    expect(wrong.status).toBe(401);
    const right = await t.request("POST", "/ussd/mtn", { body: mtnBody(), headers: { "x-gateway-secret": SHARED } });
    expect(right.status).toBe(200);
    expect(right.json).toMatchObject({ statusCode: "0000", data: { userInputRequired: true, messageType: 1 } });
  });

  test("a gateway with its own secret needs that one", async () => {
    const fields = { sessionId: "AT-1", serviceCode: "*247#", phoneNumber: "+26876100201", text: "" };
    const post = (secret: string) =>
      t.request("POST", "/ussd/at", {
        rawBody: form(fields),
        headers: { "content-type": "application/x-www-form-urlencoded", "x-gateway-secret": secret },
      });
    expect((await post(SHARED)).status).toBe(401);
    const ok = await post(AT_SECRET);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toStartWith("text/plain");
    expect(ok.text).toStartWith("CON Choose language");
  });

  test("the simulator's client sends it", async () => {
    const d = dialer(t, "at", randomPhone(), AT_SECRET);
    expect((await d.dial()).status).toBe(200);
  });
});

describe("malformed requests are a 4xx and change nothing", () => {
  const headers = { "x-gateway-secret": SHARED };
  test("MTN: missing fields, an unknown messageType, a body that is not JSON", async () => {
    const missing = await t.request("POST", "/ussd/mtn", { body: { messageType: "1" }, headers });
    expect(missing.status).toBe(400);
    expect(missing.json.error.code).toBe("VALIDATION_FAILED");
    const unknown = await t.request("POST", "/ussd/mtn", { body: mtnBody({ messageType: "9" }), headers });
    expect(unknown.status).toBe(400);
    const garbage = await t.request("POST", "/ussd/mtn", {
      rawBody: "{nope",
      headers: { ...headers, "content-type": "application/json" },
    });
    expect(garbage.status).toBe(400);
  });

  test("AT: JSON where a form is expected is 415; a missing phone is 400", async () => {
    const json = await t.request("POST", "/ussd/at", {
      body: { sessionId: "x", serviceCode: "*247#", phoneNumber: "+26876100202", text: "" },
      headers: { "x-gateway-secret": AT_SECRET },
    });
    expect(json.status).toBe(415);
    const noPhone = await t.request("POST", "/ussd/at", {
      rawBody: form({ sessionId: "x", serviceCode: "*247#", text: "" }),
      headers: { "content-type": "application/x-www-form-urlencoded", "x-gateway-secret": AT_SECRET },
    });
    expect(noPhone.status).toBe(400);
    expect(noPhone.json.error.code).toBe("VALIDATION_FAILED");
  });

  test("a number that is not an Eswatini mobile is told so, and no session is kept", async () => {
    const body = mtnBody({ msisdn: "254711000111" });
    const res = await t.request("POST", "/ussd/mtn", { body, headers });
    expect(res.status).toBe(200);
    expect(res.json.data).toMatchObject({
      inboundResponse: "Keshless is for Eswatini mobile numbers only.",
      userInputRequired: false,
      messageType: 2,
      msisdn: "254711000111",
    });
    expect(await t.deps.ussd.store.load("mtn", body.sessionId)).toBeUndefined();
  });
});

describe("MTN wire details", () => {
  const headers = { "x-gateway-secret": SHARED };
  test("messageType as a number; a notification (3) is acknowledged without a session", async () => {
    const begin = mtnBody({ messageType: 0 });
    const res = await t.request("POST", "/ussd/mtn", { body: begin, headers });
    expect(res.json.data).toMatchObject({ userInputRequired: true, messageType: 1, serviceCode: "*247#" });
    const note = mtnBody({ messageType: 3, ussdString: "delivered" });
    const ack = await t.request("POST", "/ussd/mtn", { body: note, headers });
    expect(ack.json).toMatchObject({ statusCode: "0000", data: { inboundResponse: "", userInputRequired: false } });
    expect(await t.deps.ussd.store.load("mtn", note.sessionId)).toBeUndefined();
  });

  test("a session id the gateway reuses after a session ended starts a new session", async () => {
    const user = await signInUser(t, { pin: "7481" });
    const sessionId = `reuse-${Math.random().toString(36).slice(2)}`;
    const call = (messageType: number, ussdString: string) =>
      t.request("POST", "/ussd/mtn", {
        body: { sessionId, messageType, msisdn: `268${user.phone.slice(4)}`, serviceCode: "*247#", ussdString },
        headers,
      });
    expect((await call(0, "*247#")).json.data.inboundResponse).toStartWith("Choose language");
    clock.offset += 5_000;
    expect((await call(1, "1")).json.data.inboundResponse).toStartWith("Keshless\n");
    clock.offset += 5_000;
    await call(1, "1");
    clock.offset += 5_000;
    const balance = await call(1, "7481");
    expect(balance.json.data).toMatchObject({ inboundResponse: "Balance: E0.00\nAvailable: E0.00", messageType: 2 });
    // Same id, dialled again: a fresh session, not the replay of the last one.
    clock.offset += 5_000;
    expect((await call(0, "*247#")).json.data).toMatchObject({ messageType: 1, userInputRequired: true });
  });
});

test("the OpenAPI document lists the USSD routes", async () => {
  const doc = await t.request("GET", "/openapi.json");
  for (const path of ["/ussd/mtn", "/ussd/at", "/ussd/at/end"]) expect(doc.json.paths[path]?.post).toBeDefined();
  expect(doc.json.paths["/ussd/at"].post.requestBody.content["application/x-www-form-urlencoded"]).toBeDefined();
});

describe("KESHLESS_ROLE", () => {
  test("ussd mounts the gateways, health and readiness, and nothing of the API", async () => {
    const ussd = await createTestContext({ KESHLESS_ROLE: "ussd" });
    const begin = await ussd.request("POST", "/ussd/mtn", { body: mtnBody() });
    expect(begin.status).toBe(200);
    expect((await ussd.request("GET", "/health")).status).toBe(200);
    expect((await ussd.request("GET", "/ready")).status).toBe(200);
    // The Swazi Mobile ERS360 proxy lives here too (it refuses a call without its secret, but it is mounted).
    expect((await ussd.request("POST", "/internal/ers/eswatini-mobile", { rawBody: "<x/>" })).status).not.toBe(404);
    for (const [method, path] of [
      ["POST", "/v1/auth/otp"],
      ["GET", "/v1/wallet"],
      ["POST", "/v1/payments"],
      ["POST", "/partner/v1/deposits"],
      ["POST", "/admin/v1/auth/login"],
      ["GET", "/dev/outbox"],
    ] as const)
      expect({ path, status: (await ussd.request(method, path, { body: {} })).status }).toEqual({ path, status: 404 });
  });

  test("api does not mount USSD", async () => {
    const api = await createTestContext({ KESHLESS_ROLE: "api" });
    for (const path of ["/ussd/mtn", "/ussd/at", "/ussd/at/end"])
      expect((await api.request("POST", path, { body: mtnBody() })).status).toBe(404);
    expect((await api.request("POST", "/internal/ers/eswatini-mobile", { rawBody: "<x/>" })).status).toBe(404);
    expect((await api.request("POST", "/v1/auth/otp", { body: { phone: randomPhone() } })).status).toBe(202);
  });
});
