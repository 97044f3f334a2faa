import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../../http/auth";
import { AppError } from "../../http/errors";
import { createRouter, errorResponses, jsonContent, listOf } from "../../http/router";
import type { Identity } from "..";
import { sessionIdOf, vendorAuth } from "../guards";
import {
  deviceSchema,
  deviceTrustedSchema,
  emailField,
  idParam,
  jsonBody,
  passwordField,
  refreshBody,
  vendorSchema,
  vendorSessionSchema,
} from "./schemas";

const bearer = [{ bearer: [] }];

/** /v1/vendor/auth/* and the vendor's own devices. */
export function vendorRoutes(deps: { identity: Identity }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/vendor/auth/login",
      security: [],
      tags: ["vendors: sign-in"],
      summary: "Sign in with email, password and this device",
      description:
        "`deviceId` is the device credential `POST /v1/vendor/auth/device/verify` returned to this device; only that counts as a trusted device. Anything else (on first use, the app's own name for the install) gets 403 DEVICE_VERIFICATION_REQUIRED with `details.challengeId`, and a code goes to the vendor's phone. Repeated failures lock the account for a while (403 with `details.lockedUntil`).",
      request: jsonBody(
        z
          .object({
            email: emailField,
            password: passwordField,
            deviceId: z
              .string()
              .trim()
              .min(1)
              .max(128)
              .openapi({ description: "The device credential once verified; before that, a name for the install" }),
          })
          .openapi("VendorLoginRequest"),
      ),
      responses: { 200: jsonContent(vendorSessionSchema, "Signed in"), ...errorResponses(400, 401, 403, 429) },
    }),
    async (c) => {
      const { identity } = deps;
      return c.json(await identity.vendors.login({ ctx: requestMeta(c), input: c.req.valid("json") }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/vendor/auth/device/verify",
      security: [],
      tags: ["vendors: sign-in"],
      summary: "Trust the device with the code sent to the vendor's phone; returns tokens and the device credential",
      request: jsonBody(
        z
          .object({ challengeId: z.string().min(1).max(64), code: z.string().regex(/^\d{6}$/, "must be 6 digits") })
          .openapi("DeviceVerifyRequest"),
      ),
      responses: {
        200: jsonContent(deviceTrustedSchema, "Device trusted, signed in"),
        ...errorResponses(400, 401, 403, 429),
      },
    }),
    async (c) => {
      const { identity } = deps;
      return c.json(await identity.vendors.verifyDevice({ ctx: requestMeta(c), input: c.req.valid("json") }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/vendor/auth/refresh",
      security: [],
      tags: ["vendors: sign-in"],
      summary: "Rotate the refresh token; presenting a used one revokes its whole family",
      request: jsonBody(refreshBody),
      responses: { 200: jsonContent(vendorSessionSchema, "New tokens"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { identity } = deps;
      return c.json(await identity.vendors.refresh({ ctx: requestMeta(c), input: c.req.valid("json") }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/vendor/auth/logout",
      tags: ["vendors: sign-in"],
      summary: "End this session",
      security: bearer,
      middleware: [vendorAuth] as const,
      responses: { 204: { description: "Signed out" }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      await deps.identity.tokens.revokeSession(sessionIdOf(c), "logout");
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/vendor/me",
      tags: ["vendors"],
      summary: "The signed-in vendor",
      security: bearer,
      middleware: [vendorAuth] as const,
      responses: { 200: jsonContent(vendorSchema, "The vendor"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const vendor = await deps.identity.vendors.get(c.get("principal")!.id);
      if (!vendor) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
      return c.json(vendor, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/vendor/devices",
      tags: ["vendors"],
      summary: "Trusted devices (revoked ones included, marked)",
      security: bearer,
      middleware: [vendorAuth] as const,
      responses: { 200: jsonContent(listOf(deviceSchema), "Devices"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const data = await deps.identity.vendors.devices(c.get("principal")!.id);
      return c.json({ data, nextCursor: null }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "delete",
      path: "/v1/vendor/devices/{id}",
      tags: ["vendors"],
      summary: "Revoke a trusted device; its sessions end",
      security: bearer,
      middleware: [vendorAuth] as const,
      request: { params: idParam },
      responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const principal = c.get("principal")!;
      await deps.identity.vendors.revokeDevice({
        ctx: requestMeta(c),
        input: { vendorId: principal.id, id: c.req.valid("param").id },
      });
      return c.body(null, 204);
    },
  );

  return router;
}
