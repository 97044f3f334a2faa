import { createRoute, z } from "@hono/zod-openapi";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth } from "../identity";
import { instantField } from "../lib/input";
import type { Audit } from "./service";

const record = z
  .object({
    id: z.string(),
    at: z.string(),
    actorType: z.string(),
    actorId: z.string().nullable(),
    action: z.string().openapi({ example: "user.freeze" }),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi("AuditRecord");

/** GET /admin/v1/audit: the append-only audit trail, filtered and paginated. */
export function auditRoutes(deps: { audit: Audit }) {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/audit",
      tags: ["admin: audit"],
      summary: "Audit log, newest first; `action` may end in `.*` to match a family (vendor.login.*)",
      security: [{ bearer: [] }],
      middleware: [adminAuth("audit:read")] as const,
      request: {
        query: paginationQuery.extend({
          actorType: z.enum(["admin", "user", "vendor", "partner", "system", "anonymous"]).optional(),
          actorId: z.string().max(64).optional(),
          action: z.string().max(100).optional(),
          targetType: z.string().max(32).optional(),
          targetId: z.string().max(64).optional(),
          from: instantField.optional().openapi({ description: "At or after (ISO 8601; years 1900–9999)" }),
          to: instantField.optional().openapi({ description: "Before (ISO 8601; years 1900–9999)" }),
        }),
      },
      responses: { 200: jsonContent(listOf(record), "Audit records"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { from, to, ...query } = c.req.valid("query");
      const page = await deps.audit.list({ ...query, ...(from ? { from } : {}), ...(to ? { to } : {}) });
      return c.json(page, 200);
    },
  );
  return router;
}
