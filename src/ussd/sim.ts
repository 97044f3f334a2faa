/**
 * `bun run ussd:sim`: plays a USSD session against a running server, speaking either gateway's wire
 * format — the way a feature phone reaches Keshless through MTN (MADAPI JSON) or an Africa's Talking
 * style aggregator (form in, CON/END out). Interactive by default; `--script 1,4729` plays inputs and exits.
 *
 *   bun run ussd:sim -- --format at --phone 76123456 [--url http://localhost:8080] [--secret S] [--script 1,4729]
 *
 * A script waits `--pause` ms before each input (default 2000 for MTN, 0 for AT): MTN sends only the
 * latest input, so the same input again within the retry window (1.5 s) is taken as the gateway resending.
 *
 * Type `0` to go back, `00` for home, `!abort` to hang up. The secret defaults to
 * KESHLESS_USSD_GATEWAY_SECRET when that is set. The tests drive sessions through the same client.
 */
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline/promises";
import { DEFAULT_USSD_CODE } from "../config/ussd";

export type GatewayFormat = "mtn" | "at";

export interface SimScreen {
  status: number;
  text: string;
  end: boolean;
  /** The response body as received. */
  body: string;
}

export type Fetcher = (path: string, init: RequestInit) => Promise<Response>;

export interface GatewayClientOptions {
  format: GatewayFormat;
  /** Any accepted spelling; sent as each gateway sends it (MTN 2687…, AT +2687…). */
  phone: string;
  fetch: Fetcher;
  secret?: string | undefined;
  serviceCode?: string;
  sessionId?: string;
}

/** One subscriber's session, as the gateway would relay it. */
export function createGatewayClient(options: GatewayClientOptions) {
  const sessionId = options.sessionId ?? `sim-${randomBytes(6).toString("hex")}`;
  const serviceCode = options.serviceCode ?? DEFAULT_USSD_CODE;
  const digits = options.phone.replace(/\D/g, "");
  const local = digits.length === 8 ? digits : digits.replace(/^268/, "");
  const inputs: string[] = [];
  let last: { path: string; init: RequestInit } | undefined;

  const headers = (type: string): Record<string, string> => ({
    "content-type": type,
    ...(options.secret ? { "x-gateway-secret": options.secret } : {}),
  });

  function mtn(messageType: number, ussdString: string) {
    return {
      path: "/ussd/mtn",
      init: {
        method: "POST",
        headers: headers("application/json"),
        body: JSON.stringify({
          sessionId,
          messageType: String(messageType),
          msisdn: `268${local}`,
          serviceCode,
          ussdString,
        }),
      },
    };
  }

  function at(path: string, fields: Record<string, string>) {
    return {
      path,
      init: {
        method: "POST",
        headers: headers("application/x-www-form-urlencoded"),
        body: new URLSearchParams(fields).toString(),
      },
    };
  }

  async function post(request: { path: string; init: RequestInit }): Promise<SimScreen> {
    last = request;
    const res = await options.fetch(request.path, request.init);
    const body = await res.text();
    if (res.status !== 200) return { status: res.status, text: body, end: true, body };
    if (options.format === "mtn") {
      const json = JSON.parse(body);
      return { status: res.status, text: json.data.inboundResponse, end: !json.data.userInputRequired, body };
    }
    const end = !body.startsWith("CON ");
    return { status: res.status, text: body.replace(/^(CON|END) /, ""), end, body };
  }

  const phoneNumber = `+268${local}`;
  return {
    sessionId,
    /** Dial the service code: the first screen. */
    dial: () =>
      post(
        options.format === "mtn"
          ? mtn(0, serviceCode)
          : at("/ussd/at", { sessionId, serviceCode, phoneNumber, networkCode: "65310", text: "" }),
      ),
    /** Answer the screen shown. */
    send: (input: string) => {
      inputs.push(input);
      return post(
        options.format === "mtn"
          ? mtn(1, input)
          : at("/ussd/at", { sessionId, serviceCode, phoneNumber, networkCode: "65310", text: inputs.join("*") }),
      );
    },
    /** The gateway sends its last request again (it did not get our answer in time). */
    resend: () => {
      if (!last) throw new Error("nothing to resend");
      return post(last);
    },
    /** The request `send(input)` would make, without making it (to fire duplicates at once). */
    prepare: (input: string) => {
      inputs.push(input);
      const request =
        options.format === "mtn"
          ? mtn(1, input)
          : at("/ussd/at", { sessionId, serviceCode, phoneNumber, networkCode: "65310", text: inputs.join("*") });
      return () => post(request);
    },
    /** The subscriber hangs up (MTN abort; AT's end-of-session notice). */
    abort: () =>
      post(
        options.format === "mtn"
          ? mtn(4, "user cancelled")
          : at("/ussd/at/end", { sessionId, phoneNumber, status: "Incomplete", input: inputs.join("*") }),
      ),
    /** The network gave up waiting (MTN timeout, messageType 5). */
    timeout: () => post(mtn(5, "")),
  };
}

export type GatewayClient = ReturnType<typeof createGatewayClient>;

function parseArgs(argv: string[]) {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) continue;
    const [name, inline] = arg.slice(2).split("=", 2);
    args[name!] = inline ?? argv[++i] ?? "";
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const format = (args.format ?? "mtn") as GatewayFormat;
  if (format !== "mtn" && format !== "at") throw new Error("--format must be mtn or at");
  const phone = args.phone;
  if (!phone) throw new Error("--phone is required (an Eswatini mobile, e.g. 76123456)");
  const base = (args.url ?? "http://localhost:8080").replace(/\/$/, "");
  const client = createGatewayClient({
    format,
    phone,
    fetch: (path, init) => fetch(`${base}${path}`, init),
    secret: args.secret ?? process.env.KESHLESS_USSD_GATEWAY_SECRET,
    ...(args["service-code"] ? { serviceCode: args["service-code"] } : {}),
  });
  const show = (screen: SimScreen) => {
    if (screen.status !== 200) console.log(`[HTTP ${screen.status}] ${screen.body}`);
    else console.log(`\n${screen.text}\n${screen.end ? "[session ended]" : ""}`);
  };
  let screen = await client.dial();
  show(screen);
  if (args.script !== undefined) {
    const pause = Number(args.pause ?? (format === "mtn" ? 2000 : 0));
    for (const input of args.script.split(",")) {
      if (screen.end) break;
      if (pause > 0) await Bun.sleep(pause);
      console.log(`> ${input}`);
      screen = await client.send(input);
      show(screen);
    }
    return;
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    while (!screen.end) {
      const input = (await rl.question("> ")).trim();
      if (input === "!abort") {
        await client.abort();
        console.log("[hung up]");
        return;
      }
      screen = await client.send(input);
      show(screen);
    }
  } finally {
    rl.close();
  }
}

if (import.meta.main) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
