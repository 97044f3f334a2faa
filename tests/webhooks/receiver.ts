import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A partner's webhook receiver on a real port, written the way a partner would (node:crypto, not our
 * signing code): it checks `Keshless-Signature` against the raw body and its copy of the secret, and
 * answers as told — 200, a failure status, or too late.
 */
export interface Received {
  eventId: string | null;
  headers: Record<string, string>;
  body: string;
  json: any;
  signatureValid: boolean;
  at: number;
}

export function startReceiver() {
  const state = {
    secret: "",
    mode: "ok" as "ok" | "fail" | "slow",
    failStatus: 500,
    slowMs: 1_000,
    /** The receiver's clock for the replay window; tests that move our clock move this one too. */
    clock: () => Date.now(),
    received: [] as Received[],
  };

  function verify(header: string | null, body: string): boolean {
    if (!header || !state.secret) return false;
    const fields = Object.fromEntries(header.split(",").map((p) => p.split("=", 2) as [string, string]));
    if (!fields.t || !fields.v1) return false;
    if (Math.abs(state.clock() / 1000 - Number(fields.t)) > 300) return false;
    const expected = createHmac("sha256", state.secret).update(`${fields.t}.${body}`).digest();
    const given = Buffer.from(fields.v1, "hex");
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  const server = Bun.serve({
    port: 0,
    async fetch(request) {
      const body = await request.text();
      const mode = state.mode;
      let json: any;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
      state.received.push({
        eventId: request.headers.get("keshless-event-id"),
        headers,
        body,
        json,
        signatureValid: verify(request.headers.get("keshless-signature"), body),
        at: Date.now(),
      });
      if (mode === "slow") await Bun.sleep(state.slowMs);
      if (mode === "fail") return new Response("nope", { status: state.failStatus });
      return new Response("ok");
    },
  });

  return Object.assign(state, {
    url: `http://127.0.0.1:${server.port}/hooks`,
    reset() {
      state.mode = "ok";
      state.failStatus = 500;
      state.received.length = 0;
    },
    /** Requests that carried this event id. */
    of(eventId: string) {
      return state.received.filter((r) => r.eventId === eventId);
    },
    stop: () => server.stop(true),
  });
}
