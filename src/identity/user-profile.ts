import { and, desc, eq, ilike, or, type SQL, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { newId } from "../lib/ids";
import { normalizePhone } from "../lib/phone";
import { users } from "./schema";
import { deferred, type IdentityDeps, transact } from "./tx";

/** Who a user is: lookups, registration with the wallet, and what admins see and change. */

export type UserStatus = "active" | "frozen" | "deleted";

export interface User {
  id: string;
  phone: string;
  name: string | null;
  kycTier: number;
  hasPin: boolean;
  status: UserStatus;
}

export interface AdminUserView extends User {
  statusReason: string | null;
  pinLockedUntil: string | null;
  lastLoginAt: string | null;
  createdAt: string;
  wallet: { accountId: string; currency: string; balance: number; available: number } | null;
}

export type UserRow = typeof users.$inferSelect;

type ProfileDeps = Pick<IdentityDeps, "database" | "config" | "logger" | "now" | "ledger" | "audit">;

export const toUser = (r: UserRow): User => ({
  id: r.id,
  phone: r.phone,
  name: r.name,
  kycTier: r.kycTier,
  hasPin: r.pinHash !== null,
  status: r.status as UserStatus,
});

export const badPhone = () =>
  new AppError("VALIDATION_FAILED", "That is not an Eswatini mobile number.", [
    { path: "phone", message: "an Eswatini mobile: 8 digits starting 75–79, optionally with +268" },
  ]);

export async function userRow(db: Executor, id: string): Promise<UserRow | undefined> {
  const [r] = await db.select().from(users).where(eq(users.id, id));
  return r;
}

export async function getUser(deps: Pick<IdentityDeps, "database">, id: string): Promise<User | undefined> {
  const r = await userRow(deps.database.reads, id);
  return r ? toUser(r) : undefined;
}

export async function findUserByPhone(deps: Pick<IdentityDeps, "database">, phone: string): Promise<User | undefined> {
  const e164 = normalizePhone(phone);
  if (!e164) return undefined;
  const [r] = await deps.database.reads.select().from(users).where(eq(users.phone, e164));
  return r ? toUser(r) : undefined;
}

/**
 * The user with this phone, created with their wallet if new — one transaction, so no user ever
 * exists without a wallet. Idempotent per phone (OTP verify and USSD registration may race).
 */
export async function registerUser(
  deps: ProfileDeps,
  input: { phone: string; name?: string },
  tx?: Executor,
): Promise<User> {
  const phone = normalizePhone(input.phone);
  if (!phone) throw badPhone();
  return transact(
    deps,
    async (t) => {
      const id = newId("usr");
      const now = deps.now();
      const [created] = await t
        .insert(users)
        .values({ id, phone, name: input.name ?? null, createdAt: now, updatedAt: now })
        .onConflictDoNothing({ target: users.phone })
        .returning();
      if (created) {
        await deps.ledger.openAccount(
          { kind: "user_wallet", ownerType: "user", ownerId: id, currency: "SZL", guarded: true },
          t,
        );
        await deps.audit.record(
          { action: "user.register", actor: { type: "user", id }, target: { type: "user", id } },
          {},
          t,
        );
        return toUser(created);
      }
      const [existing] = await t.select().from(users).where(eq(users.phone, phone));
      return toUser(existing!);
    },
    tx,
    "users.register",
  );
}

export async function setUserStatus(
  deps: ProfileDeps,
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { userId: string; status: "active" | "frozen"; reason: string };
  },
): Promise<AdminUserView> {
  await transact(
    deps,
    async (tx) => {
      const current = await userRow(tx, input.userId);
      if (!current || current.status === "deleted") return deferred(new AppError("NOT_FOUND", "No such user."));
      await tx
        .update(users)
        .set({ status: input.status, statusReason: input.reason, updatedAt: deps.now() })
        .where(eq(users.id, input.userId));
      await deps.audit.record(
        {
          action: input.status === "frozen" ? "user.freeze" : "user.unfreeze",
          target: { type: "user", id: input.userId },
          details: { reason: input.reason, previousStatus: current.status },
        },
        ctx,
        tx,
      );
    },
    undefined,
    "users.setStatus",
  );
  return (await userView(deps, input.userId))!;
}

export async function userView(
  deps: Pick<IdentityDeps, "database" | "ledger" | "now">,
  id: string,
): Promise<AdminUserView | undefined> {
  const r = await userRow(deps.database.db, id);
  if (!r) return undefined;
  const account = await deps.ledger.findAccount("user_wallet", r.id, "SZL");
  const balance = account ? await deps.ledger.balance(account.id) : undefined;
  return {
    ...toUser(r),
    statusReason: r.statusReason,
    pinLockedUntil: r.pinLockedUntil && r.pinLockedUntil > deps.now() ? r.pinLockedUntil.toISOString() : null,
    lastLoginAt: r.lastLoginAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    wallet:
      account && balance
        ? {
            accountId: account.id,
            currency: account.currency,
            balance: Number(balance.balance),
            available: Number(balance.available),
          }
        : null,
  };
}

export interface UserFilter {
  q?: string;
  status?: UserStatus;
  limit: number;
  cursor?: string;
}

/** Newest first. `q` matches an id, a phone (any accepted spelling, or its trailing digits) or a name. */
export async function searchUsers(deps: Pick<IdentityDeps, "database">, filter: UserFilter) {
  const where: (SQL | undefined)[] = [];
  if (filter.status) where.push(eq(users.status, filter.status));
  const q = filter.q?.trim();
  if (q) {
    const phone = normalizePhone(q);
    const digits = q.replace(/\D/g, "");
    const escaped = q.replace(/[\\%_]/g, "\\$&");
    where.push(
      or(
        eq(users.id, q),
        phone ? eq(users.phone, phone) : undefined,
        digits.length >= 4 && digits.length === q.replace(/[\s+]/g, "").length
          ? sql`${users.phone} like ${`%${digits}`}`
          : undefined,
        ilike(users.name, `%${escaped}%`),
      ),
    );
  }
  if (filter.cursor) {
    where.push(after(filter.cursor, users.createdAt, users.id));
  }
  const rows = await deps.database.db
    .select()
    .from(users)
    .where(and(...where))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(toUser),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
