import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../http/errors";
import { createRouter, errorResponses, jsonContent } from "../../http/router";
import type { Identity } from "..";
import { partnerAuth } from "../guards";
import { partnerSchema } from "./schemas";

/** GET /partner/v1/me: lets a partner check its key (valid, which partner, which scopes). */
export function partnerRoutes(deps: { identity: Identity }) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: "get",
      path: "/partner/v1/me",
      tags: ["partners"],
      summary: "The partner this API key belongs to, and the key's scopes",
      security: [{ apiKey: [] }],
      middleware: [partnerAuth()] as const,
      responses: {
        200: jsonContent(partnerSchema.extend({ scopes: z.array(z.string()) }).openapi("PartnerMe"), "The partner"),
        ...errorResponses(401, 403, 429),
      },
    }),
    async (c) => {
      const principal = c.get("principal")!;
      const partner = await deps.identity.partners.get(principal.id);
      if (!partner) throw new AppError("UNAUTHENTICATED", "The API key is not valid.");
      return c.json({ ...partner, scopes: principal.scopes ?? [] }, 200);
    },
  );
  return router;
}
