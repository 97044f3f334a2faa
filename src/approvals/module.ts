import type { Audit } from "../audit";
import { API, defineModule } from "../module";
import { approvalRoutes } from "./routes";
import { createApprovals } from "./service";

/** The maker-checker queue. Kinds come from the modules that decide them (`approvalKinds`). */
export const approvalsModule = defineModule({
  name: "approvals",
  create: (core, peers: { audit: Audit }) => createApprovals({ ...core, ...peers }),
  routes: (approvals) => [{ roles: API, router: approvalRoutes({ approvals }) }],
  jobs: (approvals, core) => [
    {
      name: "approval-expiry",
      path: "/jobs/approval-expiry",
      schedule: "*/15 * * * *",
      summary:
        "Expire every pending approval older than its TTL (KESHLESS_APPROVAL_TTL_HOURS): release its held funds and tell the owner",
      async run(ctx) {
        const result = await approvals.expireDue(core.now(), ctx.meta);
        return { summary: { ...result }, ok: result.failed === 0 };
      },
      loop: { due: async () => (await approvals.countDue(core.now())) > 0 },
    },
  ],
});
