import { createRoute, z } from "@hono/zod-openapi";
import type { Core } from "../core";
import type { AppContext } from "../http/context";
import { amountField, currencyField, pinField } from "../http/fields";
import { idempotent } from "../http/idempotency";
import { rateLimit } from "../http/route-limits";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { type Identity, userAuth, vendorAuth } from "../identity";
import { transactionSchema } from "./dto";
import type { PaymentRequests } from "./requests";
import type { Payments } from "./service";

const vendorRef = z.object({ id: z.string(), name: z.string(), code: z.string() });
const statusField = z.enum(["open", "paid", "cancelled", "expired"]);

const requestSchema = z
  .object({
    id: z.string().openapi({ example: "prq_…" }),
    code: z.string().openapi({ example: "4821937", description: "7 digits: what a payer types (USSD, app)" }),
    amount: z.number().int(),
    currency: z.string(),
    reference: z.string().nullable(),
    status: statusField,
    expiresAt: z.string(),
    qrPayload: z.string().openapi({
      example: "keshless:pay?code=4821937&amount=1500&v=482913",
      description:
        "What the QR code encodes: `keshless:pay?code=<request code>&amount=<cents>&v=<vendor code>`. The app opens GET /v1/payment-requests/{code} with it; amount and v let it show the payee before that answers.",
    }),
    vendor: vendorRef,
    transactionId: z.string().nullable().openapi({ description: "The payment, once paid" }),
    paidAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("PaymentRequest");

const previewSchema = z
  .object({
    code: z.string(),
    amount: z.number().int(),
    currency: z.string(),
    fee: z.number().int(),
    feeBearer: z.enum(["sender", "receiver"]),
    total: z.number().int().openapi({ description: "What leaves the payer's wallet" }),
    reference: z.string().nullable(),
    status: statusField,
    expiresAt: z.string(),
    vendor: vendorRef,
  })
  .openapi("PaymentRequestPreview");

const createBody = z
  .object({
    amount: amountField,
    currency: currencyField,
    reference: z.string().trim().max(140).optional(),
    expiresInSeconds: z
      .number()
      .int()
      .min(60)
      .max(30 * 86_400)
      .optional()
      .openapi({ description: "Default KESHLESS_PAYMENT_REQUEST_TTL (24 hours)" }),
  })
  .openapi("CreatePaymentRequest");

const codeParam = z.object({ code: z.string().regex(/^\d{7}$/, "7 digits") });
const idParam = z.object({ id: z.string().min(1).max(64) });
const idempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).openapi({ description: "Required on every money-moving POST." }),
});

/**
 * Looking a code up — to preview or to pay it — spends from the caller's per-minute allowance: with 10^7
 * codes, an unlimited caller could walk them all (issue 11 measured 250 lookups/s) and pay what it finds.
 */
const lookupLimit = rateLimit(
  (c: AppContext) => [
    {
      key: `payment-request-lookup:${c.get("principal")!.id}`,
      limit: c.get("core").config.paymentRequestLookupsPerMinute,
      periodSeconds: 60,
    },
  ],
  "Too many payment-request lookups; try again in a minute.",
);

/** Vendors create and manage payment requests; users look one up by code and pay it. */
export function paymentRequestRoutes(
  deps: Pick<Core, "config"> & { identity: Identity; payments: Payments; paymentRequests: PaymentRequests },
) {
  const router = createRouter();
  const bearer = [{ bearer: [] }];

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/vendor/payment-requests",
      tags: ["payment requests"],
      summary: "Ask for a payment: answers with a short code and a QR payload",
      security: bearer,
      middleware: [vendorAuth] as const,
      request: { body: { required: true, content: { "application/json": { schema: createBody } } } },
      responses: { 201: jsonContent(requestSchema, "Created"), ...errorResponses(400, 401, 403, 415) },
    }),
    async (c) => {
      const created = await deps.paymentRequests.create({ vendorId: c.get("principal")!.id, ...c.req.valid("json") });
      return c.json(created, 201);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/vendor/payment-requests",
      tags: ["payment requests"],
      summary: "The vendor's payment requests, newest first",
      security: bearer,
      middleware: [vendorAuth] as const,
      request: { query: paginationQuery.extend({ status: statusField.optional() }) },
      responses: { 200: jsonContent(listOf(requestSchema), "A page"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.paymentRequests.list(c.get("principal")!.id, c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/vendor/payment-requests/{id}",
      tags: ["payment requests"],
      summary: "One of the vendor's payment requests (shows the payment once paid)",
      security: bearer,
      middleware: [vendorAuth] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(requestSchema, "The request"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await deps.paymentRequests.get(c.get("principal")!.id, c.req.valid("param").id), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/vendor/payment-requests/{id}/cancel",
      tags: ["payment requests"],
      summary: "Cancel an open request (a paid, cancelled or expired one is 409)",
      security: bearer,
      middleware: [vendorAuth] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(requestSchema, "Cancelled"), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(await deps.paymentRequests.cancel(c.get("principal")!.id, c.req.valid("param").id), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/payment-requests/{code}",
      tags: ["payment requests"],
      summary: "What a payment request asks for: payee, amount, fee and total",
      security: bearer,
      middleware: [userAuth, lookupLimit] as const,
      request: { params: codeParam },
      responses: { 200: jsonContent(previewSchema, "The request"), ...errorResponses(400, 401, 403, 404, 429) },
    }),
    async (c) => c.json(await deps.paymentRequests.preview(c.req.valid("param").code), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/payment-requests/{code}/pay",
      tags: ["payment requests"],
      summary: "Pay a payment request with the PIN",
      description:
        "A request is paid once: of two payers at once one gets 201, the other 409 CONFLICT (details.status says why: paid, cancelled, expired).",
      security: bearer,
      middleware: [userAuth, lookupLimit] as const,
      request: {
        params: codeParam,
        headers: idempotencyHeader,
        body: { required: true, content: { "application/json": { schema: z.object({ pin: pinField }) } } },
      },
      responses: {
        201: jsonContent(transactionSchema, "Paid"),
        ...errorResponses(400, 401, 403, 404, 409, 415, 422, 429, 503),
      },
    }),
    async (c) => {
      const { pin } = c.req.valid("json");
      const { code } = c.req.valid("param");
      const { payments, paymentRequests, identity } = deps;
      const userId = c.get("principal")!.id;
      await identity.users.verifyPin({ userId, pin });
      const plan = await paymentRequests.planPay({ userId, code });
      return idempotent(c, { pin }, (tx) => payments.commit(plan, tx));
    },
  );

  return router;
}
