import { createRoute, z } from "@hono/zod-openapi";
import type { Core } from "../core";
import { AppError } from "../http/errors";
import { createRouter, errorResponses, jsonContent } from "../http/router";
import { normalizePhone } from "../lib/phone";
import type { Notifications } from "./service";

const message = z
  .object({
    id: z.string(),
    to: z.string(),
    channel: z.string().nullable().openapi({ description: "whatsapp · sms · email · outbox; null while queued" }),
    body: z.string(),
    kind: z.string(),
    status: z.string(),
    createdAt: z.string(),
  })
  .openapi("OutboxMessage");

/** GET /dev/outbox: what the app sent, or would have sent, to a phone. Never in production. */
export function devOutboxRoutes(deps: Pick<Core, "config"> & { notifications: Notifications }) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: "get",
      path: "/dev/outbox",
      security: [],
      tags: ["operations"],
      summary:
        "Development only: notifications to a phone (or a staff e-mail address), newest first (404 in production)",
      request: {
        query: z.object({
          to: z.string().max(254).optional(),
          limit: z.coerce.number().int().min(1).max(100).default(20),
        }),
      },
      responses: {
        200: jsonContent(z.object({ data: z.array(message) }).openapi("Outbox"), "Messages"),
        ...errorResponses(400, 404),
      },
    }),
    async (c) => {
      const { config, notifications } = deps;
      if (config.env === "production") throw new AppError("NOT_FOUND", `No route for GET ${c.req.path}.`);
      const { to, limit } = c.req.valid("query");
      // Staff notices go to an e-mail address; everything else to a phone.
      const recipient = to === undefined || to.includes("@") ? to : normalizePhone(to);
      if (recipient === null)
        throw new AppError("VALIDATION_FAILED", "`to` is not an Eswatini mobile number or an e-mail address.", [
          { path: "to", message: "not an Eswatini mobile number or an e-mail address" },
        ]);
      return c.json({ data: await notifications.list({ to: recipient, limit }) }, 200);
    },
  );
  return router;
}
