import type { Audit } from "../audit";
import { succeededWithin } from "../jobs";
import { API, defineModule } from "../module";
import { amlRoutes } from "./aml-routes";
import { type AmlDeps, createAml } from "./aml-service";
import { sanctionsRoutes } from "./sanctions-routes";
import { createSanctions } from "./sanctions-service";
import { type IdentityStatus, identitySubjects, type VendorCreation } from "./sanctions-subjects";

/**
 * Compliance: sanctions screening against the UN Security Council Consolidated List (its sync, the matcher,
 * the matches analysts decide), and AML monitoring (the rules, the monitor over committed transactions, the
 * alerts and their escalation, the STR export). A match freezes the subject through identity's user and vendor
 * status, and opens an AML alert — as does an analyst's confirming it — in the match's own transaction.
 */
const SYNC_STALE_MS = 25 * 3_600_000;

export const complianceModule = defineModule({
  name: "compliance",
  create: (
    core,
    peers: {
      audit: Audit;
      identity: IdentityStatus & { admins: AmlDeps["admins"]; vendors: VendorCreation };
      notifications: AmlDeps["notifications"];
    },
  ) => {
    const aml = createAml({
      ...core,
      audit: peers.audit,
      admins: peers.identity.admins,
      notifications: peers.notifications,
    });
    const sanctions = createSanctions({
      ...core,
      audit: peers.audit,
      subjects: identitySubjects(peers.identity),
      onRecorded: aml.sanctionsHit,
      onConfirmed: aml.sanctionsHit,
    });
    // A vendor's name is set when an admin creates it (it never changes): screened then, not at the next sync.
    peers.identity.vendors.onCreated((vendor, meta) =>
      sanctions.screenSubject({ type: "vendor", id: vendor.id, name: vendor.name }, {}, meta),
    );
    return { sanctions, aml };
  },
  routes: ({ sanctions, aml }) => [
    { roles: API, router: sanctionsRoutes({ sanctions }) },
    { roles: API, router: amlRoutes({ aml }) },
  ],
  jobs: ({ sanctions, aml }, core) => [
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
      // Not only at 04:15: a system holding no list screens nobody, and one whose last good sync is more than a day
      // old (a failed download, no scheduler calling) is out of date — either is put right within a minute.
      loop: {
        everyMs: 60_000,
        due: async () =>
          !(await sanctions.currentList()) || !(await succeededWithin(core, "sanctions-sync", SYNC_STALE_MS)),
      },
    },
    {
      name: "alert-escalation",
      path: "/jobs/alert-escalation",
      // More often than the interval (4 h), so an alert escalates within 15 minutes of falling due.
      schedule: "*/15 * * * *",
      summary:
        "Escalate every AML alert not closed whose nextEscalationAt has passed: one level up (capped), into the next " +
        "role's queue (KESHLESS_AML_ESCALATION_LADDER), audited, due again after KESHLESS_AML_ESCALATION_HOURS",
      async run(ctx) {
        const summary = await aml.escalateDue(core.now(), ctx.meta);
        return { summary: { ...summary }, ok: true };
      },
      loop: { due: async () => (await aml.countDueAlerts(core.now())) > 0 },
    },
  ],
  // The AML monitor, wherever the API runs (the USSD deployment only serves the gateways).
  workers: ({ aml }, core) => (core.config.role === "ussd" ? [] : [aml.monitor]),
});
