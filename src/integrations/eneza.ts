import { randomUUID } from "node:crypto";
import type { EnezaConfig } from "../config";

/**
 * Eneza: OTP and messages over WhatsApp, our first choice. REST with an `X-API-KEY` header and no
 * public spec, so everything about the call is configuration (INTEGRATIONS.md §4): base URL, path, key,
 * a JSON body template whose "{{to}}" / "{{text}}" strings are filled in, timeout, and where in the
 * reply to find success and the message id.
 */

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * One outside channel able to deliver a text: to a phone (whatsapp, sms), or to an address with a subject
 * (email — staff notices). Throws SendError when it did not.
 */
export interface MessageSender {
  provider: string;
  channel: "whatsapp" | "sms" | "email";
  send(message: { to: string; text: string; subject?: string }): Promise<{ messageId: string | null }>;
}

/** A delivery that did not happen. The message says what went wrong without echoing the body we sent. */
export class SendError extends Error {
  override name = "SendError";
  constructor(
    readonly provider: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** `a.b.0.c` → value, or undefined. */
export function pick(value: unknown, path: string): unknown {
  let current: any = value;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = current[part];
  }
  return current;
}

function fill(template: unknown, values: Record<string, string>): unknown {
  if (typeof template === "string")
    return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
  if (Array.isArray(template)) return template.map((v) => fill(v, values));
  if (template && typeof template === "object")
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fill(v, values)]));
  return template;
}

const ID_PATHS = ["id", "messageId", "message_id", "data.id", "data.messageId", "data.message_id"];

export function createEnezaClient(config: EnezaConfig, fetchImpl: Fetch = fetch, baseUrl = config.url): MessageSender {
  return {
    provider: "eneza",
    channel: "whatsapp",
    async send({ to, text }) {
      if (!baseUrl) throw new SendError("eneza", "not configured (KESHLESS_ENEZA_URL)");
      let response: Response;
      try {
        response = await fetchImpl(new URL(config.path, baseUrl), {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": config.apiKey ?? "" },
          body: JSON.stringify(fill(config.bodyTemplate, { to, text })),
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (error) {
        const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
        throw new SendError("eneza", timedOut ? `timed out after ${config.timeoutMs} ms` : "unreachable");
      }
      const reply: unknown = await response.json().catch(() => undefined);
      if (!response.ok) throw new SendError("eneza", `HTTP ${response.status}`, response.status);
      const success = config.successPath ? Boolean(pick(reply, config.successPath)) : pick(reply, "success") !== false;
      if (!success) throw new SendError("eneza", "refused (success test failed)", response.status);
      const paths = config.idPath ? [config.idPath] : ID_PATHS;
      const id = paths.map((p) => pick(reply, p)).find((v) => typeof v === "string" || typeof v === "number");
      return { messageId: id === undefined ? null : String(id) };
    },
  };
}

export interface SimulatedMessage {
  to: string;
  text: string;
  body: unknown;
  at: Date;
}

/**
 * The local stand-in for Eneza: a fetch function that answers what the default body template sends
 * (`{to, channel, message}` with `X-API-KEY`), so the real client code runs without a network.
 */
export function createEnezaSimulator() {
  const messages: SimulatedMessage[] = [];
  const fetchImpl: Fetch = async (_input, init) => {
    const headers = new Headers(init?.headers);
    if (!headers.get("x-api-key"))
      return Response.json({ success: false, error: "missing X-API-KEY" }, { status: 401 });
    let body: any;
    try {
      body = JSON.parse(String(init?.body ?? ""));
    } catch {
      return Response.json({ success: false, error: "invalid JSON" }, { status: 400 });
    }
    const to = String(body?.to ?? "");
    const text = String(body?.message ?? body?.text ?? "");
    if (!/^\+\d{8,15}$/.test(to) || !text)
      return Response.json({ success: false, error: "to and message are required" }, { status: 422 });
    messages.push({ to, text, body, at: new Date() });
    return Response.json({ success: true, id: `enz-sim-${randomUUID()}`, status: "queued" });
  };
  return { fetch: fetchImpl, messages };
}
