import { sql } from "drizzle-orm";
import { purgeCutoff } from "../db/purge";
import { API, defineModule } from "../module";
import { devOutboxRoutes } from "./routes";
import { createNotifications } from "./service";

const DAY = 86_400_000;

/** SMS and WhatsApp to people, through a durable outbox (Eneza first, YeboLink as fallback). */
export const notificationsModule = defineModule({
  name: "notifications",
  create: (core, _peers: Record<string, never>) => createNotifications(core),
  // The handler answers 404 in production. Not on "ussd": that deployment serves only the gateways.
  routes: (notifications, core) => [{ roles: API, router: devOutboxRoutes({ config: core.config, notifications }) }],
  purges: (core, now) => [
    {
      table: "notification_outbox",
      key: ["id"],
      where: sql`t.status in ('sent', 'failed', 'expired') and t.created_at < ${purgeCutoff(now, core.config.retention.days * DAY)}`,
    },
  ],
  // Delivers queued notifications (OTP codes first) and sweeps spent rate-limit rows.
  workers: (notifications) => [notifications],
});
