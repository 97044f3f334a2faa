import { sql } from "drizzle-orm";
import type { Airtime } from "../airtime";
import type { Audit } from "../audit";
import { purgeCutoff } from "../db/purge";
import type { Identity } from "../identity";
import { defineModule, USSD } from "../module";
import type { Payments } from "../payments";
import type { Withdrawals } from "../withdrawals";
import { createUssd } from "./index";
import { ussdRoutes } from "./routes";

/** Dead USSD sessions are kept a day, for support to see what happened. */
const DEAD_MS = 86_400_000;

/** The USSD menus over the same services as REST, in process; keshless-ussd serves only these and the ERS proxy. */
export const ussdModule = defineModule({
  name: "ussd",
  create: (
    core,
    peers: { identity: Identity; payments: Payments; withdrawals: Withdrawals; airtime: Airtime; audit: Audit },
  ) => createUssd({ ...core, ...peers }),
  routes: (ussd, core) => [{ roles: USSD, router: ussdRoutes({ config: core.config, ussd }) }],
  purges: (_core, now) => [
    { table: "ussd_sessions", key: ["gateway", "session_id"], where: sql`t.expires_at < ${purgeCutoff(now, DEAD_MS)}` },
  ],
});
