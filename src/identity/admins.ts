import { and, desc, eq, isNull, lt } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { sqlState } from "../db/pg-errors";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { ADMIN_ROLES, type AdminRole, permissionsOf } from "../http/permissions";
import { newId } from "../lib/ids";
import { createSealer } from "../lib/sealer";
import { attemptLogin, loginLimit, releaseAttempts } from "./attempts";
import { admins, authSessions } from "./schema";
import { matchTotp, newTotpSecret, type Passwords, passwordProblem } from "./secrets";
import { frozen, type TokenService, type Tokens } from "./tokens";
import { deferred, type IdentityDeps, transact } from "./tx";

export interface Admin {
  id: string;
  email: string;
  role: AdminRole;
  status: "active" | "disabled";
  permissions: string[];
  lastLoginAt: string | null;
  createdAt: string;
}

type Row = typeof admins.$inferSelect;

const toAdmin = (r: Row): Admin => ({
  id: r.id,
  email: r.email,
  role: r.role as AdminRole,
  status: r.status as Admin["status"],
  permissions: permissionsOf(r.role),
  lastLoginAt: r.lastLoginAt?.toISOString() ?? null,
  createdAt: r.createdAt.toISOString(),
});

const badLogin = () => new AppError("UNAUTHENTICATED", "The email, password or code is wrong.");

const otpauthUrl = (email: string, secret: string) =>
  `otpauth://totp/${encodeURIComponent(`Keshless:${email}`)}?secret=${secret}&issuer=Keshless&algorithm=SHA1&digits=6&period=30`;

/** Admins: email + password (argon2id) + TOTP (RFC 6238), one role each. */
export function createAdmins(deps: IdentityDeps, tools: { passwords: Passwords; tokens: TokenService }) {
  const { passwords, tokens } = tools;
  const { db } = deps.database;
  const auth = deps.config.auth;
  const sealer = createSealer(deps.config.secrets.totp);

  async function get(id: string): Promise<Admin | undefined> {
    const [r] = await db.select().from(admins).where(eq(admins.id, id));
    return r ? toAdmin(r) : undefined;
  }

  /** Newest first. */
  async function list(filter: { limit: number; cursor?: string }) {
    const rows = await db
      .select()
      .from(admins)
      .where(filter.cursor ? after(filter.cursor, admins.createdAt, admins.id) : undefined)
      .orderBy(desc(admins.createdAt), desc(admins.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(toAdmin),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  /** The TOTP secret and its otpauth:// URL are returned once, here, for the authenticator app. */
  async function create({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { email: string; password: string; role: string };
  }): Promise<Admin & { totpSecret: string; otpauthUrl: string }> {
    if (!(ADMIN_ROLES as readonly string[]).includes(input.role))
      throw new AppError("VALIDATION_FAILED", `The role must be one of ${ADMIN_ROLES.join(", ")}.`, [
        { path: "role", message: "unknown role" },
      ]);
    const email = input.email.trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email))
      throw new AppError("VALIDATION_FAILED", "The email is not valid.", [{ path: "email", message: "not valid" }]);
    const problem = passwordProblem(input.password);
    if (problem)
      throw new AppError("VALIDATION_FAILED", `The password ${problem}.`, [{ path: "password", message: problem }]);
    const passwordHash = await passwords.hash(input.password);
    const totpSecret = newTotpSecret();
    try {
      const r = await transact(
        deps,
        async (tx) => {
          const now = deps.now();
          const id = newId("adm");
          const [created] = await tx
            .insert(admins)
            .values({
              id,
              email,
              passwordHash,
              role: input.role,
              totpSecret: sealer.seal(totpSecret),
              createdBy: ctx.actor?.id ?? null,
              createdAt: now,
              updatedAt: now,
            })
            .returning();
          await deps.audit.record(
            { action: "admin.create", target: { type: "admin", id }, details: { email, role: input.role } },
            ctx,
            tx,
          );
          return created!;
        },
        undefined,
        "admins.create",
      );
      return { ...toAdmin(r), totpSecret, otpauthUrl: otpauthUrl(email, totpSecret) };
    } catch (error) {
      if (sqlState(error) === "23505") throw new AppError("CONFLICT", "An admin with that email already exists.");
      throw error;
    }
  }

  /**
   * What sign-in and TOTP setup both do before comparing a password: the per-address limit, then the admin by
   * email — an unknown one still spends a password hash's time, so the answer's timing names no email.
   */
  async function byEmailForPassword(ctx: RequestMeta, input: { email: string; password: string }) {
    await deps.rateLimiter.enforce(
      [{ key: `admin-login:ip:${ctx.ip ?? "unknown"}`, limit: auth.authIpPerHour, periodSeconds: 3600 }],
      deps.now(),
    );
    const [r] = await db.select().from(admins).where(eq(admins.email, input.email.trim().toLowerCase()));
    if (!r) await passwords.burn(input.password);
    return r;
  }

  async function login({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { email: string; password: string; totp: string };
  }): Promise<Tokens & { admin: Admin }> {
    const r = await byEmailForPassword(ctx, input);
    if (!r) {
      await deps.audit.record({ action: "admin.login.failed", details: { reason: "unknown_email" } }, ctx);
      throw badLogin();
    }
    const now = deps.now();
    // A locked account answers exactly as a wrong password does (and takes as long): the answer must not
    // tell an attacker which emails are admins'.
    const limit = loginLimit(deps, "admin");
    const totp: { step: number | null } = { step: null };
    const attempt = await attemptLogin(deps, { kind: "admin", id: r.id }, ctx, async () => {
      const passwordOk = await passwords.verify(input.password, r.passwordHash);
      totp.step = matchTotp(sealer.open(r.totpSecret), input.totp, now);
      if (!passwordOk) return "wrong_password";
      if (totp.step === null) return "wrong_totp";
      return totp.step <= r.totpLastStep ? "totp_reused" : null;
    });
    const { step } = totp;
    if (!attempt.ok || step === null) {
      // Locked: nothing was compared, but it takes as long as a wrong password.
      if (!attempt.ok && !attempt.compared) await passwords.burn(input.password);
      throw badLogin();
    }
    if (r.status !== "active") {
      await releaseAttempts(deps, limit, r.id);
      await deps.audit.record(
        { action: "admin.login.refused", target: { type: "admin", id: r.id }, details: { reason: r.status } },
        ctx,
      );
      throw frozen("admin");
    }
    return transact(
      deps,
      async (tx) => {
        // The step moves only forward, atomically: two logins racing with one code cannot both pass.
        const claimed = await tx
          .update(admins)
          .set({ totpLastStep: step, failedLoginCount: 0, lockedUntil: null, lastLoginAt: deps.now() })
          .where(and(eq(admins.id, r.id), lt(admins.totpLastStep, step)))
          .returning({ id: admins.id });
        if (!claimed.length) return deferred(badLogin());
        const session = await tokens.openSession(
          { kind: "admin", principalId: r.id, ...(ctx.ip ? { ip: ctx.ip } : {}) },
          tx,
        );
        await deps.audit.record(
          {
            action: "admin.login",
            actor: { type: "admin", id: r.id },
            target: { type: "session", id: session.sessionId },
          },
          ctx,
          tx,
        );
        const { sessionId: _, ...issued } = session;
        return { ...issued, admin: toAdmin(r) };
      },
      undefined,
      "admins.login",
    );
  }

  /**
   * A new admin's first sign-in: with the right email and password, and only while the admin has never signed
   * in, the otpauth:// URL of their TOTP secret, for the dashboard to show as a QR. The password counts toward
   * the same lock as sign-ins; every refusal answers alike, so this is no oracle for which emails are admins'
   * or which passwords are right once an admin has signed in.
   */
  async function totpSetup({ ctx, input }: { ctx: RequestMeta; input: { email: string; password: string } }) {
    const refused = () =>
      new AppError("UNAUTHENTICATED", "The email or password is wrong, or the authenticator is already set up.");
    const r = await byEmailForPassword(ctx, input);
    if (!r) throw refused();
    const attempt = await attemptLogin(deps, { kind: "admin", id: r.id }, ctx, async () =>
      (await passwords.verify(input.password, r.passwordHash)) ? null : "wrong_password",
    );
    if (!attempt.ok) {
      if (!attempt.compared) await passwords.burn(input.password);
      throw refused();
    }
    // Once signed in, the TOTP guards the account: a right password here must not clear the count a TOTP
    // guesser builds up at sign-in, so the slot it took stays counted.
    if (r.lastLoginAt || r.status !== "active") throw refused();
    await releaseAttempts(deps, loginLimit(deps, "admin"), r.id);
    await deps.audit.record(
      { action: "admin.totp.setup", actor: { type: "admin", id: r.id }, target: { type: "admin", id: r.id } },
      ctx,
    );
    return { otpauthUrl: otpauthUrl(r.email, sealer.open(r.totpSecret)) };
  }

  async function refresh({ ctx, input }: { ctx: RequestMeta; input: { refreshToken: string } }) {
    const { principalId, ...rest } = await tokens.refresh("admin", input.refreshToken, ctx);
    return { ...rest, admin: (await get(principalId))! };
  }

  /** "Sign out everywhere": every session of this admin ends, on every device, audited in the same transaction. */
  async function signOutEverywhere({ ctx, adminId }: { ctx: RequestMeta; adminId: string }) {
    return transact(
      deps,
      async (tx) => {
        const ended = await tokens.revokeAll("admin", adminId, "logout_all", tx);
        await deps.audit.record(
          { action: "admin.logout.all", target: { type: "admin", id: adminId }, details: { ended } },
          ctx,
          tx,
        );
        return { ended };
      },
      undefined,
      "admins.signOutEverywhere",
    );
  }

  /** Disables an admin and ends their sessions. Nobody disables themselves (there must be someone left to undo it). */
  async function disable({ ctx, input }: { ctx: RequestMeta; input: { adminId: string; reason: string } }) {
    if (ctx.actor?.id === input.adminId) throw new AppError("CONFLICT", "You cannot disable your own account.");
    await transact(
      deps,
      async (tx) => {
        const now = deps.now();
        const [r] = await tx
          .update(admins)
          .set({ status: "disabled", updatedAt: now })
          .where(eq(admins.id, input.adminId))
          .returning();
        if (!r) return deferred(new AppError("NOT_FOUND", "No such admin."));
        await tx
          .update(authSessions)
          .set({ revokedAt: now, revokedReason: "admin_disabled" })
          .where(
            and(
              eq(authSessions.principalType, "admin"),
              eq(authSessions.principalId, input.adminId),
              isNull(authSessions.revokedAt),
            ),
          );
        await deps.audit.record(
          { action: "admin.disable", target: { type: "admin", id: input.adminId }, details: { reason: input.reason } },
          ctx,
          tx,
        );
      },
      undefined,
      "admins.disable",
    );
    return (await get(input.adminId))!;
  }

  return { get, list, create, login, totpSetup, refresh, signOutEverywhere, disable };
}

export type AdminService = ReturnType<typeof createAdmins>;
