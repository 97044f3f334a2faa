import { sql } from "drizzle-orm";
import type { RequestMeta } from "../audit/service";
import { queryRows } from "../db/client";
import { type IdentityDeps, transact } from "./tx";

/**
 * Counts a failed password sign-in and locks the account at the limit, auditing both — in its own
 * committed transaction, so the count survives the sign-in's failure. Vendors and admins share it.
 */
export async function recordLoginFailure(
  deps: IdentityDeps,
  who: { kind: "admin" | "vendor"; id: string },
  ctx: RequestMeta,
  reason: string,
) {
  const { auth } = deps.config;
  const table = sql.identifier(who.kind === "admin" ? "admins" : "vendors");
  await transact(
    deps,
    async (tx) => {
      const now = deps.now();
      const lockUntil = new Date(now.getTime() + auth.loginLock * 1000);
      const [r] = await queryRows<{ failed_login_count: number; locked_until: string | null }>(
        tx,
        sql`update ${table} set
              failed_login_count = case when failed_login_count + 1 >= ${auth.loginMaxAttempts} then 0
                                        else failed_login_count + 1 end,
              locked_until = case when failed_login_count + 1 >= ${auth.loginMaxAttempts}
                                  then ${lockUntil.toISOString()}::timestamptz else locked_until end
            where id = ${who.id}
            returning failed_login_count, locked_until`,
      );
      const target = { type: who.kind, id: who.id };
      await deps.audit.record({ action: `${who.kind}.login.failed`, target, details: { reason } }, ctx, tx);
      if (r?.locked_until && new Date(r.locked_until) > now && Number(r.failed_login_count) === 0)
        await deps.audit.record(
          {
            action: `${who.kind}.login.locked`,
            target,
            details: { lockedUntil: new Date(r.locked_until).toISOString() },
          },
          ctx,
          tx,
        );
    },
    undefined,
    `${who.kind}s.loginFailure`,
  );
}
