import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Core } from "../core";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { createRouter, errorResponses, jsonContent } from "../http/router";
import { constantTimeEqual, sha256Hex } from "../lib/crypto";
import { atEndSchema, atEndToEvent, atFromReply, atRequestSchema, atToEvent } from "./adapters/at";
import { mtnFromReply, mtnRequestSchema, mtnResponseSchema, mtnToEvent } from "./adapters/mtn";
import type { UssdEngine } from "./engine";

/**
 * The gateways' shared secret (X-Gateway-Secret): the gateway's own when configured, else the common
 * one; unchecked only where none is set, which production configuration refuses.
 */
function gatewayAuth(gateway: "mtn" | "at"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { config } = c.get("core");
    const expected = config.ussd.gatewaySecrets[gateway] ?? config.secrets.ussdGateway;
    if (expected) {
      const given = c.req.header("x-gateway-secret");
      if (!given || !constantTimeEqual(sha256Hex(given), sha256Hex(expected)))
        throw new AppError("UNAUTHENTICATED", "A valid X-Gateway-Secret header is required.");
    }
    c.set("principal", { kind: "gateway", id: gateway });
    await next();
  };
}

const secretHeader = z.object({
  "x-gateway-secret": z
    .string()
    .optional()
    .openapi({ description: "The gateway's shared secret (required whenever one is configured)." }),
});

const form = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { "application/x-www-form-urlencoded": { schema } } },
});

const plainText = (description: string) => ({
  description,
  content: { "text/plain": { schema: z.string().openapi({ example: "CON Keshless\n1. Check balance" }) } },
});

export function ussdRoutes(deps: Pick<Core, "config"> & { ussd: UssdEngine }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/ussd/mtn",
      security: [{ gatewaySecret: [] }],
      tags: ["ussd"],
      summary: "MTN MADAPI USSD callback (JSON)",
      description:
        "One hop of a USSD session. messageType 0 begins, 1 continues, 2/4/5 end, abort or time out the session (it is forgotten), 3 is acknowledged. Screens are at most 182 characters; `0` goes back, `00` home.",
      middleware: [gatewayAuth("mtn")] as const,
      request: {
        headers: secretHeader,
        body: { required: true, content: { "application/json": { schema: mtnRequestSchema } } },
      },
      responses: { 200: jsonContent(mtnResponseSchema, "The next screen"), ...errorResponses(400, 401, 415) },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const event = mtnToEvent(body);
      const reply = event ? await deps.ussd.handle(event, c.get("requestId")) : { text: "", end: true };
      return c.json(mtnFromReply(reply, body, c.get("requestId")), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/ussd/at",
      security: [{ gatewaySecret: [] }],
      tags: ["ussd"],
      summary: "Africa's Talking style USSD callback (form; CON/END text)",
      description:
        "`text` is every input so far joined by `*` (empty on the first hop); only the latest is read. The reply starts `CON ` (the subscriber answers) or `END ` (the session closes).",
      middleware: [gatewayAuth("at")] as const,
      request: { headers: secretHeader, ...form(atRequestSchema) },
      responses: { 200: plainText("The next screen"), ...errorResponses(400, 401, 415) },
    }),
    async (c) => {
      const reply = await deps.ussd.handle(atToEvent(c.req.valid("form")), c.get("requestId"));
      return c.text(atFromReply(reply), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/ussd/at/end",
      security: [{ gatewaySecret: [] }],
      tags: ["ussd"],
      summary: "Africa's Talking end-of-session notice: the session is forgotten",
      middleware: [gatewayAuth("at")] as const,
      request: { headers: secretHeader, ...form(atEndSchema) },
      responses: { 200: plainText("Acknowledged (OK)"), ...errorResponses(400, 401, 415) },
    }),
    async (c) => {
      await deps.ussd.handle(atEndToEvent(c.req.valid("form")), c.get("requestId"));
      return c.text("OK", 200);
    },
  );

  return router;
}
