import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { requestMeta } from "../http/auth";
import type { AppContext, AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth, type Identity, partnerAuth } from "../identity";
import type { Webhooks } from "./service";

const endpointSchema = z
  .object({
    id: z.string().openapi({ example: "whk_…" }),
    partnerId: z.string(),
    url: z.string().openapi({ example: "https://bank.example/keshless/webhooks" }),
    description: z.string().nullable(),
    active: z.boolean(),
    secretPrefix: z.string().openapi({ description: "The secret's first characters, to recognise it" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("WebhookEndpoint");

const issuedSchema = z
  .object({
    endpoint: endpointSchema,
    secret: z.string().openapi({
      example: "whsec_…",
      description:
        "Shown once. Verify each delivery: HMAC-SHA256 with this string as the key over `<t>.<raw body>`, hex, equals v1 in `Keshless-Signature: t=<unix>,v1=<hex>`; refuse a t more than 5 minutes old.",
    }),
  })
  .openapi("WebhookEndpointWithSecret");

const attemptSchema = z
  .object({
    attempt: z.number().int(),
    at: z.string(),
    statusCode: z.number().int().nullable().openapi({ description: "null when no HTTP answer came" }),
    latencyMs: z.number().int(),
    error: z.string().nullable(),
  })
  .openapi("WebhookAttempt");

const deliverySchema = z
  .object({
    id: z.string().openapi({ example: "whd_…" }),
    eventId: z.string().openapi({ example: "evt_…", description: "Stable across retries: dedupe on it" }),
    eventType: z.string().openapi({ example: "deposit.completed" }),
    endpointId: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("WebhookDelivery");

const deliveryDetailSchema = deliverySchema
  .extend({
    event: z.object({ id: z.string(), type: z.string(), payload: z.unknown() }),
    attemptLog: z.array(attemptSchema),
  })
  .openapi("WebhookDeliveryDetail");

const createBody = z
  .object({ url: z.string().min(8).max(2048), description: z.string().trim().max(200).optional() })
  .openapi("CreateWebhookEndpoint");
const updateBody = z
  .object({
    url: z.string().min(8).max(2048).optional(),
    description: z.string().trim().max(200).nullable().optional(),
    active: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "give at least one of url, description, active")
  .openapi("UpdateWebhookEndpoint");
const deliveriesQuery = paginationQuery.extend({
  endpointId: z.string().max(64).optional(),
  status: z.enum(["pending", "delivered", "failed"]).optional(),
  eventId: z.string().max(64).optional(),
  eventType: z.string().max(64).optional(),
});
const idField = z.string().min(1).max(64);

const DOC = `Events: \`deposit.completed\` (a deposit by this partner credited a wallet), \`deposit.reversed\` (an admin reversed one), \`webhook.test\`. Body: \`{"id":"evt_…","type":…,"createdAt":…,"data":{…}}\`, signed \`Keshless-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">\`. Answer 2xx within the timeout; anything else is retried with exponential backoff for 24 hours, then the delivery is marked failed. A retry carries the same event id: dedupe on it.`;

interface Side {
  /** Path prefix: the partner's own, or an admin's view of partner {id}. */
  base: string;
  params: z.ZodObject<any>;
  read: MiddlewareHandler<AppEnv>;
  manage: MiddlewareHandler<AppEnv>;
  tags: string[];
  security: Record<string, string[]>[];
  partnerOf(c: AppContext): Promise<string>;
}

/**
 * Webhook endpoints, test events and the delivery log — for partners themselves (`X-API-Key` with the
 * webhooks:manage scope) and for admins on behalf of any partner. The same service serves both.
 */
export function webhookRoutes(deps: { identity: Identity; webhooks: Webhooks }) {
  const router = createRouter();
  const sides: Side[] = [
    {
      base: "/partner/v1",
      params: z.object({}),
      read: partnerAuth("webhooks:manage"),
      manage: partnerAuth("webhooks:manage"),
      tags: ["partners: webhooks"],
      security: [{ apiKey: [] }],
      partnerOf: async (c) => c.get("principal")!.id,
    },
    {
      base: "/admin/v1/partners/{id}",
      params: z.object({ id: idField }),
      read: adminAuth("partners:read"),
      manage: adminAuth("partners:manage"),
      tags: ["admin: partners"],
      security: [{ bearer: [] }],
      partnerOf: async (c) => {
        const id = c.req.param("id")!;
        if (!(await deps.identity.partners.get(id))) throw new AppError("NOT_FOUND", "No such partner.");
        return id;
      },
    },
  ];

  for (const side of sides) {
    const { base, tags, security } = side;
    const withEndpoint = side.params.extend({ endpointId: idField });
    const withDelivery = side.params.extend({ deliveryId: idField });
    const json = <T extends z.ZodType>(schema: T) => ({
      body: { required: true, content: { "application/json": { schema } } },
    });

    router.openapi(
      createRoute({
        method: "get",
        path: `${base}/webhooks`,
        tags,
        summary: "Webhook endpoints",
        description: DOC,
        security,
        middleware: [side.read] as const,
        request: { params: side.params },
        responses: {
          200: jsonContent(z.object({ data: z.array(endpointSchema) }), "Endpoints"),
          ...errorResponses(401, 403, 404, 429),
        },
      }),
      async (c) => {
        const data = await deps.webhooks.listEndpoints(await side.partnerOf(c));
        return c.json({ data }, 200);
      },
    );

    router.openapi(
      createRoute({
        method: "post",
        path: `${base}/webhooks`,
        tags,
        summary: "Add a webhook endpoint; its signing secret is shown once",
        description: DOC,
        security,
        middleware: [side.manage] as const,
        request: { params: side.params, ...json(createBody) },
        responses: {
          201: jsonContent(issuedSchema, "Created"),
          ...errorResponses(400, 401, 403, 404, 409, 415, 429),
        },
      }),
      async (c) => {
        const partnerId = await side.partnerOf(c);
        const body = c.req.valid("json");
        const issued = await deps.webhooks.createEndpoint({ ctx: requestMeta(c), input: { partnerId, ...body } });
        return c.json(issued, 201);
      },
    );

    router.openapi(
      createRoute({
        method: "patch",
        path: `${base}/webhooks/{endpointId}`,
        tags,
        summary: "Change an endpoint's URL or description, or disable / enable it",
        security,
        middleware: [side.manage] as const,
        request: { params: withEndpoint, ...json(updateBody) },
        responses: { 200: jsonContent(endpointSchema, "Updated"), ...errorResponses(400, 401, 403, 404, 415, 429) },
      }),
      async (c) => {
        const partnerId = await side.partnerOf(c);
        const endpoint = await deps.webhooks.updateEndpoint({
          ctx: requestMeta(c),
          input: { partnerId, endpointId: c.req.param("endpointId")!, ...c.req.valid("json") },
        });
        return c.json(endpoint, 200);
      },
    );

    router.openapi(
      createRoute({
        method: "delete",
        path: `${base}/webhooks/{endpointId}`,
        tags,
        summary: "Delete an endpoint: it receives nothing more; its delivery log stays",
        security,
        middleware: [side.manage] as const,
        request: { params: withEndpoint },
        responses: { 204: { description: "Deleted" }, ...errorResponses(401, 403, 404, 429) },
      }),
      async (c) => {
        const partnerId = await side.partnerOf(c);
        await deps.webhooks.deleteEndpoint({
          ctx: requestMeta(c),
          input: { partnerId, endpointId: c.req.param("endpointId")! },
        });
        return c.body(null, 204);
      },
    );

    router.openapi(
      createRoute({
        method: "post",
        path: `${base}/webhooks/{endpointId}/rotate-secret`,
        tags,
        summary: "Replace the signing secret (shown once); deliveries are signed with the new one at once",
        security,
        middleware: [side.manage] as const,
        request: { params: withEndpoint },
        responses: { 200: jsonContent(issuedSchema, "Rotated"), ...errorResponses(401, 403, 404, 429) },
      }),
      async (c) => {
        const partnerId = await side.partnerOf(c);
        const issued = await deps.webhooks.rotateSecret({
          ctx: requestMeta(c),
          input: { partnerId, endpointId: c.req.param("endpointId")! },
        });
        return c.json(issued, 200);
      },
    );

    router.openapi(
      createRoute({
        method: "post",
        path: `${base}/webhooks/{endpointId}/test`,
        tags,
        summary: "Send a webhook.test event now; answers with the delivery and this attempt's outcome",
        description: "A failed test is retried like any delivery.",
        security,
        middleware: [side.manage] as const,
        request: { params: withEndpoint },
        responses: {
          200: jsonContent(deliveryDetailSchema, "The test delivery"),
          ...errorResponses(401, 403, 404, 409, 429),
        },
      }),
      async (c) => {
        const partnerId = await side.partnerOf(c);
        const delivery = await deps.webhooks.sendTest({
          ctx: requestMeta(c),
          input: { partnerId, endpointId: c.req.param("endpointId")! },
        });
        return c.json(delivery, 200);
      },
    );

    router.openapi(
      createRoute({
        method: "get",
        path: `${base}/webhook-deliveries`,
        tags,
        summary: "The delivery log, newest first",
        security,
        middleware: [side.read] as const,
        request: { params: side.params, query: deliveriesQuery },
        responses: {
          200: jsonContent(listOf(deliverySchema), "Deliveries"),
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const partnerId = await side.partnerOf(c);
        const page = await deps.webhooks.listDeliveries({ partnerId, ...c.req.valid("query") });
        return c.json(page, 200);
      },
    );

    router.openapi(
      createRoute({
        method: "get",
        path: `${base}/webhook-deliveries/{deliveryId}`,
        tags,
        summary: "One delivery: every attempt (status code, latency, error) and the event as sent",
        security,
        middleware: [side.read] as const,
        request: { params: withDelivery },
        responses: { 200: jsonContent(deliveryDetailSchema, "The delivery"), ...errorResponses(401, 403, 404, 429) },
      }),
      async (c) => {
        const partnerId = await side.partnerOf(c);
        const delivery = await deps.webhooks.getDelivery(partnerId, c.req.param("deliveryId")!);
        return c.json(delivery, 200);
      },
    );

    router.openapi(
      createRoute({
        method: "post",
        path: `${base}/webhook-deliveries/{deliveryId}/retry`,
        tags,
        summary: "Send a failed delivery once more",
        security,
        middleware: [side.manage] as const,
        request: { params: withDelivery },
        responses: {
          200: jsonContent(deliveryDetailSchema, "Queued again"),
          ...errorResponses(401, 403, 404, 409, 429),
        },
      }),
      async (c) => {
        const partnerId = await side.partnerOf(c);
        const delivery = await deps.webhooks.redeliver({
          ctx: requestMeta(c),
          input: { partnerId, deliveryId: c.req.param("deliveryId")! },
        });
        return c.json(delivery, 200);
      },
    );
  }

  return router;
}
