import { randomInt } from "node:crypto";
import { and, desc, eq, gt, lte, or, type SQL, sql } from "drizzle-orm";
import type { Config } from "../config";
import { type Database, type Executor, queryRows } from "../db/client";
import { sqlConstraint, sqlState } from "../db/pg-errors";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import { after, encodeCursor } from "../http/pagination";
import { computeFee } from "../ledger";
import { newId } from "../lib/ids";
import { paymentRequests } from "./requests-schema";
import type { Payments, Plan } from "./service";

/**
 * Vendor payment requests: the vendor asks for an amount, the payer scans a QR code or types a short
 * code, sees what they are about to pay, and pays with their PIN. Paying goes through the ordinary
 * payment plan and commit; the request is marked paid inside that same transaction, first, so of two
 * payers at once exactly one pays and the other gets 409.
 */

export type RequestStatus = "open" | "paid" | "cancelled" | "expired";

export interface PaymentRequestDto {
  id: string;
  code: string;
  amount: number;
  currency: string;
  reference: string | null;
  status: RequestStatus;
  expiresAt: string;
  /** `keshless:pay?code=<code>&amount=<cents>&v=<vendorCode>`: what the vendor's QR code encodes. */
  qrPayload: string;
  vendor: { id: string; name: string; code: string };
  transactionId: string | null;
  paidAt: string | null;
  createdAt: string;
}

export interface PaymentRequestPreview {
  code: string;
  amount: number;
  currency: string;
  fee: number;
  feeBearer: "sender" | "receiver";
  /** What leaves the payer's wallet. */
  total: number;
  reference: string | null;
  status: RequestStatus;
  expiresAt: string;
  vendor: { id: string; name: string; code: string };
}

interface VendorLike {
  id: string;
  name: string;
  code: string;
  status: string;
}

interface RequestsDeps {
  config: Pick<Config, "maxAmount" | "fees" | "paymentRequestTtl" | "serializableMaxRetries">;
  database: Database;
  logger: Logger;
  now: () => Date;
  payments: Pick<Payments, "planPayment">;
  vendors: { get(id: string): Promise<VendorLike | undefined> };
}

type Row = typeof paymentRequests.$inferSelect;

export const qrPayload = (code: string, amount: bigint | number, vendorCode: string) =>
  `keshless:pay?code=${code}&amount=${amount}&v=${vendorCode}`;

/** 7 digits: one more than a vendor code, so a USSD menu can tell the two apart by length. */
const newCode = () => String(randomInt(1_000_000, 10_000_000));

export function createPaymentRequests(deps: RequestsDeps) {
  const { db } = deps.database;
  const transact = <T>(fn: (tx: Executor) => Promise<T>, label: string) => withTransaction(deps, fn, { label });

  const statusOf = (row: Row, now = deps.now()): RequestStatus =>
    row.status === "open" && row.expiresAt <= now ? "expired" : (row.status as RequestStatus);

  async function vendorOf(vendorId: string): Promise<VendorLike> {
    const vendor = await deps.vendors.get(vendorId);
    if (!vendor) throw new AppError("NOT_FOUND", "No such vendor.");
    return vendor;
  }

  function toDto(row: Row, vendor: VendorLike): PaymentRequestDto {
    return {
      id: row.id,
      code: row.code,
      amount: Number(row.amount),
      currency: row.currency,
      reference: row.reference,
      status: statusOf(row),
      expiresAt: row.expiresAt.toISOString(),
      qrPayload: qrPayload(row.code, row.amount, vendor.code),
      vendor: { id: vendor.id, name: vendor.name, code: vendor.code },
      transactionId: row.transactionId,
      paidAt: row.paidAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
    };
  }

  async function create(input: {
    vendorId: string;
    amount: number;
    currency: string;
    reference?: string | undefined;
    expiresInSeconds?: number | undefined;
  }): Promise<PaymentRequestDto> {
    if (input.currency !== "SZL") throw new AppError("VALIDATION_FAILED", "Only SZL is supported.");
    if (!Number.isSafeInteger(input.amount) || input.amount <= 0 || input.amount > deps.config.maxAmount)
      throw new AppError(
        "VALIDATION_FAILED",
        `amount must be a whole number of cents from 1 to ${deps.config.maxAmount}.`,
        [{ path: "amount", message: "out of range" }],
      );
    const vendor = await vendorOf(input.vendorId);
    if (vendor.status !== "active") throw new AppError("ACCOUNT_FROZEN", "This vendor cannot take payments right now.");
    for (let attempt = 0; ; attempt++) {
      try {
        const row = await transact(async (tx) => {
          const now = deps.now();
          const code = newCode();
          // An open request past its expiry still holds its code in the unique index: let it go.
          await tx
            .update(paymentRequests)
            .set({ status: "expired" })
            .where(
              and(
                eq(paymentRequests.code, code),
                eq(paymentRequests.status, "open"),
                lte(paymentRequests.expiresAt, now),
              ),
            );
          const [created] = await tx
            .insert(paymentRequests)
            .values({
              id: newId("prq"),
              vendorId: vendor.id,
              code,
              amount: BigInt(input.amount),
              currency: "SZL",
              reference: input.reference ?? null,
              expiresAt: new Date(now.getTime() + (input.expiresInSeconds ?? deps.config.paymentRequestTtl) * 1000),
              createdAt: now,
            })
            .returning();
          return created!;
        }, "paymentRequests.create");
        return toDto(row, vendor);
      } catch (error) {
        // Another open request drew the same code a moment earlier: draw again.
        if (sqlState(error) === "23505" && sqlConstraint(error) === "payment_requests_open_code_idx" && attempt < 5)
          continue;
        throw error;
      }
    }
  }

  /** The vendor's requests, newest first; `status` as the vendor sees it (an open one past expiry is expired). */
  async function list(
    vendorId: string,
    filter: { status?: RequestStatus | undefined; limit: number; cursor?: string | undefined },
  ): Promise<{ data: PaymentRequestDto[]; nextCursor: string | null }> {
    const now = deps.now();
    const where: (SQL | undefined)[] = [eq(paymentRequests.vendorId, vendorId)];
    if (filter.status === "open") where.push(eq(paymentRequests.status, "open"), gt(paymentRequests.expiresAt, now));
    else if (filter.status === "expired")
      where.push(
        or(
          eq(paymentRequests.status, "expired"),
          and(eq(paymentRequests.status, "open"), lte(paymentRequests.expiresAt, now)),
        ),
      );
    else if (filter.status) where.push(eq(paymentRequests.status, filter.status));
    if (filter.cursor) {
      where.push(after(filter.cursor, paymentRequests.createdAt, paymentRequests.id));
    }
    const rows = await db
      .select()
      .from(paymentRequests)
      .where(and(...where))
      .orderBy(desc(paymentRequests.createdAt), desc(paymentRequests.id))
      .limit(filter.limit + 1);
    const vendor = await vendorOf(vendorId);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map((r) => toDto(r, vendor)),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  async function get(vendorId: string, id: string): Promise<PaymentRequestDto> {
    const [row] = await db
      .select()
      .from(paymentRequests)
      .where(and(eq(paymentRequests.id, id), eq(paymentRequests.vendorId, vendorId)));
    if (!row) throw new AppError("NOT_FOUND", "No such payment request.");
    return toDto(row, await vendorOf(vendorId));
  }

  /** Only an open request can be cancelled; one being paid right now is either paid or cancelled, never both. */
  async function cancel(vendorId: string, id: string): Promise<PaymentRequestDto> {
    const row = await transact(async (tx) => {
      const now = deps.now();
      const [updated] = await tx
        .update(paymentRequests)
        .set({ status: "cancelled", cancelledAt: now })
        .where(
          and(
            eq(paymentRequests.id, id),
            eq(paymentRequests.vendorId, vendorId),
            eq(paymentRequests.status, "open"),
            gt(paymentRequests.expiresAt, now),
          ),
        )
        .returning();
      if (updated) return updated;
      const [existing] = await tx
        .select()
        .from(paymentRequests)
        .where(and(eq(paymentRequests.id, id), eq(paymentRequests.vendorId, vendorId)));
      if (!existing) throw new AppError("NOT_FOUND", "No such payment request.");
      throw new AppError("CONFLICT", `This request is ${statusOf(existing, now)}; only an open one can be cancelled.`, {
        status: statusOf(existing, now),
      });
    }, "paymentRequests.cancel");
    return toDto(row, await vendorOf(vendorId));
  }

  /** The request a code names now: the open one, else the latest (so a paid code still answers). */
  async function byCode(code: string): Promise<Row> {
    const [row] = await db
      .select()
      .from(paymentRequests)
      .where(eq(paymentRequests.code, code))
      .orderBy(sql`${paymentRequests.status} = 'open' desc`, desc(paymentRequests.createdAt))
      .limit(1);
    if (!row) throw new AppError("NOT_FOUND", "No payment request has that code.");
    return row;
  }

  /** What the payer is about to pay: amount, fee, total and to whom. */
  async function preview(code: string): Promise<PaymentRequestPreview> {
    const row = await byCode(code);
    const vendor = await vendorOf(row.vendorId);
    const { fee, bearer } = computeFee(deps.config.fees, "payment", row.amount);
    return {
      code: row.code,
      amount: Number(row.amount),
      currency: row.currency,
      fee: Number(fee),
      feeBearer: bearer,
      total: Number(bearer === "sender" ? row.amount + fee : row.amount),
      reference: row.reference,
      status: statusOf(row),
      expiresAt: row.expiresAt.toISOString(),
      vendor: { id: vendor.id, name: vendor.name, code: vendor.code },
    };
  }

  /**
   * A payment plan for the request, through the ordinary planPayment (limits, fees, frozen checks), with
   * a hook that marks the request paid first in the commit's transaction. The status is judged there,
   * not here, so a replay of a request that already paid still finds its stored response.
   */
  async function planPay(input: { userId: string; code: string }): Promise<Plan> {
    const row = await byCode(input.code);
    const vendor = await vendorOf(row.vendorId);
    const plan = await deps.payments.planPayment({
      userId: input.userId,
      vendorCode: vendor.code,
      amount: Number(row.amount),
      currency: row.currency,
      reference: row.reference,
    });
    plan.metadata = { ...plan.metadata, paymentRequestId: row.id };
    plan.beforeCommit = async (tx) => {
      const now = deps.now();
      const claimed = await queryRows<{ id: string }>(
        tx,
        sql`update payment_requests
               set status = 'paid', transaction_id = ${plan.transactionId}, paid_by = ${input.userId},
                   paid_at = ${now.toISOString()}::timestamptz
             where id = ${row.id} and status = 'open' and expires_at > ${now.toISOString()}::timestamptz
         returning id`,
      );
      if (claimed.length) return;
      const [current] = await tx.select().from(paymentRequests).where(eq(paymentRequests.id, row.id));
      const status = current ? statusOf(current, now) : "cancelled";
      throw new AppError("CONFLICT", `This payment request is ${status}; it cannot be paid.`, { status });
    };
    return plan;
  }

  return { create, list, get, cancel, preview, planPay };
}

export type PaymentRequests = ReturnType<typeof createPaymentRequests>;
