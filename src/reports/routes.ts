import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth } from "../identity";
import { dayField } from "../lib/input";
import { REPORT_TYPES } from "./build";
import type { Reports } from "./service";

const bearer = [{ bearer: [] }];
const tags = ["admin: reports"];
const cents = (description: string) =>
  z
    .number()
    .int()
    .openapi({ description: `${description}, in cents` });
const count = z.number().int();

const listItemSchema = z
  .object({
    id: z.string().openapi({ example: "rpt_…" }),
    type: z.enum(REPORT_TYPES),
    date: z.string().openapi({ format: "date", description: "The local day (Africa/Mbabane) it covers" }),
    generatedAt: z.string().openapi({ format: "date-time" }),
    summary: z.record(z.string(), z.unknown()).openapi({ description: "The report's headline figures (its summary)" }),
  })
  .openapi("ReportListItem");

const common = {
  id: z.string(),
  date: z.string().openapi({ format: "date" }),
  from: z.string().openapi({ format: "date-time", description: "The day's first instant (local midnight, in UTC)" }),
  to: z.string().openapi({ format: "date-time", description: "The next day's first instant" }),
  generatedAt: z.string().openapi({ format: "date-time" }),
  complete: z.boolean().openapi({ description: "Generated after the day ended; false: a partial picture of today" }),
};

const financialSchema = z
  .object({
    ...common,
    type: z.literal("financial"),
    summary: z.object({
      currency: z.string(),
      balanced: z.boolean().openapi({ description: "The trial balance sums to zero in every currency" }),
      transactions: count,
      volume: cents("What the day's journals moved (their transactions' amounts)"),
      fees: cents("The fees those transactions carried (a reversal's, given back, negative)"),
      feeRevenue: cents("What they moved on the fee revenue account (reversals give fees back)"),
      eMoneyOutstanding: cents("Every user and vendor wallet at the day's end, holds included"),
      float: cents("The partners' settlement (float) accounts at the day's end"),
      difference: cents("float − eMoneyOutstanding"),
      unexplained: cents("The part of the difference the other accounts do not explain; 0 when balanced"),
    }),
    trialBalance: z.object({
      balanced: z.boolean(),
      currencies: z.array(
        z.object({
          currency: z.string(),
          balanced: z.boolean(),
          net: cents("The closing balances' sum (0 when balanced)"),
          kinds: z.array(
            z.object({
              kind: z.string(),
              accounts: count,
              opening: cents("Balance at the day's start (positive: credit)"),
              debits: cents("What the day's entries took out"),
              credits: cents("What the day's entries put in"),
              closing: cents("Balance at the day's end"),
            }),
          ),
        }),
      ),
    }),
    volumes: z.array(
      z.object({
        type: z.string(),
        currency: z.string(),
        count,
        amount: cents("Amount"),
        fees: cents("Fees"),
        feeRevenue: cents("Fee revenue moved"),
      }),
    ),
    eMoney: z.array(
      z.object({
        currency: z.string(),
        userWallets: cents("User wallets"),
        vendorWallets: cents("Vendor wallets"),
        held: cents("Of which reserved by pending holds"),
        outstanding: cents("User and vendor wallets"),
        float: cents("Partners' settlement accounts"),
        difference: cents("float − outstanding"),
        explainedBy: z.array(z.object({ kind: z.string(), balance: cents("Closing balance") })),
        unexplained: cents("difference − the explaining balances"),
      }),
    ),
  })
  .openapi("FinancialReport");

const operationalSchema = z
  .object({
    ...common,
    type: z.literal("operational"),
    summary: z.object({
      newUsers: count,
      newVendors: count,
      activeUsers: count,
      activeVendors: count,
      transactions: count,
      failedTransactions: count,
      ussdSessions: count,
      notifications: count,
      notificationsFailed: count,
      webhookDeliveries: count,
      webhooksFailed: count,
    }),
    people: z.object({ newUsers: count, newVendors: count, activeUsers: count, activeVendors: count }),
    transactions: z.array(
      z.object({
        type: z.string(),
        channel: z.string().openapi({ description: "ussd · app · partner_api · admin · unknown" }),
        count,
        completed: count,
        pending: count,
        failed: count,
        reversed: count,
      }),
    ),
    ussd: z.array(z.object({ gateway: z.string(), sessions: count, ended: count })),
    notifications: z.array(z.object({ channel: z.string(), status: z.string(), count })),
    webhooks: z.array(z.object({ status: z.string(), count, attempts: count })),
  })
  .openapi("OperationalReport");

const party = z.object({ type: z.string(), id: z.string() });

const complianceSchema = z
  .object({
    ...common,
    type: z.literal("compliance"),
    summary: z.object({
      alertsOpened: count,
      alertsEscalated: count,
      alertsClosed: count,
      sanctionsMatches: count,
      kycApproved: count,
      kycRejected: count,
      cashThresholdTransactions: count,
      cashThresholdAmount: cents("Their total"),
    }),
    amlAlerts: z.object({
      opened: z.array(z.object({ ruleType: z.string(), count })),
      escalated: count,
      closed: z.array(z.object({ outcome: z.string(), count })),
    }),
    sanctionsMatches: z.object({ recorded: count, cleared: count, confirmed: count }),
    kyc: z.object({
      submitted: count,
      inReview: count,
      decisions: z.array(z.object({ status: z.string(), tier: z.number().int().nullable(), count })),
    }),
    cashThreshold: z.object({
      threshold: cents("KESHLESS_AML_CASH_THRESHOLD"),
      transactions: z.array(
        z.object({
          id: z.string(),
          type: z.string(),
          status: z.string(),
          amount: cents("Amount"),
          currency: z.string(),
          payer: party,
          payee: party,
          createdAt: z.string(),
        }),
      ),
    }),
  })
  .openapi("ComplianceReport");

const reportSchema = z.discriminatedUnion("type", [financialSchema, operationalSchema, complianceSchema]);

/** GET /admin/v1/reports and /admin/v1/reports/{id} (reports:read: finance, compliance, super_admin). */
export function reportRoutes(deps: { reports: Reports }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/reports",
      tags,
      summary: "The daily reports, newest day first",
      security: bearer,
      middleware: [adminAuth("reports:read")] as const,
      request: {
        query: paginationQuery.extend({
          type: z.enum(REPORT_TYPES).optional(),
          from: dayField.optional().openapi({ description: "Days on or after (YYYY-MM-DD)" }),
          to: dayField.optional().openapi({ description: "Days on or before (YYYY-MM-DD)" }),
        }),
      },
      responses: { 200: jsonContent(listOf(listItemSchema), "A page of reports"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { type, from, to, limit, cursor } = c.req.valid("query");
      const page = await deps.reports.list({
        limit,
        ...(type ? { type } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
        ...(cursor ? { cursor } : {}),
      });
      return c.json(page, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/reports/{id}",
      tags,
      summary: "One report: JSON, or its figures as CSV (Accept: text/csv, or ?format=csv)",
      description:
        "The CSV has one line per figure: section,key,metric,currency,count,amount_cents,amount — amounts in cents " +
        'and formatted ("E1,234.50"). It is the same file the report job wrote under reports/ in the backups bucket.',
      security: bearer,
      middleware: [adminAuth("reports:read")] as const,
      request: {
        params: z.object({ id: z.string().min(1).max(64) }),
        query: z.object({ format: z.enum(["json", "csv"]).optional() }),
      },
      responses: {
        200: {
          description: "The report",
          content: {
            "application/json": { schema: reportSchema },
            "text/csv": {
              schema: z.string().openapi({ example: "section,key,metric,currency,count,amount_cents,amount" }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const { format } = c.req.valid("query");
      const report = await deps.reports.get(id);
      const wantsCsv = format ? format === "csv" : /\btext\/csv\b/i.test(c.req.header("accept") ?? "");
      if (wantsCsv)
        return c.body(report.csv(), 200, {
          "content-type": "text/csv; charset=utf-8",
          "content-disposition": `attachment; filename="${report.type}-${report.date}.csv"`,
        });
      // The body was built by build.ts, whose shapes these schemas describe (the tests hold every response to them).
      const body = { ...report.body, id: report.id, generatedAt: report.generatedAt } as z.infer<typeof reportSchema>;
      return c.json(body, 200);
    },
  );

  return router;
}
