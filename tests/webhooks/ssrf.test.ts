import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { guardedPost, nonPublicAddress, nonPublicHostname } from "../../src/lib/net-guard";
import { createWebhooks } from "../../src/webhooks/service";
import { createPartner, signInUser } from "../support/factories";
import { createTestContext, TEST_SECRETS, type TestContext } from "../support/harness";
import { startReceiver } from "./receiver";

/**
 * Issue 11 item 4: partner webhook URLs are checked as addresses, not as text. Outside development a
 * delivery's resolved address is refused when it is not public (loopback, private, metadata, … or any IPv6
 * spelling of those), the connection goes to the address that was checked, and redirects are not followed.
 * Receivers are real servers on 127.0.0.1, so "refused" is measured as "the receiver got nothing".
 */

const receiver = startReceiver();
const target = startReceiver();
afterAll(() => {
  receiver.stop();
  target.stop();
});
const port = new URL(receiver.url).port;

// KESHLESS_ENV=test: private networks are refused by default, as in production.
const strict = await createTestContext({ KESHLESS_WEBHOOK_TIMEOUT_MS: "2000" });
const lax = await createTestContext({
  KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
  KESHLESS_WEBHOOK_TIMEOUT_MS: "2000",
});
const SCOPES = ["deposits:create", "transactions:read", "webhooks:manage"];
let counter = 0;
const key = () => `ssrf-${Date.now()}-${++counter}`;

/**
 * An endpoint the strict app would refuse to register, stored as it was before this check existed (or by
 * an operator running with the flag on): the delivery-time check must stop it on its own.
 */
async function storedEndpoint(t: TestContext, url: string) {
  const partner = await createPartner(t, { scopes: SCOPES });
  const config = t.deps.config;
  const before = createWebhooks({
    ...t.deps,
    config: { ...config, webhooks: { ...config.webhooks, allowPrivateNetworks: true } },
  });
  const created = await before.createEndpoint({
    ctx: { actor: { type: "partner", id: partner.id } },
    input: { partnerId: partner.id, url },
  });
  receiver.secret = created.secret;
  return { ...partner, endpoint: created.endpoint };
}

function sendTest(t: TestContext, partner: { apiKey: string; endpoint: { id: string } }) {
  return t.request("POST", `/partner/v1/webhooks/${partner.endpoint.id}/test`, {
    headers: { "x-api-key": partner.apiKey },
  });
}

describe("the flag", () => {
  const dir = mkdtempSync(join(tmpdir(), "keshless-ssrf-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = { KESHLESS_DATA_DIR: dir, ...TEST_SECRETS };

  test("defaults to true only in development; set explicitly it wins", () => {
    expect(loadConfig({ ...base, KESHLESS_ENV: "development" }).webhooks.allowPrivateNetworks).toBe(true);
    expect(loadConfig({ ...base, KESHLESS_ENV: "test" }).webhooks.allowPrivateNetworks).toBe(false);
    expect(
      loadConfig({ ...base, KESHLESS_ENV: "test", KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" }).webhooks
        .allowPrivateNetworks,
    ).toBe(true);
    expect(
      loadConfig({ ...base, KESHLESS_ENV: "development", KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "false" }).webhooks
        .allowPrivateNetworks,
    ).toBe(false);
    expect(strict.config.webhooks.allowPrivateNetworks).toBe(false);
    expect(() => loadConfig({ ...base, KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "yes" })).toThrow(
      "KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS:",
    );
  });
});

describe("address classification", () => {
  const refused: [string, string][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.255.254", "loopback"],
    ["::1", "loopback"],
    ["[::7f00:1]", "loopback"], // IPv4-compatible
    ["::ffff:127.0.0.1", "loopback"], // IPv4-mapped
    ["::ffff:7f00:1", "loopback"],
    ["64:ff9b::7f00:1", "loopback"], // NAT64 well-known prefix
    ["64:ff9b::a9fe:a9fe", "cloud metadata"],
    ["64:ff9b:1::808:808", "local-use NAT64"],
    ["2002:7f00:1::", "loopback"], // 6to4
    ["2002:c0a8:101::1", "private"],
    ["10.0.0.1", "private"],
    ["10.255.255.255", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "shared (carrier-grade NAT)"],
    ["100.127.255.255", "shared (carrier-grade NAT)"],
    ["169.254.169.254", "cloud metadata"],
    ["fd00:ec2::254", "cloud metadata"],
    ["169.254.1.1", "link-local"],
    ["198.18.0.1", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["0.0.0.0", "this network"],
    ["0.1.2.3", "this network"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    ["192.0.0.192", "IETF protocol assignments"],
    ["192.0.2.1", "documentation"],
    ["198.51.100.1", "documentation"],
    ["203.0.113.1", "documentation"],
    ["::", "unspecified"],
    ["fc00::1", "unique local (private)"],
    ["fdff:ffff::1", "unique local (private)"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["2001::1", "IETF protocol assignments"], // Teredo
    ["4000::1", "not global unicast"],
  ];
  for (const [address, why] of refused)
    test(`${address} is refused as ${why}`, () => expect(nonPublicAddress(address)).toBe(why));

  const allowed = [
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "198.20.0.1",
    "169.255.0.1",
    "2001:4860::8888",
    "2001:4860:4860::8888",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ];
  for (const address of allowed) test(`${address} is public`, () => expect(nonPublicAddress(address)).toBeNull());

  test("names that can only mean our own network are refused at registration; others wait for DNS", () => {
    for (const name of [
      "localhost",
      "LOCALHOST.",
      "api.localhost",
      "metadata.google.internal",
      "metadata.google.internal.",
      "metadata",
      "db.internal",
      "printer.local",
      "router.home.arpa",
      "[::ffff:7f00:1]",
    ])
      expect(nonPublicHostname(name)).not.toBeNull();
    for (const name of ["bank.example", "hooks.bank.example.", "169.254.169.254.nip.io"])
      expect(nonPublicHostname(name)).toBeNull();
  });
});

describe("private networks refused (KESHLESS_ENV=test)", () => {
  test("registering a URL whose text is internal is 400 VALIDATION_FAILED", async () => {
    const partner = await createPartner(strict, { scopes: SCOPES });
    const headers = { "x-api-key": partner.apiKey };
    for (const url of [
      `http://localhost:${port}/hooks`,
      "http://LOCALHOST./hooks",
      `http://[::ffff:127.0.0.1]:${port}/hooks`,
      "http://[::7f00:1]/hooks",
      "http://[64:ff9b::7f00:1]/hooks",
      "http://[2002:7f00:1::]/hooks",
      "http://[::1]/hooks",
      "http://0x7f.1/hooks",
      "http://2130706433/hooks",
      "http://0.0.0.0/hooks",
      "https://metadata.google.internal./computeMetadata/v1/",
      "http://169.254.169.254/latest/meta-data/",
      "http://[fd00:ec2::254]/latest/meta-data/",
      "http://10.0.0.1/hooks",
      "http://172.16.0.1/hooks",
      "http://192.168.1.1/hooks",
      "http://100.64.0.1/hooks",
      "http://198.18.0.1/hooks",
      "http://224.0.0.1/hooks",
      "http://255.255.255.255/hooks",
      "http://[fe80::1]/hooks",
      "http://metadata/computeMetadata/v1/",
    ]) {
      const res = await strict.request("POST", "/partner/v1/webhooks", { headers, body: { url } });
      expect({ url, status: res.status, code: res.json?.error?.code }).toEqual({
        url,
        status: 400,
        code: "VALIDATION_FAILED",
      });
      expect(res.json.error.message).toContain("public address");
    }
    for (const url of ["https://bank.example/hooks", "http://8.8.8.8/hooks", "http://[2001:4860::8888]/hooks"]) {
      const res = await strict.request("POST", "/partner/v1/webhooks", { headers, body: { url } });
      expect({ url, status: res.status }).toEqual({ url, status: 201 });
    }
    expect(receiver.received).toHaveLength(0);
  });

  test("a stored endpoint whose name resolves to loopback is refused at delivery; the receiver gets nothing", async () => {
    receiver.reset();
    for (const [url, error] of [
      [`http://localhost:${port}/hooks`, "refused: localhost resolves to 127.0.0.1 (loopback), not a public address"],
      [`http://[::ffff:127.0.0.1]:${port}/hooks`, "refused: ::ffff:7f00:1 is loopback, not a public address"],
    ] as const) {
      const partner = await storedEndpoint(strict, url);
      const res = await sendTest(strict, partner);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ status: "pending", attempts: 1, lastStatusCode: null, lastError: error });
      expect(res.json.attemptLog).toHaveLength(1);
      expect(res.json.attemptLog[0]).toMatchObject({ statusCode: null, error });
    }
    expect(receiver.received).toHaveLength(0);
  });

  test("the delivery worker refuses the same way: an attempt recorded, retried later, nothing sent", async () => {
    receiver.reset();
    const partner = await storedEndpoint(strict, `http://localhost:${port}/hooks`);
    const user = await signInUser(strict);
    const idem = key();
    const deposited = await strict.request("POST", "/partner/v1/deposits", {
      headers: { "x-api-key": partner.apiKey, "idempotency-key": idem },
      body: { phone: user.phone, amount: 500, currency: "SZL", externalReference: `ext-${idem}` },
    });
    expect(deposited.status).toBe(201);
    expect(await strict.deps.webhooks.drain()).toMatchObject({ claimed: 1, retrying: 1 });
    const list = await strict.deps.webhooks.listDeliveries({ partnerId: partner.id, limit: 10 });
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ status: "pending", lastStatusCode: null });
    expect(list.data[0]!.lastError).toBe("refused: localhost resolves to 127.0.0.1 (loopback), not a public address");
    expect(receiver.received).toHaveLength(0);
  });
});

describe("private networks allowed (the flag on)", () => {
  test("the same loopback URLs are delivered, with the URL's own Host header", async () => {
    receiver.reset();
    for (const url of [`http://localhost:${port}/hooks`, `http://[::ffff:127.0.0.1]:${port}/hooks`]) {
      const partner = await storedEndpoint(lax, url);
      const res = await sendTest(lax, partner);
      expect(res.json).toMatchObject({ status: "delivered", lastStatusCode: 200, lastError: null });
      const [got] = receiver.of(res.json.eventId);
      expect(got!.signatureValid).toBe(true);
      expect(got!.headers.host).toBe(new URL(url).host);
    }
    expect(receiver.received).toHaveLength(2);
  });

  test("registration accepts a local receiver", async () => {
    const partner = await createPartner(lax, { scopes: SCOPES });
    const res = await lax.request("POST", "/partner/v1/webhooks", {
      headers: { "x-api-key": partner.apiKey },
      body: { url: receiver.url },
    });
    expect(res.status).toBe(201);
  });

  test("a redirect to another local server is a failed attempt, never followed", async () => {
    target.reset();
    let status = 302;
    let hits = 0;
    const redirector = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => {
        hits++;
        return new Response(null, { status, headers: { location: target.url } });
      },
    });
    try {
      const partner = await storedEndpoint(lax, `http://127.0.0.1:${redirector.port}/hooks`);
      for (const code of [302, 307, 308]) {
        status = code;
        const res = await sendTest(lax, partner);
        expect(res.json).toMatchObject({ status: "pending", lastStatusCode: code });
        expect(res.json.attemptLog[0]).toMatchObject({
          statusCode: code,
          error: `HTTP ${code} (redirects are not followed)`,
        });
      }
      expect(hits).toBe(3);
      expect(target.received).toHaveLength(0);
    } finally {
      redirector.stop(true);
    }
  });
});

/**
 * https to a name: the connection goes to the checked address, while the certificate is verified against the
 * URL's name (SNI and hostname check), not against the IP connected to. Certificates come from openssl.
 */
const openssl = Bun.which("openssl");
describe.skipIf(!openssl)("https to the checked address", () => {
  const dir = mkdtempSync(join(tmpdir(), "keshless-tls-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => {
    const done = Bun.spawnSync([openssl!, ...args], { cwd: dir, stderr: "pipe" });
    if (done.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${done.stderr.toString()}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=Keshless test CA");
  function leaf(name: string) {
    run("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=DNS:${name}\n`);
    run(
      "x509",
      ...["-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"],
      ...["-out", `${name}.crt`, "-days", "1", "-extfile", `${name}.ext`],
    );
    return {
      cert: readFileSync(join(dir, `${name}.crt`), "utf8"),
      key: readFileSync(join(dir, `${name}.key`), "utf8"),
    };
  }
  const ca = readFileSync(join(dir, "ca.crt"), "utf8");
  const hosts: string[] = [];
  const serve = (tls: { cert: string; key: string }) =>
    Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls,
      fetch: (request) => {
        hosts.push(request.headers.get("host") ?? "");
        return new Response("ok");
      },
    });
  const forLocalhost = serve(leaf("localhost"));
  const forOther = serve(leaf("bank.example"));
  afterAll(() => {
    forLocalhost.stop(true);
    forOther.stop(true);
  });
  const post = (url: string, options: { ca?: string } = { ca }) =>
    guardedPost({ url, headers: {}, body: "{}", timeoutMs: 2000, allowPrivate: true, ...options });

  test("a certificate for the URL's name is accepted at the resolved IP; the Host header is the name", async () => {
    expect(await post(`https://localhost:${forLocalhost.port}/hooks`)).toEqual({ status: 200 });
    expect(hosts.at(-1)).toBe(`localhost:${forLocalhost.port}`);
  });

  test("a certificate for another name, or from an untrusted CA, is refused before anything is sent", async () => {
    const sent = hosts.length;
    const altname = { code: "ERR_TLS_CERT_ALTNAME_INVALID" };
    await expect(post(`https://localhost:${forOther.port}/hooks`)).rejects.toMatchObject(altname);
    // The name in the URL is what is verified: the same server by its IP does not match its certificate.
    await expect(post(`https://127.0.0.1:${forLocalhost.port}/hooks`)).rejects.toMatchObject(altname);
    await expect(post(`https://localhost:${forLocalhost.port}/hooks`, {})).rejects.toMatchObject({
      code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    });
    expect(hosts.length).toBe(sent);
  });

  test("with the flag off the name is refused before any connection", async () => {
    const sent = hosts.length;
    await expect(
      guardedPost({
        url: `https://localhost:${forLocalhost.port}/hooks`,
        headers: {},
        body: "{}",
        timeoutMs: 2000,
        allowPrivate: false,
        ca,
      }),
    ).rejects.toMatchObject({ name: "AddressRefusedError" });
    expect(hosts.length).toBe(sent);
  });
});
