import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Core } from "../core";
import type { AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { createRouter, errorResponses } from "../http/router";
import { constantTimeEqual, sha256Hex } from "../lib/crypto";
import type { Airtime } from "./service";

/**
 * Swazi Mobile's ERS360 sits on a private network that only the USSD deployment (keshless-ussd)
 * reaches. This route, mounted there, forwards a SOAP request to it unchanged and returns the reply
 * unchanged (status, body, content type): the API deployment's ERS360 client points at it
 * (KESHLESS_ERS360_ESWATINI_MOBILE_PROXY_URL) instead of the operator. Callers prove themselves with
 * X-Internal-Secret (KESHLESS_ERS360_PROXY_SECRET). Bodies are never logged: they carry the reseller password.
 */
/** The API deployments' shared secret with keshless-ussd (KESHLESS_ERS360_PROXY_SECRET); unset → the proxy is off. */
function internalSecretAuth(config: Pick<Core["config"], "ers360">): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const secret = config.ers360.proxySecret;
    if (!secret)
      throw new AppError("UNAVAILABLE", "The ERS360 proxy is not configured (KESHLESS_ERS360_PROXY_SECRET).");
    const given = c.req.header("x-internal-secret");
    if (!given || !constantTimeEqual(sha256Hex(given), sha256Hex(secret)))
      throw new AppError("UNAUTHENTICATED", "A valid X-Internal-Secret header is required.");
    await next();
  };
}

export function ersProxyRoutes(deps: Pick<Core, "config" | "logger"> & { airtime: Airtime }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/internal/ers/eswatini-mobile",
      tags: ["internal"],
      summary: "Forward an ERS360 SOAP request to Eswatini Mobile (keshless-ussd only)",
      security: [{ internalSecret: [] }],
      middleware: [internalSecretAuth(deps.config)] as const,
      request: {
        headers: z.object({ "x-internal-secret": z.string().optional() }),
        body: { content: { "text/xml": { schema: z.string() } }, required: true },
      },
      responses: {
        200: { description: "The operator's SOAP reply", content: { "text/xml": { schema: z.string() } } },
        500: {
          description: "The operator's SOAP fault, passed through",
          content: { "text/xml": { schema: z.string() } },
        },
        ...errorResponses(401, 413, 503),
      },
    }),
    async (c) => {
      const { ers360 } = deps.config;
      const body = await c.req.text();
      const upstream = ers360.operators.eswatini_mobile.url;
      const simulator = deps.airtime.simulators.eswatini_mobile;
      if (!upstream && !simulator)
        throw new AppError(
          "UNAVAILABLE",
          "No Eswatini Mobile ERS360 is configured (KESHLESS_ERS360_ESWATINI_MOBILE_URL).",
        );
      const started = Date.now();
      let reply: Response;
      try {
        const init = {
          method: "POST",
          headers: { "content-type": "text/xml; charset=utf-8" },
          body,
          signal: AbortSignal.timeout(ers360.timeoutMs),
        };
        reply = upstream ? await fetch(upstream, init) : await simulator!.fetch("http://ers360.simulator/", init);
      } catch (error) {
        const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
        deps.logger.warn(
          { requestId: c.get("requestId"), ms: Date.now() - started, timedOut },
          "ERS360 proxy: no reply",
        );
        throw new AppError(
          "UNAVAILABLE",
          timedOut ? "Eswatini Mobile's ERS360 did not answer in time." : "Eswatini Mobile's ERS360 is unreachable.",
        );
      }
      const text = await reply.text();
      deps.logger.info(
        { requestId: c.get("requestId"), status: reply.status, ms: Date.now() - started },
        "ERS360 proxy: forwarded",
      );
      return new Response(text, {
        status: reply.status,
        headers: { "content-type": reply.headers.get("content-type") ?? "text/xml; charset=utf-8" },
      });
    },
  );

  return router;
}
