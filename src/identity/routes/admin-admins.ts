import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../../http/auth";
import { ADMIN_ROLES } from "../../http/permissions";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../../http/router";
import type { Identity } from "..";
import { adminAuth } from "../guards";
import { adminSchema, bearer, emailField, idParam, jsonBody, passwordField, reasonBody } from "./schemas";

/** /admin/v1/admins: list, create (the TOTP secret is shown once), disable. */
export function adminAdminRoutes(deps: { identity: Identity }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/admins",
      tags: ["admin: admins"],
      summary: "Admins",
      security: bearer,
      middleware: [adminAuth("admins:read")] as const,
      request: { query: paginationQuery },
      responses: { 200: jsonContent(listOf(adminSchema), "Admins"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.identity.admins.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/admins",
      tags: ["admin: admins"],
      summary: "Create an admin; the TOTP secret is in this response only",
      security: bearer,
      middleware: [adminAuth("admins:manage")] as const,
      request: jsonBody(
        z
          .object({ email: emailField, password: passwordField, role: z.enum(ADMIN_ROLES) })
          .openapi("CreateAdminRequest"),
      ),
      responses: {
        201: jsonContent(
          adminSchema.extend({ totpSecret: z.string(), otpauthUrl: z.string() }).openapi("CreatedAdmin"),
          "Created",
        ),
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => c.json(await deps.identity.admins.create({ ctx: requestMeta(c), input: c.req.valid("json") }), 201),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/admins/{id}/disable",
      tags: ["admin: admins"],
      summary: "Disable an admin; their sessions end",
      security: bearer,
      middleware: [adminAuth("admins:manage")] as const,
      request: { params: idParam, ...jsonBody(reasonBody) },
      responses: { 200: jsonContent(adminSchema, "The admin"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const admin = await deps.identity.admins.disable({
        ctx: requestMeta(c),
        input: { adminId: c.req.valid("param").id, reason: c.req.valid("json").reason },
      });
      return c.json(admin, 200);
    },
  );

  return router;
}
