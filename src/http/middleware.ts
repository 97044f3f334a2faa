import type { MiddlewareHandler } from "hono";
import type { Core } from "../core";
import { newId } from "../lib/ids";
import type { AppEnv } from "./context";
import { AppError } from "./errors";
import { loggableUrl } from "./logger";
import { limiterIp } from "./route-limits";

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Request id in (X-Request-Id, when sane) and out; the core on the context; one log line per request. */
export function requestContext(core: Core): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : newId("req");
    c.set("requestId", requestId);
    c.set("core", core);
    const started = performance.now();
    await next();
    c.header("X-Request-Id", requestId);
    const status = c.res.status;
    const latency = (performance.now() - started) / 1000;
    const traceHeader = c.req.header("x-cloud-trace-context");
    const traceId = traceHeader?.split("/")[0];
    const url = new URL(c.req.url);
    const line = {
      requestId,
      httpRequest: {
        requestMethod: c.req.method,
        requestUrl: loggableUrl(url),
        status,
        userAgent: c.req.header("user-agent"),
        remoteIp: limiterIp(c, core.config.auth.trustedProxyHops),
        latency: `${latency.toFixed(4)}s`,
      },
      principal: c.get("principal") ? { kind: c.get("principal")!.kind, id: c.get("principal")!.id } : undefined,
      ...(traceId && core.config.gcpProject
        ? { "logging.googleapis.com/trace": `projects/${core.config.gcpProject}/traces/${traceId}` }
        : traceId
          ? { trace: traceId }
          : {}),
    };
    const message = `${c.req.method} ${url.pathname} ${status}`;
    if (status >= 500) core.logger.error(line, message);
    else core.logger.info(line, message);
  };
}

/** JSON APIs refuse other bodies with 415 rather than guessing. */
export const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (["POST", "PUT", "PATCH"].includes(c.req.method)) {
    const type = c.req.header("content-type");
    const length = c.req.header("content-length");
    const hasBody = type !== undefined || (length !== undefined && length !== "0");
    if (hasBody && !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type ?? ""))
      throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
  }
  await next();
};
