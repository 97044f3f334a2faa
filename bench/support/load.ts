import { readdirSync, readFileSync } from "node:fs";
import type postgres from "postgres";

/**
 * What else the machine did while a phase was measured. Bun, pgbench and Postgres share the same few cores,
 * and so do other engineers' test runs: a phase during which other processes burned CPU is disturbed and its
 * number should not be trusted (rerun it). Linux only (/proc); elsewhere the figures are NaN.
 */
export interface PhaseLoad {
  /** Share of all cores busy during the phase (/proc/stat). */
  machineCpu: number;
  /** Cores' worth of CPU used by everything that is not this run (neither us, our children, nor the Postgres
   *  server working for our databases): all busy CPU time (/proc/stat, which also counts processes that came and
   *  went within the phase, such as test runs) minus ours. */
  otherCpu: number;
  /** Most non-idle client sessions seen at once in other databases of the server (sampled each second). */
  otherBackends: number;
  /** Cores' worth of CPU used by the Postgres server for this run (our databases' backends, and the server's own
   *  processes: WAL writer, checkpointer, autovacuum of our databases…). */
  serverCpu: number;
}

const HZ = 100; // USER_HZ: /proc tick units

function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const v = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/** utime + stime of every process, by pid. */
function processTicks(): Map<number, { comm: string; ticks: number }> {
  const out = new Map<number, { comm: string; ticks: number }>();
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" "); // fields[0] is field 3 (state)
      out.set(Number(pid), { comm, ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      /* the process ended between readdir and read */
    }
  }
  return out;
}

/** Starts watching; `stop(children)` ends the phase (children: pids we spawned, e.g. pgbench). */
export function watchPhase(admin: postgres.Sql, ourDatabases: string[]) {
  const started = performance.now();
  const machine0 = machineTicks();
  const procs0 = processTicks();
  const backends = new Map<number, string | null>(); // pid → database (null: server processes)
  let otherBackends = 0;
  let stopped = false;
  const sampler = (async () => {
    while (!stopped) {
      try {
        const rows = await admin<{ pid: number; datname: string | null; busy: boolean }[]>`
          select pid, datname, (backend_type = 'client backend' and state <> 'idle') as busy
            from pg_stat_activity where pid <> pg_backend_pid()`;
        let others = 0;
        for (const r of rows) {
          backends.set(r.pid, r.datname);
          if (r.busy && r.datname !== null && !ourDatabases.includes(r.datname)) others++;
        }
        otherBackends = Math.max(otherBackends, others);
      } catch {
        /* sampling must never fail a run */
      }
      await Bun.sleep(1000);
    }
  })();

  return async function stop(children: number[] = []): Promise<PhaseLoad> {
    const seconds = (performance.now() - started) / 1000;
    const machine1 = machineTicks();
    const procs1 = processTicks();
    stopped = true;
    await sampler;
    let own = 0;
    let server = 0;
    for (const [pid, p] of procs1) {
      const delta = p.ticks - (procs0.get(pid)?.ticks ?? 0);
      if (delta <= 0) continue;
      if (pid === process.pid || children.includes(pid)) own += delta;
      else if (p.comm === "postgres") {
        const db = backends.get(pid);
        // Sessions of other databases, and backends born and gone between samples, are someone else's.
        if (db === undefined ? procs0.has(pid) : db === null || ourDatabases.includes(db)) server += delta;
      }
    }
    if (!machine0 || !machine1 || machine1.total <= machine0.total || procs1.size === 0)
      return { machineCpu: Number.NaN, otherCpu: Number.NaN, otherBackends, serverCpu: Number.NaN };
    const busy = machine1.busy - machine0.busy;
    const cores = (ticks: number) => ticks / HZ / seconds;
    return {
      machineCpu: busy / (machine1.total - machine0.total),
      otherCpu: Math.max(0, cores(busy - own - server)),
      otherBackends,
      serverCpu: cores(server),
    };
  };
}

/** How busy the machine is with other work right now, over `ms`: to warn before measuring. */
export async function quietCheck(admin: postgres.Sql, ourDatabases: string[], ms = 2000): Promise<PhaseLoad> {
  const stop = watchPhase(admin, ourDatabases);
  await Bun.sleep(ms);
  return stop();
}
