import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../../http/auth";
import { AppError } from "../../http/errors";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../../http/router";
import type { Identity } from "..";
import { adminAuth } from "../guards";
import {
  bearer,
  deviceSchema,
  emailField,
  idParam,
  jsonBody,
  passwordField,
  phoneField,
  reasonBody,
  vendorViewSchema,
} from "./schemas";

/** /admin/v1/vendors: search, create, one vendor, freeze and unfreeze, its trusted devices. */
export function adminVendorRoutes(deps: { identity: Identity }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/vendors",
      tags: ["admin: vendors"],
      summary: "Search vendors by id, code, email, phone or name; newest first",
      security: bearer,
      middleware: [adminAuth("vendors:read")] as const,
      request: {
        query: paginationQuery.extend({
          q: z.string().trim().max(100).optional(),
          status: z.enum(["active", "frozen", "deleted"]).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(vendorViewSchema), "Vendors"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.identity.vendors.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/vendors",
      tags: ["admin: vendors"],
      summary: "Create a vendor (and its wallet); the response carries the vendor code payers use",
      security: bearer,
      middleware: [adminAuth("vendors:create")] as const,
      request: jsonBody(
        z
          .object({
            name: z.string().trim().min(2).max(120),
            email: emailField,
            password: passwordField,
            phone: phoneField,
            registrationNumber: z.string().trim().max(64).optional(),
            address: z.string().trim().max(300).optional(),
            category: z.string().trim().max(64).optional(),
          })
          .openapi("CreateVendorRequest"),
      ),
      responses: { 201: jsonContent(vendorViewSchema, "Created"), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => c.json(await deps.identity.vendors.create({ ctx: requestMeta(c), input: c.req.valid("json") }), 201),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/vendors/{id}",
      tags: ["admin: vendors"],
      summary: "One vendor",
      security: bearer,
      middleware: [adminAuth("vendors:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(vendorViewSchema, "The vendor"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const vendor = await deps.identity.vendors.getView(c.req.valid("param").id);
      if (!vendor) throw new AppError("NOT_FOUND", "No such vendor.");
      return c.json(vendor, 200);
    },
  );

  for (const [verb, status] of [
    ["freeze", "frozen"],
    ["unfreeze", "active"],
  ] as const) {
    router.openapi(
      createRoute({
        method: "post",
        path: `/admin/v1/vendors/{id}/${verb}`,
        tags: ["admin: vendors"],
        summary: verb === "freeze" ? "Freeze a vendor" : "Unfreeze a vendor",
        security: bearer,
        middleware: [adminAuth("vendors:freeze")] as const,
        request: { params: idParam, ...jsonBody(reasonBody) },
        responses: { 200: jsonContent(vendorViewSchema, "The vendor"), ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => {
        const vendor = await deps.identity.vendors.setStatus({
          ctx: requestMeta(c),
          input: { vendorId: c.req.valid("param").id, status, reason: c.req.valid("json").reason },
        });
        return c.json(vendor, 200);
      },
    );
  }

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/vendors/{id}/devices",
      tags: ["admin: vendors"],
      summary: "A vendor's trusted devices",
      security: bearer,
      middleware: [adminAuth("vendors:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(listOf(deviceSchema), "Devices"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { identity } = deps;
      const { id } = c.req.valid("param");
      if (!(await identity.vendors.get(id))) throw new AppError("NOT_FOUND", "No such vendor.");
      return c.json({ data: await identity.vendors.devices(id), nextCursor: null }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "delete",
      path: "/admin/v1/vendors/{id}/devices/{deviceId}",
      tags: ["admin: vendors"],
      summary: "Revoke a vendor's device; its sessions end",
      security: bearer,
      middleware: [adminAuth("vendors:devices")] as const,
      request: { params: z.object({ id: z.string().min(1).max(64), deviceId: z.string().min(1).max(64) }) },
      responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id, deviceId } = c.req.valid("param");
      await deps.identity.vendors.revokeDevice({ ctx: requestMeta(c), input: { vendorId: id, id: deviceId } });
      return c.body(null, 204);
    },
  );

  return router;
}
