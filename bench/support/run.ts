import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { type PgbenchResult, pgbenchInit, pgbenchRun } from "./pgbench";
import { fmt } from "./results";

type Log = (...parts: unknown[]) => void;

export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * What every bench run owns: a fresh database of its own and one for pgbench's anchor (dropped at the end
 * unless --keep), an admin connection to the server, and Ctrl-C handling that lets the current phase finish
 * before cleaning up.
 */
export function openBenchRun(o: { adminUrl: string; pgbench: boolean; pgbenchScale: number; keep: boolean }, log: Log) {
  const suffix = randomBytes(5).toString("hex");
  const benchDb = `keshless_bench_${suffix}`;
  const pgbenchDb = `keshless_pgbench_${suffix}`;
  const ours = [benchDb, pgbenchDb];
  const admin = postgres(o.adminUrl, { max: 1, onnotice: () => {} });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    log("interrupted: finishing the current phase, then cleaning up");
  };
  process.once("SIGINT", onSignal);

  return {
    benchDb,
    pgbenchDb,
    ours,
    admin,
    benchUrl: withDatabase(o.adminUrl, benchDb),
    get interrupted() {
      return interrupted;
    },
    /** pgbench's database (`pgbench -i`) when the run has an anchor, then the bench's own, empty. */
    async createDatabases() {
      if (o.pgbench) {
        await admin.unsafe(`create database ${pgbenchDb}`);
        log(`pgbench -i -s ${o.pgbenchScale} into ${pgbenchDb}`);
        await pgbenchInit(o.adminUrl, pgbenchDb, o.pgbenchScale);
      }
      await admin.unsafe(`create database ${benchDb}`);
    },
    /** One `pgbench -N` anchor run at the bench's concurrency, logged. */
    async anchor(label: string, clients: number, seconds: number): Promise<PgbenchResult> {
      log(`pgbench -N (${label})`);
      const p = await pgbenchRun(
        label,
        { adminUrl: o.adminUrl, database: pgbenchDb, clients, threads: 2, seconds, maxTries: 20 },
        admin,
        ours,
      );
      log(
        `  ${fmt.int(p.tps)} tx/s, failed ${p.failed}, retries ${p.retries}, other CPU ${fmt.two(p.load.otherCpu)} cores`,
      );
      return p;
    },
    async close() {
      process.off("SIGINT", onSignal);
      if (o.keep) log(`kept databases ${ours.join(", ")}`);
      else for (const name of ours) await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end({ timeout: 5 });
    },
  };
}
