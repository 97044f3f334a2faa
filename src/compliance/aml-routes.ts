import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../http/auth";
import type { AppContext } from "../http/context";
import { AppError } from "../http/errors";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth } from "../identity";
import { instantField } from "../lib/input";
import { RULE_TYPES } from "./aml-rules";
import type { Aml } from "./aml-service";

const bearer = [{ bearer: [] }];
const tags = ["admin: aml"];
const idParam = z.object({ id: z.string().min(1).max(64) });
const STATUSES = ["open", "investigating", "closed"] as const;
const OUTCOMES = ["false_positive", "valuable", "confirmed_risk"] as const;

const ruleSchema = z
  .object({
    id: z.string().openapi({ example: "structuring" }),
    type: z.enum(RULE_TYPES),
    name: z.string(),
    enabled: z.boolean(),
    priority: z.number().int().min(1).max(10).openapi({ description: "An alert's priority when the rule opens it" }),
    params: z.record(z.string(), z.unknown()).openapi({
      description:
        "Per type (amounts in cents; direction out · in · any): large_transaction {minAmount|null, direction}; " +
        "aggregate {windowDays, minAmount, direction}; velocity {measure: count|counterparties, windowHours, " +
        "maxCount, direction}; structuring {threshold|null, margin, minCount, windowHours, direction}; " +
        "rapid_in_out {windowHours, minAmount, minShare}; dormant_reactivation {idleDays, minAmount, direction}; " +
        "round_amounts {unit, minAmount, minCount, windowHours, direction}; sanctions {}. A null amount is the " +
        "cash threshold (KESHLESS_AML_CASH_THRESHOLD).",
    }),
    updatedBy: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi("AmlRule");

const ruleChange = z
  .strictObject({
    enabled: z.boolean().optional(),
    priority: z.number().int().min(1).max(10).optional(),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({ description: "Merged over the stored parameters, then validated whole against the rule's type" }),
  })
  .refine((b) => b.enabled !== undefined || b.priority !== undefined || b.params !== undefined, {
    message: "change at least one of enabled, priority, params",
  })
  .openapi("AmlRuleChange");

const party = z.object({ type: z.string(), id: z.string(), name: z.string().nullable() });

const alertSchema = z
  .object({
    id: z.string(),
    rule: z.string().openapi({ description: "The rule's id", example: "structuring" }),
    ruleType: z.enum(RULE_TYPES),
    subject: z.object({ type: z.enum(["user", "vendor"]), id: z.string(), name: z.string().nullable() }),
    status: z.enum(STATUSES),
    outcome: z.enum(OUTCOMES).nullable(),
    note: z.string().nullable(),
    priority: z.number().int().min(1).max(10),
    hits: z.number().int(),
    escalationLevel: z.number().int(),
    assigneeRole: z.string().openapi({ description: "The escalation ladder's role for the level: whose queue" }),
    assignee: z.string().nullable(),
    nextEscalationAt: z.string().nullable(),
    details: z.record(z.string(), z.unknown()).openapi({ description: "What the latest hit measured" }),
    lastHitAt: z.string(),
    closedAt: z.string().nullable(),
    closedBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("AmlAlert");

const alertDetailSchema = alertSchema
  .extend({
    evidence: z.array(
      z.object({
        id: z.string(),
        type: z.string(),
        status: z.string(),
        amount: z.number().int().openapi({ description: "cents" }),
        fee: z.number().int(),
        currency: z.string(),
        payer: party,
        payee: party,
        createdAt: z.string(),
        addedAt: z.string().openapi({ description: "When the hit that named it was recorded" }),
      }),
    ),
    sanctionsMatches: z.array(z.object({ id: z.string(), addedAt: z.string() })),
    history: z.array(
      z.object({
        at: z.string(),
        action: z.string(),
        actor: z.object({ type: z.string(), id: z.string().nullable() }),
        details: z.unknown(),
      }),
    ),
  })
  .openapi("AmlAlertDetail");

function adminId(c: AppContext): string {
  const principal = c.get("principal");
  if (!principal) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
  return principal.id;
}

/** /admin/v1/aml: the rules, the alerts analysts work, and the STR export for the EFIU. */
export function amlRoutes(deps: { aml: Aml }) {
  const router = createRouter();
  const { aml } = deps;

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/aml/rules",
      tags,
      summary: "The AML rules and their parameters, with the cash threshold they default to",
      security: bearer,
      middleware: [adminAuth("aml:read")] as const,
      responses: {
        200: jsonContent(
          z.object({
            data: z.array(ruleSchema),
            cashThreshold: z.number().int().openapi({ description: "KESHLESS_AML_CASH_THRESHOLD, in cents" }),
          }),
          "Every rule",
        ),
        ...errorResponses(401, 403),
      },
    }),
    async (c) => c.json(await aml.rules.list(), 200),
  );

  router.openapi(
    createRoute({
      method: "put",
      path: "/admin/v1/aml/rules/{id}",
      tags,
      summary: "Change a rule: enable or disable it, its priority, its parameters (audited with before and after)",
      description: "The parameters are validated against the rule's type (see AmlRule.params). An unknown rule is 404.",
      security: bearer,
      middleware: [adminAuth("aml:review")] as const,
      request: { params: idParam, body: { required: true, content: { "application/json": { schema: ruleChange } } } },
      responses: { 200: jsonContent(ruleSchema, "The rule now"), ...errorResponses(400, 401, 403, 404, 415) },
    }),
    async (c) => {
      const rule = await aml.rules.update(
        c.req.valid("param").id,
        c.req.valid("json"),
        { id: adminId(c) },
        requestMeta(c),
      );
      return c.json(rule, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/aml/alerts",
      tags,
      summary: "AML alerts, newest first (filter by status, rule, assignee or subject)",
      security: bearer,
      middleware: [adminAuth("aml:read")] as const,
      request: {
        query: paginationQuery.extend({
          status: z.enum(STATUSES).optional(),
          rule: z.string().max(64).optional(),
          assignee: z.string().max(64).optional(),
          subjectId: z.string().max(64).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(alertSchema), "A page"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await aml.alerts.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/aml/alerts/{id}",
      tags,
      summary: "One alert with its evidence (the transactions that triggered it) and its history",
      security: bearer,
      middleware: [adminAuth("aml:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(alertDetailSchema, "The alert"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const alert = await aml.alerts.get(c.req.valid("param").id);
      if (!alert) throw new AppError("NOT_FOUND", "No such AML alert.");
      return c.json(alert, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/aml/alerts/{id}/assign",
      tags,
      summary: "Assign an alert to an admin who reviews alerts (audited)",
      description: "The admin must be active and hold aml:review (400 otherwise); a closed alert is 409.",
      security: bearer,
      middleware: [adminAuth("aml:review")] as const,
      request: {
        params: idParam,
        body: {
          required: true,
          content: { "application/json": { schema: z.object({ adminId: z.string().min(1).max(64) }) } },
        },
      },
      responses: { 200: jsonContent(alertSchema, "The alert"), ...errorResponses(400, 401, 403, 404, 409, 415) },
    }),
    async (c) => {
      const input = { id: c.req.valid("param").id, adminId: c.req.valid("json").adminId, by: adminId(c) };
      return c.json(await aml.alerts.assign(input, requestMeta(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/aml/alerts/{id}/status",
      tags,
      summary: "Move an alert: open → investigating → closed (with an outcome), or reopen a closed one (audited)",
      description:
        "Closing needs `outcome` (false_positive · valuable · confirmed_risk) and stops the escalation; a " +
        "confirmed_risk alert goes into the STR export. Reopening a closed alert is 409 while another alert of its " +
        "rule is open on the subject. A move the lifecycle does not allow is 409.",
      security: bearer,
      middleware: [adminAuth("aml:review")] as const,
      request: {
        params: idParam,
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({
                status: z.enum(STATUSES),
                outcome: z.enum(OUTCOMES).optional(),
                note: z.string().trim().min(3).max(2000),
              }),
            },
          },
        },
      },
      responses: { 200: jsonContent(alertSchema, "The alert"), ...errorResponses(400, 401, 403, 404, 409, 415) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const input = { id: c.req.valid("param").id, ...body, by: adminId(c) };
      return c.json(await aml.alerts.setStatus(input, requestMeta(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/reports/str",
      tags,
      summary: "Suspicious transaction report for the EFIU: alerts closed as confirmed_risk in [from, to), as CSV",
      description:
        "One line per alert: the subject, the rule, when it opened and closed and by whom, its transactions (count, " +
        "total in cents, ids) and sanctions matches, and the analyst's note. Cells a spreadsheet would run as a " +
        "formula are prefixed with '.",
      security: bearer,
      middleware: [adminAuth("aml:read")] as const,
      request: {
        query: z.object({
          from: instantField.openapi({ description: "Closed at or after (ISO 8601)" }),
          to: instantField.openapi({ description: "Closed before (ISO 8601)" }),
        }),
      },
      responses: {
        200: {
          description: "The report (text/csv; a header line, then one line per alert)",
          content: { "text/csv": { schema: z.string().openapi({ example: "alert_id,rule,rule_type,…" }) } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { from, to } = c.req.valid("query");
      if (from >= to)
        throw new AppError("VALIDATION_FAILED", "The range is empty.", [{ path: "to", message: "must be after from" }]);
      const csv = await aml.strCsv({ from, to });
      const name = `str-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}.csv`;
      return c.body(csv, 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${name}"`,
      });
    },
  );

  return router;
}
