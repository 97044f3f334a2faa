import { afterAll, describe, expect, test } from "bun:test";
import { DEFAULT_ERS360_RESULT_CODES } from "../../src/config";
import {
  centsToDecimal,
  createErs360Client,
  decimalToCents,
  type Ers360ClientConfig,
  parseEnvelope,
  topupEnvelope,
} from "../../src/integrations/ers360";
import { busy, createErs360Simulator } from "../../src/integrations/ers360-simulator";

/** The ERS360 client against the simulator over real HTTP: the wire format and every behaviour. */
const sim = createErs360Simulator({ password: "s3cret<&>" });
const server = sim.serve();
afterAll(() => {
  sim.close();
  server.stop();
});

const config: Ers360ClientConfig = {
  url: server.url,
  resellerId: "KESHLESS&CO",
  userId: "9900",
  password: "s3cret<&>",
  timeoutMs: 300,
  clientId: "KESHLESS",
  channel: "WSClient",
  currency: "SZL",
  resultCodes: DEFAULT_ERS360_RESULT_CODES,
};
const client = createErs360Client(config);
let n = 0;
const ref = () => `ref-${Date.now()}-${++n}`;
const topup = (clientReference = ref(), amountCents = 1_550n) =>
  client.requestTopup({ clientReference, msisdn: "26876123456", amountCents });

describe("the envelope", () => {
  test("is the SOAP of INTEGRATIONS.md §3, escaped, with decimal amounts", () => {
    const xml = topupEnvelope(config, { clientReference: "a<b", msisdn: "26876123456", amountCents: 1_550n });
    expect(xml).toContain('xmlns:ext="http://external.interfaces.ers.seamless.com/"');
    expect(xml).toContain("<ext:requestTopup><context><channel>WSClient</channel>");
    expect(xml).toContain("<clientReference>a&lt;b</clientReference>");
    expect(xml).toContain("<password>s3cret&lt;&amp;&gt;</password>");
    expect(xml).toContain("<topupPrincipalId><id>26876123456</id><type>SUBSCRIBERMSISDN</type></topupPrincipalId>");
    expect(xml).toContain("<amount><currency>SZL</currency><value>15.50</value></amount>");
    const parsed = parseEnvelope(xml)!;
    expect(parsed.requestTopup.context.clientReference).toBe("a<b");
    expect(parseEnvelope("<not xml")).toBeNull();
    expect(parseEnvelope("")).toBeNull();
  });

  test("amounts convert exactly", () => {
    expect(centsToDecimal(1n)).toBe("0.01");
    expect(centsToDecimal(150_000n)).toBe("1500.00");
    expect(decimalToCents("1.00")).toBe(100n);
    expect(decimalToCents("491.00000")).toBe(49_100n);
    expect(decimalToCents("15.5")).toBe(1_550n);
    expect(decimalToCents("1.001")).toBeNull();
    expect(decimalToCents("-1")).toBeNull();
  });
});

describe("requestTopup", () => {
  test("success: resultCode 0, a long ersReference kept as text", async () => {
    const r = ref();
    const reply = await topup(r);
    expect(reply).toMatchObject({ outcome: "success", resultCode: 0, resultDescription: "SUCCESS" });
    expect(reply.ersReference).toMatch(/^\d{20,}$/);
    expect(reply.ersReference).toBe(sim.topups.get(r)!.ersReference);
    expect(sim.topups.get(r)).toMatchObject({ msisdn: "26876123456", amountCents: 1_550n, resultCode: 0 });
  });

  test("each rejection code is rejected, and recorded so a status query agrees", async () => {
    for (const code of [10, 11, 12, 13, 20, 21, 29, 30, 31, 32, 37, 38, 39, 40, 41, 44, 47, 94, 102, 104, 106]) {
      sim.queue({ kind: "reject", code });
      const r = ref();
      expect(await topup(r)).toMatchObject({ outcome: "rejected", resultCode: code });
      expect(await client.getTransactionStatus(r)).toMatchObject({ outcome: "rejected", resultCode: code });
    }
  });

  test("a wrong password is 20 AUTHENTICATION_FAILED: rejected", async () => {
    const wrong = createErs360Client({ ...config, password: "nope" });
    expect(
      await wrong.requestTopup({ clientReference: ref(), msisdn: "26876123456", amountCents: 100n }),
    ).toMatchObject({
      outcome: "rejected",
      resultCode: 20,
    });
  });

  test("busy (93), 90, 105 and 1 are not answers: unknown / pending", async () => {
    sim.queue(
      busy(),
      { kind: "code", code: 90 },
      { kind: "code", code: 105 },
      { kind: "code", code: 1, record: "success" },
    );
    expect(await topup()).toMatchObject({ outcome: "unknown", resultCode: 93 });
    expect(await topup()).toMatchObject({ outcome: "unknown", resultCode: 90 });
    expect(await topup()).toMatchObject({ outcome: "unknown", resultCode: 105 });
    expect(await topup()).toMatchObject({ outcome: "pending", resultCode: 1 });
  });

  test("slower than the client's timeout: unknown (timeout) — though it happened", async () => {
    sim.queue({ kind: "slow", delayMs: 700 });
    const r = ref();
    const reply = await topup(r);
    expect(reply).toMatchObject({ outcome: "unknown", failure: "timeout", resultCode: null });
    expect(await client.getTransactionStatus(r)).toMatchObject({ outcome: "success", resultCode: 0 });
  });

  test("malformed XML, HTTP 500 and an unreachable host are unknown, each named", async () => {
    sim.queue({ kind: "malformed" }, { kind: "http500" });
    expect(await topup()).toMatchObject({ outcome: "unknown", failure: "malformed" });
    expect(await topup()).toMatchObject({ outcome: "unknown", failure: "http", httpStatus: 500 });
    const down = createErs360Client({ ...config, url: "http://127.0.0.1:9/topupservice/service" });
    expect(await down.requestTopup({ clientReference: ref(), msisdn: "26876123456", amountCents: 100n })).toMatchObject(
      {
        outcome: "unknown",
        failure: "transport",
      },
    );
  });

  test("a reused clientReference is refused (2016 here) and never tops up twice", async () => {
    const r = ref();
    expect((await topup(r)).outcome).toBe("success");
    expect(await topup(r)).toMatchObject({ outcome: "unknown", resultCode: 2016 });
    expect([...sim.topups.values()].filter((t) => t.clientReference === r)).toHaveLength(1);
    const strict = createErs360Client({ ...config, resultCodes: { ...config.resultCodes, "2016": "rejected" } });
    expect(await strict.requestTopup({ clientReference: r, msisdn: "26876123456", amountCents: 1_550n })).toMatchObject(
      {
        outcome: "rejected",
      },
    );
  });
});

describe("getTransactionStatus", () => {
  test("found, not found, and a query that itself fails", async () => {
    const r = ref();
    await topup(r);
    expect(await client.getTransactionStatus(r)).toMatchObject({ outcome: "success", resultCode: 0 });
    expect(await client.getTransactionStatus("never-sent")).toMatchObject({ outcome: "not_found", resultCode: 933 });
    sim.queueStatus({ kind: "code", code: 93 });
    expect(await client.getTransactionStatus(r)).toMatchObject({ outcome: "unknown", resultCode: 93 });
    sim.queueStatus({ kind: "http500" });
    expect(await client.getTransactionStatus(r)).toMatchObject({ outcome: "unknown", failure: "http" });
    sim.queueStatus({ kind: "malformed" });
    expect(await client.getTransactionStatus(r)).toMatchObject({ outcome: "unknown", failure: "malformed" });
    sim.queueStatus({ kind: "slow", delayMs: 700 });
    expect(await client.getTransactionStatus(r)).toMatchObject({ outcome: "unknown", failure: "timeout" });
  });
});

describe("the simulator as a server", () => {
  test("answers ?wsdl, requestPrincipalInformation, and faults on garbage", async () => {
    const wsdl = await fetch(`${server.url}?wsdl`);
    expect(wsdl.status).toBe(200);
    expect(await wsdl.text()).toContain("definitions");
    const info = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ext="http://external.interfaces.ers.seamless.com/"><soapenv:Body><ext:requestPrincipalInformation/></soapenv:Body></soapenv:Envelope>`,
    });
    const body = parseEnvelope(await info.text())!;
    expect(body.requestPrincipalInformationResponse.return.resultCode).toBe("0");
    const garbage = await fetch(server.url, { method: "POST", body: "hello" });
    expect(garbage.status).toBe(500);
    expect(await garbage.text()).toContain("soap:Fault");
    expect((await fetch(server.url)).status).toBe(405);
  });
});
