import type { Audit } from "../audit";
import { API, defineModule } from "../module";
import { sanctionsRoutes } from "./sanctions-routes";
import { createSanctions } from "./sanctions-service";
import { type IdentityStatus, identitySubjects } from "./sanctions-subjects";

/**
 * Compliance: sanctions screening against the UN Security Council Consolidated List (its sync, the matcher,
 * the matches analysts decide). A match freezes the subject through identity's user and vendor status.
 */
export const complianceModule = defineModule({
  name: "compliance",
  create: (core, peers: { audit: Audit; identity: IdentityStatus }) => ({
    sanctions: createSanctions({ ...core, audit: peers.audit, subjects: identitySubjects(peers.identity) }),
  }),
  routes: ({ sanctions }) => [{ roles: API, router: sanctionsRoutes({ sanctions }) }],
  jobs: ({ sanctions }) => [
    {
      name: "sanctions-sync",
      path: "/sanctions-jobs/sync",
      // Daily, before the working day; the UN republishes the list whenever it changes.
      schedule: "15 4 * * *",
      summary:
        "Download the UN sanctions list (KESHLESS_SANCTIONS_URL), replace the current one when it is whole and newer, " +
        "and screen every user and vendor against the entries that are new or changed",
      async run(ctx) {
        const summary = await sanctions.sync(ctx.meta);
        return { summary: { ...summary }, ok: true };
      },
      loop: { due: async () => true },
    },
  ],
});
