import { z } from "zod";
import { ConfigError, int } from "./shared";

/**
 * Notifications: the dev outbox or the providers (Eneza for WhatsApp, YeboLink for SMS), and the outbox that
 * delivers through them (issue 4). Times in ms.
 */
export const notificationsEnv = z.object({
  KESHLESS_NOTIFICATIONS: z.enum(["outbox", "providers"]).default("outbox"),
  KESHLESS_OUTBOX_INTERVAL_MS: int(50, 600_000).default(1000),
  KESHLESS_OUTBOX_MAX_ATTEMPTS: int(1, 100).default(8),
  KESHLESS_OUTBOX_BACKOFF_MS: int(10, 600_000).default(2000),
  KESHLESS_ENEZA_URL: z.url().optional(),
  KESHLESS_ENEZA_PATH: z.string().startsWith("/").default("/v1/messages"),
  KESHLESS_ENEZA_API_KEY: z.string().min(1).optional(),
  KESHLESS_ENEZA_TIMEOUT_MS: int(100, 60_000).default(5000),
  KESHLESS_ENEZA_BODY: z.string().default('{"to":"{{to}}","channel":"whatsapp","message":"{{text}}"}'),
  KESHLESS_ENEZA_SUCCESS_PATH: z.string().optional(),
  KESHLESS_ENEZA_ID_PATH: z.string().optional(),
  KESHLESS_YEBOLINK_URL: z.url().default("https://api.yebolink.com"),
  KESHLESS_YEBOLINK_API_KEY: z.string().min(1).optional(),
  KESHLESS_YEBOLINK_TIMEOUT_MS: int(100, 60_000).default(5000),
  KESHLESS_YEBOLINK_CHANNEL: z.enum(["sms", "whatsapp"]).default("sms"),
  KESHLESS_YEBOLINK_FROM_NAME: z.string().min(1).max(30).default("Keshless"),
});
export type NotificationsEnv = z.infer<typeof notificationsEnv>;

export function notificationsSettings(e: NotificationsEnv) {
  let bodyTemplate: unknown;
  try {
    bodyTemplate = JSON.parse(e.KESHLESS_ENEZA_BODY);
  } catch {
    throw new ConfigError("invalid configuration:\n  KESHLESS_ENEZA_BODY: is not valid JSON");
  }
  return {
    notifications: e.KESHLESS_NOTIFICATIONS,
    outbox: {
      intervalMs: e.KESHLESS_OUTBOX_INTERVAL_MS,
      maxAttempts: e.KESHLESS_OUTBOX_MAX_ATTEMPTS,
      backoffMs: e.KESHLESS_OUTBOX_BACKOFF_MS,
    },
    eneza: {
      url: e.KESHLESS_ENEZA_URL,
      path: e.KESHLESS_ENEZA_PATH,
      apiKey: e.KESHLESS_ENEZA_API_KEY,
      timeoutMs: e.KESHLESS_ENEZA_TIMEOUT_MS,
      /** JSON body template; string values "{{to}}" and "{{text}}" are filled in. */
      bodyTemplate,
      successPath: e.KESHLESS_ENEZA_SUCCESS_PATH,
      idPath: e.KESHLESS_ENEZA_ID_PATH,
    },
    yebolink: {
      url: e.KESHLESS_YEBOLINK_URL,
      apiKey: e.KESHLESS_YEBOLINK_API_KEY,
      timeoutMs: e.KESHLESS_YEBOLINK_TIMEOUT_MS,
      channel: e.KESHLESS_YEBOLINK_CHANNEL,
      fromName: e.KESHLESS_YEBOLINK_FROM_NAME,
    },
  };
}
export type NotificationsSlice = ReturnType<typeof notificationsSettings>;
export type EnezaConfig = NotificationsSlice["eneza"];
export type YeboLinkConfig = NotificationsSlice["yebolink"];
