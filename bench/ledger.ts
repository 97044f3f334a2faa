/**
 * bench/ledger (issue 3): transfers/s through `ledger.transfer` on real Postgres for four shapes, beside
 * pgbench's simple-update script (`pgbench -N`, SERIALIZABLE, same server, same run, same concurrency).
 *
 *   bun run bench ledger [--duration=12] [--warmup=1] [--prime=5] [--concurrency=16] [--wallets=2000]
 *                        [--vendors=1000] [--shards=16] [--shapes=uniform,hot-destination,hot-source,fee]
 *                        [--pgbench-scale=16] [--no-pgbench] [--no-write] [--keep] [--results=bench/RESULTS.md]
 *                        [--sql=what-if.sql] [--admin-url=postgres://…]
 *
 * The admin URL defaults to BENCH_DATABASE_URL, then DATABASE_URL, then postgres://postgres@127.0.0.1:5432/postgres.
 * Each run creates its own databases (keshless_bench_<hex> for the ledger, keshless_pgbench_<hex> for pgbench) and
 * drops them at the end (unless --keep). Server settings are read with SHOW and never changed. The Bun process
 * (workers, postgres.js, the ledger service), pgbench and Postgres share the machine's cores: that is part of the
 * measurement, and the CPU each client burns, and any other process's, is reported beside its throughput.
 *
 * --sql applies a file to the bench database after migrating (e.g. a proposed ledger function) to measure a
 * what-if; such a run writes its own block of RESULTS.md (ledger-what-if), never the measured code's.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Config, loadConfig } from "../src/config";
import { type Database, openDatabase } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import { isSerializationFailure, sqlState } from "../src/db/pg-errors";
import { retryStats } from "../src/db/serializable";
import { createLogger } from "../src/http/logger";
import { computeFee } from "../src/ledger/fees";
import { type Account, createLedger, type Ledger, LedgerError, type Leg } from "../src/ledger/service";
import { newId } from "../src/lib/ids";
import { parseFlags } from "./support/flags";
import { type PhaseLoad, quietCheck, watchPhase } from "./support/load";
import { describeMachine } from "./support/machine";
import type { PgbenchResult } from "./support/pgbench";
import { fmt, percentile, writeResultsBlock } from "./support/results";
import { mean, openBenchRun } from "./support/run";

const SHAPES = ["uniform", "hot-destination", "hot-source", "fee"] as const;
type ShapeName = (typeof SHAPES)[number];

const SHAPE_INFO: Record<ShapeName, { label: string; target: number; describe: string }> = {
  uniform: { label: "uniform", target: 0.5, describe: "random user wallet → random user wallet" },
  "hot-destination": {
    label: "hot destination",
    target: 0.25,
    describe: "random user wallet → one vendor wallet (guarded, sharded)",
  },
  "hot-source": {
    label: "hot source",
    target: 0.25,
    describe: "one partner settlement account (unguarded, sharded) → random user wallet",
  },
  fee: {
    label: "fee-paying",
    target: 0.25,
    describe: "random user wallet → random vendor wallet, + fee leg to fee_revenue (unguarded, sharded)",
  },
};

/** A phase with more than this much CPU used by other processes is flagged as disturbed. */
const DISTURBED_CORES = 0.15;

interface Options {
  duration: number;
  warmup: number;
  prime: number;
  concurrency: number;
  wallets: number;
  vendors: number;
  shards: number;
  shapes: ShapeName[];
  pgbench: boolean;
  pgbenchScale: number;
  write: boolean;
  keep: boolean;
  results: string;
  sql: string | undefined;
  adminUrl: string;
}

const FLAGS = [
  "duration",
  "warmup",
  "prime",
  "concurrency",
  "wallets",
  "vendors",
  "shards",
  "shapes",
  "pgbench-scale",
  "no-pgbench",
  "no-write",
  "keep",
  "results",
  "sql",
  "admin-url",
];

function parseOptions(args: string[]): Options {
  const { flags, num } = parseFlags("ledger", args, FLAGS);
  const shapes = (flags.get("shapes") ?? SHAPES.join(",")).split(",").map((s) => s.trim()) as ShapeName[];
  for (const s of shapes) if (!SHAPES.includes(s)) throw new Error(`bench ledger: unknown shape ${s}`);
  const concurrency = num("concurrency", 16, 1);
  return {
    duration: num("duration", 12, 1),
    warmup: num("warmup", 1, 0),
    prime: num("prime", 5, 0),
    concurrency,
    wallets: num("wallets", 2000, 2),
    vendors: num("vendors", 1000, 1),
    shards: num("shards", 16, 1),
    shapes,
    pgbench: !flags.has("no-pgbench"),
    pgbenchScale: num("pgbench-scale", Math.max(16, concurrency), 1),
    write: !flags.has("no-write"),
    keep: flags.has("keep"),
    results: flags.get("results") ?? fileURLToPath(new URL("./RESULTS.md", import.meta.url)),
    sql: flags.get("sql"),
    adminUrl:
      flags.get("admin-url") ??
      process.env.BENCH_DATABASE_URL ??
      process.env.DATABASE_URL ??
      "postgres://postgres@127.0.0.1:5432/postgres",
  };
}

const log = (...parts: unknown[]) => console.error("[bench:ledger]", ...parts);

// ── fixture ─────────────────────────────────────────────────────────────────────────────────────

interface Fixture {
  wallets: Account[];
  vendors: Account[];
  hotVendor: Account;
  partner: Account;
  feeRevenue: Account;
}

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
const amount = (min: number, max: number) => BigInt(min + Math.floor(Math.random() * (max - min + 1)));

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapConcurrent<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** E1,000,000 per wallet: no shape can drain a payer within a run, so INSUFFICIENT_FUNDS means a bug. */
const WALLET_FUNDING = 100_000_000n;

async function buildFixture(ledger: Ledger, o: Options): Promise<Fixture> {
  const open = (kind: "user_wallet" | "vendor_wallet", shards = 1) =>
    ledger.openAccount({
      kind,
      currency: "SZL",
      ownerType: kind === "user_wallet" ? "user" : "vendor",
      ownerId: newId(kind === "user_wallet" ? "usr" : "vnd"),
      guarded: true,
      shards,
    });
  const wallets = await mapConcurrent(Array.from({ length: o.wallets }), o.concurrency, () => open("user_wallet"));
  const vendors = await mapConcurrent(Array.from({ length: o.vendors }), o.concurrency, () => open("vendor_wallet"));
  // A vendor with hundreds of payers is sharded, as the design says busy vendors are.
  const hotVendor = await open("vendor_wallet", o.shards);
  const partner = await ledger.systemAccount("partner_settlement", "SZL", "prt_bench_hot");
  const feeRevenue = await ledger.systemAccount("fee_revenue", "SZL");

  // Fund every wallet with its own deposit from another partner's settlement account: journals of two entries
  // like the traffic that follows (a few journals of hundreds of entries would skew the planner's n_distinct
  // for ledger_entries.journal_id). That account is itself a hot source, so: few writers, and a retry of our
  // own on top of the ledger's (setup is not measured; reusing the id keeps a repeat idempotent).
  const funding = await ledger.systemAccount("partner_settlement", "SZL", "prt_bench_funding");
  await mapConcurrent(wallets, 4, async (w) => {
    const id = newId("txn");
    for (let attempt = 0; ; attempt++) {
      try {
        return await ledger.transfer({
          id,
          kind: "deposit",
          legs: [
            { accountId: funding.id, amount: -WALLET_FUNDING },
            { accountId: w.id, amount: WALLET_FUNDING },
          ],
          metadata: { bench: "funding" },
        });
      } catch (error) {
        if (attempt >= 5 || !isSerializationFailure(error)) throw error;
      }
    }
  });
  return { wallets, vendors, hotVendor, partner, feeRevenue };
}

function shapeTransfer(shape: ShapeName, f: Fixture, fees: Config["fees"]): { kind: string; legs: Leg[] } {
  switch (shape) {
    case "uniform": {
      const from = pick(f.wallets);
      let to = pick(f.wallets);
      while (to === from) to = pick(f.wallets);
      const a = amount(100, 10_000);
      return {
        kind: "transfer",
        legs: [
          { accountId: from.id, amount: -a },
          { accountId: to.id, amount: a },
        ],
      };
    }
    case "hot-destination": {
      const a = amount(100, 10_000);
      return {
        kind: "payment",
        legs: [
          { accountId: pick(f.wallets).id, amount: -a },
          { accountId: f.hotVendor.id, amount: a },
        ],
      };
    }
    case "hot-source": {
      const a = amount(1_000, 100_000);
      return {
        kind: "deposit",
        legs: [
          { accountId: f.partner.id, amount: -a },
          { accountId: pick(f.wallets).id, amount: a },
        ],
      };
    }
    case "fee": {
      const a = amount(100, 10_000);
      const { fee } = computeFee(fees, "payment", a);
      return {
        kind: "payment",
        legs: [
          { accountId: pick(f.wallets).id, amount: -(a + fee) },
          { accountId: pick(f.vendors).id, amount: a },
          { accountId: f.feeRevenue.id, amount: fee },
        ],
      };
    }
  }
}

// ── one shape ───────────────────────────────────────────────────────────────────────────────────

interface ShapeResult {
  shape: ShapeName;
  ok: number;
  failed: number;
  failures: Record<string, number>;
  firstFailure?: string;
  retries: number;
  exhausted: number;
  tps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The Bun process's CPU per wall second, in cores. */
  clientCpu: number;
  load: PhaseLoad;
}

interface ShapeRun {
  shape: ShapeName;
  ledger: Ledger;
  fixture: Fixture;
  fees: Config["fees"];
  concurrency: number;
  warmup: number;
  duration: number;
}

/**
 * `concurrency` workers call ledger.transfer back to back for warmup + duration seconds. Transfers that
 * complete inside the measured window count; every failure after the warmup counts, whenever it ends.
 */
async function runShape(r: ShapeRun, onMeasure: () => () => Promise<PhaseLoad>): Promise<ShapeResult> {
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let firstFailure: string | undefined;
  let ok = 0;
  let failed = 0;
  const measureFrom = performance.now() + r.warmup * 1000;
  const end = measureFrom + r.duration * 1000;
  let measuring = false;
  let retries0 = { ...retryStats };
  let cpu0 = process.cpuUsage();
  let stopWatch: (() => Promise<PhaseLoad>) | undefined;
  const begin = () => {
    measuring = true;
    retries0 = { ...retryStats };
    cpu0 = process.cpuUsage();
    stopWatch = onMeasure();
  };

  await Promise.all(
    Array.from({ length: r.concurrency }, async () => {
      for (;;) {
        const t0 = performance.now();
        if (t0 >= end) return;
        if (!measuring && t0 >= measureFrom) begin();
        const { kind, legs } = shapeTransfer(r.shape, r.fixture, r.fees);
        try {
          await r.ledger.transfer({ id: newId("txn"), kind, legs });
          const t1 = performance.now();
          if (measuring && t1 <= end) {
            ok++;
            latencies.push(t1 - t0);
          }
        } catch (error) {
          if (!measuring) begin(); // a failure is never excused as warmup
          const code = error instanceof LedgerError ? error.code : (sqlState(error) ?? (error as Error).name);
          failed++;
          failures[code] = (failures[code] ?? 0) + 1;
          firstFailure ??= `${code}: ${(error as Error).message.split("\n")[0]}`.slice(0, 200);
        }
      }
    }),
  );
  if (!measuring) begin();
  const cpu = process.cpuUsage(cpu0);
  const load = await stopWatch!();
  const sorted = Float64Array.from(latencies).sort();
  return {
    shape: r.shape,
    ok,
    failed,
    failures,
    firstFailure,
    retries: retryStats.retries - retries0.retries,
    exhausted: retryStats.exhausted - retries0.exhausted,
    tps: ok / r.duration,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    clientCpu: (cpu.user + cpu.system) / 1e6 / r.duration,
    load,
  };
}

// ── report ──────────────────────────────────────────────────────────────────────────────────────

interface RunReport {
  date: string;
  machine: { cpus: number; ramGiB: number; os: string; postgres: string; bun: string };
  settings: Record<string, string>;
  options: Options;
  quiet: PhaseLoad;
  pgbench: PgbenchResult[];
  anchor: number;
  shapes: ShapeResult[];
  verify: { ok: boolean; journals: number; accounts: number; problems: number };
  seconds: number;
}

const passes = (s: ShapeResult, anchor: number) =>
  s.failed === 0 && anchor > 0 && s.tps / anchor >= SHAPE_INFO[s.shape].target;
const disturbed = (l: PhaseLoad) => l.otherCpu > DISTURBED_CORES || l.otherBackends > 0;
const loadCells = (l: PhaseLoad, tps: number) =>
  `${fmt.two(l.serverCpu)} | ${fmt.int((l.serverCpu * 1e6) / tps)} | ${fmt.pct(l.machineCpu)} | ${fmt.two(l.otherCpu)}${disturbed(l) ? " ⚠" : ""} | ${l.otherBackends}`;

function renderMarkdown(r: RunReport): string {
  const m = r.machine;
  const o = r.options;
  const out: string[] = [];
  out.push(`### Ledger — run of ${r.date}${o.sql ? ` — WHAT-IF with ${o.sql}` : ""}`);
  out.push("");
  out.push(
    `Machine: ${m.cpus} CPUs (\`nproc\`), ${m.ramGiB} GiB RAM, ${m.os}; ${m.postgres}; Bun ${m.bun}. ` +
      `Postgres settings (SHOW, unchanged): ${Object.entries(r.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(", ")}.`,
  );
  out.push(
    `Run: ${o.concurrency} concurrent workers in one Bun process (pool ${Math.max(16, o.concurrency)}) / ${o.concurrency} pgbench clients;` +
      ` ${o.duration} s measured per row (ledger rows: after ${o.prime} s of unmeasured uniform traffic once, and ${o.warmup} s of` +
      ` unmeasured warmup per shape); ${o.wallets} user wallets, ${o.vendors} vendor wallets, ${o.shards} shards per hot account;` +
      ` whole run ${Math.round(r.seconds)} s. Bun, pgbench and Postgres share the same ${m.cpus} cores.` +
      ` Before measuring, other processes used ${fmt.two(r.quiet.otherCpu)} cores.`,
  );
  out.push("");
  out.push(
    "| workload | tx/s | × pgbench -N | target | pass | committed | failed | retries | p50 ms | p95 ms | p99 ms | client CPU (cores) | server CPU (cores) | server CPU µs/tx | machine busy | other CPU (cores) | other DB sessions |",
  );
  out.push("|---|--:|--:|--:|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
  for (const p of r.pgbench) {
    out.push(
      `| \`pgbench -N\` ${p.label} (SERIALIZABLE, -c ${o.concurrency} -j 2, -s ${o.pgbenchScale}, --max-tries=20) | ${fmt.int(p.tps)} | ${fmt.two(p.tps / r.anchor)} | anchor | | ${fmt.int(p.processed)} | ${p.failed} | ${p.retries} | avg ${fmt.two(p.latencyAvgMs)} | | | ${fmt.two(p.clientCpu)} | ${loadCells(p.load, p.tps)} |`,
    );
  }
  for (const s of r.shapes) {
    const info = SHAPE_INFO[s.shape];
    const failures = s.failed
      ? ` (${Object.entries(s.failures)
          .map(([k, v]) => `${k}×${v}`)
          .join(", ")})`
      : "";
    out.push(
      `| ${info.label}: ${info.describe} | ${fmt.int(s.tps)} | ${fmt.two(s.tps / r.anchor)} | ≥ ${info.target} | ${passes(s, r.anchor) ? "yes" : "**no**"} | ${fmt.int(s.ok)} | ${s.failed}${failures} | ${s.retries}${s.exhausted ? ` (${s.exhausted} exhausted)` : ""} | ${fmt.two(s.p50)} | ${fmt.two(s.p95)} | ${fmt.two(s.p99)} | ${fmt.two(s.clientCpu)} | ${loadCells(s.load, s.tps)} |`,
    );
  }
  out.push("");
  out.push(
    `Anchor: ${fmt.int(r.anchor)} tx/s, the mean of the pgbench runs. ledger.verify() after the run: ` +
      `${r.verify.ok ? "**ok**" : `**FAILED** (${r.verify.problems} problems)`} (${fmt.int(r.verify.journals)} journals, ${fmt.int(r.verify.accounts)} accounts).`,
  );
  out.push(
    "tx/s counts committed transfers (pgbench: transactions) per measured second; failed = transfers that threw " +
      "(after the ledger's own retries); retries = serialization retries inside ledger.transfer (`retryStats`), " +
      "pgbench's = its total retries. Client CPU: the load generator's own CPU per wall second (Bun: workers + " +
      "postgres.js + the ledger service; pgbench: its threads). Server CPU: what Postgres spent for this run (our " +
      "databases' backends and the server's own processes), in cores and per committed transaction. Machine busy: share of all cores busy (/proc/stat). " +
      `Other CPU: cores used by processes that are not this run (⚠ above ${DISTURBED_CORES}: disturbed, rerun). ` +
      "Other DB sessions: most non-idle sessions seen at once in other databases of the server.",
  );
  return out.join("\n");
}

// ── main ────────────────────────────────────────────────────────────────────────────────────────

export async function run(args: string[]): Promise<{ ok: boolean }> {
  const o = parseOptions(args);
  const started = performance.now();
  const bench = openBenchRun(o, log);
  const { admin, benchDb, ours } = bench;
  let database: Database | undefined;

  try {
    const { machine, settings } = await describeMachine(admin);
    log(`machine ${JSON.stringify(machine)}; settings ${JSON.stringify(settings)}`);
    await bench.createDatabases();
    const url = bench.benchUrl;
    const config = loadConfig({
      DATABASE_URL: url,
      KESHLESS_ENV: "test",
      LOG_LEVEL: "silent",
      KESHLESS_DB_POOL_MAX: String(Math.max(16, o.concurrency)),
      KESHLESS_HOT_ACCOUNT_SHARDS: String(o.shards),
      KESHLESS_JOB_SECRET: randomBytes(24).toString("base64url"),
      KESHLESS_JWT_SECRET: randomBytes(48).toString("base64url"),
      KESHLESS_PIN_PEPPER: randomBytes(48).toString("base64url"),
    });
    database = await openDatabase({ databaseUrl: url, poolMax: config.dbPoolMax });
    await migrate(database);
    if (o.sql) {
      log(`what-if: applying ${o.sql}`);
      await database.sql!.unsafe(readFileSync(o.sql, "utf8"));
    }
    const ledger = createLedger({ database, logger: createLogger(config), config });
    const setupStarted = performance.now();
    const fixture = await buildFixture(ledger, o);
    // Planner statistics for the freshly filled tables (autovacuum would get there within a minute or so).
    await database.sql!.unsafe("analyze");
    log(
      `setup: ${o.wallets} wallets, ${o.vendors} vendors in ${benchDb}, ${fmt.one((performance.now() - setupStarted) / 1000)} s`,
    );

    const quiet = await quietCheck(admin, ours);
    if (disturbed(quiet))
      log(
        `warning: other processes are using ${fmt.two(quiet.otherCpu)} cores: numbers from this run may be disturbed`,
      );

    const pgbench: PgbenchResult[] = [];
    const pgbenchPhase = async (label: string) => {
      pgbench.push(await bench.anchor(label, o.concurrency, o.duration));
    };
    if (o.pgbench && !bench.interrupted) await pgbenchPhase("before");

    const shapeRun = (shape: ShapeName, warmup: number, duration: number): ShapeRun => ({
      shape,
      ledger,
      fixture,
      fees: config.fees,
      concurrency: o.concurrency,
      warmup,
      duration,
    });
    if (o.prime > 0 && !bench.interrupted) {
      log(`priming: ${o.prime} s of uniform traffic, not measured`);
      await runShape(shapeRun("uniform", 0, o.prime), () => async () => ({
        machineCpu: Number.NaN,
        otherCpu: Number.NaN,
        otherBackends: 0,
        serverCpu: Number.NaN,
      }));
    }
    const shapes: ShapeResult[] = [];
    for (const shape of o.shapes) {
      if (bench.interrupted) break;
      log(`shape ${shape}`);
      const s = await runShape(shapeRun(shape, o.warmup, o.duration), () => watchPhase(admin, ours));
      shapes.push(s);
      log(
        `  ${fmt.int(s.tps)} tx/s, failed ${s.failed}, retries ${s.retries}, p50 ${fmt.two(s.p50)} ms, p99 ${fmt.two(s.p99)} ms, other CPU ${fmt.two(s.load.otherCpu)} cores` +
          (s.firstFailure ? `; first failure ${s.firstFailure}` : ""),
      );
    }
    if (o.pgbench && !bench.interrupted) await pgbenchPhase("after");

    log("ledger.verify()");
    const v = await ledger.verify();
    if (!v.ok) log(`verify problems: ${JSON.stringify(v.problems.slice(0, 10))}`);
    const anchor = mean(pgbench.map((p) => p.tps));
    const report: RunReport = {
      date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      machine,
      settings,
      options: o,
      quiet,
      pgbench,
      anchor,
      shapes,
      verify: { ok: v.ok, journals: v.journals, accounts: v.accounts, problems: v.problems.length },
      seconds: (performance.now() - started) / 1000,
    };
    const markdown = renderMarkdown(report);
    console.log(markdown);
    // A what-if run has its own block, so the measured code's table is never replaced by a hypothetical one.
    if (o.write && o.pgbench && !bench.interrupted) {
      const block = o.sql ? "ledger-what-if" : "ledger";
      writeResultsBlock(o.results, block, markdown, `bun run bench ledger${o.sql ? ` --sql=${o.sql}` : ""}`);
      log(`wrote ${o.results} (${block})`);
    }
    const ok = v.ok && shapes.every((s) => s.failed === 0) && (!o.pgbench || shapes.every((s) => passes(s, anchor)));
    return { ok: ok && !bench.interrupted };
  } finally {
    await database?.close().catch(() => {});
    await bench.close();
  }
}

if (import.meta.main) process.exit((await run(process.argv.slice(2))).ok ? 0 : 1);
