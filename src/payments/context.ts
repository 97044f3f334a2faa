import type { Config } from "../config";
import type { Database } from "../db/client";
import { AppError } from "../http/errors";
import type { AccountKind, Ledger } from "../ledger";
import { createPaymentsGroupCommit } from "./batches";
import type { TierLimitsCache } from "./tier-limits";
import type { PartyLookup, PaymentsPorts } from "./types";

/** What the payments service is built from. */
export interface PaymentsDeps {
  config: Config;
  database: Database;
  ledger: Ledger;
  ports: PaymentsPorts;
  now: () => Date;
  /** The KYC tiers' limits, held in memory for the module's every service (tier-limits.ts). */
  tierLimits: TierLimitsCache;
}

/**
 * What planning, commit, limits and history share, built once per service — never module-global, so every
 * system built in one process (the tests build many) has its own wallet-id cache.
 */
export interface PaymentsContext extends PaymentsDeps {
  /** Wallet account ids by "kind:owner" (walletOf). */
  walletIds: Map<string, string>;
  /** The parties as the database has them now: planning's lookup unless the fast lane passes its caches. */
  freshLookup: PartyLookup;
  /** The fast lane's concurrent movements, written together (commit.ts). */
  groupCommit: ReturnType<typeof createPaymentsGroupCommit>;
}

export type WalletKind = Extract<AccountKind, "user_wallet" | "vendor_wallet">;

export function paymentsContext({ config, database, ledger, ports, now, tierLimits }: PaymentsDeps): PaymentsContext {
  return {
    config,
    database,
    ledger,
    ports,
    now,
    tierLimits,
    walletIds: new Map(),
    groupCommit: createPaymentsGroupCommit(database, config),
    freshLookup: {
      userById: (id) => ports.users.get(id),
      userByPhone: (phone) => ports.users.findByPhone(phone),
      vendorByCode: (code) => ports.vendors.findByCode(code),
    },
  };
}

/** Wallet account ids never change: cached per process after the first lookup. */
export async function walletOf(
  { walletIds, ledger }: Pick<PaymentsContext, "walletIds" | "ledger">,
  kind: WalletKind,
  ownerId: string,
) {
  const code = `${kind}:${ownerId}`;
  const cached = walletIds.get(code);
  if (cached) return cached;
  const account = await ledger.findAccount(kind, ownerId, "SZL");
  if (!account) throw new AppError("NOT_FOUND", "That wallet does not exist.");
  walletIds.set(code, account.id);
  return account.id;
}
