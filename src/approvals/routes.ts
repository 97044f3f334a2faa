import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../http/auth";
import type { AppContext } from "../http/context";
import { AppError } from "../http/errors";
import { idempotent } from "../http/idempotency";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth } from "../identity";
import { approvalSchema } from "./dto";
import type { Approvals } from "./service";

const idParam = z.object({ id: z.string().min(1).max(64) });
const idempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).openapi({ description: "Required: a decision moves money." }),
});
const bearer = [{ bearer: [] }];

function admin(c: AppContext) {
  const principal = c.get("principal");
  if (!principal) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
  return { id: principal.id, role: principal.role ?? "" };
}

/** /admin/v1/approvals: the maker-checker queue every kind shares. Decisions are audited by the service. */
export function approvalRoutes(deps: { approvals: Approvals }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/approvals",
      tags: ["admin: approvals"],
      summary: "The approvals queue, newest first (filter by status, kind, owner, maker, subject)",
      security: bearer,
      middleware: [adminAuth("approvals:read")] as const,
      request: {
        query: paginationQuery.extend({
          status: z.enum(["pending", "approved", "rejected", "expired"]).optional(),
          kind: z.string().max(32).optional(),
          ownerId: z.string().max(64).optional(),
          requestedById: z.string().max(64).optional(),
          subjectId: z.string().max(64).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(approvalSchema), "A page"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.approvals.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/approvals/{id}",
      tags: ["admin: approvals"],
      summary: "One approval request",
      security: bearer,
      middleware: [adminAuth("approvals:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(approvalSchema, "The request"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const approval = await deps.approvals.get(c.req.valid("param").id);
      if (!approval) throw new AppError("NOT_FOUND", "No such approval request.");
      return c.json(approval, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/approvals/{id}/approve",
      tags: ["admin: approvals"],
      summary: "Approve (the last approval needed carries it out: e.g. posts the withdrawal)",
      description:
        "The maker can never approve their own request. A request needing two approvals stays pending after " +
        "the first, and the second must come from a different admin. Some kinds need a permission of their own " +
        "(withdrawals: withdrawals:approve).",
      security: bearer,
      middleware: [adminAuth("approvals:decide")] as const,
      request: {
        params: idParam,
        headers: idempotencyHeader,
        body: {
          content: { "application/json": { schema: z.object({ note: z.string().trim().max(500).optional() }) } },
        },
      },
      responses: {
        200: jsonContent(approvalSchema, "The request after this approval"),
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const { approvals } = deps;
      const prepared = await approvals.prepare(id);
      const input = { id, admin: admin(c), reason: body.note ?? null };
      return idempotent(c, body, async (tx) => ({
        status: 200 as const,
        body: await approvals.approve({ ctx: requestMeta(c), input }, tx, prepared),
      }));
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/approvals/{id}/reject",
      tags: ["admin: approvals"],
      summary: "Reject with a reason (told to the owner; e.g. releases the held funds)",
      security: bearer,
      middleware: [adminAuth("approvals:decide")] as const,
      request: {
        params: idParam,
        headers: idempotencyHeader,
        body: {
          content: {
            "application/json": { schema: z.object({ reason: z.string().trim().min(3).max(500) }) },
          },
        },
      },
      responses: {
        200: jsonContent(approvalSchema, "The rejected request"),
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const body = c.req.valid("json");
      const { approvals } = deps;
      const prepared = await approvals.prepare(id);
      const input = { id, admin: admin(c), reason: body.reason };
      return idempotent(c, body, async (tx) => ({
        status: 200 as const,
        body: await approvals.reject({ ctx: requestMeta(c), input }, tx, prepared),
      }));
    },
  );

  return router;
}
