import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP } from "node:net";

/**
 * Requests to URLs someone outside chose (partners' webhooks) must not reach our own network: the cloud
 * metadata server, loopback admin ports, the VPC. Checking the URL's text is not enough — a public name can
 * resolve to 127.0.0.1, a trailing dot or an IPv6 spelling hides an address — so the binding check is on
 * the address the name resolves to, and the connection then goes to exactly that address (no second DNS
 * lookup for a rebinding answer to slip into).
 */

/** Single IPv6 addresses, checked first so they are named for what they are. */
const V6_ADDRESSES: [address: string, label: string][] = [
  ["fd00:ec2::254", "cloud metadata"],
  ["::", "unspecified"],
  ["::1", "loopback"],
];

/** Special-purpose IPv4 ranges (IANA registry) that no partner's endpoint lives in; most specific first. */
const V4: [address: string, prefix: number, label: string][] = [
  ["169.254.169.254", 32, "cloud metadata"],
  ["0.0.0.0", 8, "this network"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared (carrier-grade NAT)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.88.99.0", 24, "6to4 relay anycast"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  // Includes 255.255.255.255, the limited broadcast address.
  ["240.0.0.0", 4, "reserved"],
];

/** Special-purpose IPv6 ranges, after the IPv4 ones so an embedded IPv4 address is named by its own range. */
const V6: [address: string, prefix: number, label: string][] = [
  // Deprecated IPv4-compatible (::a.b.c.d) and SIIT-translated (::ffff:0:a.b.c.d) forms: never a real destination.
  ["::", 96, "IPv4-compatible"],
  ["::ffff:0:0:0", 96, "IPv4-translated"],
  // Local-use NAT64 (RFC 8215) maps into a network of the operator's choosing, at any prefix length.
  ["64:ff9b:1::", 48, "local-use NAT64"],
  ["100::", 64, "discard-only"],
  ["100:0:0:1::", 64, "dummy prefix"],
  // Teredo, benchmarking, ORCHID and other protocol assignments.
  ["2001::", 23, "IETF protocol assignments"],
  ["2001:db8::", 32, "documentation"],
  ["3fff::", 20, "documentation"],
  ["5f00::", 16, "SRv6 segment identifiers"],
  ["fc00::", 7, "unique local (private)"],
  ["fe80::", 10, "link-local"],
  ["fec0::", 10, "site-local (deprecated)"],
  ["ff00::", 8, "multicast"],
];

const v4Hex = (address: string): [string, string] => {
  const [a, b, c, d] = address.split(".").map(Number) as [number, number, number, number];
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
};

/** One BlockList per table row, checked in order, so a refusal can say what the address is. */
const RULES: { label: string; list: BlockList }[] = [];
for (const [address, label] of V6_ADDRESSES) {
  const list = new BlockList();
  list.addAddress(address, "ipv6");
  RULES.push({ label, list });
}
for (const [address, prefix, label] of V4) {
  const list = new BlockList();
  const [high, low] = v4Hex(address);
  list.addSubnet(address, prefix, "ipv4");
  // The same range wherever IPv6 carries an IPv4 address that a socket or a gateway would go on to reach.
  list.addSubnet(`::ffff:${address}`, 96 + prefix, "ipv6"); // IPv4-mapped
  list.addSubnet(`::${address}`, 96 + prefix, "ipv6"); // IPv4-compatible
  list.addSubnet(`64:ff9b::${address}`, 96 + prefix, "ipv6"); // NAT64 well-known prefix (RFC 6052)
  list.addSubnet(`2002:${high}:${low}::`, 16 + prefix, "ipv6"); // 6to4 (RFC 3056)
  RULES.push({ label, list });
}
for (const [address, prefix, label] of V6) {
  const list = new BlockList();
  list.addSubnet(address, prefix, "ipv6");
  RULES.push({ label, list });
}

/** Prefixes whose meaning is the IPv4 address inside them: public inside, public outside. */
const EMBEDDING = new BlockList();
EMBEDDING.addSubnet("::ffff:0:0", 96, "ipv6");
EMBEDDING.addSubnet("64:ff9b::", 96, "ipv6");
EMBEDDING.addSubnet("2002::", 16, "ipv6");
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet("2000::", 3, "ipv6");

/**
 * Why an IP address is not a public destination (`"loopback"`, `"private"`, …), or null when it is.
 * Not an IP address at all is refused too: a caller that checks a name here made a mistake.
 */
export function nonPublicAddress(ip: string): string | null {
  const address = ip.replace(/^\[|\]$/g, "").split("%")[0]!;
  const family = isIP(address);
  if (family === 0) return "not an IP address";
  const type = family === 4 ? "ipv4" : "ipv6";
  for (const { label, list } of RULES) if (list.check(address, type)) return label;
  if (type === "ipv6" && !EMBEDDING.check(address, "ipv6") && !GLOBAL_UNICAST.check(address, "ipv6"))
    return "not global unicast";
  return null;
}

/**
 * Why a URL's hostname is plainly internal, or null. For registration: names and literals that can only
 * mean our own network. It says nothing about where a public-looking name resolves — `resolvePublic` does.
 */
export function nonPublicHostname(hostname: string): string | null {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.+$/, "");
  if (isIP(host)) return nonPublicAddress(host);
  if (host === "localhost" || host.endsWith(".localhost")) return "loopback";
  if (host === "" || !host.includes(".")) return "a single-label name (resolved through the local search domains)";
  if (host === "metadata.google.internal") return "cloud metadata";
  for (const suffix of [".internal", ".local", ".localdomain", ".home.arpa"])
    if (host.endsWith(suffix)) return `a private-use name (${suffix})`;
  return null;
}

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/** The hostname's addresses refused: the delivery must not be attempted. */
export class AddressRefusedError extends Error {
  override name = "AddressRefusedError";
}

/**
 * Resolves once and checks every answer: one private address among public ones refuses the name (which
 * answer a client would use is not ours to guess). With `allowPrivate` nothing is refused (development).
 */
export async function resolvePublic(hostname: string, options: { allowPrivate: boolean }): Promise<CheckedAddress[]> {
  const host = hostname.replace(/^\[|\]$/g, "");
  const literal = isIP(host) !== 0;
  const answers: CheckedAddress[] = literal
    ? [{ address: host, family: isIP(host) as 4 | 6 }]
    : (await dnsLookup(host, { all: true, order: "verbatim" })).map((a) => ({
        address: a.address,
        family: a.family as 4 | 6,
      }));
  if (!answers.length) throw new AddressRefusedError(`${host} has no address`);
  if (!options.allowPrivate)
    for (const { address } of answers) {
      const why = nonPublicAddress(address);
      if (why)
        throw new AddressRefusedError(
          literal
            ? `${host} is ${why}, not a public address`
            : `${host} resolves to ${address} (${why}), not a public address`,
        );
    }
  return answers;
}

export interface GuardedPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** The whole attempt — DNS, connect, TLS, the answer's status line — or a TimeoutError. */
  timeoutMs: number;
  allowPrivate: boolean;
  /** Extra trust roots for https (tests with their own CA); the system roots otherwise. */
  ca?: string | undefined;
}

/**
 * POSTs `body` to `url` at an address `resolvePublic` accepted, and answers with the status code only: the
 * response body is never read (the socket is closed on the status line) and redirects are never followed.
 * The request keeps the URL's own Host header and, for https, its name for SNI and certificate checks.
 * node:http rather than fetch: its `lookup` hook pins the connection to the checked address, and Bun's
 * node:http ignores HTTP(S)_PROXY, which fetch would follow (a proxy resolves the name again, unchecked).
 * Throws AddressRefusedError, a TimeoutError, or the connection's own error.
 */
export async function guardedPost(request: GuardedPost): Promise<{ status: number }> {
  const url = new URL(request.url);
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new AddressRefusedError(`${url.protocol} is not http(s)`);
  const signal = AbortSignal.timeout(request.timeoutMs);
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(signal.reason);
    if (signal.aborted) fail();
    signal.addEventListener("abort", fail, { once: true });
  });
  aborted.catch(() => {});
  // getaddrinfo takes no signal: race it, so a hanging resolver still ends within the timeout.
  const addresses = await Promise.race([resolvePublic(url.hostname, request), aborted]);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const secure = url.protocol === "https:";
  const body = Buffer.from(request.body);
  return Promise.race([
    aborted,
    new Promise<{ status: number }>((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          method: "POST",
          host,
          port: url.port || (secure ? 443 : 80),
          path: `${url.pathname}${url.search}`,
          headers: { ...request.headers, host: url.host, "content-length": String(body.length) },
          // The pre-checked answers, never a new lookup; an IP literal is connected to as it is.
          lookup: (_name: string, options: { all?: boolean }, callback: (...args: any[]) => void) => {
            if (options?.all) callback(null, addresses);
            else callback(null, addresses[0]!.address, addresses[0]!.family);
          },
          // A fresh connection each time: a pooled one may lead to an address checked for another request.
          agent: false,
          ...(secure && !isIP(host) ? { servername: host.replace(/\.+$/, "") } : {}),
          ...(secure && request.ca ? { ca: request.ca } : {}),
        },
        (res) => {
          resolve({ status: res.statusCode ?? 0 });
          res.destroy();
        },
      );
      req.on("error", reject);
      signal.addEventListener("abort", () => req.destroy(), { once: true });
      req.end(body);
    }),
  ]);
}
