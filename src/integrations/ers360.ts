import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { Ers360Outcome } from "../config";
import type { Fetch } from "./eneza";

/**
 * Seamless ERS360 (MTN and Eswatini Mobile airtime), SOAP 1.1 over HTTP (INTEGRATIONS.md §3).
 * `POST …/topupservice/service`, `Content-Type: text/xml; charset=utf-8`, no SOAPAction, children
 * unprefixed. Failures come back as HTTP 200 too: the outcome is decided on `resultCode` only, mapped
 * through configuration because operators customise codes.
 *
 * Replies are parsed by local name (namespace prefixes differ between installations) with tag values
 * kept as strings, so a 25-digit ersReference is never rounded through a float.
 *
 * getTransactionStatus is unverified against a real ERS360: we send the attempt's clientReference as a
 * `clientReference` child of the operation and read the found transaction's own resultCode from a
 * `transaction` element of the reply (933 TRANSACTION_NOT_FOUND when there is none). Confirm with the
 * operators; the simulator speaks exactly this.
 */

export const ERS_NAMESPACE = "http://external.interfaces.ers.seamless.com/";
const SOAP_NAMESPACE = "http://schemas.xmlsoap.org/soap/envelope/";

export interface Ers360ClientConfig {
  /** Where to POST: the operator's service, or our internal proxy to it. */
  url: string;
  resellerId: string;
  userId: string | undefined;
  password: string;
  timeoutMs: number;
  clientId: string;
  channel: string;
  currency: string;
  resultCodes: Record<string, Ers360Outcome>;
  /** Extra headers (the proxy's X-Internal-Secret). */
  headers?: Record<string, string>;
}

export interface TopupRequest {
  clientReference: string;
  /** Digits only, with country code: 26876123456. */
  msisdn: string;
  amountCents: bigint;
  productId?: string;
}

/**
 * What became of a call. `outcome` is the decision the caller acts on: success → post; rejected → void;
 * pending / unknown → ask again later; not_found → the operator has no such transaction.
 */
export interface Ers360Reply {
  outcome: Ers360Outcome;
  /** The reply's resultCode (for a status query: the found transaction's), or null when none was read. */
  resultCode: number | null;
  resultDescription: string | null;
  ersReference: string | null;
  /** timeout · transport · http · malformed — set when no usable reply came back. */
  failure?: "timeout" | "transport" | "http" | "malformed";
  httpStatus?: number;
}

export interface Ers360Client {
  requestTopup(request: TopupRequest): Promise<Ers360Reply>;
  getTransactionStatus(clientReference: string): Promise<Ers360Reply>;
}

export const escapeXml = (value: string) =>
  value.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);

/** 1500 cents → "15.00": ERS360 amounts are decimal major units. */
export const centsToDecimal = (cents: bigint) => `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}`;

/** "15", "15.5", "15.00000" → 1500 cents (null when not a decimal amount). */
export function decimalToCents(value: string): bigint | null {
  const match = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(value);
  if (!match) return null;
  const fraction = (match[2] ?? "").padEnd(2, "0");
  if (/[1-9]/.test(fraction.slice(2))) return null;
  return BigInt(match[1]!) * 100n + BigInt(fraction.slice(0, 2));
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
});

/** Parses a SOAP envelope; null when it is not well-formed XML or not an envelope. */
export function parseEnvelope(xml: string): Record<string, any> | null {
  if (!xml.trim() || XMLValidator.validate(xml) !== true) return null;
  try {
    const doc = parser.parse(xml);
    const body = doc?.Envelope?.Body;
    return body && typeof body === "object" ? body : null;
  } catch {
    return null;
  }
}

const text = (value: unknown): string | null =>
  typeof value === "string" ? value : typeof value === "number" ? String(value) : null;

function context(config: Ers360ClientConfig, clientReference: string, comment: string) {
  const principal = `<id>${escapeXml(config.resellerId)}</id><type>RESELLERUSER</type>${
    config.userId ? `<userId>${escapeXml(config.userId)}</userId>` : ""
  }`;
  return {
    principal,
    xml:
      `<context><channel>${escapeXml(config.channel)}</channel><clientComment>${escapeXml(comment)}</clientComment>` +
      `<clientId>${escapeXml(config.clientId)}</clientId><clientReference>${escapeXml(clientReference)}</clientReference>` +
      `<clientRequestTimeout>${config.timeoutMs}</clientRequestTimeout>` +
      `<initiatorPrincipalId>${principal}</initiatorPrincipalId><password>${escapeXml(config.password)}</password></context>`,
  };
}

const envelope = (operation: string, inner: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>` +
  `<soapenv:Envelope xmlns:soapenv="${SOAP_NAMESPACE}" xmlns:ext="${ERS_NAMESPACE}">` +
  `<soapenv:Header/><soapenv:Body><ext:${operation}>${inner}</ext:${operation}></soapenv:Body></soapenv:Envelope>`;

export function topupEnvelope(config: Ers360ClientConfig, request: TopupRequest): string {
  const ctx = context(config, request.clientReference, "Keshless airtime");
  const msisdn = escapeXml(request.msisdn);
  return envelope(
    "requestTopup",
    `${ctx.xml}<senderPrincipalId>${ctx.principal}</senderPrincipalId>` +
      `<topupPrincipalId><id>${msisdn}</id><type>SUBSCRIBERMSISDN</type></topupPrincipalId>` +
      `<senderAccountSpecifier><accountId>${escapeXml(config.resellerId)}</accountId><accountTypeId>RESELLER</accountTypeId></senderAccountSpecifier>` +
      `<topupAccountSpecifier><accountId>${msisdn}</accountId><accountTypeId>AIRTIME</accountTypeId></topupAccountSpecifier>` +
      `<productId>${escapeXml(request.productId ?? "TOPUP")}</productId>` +
      `<amount><currency>${escapeXml(config.currency)}</currency><value>${centsToDecimal(request.amountCents)}</value></amount>`,
  );
}

export function statusEnvelope(config: Ers360ClientConfig, clientReference: string): string {
  const ctx = context(config, `${clientReference}:status`, "Keshless status query");
  return envelope("getTransactionStatus", `${ctx.xml}<clientReference>${escapeXml(clientReference)}</clientReference>`);
}

export function createErs360Client(config: Ers360ClientConfig, fetchImpl: Fetch = fetch): Ers360Client {
  const outcomeOf = (code: number): Ers360Outcome => config.resultCodes[String(code)] ?? "unknown";

  /** One SOAP call: the body of the named response element, or why there is none. */
  async function call(
    body: string,
    responseName: string,
  ): Promise<{ ret: Record<string, any> } | { failure: NonNullable<Ers360Reply["failure"]>; httpStatus?: number }> {
    let response: Response;
    let xml: string;
    try {
      response = await fetchImpl(config.url, {
        method: "POST",
        headers: { "content-type": "text/xml; charset=utf-8", ...(config.headers ?? {}) },
        body,
        signal: AbortSignal.timeout(config.timeoutMs),
      });
      xml = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      return { failure: timedOut ? "timeout" : "transport" };
    }
    if (response.status !== 200) return { failure: "http", httpStatus: response.status };
    const parsed = parseEnvelope(xml);
    const ret = parsed?.[responseName]?.return;
    if (!ret || typeof ret !== "object") return { failure: "malformed", httpStatus: 200 };
    return { ret };
  }

  const noAnswer = (failure: NonNullable<Ers360Reply["failure"]>, httpStatus?: number): Ers360Reply => ({
    outcome: "unknown",
    resultCode: null,
    resultDescription: null,
    ersReference: null,
    failure,
    ...(httpStatus ? { httpStatus } : {}),
  });

  function read(node: Record<string, any>): Ers360Reply | null {
    const raw = text(node.resultCode);
    if (raw === null || !/^-?\d+$/.test(raw.trim())) return null;
    const code = Number(raw.trim());
    return {
      outcome: outcomeOf(code),
      resultCode: code,
      resultDescription: text(node.resultDescription),
      ersReference: text(node.ersReference),
    };
  }

  return {
    async requestTopup(request) {
      const result = await call(topupEnvelope(config, request), "requestTopupResponse");
      if ("failure" in result) return noAnswer(result.failure, result.httpStatus);
      const reply = read(result.ret);
      if (!reply) return noAnswer("malformed", 200);
      // "No such transaction" cannot answer a top-up request: whatever it means here, ask about it.
      return reply.outcome === "not_found" ? { ...reply, outcome: "unknown" } : reply;
    },

    async getTransactionStatus(clientReference) {
      const result = await call(statusEnvelope(config, clientReference), "getTransactionStatusResponse");
      if ("failure" in result) return noAnswer(result.failure, result.httpStatus);
      const query = read(result.ret);
      if (!query) return noAnswer("malformed", 200);
      if (query.outcome === "not_found") return query;
      // The query itself failed (busy, timeout on their side…): we still do not know.
      if (query.outcome !== "success") return { ...query, outcome: "unknown" };
      const transaction = result.ret.transaction;
      const found = transaction && typeof transaction === "object" ? read(transaction) : null;
      if (!found) return noAnswer("malformed", 200);
      return found.outcome === "not_found" ? { ...found, outcome: "unknown" } : found;
    },
  };
}
