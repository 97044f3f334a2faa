import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../../http/auth";
import { AppError } from "../../http/errors";
import { createRouter, errorResponses, jsonContent } from "../../http/router";
import type { Identity } from "..";
import { sessionIdOf, userAuth } from "../guards";
import { jsonBody, phoneField, refreshBody, userSchema, userSessionSchema } from "./schemas";

const bearer = [{ bearer: [] }];

/** /v1/auth/* and /v1/me: users sign in with a code sent to their phone, and set a transaction PIN. */
export function userRoutes(deps: { identity: Identity }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/otp",
      security: [],
      tags: ["users: sign-in"],
      summary: "Send a 6-digit sign-in code to a phone (WhatsApp, SMS fallback)",
      description:
        "Codes live 5 minutes; 5 wrong tries burn one; a new code needs 60 s; per-phone and per-IP caps apply (429 with Retry-After).",
      request: jsonBody(z.object({ phone: phoneField }).openapi("OtpRequest")),
      responses: {
        202: jsonContent(z.object({ expiresInSeconds: z.number().int() }).openapi("OtpSent"), "Code queued"),
        ...errorResponses(400, 429),
      },
    }),
    async (c) => {
      const { identity } = deps;
      const result = await identity.users.requestOtp({ ctx: requestMeta(c), input: c.req.valid("json") });
      return c.json(result, 202);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/otp/verify",
      security: [],
      tags: ["users: sign-in"],
      summary: "Exchange the code for tokens; the first sign-in creates the user and their wallet",
      request: jsonBody(
        z
          .object({ phone: phoneField, code: z.string().regex(/^\d{6}$/, "must be 6 digits") })
          .openapi("OtpVerifyRequest"),
      ),
      responses: {
        200: jsonContent(userSessionSchema, "Signed in"),
        ...errorResponses(400, 401, 403, 429),
      },
    }),
    async (c) => {
      const { identity } = deps;
      return c.json(await identity.users.verifyOtp({ ctx: requestMeta(c), input: c.req.valid("json") }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/refresh",
      security: [],
      tags: ["users: sign-in"],
      summary: "Rotate the refresh token; presenting a used one revokes its whole family",
      request: jsonBody(refreshBody),
      responses: { 200: jsonContent(userSessionSchema, "New tokens"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { identity } = deps;
      return c.json(await identity.users.refresh({ ctx: requestMeta(c), input: c.req.valid("json") }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/auth/logout",
      tags: ["users: sign-in"],
      summary: "End this session: its refresh token and access token stop working",
      security: bearer,
      middleware: [userAuth] as const,
      responses: { 204: { description: "Signed out" }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      const { identity } = deps;
      await identity.tokens.revokeSession(sessionIdOf(c), "logout");
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/me",
      tags: ["users"],
      summary: "The signed-in user",
      security: bearer,
      middleware: [userAuth] as const,
      responses: { 200: jsonContent(userSchema, "The user"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const { identity } = deps;
      const user = await identity.users.get(c.get("principal")!.id);
      if (!user) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
      return c.json(user, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "put",
      path: "/v1/me/pin",
      tags: ["users"],
      summary: "Set or change the transaction PIN",
      description:
        "4–6 digits; not one repeated digit, a run (1234) or the phone's last digits. `currentPin` is required once a PIN is set, except within a few minutes of signing in with a fresh code (the reset path for a forgotten or locked PIN).",
      security: bearer,
      middleware: [userAuth] as const,
      request: jsonBody(
        z
          .object({
            pin: z.string().regex(/^\d{4,6}$/, "must be 4 to 6 digits"),
            currentPin: z.string().max(12).optional(),
          })
          .openapi("SetPinRequest"),
      ),
      responses: { 204: { description: "PIN set" }, ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { identity } = deps;
      const body = c.req.valid("json");
      await identity.users.setPin({
        ctx: requestMeta(c),
        input: { userId: c.get("principal")!.id, sessionId: sessionIdOf(c), ...body },
      });
      return c.body(null, 204);
    },
  );

  return router;
}
