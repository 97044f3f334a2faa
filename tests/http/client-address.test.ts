import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomPhone } from "../support/factories";
import { TEST_SECRETS } from "../support/harness";
import { type ServerProcess, startServer } from "../support/server-process";

/**
 * Per-IP limits count the client's real address (issue 11, item 3). By default no X-Forwarded-For entry is
 * trusted — a client can write any it likes — so the socket's address is the client: rotating the header
 * buys no fresh bucket. Only a deployment that knows its proxies (Cloud Run: KESHLESS_TRUSTED_PROXY_HOPS=1
 * in cloudbuild.yaml) trusts the entries they append. Real server processes, since only they have sockets.
 */
const LIMIT = 10;
const dirs: string[] = [];
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const server of servers) await server.kill9();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function serve(env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "keshless-client-address-"));
  dirs.push(dir);
  const server = await startServer({
    env: {
      ...TEST_SECRETS,
      KESHLESS_ENV: "development",
      KESHLESS_DATA_DIR: dir,
      LOG_LEVEL: "warn",
      KESHLESS_OTP_IP_PER_HOUR: String(LIMIT),
      KESHLESS_AUTH_IP_PER_HOUR: String(LIMIT),
      ...env,
    },
  });
  servers.push(server);
  return server;
}

/** 14 code requests and 14 verifications, each from a different forged X-Forwarded-For. */
async function rotate(url: string) {
  const statuses = { send: [] as number[], verify: [] as number[] };
  for (let i = 0; i < 14; i++) {
    const headers = { "content-type": "application/json", "x-forwarded-for": `203.0.113.${i + 1}` };
    const phone = randomPhone();
    const send = await fetch(`${url}/v1/auth/otp`, { method: "POST", headers, body: JSON.stringify({ phone }) });
    statuses.send.push(send.status);
    const verify = await fetch(`${url}/v1/auth/otp/verify`, {
      method: "POST",
      headers,
      body: JSON.stringify({ phone, code: "000000" }),
    });
    statuses.verify.push(verify.status);
  }
  return statuses;
}

test("by default a rotated X-Forwarded-For is ignored: 14 sends and 14 verifies meet the 10/h per-IP limit", async () => {
  const server = await serve();
  const { send, verify } = await rotate(server.url);
  expect(send.filter((s) => s === 202)).toHaveLength(LIMIT);
  expect(send.slice(LIMIT)).toEqual([429, 429, 429, 429]);
  expect(verify.filter((s) => s === 401)).toHaveLength(LIMIT);
  expect(verify.slice(LIMIT)).toEqual([429, 429, 429, 429]);
}, 60_000);

test("behind one trusted proxy the last entry is the client (what Cloud Run appends)", async () => {
  const server = await serve({ KESHLESS_TRUSTED_PROXY_HOPS: "1" });
  const { send } = await rotate(server.url);
  expect(send.every((s) => s === 202)).toBe(true);
  // A forged leading entry does not help: the proxy's own (last) entry is the one counted.
  const statuses: number[] = [];
  for (let i = 0; i < LIMIT + 2; i++) {
    const res = await fetch(`${server.url}/v1/auth/otp`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": `10.0.0.${i}, 198.51.100.7` },
      body: JSON.stringify({ phone: randomPhone() }),
    });
    statuses.push(res.status);
  }
  expect(statuses.filter((s) => s === 202)).toHaveLength(LIMIT);
}, 60_000);
