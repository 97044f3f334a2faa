import { z } from "zod";
import type { Deployment } from "./core";
import { int } from "./shared";

/** Partners' funding limits (their prefunded float, checked on every deposit). Cents. */
export const partnersEnv = z.object({
  // No default here: it depends on KESHLESS_ENV (0 in production: nothing until finance tops a partner up).
  KESHLESS_PARTNER_DEFAULT_FUNDING_LIMIT: int(0, Number.MAX_SAFE_INTEGER).optional(),
});
export type PartnersEnv = z.infer<typeof partnersEnv>;

export const DEV_PARTNER_FUNDING_LIMIT = 1_000_000_000;

export function partnersSettings(e: PartnersEnv & Deployment) {
  const fallback = e.KESHLESS_ENV === "production" ? 0 : DEV_PARTNER_FUNDING_LIMIT;
  return {
    partners: {
      /** The funding limit a new partner starts with (cents): E10,000,000 in development and tests, 0 in production. */
      defaultFundingLimit: e.KESHLESS_PARTNER_DEFAULT_FUNDING_LIMIT ?? fallback,
    },
  };
}
export type PartnersSlice = ReturnType<typeof partnersSettings>;
export type PartnersConfig = PartnersSlice["partners"];
