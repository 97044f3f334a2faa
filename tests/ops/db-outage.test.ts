import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { type FakeProvider, startFakeEneza } from "../support/fake-messaging";
import { createTestDatabase, TEST_SECRETS, type TestDatabase } from "../support/harness";
import {
  type ApiResponse,
  api,
  codeIn,
  type HttpUser,
  runCli,
  type ServerProcess,
  signInOverHttp,
  startServer,
} from "../support/server-process";

/**
 * The real server process on real Postgres while the database goes away. Its connections reach Postgres through
 * a TCP proxy this test controls, so the database can also be made to accept connections and never answer
 * (a black hole: what a failover or a partition looks like) or to refuse them (stopped).
 *
 * 1. Backends killed again and again under a payment load, job runs (whose lock holds a reserved connection)
 *    and /ready probes: the process survives (the postgres.js defect that killed it is patched), every request
 *    gets an answer — 2xx, 4xx or 503, never a 500, never a hang — and the server recovers by itself.
 *    Every payment without a 2xx is retried with its Idempotency-Key, as the app does: then every acknowledged
 *    payment is in the ledger exactly once, nothing else is, and `ledger:verify` is ok.
 * 2. Unreachable (black hole, then refused): /ready says 503 within 2 s, /health stays 200, a payment answers
 *    503 UNAVAILABLE within the acquire timeout (5 s), also many at once; the outbox loop logs the outage once.
 * 3. The database back: ready and paying again within seconds, without a restart.
 *
 * Needs DATABASE_URL (skipped on PGlite).
 */

const CLIENTS = 8;
const FUNDING = 10_000_000;
const PIN = "4729";
/** A request with no answer by then is a hang (the bounds under test are 2 s and 5 s). */
const CLIENT_TIMEOUT_MS = 20_000;

const onPostgres = !!process.env.DATABASE_URL;
const dataDir = mkdtempSync(join(tmpdir(), "keshless-outage-"));
let testDb: TestDatabase | undefined;
let server: ServerProcess | undefined;
let proxy: ReturnType<typeof startProxy> | undefined;
let admin: postgres.Sql | undefined;
const fakes: FakeProvider[] = [];
afterAll(async () => {
  // OUTAGE_DEBUG=1 prints the server's whole log (what it answered and logged during the outage).
  if (process.env.OUTAGE_DEBUG) console.log(server?.output());
  await server?.kill9();
  proxy?.close();
  for (const fake of fakes) await fake.stop();
  await admin?.end({ timeout: 1 });
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Writes to a socket, keeping what it could not take until it drains. */
function writer(socket: { write(data: Uint8Array): number }) {
  const queue: Uint8Array[] = [];
  return {
    write(data: Uint8Array) {
      if (queue.length) return void queue.push(data);
      const n = socket.write(data);
      if (n < data.length) queue.push(data.subarray(n));
    },
    drain() {
      while (queue.length) {
        const n = socket.write(queue[0]!);
        if (n < queue[0]!.length) {
          queue[0] = queue[0]!.subarray(n);
          return;
        }
        queue.shift();
      }
    },
  };
}

/**
 * A TCP proxy to Postgres on a fixed port. "pass" forwards; "blackhole" closes what is open and from then on
 * accepts connections and never answers them; `stop()` stops listening (connections are refused), `listen()`
 * starts again on the same port.
 */
function startProxy(target: { hostname: string; port: number }) {
  interface Hop {
    up?: { write(data: Uint8Array): number; end(): void };
    toUp?: ReturnType<typeof writer>;
    toClient?: ReturnType<typeof writer>;
    early: Uint8Array[];
    held: boolean;
  }
  let mode: "pass" | "blackhole" = "pass";
  const clients = new Set<{ data: Hop; end(): void }>();
  let port = 0;
  let listener: Bun.TCPSocketListener<Hop> | undefined;
  const closeAll = () => {
    for (const client of clients) {
      client.data.up?.end();
      client.end();
    }
    clients.clear();
  };
  function listen() {
    const started = Bun.listen<Hop>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          const hop: Hop = { early: [], held: mode === "blackhole" };
          client.data = hop;
          clients.add(client);
          hop.toClient = writer(client);
          if (hop.held) return; // accepted, never answered
          Bun.connect({
            ...target,
            socket: {
              data: (_up, chunk) => hop.toClient!.write(new Uint8Array(chunk)),
              drain: () => hop.toUp?.drain(),
              close: () => void client.end(),
              error: () => void client.end(),
            },
          }).then(
            (up) => {
              hop.up = up;
              hop.toUp = writer(up);
              for (const chunk of hop.early.splice(0)) hop.toUp.write(chunk);
            },
            () => client.end(),
          );
        },
        data(client, chunk) {
          if (client.data.held) return;
          const bytes = new Uint8Array(chunk);
          if (client.data.toUp) client.data.toUp.write(bytes);
          else client.data.early.push(bytes);
        },
        drain: (client) => client.data.toClient?.drain(),
        close(client) {
          clients.delete(client);
          client.data.up?.end();
        },
        error(client) {
          clients.delete(client);
          client.data.up?.end();
        },
      },
    });
    listener = started;
    port = started.port;
  }
  listen();
  return {
    get port() {
      return port;
    },
    blackhole() {
      mode = "blackhole";
      closeAll();
    },
    pass() {
      mode = "pass";
      closeAll();
    },
    stop() {
      listener?.stop(true);
      listener = undefined;
      closeAll();
    },
    listen,
    close() {
      listener?.stop(true);
      closeAll();
    },
  };
}

/** One request with a client-side deadline; `status: 0` means no answer in time (or a network error). */
async function timed(
  fn: (signal: AbortSignal) => Promise<ApiResponse>,
): Promise<{ status: number; code?: string; ms: number; res?: ApiResponse }> {
  const started = performance.now();
  try {
    const res = await fn(AbortSignal.timeout(CLIENT_TIMEOUT_MS));
    return { status: res.status, code: res.json?.error?.code, ms: performance.now() - started, res };
  } catch {
    return { status: 0, ms: performance.now() - started };
  }
}

interface Sent {
  key: string;
  user: HttpUser;
  body: { vendorCode: string; amount: number; currency: "SZL"; pin: string; reference: string };
  status: number;
  code?: string;
  transaction?: { id: string; amount: number; fee: number };
}

const pay = (url: string, s: Pick<Sent, "key" | "user" | "body">, signal?: AbortSignal) =>
  api(url, "POST", "/v1/payments", {
    token: s.user.accessToken,
    headers: { "idempotency-key": s.key },
    body: s.body,
    ...(signal ? { signal } : {}),
  });

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

describe.skipIf(!onPostgres)("the database goes away (needs DATABASE_URL: skipped on PGlite)", () => {
  let env: Record<string, string>;
  let users: HttpUser[] = [];
  let vendorCodes: string[] = [];
  const sent: Sent[] = [];
  let n = 0;
  const newPayment = (user: HttpUser, c: number): Sent => {
    const key = `outage-${c}-${n++}`;
    return {
      key,
      user,
      body: {
        vendorCode: vendorCodes[n % vendorCodes.length]!,
        amount: 100 + ((c * 7919 + n * 104_729) % 1900),
        currency: "SZL",
        pin: PIN,
        reference: key,
      },
      status: 0,
    };
  };
  const IGNORED = "a database connection error nobody awaited (ignored)";
  /** Output lines that say something went unowned or crashed, except the ones the safety net handled. */
  const unexpectedFailures = (output: string) =>
    output.split("\n").filter((line) => /TypeError|Unhandled|uncaught/i.test(line) && !line.includes(IGNORED));
  const exitedEarly = () => Promise.race([server!.exited.then(() => true), Bun.sleep(0).then(() => false)]);
  const track = <R extends { status: number; code?: string; res?: ApiResponse }>(s: Sent, r: R): R => {
    s.status = r.status;
    if (r.code) s.code = r.code;
    if (r.status === 201) s.transaction = r.res!.json;
    return r;
  };

  /** Every payment that got no 2xx is retried with its key until it has a final answer, as the app would. */
  async function retryUnanswered() {
    for (const s of sent.filter((x) => x.status !== 201)) {
      let res = await pay(server!.url, s);
      for (let i = 0; i < 40 && (res.status === 503 || res.status === 409); i++) {
        await Bun.sleep(50);
        res = await pay(server!.url, s);
      }
      track(s, { status: res.status, res });
    }
    expect(sent.filter((s) => s.status !== 201).map((s) => `${s.key} ${s.status}`)).toEqual([]);
  }

  /** Each payment ever sent is in the ledger once, as its (final) answer says; balances agree; ledger:verify ok. */
  async function checkLedger() {
    const sql = testDb!.database.sql!;
    const rows = await sql<{ id: string; reference: string; journals: number }[]>`
      select t.id, t.reference, (select count(*)::int from ledger_journals j where j.id = t.id) as journals
        from transactions t where t.reference like 'outage-%'`;
    const byReference = new Map<string, [string, number][]>();
    for (const r of rows) byReference.set(r.reference, [...(byReference.get(r.reference) ?? []), [r.id, r.journals]]);
    const mismatches = sent
      .map((s) => ({ key: s.key, applied: byReference.get(s.key) ?? [], answer: s.transaction?.id }))
      .filter((x) => !(x.answer && x.applied.length === 1 && x.applied[0]![0] === x.answer && x.applied[0]![1] === 1));
    expect(mismatches).toEqual([]);
    expect(rows.length).toBe(sent.length);
    for (const user of users) {
      const spent = sent
        .filter((s) => s.user === user)
        .reduce((sum, s) => sum + s.transaction!.amount + s.transaction!.fee, 0);
      const wallet = await api(server!.url, "GET", "/v1/wallet", { token: user.accessToken });
      expect(wallet.json.balance).toBe(FUNDING - spent);
    }
    const verify = await runCli(["ledger:verify"], { ...env, DATABASE_URL: testDb!.url! });
    expect(verify.json?.ok).toBe(true);
    expect(verify.code).toBe(0);
  }

  test("setup: a server through the proxy, vendors, a partner and funded users", async () => {
    const created = await createTestDatabase();
    testDb = created;
    admin = postgres(process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
    const direct = new URL(testDb.url!);
    proxy = startProxy({ hostname: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(testDb.url!);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String(proxy.port);
    const eneza = startFakeEneza();
    fakes.push(eneza);
    env = {
      ...TEST_SECRETS,
      DATABASE_URL: viaProxy.toString(),
      KESHLESS_ENV: "development",
      KESHLESS_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      KESHLESS_NOTIFICATIONS: "providers",
      KESHLESS_ENEZA_URL: eneza.url,
      KESHLESS_ENEZA_API_KEY: "test-eneza-key",
      // The background loops tick often, so they meet the outage too (and must not log every tick).
      KESHLESS_OUTBOX_INTERVAL_MS: "100",
      KESHLESS_WEBHOOK_INTERVAL_MS: "100",
      KESHLESS_ARGON2_MEMORY_KIB: "1024",
      KESHLESS_ARGON2_TIME_COST: "1",
      KESHLESS_OTP_IP_PER_HOUR: "100000",
      KESHLESS_AUTH_IP_PER_HOUR: "100000",
      KESHLESS_KYC_LIMITS: JSON.stringify({
        "0": { perTransaction: 100_000, daily: 100_000_000, monthly: 100_000_000, maxBalance: 100_000_000 },
      }),
    };
    // All of its output: the log is read for what the loops said during the outage.
    server = await startServer({ env, outputLimit: 64 * 1024 * 1024 });
    const [partner, ...vendorResults] = await Promise.all([
      runCli(["partner:create", "--name", "Outage Bank"], { ...env, DATABASE_URL: created.url! }),
      ...[1, 2, 3].map((i) =>
        runCli(
          [
            "vendor:create",
            "--name",
            `Outage Stall ${i}`,
            "--email",
            `outage-stall-${i}@example.com`,
            "--password",
            "Outage!pw-0123456789",
            "--phone",
            `+2687820000${i}`,
          ],
          { ...env, DATABASE_URL: created.url! },
        ),
      ),
    ]);
    expect(partner!.code).toBe(0);
    for (const v of vendorResults) expect(v.code).toBe(0);
    vendorCodes = vendorResults.map((v) => v.json.code as string);
    const readCode = async (phone: string) =>
      codeIn(eneza.requests.findLast((r) => r.body?.to === phone)?.body?.message as string | undefined);
    users = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => signInOverHttp(server!.url, `+2687620000${i}`, PIN, readCode)),
    );
    for (const user of users) {
      const funded = await api(server.url, "POST", "/partner/v1/deposits", {
        headers: { "x-api-key": partner!.json.apiKey, "idempotency-key": `fund-${user.id}` },
        body: { phone: user.phone, amount: FUNDING, currency: "SZL", externalReference: `fund-${user.id}` },
      });
      expect(funded.status).toBe(201);
    }
  }, 60_000);

  test("backends killed under load, the job lock's reserved connection included: the process lives, every request is answered (never 500), and it recovers", async () => {
    const url = server!.url;
    const database = new URL(testDb!.url!).pathname.slice(1);
    const answers = {
      payments: new Map<string, number>(),
      jobs: new Map<string, number>(),
      ready: new Map<string, number>(),
    };
    const count = (map: Map<string, number>, r: { status: number; code?: string }) => {
      const k = r.code ? `${r.status} ${r.code}` : String(r.status);
      map.set(k, (map.get(k) ?? 0) + 1);
    };
    let slowest = 0;
    let loading = true;
    const clients = users.map(async (user, c) => {
      while (loading) {
        const s = newPayment(user, c);
        sent.push(s);
        const r = track(s, await timed((signal) => pay(url, s, signal)));
        slowest = Math.max(slowest, r.ms);
        count(answers.payments, r);
      }
    });
    // Job runs take their lock on a reserved connection (src/jobs/runner.ts): killing its backend is what crashed.
    const jobs = [0, 1].map(async () => {
      while (loading) {
        const r = await timed((signal) =>
          api(url, "POST", "/jobs/approval-expiry", {
            headers: { "x-job-secret": TEST_SECRETS.KESHLESS_JOB_SECRET },
            signal,
          }),
        );
        slowest = Math.max(slowest, r.ms);
        count(answers.jobs, r);
      }
    });
    const ready = (async () => {
      while (loading) {
        const r = await timed((signal) => api(url, "GET", "/ready", { signal }));
        slowest = Math.max(slowest, r.ms);
        count(answers.ready, r);
        await Bun.sleep(20);
      }
    })();

    await Bun.sleep(1000);
    const jobLock = `job:approval-expiry`;
    let killed = 0;
    let lockHoldersKilled = 0;
    const killUntil = Date.now() + 5000;
    // The lock is held for a few milliseconds per run: look for its holder often and kill it when found.
    const hunter = (async () => {
      while (Date.now() < killUntil) {
        const rows = await admin!<{ pid: number }[]>`
          select l.pid from pg_locks l
           where l.locktype = 'advisory' and l.objsubid = 1 and l.granted
             and l.database = (select oid from pg_database where datname = ${database})
             and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended(${jobLock}, 0)`;
        for (const { pid } of rows) {
          const [t] = await admin!<{ ok: boolean }[]>`select pg_terminate_backend(${pid}) as ok`;
          if (t?.ok) lockHoldersKilled++;
        }
        await Bun.sleep(2);
      }
    })();
    while (Date.now() < killUntil) {
      const rows = await admin!`
        select pg_terminate_backend(pid) from pg_stat_activity
         where datname = ${database} and pid <> pg_backend_pid()`;
      killed += rows.length;
      await Bun.sleep(250);
    }
    await hunter;
    // Recovery: the load goes on without kills, and must see payments succeed again.
    const recoveryStarted = Date.now();
    let firstOkAfterKills: number | undefined;
    while (Date.now() - recoveryStarted < 10_000) {
      const since = sent.length;
      await Bun.sleep(250);
      if (sent.slice(since).some((s) => s.status === 201)) {
        firstOkAfterKills = Date.now() - recoveryStarted;
        break;
      }
    }
    await Bun.sleep(1000);
    loading = false;
    await Promise.all([...clients, ...jobs, ready]);

    const summary = {
      killed,
      lockHoldersKilled,
      payments: Object.fromEntries(answers.payments),
      jobs: Object.fromEntries(answers.jobs),
      ready: Object.fromEntries(answers.ready),
      slowest: seconds(slowest),
      firstOkAfterKills: firstOkAfterKills === undefined ? "never" : seconds(firstOkAfterKills),
      unownedConnectionErrors: server!.output().split(IGNORED).length - 1,
    };
    console.info(`DB outage, backends killed under load: ${JSON.stringify(summary)}`);

    // On a death, the server's last words are the diagnosis.
    expect({ exited: await exitedEarly(), tail: "" }).toEqual({
      exited: false,
      tail: (await exitedEarly()) ? server!.output().slice(-3000) : "",
    });
    // The boot's safety net (src/index.ts) logs a connection error that nothing inside postgres.js awaited and
    // keeps serving; those lines are expected under kills (counted in the summary). Anything else unowned is not.
    expect(unexpectedFailures(server!.output())).toEqual([]);
    expect(killed).toBeGreaterThan(0);
    expect(lockHoldersKilled).toBeGreaterThan(0);
    const statuses = (map: Map<string, number>) => [...map.keys()].map((k) => Number(k.split(" ")[0]));
    // An answer for every request: 2xx, 4xx, or 503 (never 500, never none within the client's deadline).
    for (const status of [...statuses(answers.payments), ...statuses(answers.jobs), ...statuses(answers.ready)])
      expect({ status, ok: (status >= 200 && status < 500) || status === 503 }).toEqual({ status, ok: true });
    for (const [k] of answers.payments) if (k.startsWith("503")) expect(k).toBe("503 UNAVAILABLE");
    expect(firstOkAfterKills).toBeDefined();

    await retryUnanswered();
    // And afterwards a burst of new payments all succeed.
    const after = await Promise.all(
      users.map((user, c) => {
        const s = newPayment(user, c);
        sent.push(s);
        return pay(url, s).then((res) => {
          s.status = res.status;
          if (res.status === 201) s.transaction = res.json;
          return res.status;
        });
      }),
    );
    expect(after).toEqual(users.map(() => 201));
  }, 90_000);

  test("every acknowledged payment is in the ledger exactly once, nothing else is, and ledger:verify is ok", async () => {
    await checkLedger();
  }, 60_000);

  /** /ready, /health, one payment and then many at once while the database does not answer. */
  async function whileUnreachable(label: string, cut: () => void) {
    const url = server!.url;
    const logsBefore = server!.output().length;
    cut();
    const ready = await timed((signal) => api(url, "GET", "/ready", { signal }));
    const health = await timed((signal) => api(url, "GET", "/health", { signal }));
    const payment = (user: HttpUser, c: number) => {
      const s = newPayment(user, c);
      sent.push(s);
      return timed((signal) => pay(url, s, signal)).then((r) => track(s, r));
    };
    const one = await payment(users[0]!, 0);
    const many = await Promise.all(users.flatMap((user, c) => [0, 1, 2, 3].map(() => payment(user, c))));
    const readyAgain = await timed((signal) => api(url, "GET", "/ready", { signal }));
    await Bun.sleep(2000); // the outbox and webhook loops tick every 100 ms meanwhile
    const logged = server!.output().slice(logsBefore);
    const drainFailures = logged.match(/outbox drain failed/g)?.length ?? 0;
    const manySlowest = Math.max(...many.map((r) => r.ms));
    console.info(
      `DB ${label}: /ready ${ready.status} in ${seconds(ready.ms)} (again ${readyAgain.status} in ${seconds(readyAgain.ms)}), ` +
        `/health ${health.status}, a payment ${one.status} ${one.code} in ${seconds(one.ms)}, ` +
        `${many.length} at once: ${[...new Set(many.map((r) => `${r.status} ${r.code}`))].join(", ")}, slowest ${seconds(manySlowest)}; ` +
        `"outbox drain failed" logged ${drainFailures}×`,
    );
    expect(ready.status).toBe(503);
    expect(ready.res?.json).toMatchObject({ status: "not_ready", database: "unreachable" });
    expect(ready.ms).toBeLessThan(2000);
    expect(readyAgain.status).toBe(503);
    expect(readyAgain.ms).toBeLessThan(2000);
    expect(health.status).toBe(200);
    expect({ status: one.status, code: one.code }).toEqual({ status: 503, code: "UNAVAILABLE" });
    expect(one.res?.headers.get("retry-after")).toBeTruthy();
    expect(one.ms).toBeLessThan(6000);
    for (const r of many) expect({ status: r.status, code: r.code }).toEqual({ status: 503, code: "UNAVAILABLE" });
    // The acquire timeout (5 s) bounds them all, however many wait.
    expect(manySlowest).toBeLessThan(7000);
    // Once per outage, not every 100 ms tick.
    expect(drainFailures).toBeLessThanOrEqual(1);
    expect(await exitedEarly()).toBe(false);
  }

  test("a database that accepts connections and never answers: /ready 503 within 2 s, a payment 503 UNAVAILABLE within 5 s", async () => {
    await whileUnreachable("black hole", () => proxy!.blackhole());
  }, 60_000);

  test("a database that refuses connections: the same", async () => {
    await whileUnreachable("refused", () => proxy!.stop());
  }, 60_000);

  test("the database back: ready and paying again within seconds, no restart", async () => {
    proxy!.listen();
    proxy!.pass();
    const url = server!.url;
    const started = performance.now();
    let readyAt: number | undefined;
    let paidAt: number | undefined;
    while (performance.now() - started < 15_000 && (readyAt === undefined || paidAt === undefined)) {
      if (readyAt === undefined && (await api(url, "GET", "/ready")).status === 200)
        readyAt = performance.now() - started;
      if (paidAt === undefined) {
        const s = newPayment(users[1]!, 1);
        sent.push(s);
        const r = track(s, await timed((signal) => pay(url, s, signal)));
        if (r.status === 201) paidAt = performance.now() - started;
      }
      await Bun.sleep(100);
    }
    console.info(
      `DB back: /ready 200 after ${readyAt === undefined ? "never" : seconds(readyAt)}, a payment 201 after ${paidAt === undefined ? "never" : seconds(paidAt)}`,
    );
    expect(readyAt).toBeDefined();
    expect(paidAt).toBeDefined();
    expect(paidAt!).toBeLessThan(10_000);
    // What was refused during the outage never ran: retried now, each is applied once.
    await retryUnanswered();
    await checkLedger();
    expect(await exitedEarly()).toBe(false);
  }, 60_000);
});
