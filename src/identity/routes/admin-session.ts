import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../../http/auth";
import { AppError } from "../../http/errors";
import { createRouter, errorResponses, jsonContent } from "../../http/router";
import type { Identity } from "..";
import { adminAuth, sessionIdOf } from "../guards";
import { adminSchema, adminSessionSchema, bearer, emailField, jsonBody, passwordField, refreshBody } from "./schemas";

/** /admin/v1/auth and /admin/v1/me: an admin signs in with email, password and TOTP, refreshes, signs out. */
export function adminSessionRoutes(deps: { identity: Identity }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/auth/login",
      security: [],
      tags: ["admin: sign-in"],
      summary: "Sign in with email, password and a TOTP code (RFC 6238; each code works once)",
      request: jsonBody(
        z
          .object({ email: emailField, password: passwordField, totp: z.string().regex(/^\d{6}$/, "must be 6 digits") })
          .openapi("AdminLoginRequest"),
      ),
      responses: { 200: jsonContent(adminSessionSchema, "Signed in"), ...errorResponses(400, 401, 403, 429) },
    }),
    async (c) => c.json(await deps.identity.admins.login({ ctx: requestMeta(c), input: c.req.valid("json") }), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/auth/totp-setup",
      security: [],
      tags: ["admin: sign-in"],
      summary: "First sign-in: the authenticator's otpauth:// URL (for a QR), while the admin has never signed in",
      description:
        "With the email and the password the admin was given. Refused alike (401) for a wrong email or password " +
        "and for an admin who has already signed in once; wrong passwords count toward the sign-in lock.",
      request: jsonBody(z.object({ email: emailField, password: passwordField }).openapi("AdminTotpSetupRequest")),
      responses: {
        200: jsonContent(z.object({ otpauthUrl: z.string() }).openapi("AdminTotpSetup"), "Scan it, then sign in"),
        ...errorResponses(400, 401, 403, 429),
      },
    }),
    async (c) => c.json(await deps.identity.admins.totpSetup({ ctx: requestMeta(c), input: c.req.valid("json") }), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/auth/refresh",
      security: [],
      tags: ["admin: sign-in"],
      summary: "Rotate the refresh token (admin sessions end 12 hours after sign-in)",
      request: jsonBody(refreshBody),
      responses: { 200: jsonContent(adminSessionSchema, "New tokens"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.identity.admins.refresh({ ctx: requestMeta(c), input: c.req.valid("json") }), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/auth/logout",
      tags: ["admin: sign-in"],
      summary: "End this session",
      security: bearer,
      middleware: [adminAuth()] as const,
      responses: { 204: { description: "Signed out" }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      await deps.identity.tokens.revokeSession(sessionIdOf(c), "logout");
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/auth/logout-all",
      tags: ["admin: sign-in"],
      summary: "Sign out everywhere: end every session of this admin, on every device (audited)",
      security: bearer,
      middleware: [adminAuth()] as const,
      responses: {
        200: jsonContent(z.object({ ended: z.number().int() }), "Sessions ended"),
        ...errorResponses(401, 403),
      },
    }),
    async (c) => {
      const adminId = c.get("principal")!.id;
      return c.json(await deps.identity.admins.signOutEverywhere({ ctx: requestMeta(c), adminId }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/me",
      tags: ["admin: sign-in"],
      summary: "The signed-in admin and their permissions",
      security: bearer,
      middleware: [adminAuth()] as const,
      responses: { 200: jsonContent(adminSchema, "The admin"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const admin = await deps.identity.admins.get(c.get("principal")!.id);
      if (!admin) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
      return c.json(admin, 200);
    },
  );

  return router;
}
