import { sql } from "drizzle-orm";
import type { Approvals } from "../approvals";
import type { Audit } from "../audit";
import { purgeCutoff } from "../db/purge";
import type { Ledger } from "../ledger";
import { API, defineModule } from "../module";
import type { Notifications } from "../notifications";
import { identityCommands } from "./cli";
import { credentialsContext } from "./guards";
import { createIdentity } from "./index";
import { adminRoutes } from "./routes/admin";
import { partnerRoutes } from "./routes/partner";
import { userRoutes } from "./routes/users";
import { vendorRoutes } from "./routes/vendors";

/** Dead OTP challenges are kept a day, for support to see what happened. */
const DEAD_MS = 86_400_000;

/** Users, vendors, admins and partners; sign-in, credentials, permissions, and the guards every route uses. */
export const identityModule = defineModule({
  name: "identity",
  create: (core, peers: { audit: Audit; notifications: Notifications; approvals: Approvals; ledger: Ledger }) =>
    createIdentity({ ...core, ...peers }),
  middleware: (identity) => [credentialsContext({ tokens: identity.tokens, partners: identity.partners })],
  routes: (identity, _core, { audit }) => [
    { roles: API, router: userRoutes({ identity }) },
    { roles: API, router: vendorRoutes({ identity }) },
    { roles: API, router: adminRoutes({ identity, audit }) },
    { roles: API, router: partnerRoutes({ identity }) },
  ],
  purges: (_core, now) => [
    { table: "otp_challenges", key: ["id"], where: sql`t.expires_at < ${purgeCutoff(now, DEAD_MS)}` },
  ],
  approvalKinds: (identity) => ({ ...identity.partners.approvalKinds, ...identity.partnerFunding.approvalKinds }),
  commands: identityCommands,
});
