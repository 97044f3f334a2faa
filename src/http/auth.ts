import type { MiddlewareHandler } from "hono";

/**
 * The platform's own guard (Cloud Scheduler's job secret) and the request's audit metadata. The guards for
 * people and partners — bearer tokens, API keys — belong to identity (src/identity/guards.ts).
 */
import { constantTimeEqual, sha256Hex } from "../lib/crypto";
import type { AppContext, AppEnv, RequestMeta } from "./context";
import { AppError } from "./errors";
import { limiterIp } from "./route-limits";

/** Cloud Scheduler's `X-Job-Secret`. Hashing first makes the comparison constant-time whatever the lengths. */
export const jobAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const given = c.req.header("x-job-secret");
  const expected = c.get("core").config.secrets.job;
  if (!given || !constantTimeEqual(sha256Hex(given), sha256Hex(expected)))
    throw new AppError("UNAUTHENTICATED", "A valid X-Job-Secret header is required.");
  c.set("principal", { kind: "job", id: "scheduler" });
  await next();
};

/** Who is asking and from where, for services to audit. */
export function requestMeta(c: AppContext): RequestMeta {
  const principal = c.get("principal");
  const core = c.get("core");
  const actorType =
    principal && ["admin", "user", "vendor", "partner"].includes(principal.kind)
      ? (principal.kind as "admin" | "user" | "vendor" | "partner")
      : principal
        ? "system"
        : "anonymous";
  return {
    actor: { type: actorType, id: principal?.id ?? null },
    ip: limiterIp(c, core.config.auth.trustedProxyHops),
    requestId: c.get("requestId"),
  };
}
