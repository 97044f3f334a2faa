import { API, defineModule } from "../module";
import { auditRoutes } from "./routes";
import { createAudit } from "./service";

/** The audit log: every module records through it, in the transaction of the change it records. */
export const auditModule = defineModule({
  name: "audit",
  create: (core, _peers: Record<string, never>) => createAudit(core),
  routes: (audit) => [{ roles: API, router: auditRoutes({ audit }) }],
});
