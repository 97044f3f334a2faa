import { createRoute, z } from "@hono/zod-openapi";
import type { Audit } from "../../audit";
import { requestMeta } from "../../http/auth";
import { AppError } from "../../http/errors";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../../http/router";
import type { Identity } from "..";
import { adminAuth } from "../guards";
import { adminUserSchema, bearer, idParam, jsonBody, reasonBody, userSchema } from "./schemas";

/** /admin/v1/users: search (audited), one user, freeze and unfreeze. */
export function adminUserRoutes(deps: { identity: Identity; audit: Audit }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/users",
      tags: ["admin: users"],
      summary: "Search users by id, phone (or its last digits) or name; newest first",
      security: bearer,
      middleware: [adminAuth("users:read")] as const,
      request: {
        query: paginationQuery.extend({
          q: z.string().trim().max(100).optional(),
          status: z.enum(["active", "frozen", "deleted"]).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(userSchema), "Users"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const page = await deps.identity.users.search(query);
      await deps.audit.record({ action: "user.search", details: { q: query.q, status: query.status } }, requestMeta(c));
      return c.json(page, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/users/{id}",
      tags: ["admin: users"],
      summary: "One user, with PIN lock and wallet balance",
      security: bearer,
      middleware: [adminAuth("users:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(adminUserSchema, "The user"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const user = await deps.identity.users.view(id);
      if (!user) throw new AppError("NOT_FOUND", "No such user.");
      await deps.audit.record({ action: "user.view", target: { type: "user", id } }, requestMeta(c));
      return c.json(user, 200);
    },
  );

  for (const [verb, status] of [
    ["freeze", "frozen"],
    ["unfreeze", "active"],
  ] as const) {
    router.openapi(
      createRoute({
        method: "post",
        path: `/admin/v1/users/{id}/${verb}`,
        tags: ["admin: users"],
        summary:
          verb === "freeze"
            ? "Freeze a user: no sign-in, no money movement, existing tokens refused"
            : "Unfreeze a user",
        security: bearer,
        middleware: [adminAuth("users:freeze")] as const,
        request: { params: idParam, ...jsonBody(reasonBody) },
        responses: { 200: jsonContent(adminUserSchema, "The user"), ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => {
        const user = await deps.identity.users.setStatus({
          ctx: requestMeta(c),
          input: { userId: c.req.valid("param").id, status, reason: c.req.valid("json").reason },
        });
        return c.json(user, 200);
      },
    );
  }

  return router;
}
