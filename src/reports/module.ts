import { z } from "@hono/zod-openapi";
import { eswatiniDayRange, previousEswatiniDay } from "../lib/clock";
import { dayField } from "../lib/input";
import { API, defineModule } from "../module";
import type { Storage } from "../storage";
import { reportRoutes } from "./routes";
import { createReports } from "./service";

/**
 * Reports: the daily financial, operational and compliance reports of one local day, counted from the ledger, the
 * transactions and the other modules' records (read through their schema.ts), stored in `reports` and as CSV in
 * the backups bucket under reports/, read by finance and compliance at /admin/v1/reports.
 */
export const reportsModule = defineModule({
  name: "reports",
  create: (core, peers: { storage: Pick<Storage, "backups"> }) => createReports({ ...core, storage: peers.storage }),
  routes: (reports) => [{ roles: API, router: reportRoutes({ reports }) }],
  jobs: (reports, core) => {
    const query = z.object({
      date: dayField
        // A day that has not begun has nothing to count: the caller's mistake (400), not a failed run.
        .refine((day) => eswatiniDayRange(day).from <= core.now(), {
          message: "a day that has begun in Africa/Mbabane",
        })
        .optional()
        .openapi({ description: "The local day (Africa/Mbabane) to report; yesterday when left out" }),
    });
    return [
      {
        name: "report-generation",
        path: "/report-jobs/generate",
        // After midnight in Mbabane, once the day being reported has ended.
        schedule: "30 0 * * *",
        summary:
          "Generate the day's financial, operational and compliance reports (yesterday in Africa/Mbabane, or ?date=) " +
          "into the reports table and as CSV under reports/ in the backups bucket; the same day again replaces them. " +
          "Fails when the trial balance does not sum to zero (the report is still stored, saying so)",
        query,
        async run(ctx) {
          const { date } = query.parse(ctx.query ?? {});
          const generated = await reports.generate(date);
          const summary = {
            date: generated.date,
            balanced: generated.balanced,
            reports: generated.reports.map((r) => ({ id: r.id, type: r.type, object: r.csvObject })),
          };
          if (!generated.balanced)
            return { summary: { ...summary, error: "the trial balance does not sum to zero" }, ok: false };
          return { summary, ok: true };
        },
        // In the embedded default: yesterday's reports, once, when the schedule comes round and they are missing.
        loop: { due: async () => !(await reports.has(previousEswatiniDay(core.now()))) },
      },
    ];
  },
});
