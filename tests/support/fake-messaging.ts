/**
 * Wire-level fakes of the messaging providers (INTEGRATIONS.md §4): real HTTP servers on a free
 * local port, recording every request and failing on demand, so the real adapters run unmodified.
 */

export type FakeMode = "ok" | "error" | "refuse" | "slow";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: any;
}

export interface FakeProvider {
  url: string;
  requests: RecordedRequest[];
  mode: FakeMode;
  /** Delay of "slow" replies, ms. */
  slowMs: number;
  stop(): Promise<void>;
}

function startFake(reply: (req: RecordedRequest, fake: FakeProvider) => Response): FakeProvider {
  const fake: FakeProvider = {
    url: "",
    requests: [],
    mode: "ok",
    slowMs: 2000,
    stop: async () => {},
  };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      const text = await request.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // recorded as text
      }
      const headers: Record<string, string> = {};
      request.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const recorded = { method: request.method, path: url.pathname, headers, body };
      fake.requests.push(recorded);
      if (fake.mode === "slow") await Bun.sleep(fake.slowMs);
      return reply(recorded, fake);
    },
  });
  fake.url = `http://127.0.0.1:${server.port}`;
  fake.stop = async () => {
    await server.stop(true);
  };
  return fake;
}

/** Eneza as configured by default: `POST /v1/messages` `{to, channel, message}` with `X-API-KEY`. */
export function startFakeEneza(): FakeProvider {
  let n = 0;
  return startFake((req, fake) => {
    if (req.path !== "/v1/messages") return Response.json({ success: false, error: "not found" }, { status: 404 });
    if (!req.headers["x-api-key"]) return Response.json({ success: false, error: "unauthorised" }, { status: 401 });
    if (fake.mode === "error") return Response.json({ success: false, error: "internal" }, { status: 500 });
    if (fake.mode === "refuse") return Response.json({ success: false, error: "number not on WhatsApp" });
    return Response.json({ success: true, id: `enz-${++n}`, status: "queued" });
  });
}

/** YeboLink: `POST /api/v1/messages/send` `{to, channel, content:{text, from_name}}` with `X-API-Key`. */
export function startFakeYeboLink(): FakeProvider {
  let n = 0;
  return startFake((req, fake) => {
    if (req.path !== "/api/v1/messages/send")
      return Response.json({ success: false, error: "not found" }, { status: 404 });
    if (!req.headers["x-api-key"]) return Response.json({ success: false, error: "Invalid API key" }, { status: 401 });
    if (fake.mode === "error") return Response.json({ success: false, error: "upstream failure" }, { status: 502 });
    if (fake.mode === "refuse")
      return Response.json({ success: false, error: "insufficient credits" }, { status: 402 });
    return Response.json({ success: true, data: { message_id: `yl-${++n}`, status: "queued" } });
  });
}
