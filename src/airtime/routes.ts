import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../http/errors";
import { amountField, currencyField, pinField } from "../http/fields";
import { idempotent } from "../http/idempotency";
import { CONFIGURED_MAXIMUM, createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import type { Identity } from "../identity";
import { adminAuth, userAuth } from "../identity";
import { transactionSchema } from "../payments";
import type { Airtime } from "./service";

const body = z.object({
  msisdn: z
    .string()
    .min(1)
    .max(32)
    .openapi({ example: "+26876123456", description: "Any Eswatini MTN (76, 78) or Eswatini Mobile (75, 79) number" }),
  // Airtime's own bound (the service's assertAmount checks it), published in /openapi.json.
  amount: amountField.openapi({ [CONFIGURED_MAXIMUM]: "KESHLESS_AIRTIME_MAX_AMOUNT" }),
  currency: currencyField,
  pin: pinField,
});

const attemptSchema = z.object({
  clientReference: z.string().openapi({ description: "Ours, unique per attempt, sent to ERS360" }),
  attempt: z.number().int(),
  status: z.enum(["queued", "sending", "succeeded", "rejected", "unknown", "not_found"]),
  resultCode: z.number().int().nullable(),
  resultDescription: z.string().nullable(),
  ersReference: z.string().nullable().openapi({ description: "The operator's reference" }),
  checks: z.number().int().openapi({ description: "Status queries made about it" }),
  sentAt: z.string().nullable(),
  respondedAt: z.string().nullable(),
});

const orderSchema = z
  .object({
    id: z.string().openapi({ example: "txn_…" }),
    userId: z.string(),
    msisdn: z.string(),
    operator: z.enum(["mtn", "eswatini_mobile"]),
    amount: z.number().int(),
    fee: z.number().int(),
    currency: z.string(),
    status: z.enum(["pending", "completed", "failed"]),
    ersReference: z.string().nullable(),
    resultCode: z.number().int().nullable(),
    resultDescription: z.string().nullable(),
    alerted: z.boolean().openapi({ description: "Operations were alerted (104: our reseller credit ran out)" }),
    nextCheckAt: z.string().nullable(),
    createdAt: z.string(),
    resolvedAt: z.string().nullable(),
    attempts: z.array(attemptSchema),
  })
  .openapi("AirtimeOrder");

const reconciliationSchema = z
  .object({
    data: z.array(orderSchema),
    totals: z.object({
      count: z.number().int(),
      amount: z.number().int(),
      byOperator: z.record(z.string(), z.object({ count: z.number().int(), amount: z.number().int() })),
      oldestCreatedAt: z.string().nullable(),
    }),
  })
  .openapi("AirtimeReconciliation");

const bearer = [{ bearer: [] }];

export function airtimeRoutes(deps: { airtime: Airtime; identity: Identity }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/airtime",
      tags: ["wallet"],
      summary: "Buy airtime for your own or another Eswatini number",
      description:
        "The operator follows from the prefix: 76/78 MTN, 75/79 Eswatini Mobile; other numbers are 400. amount + fee " +
        "is held and the answer is 202 pending; the transaction completes when the operator confirms, or fails and " +
        "is refunded in full when it declines. An SMS tells the outcome.",
      security: bearer,
      middleware: [userAuth] as const,
      request: {
        headers: z.object({ "idempotency-key": z.string().min(1).max(255) }),
        body: { content: { "application/json": { schema: body } } },
      },
      responses: {
        202: jsonContent(transactionSchema, "Held; pending until the operator confirms"),
        ...errorResponses(400, 401, 403, 404, 409, 415, 422, 429, 503),
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { airtime, identity } = deps;
      const userId = c.get("principal")!.id;
      await identity.users.verifyPin({ userId, pin: input.pin });
      const plan = await airtime.plan({ userId, ...input });
      const response = await idempotent(c, input, (tx) => airtime.commit(plan, tx));
      // After commit: a replay finds no queued attempt under this new plan id and sends nothing.
      airtime.dispatchInBackground(plan.id);
      return response;
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/airtime/orders",
      tags: ["admin: airtime"],
      summary: "Airtime orders with their ERS360 references, newest first",
      security: bearer,
      middleware: [adminAuth("airtime:read")] as const,
      request: {
        query: paginationQuery.extend({
          status: z.enum(["pending", "completed", "failed"]).optional(),
          operator: z.enum(["mtn", "eswatini_mobile"]).optional(),
          userId: z.string().max(64).optional(),
          msisdn: z.string().max(32).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(orderSchema), "A page"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.airtime.listOrders(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/airtime/orders/{id}",
      tags: ["admin: airtime"],
      summary: "One airtime order with every attempt",
      security: bearer,
      middleware: [adminAuth("airtime:read")] as const,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: jsonContent(orderSchema, "The order"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const order = await deps.airtime.getOrder(c.req.valid("param").id);
      if (!order) throw new AppError("NOT_FOUND", "No such airtime order.");
      return c.json(order, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/airtime/reconciliation",
      tags: ["admin: airtime"],
      summary: "Everything still pending (oldest first), with totals per operator",
      description:
        "Orders whose outcome the operator has not yet confirmed. The reconciler (POST /jobs/airtime-reconcile and " +
        "the in-process loop) keeps asking ERS360 about each clientReference; what stays here long needs a person.",
      security: bearer,
      middleware: [adminAuth("airtime:read")] as const,
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) },
      responses: { 200: jsonContent(reconciliationSchema, "Pending orders"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.airtime.reconciliation(c.req.valid("query").limit), 200),
  );

  return router;
}
