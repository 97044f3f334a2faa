import { randomInt } from "node:crypto";
import { and, desc, eq, ilike, or, type SQL } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import { sqlMessage, sqlState } from "../db/pg-errors";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { newId } from "../lib/ids";
import { normalizePhone } from "../lib/phone";
import { vendors } from "./schema";
import { type Passwords, passwordProblem } from "./secrets";
import { deferred, type IdentityDeps, transact } from "./tx";

/** Who a vendor is: creation with the wallet and the vendor code, lookups, and what admins see and change. */

export type VendorStatus = "active" | "frozen" | "deleted";

export interface Vendor {
  id: string;
  name: string;
  code: string;
  phone: string;
  email: string;
  status: VendorStatus;
}

export interface VendorView extends Vendor {
  registrationNumber: string | null;
  address: string | null;
  category: string | null;
  statusReason: string | null;
  lockedUntil: string | null;
  lastLoginAt: string | null;
  createdAt: string;
}

export interface CreateVendorInput {
  name: string;
  email: string;
  password: string;
  phone: string;
  registrationNumber?: string | undefined;
  address?: string | undefined;
  category?: string | undefined;
}

export type VendorRow = typeof vendors.$inferSelect;

type ProfileDeps = Pick<IdentityDeps, "database" | "config" | "logger" | "now" | "ledger" | "audit">;

export const toVendor = (r: VendorRow): Vendor => ({
  id: r.id,
  name: r.name,
  code: r.code,
  phone: r.phone,
  email: r.email,
  status: r.status as VendorStatus,
});

export async function vendorRow(db: Executor, id: string): Promise<VendorRow | undefined> {
  const [r] = await db.select().from(vendors).where(eq(vendors.id, id));
  return r;
}

export async function getVendor(deps: Pick<IdentityDeps, "database">, id: string): Promise<Vendor | undefined> {
  const r = await vendorRow(deps.database.reads, id);
  return r ? toVendor(r) : undefined;
}

export async function findVendorByCode(
  deps: Pick<IdentityDeps, "database">,
  code: string,
): Promise<Vendor | undefined> {
  const [r] = await deps.database.reads.select().from(vendors).where(eq(vendors.code, code.trim()));
  return r ? toVendor(r) : undefined;
}

function vendorView(deps: Pick<IdentityDeps, "now">, r: VendorRow): VendorView {
  return {
    ...toVendor(r),
    registrationNumber: r.registrationNumber,
    address: r.address,
    category: r.category,
    statusReason: r.statusReason,
    lockedUntil: r.lockedUntil && r.lockedUntil > deps.now() ? r.lockedUntil.toISOString() : null,
    lastLoginAt: r.lastLoginAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
  };
}

export async function getVendorView(
  deps: Pick<IdentityDeps, "database" | "now">,
  id: string,
): Promise<VendorView | undefined> {
  const r = await vendorRow(deps.database.db, id);
  return r ? vendorView(deps, r) : undefined;
}

/**
 * A vendor, its sharded wallet (vendors are hot payees) and the audit row, in one transaction.
 * The vendor code is 6 digits — typed on a USSD keypad — drawn until unused.
 */
export async function createVendor(
  deps: ProfileDeps,
  tools: { passwords: Passwords },
  { ctx, input }: { ctx: RequestMeta; input: CreateVendorInput },
): Promise<VendorView> {
  const phone = normalizePhone(input.phone);
  if (!phone)
    throw new AppError("VALIDATION_FAILED", "The phone is not an Eswatini mobile number.", [
      { path: "phone", message: "not an Eswatini mobile number" },
    ]);
  const problem = passwordProblem(input.password);
  if (problem)
    throw new AppError("VALIDATION_FAILED", `The password ${problem}.`, [{ path: "password", message: problem }]);
  const email = input.email.trim().toLowerCase();
  const passwordHash = await tools.passwords.hash(input.password);
  for (let attempt = 0; ; attempt++) {
    try {
      const created = await transact(
        deps,
        async (tx) => {
          const [taken] = await tx.select({ id: vendors.id }).from(vendors).where(eq(vendors.email, email));
          if (taken) return deferred(new AppError("CONFLICT", "A vendor with that email already exists."));
          let code = "";
          for (let i = 0; i < 20 && !code; i++) {
            const candidate = String(randomInt(100_000, 1_000_000));
            const [used] = await tx.select({ id: vendors.id }).from(vendors).where(eq(vendors.code, candidate));
            if (!used) code = candidate;
          }
          if (!code) return deferred(new AppError("UNAVAILABLE", "No vendor code is free; try again."));
          const id = newId("vnd");
          const now = deps.now();
          const [r] = await tx
            .insert(vendors)
            .values({
              id,
              code,
              name: input.name.trim(),
              email,
              phone,
              passwordHash,
              registrationNumber: input.registrationNumber ?? null,
              address: input.address ?? null,
              category: input.category ?? null,
              createdBy: ctx.actor?.id ?? null,
              createdAt: now,
              updatedAt: now,
            })
            .returning();
          await deps.ledger.openAccount(
            {
              kind: "vendor_wallet",
              ownerType: "vendor",
              ownerId: id,
              currency: "SZL",
              guarded: true,
              shards: deps.config.hotAccountShards,
            },
            tx,
          );
          await deps.audit.record(
            { action: "vendor.create", target: { type: "vendor", id }, details: { name: r!.name, code } },
            ctx,
            tx,
          );
          return r!;
        },
        undefined,
        "vendors.create",
      );
      return vendorView(deps, created);
    } catch (error) {
      // Two creations drew the same code at once: draw again. A duplicate email is a real conflict.
      if (sqlState(error) === "23505" && /code/.test(sqlMessage(error)) && attempt < 3) continue;
      if (sqlState(error) === "23505") throw new AppError("CONFLICT", "A vendor with that email already exists.");
      throw error;
    }
  }
}

export interface VendorFilter {
  q?: string;
  status?: VendorStatus;
  limit: number;
  cursor?: string;
}

export async function listVendors(deps: Pick<IdentityDeps, "database" | "now">, filter: VendorFilter) {
  const where: (SQL | undefined)[] = [];
  if (filter.status) where.push(eq(vendors.status, filter.status));
  const q = filter.q?.trim();
  if (q) {
    const escaped = q.replace(/[\\%_]/g, "\\$&");
    const phone = normalizePhone(q);
    where.push(
      or(
        eq(vendors.id, q),
        eq(vendors.code, q),
        eq(vendors.email, q.toLowerCase()),
        phone ? eq(vendors.phone, phone) : undefined,
        ilike(vendors.name, `%${escaped}%`),
      ),
    );
  }
  if (filter.cursor) {
    where.push(after(filter.cursor, vendors.createdAt, vendors.id));
  }
  const rows = await deps.database.db
    .select()
    .from(vendors)
    .where(and(...where))
    .orderBy(desc(vendors.createdAt), desc(vendors.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((r) => vendorView(deps, r)),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

export async function setVendorStatus(
  deps: ProfileDeps,
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { vendorId: string; status: "active" | "frozen"; reason: string };
  },
): Promise<VendorView> {
  await transact(
    deps,
    async (tx) => {
      const current = await vendorRow(tx, input.vendorId);
      if (!current || current.status === "deleted") return deferred(new AppError("NOT_FOUND", "No such vendor."));
      await tx
        .update(vendors)
        .set({ status: input.status, statusReason: input.reason, updatedAt: deps.now() })
        .where(eq(vendors.id, input.vendorId));
      await deps.audit.record(
        {
          action: input.status === "frozen" ? "vendor.freeze" : "vendor.unfreeze",
          target: { type: "vendor", id: input.vendorId },
          details: { reason: input.reason, previousStatus: current.status },
        },
        ctx,
        tx,
      );
    },
    undefined,
    "vendors.setStatus",
  );
  return (await getVendorView(deps, input.vendorId))!;
}
