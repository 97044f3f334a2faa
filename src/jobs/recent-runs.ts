import { type SQL, sql } from "drizzle-orm";
import type { Core } from "../core";
import { queryRows } from "../db/client";

/**
 * Whether `job` has a succeeded run that started within the last `ms` (and meets `also`, a condition on the
 * job_runs row): what an in-process loop asks before doing what the scheduler may already have done.
 */
export async function succeededWithin(
  core: Pick<Core, "database" | "now">,
  job: string,
  ms: number,
  also: SQL = sql`true`,
): Promise<boolean> {
  const since = new Date(core.now().getTime() - ms).toISOString();
  const rows = await queryRows(
    core.database.db,
    sql`select 1 from job_runs
         where name = ${job} and started_at > ${since}::timestamptz and status = 'succeeded' and ${also}
         limit 1`,
  );
  return rows.length > 0;
}
