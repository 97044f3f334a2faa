import { createRoute, z } from "@hono/zod-openapi";
import type { Core } from "../core";
import { requestMeta } from "../http/auth";
import type { AppContext } from "../http/context";
import { amountField, currencyField, phoneField, pinField } from "../http/fields";
import { idempotent, idempotentRequest, type JsonResponse, storedAnswer } from "../http/idempotency";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import {
  type Identity,
  partnerAuth,
  requireSession,
  sessionIdOf,
  userAuth,
  userTokenAuth,
  vendorAuth,
} from "../identity";
import { type TransactionDto, transactionSchema, walletSchema } from "./dto";
import type { FastLane } from "./fast-lane";
import type { PartyLookup, Payments, Plan } from "./service";

const idempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).openapi({ description: "Required on every money-moving POST." }),
});

const moneyErrors = errorResponses(400, 401, 403, 404, 409, 415, 422, 429, 503);

const paymentBody = z.object({
  vendorCode: z.string().min(2).max(16),
  amount: amountField,
  currency: currencyField,
  pin: pinField,
  reference: z.string().max(140).optional(),
});
const transferBody = z.object({
  toPhone: phoneField,
  amount: amountField,
  currency: currencyField,
  pin: pinField,
  note: z.string().max(140).optional(),
});
const depositBody = z.object({
  phone: phoneField,
  amount: amountField,
  currency: currencyField,
  externalReference: z.string().min(1).max(128),
});

/**
 * A user's payment or transfer: the fast lane's one statement when everything it assumed holds, else the
 * ordinary path — session and status check, PIN (wrong ones counted), fresh plan and commit in one
 * idempotent transaction. Either way at most once per Idempotency-Key.
 */
type PaymentRouteDeps = Pick<Core, "database"> & { identity: Identity; payments: Payments; paymentsFastLane: FastLane };

async function moveMoney(
  deps: PaymentRouteDeps,
  c: AppContext,
  input: { pin: string },
  plan: (lookup?: PartyLookup) => Promise<Plan>,
): Promise<JsonResponse<TransactionDto, 201>> {
  const request = idempotentRequest(c, input);
  const userId = c.get("principal")!.id;
  const fast = await deps.paymentsFastLane.attempt(
    request,
    { userId, sessionId: sessionIdOf(c), pin: input.pin, meta: requestMeta(c) },
    plan,
  );
  if (fast) {
    if (fast.replayed) c.header("Idempotent-Replayed", "true");
    return c.json(fast.body, fast.status);
  }
  await requireSession(c);
  let planned: Plan;
  try {
    // Outside the transaction: PGlite runs one transaction at a time, and these reads need no isolation.
    await deps.identity.users.verifyPin({ userId, pin: input.pin }, requestMeta(c));
    planned = await plan();
  } catch (failure) {
    // A refusal now (a PIN changed since, a vendor frozen since) does not undo an answer already given.
    const stored = await storedAnswer<TransactionDto, 201>(deps.database, request, failure);
    c.header("Idempotent-Replayed", "true");
    return c.json(stored.body, stored.status);
  }
  return idempotent(c, input, (tx) => deps.payments.commit(planned, tx));
}

export function paymentRoutes(deps: PaymentRouteDeps) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/payments",
      middleware: [userTokenAuth] as const,
      tags: ["payments"],
      summary: "Pay a vendor by vendor code",
      security: [{ bearer: [] }],
      request: { headers: idempotencyHeader, body: { content: { "application/json": { schema: paymentBody } } } },
      responses: { 201: jsonContent(transactionSchema, "Paid"), ...moneyErrors },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { payments } = deps;
      const userId = c.get("principal")!.id;
      return moveMoney(deps, c, input, (lookup) => payments.planPayment({ userId, ...input }, lookup));
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/transfers",
      middleware: [userTokenAuth] as const,
      tags: ["payments"],
      summary: "Send money to another Keshless user by phone",
      description:
        "A number with no Keshless wallet is refused with 404 NOT_FOUND: money never leaves for an account that does not exist.",
      security: [{ bearer: [] }],
      request: { headers: idempotencyHeader, body: { content: { "application/json": { schema: transferBody } } } },
      responses: { 201: jsonContent(transactionSchema, "Sent"), ...moneyErrors },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { payments } = deps;
      const userId = c.get("principal")!.id;
      return moveMoney(deps, c, input, (lookup) => payments.planTransfer({ userId, ...input }, lookup));
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/partner/v1/deposits",
      middleware: [partnerAuth("deposits:create")] as const,
      tags: ["partners"],
      summary: "Credit a user's wallet from the partner's settlement account",
      security: [{ apiKey: [] }],
      request: { headers: idempotencyHeader, body: { content: { "application/json": { schema: depositBody } } } },
      responses: { 201: jsonContent(transactionSchema, "Deposited"), ...moneyErrors },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { payments } = deps;
      const plan = await payments.planDeposit({ partnerId: c.get("principal")!.id, ...input });
      return idempotent(c, input, (tx) => payments.commit(plan, tx));
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/partner/v1/transactions/{id}",
      middleware: [partnerAuth("transactions:read")] as const,
      tags: ["partners"],
      summary: "One of the partner's own transactions",
      security: [{ apiKey: [] }],
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: jsonContent(transactionSchema, "The transaction"), ...errorResponses(401, 403, 404, 429) },
    }),
    async (c) => {
      const { payments } = deps;
      return c.json(await payments.getForPartner(c.req.valid("param").id, c.get("principal")!.id), 200);
    },
  );

  for (const who of ["user", "vendor"] as const) {
    const base = who === "user" ? "/v1/wallet" : "/v1/vendor/wallet";
    const list = who === "user" ? "/v1/wallet/transactions" : "/v1/vendor/transactions";
    const one = who === "user" ? "/v1/transactions/{id}" : "/v1/vendor/transactions/{id}";
    const kind = who === "user" ? "user_wallet" : "vendor_wallet";
    const tags = [who === "user" ? "wallet" : "vendors"];
    const security = [{ bearer: [] }];
    const guard = who === "user" ? userAuth : vendorAuth;

    router.openapi(
      createRoute({
        method: "get",
        path: base,
        tags,
        summary: `The ${who}'s wallet balance`,
        security,
        middleware: [guard] as const,
        responses: { 200: jsonContent(walletSchema, "Balance in cents"), ...errorResponses(401, 403) },
      }),
      async (c) => c.json(await deps.payments.wallet(kind, c.get("principal")!.id), 200),
    );

    router.openapi(
      createRoute({
        method: "get",
        path: list,
        tags,
        summary: `The ${who}'s transactions, newest first`,
        security,
        middleware: [guard] as const,
        request: { query: paginationQuery },
        responses: { 200: jsonContent(listOf(transactionSchema), "A page"), ...errorResponses(400, 401, 403) },
      }),
      async (c) => {
        const { payments } = deps;
        const account = await payments.walletOf(kind, c.get("principal")!.id);
        return c.json(await payments.listForAccount(account, c.req.valid("query")), 200);
      },
    );

    router.openapi(
      createRoute({
        method: "get",
        path: one,
        tags,
        summary: `One of the ${who}'s own transactions (anyone else's is 404)`,
        security,
        middleware: [guard] as const,
        request: { params: z.object({ id: z.string().max(64) }) },
        responses: { 200: jsonContent(transactionSchema, "The transaction"), ...errorResponses(401, 403, 404) },
      }),
      async (c) => {
        const { payments } = deps;
        const account = await payments.walletOf(kind, c.get("principal")!.id);
        return c.json(await payments.getForAccount(c.req.valid("param").id, account), 200);
      },
    );
  }

  return router;
}
