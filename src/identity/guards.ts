import type { MiddlewareHandler } from "hono";
import { requestMeta } from "../http/auth";
import type { AppContext, AppEnv } from "../http/context";
import { AppError } from "../http/errors";
import { can, isPermission, type Permission } from "../http/permissions";
import type { PartnerService } from "./partners";
import { type AccessClaims, frozen, type TokenKind, type TokenService } from "./tokens";

/** What the guards check credentials with, put on every request by the identity module's middleware. */
export interface Credentials {
  tokens: TokenService;
  partners: Pick<PartnerService, "authenticate">;
}

declare module "hono" {
  interface ContextVariableMap {
    credentials: Credentials;
  }
}

/** The identity module's middleware: lets the guards below reach this app's token and key checks. */
export function credentialsContext(credentials: Credentials): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set("credentials", credentials);
    await next();
  };
}

/**
 * Auth guards. Bearer tokens are verified (signature, `kid`, algorithm, issuer, audience of this kind,
 * expiry) and then the principal and the token's session are loaded from Postgres on every request:
 * a frozen principal is refused at once (403 ACCOUNT_FROZEN), a deleted one or a logged-out session
 * at once (401) — not 15 minutes later when the token would have expired.
 */

// The session (refresh family) behind each authenticated request, for logout and PIN reset.
const sessions = new WeakMap<Request, string>();

/** The session id of the bearer token that authenticated this request. */
export function sessionIdOf(c: AppContext): string {
  const sid = sessions.get(c.req.raw);
  if (!sid) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
  return sid;
}

const unauthenticated = (message = "Authentication is required.") =>
  new AppError("UNAUTHENTICATED", message, undefined, { "WWW-Authenticate": "Bearer" });

/** The principal behind verified claims must be live, its session unrevoked, and (admins) its role allowed. */
async function checkPrincipal(c: AppContext, kind: TokenKind, claims: AccessClaims, permission?: Permission) {
  const state = await c.get("credentials").tokens.principalState(kind, claims.sub, claims.sid);
  if (!state || state.status === "deleted") throw unauthenticated("The session has ended; sign in again.");
  if (state.status !== "active") throw frozen(kind);
  if (permission && !can(state.role ?? "", permission))
    throw new AppError("FORBIDDEN", "Your role does not allow this.", { permission });
  c.set("principal", { kind, id: claims.sub, ...(state.role ? { role: state.role } : {}) });
}

// Requests authenticated by token only (userTokenAuth), whose principal check is still owed.
const unchecked = new WeakMap<Request, AccessClaims>();

function bearer(kind: TokenKind, options: { permission?: Permission; deferCheck?: boolean } = {}) {
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const header = c.req.header("authorization");
    const match = header ? /^Bearer[ \t]+([A-Za-z0-9_.~+/=-]+)[ \t]*$/i.exec(header) : null;
    if (!match) throw unauthenticated();
    const claims = await c.get("credentials").tokens.verifyAccess(kind, match[1]!);
    sessions.set(c.req.raw, claims.sid);
    if (options.deferCheck) {
      unchecked.set(c.req.raw, claims);
      c.set("principal", { kind, id: claims.sub });
    } else await checkPrincipal(c, kind, claims, options.permission);
    await next();
  };
  return middleware;
}

/** A user's bearer token (audience keshless:user). */
export const userAuth: MiddlewareHandler<AppEnv> = bearer("user");

/**
 * A user's bearer token, verified, with the session and status check left to the handler: the payments
 * fast lane checks them inside its one statement (src/payments/fast-lane.ts) and calls `requireSession`
 * before anything else it does.
 */
export const userTokenAuth: MiddlewareHandler<AppEnv> = bearer("user", { deferCheck: true });

/** The principal check userTokenAuth left owed (a no-op after the other guards). */
export async function requireSession(c: AppContext): Promise<void> {
  const claims = unchecked.get(c.req.raw);
  if (!claims) return;
  await checkPrincipal(c, c.get("principal")!.kind as TokenKind, claims);
  unchecked.delete(c.req.raw);
}

/** A vendor's bearer token (audience keshless:vendor). */
export const vendorAuth: MiddlewareHandler<AppEnv> = bearer("vendor");

/**
 * An admin's bearer token, whose role holds `permission` in the one permission map
 * (src/identity/permissions.ts). Without a permission: any active admin (sign-out, own profile).
 */
export function adminAuth(permission?: string): MiddlewareHandler<AppEnv> {
  if (permission !== undefined && !isPermission(permission))
    throw new Error(`adminAuth: unknown permission "${permission}"`);
  return bearer("admin", { permission });
}

/** A partner's `X-API-Key` holding `scope` (none: any valid key). */
export function partnerAuth(scope?: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const apiKey = c.req.header("x-api-key");
    if (!apiKey) throw new AppError("UNAUTHENTICATED", "The X-API-Key header is required.");
    const partner = await c
      .get("credentials")
      .partners.authenticate({ apiKey: apiKey.trim(), scope, meta: requestMeta(c) });
    c.set("principal", { kind: "partner", id: partner.partnerId, scopes: partner.scopes });
    await next();
  };
}
