import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import { type Approval, approvalKind, type DecisionContext } from "../approvals";
import type { RequestMeta } from "../audit";
import { type Executor, queryRows } from "../db/client";
import { sqlState } from "../db/pg-errors";
import { AppError } from "../http/errors";
import { decodeCursor, encodeCursor } from "../http/pagination";
import { newId } from "../lib/ids";
import { makerOf } from "./partners";
import { partnerFundingChanges, partners } from "./schema";
import { deferred, type IdentityDeps, transact } from "./tx";

/**
 * Partners' funding limits: each partner's prefunded float (as Mojaloop's net debit cap). A deposit may take
 * the partner's settlement account down to -limit and no further — checked by the deposit's own statement
 * (drizzle/0012 payments_commit, KL012 → 422 LIMIT_EXCEEDED), whichever key deposits. "Used" is what the
 * partner has deposited net of reversals: minus the settlement account's balance.
 *
 * Finance raises a limit when the bank confirms the transfer into the trust account: a top-up is a
 * maker-checker action (approval kind "partner_funding", the bank's reference recorded, usable once per
 * partner). Lowering a limit takes money-creating power away, so it is one step. Every change is a row of
 * partner_funding_changes and an audit record.
 */

export const PARTNER_FUNDING_APPROVAL = "partner_funding";
/** The largest single change of a limit, in cents (E10,000,000,000): a sanity bound, not a policy. */
export const MAX_FUNDING_CHANGE = 1_000_000_000_000;

export interface PartnerFunding {
  partnerId: string;
  currency: "SZL";
  /** Cents the partner may have deposited, net of reversals. */
  limit: number;
  /** Cents it has deposited, net of reversals (minus its settlement account's balance). */
  used: number;
  /** limit − used, never below 0: the largest deposit it can make now. */
  available: number;
  /** Top-ups waiting for a second admin. */
  pendingTopUps: number;
}

export type FundingChangeStatus = "pending" | "applied" | "rejected" | "expired";

export interface FundingChange {
  id: string;
  partnerId: string;
  kind: "top_up" | "decrease";
  amount: number;
  currency: string;
  bankReference: string | null;
  note: string | null;
  status: FundingChangeStatus;
  approvalId: string | null;
  requestedBy: string | null;
  decidedBy: string | null;
  limitBefore: number | null;
  limitAfter: number | null;
  createdAt: string;
  decidedAt: string | null;
}

type ChangeRow = typeof partnerFundingChanges.$inferSelect;

const toChange = (r: ChangeRow): FundingChange => ({
  id: r.id,
  partnerId: r.partnerId,
  kind: r.kind as FundingChange["kind"],
  amount: Number(r.amount),
  currency: r.currency,
  bankReference: r.bankReference,
  note: r.note,
  status: r.status as FundingChangeStatus,
  approvalId: r.approvalId,
  requestedBy: r.requestedBy,
  decidedBy: r.decidedBy,
  limitBefore: r.limitBefore === null ? null : Number(r.limitBefore),
  limitAfter: r.limitAfter === null ? null : Number(r.limitAfter),
  createdAt: r.createdAt.toISOString(),
  decidedAt: r.decidedAt?.toISOString() ?? null,
});

function assertChange(amount: number, currency: string) {
  if (currency !== "SZL") throw new AppError("VALIDATION_FAILED", "Only SZL is supported.");
  if (!Number.isSafeInteger(amount) || amount < 1 || amount > MAX_FUNDING_CHANGE)
    throw new AppError("VALIDATION_FAILED", `amount must be a whole number of cents from 1 to ${MAX_FUNDING_CHANGE}.`, [
      { path: "amount", message: `from 1 to ${MAX_FUNDING_CHANGE} cents` },
    ]);
}

export function createPartnerFunding(deps: IdentityDeps) {
  const { db } = deps.database;

  /** A partner's limit, what it has used and what is left; undefined for no such partner. */
  async function funding(partnerId: string, tx?: Executor): Promise<PartnerFunding | undefined> {
    const [row] = await queryRows<{ limit: string; used: string; pending: string }>(
      tx ?? db,
      sql`select p.funding_limit::text as limit,
                 coalesce((select -sum(b.balance) from ledger_accounts a join ledger_balances b on b.account_id = a.id
                            where a.code = 'partner_settlement:' || p.id || ':SZL'), 0)::text as used,
                 coalesce((select sum(f.amount) from partner_funding_changes f
                            where f.partner_id = p.id and f.kind = 'top_up' and f.status = 'pending'), 0)::text as pending
            from partners p where p.id = ${partnerId}`,
    );
    if (!row) return undefined;
    const limit = Number(row.limit);
    const used = Math.max(0, Number(row.used));
    return {
      partnerId,
      currency: "SZL",
      limit,
      used,
      available: Math.max(0, limit - used),
      pendingTopUps: Number(row.pending),
    };
  }

  /**
   * The maker's half of a top-up: the bank confirmed `amount` into the trust account under `bankReference`.
   * Answers the approval request; the limit rises only when a second, different admin approves it.
   */
  async function requestTopUp({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; amount: number; currency: string; bankReference: string; note?: string | undefined };
  }): Promise<{ approval: Approval; change: FundingChange }> {
    const maker = makerOf(ctx);
    assertChange(input.amount, input.currency);
    const bankReference = input.bankReference.trim();
    return transact(
      deps,
      async (tx) => {
        const [p] = await tx.select().from(partners).where(eq(partners.id, input.partnerId));
        if (!p) return deferred(new AppError("NOT_FOUND", "No such partner."));
        if (p.status === "pending" || p.status === "rejected")
          return deferred(new AppError("CONFLICT", `This partner is ${p.status}: only an approved partner is funded.`));
        if (Number(p.fundingLimit) + input.amount > Number.MAX_SAFE_INTEGER)
          return deferred(new AppError("VALIDATION_FAILED", "That would take the limit past what can be recorded."));
        const id = newId("fnd");
        const now = deps.now();
        const approval = await deps.approvals.request(
          {
            kind: PARTNER_FUNDING_APPROVAL,
            subjectId: id,
            amount: BigInt(input.amount),
            currency: "SZL",
            requestedBy: maker,
            owner: { type: "partner", id: p.id },
            summary: {
              partnerName: p.name,
              bankReference,
              note: input.note ?? null,
              limitBefore: Number(p.fundingLimit),
            },
          },
          tx,
        );
        const [row] = await tx
          .insert(partnerFundingChanges)
          .values({
            id,
            partnerId: p.id,
            kind: "top_up",
            amount: BigInt(input.amount),
            currency: "SZL",
            bankReference,
            note: input.note ?? null,
            status: "pending",
            approvalId: approval.id,
            requestedBy: maker.id,
            createdAt: now,
          })
          .returning()
          .catch((error: unknown) => {
            if (sqlState(error) === "23505")
              throw new AppError("CONFLICT", "This bank reference already tops this partner up (pending or applied).", {
                bankReference,
              });
            throw error;
          });
        await deps.audit.record(
          {
            action: "partner.funding.request",
            target: { type: "partner", id: p.id },
            details: { fundingId: id, amount: input.amount, bankReference, approvalId: approval.id },
          },
          ctx,
          tx,
        );
        return { approval, change: toChange(row!) };
      },
      undefined,
      "partnerFunding.requestTopUp",
    );
  }

  /**
   * Lowers a limit at once (the bank took float back, or the partner is being wound down). It may fall below
   * what the partner has used: then no deposit fits until reversals or a top-up make room.
   */
  async function decrease({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; amount: number; currency: string; reason: string };
  }): Promise<{ funding: PartnerFunding; change: FundingChange }> {
    assertChange(input.amount, input.currency);
    return transact(
      deps,
      async (tx) => {
        const [p] = await tx.select().from(partners).where(eq(partners.id, input.partnerId));
        if (!p) return deferred(new AppError("NOT_FOUND", "No such partner."));
        const before = Number(p.fundingLimit);
        if (input.amount > before)
          return deferred(
            new AppError("CONFLICT", `The funding limit is ${before} cents: it cannot be lowered by more.`, {
              fundingLimit: before,
            }),
          );
        const now = deps.now();
        const [updated] = await tx
          .update(partners)
          .set({ fundingLimit: sql`${partners.fundingLimit} - ${BigInt(input.amount)}`, updatedAt: now })
          .where(eq(partners.id, p.id))
          .returning({ fundingLimit: partners.fundingLimit });
        const after = Number(updated!.fundingLimit);
        const actor = ctx.actor?.id ?? null;
        const [row] = await tx
          .insert(partnerFundingChanges)
          .values({
            id: newId("fnd"),
            partnerId: p.id,
            kind: "decrease",
            amount: BigInt(input.amount),
            currency: "SZL",
            note: input.reason,
            status: "applied",
            requestedBy: actor,
            decidedBy: actor,
            limitBefore: BigInt(before),
            limitAfter: BigInt(after),
            createdAt: now,
            decidedAt: now,
          })
          .returning();
        await deps.audit.record(
          {
            action: "partner.funding.decrease",
            target: { type: "partner", id: p.id },
            details: {
              fundingId: row!.id,
              amount: input.amount,
              limitBefore: before,
              limitAfter: after,
              reason: input.reason,
            },
          },
          ctx,
          tx,
        );
        return { funding: (await funding(p.id, tx))!, change: toChange(row!) };
      },
      undefined,
      "partnerFunding.decrease",
    );
  }

  /** A partner's limit changes, newest first. */
  async function history(
    partnerId: string,
    options: { limit: number; cursor?: string | undefined },
  ): Promise<{ data: FundingChange[]; nextCursor: string | null }> {
    const c = options.cursor ? decodeCursor(options.cursor) : undefined;
    const rows = await db
      .select()
      .from(partnerFundingChanges)
      .where(
        and(
          eq(partnerFundingChanges.partnerId, partnerId),
          c
            ? or(
                lt(partnerFundingChanges.createdAt, c.at),
                and(eq(partnerFundingChanges.createdAt, c.at), lt(partnerFundingChanges.id, c.id)),
              )
            : undefined,
        ),
      )
      .orderBy(desc(partnerFundingChanges.createdAt), desc(partnerFundingChanges.id))
      .limit(options.limit + 1);
    const page = rows.slice(0, options.limit);
    const last = page[page.length - 1];
    return {
      data: page.map(toChange),
      nextCursor: rows.length > options.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  // ------------------------------------------------------------------ the checker's half (src/approvals)

  async function close(tx: Executor, ctx: DecisionContext, status: "rejected" | "expired") {
    const [row] = await tx
      .update(partnerFundingChanges)
      .set({ status, decidedBy: ctx.admin?.id ?? null, decidedAt: ctx.now })
      .where(and(eq(partnerFundingChanges.id, ctx.approval.subjectId), eq(partnerFundingChanges.status, "pending")))
      .returning();
    await deps.audit.record(
      {
        action: "partner.funding.refused",
        actor: ctx.decidedBy,
        target: { type: "partner", id: ctx.approval.owner?.id ?? row?.partnerId ?? null },
        details: {
          fundingId: ctx.approval.subjectId,
          outcome: status,
          approvalId: ctx.approval.id,
          reason: ctx.reason,
        },
      },
      ctx.meta,
      tx,
    );
  }

  const topUpKind = approvalKind({
    label: "Partner funding top-up",
    permission: "partners:fund",
    async onApprove(tx, ctx) {
      const [change] = await tx
        .select()
        .from(partnerFundingChanges)
        .where(eq(partnerFundingChanges.id, ctx.approval.subjectId));
      if (change?.status !== "pending")
        throw new AppError("CONFLICT", "This top-up is no longer waiting for approval.");
      const [raised] = await tx
        .update(partners)
        .set({ fundingLimit: sql`${partners.fundingLimit} + ${change.amount}`, updatedAt: ctx.now })
        .where(eq(partners.id, change.partnerId))
        .returning({ fundingLimit: partners.fundingLimit });
      const after = raised!.fundingLimit;
      if (after > BigInt(Number.MAX_SAFE_INTEGER))
        throw new AppError("CONFLICT", "That would take the limit past what can be recorded.");
      const before = after - change.amount;
      await tx
        .update(partnerFundingChanges)
        .set({
          status: "applied",
          decidedBy: ctx.admin?.id ?? null,
          decidedAt: ctx.now,
          limitBefore: before,
          limitAfter: after,
        })
        .where(eq(partnerFundingChanges.id, change.id));
      await deps.audit.record(
        {
          action: "partner.funding.top_up",
          actor: ctx.decidedBy,
          target: { type: "partner", id: change.partnerId },
          details: {
            fundingId: change.id,
            amount: Number(change.amount),
            bankReference: change.bankReference,
            limitBefore: Number(before),
            limitAfter: Number(after),
            approvalId: ctx.approval.id,
            requestedBy: ctx.approval.requestedBy.id,
          },
        },
        ctx.meta,
        tx,
      );
    },
    onReject: (tx, ctx) => close(tx, ctx, "rejected"),
    onExpire: (tx, ctx) => close(tx, ctx, "expired"),
  });

  return { funding, requestTopUp, decrease, history, approvalKinds: { [PARTNER_FUNDING_APPROVAL]: topUpKind } };
}

export type PartnerFundingService = ReturnType<typeof createPartnerFunding>;
