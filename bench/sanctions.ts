/**
 * bench/sanctions (issue 14): sanctions screening against the real 2024-09-26 UN list (shipped in
 * src/compliance/data), through the compliance service on real Postgres.
 *
 *   bun run bench sanctions [--users=100000] [--samples=2000] [--listed=100] [--no-write] [--keep]
 *                           [--results=bench/RESULTS.md] [--admin-url=postgres://…]
 *
 * 1. The list is synced from the development simulator (the shipped copy behind a 302) into a fresh database.
 * 2. Screening one name: `screenName` on `--samples` generated names none seen before (cold token cache), then
 *    the same names again (warm): p50 / p99 / max per call. Target: < 10 ms.
 * 3. Re-screening every user: `--users` users (generated Eswatini-like names — made of syllables, so there are
 *    tens of thousands of distinct tokens, not a handful — plus `--listed` carrying a listed person's name) are
 *    inserted, then `rescreen()` walks them all against the whole list, opening a match for each hit: total
 *    seconds. Target: < 60 s on this 2-core machine.
 * The admin URL defaults to BENCH_DATABASE_URL, then DATABASE_URL, then postgres://postgres@127.0.0.1:5432/postgres.
 */
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createAudit } from "../src/audit/service";
import { createSanctions } from "../src/compliance/sanctions-service";
import type { SubjectControl } from "../src/compliance/sanctions-subjects";
import { loadConfig } from "../src/config";
import { type Database, openDatabase } from "../src/db/client";
import { migrate } from "../src/db/migrate";
import { createLogger } from "../src/http/logger";
import { parseFlags } from "./support/flags";
import { describeMachine } from "./support/machine";
import { fmt, percentile, writeResultsBlock } from "./support/results";
import { openBenchRun } from "./support/run";

const FLAGS = ["users", "samples", "listed", "no-write", "keep", "results", "admin-url"] as const;
const log = (...parts: unknown[]) => console.error("[bench:sanctions]", ...parts);

function parseOptions(args: string[]) {
  const { flags, num } = parseFlags("sanctions", args, FLAGS);
  return {
    users: num("users", 100_000, 1),
    samples: num("samples", 2000, 10),
    listed: num("listed", 100, 0),
    write: !flags.has("no-write"),
    keep: flags.has("keep"),
    results: flags.get("results") ?? fileURLToPath(new URL("./RESULTS.md", import.meta.url)),
    adminUrl:
      flags.get("admin-url") ??
      process.env.BENCH_DATABASE_URL ??
      process.env.DATABASE_URL ??
      "postgres://postgres@127.0.0.1:5432/postgres",
  };
}

// Seeded, so every run screens the same population.
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const GIVEN = ["Sipho", "Thabo", "Nomvula", "Lindiwe", "Sibusiso", "Bongani", "Thandeka", "Zanele", "Mandla"];
const COMMON = ["Mohammed", "Ali", "Abdul", "Musa", "John", "Ahmed", "Ibrahim", "Hassan", "Omar", "Mary", "Joseph"];
const SURNAMES = ["Dlamini", "Nkosi", "Simelane", "Motsa", "Shongwe", "Mamba", "Magagula", "Zwane", "Mkhabela"];
const SYLLABLES = (
  "si pho tha bo nom vu la lin di we zi ba nku lu le ma khu me dze gwe sha ngo nxu mdu tsa fa ku " +
  "ne mbi ti hla lo mse lwa nto zwa gci ka mpi sa vi tse ndlo bhe"
).split(" ");
const LISTED = [
  "Muhammad Taher Anwari",
  "Abdur Rehman",
  "Abdul Ghani Baradar",
  "Korea Mining Development Trading Corporation",
];

function nameMaker(seed: number) {
  const next = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const word = () => {
    let w = "";
    for (let n = 2 + Math.floor(next() * 3); n > 0; n--) w += pick(SYLLABLES);
    return w[0]!.toUpperCase() + w.slice(1);
  };
  return () => {
    const r = next();
    const given = r < 0.3 ? pick(GIVEN) : r < 0.45 ? pick(COMMON) : word();
    const surname = next() < 0.4 ? pick(SURNAMES) : word();
    return next() < 0.2 ? `${given} ${word()} ${surname}` : `${given} ${surname}`;
  };
}

async function insertUsers(database: Database, o: { users: number; listed: number }) {
  const make = nameMaker(268);
  const sql = database.sql!;
  const started = performance.now();
  const total = o.users + o.listed;
  for (let i = 0; i < total; i += 5000) {
    const rows = [];
    for (let j = i; j < Math.min(total, i + 5000); j++)
      rows.push({
        id: `usr_bench${String(j).padStart(8, "0")}`,
        phone: `+26876${String(j).padStart(6, "0")}`,
        name: j >= o.users ? LISTED[j % LISTED.length]! : make(),
      });
    await sql`insert into users ${sql(rows, "id", "phone", "name")}`;
  }
  const [distinct] = await sql<{ n: number }[]>`
    select count(distinct t)::int as n from users, unnest(string_to_array(lower(name), ' ')) t`;
  log(
    `inserted ${total} users (${distinct!.n} distinct name tokens) in ${fmt.one((performance.now() - started) / 1000)} s`,
  );
  return distinct!.n;
}

const ms = (xs: number[]) => {
  const sorted = Float64Array.from(xs).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
};

export async function run(args: string[]): Promise<{ ok: boolean }> {
  const o = parseOptions(args);
  const bench = openBenchRun({ adminUrl: o.adminUrl, pgbench: false, pgbenchScale: 1, keep: o.keep }, log);
  let database: Database | undefined;
  const startedAt = new Date();
  try {
    const { machine } = await describeMachine(bench.admin);
    await bench.createDatabases();
    const config = loadConfig({
      DATABASE_URL: bench.benchUrl,
      KESHLESS_ENV: "test",
      LOG_LEVEL: "silent",
      KESHLESS_DATA_DIR: `/tmp/keshless-bench-${randomBytes(4).toString("hex")}`,
      KESHLESS_JOB_SECRET: randomBytes(24).toString("base64url"),
      KESHLESS_JWT_SECRET: randomBytes(48).toString("base64url"),
      KESHLESS_PIN_PEPPER: randomBytes(48).toString("base64url"),
    });
    database = await openDatabase({ databaseUrl: bench.benchUrl, poolMax: 10 });
    await migrate(database);
    const logger = createLogger(config);
    const now = () => new Date();
    const audit = createAudit({ database, now, config });
    // What a hit does to a subject is identity's business; the bench counts hits, it freezes no one.
    const subjects: SubjectControl = { freeze: async () => ({ froze: false }), unfreeze: async () => {} };
    const sanctions = createSanctions({ database, logger, now, config, audit, subjects });

    const syncStarted = performance.now();
    const synced = await sanctions.sync();
    const syncSeconds = (performance.now() - syncStarted) / 1000;
    log(
      `synced ${synced.listVersion}: ${synced.individuals} individuals, ${synced.entities} entities, ${fmt.two(syncSeconds)} s`,
    );

    // A fresh service builds its matcher from the database, as every process does when the version changes.
    const buildStarted = performance.now();
    const index = (await createSanctions({ database, logger, now, config, audit, subjects }).matcher())!;
    const buildMs = performance.now() - buildStarted;
    await sanctions.matcher();
    const rssAfterIndex = process.memoryUsage().rss / 2 ** 20;

    const make = nameMaker(14);
    const samples = Array.from({ length: o.samples }, make);
    const cold: number[] = [];
    const warm: number[] = [];
    for (const name of samples) {
      const t = performance.now();
      await sanctions.screenName({ name });
      cold.push(performance.now() - t);
    }
    for (const name of samples) {
      const t = performance.now();
      await sanctions.screenName({ name });
      warm.push(performance.now() - t);
    }
    const single = { cold: ms(cold), warm: ms(warm) };
    log(
      `screen one name: cold p50 ${fmt.two(single.cold.p50)} ms p99 ${fmt.two(single.cold.p99)} ms; warm p50 ${fmt.two(single.warm.p50)} ms p99 ${fmt.two(single.warm.p99)} ms`,
    );

    const distinctTokens = await insertUsers(database, o);
    index.near.clear();
    const cpuBefore = process.cpuUsage();
    const rescreenStarted = performance.now();
    const rescreened = await sanctions.rescreen();
    const rescreenSeconds = (performance.now() - rescreenStarted) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const rss = process.memoryUsage().rss / 2 ** 20;
    const [flagged] = await database.sql!<{ generated: number; listed: number }[]>`
      select count(distinct subject_id) filter (where subject_name <> all(${LISTED}))::int as generated,
             count(distinct subject_id) filter (where subject_name = any(${LISTED}))::int as listed
      from sanctions_matches`;
    log(`re-screen: ${rescreened.screened} users in ${fmt.two(rescreenSeconds)} s, ${rescreened.matches} matches`);

    const okSingle = single.cold.p99 < 10;
    const okBulk = rescreenSeconds < 60;
    const pass = (ok: boolean) => (ok ? "yes" : "**no**");
    const block = [
      `### Sanctions — run of ${startedAt.toISOString().replace(/\.\d+Z$/, "Z")}`,
      "",
      `Machine: ${machine.cpus} CPUs (\`nproc\`), ${machine.ramGiB} GiB RAM, ${machine.os}; ${machine.postgres}; Bun ${machine.bun}.`,
      `List: ${synced.listVersion} (${synced.individuals} individuals, ${synced.entities} entities; ${index.names.length} names with Latin tokens, vocabulary of ${index.vocab.length} tokens and joined pairs), synced from the simulator in ${fmt.two(syncSeconds)} s (download, parse, one transaction). Matcher built in ${fmt.int(buildMs)} ms; process RSS ${fmt.int(rssAfterIndex)} MiB after building it.`,
      "",
      "| measurement | value | target | pass |",
      "|---|--:|--:|:-:|",
      `| screen one name, first sight of its tokens (${o.samples} names): p50 / p99 / max ms | ${fmt.two(single.cold.p50)} / ${fmt.two(single.cold.p99)} / ${fmt.two(single.cold.max)} | p99 < 10 ms | ${pass(okSingle)} |`,
      `| screen one name again (tokens cached): p50 / p99 / max ms | ${fmt.two(single.warm.p50)} / ${fmt.two(single.warm.p99)} / ${fmt.two(single.warm.max)} | | |`,
      `| re-screen ${fmt.int(rescreened.screened)} users against the whole list (${fmt.int(distinctTokens)} distinct name tokens; read in pages of 1,000, matches recorded) | ${fmt.two(rescreenSeconds)} s (${fmt.int(rescreened.screened / rescreenSeconds)} users/s) | < 60 s | ${pass(okBulk)} |`,
      `| matches opened by the re-screen | ${fmt.int(rescreened.matches)} | | |`,
      `| users with a match: of the ${fmt.int(o.listed)} carrying a listed name / of the ${fmt.int(o.users)} generated | ${fmt.int(flagged!.listed)} / ${fmt.int(flagged!.generated)} (${fmt.two((100 * flagged!.generated) / o.users)}%) | all / ≤ 1% | ${pass(flagged!.listed === o.listed && flagged!.generated <= o.users / 100)} |`,
      `| Bun CPU during the re-screen / RSS after | ${fmt.one(cpuSeconds)} s / ${fmt.int(rss)} MiB | | |`,
      "",
      "Cold: every sample name is new to the process, so each of its tokens is compared with the whole vocabulary once (letter-count bound, then Jaro-Winkler) before its candidates are scored; warm: the same names again. The re-screen starts with an empty token cache.",
    ].join("\n");
    console.log(block);
    if (o.write) writeResultsBlock(o.results, "sanctions", block);
    return { ok: okSingle && okBulk };
  } finally {
    await database?.close();
    await bench.close();
  }
}
