import os from "node:os";
import type postgres from "postgres";

/** What a results table must say about where it was measured: the machine and the Postgres settings that matter. */
export async function describeMachine(admin: postgres.Sql) {
  const settings: Record<string, string> = {};
  for (const name of ["max_connections", "shared_buffers", "synchronous_commit", "fsync", "max_pred_locks_per_page"]) {
    const [row] = await admin.unsafe(`show ${name}`);
    settings[name] = String(Object.values(row!)[0]);
  }
  const [row] = await admin<{ version: string }[]>`select version()`;
  const machine = {
    cpus: os.availableParallelism(),
    ramGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    postgres: row!.version.split(" on ")[0]!,
    bun: Bun.version,
  };
  return { machine, settings };
}
