import { z } from "zod";
import type { Deployment } from "./core";
import { bool, int } from "./shared";

/** Partner webhooks' delivery (their signing key is in secrets.ts). Times in ms unless named otherwise. */
export const webhooksEnv = z.object({
  KESHLESS_WEBHOOK_INTERVAL_MS: int(50, 600_000).default(1000),
  KESHLESS_WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(10_000),
  KESHLESS_WEBHOOK_BACKOFF_MS: int(10, 3_600_000).default(30_000),
  KESHLESS_WEBHOOK_MAX_BACKOFF_MS: int(10, 24 * 3_600_000).default(3_600_000),
  KESHLESS_WEBHOOK_RETRY_WINDOW: int(1, 7 * 86_400).default(86_400),
  // No default here: it depends on KESHLESS_ENV (true only in development), applied in webhooksSettings.
  KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.optional(),
});
export type WebhooksEnv = z.infer<typeof webhooksEnv>;

export function webhooksSettings(e: WebhooksEnv & Deployment) {
  return {
    /** Partner webhooks: retried with exponential backoff for `retryWindowSeconds`, then failed. */
    webhooks: {
      intervalMs: e.KESHLESS_WEBHOOK_INTERVAL_MS,
      timeoutMs: e.KESHLESS_WEBHOOK_TIMEOUT_MS,
      backoffMs: e.KESHLESS_WEBHOOK_BACKOFF_MS,
      maxBackoffMs: e.KESHLESS_WEBHOOK_MAX_BACKOFF_MS,
      retryWindowSeconds: e.KESHLESS_WEBHOOK_RETRY_WINDOW,
      /**
       * Whether endpoints may be (and resolve to) loopback, private, link-local or other non-public addresses.
       * Off outside development, so a partner cannot make our servers call our own network.
       */
      allowPrivateNetworks: e.KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS ?? e.KESHLESS_ENV === "development",
    },
  };
}
export type WebhooksSlice = ReturnType<typeof webhooksSettings>;
