import type { Core } from "../core";
import { API, defineModule, USSD } from "../module";
import { ersProxyRoutes } from "./proxy-routes";
import { airtimeRoutes } from "./routes";
import { type AirtimeDeps, createAirtime } from "./service";

/** Airtime top-ups through the operators' ERS360 SOAP APIs, held until the operator answers, then reconciled. */
export const airtimeModule = defineModule({
  name: "airtime",
  create: (core, peers: Omit<AirtimeDeps, keyof Core>) => createAirtime({ ...core, ...peers }),
  routes: (airtime, core, { identity }) => [
    { roles: API, router: airtimeRoutes({ airtime, identity }) },
    // Swazi Mobile's ERS360 is reachable from the USSD deployment only.
    { roles: USSD, router: ersProxyRoutes({ config: core.config, logger: core.logger, airtime }) },
  ],
  jobs: (airtime, core) => [
    {
      name: "airtime-reconcile",
      path: "/jobs/airtime-reconcile",
      schedule: "*/5 * * * *",
      summary:
        "Settle airtime orders whose outcome is not yet known: ask the operator about each clientReference, then post, refund or retry",
      async run() {
        const result = await airtime.reconcile();
        return { summary: { ...result }, ok: result.failed === 0 };
      },
      loop: {
        // Looks far more often than the schedule: an order whose outcome is unknown holds the customer's money, and
        // KESHLESS_AIRTIME_RECONCILE_INTERVAL_MS is in milliseconds (down to 200), finer than a cron can say.
        everyMs: core.config.airtime.reconcileIntervalMs,
        due: async () => (await airtime.countDue()) > 0,
      },
    },
  ],
  // A top-up already sent is waited for at shutdown, so its answer is recorded rather than left for the reconciler.
  workers: (airtime) => [{ start() {}, stop: () => airtime.idle() }],
});
