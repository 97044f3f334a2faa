import { z } from "zod";
import { int } from "./shared";

/** USSD (issue 7). Times in seconds unless named _MS. The shared gateway secret is in secrets.ts. */

/** The code subscribers dial, as the operator assigns it; the website and the simulator show this one. */
export const DEFAULT_USSD_CODE = "*247#";

export const ussdEnv = z.object({
  KESHLESS_USSD_GATEWAY_SECRET_MTN: z.string().min(16).optional(),
  KESHLESS_USSD_GATEWAY_SECRET_AT: z.string().min(16).optional(),
  KESHLESS_USSD_SESSION_TTL: int(30, 3600).default(180),
  KESHLESS_USSD_RETRY_WINDOW_MS: int(0, 60_000).default(1500),
  KESHLESS_USSD_TERMS_URL: z.string().min(1).max(40).default("keshless.com/terms"),
  KESHLESS_USSD_CODE: z
    .string()
    .regex(/^\*\d{2,6}(\*\d{1,6})*#$/, "a USSD code such as *247#")
    .default(DEFAULT_USSD_CODE),
});
export type UssdEnv = z.infer<typeof ussdEnv>;

export function ussdSettings(e: UssdEnv) {
  return {
    ussd: {
      /** Per-gateway X-Gateway-Secret values; a gateway without one uses secrets.ussdGateway. */
      gatewaySecrets: { mtn: e.KESHLESS_USSD_GATEWAY_SECRET_MTN, at: e.KESHLESS_USSD_GATEWAY_SECRET_AT },
      /** Idle seconds before a session is dead (gateways give up after about 180 s). */
      sessionTtl: e.KESHLESS_USSD_SESSION_TTL,
      /**
       * For a gateway that sends only the latest input (MTN): the same input again within this is the
       * gateway resending, not the subscriber — no one reads a new screen and answers it that fast.
       */
      retryWindowMs: e.KESHLESS_USSD_RETRY_WINDOW_MS,
      termsUrl: e.KESHLESS_USSD_TERMS_URL,
      /** What subscribers dial (gateways route it to us; the menus do not depend on it). */
      code: e.KESHLESS_USSD_CODE,
    },
  };
}
export type UssdSlice = ReturnType<typeof ussdSettings>;
export type UssdConfig = UssdSlice["ussd"];
