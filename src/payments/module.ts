import { sql } from "drizzle-orm";
import type { Approvals } from "../approvals";
import type { Audit } from "../audit";
import type { Identity } from "../identity";
import { pinLimit } from "../identity";
import type { Ledger } from "../ledger";
import { eswatiniIso } from "../lib/clock";
import { API, defineModule } from "../module";
import type { Notifications } from "../notifications";
import type { Webhooks } from "../webhooks";
import { createPaymentsAdmin } from "./admin";
import { paymentAdminRoutes } from "./admin-routes";
import { createFastLane } from "./fast-lane";
import { paymentRequestRoutes } from "./request-routes";
import { createPaymentRequests } from "./requests";
import { paymentRoutes } from "./routes";
import { createPayments } from "./service";
import { createTierLimits } from "./tier-limits";
import { tierLimitsRoutes } from "./tier-limits-routes";
import { createTierLimitsSettings } from "./tier-limits-settings";

const DAY = 86_400_000;
/** Limits read only the current local day and month; older counters are kept a little while for support. */
const USAGE_DAYS = 3;
const USAGE_MONTHS = 2;

interface PaymentsPeers {
  ledger: Ledger;
  identity: Identity;
  approvals: Approvals;
  audit: Audit;
  notifications: Notifications;
  webhooks: Webhooks;
}

/**
 * Payments, transfers, deposits, payment requests, the fast lane, admin search, ledger views and reversals, and the
 * KYC tiers' limits as settings.
 */
export const paymentsModule = defineModule({
  name: "payments",
  create: (core, peers: PaymentsPeers) => {
    const { identity } = peers;
    const tierLimits = createTierLimits(core);
    const payments = createPayments({
      ...core,
      ledger: peers.ledger,
      ports: { users: identity.users, vendors: identity.vendors, partners: identity.partners },
      tierLimits,
    });
    return {
      payments,
      tierLimits,
      tierLimitsSettings: createTierLimitsSettings({ ...core, audit: peers.audit, tierLimits }),
      fastLane: createFastLane({
        database: core.database,
        payments,
        ports: { users: identity.users, vendors: identity.vendors },
        pinProof: identity.users.pinProof,
        pinLimit: pinLimit(core),
        pinRefused: identity.users.pinRefused,
      }),
      requests: createPaymentRequests({ ...core, payments, vendors: identity.vendors }),
      admin: createPaymentsAdmin({ ...core, ...peers, payments }),
    };
  },
  routes: (s, core, { identity, audit }) => [
    {
      roles: API,
      router: paymentRoutes({ database: core.database, identity, payments: s.payments, paymentsFastLane: s.fastLane }),
    },
    {
      roles: API,
      router: paymentRequestRoutes({
        config: core.config,
        identity,
        payments: s.payments,
        paymentRequests: s.requests,
      }),
    },
    { roles: API, router: paymentAdminRoutes({ audit, paymentsAdmin: s.admin }) },
    { roles: API, router: tierLimitsRoutes({ tierLimitsSettings: s.tierLimitsSettings }) },
  ],
  purges: (_core, now) => {
    const local = eswatiniIso(now);
    const firstKeptMonth = new Date(
      Date.UTC(Number(local.slice(0, 4)), Number(local.slice(5, 7)) - 1 - USAGE_MONTHS, 1),
    ).toISOString();
    const firstKeptDay = `d:${eswatiniIso(new Date(now.getTime() - USAGE_DAYS * DAY)).slice(0, 10)}`;
    return [
      {
        table: "usage_counters",
        key: ["owner_id", "period"],
        // "C": periods compare character by character, whatever the database's collation does with punctuation.
        where: sql`(left(t.period, 2) = 'd:' and t.period collate "C" < ${firstKeptDay})
                or (left(t.period, 2) = 'm:' and t.period collate "C" < ${`m:${firstKeptMonth.slice(0, 7)}`})`,
      },
    ];
  },
  approvalKinds: (s) => s.admin.approvalKinds,
  workers: (s, core) => {
    let warming: Promise<unknown> | undefined;
    return [
      {
        // The boot's first read stores the environment's tiers the table lacks (the first-boot default).
        start: () => {
          warming = s.tierLimits
            .load()
            .catch((err) => core.logger.warn({ err }, "kyc tier limits: first read failed; payments will retry it"));
        },
        stop: async () => {
          await warming;
        },
      },
    ];
  },
});
