import { Scalar } from "@scalar/hono-api-reference";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { methodNotAllowed } from "hono/method-not-allowed";
import { secureHeaders } from "hono/secure-headers";
import { ersProxyRoutes } from "./airtime/proxy-routes";
import { airtimeRoutes } from "./airtime/routes";
import { approvalRoutes } from "./approvals/routes";
import { auditRoutes } from "./audit/routes";
import { cardRoutes } from "./cards/routes";
import type { Deps } from "./deps";
import type { AppContext } from "./http/context";
import { AppError, errorBody } from "./http/errors";
import { requestContext, requireJsonBody } from "./http/middleware";
import { createRouter, publishConfiguredBounds, publishOperationIds } from "./http/router";
import { toAppError } from "./http/to-app-error";
import { adminRoutes } from "./identity/routes/admin";
import { partnerRoutes } from "./identity/routes/partner";
import { userRoutes } from "./identity/routes/users";
import { vendorRoutes } from "./identity/routes/vendors";
import { jobRoutes } from "./jobs/routes";
import { devOutboxRoutes } from "./notifications/routes";
import { devCliRoutes } from "./ops/dev-cli";
import { opsRoutes } from "./ops/routes";
import { paymentAdminRoutes } from "./payments/admin-routes";
import { paymentRequestRoutes } from "./payments/request-routes";
import { paymentRoutes } from "./payments/routes";
import { ussdRoutes } from "./ussd/routes";
import { webhookRoutes } from "./webhooks/routes";
import { withdrawalRoutes } from "./withdrawals/routes";

/** The whole HTTP surface. KESHLESS_ROLE picks which route groups this deployment mounts. */
export function createApp(deps: Deps) {
  const app = createRouter();
  const { config } = deps;

  app.use("*", requestContext(deps));
  app.use(
    "*",
    methodNotAllowed({ app, onMethodNotAllowed: (c, methods) => methodNotAllowedResponse(c as never, methods) }),
  );
  app.use("*", secureHeaders());
  app.use(
    "*",
    cors({
      origin: config.dashboardOrigin,
      allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"],
      exposeHeaders: ["X-Request-Id", "Idempotent-Replayed", "Retry-After"],
      credentials: true,
    }),
  );
  app.use(
    "*",
    bodyLimit({
      maxSize: config.maxBodyBytes,
      onError: () => {
        throw new AppError("PAYLOAD_TOO_LARGE", `The body is larger than ${config.maxBodyBytes} bytes.`);
      },
    }),
  );
  for (const prefix of ["/v1/*", "/partner/*", "/admin/*"]) app.use(prefix, requireJsonBody);

  app.route("/", opsRoutes());
  for (const mount of routeGroups()) if (mount.roles.includes(config.role)) app.route("/", mount.router);

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
      deps.logger.error({ requestId, err: error }, "unhandled error");
      return c.json(errorBody("INTERNAL", "Something went wrong on our side.", requestId), 500);
    }
    if (appError.status >= 500) deps.logger.warn({ requestId, code: appError.code, err: error }, appError.message);
    for (const [name, value] of Object.entries(appError.headers ?? {})) c.header(name, value);
    return c.json(errorBody(appError.code, appError.message, requestId, appError.details), appError.status);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;

type Role = Deps["config"]["role"];

/** Route groups and the deployments (KESHLESS_ROLE) that serve them. */
function routeGroups(): { roles: Role[]; router: ReturnType<typeof createRouter> }[] {
  return [
    { roles: ["all", "api"], router: userRoutes() },
    { roles: ["all", "api"], router: vendorRoutes() },
    { roles: ["all", "api"], router: adminRoutes() },
    { roles: ["all", "api"], router: auditRoutes() },
    { roles: ["all", "api"], router: partnerRoutes() },
    { roles: ["all", "api"], router: paymentRoutes() },
    { roles: ["all", "api"], router: webhookRoutes() },
    { roles: ["all", "api"], router: paymentRequestRoutes() },
    { roles: ["all", "api"], router: paymentAdminRoutes() },
    { roles: ["all", "api"], router: devCliRoutes() },
    // The handler answers 404 in production. Not on "ussd": that deployment serves only the gateways.
    { roles: ["all", "api"], router: devOutboxRoutes() },
    // keshless-ussd: only the gateways' callbacks (plus /health, /ready and the ERS proxy).
    { roles: ["all", "ussd"], router: ussdRoutes() },
    { roles: ["all", "api"], router: approvalRoutes() },
    { roles: ["all", "api"], router: withdrawalRoutes() },
    { roles: ["all", "api"], router: cardRoutes() },
    { roles: ["all", "api"], router: airtimeRoutes() },
    { roles: ["all", "api"], router: jobRoutes() },
    // Swazi Mobile's ERS360 is reachable from the USSD deployment only.
    { roles: ["all", "ussd"], router: ersProxyRoutes() },
  ];
}

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
