import { afterAll, describe, expect, test } from "bun:test";
import { createErs360Simulator } from "../../src/integrations/ers360-simulator";
import { createTestContext } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/**
 * Swazi Mobile's ERS360 through the internal proxy route, as deployed: the API (role api) calls the
 * USSD deployment's POST /internal/ers/eswatini-mobile (role ussd, a real server here), which forwards
 * to the operator (the simulator, a real server too). MTN is called directly.
 */
const SECRET = "proxy-secret-0123456789";
const em = createErs360Simulator({ password: "em-pw" });
const mtn = createErs360Simulator({ password: "mtn-pw" });
const emServer = em.serve();
const mtnServer = mtn.serve();

const ussd = await createTestContext({
  KESHLESS_ROLE: "ussd",
  KESHLESS_ERS360_PROXY_SECRET: SECRET,
  KESHLESS_ERS360_ESWATINI_MOBILE_URL: emServer.url,
  KESHLESS_ERS360_ESWATINI_MOBILE_RESELLER_ID: "KESHLESS_EM",
  KESHLESS_ERS360_ESWATINI_MOBILE_PASSWORD: "em-pw",
  KESHLESS_ERS360_TIMEOUT_MS: "400",
});
const ussdServer = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: ussd.app.fetch });
const proxyUrl = `http://127.0.0.1:${ussdServer.port}/internal/ers/eswatini-mobile`;

const api = await createTestContext({
  KESHLESS_ROLE: "api",
  KESHLESS_ERS360_PROXY_SECRET: SECRET,
  KESHLESS_ERS360_ESWATINI_MOBILE_PROXY_URL: proxyUrl,
  KESHLESS_ERS360_ESWATINI_MOBILE_RESELLER_ID: "KESHLESS_EM",
  KESHLESS_ERS360_ESWATINI_MOBILE_PASSWORD: "em-pw",
  KESHLESS_ERS360_MTN_URL: mtnServer.url,
  KESHLESS_ERS360_MTN_RESELLER_ID: "KESHLESS_MTN",
  KESHLESS_ERS360_MTN_PASSWORD: "mtn-pw",
  KESHLESS_ERS360_TIMEOUT_MS: "1000",
});
const kit = await moneyKit(api);
afterAll(() => {
  ussdServer.stop(true);
  em.close();
  mtn.close();
  emServer.stop();
  mtnServer.stop();
});

const soap = (inner: string) =>
  `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ext="http://external.interfaces.ers.seamless.com/"><soapenv:Body>${inner}</soapenv:Body></soapenv:Envelope>`;

describe("the ERS360 proxy", () => {
  test("airtime for an Eswatini Mobile number goes through the proxy; MTN goes direct", async () => {
    const user = await kit.fundedUser(10_000);
    for (const msisdn of ["+26879123001", "+26876123001"]) {
      const res = await api.request("POST", "/v1/airtime", {
        token: user.accessToken,
        headers: { "idempotency-key": key() },
        body: { msisdn, amount: 1_000, currency: "SZL", pin: PIN },
      });
      expect(res.status).toBe(202);
    }
    await api.deps.airtime.idle();
    expect(em.delivered("26879123001")).toHaveLength(1);
    expect(mtn.delivered("26876123001")).toHaveLength(1);
    expect((await kit.wallet(user.accessToken)).balance).toBe(8_000);
    expect(ussd.logs.some((l) => l.includes("ERS360 proxy: forwarded"))).toBe(true);
    expect(ussd.logs.join("\n")).not.toContain("em-pw");
    await kit.expectVerified();
  });

  test("status queries go through it too: an unknown outcome settles by asking via the proxy", async () => {
    em.queue({ kind: "code", code: 105, record: "success" });
    const user = await kit.fundedUser(10_000);
    const res = await api.request("POST", "/v1/airtime", {
      token: user.accessToken,
      headers: { "idempotency-key": key() },
      body: { msisdn: "+26875123002", amount: 1_000, currency: "SZL", pin: PIN },
    });
    await api.deps.airtime.idle();
    expect((await api.deps.airtime.getOrder(res.json.id))!.status).toBe("pending");
    const real = api.deps.now;
    api.deps.now = () => new Date(real().getTime() + 60_000);
    await api.deps.airtime.reconcile();
    api.deps.now = real;
    expect((await api.deps.airtime.getOrder(res.json.id))!.status).toBe("completed");
    expect(em.requests.filter((r) => r.operation === "getTransactionStatus")).toHaveLength(1);
    expect(em.delivered("26875123002")).toHaveLength(1);
  });

  test("the route wants the secret, passes SOAP faults through, and exists only on the USSD deployment", async () => {
    const body = soap("<ext:requestPrincipalInformation/>");
    const headers = { "content-type": "text/xml; charset=utf-8" };
    expect((await fetch(proxyUrl, { method: "POST", headers, body })).status).toBe(401);
    const wrong = await fetch(proxyUrl, { method: "POST", headers: { ...headers, "x-internal-secret": "nope" }, body });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe("UNAUTHENTICATED");
    const ok = await fetch(proxyUrl, { method: "POST", headers: { ...headers, "x-internal-secret": SECRET }, body });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/xml");
    expect(await ok.text()).toContain("requestPrincipalInformationResponse");
    const fault = await fetch(proxyUrl, {
      method: "POST",
      headers: { ...headers, "x-internal-secret": SECRET },
      body: "junk",
    });
    expect(fault.status).toBe(500);
    expect(await fault.text()).toContain("soap:Fault");
    // keshless-api has no proxy route; keshless-ussd has no airtime route.
    expect((await api.request("POST", "/internal/ers/eswatini-mobile", { rawBody: body, headers })).status).toBe(404);
    expect((await ussd.request("POST", "/v1/airtime", { body: {} })).status).toBe(404);
  });

  test("an upstream that does not answer is 503 from the proxy, and unknown (not failed) to the API", async () => {
    em.queue({ kind: "slow", delayMs: 1_500, outcome: "success" });
    const user = await kit.fundedUser(10_000);
    const res = await api.request("POST", "/v1/airtime", {
      token: user.accessToken,
      headers: { "idempotency-key": key() },
      body: { msisdn: "+26879123003", amount: 1_000, currency: "SZL", pin: PIN },
    });
    await api.deps.airtime.idle();
    const order = (await api.deps.airtime.getOrder(res.json.id))!;
    expect(order.status).toBe("pending");
    expect(order.attempts[0]!.status).toBe("unknown");
    expect(["http (HTTP 503)", "timeout"]).toContain(order.attempts[0]!.resultDescription!);
    const real = api.deps.now;
    api.deps.now = () => new Date(real().getTime() + 120_000);
    await api.deps.airtime.reconcile();
    api.deps.now = real;
    expect((await api.deps.airtime.getOrder(res.json.id))!.status).toBe("completed");
    expect(em.delivered("26879123003")).toHaveLength(1);
    await kit.expectVerified();
  });
});

describe("without a secret", async () => {
  const bare = await createTestContext({ KESHLESS_ROLE: "ussd" });
  test("the proxy refuses everything (503: not configured)", async () => {
    const res = await bare.request("POST", "/internal/ers/eswatini-mobile", {
      rawBody: soap("<ext:requestPrincipalInformation/>"),
      headers: { "content-type": "text/xml", "x-internal-secret": SECRET },
    });
    expect(res.status).toBe(503);
  });
});
