import type { MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/bun";
import type { AppContext, AppEnv } from "./context";
import type { RateRule } from "./rate-limit";

/**
 * The caller's address, for rate limits and the request log. X-Forwarded-For's first entries are whatever the client
 * wrote; only the ones our own proxies appended can be trusted. With `trustedHops` proxies in front
 * (Cloud Run's front end is one), the client is the entry that many places from the right.
 */
export function limiterIp(c: AppContext, trustedHops: number): string {
  const forwarded = c.req
    .header("x-forwarded-for")
    ?.split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  if (trustedHops > 0 && forwarded?.length) return forwarded[Math.max(0, forwarded.length - trustedHops)]!;
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** A route-level limit: `rules(c)` names the keys (per IP, per caller …) this request spends from. */
export function rateLimit(rules: (c: AppContext) => RateRule[], message?: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const core = c.get("core");
    await core.rateLimiter.enforce(rules(c), core.now(), message);
    await next();
  };
}
