import { createHmac } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import { queryRows } from "../db/client";
import { AppError } from "../http/errors";
import { randomToken, sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { createSealer } from "../lib/sealer";
import { authSessions, refreshTokens } from "./schema";
import { deferred, type IdentityDeps, transact } from "./tx";

export type TokenKind = "user" | "vendor" | "admin";

const AUDIENCE: Record<TokenKind, string> = {
  user: "keshless:user",
  vendor: "keshless:vendor",
  admin: "keshless:admin",
};

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface AccessClaims {
  sub: string;
  sid: string;
}

/** Where each kind's principals live, for the one query that loads a principal and its session. */
const PRINCIPAL_TABLE: Record<TokenKind, string> = { user: "users", vendor: "vendors", admin: "admins" };

/**
 * Access tokens: HS256 JWTs, 15 minutes, one audience per kind, `kid` in the header. Signing keys are
 * derived from KESHLESS_JWT_SECRET; old secrets in KESHLESS_JWT_PREVIOUS_SECRETS still verify, so a
 * rotation logs nobody out. Refresh tokens: opaque, stored as SHA-256, one family per login
 * (auth_sessions); each use replaces the token, and presenting a used one revokes the family.
 */
export function createTokens(deps: IdentityDeps) {
  const keyFor = (secret: string) => ({
    kid: sha256Hex(`jwt-kid:${secret}`).slice(0, 16),
    key: new Uint8Array(createHmac("sha256", secret).update("keshless-jwt-v1").digest()),
  });
  const current = keyFor(deps.config.secrets.jwt);
  const keys = new Map([[current.kid, current.key]]);
  for (const old of deps.config.secrets.jwtPrevious) {
    const k = keyFor(old);
    keys.set(k.kid, k.key);
  }
  const { issuer, accessTokenTtl } = deps.config.auth;
  // Seals the pair an exchange issued, for the grace window (its own key, derived; never stored in the clear).
  const successors = createSealer(`${deps.config.secrets.jwt}:refresh-successor`);

  async function signAccess(kind: TokenKind, claims: AccessClaims): Promise<string> {
    const now = Math.floor(deps.now().getTime() / 1000);
    return new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: "HS256", kid: current.kid, typ: "JWT" })
      .setSubject(claims.sub)
      .setAudience(AUDIENCE[kind])
      .setIssuer(issuer)
      .setIssuedAt(now)
      .setExpirationTime(now + accessTokenTtl)
      .sign(current.key);
  }

  // Tokens already verified, until they expire: an app sends the same access token with every request for its
  // 15-minute life, and the signature check is the costliest part of authenticating one (bench/RESULTS.md).
  // Only a token that verified is kept, keyed by its full text, so a forged one is never matched.
  const verified = new Map<string, { claims: AccessClaims; expiresAt: number }>();
  const MAX_VERIFIED = 20_000;

  /** The claims of a valid access token of this kind, or 401. Never says more than "invalid" or "expired". */
  async function verifyAccess(kind: TokenKind, token: string): Promise<AccessClaims> {
    const cacheKey = `${kind} ${token}`;
    const hit = verified.get(cacheKey);
    if (hit && hit.expiresAt > deps.now().getTime()) return hit.claims;
    if (hit) verified.delete(cacheKey);
    const claims = await verifySignedAccess(kind, token);
    if (verified.size >= MAX_VERIFIED) verified.clear();
    verified.set(cacheKey, claims);
    return claims.claims;
  }

  async function verifySignedAccess(kind: TokenKind, token: string) {
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const key = header.kid ? keys.get(header.kid) : undefined;
          if (!key) throw new AppError("UNAUTHENTICATED", "The access token is not valid.");
          return key;
        },
        {
          algorithms: ["HS256"],
          issuer,
          audience: AUDIENCE[kind],
          currentDate: deps.now(),
          requiredClaims: ["sub", "exp", "iat", "sid"],
        },
      );
      if (typeof payload.sub !== "string" || typeof payload.sid !== "string") throw new Error("claims");
      return { claims: { sub: payload.sub, sid: payload.sid }, expiresAt: (payload.exp ?? 0) * 1000 };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw new AppError("UNAUTHENTICATED", "The access token has expired; refresh it.", { reason: "expired" });
      throw new AppError("UNAUTHENTICATED", "The access token is not valid.", { reason: "invalid" });
    }
  }

  const refreshTtl = (kind: TokenKind) =>
    kind === "admin" ? deps.config.auth.adminRefreshTokenTtl : deps.config.auth.refreshTokenTtl;

  async function newRefreshToken(tx: Executor, sessionId: string, expiresAt: Date): Promise<string> {
    const token = `rt_${randomToken(32)}`;
    await tx.insert(refreshTokens).values({
      id: newId("rtk"),
      sessionId,
      tokenHash: sha256Hex(token),
      createdAt: deps.now(),
      expiresAt,
    });
    return token;
  }

  /** A new login: a session (refresh family) and its first tokens, in the caller's transaction. */
  async function openSession(
    input: { kind: TokenKind; principalId: string; deviceId?: string; otpVerifiedAt?: Date; ip?: string },
    tx: Executor,
  ): Promise<Tokens & { sessionId: string }> {
    const now = deps.now();
    const sessionId = newId("ses");
    const expiresAt = new Date(now.getTime() + refreshTtl(input.kind) * 1000);
    await tx.insert(authSessions).values({
      id: sessionId,
      principalType: input.kind,
      principalId: input.principalId,
      deviceId: input.deviceId ?? null,
      otpVerifiedAt: input.otpVerifiedAt ?? null,
      ip: input.ip ?? null,
      createdAt: now,
      expiresAt,
    });
    const refreshToken = await newRefreshToken(tx, sessionId, expiresAt);
    const accessToken = await signAccess(input.kind, { sub: input.principalId, sid: sessionId });
    return { sessionId, accessToken, refreshToken, expiresIn: accessTokenTtl };
  }

  /**
   * Exchanges a refresh token for new tokens. A token already exchanged means two parties hold the
   * family — the thief or the owner, we cannot tell — so the whole family is revoked and both must log in.
   */
  async function refresh(kind: TokenKind, token: string, meta: RequestMeta): Promise<Tokens & { principalId: string }> {
    const invalid = () => new AppError("UNAUTHENTICATED", "The refresh token is not valid.");
    if (!/^rt_[\w-]{20,100}$/.test(token)) throw invalid();
    const tokenHash = sha256Hex(token);
    return transact(
      deps,
      async (tx) => {
        const now = deps.now();
        const rows = await queryRows<{
          id: string;
          used_at: string | null;
          expires_at: string;
          session_id: string;
          principal_type: string;
          principal_id: string;
          session_expires_at: string;
          revoked_at: string | null;
          successor_sealed: string | null;
        }>(
          tx,
          sql`select t.id, t.used_at, t.expires_at, t.successor_sealed, s.id as session_id, s.principal_type, s.principal_id,
                     s.expires_at as session_expires_at, s.revoked_at
                from refresh_tokens t join auth_sessions s on s.id = t.session_id
               where t.token_hash = ${tokenHash}`,
        );
        const row = rows[0];
        if (!row || row.principal_type !== kind) return deferred(invalid());
        if (row.revoked_at) return deferred(invalid());
        const graceEnds = row.used_at
          ? new Date(row.used_at).getTime() + deps.config.auth.refreshGraceSeconds * 1000
          : 0;
        const racing = Boolean(row.used_at && row.successor_sealed && now.getTime() < graceEnds);
        if (row.used_at && !racing) {
          await tx
            .update(authSessions)
            .set({ revokedAt: now, revokedReason: "refresh_reuse" })
            .where(eq(authSessions.id, row.session_id));
          await deps.audit.record(
            {
              action: "auth.refresh.reuse",
              actor: { type: kind, id: row.principal_id },
              target: { type: "session", id: row.session_id },
              details: { kind },
            },
            meta,
            tx,
          );
          return deferred(invalid());
        }
        if (new Date(row.expires_at) <= now || new Date(row.session_expires_at) <= now) return deferred(invalid());
        const state = await principalState(kind, row.principal_id, row.session_id, tx);
        if (!state || state.status === "deleted") return deferred(invalid());
        if (state.status !== "active") return deferred(frozen(kind));
        if (racing) {
          // A racing exchange of the same token: the pair the first one issued, not a second family member.
          let issued: { accessToken: string; refreshToken: string };
          try {
            issued = JSON.parse(successors.open(row.successor_sealed!));
          } catch {
            return deferred(invalid()); // sealed under a JWT secret since rotated: sign in again
          }
          const age = Math.floor((now.getTime() - new Date(row.used_at!).getTime()) / 1000);
          return { ...issued, expiresIn: Math.max(1, accessTokenTtl - age), principalId: row.principal_id };
        }
        // Users and vendors stay signed in while they keep using the app; admins' sessions end on time.
        const expiresAt =
          kind === "admin" ? new Date(row.session_expires_at) : new Date(now.getTime() + refreshTtl(kind) * 1000);
        if (kind !== "admin")
          await tx.update(authSessions).set({ expiresAt }).where(eq(authSessions.id, row.session_id));
        const refreshToken = await newRefreshToken(tx, row.session_id, expiresAt);
        const accessToken = await signAccess(kind, { sub: row.principal_id, sid: row.session_id });
        const successorSealed =
          deps.config.auth.refreshGraceSeconds > 0
            ? successors.seal(JSON.stringify({ accessToken, refreshToken }))
            : null;
        await tx.update(refreshTokens).set({ usedAt: now, successorSealed }).where(eq(refreshTokens.id, row.id));
        return { accessToken, refreshToken, expiresIn: accessTokenTtl, principalId: row.principal_id };
      },
      undefined,
      "refresh",
    );
  }

  async function revokeSession(sessionId: string, reason: string, tx?: Executor): Promise<void> {
    await transact(
      deps,
      (t) =>
        t
          .update(authSessions)
          .set({ revokedAt: deps.now(), revokedReason: reason })
          .where(and(eq(authSessions.id, sessionId), isNull(authSessions.revokedAt))),
      tx,
      "revokeSession",
    );
  }

  /** Ends every live session of one principal ("sign out everywhere"): their tokens are refused from then on. */
  async function revokeAll(kind: TokenKind, principalId: string, reason: string, tx?: Executor): Promise<number> {
    const ended = await transact(
      deps,
      (t) =>
        t
          .update(authSessions)
          .set({ revokedAt: deps.now(), revokedReason: reason })
          .where(
            and(
              eq(authSessions.principalType, kind),
              eq(authSessions.principalId, principalId),
              isNull(authSessions.revokedAt),
            ),
          )
          .returning({ id: authSessions.id }),
      tx,
      "revokeAll",
    );
    return ended.length;
  }

  /**
   * The principal's status (and admin role), provided the session is theirs, live and unrevoked — one
   * query per authenticated request. Undefined when the principal or the session is gone.
   */
  async function principalState(
    kind: TokenKind,
    principalId: string,
    sessionId: string,
    tx?: Executor,
  ): Promise<{ status: string; role?: string } | undefined> {
    const table = sql.raw(PRINCIPAL_TABLE[kind]);
    const role = kind === "admin" ? sql`p.role` : sql`null`;
    const rows = await queryRows<{ status: string; role: string | null }>(
      tx ?? deps.database.reads,
      sql`select p.status, ${role} as role
            from ${table} p join auth_sessions s on s.id = ${sessionId}
           where p.id = ${principalId} and s.principal_id = p.id and s.principal_type = ${kind}
             and s.revoked_at is null and s.expires_at > ${deps.now().toISOString()}::timestamptz`,
    );
    const row = rows[0];
    return row ? { status: row.status, ...(row.role ? { role: row.role } : {}) } : undefined;
  }

  async function getSession(sessionId: string) {
    const [row] = await deps.database.db.select().from(authSessions).where(eq(authSessions.id, sessionId));
    return row;
  }

  return { signAccess, verifyAccess, openSession, refresh, revokeSession, revokeAll, principalState, getSession };
}

export type TokenService = ReturnType<typeof createTokens>;

export function frozen(kind: TokenKind | "partner"): AppError {
  const what = kind === "admin" ? "This admin account is disabled." : "This account is frozen; contact support.";
  return new AppError("ACCOUNT_FROZEN", what);
}
