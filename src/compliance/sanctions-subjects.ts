import { and, asc, gt, isNotNull, ne } from "drizzle-orm";
import type { Database } from "../db/client";
import type { RequestMeta } from "../http/context";
import { users, vendors } from "../identity/schema";

/**
 * Who is screened, and the one thing screening does to them: a match stops their money movement (their balance
 * stays theirs) until an analyst clears it. Freezing is identity's (user and vendor status, audited there); the
 * composition root hands identity's services in and `identitySubjects` adapts them.
 */

export type SubjectType = "user" | "vendor";

export interface SanctionsSubject {
  type: SubjectType;
  id: string;
  /** The name screened: a user's verified name, a vendor's registered one. */
  name: string;
}

export interface SubjectControl {
  /** Freezes an active subject; `froze` is false when they were frozen already (or are gone). */
  freeze(
    subject: Pick<SanctionsSubject, "type" | "id">,
    reason: string,
    meta: RequestMeta,
  ): Promise<{ froze: boolean }>;
  /** Unfreezes a frozen subject (a deleted one stays deleted). */
  unfreeze(subject: Pick<SanctionsSubject, "type" | "id">, reason: string, meta: RequestMeta): Promise<void>;
}

type SetStatus<K extends string> = (args: {
  ctx: RequestMeta;
  input: { status: "active" | "frozen"; reason: string } & Record<K, string>;
}) => Promise<unknown>;

/** What of identity the adapter uses: each kind's status, and setting it. */
export interface IdentityStatus {
  users: { get(id: string): Promise<{ status: string } | undefined>; setStatus: SetStatus<"userId"> };
  vendors: { get(id: string): Promise<{ status: string } | undefined>; setStatus: SetStatus<"vendorId"> };
}

/** Where identity tells of a new vendor, whose name is screened at once. */
export interface VendorCreation {
  onCreated(listener: (vendor: { id: string; name: string }, meta: RequestMeta) => Promise<unknown>): void;
}

export function identitySubjects(identity: IdentityStatus): SubjectControl {
  const status = async (s: Pick<SanctionsSubject, "type" | "id">) =>
    (await (s.type === "user" ? identity.users.get(s.id) : identity.vendors.get(s.id)))?.status;
  const set = (s: Pick<SanctionsSubject, "type" | "id">, to: "active" | "frozen", reason: string, ctx: RequestMeta) =>
    s.type === "user"
      ? identity.users.setStatus({ ctx, input: { userId: s.id, status: to, reason } })
      : identity.vendors.setStatus({ ctx, input: { vendorId: s.id, status: to, reason } });
  return {
    async freeze(subject, reason, meta) {
      if ((await status(subject)) !== "active") return { froze: false };
      await set(subject, "frozen", reason, meta);
      return { froze: true };
    },
    async unfreeze(subject, reason, meta) {
      if ((await status(subject)) === "frozen") await set(subject, "active", reason, meta);
    },
  };
}

/**
 * Every user with a name and every vendor, not deleted, a page at a time in id order (users first): what a
 * re-screen after a sync walks. `next` is where the following page starts; none when this was the last.
 */
export async function subjectsPage(
  database: Pick<Database, "db">,
  after: Pick<SanctionsSubject, "type" | "id"> | undefined,
  limit: number,
): Promise<{ subjects: SanctionsSubject[]; next?: Pick<SanctionsSubject, "type" | "id"> }> {
  if (!after || after.type === "user") {
    const rows = await database.db
      .select({ id: users.id, name: users.name })
      .from(users)
      .where(and(isNotNull(users.name), ne(users.status, "deleted"), after ? gt(users.id, after.id) : undefined))
      .orderBy(asc(users.id))
      .limit(limit);
    const subjects = rows.flatMap((r) => (r.name?.trim() ? [{ type: "user" as const, id: r.id, name: r.name }] : []));
    const last = rows.at(-1);
    // Users done: vendors from the start.
    return {
      subjects,
      next: rows.length === limit && last ? { type: "user", id: last.id } : { type: "vendor", id: "" },
    };
  }
  const rows = await database.db
    .select({ id: vendors.id, name: vendors.name })
    .from(vendors)
    .where(and(ne(vendors.status, "deleted"), gt(vendors.id, after.id)))
    .orderBy(asc(vendors.id))
    .limit(limit);
  const last = rows.at(-1);
  return {
    subjects: rows.map((r) => ({ type: "vendor" as const, id: r.id, name: r.name })),
    ...(rows.length === limit && last ? { next: { type: "vendor" as const, id: last.id } } : {}),
  };
}
