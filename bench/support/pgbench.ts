import type postgres from "postgres";
import { type PhaseLoad, watchPhase } from "./load";

/**
 * pgbench as the anchor: its simple-update script (`-N`: one account UPDATE, one SELECT, one history INSERT
 * per transaction) under SERIALIZABLE with retries, on the same server and at the same concurrency as the
 * bench, so "× pgbench" says how close our service path comes to what this server does for one row write.
 * With `script`, pgbench runs that file instead (prepared statements, no vacuum of pgbench's own tables) under
 * the same settings and load watching: how fast Postgres alone does our own database work (bench/payments'
 * in-database ceiling).
 */

export interface PgbenchOptions {
  adminUrl: string;
  database: string;
  clients: number;
  threads: number;
  seconds: number;
  maxTries: number;
  /** A custom script file (`-f file -M prepared -n`) instead of the built-in simple-update script (`-N`). */
  script?: string;
}

export interface PgbenchResult {
  label: string;
  command: string;
  tps: number;
  processed: number;
  failed: number;
  retried: number;
  retries: number;
  latencyAvgMs: number;
  /** pgbench's own CPU (user + system) per wall second, in cores. */
  clientCpu: number;
  load: PhaseLoad;
}

function connection(adminUrl: string) {
  const u = new URL(adminUrl);
  return {
    args: ["-h", u.hostname, "-p", u.port || "5432", "-U", decodeURIComponent(u.username || "postgres")],
    env: {
      ...process.env,
      ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}),
      PGOPTIONS: "-c default_transaction_isolation=serializable",
    } as Record<string, string>,
  };
}

async function spawn(cmd: string[], env: Record<string, string>, whileRunning?: (pid: number) => void) {
  const proc = Bun.spawn(cmd, { env, stdout: "pipe", stderr: "pipe" });
  whileRunning?.(proc.pid);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited ${code}:\n${stderr}\n${stdout}`);
  return { stdout, usage: proc.resourceUsage() };
}

/** `pgbench -i` into an existing (fresh) database. */
export async function pgbenchInit(adminUrl: string, database: string, scale: number): Promise<void> {
  const { args, env } = connection(adminUrl);
  await spawn(["pgbench", "-i", "-q", "-s", String(scale), ...args, database], env);
}

export async function pgbenchRun(
  label: string,
  o: PgbenchOptions,
  admin: postgres.Sql,
  ourDatabases: string[],
): Promise<PgbenchResult> {
  const { args, env } = connection(o.adminUrl);
  const script = o.script ? ["-n", "-M", "prepared", "-f", o.script] : ["-N"];
  const flags = [...script, "-c", String(o.clients), "-j", String(o.threads), "-T", String(o.seconds)];
  flags.push(`--max-tries=${o.maxTries}`);
  // The load is read just before the end: pgbench's backends exit with it, taking their CPU counters along.
  const stop = watchPhase(admin, ourDatabases);
  let load: Promise<PhaseLoad> | undefined;
  const { stdout, usage } = await spawn(["pgbench", ...flags, ...args, o.database], env, (pid) => {
    setTimeout(() => (load = stop([pid])), Math.max(0.5, o.seconds - 0.3) * 1000);
  });
  if (!load) throw new Error("pgbench ended before its run time was up");
  const grab = (re: RegExp) => {
    const m = re.exec(stdout);
    return m ? Number(m[1]) : Number.NaN;
  };
  const tps = grab(/tps = ([\d.]+) \(without initial connection time\)/);
  if (!Number.isFinite(tps)) throw new Error(`cannot read pgbench's output:\n${stdout}`);
  const cpuMicros = usage ? Number(usage.cpuTime.user) + Number(usage.cpuTime.system) : Number.NaN;
  return {
    label,
    command: `PGOPTIONS='-c default_transaction_isolation=serializable' pgbench ${flags.join(" ")}`,
    tps,
    processed: grab(/number of transactions actually processed: (\d+)/),
    failed: grab(/number of failed transactions: (\d+)/) || 0,
    retried: grab(/number of transactions retried: (\d+)/) || 0,
    retries: grab(/total number of retries: (\d+)/) || 0,
    latencyAvgMs: grab(/latency average = ([\d.]+) ms/),
    clientCpu: cpuMicros / 1e6 / o.seconds,
    load: await load,
  };
}
