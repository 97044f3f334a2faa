import { asc, eq } from "drizzle-orm";
import type { Audit, RequestMeta } from "../audit";
import type { TierLimits } from "../config";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import { kycTierLimits } from "./schema";
import type { TierLimitsCache, TierLimitsDeps } from "./tier-limits";

/**
 * The KYC tiers' limits as compliance admins see and set them (GET and PUT /admin/v1/settings/limits): a change
 * is audited with its before and after in the transaction that makes it, and applies on this instance at once,
 * on every other within tier-limits.ts's MAX_AGE_MS.
 */

export interface TierLimitsSettingsDeps extends TierLimitsDeps {
  now: () => Date;
  audit: Pick<Audit, "record">;
  tierLimits: TierLimitsCache;
}

export interface TierLimitsView extends TierLimits {
  tier: number;
  /** The admin who last set them; null while they are the environment's first-boot default. */
  updatedBy: string | null;
  updatedAt: string;
}

type Row = typeof kycTierLimits.$inferSelect;

const limitsOf = (row: Row): TierLimits => ({
  perTransaction: row.perTransaction,
  daily: row.daily,
  monthly: row.monthly,
  maxBalance: row.maxBalance,
});

const viewOf = (row: Row): TierLimitsView => ({
  tier: row.tier,
  ...limitsOf(row),
  updatedBy: row.updatedBy,
  updatedAt: row.updatedAt.toISOString(),
});

export async function listTierLimits(deps: TierLimitsSettingsDeps): Promise<TierLimitsView[]> {
  // A first read stores the environment's tiers, so every tier in force is listed with where it came from.
  await deps.tierLimits.load();
  const rows = await deps.database.db.select().from(kycTierLimits).orderBy(asc(kycTierLimits.tier));
  return rows.map(viewOf);
}

/** Sets a tier the table or the environment knows (a new tier is KYC's to define, not a setting): 404 otherwise. */
export async function setTierLimits(
  deps: TierLimitsSettingsDeps,
  tier: number,
  limits: TierLimits,
  admin: { id: string },
  meta: RequestMeta,
): Promise<TierLimitsView> {
  const saved = await withTransaction(
    deps,
    async (tx) => {
      const [row] = await tx.select().from(kycTierLimits).where(eq(kycTierLimits.tier, tier)).for("update");
      const before = row ? limitsOf(row) : deps.config.kycLimits[String(tier)];
      if (!before) throw new AppError("NOT_FOUND", "No such KYC tier.", { tier });
      const set = { ...limits, updatedBy: admin.id, updatedAt: deps.now() };
      const [after] = await tx
        .insert(kycTierLimits)
        .values({ tier, ...set })
        .onConflictDoUpdate({ target: kycTierLimits.tier, set })
        .returning();
      await deps.audit.record(
        {
          action: "settings.limits.update",
          actor: { type: "admin", id: admin.id },
          target: { type: "kyc_tier", id: String(tier) },
          details: { tier, before, after: limits },
        },
        meta,
        tx,
      );
      return after!;
    },
    { label: "payments.tierLimits.set" },
  );
  deps.tierLimits.applied(tier, limitsOf(saved));
  return viewOf(saved);
}

export function createTierLimitsSettings(deps: TierLimitsSettingsDeps) {
  return {
    list: () => listTierLimits(deps),
    set: (tier: number, limits: TierLimits, admin: { id: string }, meta: RequestMeta) =>
      setTierLimits(deps, tier, limits, admin, meta),
  };
}

export type TierLimitsSettings = ReturnType<typeof createTierLimitsSettings>;
