import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../http/auth";
import { pinField } from "../http/fields";
import { idempotent } from "../http/idempotency";
import { createRouter, errorResponses, jsonContent } from "../http/router";
import type { Identity } from "../identity";
import { userAuth } from "../identity";
import { transactionSchema } from "../payments";
import type { Cards } from "./service";

const cardRequestSchema = z
  .object({
    id: z.string().openapi({ example: "crd_…" }),
    status: z.enum(["pending", "approved", "rejected", "expired"]),
    fee: z.number().int().openapi({ description: "cents (KESHLESS_CARD_FEE)" }),
    currency: z.string(),
    nameOnCard: z.string().nullable(),
    deliveryAddress: z.string().nullable(),
    reason: z.string().nullable().openapi({ description: "Why it was declined or cancelled" }),
    approvalId: z.string().nullable(),
    createdAt: z.string(),
    resolvedAt: z.string().nullable(),
    transaction: transactionSchema.nullable().openapi({ description: "The fee (null when cards are free)" }),
  })
  .openapi("CardRequest");

const body = z.object({
  pin: pinField,
  nameOnCard: z.string().trim().min(2).max(26).optional().openapi({ description: "Defaults to the wallet's name" }),
  deliveryAddress: z.string().trim().min(5).max(200).optional().openapi({ description: "Absent: collect at an agent" }),
});

export function cardRoutes(deps: { cards: Cards; identity: Identity }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/card-requests",
      tags: ["cards"],
      summary: "Request a Keshless tap card",
      description:
        "The card fee is held on the wallet until an admin approves (the fee is taken) or rejects (released). " +
        "One open request at a time: a second is 409.",
      security: [{ bearer: [] }],
      middleware: [userAuth] as const,
      request: {
        headers: z.object({ "idempotency-key": z.string().min(1).max(255) }),
        body: { content: { "application/json": { schema: body } } },
      },
      responses: {
        202: jsonContent(cardRequestSchema, "Requested; the fee is held pending approval"),
        ...errorResponses(400, 401, 403, 404, 409, 415, 422, 429, 503),
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { cards, identity } = deps;
      const userId = c.get("principal")!.id;
      await identity.users.verifyPin({ userId, pin: input.pin });
      const plan = await cards.plan({ userId, nameOnCard: input.nameOnCard, deliveryAddress: input.deliveryAddress });
      return idempotent(c, input, (tx) => cards.commit(plan, tx, requestMeta(c)));
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/card-requests",
      tags: ["cards"],
      summary: "The user's card requests, newest first",
      security: [{ bearer: [] }],
      middleware: [userAuth] as const,
      responses: {
        200: jsonContent(z.object({ data: z.array(cardRequestSchema) }), "Card requests"),
        ...errorResponses(401, 403),
      },
    }),
    async (c) => c.json(await deps.cards.list(c.get("principal")!.id), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/card-requests/{id}",
      tags: ["cards"],
      summary: "One of the user's card requests (anyone else's is 404)",
      security: [{ bearer: [] }],
      middleware: [userAuth] as const,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: jsonContent(cardRequestSchema, "The request"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await deps.cards.get(c.req.valid("param").id, c.get("principal")!.id), 200),
  );

  return router;
}
