import { eq, sql } from "drizzle-orm";
import { type Executor, queryRows } from "../db/client";
import { AppError } from "../http/errors";
import { users } from "./schema";

/**
 * What KYC changes of a user, in KYC's transaction: the tier (which the payment limits read on the next
 * payment), and on an approval the name and date of birth the document shows. Answers the phone (to tell them)
 * and the tier before.
 */
export async function applyKycTier(
  tx: Executor,
  change: { userId: string; tier: number; name?: string | null; dateOfBirth?: string | null },
  now: Date,
): Promise<{ phone: string; previousTier: number }> {
  const [row] = await queryRows<{ phone: string; previous: number }>(
    tx,
    sql`update users u set kyc_tier = ${change.tier},
               name = coalesce(${change.name ?? null}, u.name),
               date_of_birth = coalesce(${change.dateOfBirth ?? null}::date, u.date_of_birth),
               kyc_verified_at = case when ${change.name ?? null}::text is not null then ${now.toISOString()}::timestamptz
                                      else u.kyc_verified_at end,
               updated_at = ${now.toISOString()}::timestamptz
          from (select id, kyc_tier from users where id = ${change.userId} for update) before
         where u.id = before.id
     returning u.phone, before.kyc_tier as previous`,
  );
  if (!row) throw new AppError("NOT_FOUND", "No such user.");
  return { phone: row.phone, previousTier: Number(row.previous) };
}

/** The phone of a user, read in the caller's transaction (the embedded database has one connection). */
export async function phoneOfUser(tx: Executor, userId: string): Promise<string | null> {
  const [row] = await tx.select({ phone: users.phone }).from(users).where(eq(users.id, userId));
  return row?.phone ?? null;
}
