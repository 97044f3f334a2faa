import { randomUUID } from "node:crypto";
import type { YeboLinkConfig } from "../config";
import { escapeHtml } from "../lib/html";
import { type Fetch, type MessageSender, SendError, type SimulatedMessage } from "./eneza";

/**
 * YeboLink (Eswatini; our SMS fallback, and the e-mail channel for staff notices), as its public client code shows
 * it (INTEGRATIONS.md §4): `POST {base}/api/v1/messages/send`, header `X-API-Key`,
 * `{to, channel: sms|whatsapp, content: {text, from_name}}` or `{to, channel: "email", content: {subject, html,
 * from_name}}` → `{success, data: {message_id|id, status}, error}`.
 */

/** A plain-text notice as the e-mail body: escaped, its lines kept. */
const asHtml = (text: string) => `<p>${escapeHtml(text).replace(/\n/g, "<br>")}</p>`;

export function createYeboLinkClient(
  config: YeboLinkConfig,
  fetchImpl: Fetch = fetch,
  baseUrl = config.url,
  channel: MessageSender["channel"] = config.channel,
): MessageSender {
  return {
    provider: "yebolink",
    channel,
    async send({ to, text, subject }) {
      const content =
        channel === "email"
          ? { subject: subject ?? config.fromName, html: asHtml(text), from_name: config.fromName }
          : { text, from_name: config.fromName };
      let response: Response;
      try {
        response = await fetchImpl(new URL("/api/v1/messages/send", baseUrl), {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": config.apiKey ?? "" },
          body: JSON.stringify({ to, channel, content }),
          signal: AbortSignal.timeout(config.timeoutMs),
        });
      } catch (error) {
        const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
        throw new SendError("yebolink", timedOut ? `timed out after ${config.timeoutMs} ms` : "unreachable");
      }
      const reply: any = await response.json().catch(() => undefined);
      if (!response.ok) throw new SendError("yebolink", `HTTP ${response.status}`, response.status);
      if (reply?.success !== true) throw new SendError("yebolink", "refused (success is not true)", response.status);
      const id = reply.data?.message_id ?? reply.data?.id;
      return { messageId: id === undefined || id === null ? null : String(id) };
    },
  };
}

/** The local stand-in for YeboLink, speaking its wire format. */
export function createYeboLinkSimulator() {
  const messages: SimulatedMessage[] = [];
  const fetchImpl: Fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname !== "/api/v1/messages/send" || (init?.method ?? "GET") !== "POST")
      return Response.json({ success: false, error: "not found" }, { status: 404 });
    if (!new Headers(init?.headers).get("x-api-key"))
      return Response.json({ success: false, error: "Invalid API key" }, { status: 401 });
    let body: any;
    try {
      body = JSON.parse(String(init?.body ?? ""));
    } catch {
      return Response.json({ success: false, error: "Invalid JSON" }, { status: 400 });
    }
    const to = String(body?.to ?? "");
    if (body?.channel === "email") {
      const { subject, html } = body?.content ?? {};
      if (!/^[^@\s]+@[^@\s]+$/.test(to) || typeof subject !== "string" || !subject || typeof html !== "string" || !html)
        return Response.json(
          { success: false, error: "an email needs to (an address), content.subject and content.html" },
          { status: 400 },
        );
      messages.push({ to, text: html, body, at: new Date() });
      return Response.json({ success: true, data: { message_id: `yl-sim-${randomUUID()}`, status: "queued" } });
    }
    const text = String(body?.content?.text ?? "");
    if (!/^\+\d{8,15}$/.test(to) || !["sms", "whatsapp"].includes(body?.channel) || !text)
      return Response.json({ success: false, error: "to, channel and content.text are required" }, { status: 400 });
    messages.push({ to, text, body, at: new Date() });
    return Response.json({ success: true, data: { message_id: `yl-sim-${randomUUID()}`, status: "queued" } });
  };
  return { fetch: fetchImpl, messages };
}
