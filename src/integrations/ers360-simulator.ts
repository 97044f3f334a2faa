import { randomInt } from "node:crypto";
import type { Fetch } from "./eneza";
import { decimalToCents, ERS_NAMESPACE, escapeXml, parseEnvelope } from "./ers360";

/**
 * A local ERS360 speaking the SOAP envelope of INTEGRATIONS.md §3: requestTopup, getTransactionStatus
 * and requestPrincipalInformation. It remembers every clientReference it has seen, so a status query
 * after a lost reply tells the truth. Behaviours are switchable per call (`queue`), per MSISDN (`rule`)
 * or as the default (`setDefault`):
 * - success; reject with any code (recorded as failed);
 * - busy (93) and 105, recorded or not (`record`) — the ambiguous answers;
 * - slow: the top-up is done (or rejected) at once but the reply comes after `delayMs`, later than the
 *   client waits — the "timeout that really succeeded" case;
 * - malformed XML; HTTP 500 with a SOAP fault.
 * With `magic` on (the embedded default), a number's last four digits pick a behaviour, so every path
 * can be tried from the app: …0011 reject 11, …0020 auth failed, …0093 busy, …0104 out of credit,
 * …0105 account-system timeout, …0500 HTTP 500, …0666 malformed, …0999 slow (succeeds).
 */

export type Ers360Behaviour =
  | { kind: "success" }
  | { kind: "reject"; code: number; description?: string }
  | { kind: "code"; code: number; description?: string; record?: "success" | "failed" | "none" }
  | { kind: "slow"; delayMs: number; outcome?: "success" | "reject"; code?: number }
  | { kind: "malformed" }
  | { kind: "http500" };

export const busy = (record: "success" | "failed" | "none" = "none"): Ers360Behaviour => ({
  kind: "code",
  code: 93,
  description: "SYSTEM_BUSY",
  record,
});

export interface SimulatedTopup {
  clientReference: string;
  msisdn: string;
  amountCents: bigint;
  resultCode: number;
  resultDescription: string;
  ersReference: string;
  at: Date;
}

export interface SimulatedRequest {
  operation: string;
  clientReference: string | null;
  msisdn: string | null;
  amountCents: bigint | null;
}

const DESCRIPTIONS: Record<number, string> = {
  0: "SUCCESS",
  1: "PENDING_APPROVAL",
  10: "REJECTED_BUSINESS_LOGIC",
  11: "REJECTED_AMOUNT",
  12: "REJECTED_PAYMENT",
  13: "REJECTED_TOPUP",
  20: "AUTHENTICATION_FAILED",
  21: "ACCESS_DENIED",
  41: "INVALID_PRODUCT",
  47: "TOPUP_ACCOUNT_NOT_FOUND",
  90: "SYSTEM_ERROR",
  93: "SYSTEM_BUSY",
  94: "SERVICE_UNAVAILABLE",
  102: "LIMIT_EXCEED",
  104: "INSUFFICIENT_SENDER_CREDIT",
  105: "ACCOUNTSYSTEM_TIMEOUT",
  106: "ACCOUNTSYSTEM_UNAVAILABLE",
  933: "TRANSACTION_NOT_FOUND",
  2016: "DUPLICATE_CLIENT_REFERENCE",
};

const MAGIC: Record<string, Ers360Behaviour> = {
  "0011": { kind: "reject", code: 11 },
  "0020": { kind: "reject", code: 20 },
  "0093": busy(),
  "0104": { kind: "reject", code: 104 },
  "0105": { kind: "code", code: 105, description: "ACCOUNTSYSTEM_TIMEOUT", record: "success" },
  "0500": { kind: "http500" },
  "0666": { kind: "malformed" },
  "0999": { kind: "slow", delayMs: 60_000, outcome: "success" },
};

const soap = (inner: string, status = 200) =>
  new Response(
    `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${inner}</soap:Body></soap:Envelope>`,
    { status, headers: { "content-type": "text/xml; charset=utf-8" } },
  );

const fault = (message: string) =>
  soap(
    `<soap:Fault><faultcode>soap:Server</faultcode><faultstring>${escapeXml(message)}</faultstring></soap:Fault>`,
    500,
  );

const ersReference = () => `${Date.now()}${String(randomInt(1e9)).padStart(9, "0")}`;

export function createErs360Simulator(options: { password?: string; magic?: boolean; name?: string } = {}) {
  let fallback: Ers360Behaviour = { kind: "success" };
  let statusFallback: Ers360Behaviour | null = null;
  const queued: Ers360Behaviour[] = [];
  const statusQueued: Ers360Behaviour[] = [];
  const statusByMsisdn = new Map<string, Ers360Behaviour[]>();
  const rules = new Map<string, Ers360Behaviour>();
  const topups = new Map<string, SimulatedTopup>();
  const requests: SimulatedRequest[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let balanceCents = 1_000_000_000n;

  function behaviourFor(msisdn: string | null): Ers360Behaviour {
    const next = queued.shift();
    if (next) return next;
    if (msisdn && rules.has(msisdn)) return rules.get(msisdn)!;
    if (options.magic && msisdn && MAGIC[msisdn.slice(-4)]) return MAGIC[msisdn.slice(-4)]!;
    return fallback;
  }

  function record(ref: string, msisdn: string, amountCents: bigint, code: number): SimulatedTopup {
    const topup: SimulatedTopup = {
      clientReference: ref,
      msisdn,
      amountCents,
      resultCode: code,
      resultDescription: DESCRIPTIONS[code] ?? "ERROR",
      ersReference: ersReference(),
      at: new Date(),
    };
    topups.set(ref, topup);
    if (code === 0) balanceCents -= amountCents;
    return topup;
  }

  const topupReply = (code: number, description: string, ref: string | null, t?: SimulatedTopup) =>
    soap(
      `<ns2:requestTopupResponse xmlns:ns2="${ERS_NAMESPACE}"><return>` +
        `<ersReference>${t?.ersReference ?? ersReference()}</ersReference><resultCode>${code}</resultCode>` +
        `<resultDescription>${escapeXml(description)}</resultDescription>` +
        (t
          ? `<requestedTopupAmount><currency>SZL</currency><value>${t.amountCents / 100n}</value></requestedTopupAmount>` +
            `<topupAccountSpecifier><accountId>${t.msisdn}</accountId><accountTypeId>AIRTIME</accountTypeId></topupAccountSpecifier>`
          : "") +
        (ref ? `<clientReference>${escapeXml(ref)}</clientReference>` : "") +
        `</return></ns2:requestTopupResponse>`,
    );

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function requestTopup(op: Record<string, any>): Promise<Response> {
    const ref = typeof op.context?.clientReference === "string" ? op.context.clientReference : null;
    const msisdn = typeof op.topupPrincipalId?.id === "string" ? op.topupPrincipalId.id : null;
    const amountCents = typeof op.amount?.value === "string" ? decimalToCents(op.amount.value) : null;
    requests.push({ operation: "requestTopup", clientReference: ref, msisdn, amountCents });
    if (options.password !== undefined && op.context?.password !== options.password)
      return topupReply(20, "AUTHENTICATION_FAILED", ref);
    if (!ref || !msisdn || !/^268\d{8}$/.test(msisdn) || amountCents === null || amountCents <= 0n)
      return topupReply(10, "REJECTED_BUSINESS_LOGIC", ref);
    if (topups.has(ref)) return topupReply(2016, DESCRIPTIONS[2016]!, ref);
    const behaviour = behaviourFor(msisdn);
    switch (behaviour.kind) {
      case "success": {
        const t = record(ref, msisdn, amountCents, 0);
        return topupReply(0, "SUCCESS", ref, t);
      }
      case "reject": {
        const t = record(ref, msisdn, amountCents, behaviour.code);
        return topupReply(behaviour.code, behaviour.description ?? t.resultDescription, ref, t);
      }
      case "code": {
        const mode = behaviour.record ?? "none";
        const t = mode === "none" ? undefined : record(ref, msisdn, amountCents, mode === "success" ? 0 : 11);
        return topupReply(behaviour.code, behaviour.description ?? DESCRIPTIONS[behaviour.code] ?? "ERROR", ref, t);
      }
      case "slow": {
        // Done now, answered late: exactly what a client that gave up cannot know.
        const code = behaviour.outcome === "reject" ? (behaviour.code ?? 11) : 0;
        const t = record(ref, msisdn, amountCents, code);
        await sleep(behaviour.delayMs);
        return topupReply(code, t.resultDescription, ref, t);
      }
      case "malformed":
        return new Response("<soap:Envelope><soap:Body><ns2:requestTopupResponse><return><resultCode>0", {
          status: 200,
          headers: { "content-type": "text/xml" },
        });
      case "http500":
        return fault("Internal server error");
    }
  }

  async function getTransactionStatus(op: Record<string, any>): Promise<Response> {
    const ref = typeof op.clientReference === "string" ? op.clientReference : null;
    requests.push({ operation: "getTransactionStatus", clientReference: ref, msisdn: null, amountCents: null });
    const reply = (code: number, inner = "") =>
      soap(
        `<ns2:getTransactionStatusResponse xmlns:ns2="${ERS_NAMESPACE}"><return><resultCode>${code}</resultCode>` +
          `<resultDescription>${DESCRIPTIONS[code] ?? "ERROR"}</resultDescription>${inner}</return></ns2:getTransactionStatusResponse>`,
      );
    if (options.password !== undefined && op.context?.password !== options.password) return reply(20);
    const known = ref ? topups.get(ref) : undefined;
    const behaviour = (known && statusByMsisdn.get(known.msisdn)?.shift()) || statusQueued.shift() || statusFallback;
    if (behaviour?.kind === "http500") return fault("Internal server error");
    if (behaviour?.kind === "malformed")
      return new Response("<soap:Envelope><soap:Body>", { status: 200, headers: { "content-type": "text/xml" } });
    if (behaviour?.kind === "code" || behaviour?.kind === "reject") return reply(behaviour.code);
    if (behaviour?.kind === "slow") await sleep(behaviour.delayMs);
    const t = ref ? topups.get(ref) : undefined;
    if (!t) return reply(933);
    return reply(
      0,
      `<transaction><clientReference>${escapeXml(t.clientReference)}</clientReference><ersReference>${t.ersReference}</ersReference>` +
        `<resultCode>${t.resultCode}</resultCode><resultDescription>${escapeXml(t.resultDescription)}</resultDescription>` +
        `<topupAccountSpecifier><accountId>${t.msisdn}</accountId><accountTypeId>AIRTIME</accountTypeId></topupAccountSpecifier>` +
        `<topupAmount><currency>SZL</currency><value>${t.amountCents / 100n}.${String(t.amountCents % 100n).padStart(2, "0")}</value></topupAmount>` +
        `</transaction>`,
    );
  }

  function principalInformation(): Response {
    requests.push({ operation: "requestPrincipalInformation", clientReference: null, msisdn: null, amountCents: null });
    const value = `${balanceCents / 100n}.${String(balanceCents % 100n).padStart(2, "0")}`;
    return soap(
      `<ns2:requestPrincipalInformationResponse xmlns:ns2="${ERS_NAMESPACE}"><return><resultCode>0</resultCode>` +
        `<resultDescription>SUCCESS</resultDescription><requestedPrincipal><principalName>${escapeXml(options.name ?? "Keshless reseller")}</principalName>` +
        `<accounts><account><accountSpecifier><accountTypeId>RESELLER</accountTypeId></accountSpecifier>` +
        `<balance><currency>SZL</currency><value>${value}</value></balance></account></accounts><status>Active</status></requestedPrincipal>` +
        `</return></ns2:requestPrincipalInformationResponse>`,
    );
  }

  /** The HTTP handler: serve it with Bun.serve, or call it in process. */
  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "GET" && url.searchParams.has("wsdl"))
      return new Response(
        `<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" targetNamespace="${ERS_NAMESPACE}"/>`,
        {
          headers: { "content-type": "text/xml" },
        },
      );
    if (request.method !== "POST") return new Response("Method Not Allowed", { status: 405 });
    const body = parseEnvelope(await request.text());
    if (!body) return fault("Unmarshalling Error: not a SOAP envelope");
    if (body.requestTopup) return requestTopup(body.requestTopup);
    if (body.getTransactionStatus) return getTransactionStatus(body.getTransactionStatus);
    if ("requestPrincipalInformation" in body) return principalInformation();
    return fault("Unknown operation");
  }

  /** In process, honouring the caller's abort signal as a socket would. */
  const fetchImpl: Fetch = async (input, init) => {
    const request = new Request(input instanceof Request ? input.url : String(input), {
      method: init?.method ?? "POST",
      headers: init?.headers ?? {},
      body: (init?.body as BodyInit | undefined) ?? null,
    });
    const signal = init?.signal;
    if (!signal) return handle(request);
    signal.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => reject(signal.reason ?? new DOMException("aborted", "AbortError"));
      signal.addEventListener("abort", onAbort, { once: true });
      handle(request).then(
        (r) => {
          signal.removeEventListener("abort", onAbort);
          resolve(r);
        },
        (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  };

  return {
    handle,
    fetch: fetchImpl,
    /** A real HTTP server on 127.0.0.1 (port 0: any free port). */
    serve(port = 0) {
      const server = Bun.serve({ hostname: "127.0.0.1", port, fetch: handle, idleTimeout: 0 });
      return { url: `http://127.0.0.1:${server.port}/topupservice/service`, stop: () => server.stop(true) };
    },
    setDefault(behaviour: Ers360Behaviour) {
      fallback = behaviour;
    },
    /** One-shot behaviours for the next top-ups, in order. */
    queue(...behaviours: Ers360Behaviour[]) {
      queued.push(...behaviours);
    },
    rule(msisdn: string, behaviour: Ers360Behaviour | null) {
      if (behaviour) rules.set(msisdn, behaviour);
      else rules.delete(msisdn);
    },
    /** How status queries answer (null: truthfully): busy, HTTP 500, malformed, slow. */
    setStatusDefault(behaviour: Ers360Behaviour | null) {
      statusFallback = behaviour;
    },
    /** One-shot answers for the next status queries — about any reference, or only about one number's top-ups. */
    queueStatus(behaviour: Ers360Behaviour, msisdn?: string) {
      if (!msisdn) statusQueued.push(behaviour);
      else statusByMsisdn.set(msisdn, [...(statusByMsisdn.get(msisdn) ?? []), behaviour]);
    },
    topups,
    requests,
    /** Successful top-ups to a number: what its owner actually received. */
    delivered(msisdn: string) {
      return [...topups.values()].filter((t) => t.msisdn === msisdn && t.resultCode === 0);
    },
    reset() {
      fallback = { kind: "success" };
      statusFallback = null;
      queued.length = 0;
      statusQueued.length = 0;
      statusByMsisdn.clear();
      rules.clear();
      topups.clear();
      requests.length = 0;
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}

export type Ers360Simulator = ReturnType<typeof createErs360Simulator>;
