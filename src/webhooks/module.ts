import { sql } from "drizzle-orm";
import type { Audit } from "../audit";
import { purgeCutoff } from "../db/purge";
import type { Identity } from "../identity";
import { API, defineModule } from "../module";
import { webhookRoutes } from "./routes";
import { createWebhooks } from "./service";

const DAY = 86_400_000;

/** Signed event deliveries to partners' endpoints, retried with backoff for 24 h. */
export const webhooksModule = defineModule({
  name: "webhooks",
  create: (core, peers: { audit: Audit; identity: Identity }) => createWebhooks({ ...core, audit: peers.audit }),
  routes: (webhooks, _core, { identity }) => [{ roles: API, router: webhookRoutes({ identity, webhooks }) }],
  purges: (core, now) => {
    const retained = purgeCutoff(now, core.config.retention.days * DAY);
    return [
      {
        table: "webhook_deliveries",
        key: ["id"],
        where: sql`t.status in ('delivered', 'failed') and t.created_at < ${retained}`,
        child: { table: "webhook_attempts", column: "delivery_id", references: "id" },
      },
      {
        // After the deliveries: an old event goes once nothing refers to it.
        table: "webhook_events",
        key: ["id"],
        where: sql`t.created_at < ${retained} and not exists (select 1 from webhook_deliveries d where d.event_id = t.id)`,
      },
    ];
  },
  workers: (webhooks) => [webhooks],
});
