/**
 * bench/payments (issue 5): HTTP payments/s through POST /v1/payments against the real server process
 * (`bun src/index.ts`, started by the bench on a fresh Postgres database), beside pgbench's simple-update
 * script (`pgbench -N`, SERIALIZABLE, same server, same run, same concurrency), as bench/ledger does.
 *
 *   bun run bench payments [--duration=12] [--warmup=1] [--prime=3] [--concurrency=16] [--users=2000]
 *                          [--vendors=500] [--pool=16] [--shapes=uniform,hot-vendor,mixed] [--latency-fraction=0.5]
 *                          [--no-latency] [--pgbench-scale=16] [--no-pgbench] [--no-ceiling] [--no-statements]
 *                          [--no-write] [--keep] [--results=bench/RESULTS.md] [--sql=what-if.sql] [--entry=src/index.ts]
 *                          [--what-if=prepare,worker,onecall] [--bun-args=--smol] [--server-env=KEY=VALUE,…]
 *                          [--pg-log=/var/log/postgresql/postgresql-15-main.log] [--cpu-prof=dir] [--admin-url=postgres://…]
 *
 * Everything goes through HTTP as an app would: vendors are created by an admin (POST /admin/v1/vendors), users
 * sign in with an OTP (read from GET /dev/outbox: the table holds it sealed) and set a PIN,
 * wallets are funded by partner deposits (POST /partner/v1/deposits). Then `concurrency` clients pay back to
 * back (closed loop) for each shape, each payment with its own Idempotency-Key — the mixed day instead sends a
 * day's mix (60% vendor payments, 20% P2P transfers, 5% partner deposits, 2.5% airtime, 2.5% withdrawals, 10%
 * balance and history reads; reported as requests/s with each kind's latency) — and a last phase sends payments
 * at a fixed arrival rate (open loop: `latency-fraction` × the uniform rate just measured) to read latency
 * where the server is not saturated. The bench (load generator), the server, pgbench and Postgres share the
 * machine's cores; the CPU each used, and any other process's, is reported beside the numbers.
 *
 * Evidence for where time goes: serialization failures per phase from the Postgres server log (--pg-log, lines
 * of this run's database only); unless --no-ceiling, the in-database ceiling after the measured phases (server
 * stopped): pgbench runs a payment's database work itself — payments_execute alone and group-committed
 * (payments_execute_batch, several payments per transaction), ledger_transfer alone, and the
 * payload builder alone — on the bench database's real users, vendors and wallets (bench/sql/payments-ceiling.sql),
 * so the gap between HTTP payments/s and what Postgres alone can do is measured, not guessed; and — unless
 * --no-statements — a throwaway phase after those with `log_min_duration_statement = 0` on the bench database that
 * counts the statements a payment makes and their server time.
 *
 * --sql applies a file to the bench database after migrating (a proposed SQL change); --entry starts another
 * entry file instead of src/index.ts (a prototype of proposed TS changes, kept under bench/what-if/; --what-if
 * picks its switches), --bun-args starts bun with other flags. Any of them makes it a what-if run, which writes
 * its own block of RESULTS.md (payments-what-if), never the measured code's.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { openDatabase } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import { totpCode, totpStep } from "../src/identity/secrets";
import {
  api,
  codeIn,
  type HttpUser,
  runCli,
  type ServerProcess,
  signInOverHttp,
  startServer,
} from "../tests/support/server-process";
import { parseFlags } from "./support/flags";
import { type PhaseLoad, quietCheck, watchPhase } from "./support/load";
import { describeMachine } from "./support/machine";
import { type PgbenchResult, pgbenchRun } from "./support/pgbench";
import {
  DEFAULT_PG_LOG,
  type LoggedErrors,
  type LoggedStatement,
  loggedErrors,
  loggedPlans,
  loggedStatements,
  logLinesSince,
  logOffset,
} from "./support/pglog";
import { processMemory, watchProcessCpu } from "./support/proc";
import { fmt, percentile, writeResultsBlock } from "./support/results";
import { mean, openBenchRun } from "./support/run";

const SHAPES = ["uniform", "hot-vendor", "mixed"] as const;
type ShapeName = (typeof SHAPES)[number];

const SHAPE_INFO: Record<ShapeName, { label: string; target: number; describe: string }> = {
  uniform: { label: "uniform", target: 0.3, describe: "random user (of N) pays a random vendor (of M)" },
  "hot-vendor": { label: "one hot vendor", target: 0.2, describe: "random user pays one vendor" },
  mixed: {
    label: "mixed day",
    target: 0,
    describe:
      "requests/s of a day's mix: 60% vendor payments, 20% P2P transfers, 5% partner deposits, 2.5% airtime, 2.5% withdrawals, 10% balance and history reads",
  },
};

/** A phase with more than this much CPU used by other processes is flagged as disturbed. */
const DISTURBED_CORES = 0.15;
const LATENCY_P99_TARGET_MS = 50;
const RSS_TARGET_MIB = 256;
const PIN = "4729";
const PASSWORD = "Bench!pw-0123456789abcdef";

interface Options {
  duration: number;
  warmup: number;
  prime: number;
  concurrency: number;
  users: number;
  vendors: number;
  pool: number;
  shapes: ShapeName[];
  latency: boolean;
  latencyFraction: number;
  pgbench: boolean;
  pgbenchScale: number;
  ceiling: boolean;
  statements: boolean;
  write: boolean;
  keep: boolean;
  results: string;
  sql: string | undefined;
  entry: string | undefined;
  /** BENCH_WHAT_IF for bench/what-if/server.ts: which prototyped changes to switch on. */
  whatIf: string | undefined;
  /** Flags for bun when starting the server (e.g. --smol). */
  bunArgs: string[];
  /** Extra environment for the server (KEY=VALUE,…), e.g. KESHLESS_HOT_ACCOUNT_SHARDS=64. */
  serverEnv: Record<string, string>;
  pgLog: string;
  /** Directory for a CPU profile of the server process (markdown), written when it stops. */
  cpuProf: string | undefined;
  adminUrl: string;
}

const FLAGS = [
  "duration",
  "warmup",
  "prime",
  "concurrency",
  "users",
  "vendors",
  "pool",
  "shapes",
  "latency-fraction",
  "no-latency",
  "pgbench-scale",
  "no-pgbench",
  "no-ceiling",
  "no-statements",
  "no-write",
  "keep",
  "results",
  "sql",
  "entry",
  "what-if",
  "bun-args",
  "server-env",
  "pg-log",
  "cpu-prof",
  "admin-url",
];

function parseOptions(args: string[]): Options {
  const { flags, num } = parseFlags("payments", args, FLAGS);
  const shapes = (flags.get("shapes") ?? SHAPES.join(",")).split(",").map((s) => s.trim()) as ShapeName[];
  for (const s of shapes) if (!SHAPES.includes(s)) throw new Error(`bench payments: unknown shape ${s}`);
  const concurrency = num("concurrency", 16, 1);
  return {
    duration: num("duration", 12, 1),
    warmup: num("warmup", 1, 0),
    prime: num("prime", 3, 0),
    concurrency,
    users: num("users", 2000, 2),
    vendors: num("vendors", 500, 1),
    pool: num("pool", 16, 1),
    shapes,
    latency: !flags.has("no-latency"),
    latencyFraction: num("latency-fraction", 0.5, 0.01),
    pgbench: !flags.has("no-pgbench"),
    pgbenchScale: num("pgbench-scale", Math.max(16, concurrency), 1),
    ceiling: !flags.has("no-ceiling"),
    statements: !flags.has("no-statements"),
    write: !flags.has("no-write"),
    keep: flags.has("keep"),
    results: flags.get("results") ?? fileURLToPath(new URL("./RESULTS.md", import.meta.url)),
    sql: flags.get("sql"),
    entry: flags.get("entry"),
    whatIf: flags.get("what-if"),
    bunArgs: (flags.get("bun-args") ?? "").split(/\s+/).filter(Boolean),
    serverEnv: Object.fromEntries(
      (flags.get("server-env") ?? "")
        .split(",")
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
    ),
    pgLog: flags.get("pg-log") ?? DEFAULT_PG_LOG,
    cpuProf: flags.get("cpu-prof"),
    adminUrl:
      flags.get("admin-url") ??
      process.env.BENCH_DATABASE_URL ??
      process.env.DATABASE_URL ??
      "postgres://postgres@127.0.0.1:5432/postgres",
  };
}

const log = (...parts: unknown[]) => console.error("[bench:payments]", ...parts);
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapConcurrent<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

// ── fixture ─────────────────────────────────────────────────────────────────────────────────────

interface Fixture {
  users: HttpUser[];
  vendorCodes: string[];
  hotVendorCode: string;
  /** The bench partner's API key (the mixed day's deposits). */
  partnerKey: string;
}

/** E100,000 per wallet: no phase can drain a payer, so INSUFFICIENT_FUNDS would mean a bug. */
const WALLET_FUNDING = 10_000_000;

/** Eswatini numbers, unique per role: users +26876 1xxxxx, vendors +26878 1xxxxx (never ending in the PIN). */
const userPhone = (i: number) => `+26876${String(100_000 + i)}`;
const vendorPhone = (i: number) => `+26878${String(100_000 + i)}`;

async function buildFixture(server: ServerProcess, env: Record<string, string>, o: Options): Promise<Fixture> {
  const [partner, admin] = await Promise.all([
    // Its float covers every wallet's funding twice (a partner's funding limit caps what it may deposit): once for
    // setup, and the mixed day's deposits.
    runCli(["partner:create", "--name", "Bench Bank", "--funding-limit", String(2 * o.users * WALLET_FUNDING)], env),
    runCli(
      ["admin:create", "--email", "bench-admin@example.com", "--password", PASSWORD, "--role", "super_admin"],
      env,
    ),
  ]);
  if (partner.code !== 0 || admin.code !== 0)
    throw new Error(`setup CLI failed: ${partner.stdout}${partner.stderr} ${admin.stdout}${admin.stderr}`);
  const login = await api(server.url, "POST", "/admin/v1/auth/login", {
    body: {
      email: "bench-admin@example.com",
      password: PASSWORD,
      totp: totpCode(admin.json.totpSecret, totpStep(new Date())),
    },
  });
  if (login.status !== 200) throw new Error(`admin sign-in: ${login.status} ${JSON.stringify(login.json)}`);

  const vendorCodes = await mapConcurrent(Array.from({ length: o.vendors + 1 }), 8, async (_, i) => {
    const create = () =>
      api(server.url, "POST", "/admin/v1/vendors", {
        token: login.json.accessToken,
        body: { name: `Stall ${i}`, email: `stall-${i}@bench.example.com`, password: PASSWORD, phone: vendorPhone(i) },
      });
    // A creation that lost a serialization race is 503 with nothing changed: an admin would try again.
    let res = await create();
    for (let attempt = 0; attempt < 5 && res.status === 503; attempt++) {
      await Bun.sleep(50 * (attempt + 1));
      res = await create();
    }
    if (res.status !== 201) throw new Error(`POST /admin/v1/vendors: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json.code as string;
  });
  const hotVendorCode = vendorCodes.pop()!;

  // From the dev outbox, as a developer reads it: the table holds a pending code sealed (README, Security).
  const readCode = async (phone: string) =>
    codeIn((await api(server.url, "GET", `/dev/outbox?to=${encodeURIComponent(phone)}&limit=1`)).json?.data?.[0]?.body);
  const users = await mapConcurrent(Array.from({ length: o.users }), 8, (_, i) =>
    signInOverHttp(server.url, userPhone(i), PIN, readCode),
  );

  await mapConcurrent(users, 8, async (user) => {
    const deposit = () =>
      api(server.url, "POST", "/partner/v1/deposits", {
        headers: { "x-api-key": partner.json.apiKey, "idempotency-key": `fund-${user.id}` },
        body: { phone: user.phone, amount: WALLET_FUNDING, currency: "SZL", externalReference: `fund-${user.id}` },
      });
    // Every funding deposit debits the one partner's float: eight at once can lose their serialization retries
    // (503 with Retry-After, nothing changed). A partner retries with the same Idempotency-Key; so does setup.
    let res = await deposit();
    for (let i = 0; i < 10 && res.status === 503; i++) {
      await Bun.sleep(50 + Math.random() * 200);
      res = await deposit();
    }
    if (res.status !== 201) throw new Error(`funding deposit: ${res.status} ${JSON.stringify(res.json)}`);
  });
  return { users, vendorCodes, hotVendorCode, partnerKey: partner.json.apiKey };
}

// ── load ────────────────────────────────────────────────────────────────────────────────────────

interface Attempt {
  status: number;
  ms: number;
  error?: string;
  /** The mixed day's request kind. */
  kind?: MixedKind;
}

let keySeq = 0;
const runTag = randomBytes(3).toString("hex");

/** One request as an app, a partner or a gateway sends it: every money POST with its own Idempotency-Key. */
async function send(
  url: string,
  request: { method: "GET" | "POST"; path: string; headers: Record<string, string>; body?: unknown },
  started: number,
): Promise<Attempt> {
  try {
    const res = await fetch(`${url}${request.path}`, {
      method: request.method,
      headers: {
        ...request.headers,
        ...(request.method === "POST"
          ? { "content-type": "application/json", "idempotency-key": `bench-${runTag}-${++keySeq}` }
          : {}),
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    });
    const text = await res.text();
    const ms = performance.now() - started;
    if (res.status >= 200 && res.status < 300) return { status: res.status, ms };
    let code = "";
    try {
      code = JSON.parse(text).error.code;
    } catch {
      code = text.slice(0, 60);
    }
    return { status: res.status, ms, error: `${res.status} ${code}` };
  } catch (error) {
    return { status: 0, ms: performance.now() - started, error: `network: ${(error as Error).name}` };
  }
}

const smallAmount = () => 100 + Math.floor(Math.random() * 901);
const bearer = (user: HttpUser) => ({ authorization: `Bearer ${user.accessToken}` });

/** One payment as the app sends it: its own Idempotency-Key, the PIN, the vendor's code. */
function pay(url: string, user: HttpUser, vendorCode: string, started = performance.now()): Promise<Attempt> {
  const body = { vendorCode, amount: smallAmount(), currency: "SZL", pin: user.pin };
  return send(url, { method: "POST", path: "/v1/payments", headers: bearer(user), body }, started);
}

type MixedKind = "payment" | "transfer" | "deposit" | "airtime" | "withdrawal" | "balance" | "history";

/** The mixed day's weights (per 1,000 requests). */
const MIXED_WEIGHTS: [MixedKind, number][] = [
  ["payment", 600],
  ["transfer", 200],
  ["deposit", 50],
  ["airtime", 25],
  ["withdrawal", 25],
  ["balance", 50],
  ["history", 50],
];

function pickKind(): MixedKind {
  let r = Math.random() * 1000;
  for (const [kind, weight] of MIXED_WEIGHTS) {
    r -= weight;
    if (r < 0) return kind;
  }
  return "payment";
}

/**
 * One request of the mixed day: amounts of E1–E10 (a withdrawal E10–E20, under the auto-approval limit), so no
 * wallet funded with E100,000 runs dry and no tier limit is reached in a run: any refusal is a failure.
 */
async function mixedRequest(f: Fixture, url: string, started: number): Promise<Attempt> {
  const kind = pickKind();
  const user = pick(f.users);
  const amount = smallAmount();
  const asUser = (path: string, body?: unknown): Parameters<typeof send>[1] => ({
    method: body === undefined ? "GET" : "POST",
    path,
    headers: bearer(user),
    body,
  });
  const money = { amount, currency: "SZL", pin: user.pin };
  const request = (() => {
    switch (kind) {
      case "payment":
        return asUser("/v1/payments", { vendorCode: pick(f.vendorCodes), ...money });
      case "transfer": {
        let to = pick(f.users);
        while (to === user) to = pick(f.users);
        return asUser("/v1/transfers", { toPhone: to.phone, ...money });
      }
      case "deposit":
        return {
          method: "POST",
          path: "/partner/v1/deposits",
          headers: { "x-api-key": f.partnerKey },
          body: { phone: user.phone, amount, currency: "SZL", externalReference: `mix-${runTag}-${keySeq + 1}` },
        } as const;
      case "airtime":
        return asUser("/v1/airtime", { msisdn: user.phone, ...money });
      case "withdrawal":
        return asUser("/v1/withdrawals", {
          ...money,
          amount: 1_000 + amount,
          destination: { type: "agent", agentCode: "AG1042" },
        });
      case "balance":
        return asUser("/v1/wallet");
      case "history":
        return asUser("/v1/wallet/transactions?limit=20");
    }
  })();
  return { ...(await send(url, request, started)), kind };
}

function attemptOf(shape: ShapeName, f: Fixture, url: string, started: number): Promise<Attempt> {
  if (shape === "mixed") return mixedRequest(f, url, started);
  return pay(url, pick(f.users), shape === "hot-vendor" ? f.hotVendorCode : pick(f.vendorCodes), started);
}

interface PhaseResult {
  name: string;
  label: string;
  describe: string;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  tps: number;
  /** Open-loop phases: the arrival rate asked for, and arrivals dropped because too many were in flight. */
  offeredRate?: number;
  dropped?: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Cores' worth of CPU: the bench (load generator) process, and the server process. */
  clientCpu: number;
  appCpu: number;
  rssMiB: number;
  peakMiB: number;
  load: PhaseLoad;
  errors: LoggedErrors;
  /** The mixed day: answered requests and latency per kind. */
  kinds?: Record<string, { ok: number; p50: number; p99: number }>;
  /** pg_stat_database for the bench database over the phase, per committed payment. */
  xactsPerPayment: number;
  rollbacksPerPayment: number;
  /** WAL written per committed payment (pg_stat_wal, whole server). */
  walBytesPerPayment: number;
  walRecordsPerPayment: number;
  /** notification_outbox rows still pending at the end of the phase (the delivery worker's backlog). */
  outboxBacklog: number;
}

interface PhaseContext {
  o: Options;
  server: ServerProcess;
  fixture: Fixture;
  admin: postgres.Sql;
  db: postgres.Sql;
  ours: string[];
  benchDb: string;
}

/** This database's transaction counters, and the server's WAL counters (cluster-wide: other databases' writes count too). */
async function dbStats(db: postgres.Sql, name: string) {
  const [row] = await db<{ commits: string; rollbacks: string; wal_bytes: string; wal_records: string }[]>`
    select d.xact_commit::text as commits, d.xact_rollback::text as rollbacks,
           w.wal_bytes::text as wal_bytes, w.wal_records::text as wal_records
      from pg_stat_database d, pg_stat_wal w where d.datname = ${name}`;
  return {
    commits: Number(row?.commits ?? 0),
    rollbacks: Number(row?.rollbacks ?? 0),
    walBytes: Number(row?.wal_bytes ?? Number.NaN),
    walRecords: Number(row?.wal_records ?? Number.NaN),
  };
}

/** Starts everything a phase reports besides the requests themselves; `finish` collects it. */
async function measure(ctx: PhaseContext) {
  const stopLoad = watchPhase(ctx.admin, ctx.ours);
  const appCpu = watchProcessCpu(ctx.server.pid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const offset = logOffset(ctx.o.pgLog);
  const stats0 = await dbStats(ctx.admin, ctx.benchDb);
  return async (committed: number) => {
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const app = appCpu();
    const load = await stopLoad([ctx.server.pid]);
    const memory = processMemory(ctx.server.pid);
    // Backends report their counters when they go idle, at most once a second.
    await Bun.sleep(1100);
    const stats1 = await dbStats(ctx.admin, ctx.benchDb);
    const errors =
      offset === undefined
        ? { byKind: {}, byPlace: [], total: Number.NaN }
        : loggedErrors(logLinesSince(ctx.o.pgLog, offset, ctx.benchDb));
    const [backlog] = await ctx.db<{ n: number }[]>`
      select count(*)::int as n from notification_outbox where status = 'pending'`;
    return {
      clientCpu: (cpu.user + cpu.system) / 1e6 / seconds,
      appCpu: app,
      rssMiB: memory.rssMiB,
      peakMiB: memory.peakMiB,
      load,
      errors,
      xactsPerPayment: (stats1.commits - stats0.commits) / committed,
      rollbacksPerPayment: (stats1.rollbacks - stats0.rollbacks) / committed,
      walBytesPerPayment: (stats1.walBytes - stats0.walBytes) / committed,
      walRecordsPerPayment: (stats1.walRecords - stats0.walRecords) / committed,
      outboxBacklog: backlog?.n ?? Number.NaN,
    };
  };
}

function summarise(latencies: number[]) {
  const sorted = Float64Array.from(latencies).sort();
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/**
 * Closed loop: `concurrency` clients pay back to back for warmup + duration seconds. Payments that complete
 * inside the measured window count; every failure after the warmup counts, whenever it ends.
 */
async function closedLoop(ctx: PhaseContext, shape: ShapeName, warmup: number, duration: number, measured = true) {
  const latencies: number[] = [];
  const byKind: Record<string, number[]> = {};
  const failures: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  const measureFrom = performance.now() + warmup * 1000;
  const end = measureFrom + duration * 1000;
  let finish: ((committed: number) => ReturnType<Awaited<ReturnType<typeof measure>>>) | undefined;
  let measuring: Promise<void> | undefined;
  const begin = () => {
    measuring ??= measure(ctx).then((f) => {
      finish = f;
    });
  };
  await Promise.all(
    Array.from({ length: ctx.o.concurrency }, async () => {
      for (;;) {
        const t0 = performance.now();
        if (t0 >= end) return;
        if (measured && t0 >= measureFrom) begin();
        const a = await attemptOf(shape, ctx.fixture, ctx.server.url, t0);
        const t1 = performance.now();
        if (a.status >= 200 && a.status < 300) {
          if (t0 >= measureFrom && t1 <= end) {
            ok++;
            latencies.push(a.ms);
            if (a.kind) {
              const kind = byKind[a.kind] ?? [];
              kind.push(a.ms);
              byKind[a.kind] = kind;
            }
          }
        } else {
          // A failure in the warmup is never excused as warmup: it counts too.
          failed++;
          failures[a.error!] = (failures[a.error!] ?? 0) + 1;
        }
      }
    }),
  );
  if (!measured) return undefined;
  begin();
  await measuring;
  const extra = await finish!(ok);
  const info = SHAPE_INFO[shape];
  return {
    name: shape,
    label: info.label,
    describe: info.describe,
    ok,
    failed,
    failures,
    tps: ok / duration,
    ...summarise(latencies),
    ...extra,
    ...(shape === "mixed"
      ? {
          kinds: Object.fromEntries(
            Object.entries(byKind).map(([kind, ms]) => {
              const { p50, p99 } = summarise(ms);
              return [kind, { ok: ms.length, p50, p99 }];
            }),
          ),
        }
      : {}),
  } satisfies PhaseResult;
}

/**
 * Open loop: payments arrive at `rate` per second whatever the server does (each on its own connection
 * from the client's pool), and latency runs from when a payment was due, not when it could be sent —
 * so a stall shows up in the percentiles instead of silently slowing the arrivals.
 */
async function openLoop(ctx: PhaseContext, rate: number, duration: number): Promise<PhaseResult> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let failed = 0;
  let dropped = 0;
  let inFlight = 0;
  const cap = 512;
  const interval = 1000 / rate;
  const finish = await measure(ctx);
  const start = performance.now();
  const end = start + duration * 1000;
  const pending: Promise<void>[] = [];
  let sent = 0;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const due = Math.floor((now - start) / interval) + 1;
    while (sent < due) {
      const scheduled = start + sent * interval;
      sent++;
      if (inFlight >= cap) {
        dropped++;
        continue;
      }
      inFlight++;
      pending.push(
        attemptOf("uniform", ctx.fixture, ctx.server.url, scheduled).then((a) => {
          inFlight--;
          if (a.status === 201) {
            ok++;
            latencies.push(a.ms);
          } else {
            failed++;
            failures[a.error!] = (failures[a.error!] ?? 0) + 1;
          }
        }),
      );
    }
    await Bun.sleep(Math.max(0, start + sent * interval - performance.now()));
  }
  await Promise.all(pending);
  const extra = await finish(ok);
  return {
    name: "latency",
    label: `fixed rate (${Math.round(ctx.o.latencyFraction * 100)}% of uniform peak)`,
    describe: `uniform payments arriving at ${fmt.int(rate)}/s, open loop`,
    ok,
    failed: failed + dropped,
    failures: dropped ? { ...failures, [`dropped (> ${cap} in flight)`]: dropped } : failures,
    tps: ok / duration,
    offeredRate: rate,
    dropped,
    ...summarise(latencies),
    ...extra,
  };
}

// ── in-database ceiling ─────────────────────────────────────────────────────────────────────────

const CEILING_SQL = fileURLToPath(new URL("./sql/payments-ceiling.sql", import.meta.url));

/** The group-committed ceiling row: this many statements at once, each writing this many payments. */
const CEILING_BATCH = { clients: 4, items: 4 };

/**
 * What pgbench runs for each ceiling row, one statement per transaction: the whole payment (alone, and
 * group-committed as the fast lane writes it: payments_execute_batch, drizzle/0021), its ledger part, and the
 * payload alone (what the others pay to build their argument, to correct them for it).
 */
const CEILING_ROWS = [
  {
    name: "payment",
    label: "whole payment",
    statement: "select payments_execute(bench_ceiling_payload(:n))",
    describe: "usage counters, ledger journal (3 legs), transaction row, 2 notifications, idempotency key",
  },
  {
    name: "batch",
    label: `whole payment, group-committed (${CEILING_BATCH.clients} statements at once × ${CEILING_BATCH.items} payments; tx/s counts payments)`,
    statement: `select payments_execute_batch(jsonb_build_array(${Array.from(
      { length: CEILING_BATCH.items },
      (_, i) => `bench_ceiling_payload(:n${i + 1})`,
    ).join(", ")}))`,
    describe: `the same, for ${CEILING_BATCH.items} payments per transaction, each in its own subtransaction`,
    items: CEILING_BATCH.items,
    clients: CEILING_BATCH.clients,
  },
  {
    name: "ledger",
    label: "ledger part",
    statement: "select ledger_transfer(bench_ceiling_payload(:n) -> 'transfer')",
    describe: "the journal, its 3 entries and balance updates only",
  },
  {
    name: "payload",
    label: "payload only",
    statement: "select bench_ceiling_payload(:n) is not null",
    describe: "building the payload (one primary-key read), writing nothing",
  },
] as const;

interface CeilingRow {
  name: (typeof CEILING_ROWS)[number]["name"];
  /** Payments per transaction (the group-committed row), and its pgbench clients. */
  items?: number;
  clients?: number;
  label: string;
  statement: string;
  describe: string;
  result?: PgbenchResult;
  /** WAL written per transaction (pg_stat_wal, whole server). */
  walBytesPerTx: number;
  error?: string;
}

/** The line of a failed pgbench run's message that says why (pgbench's error, not the command), for a table cell. */
function whyFailed(message: string): string {
  const lines = message.split("\n");
  const why = lines.find((l) => /error|abort/i.test(l) && !l.startsWith("pgbench ")) ?? lines[0] ?? "";
  return why.slice(0, 200).replace(/\|/g, "\\|").replace(/`/g, "'");
}

interface Ceiling {
  /** Rows of bench_ceiling_parties: users with a wallet, each paired with a vendor. */
  parties: number;
  rows: CeilingRow[];
}

/**
 * The in-database ceiling: with the server stopped, pgbench runs a payment's database work on the bench
 * database itself (its real users, vendors, wallets and fee account) at the bench's concurrency, under the
 * same settings as the anchor. A row that fails is reported as such; it never fails the run.
 */
async function ceilingPhase(
  admin: postgres.Sql,
  db: postgres.Sql,
  benchDb: string,
  ours: string[],
  o: Options,
  dir: string,
  anchor: number,
): Promise<Ceiling | undefined> {
  await db.unsafe(readFileSync(CEILING_SQL, "utf8"));
  const [{ parties } = { parties: 0 }] = await db<{ parties: number }[]>`
    select count(*)::int as parties from bench_ceiling_parties`;
  if (parties === 0) {
    log("  skipped: no user with a wallet, vendor with a wallet and fee account to pay between");
    return undefined;
  }
  const [{ since } = { since: new Date() }] = await db<{ since: Date }[]>`select now() as since`;
  const rows: CeilingRow[] = [];
  for (const row of CEILING_ROWS) {
    const script = join(dir, `ceiling-${row.name}.sql`);
    const items = "items" in row ? row.items : 1;
    const variables = Array.from(
      { length: items },
      (_, i) => `\\set n${items > 1 ? i + 1 : ""} random(1, ${parties})\n`,
    );
    writeFileSync(script, `${variables.join("")}${row.statement};\n`);
    const out: CeilingRow = { ...row, walBytesPerTx: Number.NaN };
    rows.push(out);
    try {
      const wal0 = await dbStats(admin, benchDb);
      const run = await pgbenchRun(
        row.label,
        {
          adminUrl: o.adminUrl,
          database: benchDb,
          clients: "clients" in row ? row.clients : o.concurrency,
          threads: 2,
          seconds: o.duration,
          maxTries: 20,
          script,
        },
        admin,
        ours,
      );
      // The group-committed row counts payments: each of its transactions writes `items` of them.
      const p = { ...run, tps: run.tps * items, processed: run.processed * items };
      out.result = p;
      out.walBytesPerTx = ((await dbStats(admin, benchDb)).walBytes - wal0.walBytes) / p.processed;
      log(
        `  ${row.label}: ${fmt.int(p.tps)} tx/s (× ${fmt.two(p.tps / anchor)} pgbench -N), PG ${fmt.two(p.load.serverCpu)} cores = ${perTx(p.load.serverCpu, p.tps)} µs/tx, ` +
          `pgbench ${fmt.two(p.clientCpu)} cores, failed ${p.failed}, retries ${p.retries}, WAL ${fmt.int(out.walBytesPerTx)} B/tx, other ${fmt.two(p.load.otherCpu)}`,
      );
    } catch (error) {
      out.error = (error as Error).message;
      log(`  ${row.label}: failed: ${out.error.slice(0, 2000)}`);
    }
  }
  // No server delivers the ceiling's notifications: they would be the next server's backlog (the statement count's).
  await db`delete from notification_outbox where status = 'pending' and created_at >= ${since}`;
  return { parties, rows };
}

// ── statement count ─────────────────────────────────────────────────────────────────────────────

interface StatementCount {
  payments: number;
  /** Per payment: each statement's count and server ms (the delivery worker's statements included). */
  perPayment: LoggedStatement[];
  total: number;
  totalMs: number;
  /** auto_explain, nested: every statement the payment ran inside functions and triggers, per payment (inclusive ms). */
  nested: LoggedStatement[];
}

/**
 * A throwaway server on the same database with `log_min_duration_statement = 0` (a database setting, so every
 * connection of the new process logs each statement with its server time): `n` sequential payments after warming the process's caches,
 * and the notification worker's work for them, then everything logged for the database, per payment.
 */
async function countStatements(
  admin: postgres.Sql,
  benchDb: string,
  env: Record<string, string>,
  o: Options,
  fixture: Fixture,
  n = 50,
): Promise<StatementCount | undefined> {
  if (logOffset(o.pgLog) === undefined) return undefined;
  const settings = {
    log_min_duration_statement: "0",
    session_preload_libraries: "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_nested_statements": "on",
    "auto_explain.log_format": "json",
  };
  for (const [name, value] of Object.entries(settings))
    await admin.unsafe(`alter database ${benchDb} set ${name} = '${value}'`);
  const server = await startServer({ env, ...(o.entry ? { entry: o.entry } : {}), bunArgs: o.bunArgs });
  try {
    const users = fixture.users.slice(0, 10);
    const vendors = fixture.vendorCodes.slice(0, 10);
    for (let i = 0; i < 100; i++) await pay(server.url, users[i % users.length]!, vendors[i % vendors.length]!);
    await Bun.sleep(1500); // the worker delivers the warm-up's notifications outside the count
    const offset = logOffset(o.pgLog)!;
    for (let i = 0; i < n; i++) {
      const a = await pay(server.url, users[i % users.length]!, vendors[(i * 3) % vendors.length]!);
      if (a.status !== 201) throw new Error(`statement count: payment failed ${a.error}`);
    }
    await Bun.sleep(1500);
    const lines = logLinesSince(o.pgLog, offset, benchDb);
    const statements = loggedStatements(lines);
    return {
      nested: loggedPlans(lines).map((s) => ({ ...s, count: s.count / n, ms: s.ms / n })),
      payments: n,
      perPayment: statements.map((s) => ({ ...s, count: s.count / n, ms: s.ms / n })),
      total: statements.reduce((sum, s) => sum + s.count, 0) / n,
      totalMs: statements.reduce((sum, s) => sum + s.ms, 0) / n,
    };
  } finally {
    await server.stop();
    for (const name of Object.keys(settings)) await admin.unsafe(`alter database ${benchDb} reset ${name}`);
  }
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────

interface RunReport {
  date: string;
  machine: { cpus: number; ramGiB: number; os: string; postgres: string; bun: string };
  settings: Record<string, string>;
  options: Options;
  quiet: PhaseLoad;
  setupSeconds: number;
  setupPeakMiB: number;
  pgbench: PgbenchResult[];
  /** WAL bytes per pgbench transaction, per pgbench run. */
  pgbenchWal: number[];
  anchor: number;
  phases: PhaseResult[];
  verify: { ok: boolean; journals: number; accounts: number; problems: number };
  ceiling: Ceiling | undefined;
  statements: StatementCount | undefined;
  peakMiB: number;
  seconds: number;
}

/** The flags that make a run a what-if, as typed. */
const whatIfFlags = (o: Options) =>
  [
    o.sql && `--sql=${o.sql}`,
    o.entry && `--entry=${o.entry}`,
    o.whatIf && `--what-if=${o.whatIf}`,
    o.bunArgs.length && `--bun-args=${o.bunArgs.join(" ")}`,
    Object.keys(o.serverEnv).length &&
      `--server-env=${Object.entries(o.serverEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")}`,
  ]
    .filter(Boolean)
    .join(" ");

const disturbed = (l: PhaseLoad) => l.otherCpu > DISTURBED_CORES || l.otherBackends > 0;
const reportOnly = (p: PhaseResult) => p.name === "mixed";
const phaseTarget = (p: PhaseResult) =>
  p.name === "latency"
    ? `p99 < ${LATENCY_P99_TARGET_MS} ms`
    : reportOnly(p)
      ? "report"
      : `≥ ${SHAPE_INFO[p.name as ShapeName].target}`;
function passes(p: PhaseResult, anchor: number): boolean {
  if (p.failed > 0) return false;
  if (reportOnly(p)) return true;
  if (p.name === "latency") return p.p99 < LATENCY_P99_TARGET_MS;
  return anchor > 0 && p.tps / anchor >= SHAPE_INFO[p.name as ShapeName].target;
}
const perTx = (cores: number, tps: number) => fmt.int((cores * 1e6) / tps);

function renderMarkdown(r: RunReport): string {
  const m = r.machine;
  const o = r.options;
  const whatIf = whatIfFlags(o);
  const out: string[] = [];
  out.push(`### Payments — run of ${r.date}${whatIf ? ` — WHAT-IF with ${whatIf}` : ""}`);
  out.push("");
  out.push(
    `Machine: ${m.cpus} CPUs (\`nproc\`), ${m.ramGiB} GiB RAM, ${m.os}; ${m.postgres}; Bun ${m.bun}. ` +
      `Postgres settings (SHOW, unchanged): ${Object.entries(r.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}.`,
  );
  out.push(
    `Run: the server process (\`bun ${[...o.bunArgs, o.entry ?? "src/index.ts"].join(" ")}\`${o.whatIf ? ` with BENCH_WHAT_IF=${o.whatIf}` : ""}, LOG_LEVEL=warn, KESHLESS_DB_POOL_MAX=${o.pool}, default fees, ${o.serverEnv.KESHLESS_HOT_ACCOUNT_SHARDS ?? 32} shards per vendor wallet and system account, notification worker on in dev-outbox mode) on a fresh database; ` +
      `${o.concurrency} concurrent HTTP clients in one Bun process / ${o.concurrency} pgbench clients; ${o.users} users (OTP sign-in, PIN, funded by partner deposits) and ${o.vendors} vendors + 1 hot vendor, set up over HTTP in ${Math.round(r.setupSeconds)} s by a server process that was then restarted (its peak RSS: ${fmt.int(r.setupPeakMiB)} MiB), so the measured process starts clean with cold caches; ` +
      `${o.duration} s measured per row (after ${o.prime} s of unmeasured uniform traffic once, and ${o.warmup} s of warmup per closed-loop row); whole run ${Math.round(r.seconds)} s. ` +
      `Bench, server, pgbench and Postgres share the same ${m.cpus} cores. Before measuring, other processes used ${fmt.two(r.quiet.otherCpu)} cores.`,
  );
  out.push("");
  out.push(
    "| workload | payments/s | × pgbench -N | target | pass | committed | failed | p50 ms | p95 ms | p99 ms | max ms | server RSS MiB (end / peak) | client CPU | server (Bun) CPU | Postgres CPU | Bun + Postgres µs/payment | DB xacts / payment | WAL bytes / payment (records) | 40001 in PG log | outbox backlog | machine busy | other CPU | other DB sessions |",
  );
  out.push("|---|--:|--:|--:|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
  for (const [i, p] of r.pgbench.entries()) {
    out.push(
      `| \`pgbench -N\` ${p.label} (SERIALIZABLE, -c ${o.concurrency} -j 2, -s ${o.pgbenchScale}, --max-tries=20) | ${fmt.int(p.tps)} | ${fmt.two(p.tps / r.anchor)} | anchor | | ${fmt.int(p.processed)} | ${p.failed} | avg ${fmt.two(p.latencyAvgMs)} | | | | | ${fmt.two(p.clientCpu)} | | ${fmt.two(p.load.serverCpu)} | ${perTx(p.load.serverCpu, p.tps)} (PG) | | ${fmt.int(r.pgbenchWal[i] ?? Number.NaN)} | ${p.retries} retries | | ${fmt.pct(p.load.machineCpu)} | ${fmt.two(p.load.otherCpu)}${disturbed(p.load) ? " ⚠" : ""} | ${p.load.otherBackends} |`,
    );
  }
  for (const p of r.phases) {
    const failures = p.failed
      ? ` (${Object.entries(p.failures)
          .map(([k, v]) => `${k}×${v}`)
          .join(", ")})`
      : "";
    const serial = Object.entries(p.errors.byKind)
      .map(([k, v]) => `${v} ${k.replace(/^40001 /, "")}`)
      .join(", ");
    out.push(
      `| ${p.label}: ${p.describe} | ${fmt.int(p.tps)} | ${fmt.two(p.tps / r.anchor)} | ${phaseTarget(p)} | ${reportOnly(p) && !p.failed ? "—" : passes(p, r.anchor) ? "yes" : "**no**"} | ${fmt.int(p.ok)} | ${p.failed}${failures} | ${fmt.two(p.p50)} | ${fmt.two(p.p95)} | ${fmt.two(p.p99)} | ${fmt.one(p.max)} | ${fmt.int(p.rssMiB)} / ${fmt.int(p.peakMiB)} | ${fmt.two(p.clientCpu)} | ${fmt.two(p.appCpu)} | ${fmt.two(p.load.serverCpu)} | ${perTx(p.appCpu, p.tps)} + ${perTx(p.load.serverCpu, p.tps)} | ${fmt.one(p.xactsPerPayment)} | ${fmt.int(p.walBytesPerPayment)} (${fmt.one(p.walRecordsPerPayment)}) | ${Number.isFinite(p.errors.total) ? serial || "0" : "—"} | ${fmt.int(p.outboxBacklog)} | ${fmt.pct(p.load.machineCpu)} | ${fmt.two(p.load.otherCpu)}${disturbed(p.load) ? " ⚠" : ""} | ${p.load.otherBackends} |`,
    );
  }
  out.push("");
  out.push(
    `Anchor: ${fmt.int(r.anchor)} tx/s, the mean of the pgbench runs. Server peak RSS (VmHWM, every measured phase): ${fmt.int(r.peakMiB)} MiB (target < ${RSS_TARGET_MIB}: ${r.peakMiB < RSS_TARGET_MIB ? "yes" : "**no**"}). ` +
      `\`bun run cli ledger:verify\` after the run: ${r.verify.ok ? "**ok**" : `**FAILED** (${r.verify.problems} problems)`} (${fmt.int(r.verify.journals)} journals, ${fmt.int(r.verify.accounts)} accounts).`,
  );
  out.push(
    "payments/s counts 201s per measured second (the mixed day: 2xx answers of every kind, reads included); failed = any other answer or none (HTTP status and error code). " +
      "Latency is the client's (closed loop: send → full response; fixed rate: due time → full response). " +
      "Client CPU: the bench process (HTTP load generator). Server (Bun) CPU: the server process (/proc/<pid>/stat). " +
      "Postgres CPU: the Postgres server for this run (our databases' backends and the server's own processes). " +
      "DB xacts / payment: pg_stat_database commits of the bench database per committed payment (every autocommit statement is one; includes the notification worker and other background loops). " +
      "WAL bytes / payment: pg_stat_wal over the phase per committed payment (the whole server's WAL; pgbench rows: per transaction). " +
      "40001 in PG log: serialization failures the server log shows for the bench database during the phase (each one a retried transaction). " +
      "Outbox backlog: notifications still pending when the phase ended. " +
      `Other CPU: cores used by processes that are not this run (⚠ above ${DISTURBED_CORES}: disturbed, rerun). Other DB sessions: most non-idle sessions seen at once in other databases.`,
  );
  for (const p of r.phases.filter((x) => x.kinds)) {
    const kinds = Object.entries(p.kinds!).sort((a, b) => b[1].ok - a[1].ok);
    const total = kinds.reduce((n, [, k]) => n + k.ok, 0);
    out.push("");
    out.push(
      `Mixed day, per kind (answered in the measured ${o.duration} s; share; p50 / p99 ms): ` +
        kinds
          .map(
            ([kind, k]) => `${kind} ${fmt.int(k.ok)} (${fmt.pct(k.ok / total)}; ${fmt.two(k.p50)} / ${fmt.two(k.p99)})`,
          )
          .join(", ") +
        `. Money movements: ${fmt.int(kinds.filter(([kind]) => kind !== "balance" && kind !== "history").reduce((n, [, k]) => n + k.ok, 0) / o.duration)}/s.`,
    );
  }
  if (r.ceiling) {
    const c = r.ceiling;
    const us = (name: CeilingRow["name"]) => {
      const p = c.rows.find((x) => x.name === name)?.result;
      return p ? (p.load.serverCpu * 1e6) / p.tps : Number.NaN;
    };
    const uniform = r.phases.find((p) => p.name === "uniform");
    out.push("");
    out.push("#### In-database ceiling (no HTTP, no Bun)");
    out.push("");
    out.push(
      `What Postgres alone does per second for a payment's database work: with the server stopped, pgbench runs it as one prepared statement per transaction on the bench database itself (${fmt.int(c.parties)} parties: real users and their wallets, each paired with a vendor's wallet, and the fee account; the payload as statementOf builds it with the default fee, no \`assume\`: bench/sql/payments-ceiling.sql), SERIALIZABLE, -c ${o.concurrency} -j 2, ${o.duration} s per row, --max-tries=20, beside the same run's pgbench -N anchor.`,
    );
    out.push("");
    out.push(
      "| row | statement (pgbench -M prepared) | what it writes | tx/s | × pgbench -N | Postgres CPU | Postgres µs/tx | pgbench CPU | failed | retries (tx retried) | WAL bytes / tx | latency avg ms | other CPU |",
    );
    out.push("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (const row of c.rows) {
      const p = row.result;
      const head = `| ${row.label} | \`${row.statement}\` | ${row.describe}`;
      if (!p) {
        out.push(`${head} | **failed**: ${whyFailed(row.error ?? "")} |${" |".repeat(9)}`);
        continue;
      }
      out.push(
        `${head} | ${fmt.int(p.tps)} | ${fmt.two(p.tps / r.anchor)} | ${fmt.two(p.load.serverCpu)} | ${perTx(p.load.serverCpu, p.tps)} | ${fmt.two(p.clientCpu)} | ${p.failed} | ${p.retries} (${p.retried}) | ${fmt.int(row.walBytesPerTx)} | ${fmt.two(p.latencyAvgMs)} | ${fmt.two(p.load.otherCpu)}${disturbed(p.load) ? " ⚠" : ""} |`,
      );
    }
    out.push("");
    out.push(
      `The payload row costs ${fmt.int(us("payload"))} µs of Postgres CPU per transaction (building the payload, plus one statement's round trip and commit); net of it, payments_execute itself costs ${fmt.int(us("payment") - us("payload"))} µs per call and ledger_transfer ${fmt.int(us("ledger") - us("payload"))} µs` +
        `${uniform ? `; through HTTP (uniform row) Postgres spent ${perTx(uniform.load.serverCpu, uniform.tps)} µs per payment` : ""}. ` +
        "Postgres CPU: the server's CPU for this run per wall second (cores); pgbench CPU: the load generator's (it shares the cores). Retries: pgbench's serialization-failure retries (transactions that needed one).",
    );
  }
  if (r.statements) {
    out.push("");
    out.push(
      `Statements per payment (throwaway phase, \`log_min_duration_statement = 0\` on the bench database, ${r.statements.payments} sequential payments after warming the process's caches; includes the notification worker's statements for their messages): **${fmt.one(r.statements.total)}**, ${fmt.two(r.statements.totalMs)} ms of server time (parse + bind + execute, one at a time: no contention).`,
    );
    out.push("");
    out.push("| per payment | server ms per payment | statement (first words) |");
    out.push("|--:|--:|---|");
    for (const s of r.statements.perPayment)
      out.push(`| ${fmt.two(s.count)} | ${fmt.two(s.ms)} | \`${s.text.replace(/\|/g, "\\|").replace(/`/g, "'")}\` |`);
  }
  if (r.statements?.nested.length) {
    out.push("");
    out.push(
      "Inside the database, per payment (same phase, `auto_explain` with nested statements: what the functions and triggers run; ms are inclusive — a function's line includes the statements below it; auto_explain's own timing inflates them):",
    );
    out.push("");
    out.push("| runs per payment | ms per payment (inclusive) | statement (first words) |");
    out.push("|--:|--:|---|");
    for (const s of r.statements.nested.slice(0, 30))
      out.push(`| ${fmt.two(s.count)} | ${fmt.two(s.ms)} | \`${s.text.replace(/\|/g, "\\|").replace(/`/g, "'")}\` |`);
  }
  const worst = r.phases.flatMap((p) => p.errors.byPlace.slice(0, 3).map(([place, n]) => `${p.label}: ${n}× ${place}`));
  if (worst.length) {
    out.push("");
    out.push("Where the serialization failures struck (PG log, top 3 per phase):");
    out.push("");
    for (const w of worst) out.push(`- ${w.replace(/`/g, "'")}`);
  }
  return out.join("\n");
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────

export async function run(args: string[]): Promise<{ ok: boolean }> {
  const o = parseOptions(args);
  const started = performance.now();
  const bench = openBenchRun(o, log);
  const { admin, benchDb, pgbenchDb, ours } = bench;
  const dataDir = mkdtempSync(join(os.tmpdir(), "keshless-bench-"));
  let db: postgres.Sql | undefined;
  let server: ServerProcess | undefined;

  try {
    const { machine, settings } = await describeMachine(admin);
    log(`machine ${JSON.stringify(machine)}; settings ${JSON.stringify(settings)}`);
    await bench.createDatabases();
    const url = bench.benchUrl;
    {
      const database = await openDatabase({ databaseUrl: url, poolMax: 1 });
      try {
        await migrate(database);
        if (o.sql) {
          log(`what-if: applying ${o.sql}`);
          await database.sql!.unsafe(readFileSync(o.sql, "utf8"));
        }
      } finally {
        await database.close();
      }
    }
    db = postgres(url, { max: 4, onnotice: () => {} });
    const env: Record<string, string> = {
      DATABASE_URL: url,
      KESHLESS_ENV: "development",
      KESHLESS_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      KESHLESS_DB_POOL_MAX: String(o.pool),
      KESHLESS_JOB_SECRET: randomBytes(24).toString("base64url"),
      KESHLESS_JWT_SECRET: randomBytes(48).toString("base64url"),
      KESHLESS_PIN_PEPPER: randomBytes(48).toString("base64url"),
      // Setup signs in thousands of users and creates hundreds of vendors from one address, quickly: the
      // per-address limits and the password hash cost are setup's, not a payment's (a payment hashes no password).
      KESHLESS_OTP_IP_PER_HOUR: "1000000",
      KESHLESS_AUTH_IP_PER_HOUR: "1000000",
      KESHLESS_PARTNER_KEY_RATE_PER_MINUTE: "1000000",
      KESHLESS_ARGON2_MEMORY_KIB: "4096",
      KESHLESS_ARGON2_TIME_COST: "1",
      KESHLESS_ACCESS_TOKEN_TTL: "3600",
      // Limits high enough that no phase runs into one: they are checked (and counted) all the same.
      KESHLESS_KYC_LIMITS: JSON.stringify({
        "0": { perTransaction: 1_000_000, daily: 1_000_000_000, monthly: 1_000_000_000, maxBalance: 1_000_000_000 },
      }),
      ...(o.whatIf ? { BENCH_WHAT_IF: o.whatIf } : {}),
      ...o.serverEnv,
    };
    server = await startServer({ env, ...(o.entry ? { entry: o.entry } : {}) });
    log(`setup server pid ${server.pid} on ${server.url} (${benchDb})`);
    const setupStarted = performance.now();
    const fixture = await buildFixture(server, env, o);
    // A running system holds a sanctions list; without one the sync loop downloads it (and screens every vendor)
    // within a minute of boot — in the middle of a measured phase.
    const synced = await fetch(`${server.url}/sanctions-jobs/sync`, {
      method: "POST",
      headers: { "x-job-secret": env.KESHLESS_JOB_SECRET! },
    });
    if (!synced.ok) throw new Error(`setup: the sanctions sync answered ${synced.status}: ${await synced.text()}`);
    await db.unsafe("analyze");
    const setupSeconds = (performance.now() - setupStarted) / 1000;
    const setupPeakMiB = processMemory(server.pid).peakMiB;
    // A fresh process for the measured phases: its peak RSS and CPU profile are the payments', not setup's
    // (thousands of sign-ins, hundreds of password hashes).
    await server.stop();
    server = await startServer({
      env,
      ...(o.entry ? { entry: o.entry } : {}),
      bunArgs: [...o.bunArgs, ...(o.cpuProf ? ["--cpu-prof-md", `--cpu-prof-dir=${o.cpuProf}`] : [])],
    });
    log(
      `setup: ${o.users} users, ${o.vendors} vendors in ${fmt.one(setupSeconds)} s (setup server peak RSS ${fmt.int(setupPeakMiB)} MiB); server pid ${server.pid}`,
    );

    const ctx: PhaseContext = { o, server, fixture, admin, db, ours, benchDb };
    const quiet = await quietCheck(admin, ours);
    if (disturbed(quiet))
      log(
        `warning: other processes are using ${fmt.two(quiet.otherCpu)} cores: numbers from this run may be disturbed`,
      );

    const pgbench: PgbenchResult[] = [];
    const pgbenchWal: number[] = [];
    const pgbenchPhase = async (label: string) => {
      const wal0 = await dbStats(admin, pgbenchDb);
      const p = await bench.anchor(label, o.concurrency, o.duration);
      pgbench.push(p);
      pgbenchWal.push(((await dbStats(admin, pgbenchDb)).walBytes - wal0.walBytes) / p.processed);
    };
    if (o.pgbench && !bench.interrupted) await pgbenchPhase("before");

    if (o.prime > 0 && !bench.interrupted) {
      log(`priming: ${o.prime} s of uniform traffic, not measured`);
      await closedLoop(ctx, "uniform", 0, o.prime, false);
    }
    const phases: PhaseResult[] = [];
    const report = (p: PhaseResult) => {
      if (p.failed && server)
        log(
          `  server said: ${server
            .output()
            .split("\n")
            .filter((l) => /"level":"(warn|error|fatal)"/.test(l))
            .slice(-3)
            .join("\n")
            .slice(0, 3000)}`,
        );
      log(
        `  ${fmt.int(p.tps)} payments/s, failed ${p.failed}${p.failed ? ` ${JSON.stringify(p.failures)}` : ""}, p50 ${fmt.two(p.p50)} ms, p99 ${fmt.two(p.p99)} ms, ` +
          `server ${fmt.two(p.appCpu)} + PG ${fmt.two(p.load.serverCpu)} + client ${fmt.two(p.clientCpu)} cores, other ${fmt.two(p.load.otherCpu)}, ` +
          `40001 ${p.errors.total}, xacts/payment ${fmt.one(p.xactsPerPayment)}, WAL ${fmt.int(p.walBytesPerPayment)} B/payment, RSS ${fmt.int(p.rssMiB)} MiB, backlog ${p.outboxBacklog}`,
      );
    };
    for (const shape of o.shapes) {
      if (bench.interrupted) break;
      log(`shape ${shape}`);
      const p = (await closedLoop(ctx, shape, o.warmup, o.duration))!;
      phases.push(p);
      report(p);
    }
    const uniform = phases.find((p) => p.name === "uniform");
    if (o.latency && uniform && !bench.interrupted) {
      const rate = Math.max(1, Math.round(uniform.tps * o.latencyFraction));
      log(`fixed rate: ${rate} payments/s for ${o.duration} s`);
      const p = await openLoop(ctx, rate, o.duration);
      phases.push(p);
      report(p);
    }
    if (o.pgbench && !bench.interrupted) await pgbenchPhase("after");
    const peakMiB = processMemory(server.pid).peakMiB;
    await server.stop();
    server = undefined;
    const anchor = mean(pgbench.map((p) => p.tps));

    let ceiling: Ceiling | undefined;
    if (o.ceiling && !bench.interrupted) {
      log("in-database ceiling: pgbench runs a payment's database work on the bench database (no HTTP, no Bun)");
      ceiling = await ceilingPhase(admin, db, benchDb, ours, o, dataDir, anchor).catch((error) => {
        log(`  skipped: ${(error as Error).message.slice(0, 2000)}`);
        return undefined;
      });
    }

    let statements: StatementCount | undefined;
    if (o.statements && !bench.interrupted) {
      log("counting statements per payment (log_min_duration_statement = 0 on the bench database)");
      statements = await countStatements(admin, benchDb, env, o, fixture);
      if (statements)
        log(`  ${fmt.one(statements.total)} statements, ${fmt.two(statements.totalMs)} server ms per payment`);
      else log(`  skipped: cannot read ${o.pgLog}`);
    }

    log("bun run cli ledger:verify");
    const verified = await runCli(["ledger:verify"], env);
    const v = verified.json ?? {};
    const verify = {
      ok: verified.code === 0 && v.ok === true,
      journals: Number(v.journals),
      accounts: Number(v.accounts),
      problems: Array.isArray(v.problems) ? v.problems.length : Number.NaN,
    };
    if (!verify.ok) log(`ledger:verify: ${verified.stdout.slice(0, 2000)} ${verified.stderr.slice(0, 2000)}`);

    const result: RunReport = {
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      machine,
      settings,
      options: o,
      quiet,
      setupSeconds,
      setupPeakMiB,
      pgbench,
      pgbenchWal,
      anchor,
      phases,
      verify,
      ceiling,
      statements,
      peakMiB,
      seconds: (performance.now() - started) / 1000,
    };
    const markdown = renderMarkdown(result);
    console.log(markdown);
    if (o.write && o.pgbench && !bench.interrupted) {
      const flags = whatIfFlags(o);
      const block = flags ? "payments-what-if" : "payments";
      writeResultsBlock(o.results, block, markdown, `bun run bench payments${flags ? ` ${flags}` : ""}`);
      log(`wrote ${o.results} (${block})`);
    }
    const ok =
      verify.ok &&
      phases.every((p) => p.failed === 0) &&
      peakMiB < RSS_TARGET_MIB &&
      (!o.pgbench || phases.every((p) => passes(p, anchor)));
    return { ok: ok && !bench.interrupted };
  } finally {
    await server?.kill9().catch(() => {});
    await db?.end({ timeout: 5 }).catch(() => {});
    await bench.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) process.exit((await run(process.argv.slice(2))).ok ? 0 : 1);
