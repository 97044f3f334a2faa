import { Scalar } from "@scalar/hono-api-reference";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import type { AppContext } from "./http/context";
import { AppError, errorBody } from "./http/errors";
import { requestContext, requireJsonBody } from "./http/middleware";
import { createRouter, publishConfiguredBounds, publishOperationIds } from "./http/router";
import { toAppError } from "./http/to-app-error";
import type { System } from "./modules";

/** The whole HTTP surface: every module's routes, in module order. KESHLESS_ROLE picks which groups this deployment mounts. */
export function createApp(system: System) {
  const app = createRouter();
  const { config, logger } = system;

  app.use("*", requestContext(system.core));
  app.use("*", methodNotAllowed({ app, onMethodNotAllowed: methodNotAllowedResponse }));
  const headers = secureHeaders();
  // A signed storage URL is its own access control, and the dashboard (another origin) shows KYC images from it.
  const storageHeaders = secureHeaders({ crossOriginResourcePolicy: "cross-origin" });
  app.use("*", (c, next) => (c.req.path.startsWith("/storage/") ? storageHeaders(c, next) : headers(c, next)));
  app.use(
    "*",
    cors({
      origin: config.dashboardOrigin,
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "Idempotent-Replayed", "Retry-After"],
      credentials: true,
    }),
  );
  const limitBody = bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: () => {
      throw new AppError("PAYLOAD_TOO_LARGE", `The body is larger than ${config.maxBodyBytes} bytes.`);
    },
  });
  // The local store's signed uploads (src/integrations/storage/local-routes.ts) enforce the size they were signed
  // for while streaming to disk; every other body stays small.
  app.use("*", (c, next) => (c.req.path.startsWith("/storage/") ? next() : limitBody(c, next)));
  for (const prefix of ["/v1/*", "/partner/*", "/admin/*"]) app.use(prefix, requireJsonBody);

  for (const module of system.modules) for (const middleware of module.middleware) app.use("*", middleware);
  for (const module of system.modules)
    for (const group of module.routes) if (group.roles.includes(config.role)) app.route("/", group.router);

  // Built per request like doc31 does, then with the bounds this server is configured with (CONFIGURED_MAXIMUM).
  const configuredBounds = {
    KESHLESS_MAX_AMOUNT: config.maxAmount,
    KESHLESS_AIRTIME_MAX_AMOUNT: config.airtime.maxAmount,
  };
  app.get("/openapi.json", (c) =>
    c.json(
      publishOperationIds(
        publishConfiguredBounds(
          app.getOpenAPI31Document({
            openapi: "3.1.0",
            info: {
              title: "Keshless API",
              version: "1.0.0",
              description: "Mobile-money wallet for Eswatini. See docs/API.md.",
            },
            // Relative: the API is served from the root of whichever host served this document.
            servers: [{ url: "/", description: "This server" }],
          }),
          configuredBounds,
        ),
      ),
    ),
  );
  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "apiKey", {
    type: "apiKey",
    in: "header",
    name: "X-API-Key",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "jobSecret", {
    type: "apiKey",
    in: "header",
    name: "X-Job-Secret",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "internalSecret", {
    type: "apiKey",
    in: "header",
    name: "X-Internal-Secret",
  });
  // The USSD gateways' shared secret (src/ussd/routes.ts; unchecked only where none is configured).
  app.openAPIRegistry.registerComponent("securitySchemes", "gatewaySecret", {
    type: "apiKey",
    in: "header",
    name: "X-Gateway-Secret",
  });
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Keshless API" }));

  app.notFound((c) => {
    const requestId = (c as AppContext).get("requestId");
    return c.json(errorBody("NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`, requestId), 404);
  });

  app.onError((error, c) => {
    const ctx = c as AppContext;
    const requestId = ctx.get("requestId") ?? "unknown";
    const appError = toAppError(error);
    if (!appError) {
      logger.error({ requestId, err: error }, "unhandled error");
      return c.json(errorBody("INTERNAL", "Something went wrong on our side.", requestId), 500);
    }
    if (appError.status >= 500) logger.warn({ requestId, code: appError.code, err: error }, appError.message);
    for (const [name, value] of Object.entries(appError.headers ?? {})) c.header(name, value);
    return c.json(errorBody(appError.code, appError.message, requestId, appError.details), appError.status);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;

function methodNotAllowedResponse(c: AppContext, methods: string[]) {
  return c.json(
    errorBody(
      "METHOD_NOT_ALLOWED",
      `${c.req.method} is not allowed here; use ${methods.join(", ")}.`,
      c.get("requestId"),
    ),
    405,
    { Allow: methods.join(", ") },
  );
}
