import { randomBytes } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { type Approval, approvalKind, type DecisionContext } from "../approvals";
import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import { queryRows } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import { after, encodeCursor } from "../http/pagination";
import { DEFAULT_PARTNER_SCOPES, PARTNER_SCOPES } from "../http/permissions";
import { rateLimited } from "../http/rate-limit";
import { constantTimeEqual, sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { partnerApiKeys, partners } from "./schema";
import { frozen } from "./tokens";
import { deferred, type IdentityDeps, transact } from "./tx";

export type PartnerStatus = "pending" | "active" | "suspended" | "rejected";

export interface Partner {
  id: string;
  name: string;
  status: PartnerStatus;
}

export interface PartnerKey {
  id: string;
  partnerId: string;
  prefix: string;
  scopes: string[];
  ratePerMinute: number;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  rotatedFrom: string | null;
  /** The approval request this key waits for; it authenticates nothing until then. */
  pendingApproval: string | null;
}

/** An issued key: the secret (shown once, here only) and what is stored of it. */
export interface IssuedKey {
  apiKey: string;
  key: PartnerKey;
}

type KeyRow = typeof partnerApiKeys.$inferSelect;

const toKey = (k: KeyRow): PartnerKey => ({
  id: k.id,
  partnerId: k.partnerId,
  prefix: k.prefix,
  scopes: k.scopes,
  ratePerMinute: k.ratePerMinute,
  createdAt: k.createdAt.toISOString(),
  expiresAt: k.expiresAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  rotatedFrom: k.rotatedFrom,
  pendingApproval: k.pendingApproval ?? null,
});

const KEY_FORMAT = /^kl_(live|test)_[A-Za-z0-9_-]{40}$/;
/** How stale last_used_at may get: recording every request would turn each one into a write. */
const LAST_USED_GRANULARITY_MS = 60_000;

/** The scope that creates money: a key holding it is issued or rotated only with a second admin's approval. */
export const MONEY_SCOPE = "deposits:create";
export const createsMoney = (scopes: readonly string[]) => scopes.includes(MONEY_SCOPE);

/** Approval kinds partners register (src/approvals). */
export const PARTNER_APPROVAL = "partner";
export const PARTNER_KEY_APPROVAL = "partner_key";

const invalidKey = () => new AppError("UNAUTHENTICATED", "The API key is not valid.");

/** The admin asking (the maker): maker-checker needs one, so a request without an admin actor is a bug. */
export function makerOf(ctx: RequestMeta): { type: "admin"; id: string } {
  if (ctx.actor?.type !== "admin" || !ctx.actor.id)
    throw new AppError("FORBIDDEN", "Only an admin can ask for this; a second admin approves it.");
  return { type: "admin", id: ctx.actor.id };
}

/** What a partner or key approval request carries (approval.summary), written by the maker's request. */
interface KeySummary {
  partnerName: string;
  keyId: string;
  keyPrefix: string;
  scopes: string[];
  ratePerMinute: number;
  rotatedFrom?: string;
  overlapSeconds?: number;
  fundingLimit?: number;
}

/**
 * Partners (banks, mobile-money operators) and their API keys. A key is shown once — a recognisable
 * prefix (`kl_live_` / `kl_test_`) and 240 random bits — and stored only as its SHA-256. Keys are
 * scoped, rate-limited each on its own, revocable, and rotatable with an overlap window during which
 * old and new both work.
 *
 * Dual control: over HTTP, creating a partner and issuing or rotating a key with deposits:create are
 * maker-checker actions (src/approvals, kinds "partner" and "partner_key"). The maker's request answers
 * with the new key — shown once, to the maker, stored only as its hash — which authenticates nothing until
 * a second, different admin approves; a rejected or expired request revokes it (and leaves the partner
 * `rejected`). `create` is the direct path, for the operator's CLI (run with database access) and seeds.
 */
export function createPartners(deps: IdentityDeps) {
  const { db } = deps.database;
  const auth = deps.config.auth;

  async function get(id: string): Promise<Partner | undefined> {
    const [r] = await db.select().from(partners).where(eq(partners.id, id));
    return r ? { id: r.id, name: r.name, status: r.status as PartnerStatus } : undefined;
  }

  /** Newest first. Partners are a handful of banks and operators: no index beyond the primary key is needed. */
  async function list(filter: { limit: number; cursor?: string }) {
    const rows = await db
      .select({ id: partners.id, name: partners.name, status: partners.status, createdAt: partners.createdAt })
      .from(partners)
      .where(filter.cursor ? after(filter.cursor, partners.createdAt, partners.id) : undefined)
      .orderBy(desc(partners.createdAt), desc(partners.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map((r) => ({ id: r.id, name: r.name, status: r.status as PartnerStatus })),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    };
  }

  function checkScopes(scopes: string[]) {
    const unknown = scopes.filter((s) => !(PARTNER_SCOPES as readonly string[]).includes(s));
    if (unknown.length)
      throw new AppError("VALIDATION_FAILED", `Unknown scopes: ${unknown.join(", ")}.`, [
        { path: "scopes", message: `allowed: ${PARTNER_SCOPES.join(", ")}` },
      ]);
  }

  function checkFundingLimit(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new AppError("VALIDATION_FAILED", "fundingLimit must be a whole number of cents, 0 or more.", [
        { path: "fundingLimit", message: "a whole number of cents, 0 or more" },
      ]);
  }

  /** A new key's secret and id, before anything is stored (an approval request names the key it would activate). */
  function mintKey() {
    const apiKey = `kl_${deps.config.env === "production" ? "live" : "test"}_${randomBytes(30).toString("base64url")}`;
    return { id: newId("key"), apiKey, prefix: apiKey.slice(0, 16) };
  }

  async function insertKey(
    tx: Executor,
    minted: ReturnType<typeof mintKey>,
    input: {
      partnerId: string;
      scopes: string[];
      ratePerMinute?: number | undefined;
      rotatedFrom?: string;
      pendingApproval?: string;
    },
    ctx: RequestMeta,
  ): Promise<IssuedKey> {
    const [k] = await tx
      .insert(partnerApiKeys)
      .values({
        id: minted.id,
        partnerId: input.partnerId,
        prefix: minted.prefix,
        keyHash: sha256Hex(minted.apiKey),
        scopes: [...new Set(input.scopes)],
        ratePerMinute: input.ratePerMinute ?? auth.partnerKeyRatePerMinute,
        rotatedFrom: input.rotatedFrom ?? null,
        pendingApproval: input.pendingApproval ?? null,
        createdBy: ctx.actor?.id ?? null,
        createdAt: deps.now(),
      })
      .returning();
    return { apiKey: minted.apiKey, key: toKey(k!) };
  }

  async function openSettlement(tx: Executor, partnerId: string) {
    // One balance row, not hot shards: every deposit checks the funding limit against this account's balance
    // in its own statement (drizzle/0012), which orders one partner's deposits anyway.
    await deps.ledger.openAccount(
      {
        kind: "partner_settlement",
        ownerType: "partner",
        ownerId: partnerId,
        currency: "SZL",
        guarded: false,
        shards: 1,
        code: `partner_settlement:${partnerId}:SZL`,
      },
      tx,
    );
  }

  async function insertPartner(
    tx: Executor,
    input: { id: string; name: string; status: PartnerStatus; fundingLimit: number },
    ctx: RequestMeta,
  ) {
    const now = deps.now();
    await tx.insert(partners).values({
      id: input.id,
      name: input.name,
      status: input.status,
      fundingLimit: BigInt(input.fundingLimit),
      createdBy: ctx.actor?.id ?? null,
      createdAt: now,
      updatedAt: now,
    });
  }

  /**
   * The direct path — a partner, its settlement account and a first key, live at once, in one transaction —
   * for the operator's CLI (a deliberate second channel: it needs database access) and seeds. HTTP never
   * calls it: POST /admin/v1/partners goes through requestCreate.
   */
  async function create({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: {
      name: string;
      scopes?: string[] | undefined;
      ratePerMinute?: number | undefined;
      fundingLimit?: number | undefined;
    };
  }): Promise<Partner & IssuedKey & { fundingLimit: number }> {
    const scopes = input.scopes ?? DEFAULT_PARTNER_SCOPES;
    checkScopes(scopes);
    const fundingLimit = input.fundingLimit ?? deps.config.partners.defaultFundingLimit;
    checkFundingLimit(fundingLimit);
    return transact(
      deps,
      async (tx) => {
        const id = newId("prt");
        const name = input.name.trim();
        await insertPartner(tx, { id, name, status: "active", fundingLimit }, ctx);
        await openSettlement(tx, id);
        const issued = await insertKey(
          tx,
          mintKey(),
          { partnerId: id, scopes, ratePerMinute: input.ratePerMinute },
          ctx,
        );
        await deps.audit.record(
          {
            action: "partner.create",
            target: { type: "partner", id },
            details: { name: input.name, keyId: issued.key.id, scopes, fundingLimit },
          },
          ctx,
          tx,
        );
        return { id, name, status: "active" as const, fundingLimit, ...issued };
      },
      undefined,
      "partners.create",
    );
  }

  /**
   * The maker's half of creating a partner (POST /admin/v1/partners): the partner, `pending`, with the
   * configured default funding limit, and its first key — inert until a second admin approves. The answer
   * carries the key, shown once, here only.
   */
  async function requestCreate({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { name: string; scopes?: string[] | undefined; ratePerMinute?: number | undefined };
  }): Promise<{ approval: Approval; partner: Partner } & IssuedKey> {
    const maker = makerOf(ctx);
    const scopes = [...new Set(input.scopes ?? DEFAULT_PARTNER_SCOPES)];
    checkScopes(scopes);
    const fundingLimit = deps.config.partners.defaultFundingLimit;
    return transact(
      deps,
      async (tx) => {
        const id = newId("prt");
        const name = input.name.trim();
        const minted = mintKey();
        const ratePerMinute = input.ratePerMinute ?? auth.partnerKeyRatePerMinute;
        await insertPartner(tx, { id, name, status: "pending", fundingLimit }, ctx);
        const approval = await deps.approvals.request(
          {
            kind: PARTNER_APPROVAL,
            subjectId: id,
            requestedBy: maker,
            owner: { type: "partner", id },
            summary: {
              partnerName: name,
              keyId: minted.id,
              keyPrefix: minted.prefix,
              scopes,
              ratePerMinute,
              fundingLimit,
            } satisfies KeySummary,
          },
          tx,
        );
        const issued = await insertKey(
          tx,
          minted,
          { partnerId: id, scopes, ratePerMinute, pendingApproval: approval.id },
          ctx,
        );
        await deps.audit.record(
          {
            action: "partner.create.request",
            target: { type: "partner", id },
            details: { name, keyId: minted.id, scopes, fundingLimit, approvalId: approval.id },
          },
          ctx,
          tx,
        );
        return { approval, partner: { id, name, status: "pending" as const }, ...issued };
      },
      undefined,
      "partners.requestCreate",
    );
  }

  async function keys(partnerId: string): Promise<PartnerKey[]> {
    const rows = await db
      .select()
      .from(partnerApiKeys)
      .where(eq(partnerApiKeys.partnerId, partnerId))
      .orderBy(desc(partnerApiKeys.createdAt));
    return rows.map(toKey);
  }

  /**
   * Another key. Without deposits:create it is live at once (`pending: null`); with it, it waits for a second
   * admin (`pending` is the approval request) — either way the secret is in this answer only.
   */
  async function createKey({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; scopes: string[]; ratePerMinute?: number | undefined };
  }): Promise<IssuedKey & { pending: Approval | null }> {
    checkScopes(input.scopes);
    const scopes = [...new Set(input.scopes)];
    const dual = createsMoney(scopes);
    const maker = dual ? makerOf(ctx) : undefined;
    return transact(
      deps,
      async (tx) => {
        const [p] = await tx.select().from(partners).where(eq(partners.id, input.partnerId));
        if (!p) return deferred(new AppError("NOT_FOUND", "No such partner."));
        if (p.status === "rejected") return deferred(new AppError("CONFLICT", "This partner was never approved."));
        const minted = mintKey();
        const ratePerMinute = input.ratePerMinute ?? auth.partnerKeyRatePerMinute;
        const pending = maker
          ? await deps.approvals.request(
              {
                kind: PARTNER_KEY_APPROVAL,
                subjectId: minted.id,
                requestedBy: maker,
                owner: { type: "partner", id: p.id },
                summary: {
                  partnerName: p.name,
                  keyId: minted.id,
                  keyPrefix: minted.prefix,
                  scopes,
                  ratePerMinute,
                } satisfies KeySummary,
              },
              tx,
            )
          : null;
        const issued = await insertKey(
          tx,
          minted,
          { partnerId: p.id, scopes, ratePerMinute, ...(pending ? { pendingApproval: pending.id } : {}) },
          ctx,
        );
        await deps.audit.record(
          {
            action: pending ? "partner.key.create.request" : "partner.key.create",
            target: { type: "partner", id: p.id },
            details: { keyId: issued.key.id, scopes: issued.key.scopes, approvalId: pending?.id ?? null },
          },
          ctx,
          tx,
        );
        return { ...issued, pending };
      },
      undefined,
      "partners.createKey",
    );
  }

  /**
   * A new key with the same scopes; the old one keeps working for the overlap window, then expires. A key with
   * deposits:create is replaced only once a second admin approves: until then the old key works as before and
   * the new one is inert; the overlap starts at the approval.
   */
  async function rotateKey({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; keyId: string; overlapSeconds?: number | undefined };
  }): Promise<IssuedKey & { previous: { id: string; expiresAt: string | null }; pending: Approval | null }> {
    return transact(
      deps,
      async (tx) => {
        const [old] = await tx
          .select()
          .from(partnerApiKeys)
          .where(and(eq(partnerApiKeys.id, input.keyId), eq(partnerApiKeys.partnerId, input.partnerId)));
        const now = deps.now();
        if (!old || old.revokedAt || old.pendingApproval || (old.expiresAt && old.expiresAt <= now))
          return deferred(new AppError("NOT_FOUND", "No such active key."));
        const overlap = input.overlapSeconds ?? auth.partnerKeyOverlap;
        const minted = mintKey();
        const same = { partnerId: input.partnerId, scopes: old.scopes, ratePerMinute: old.ratePerMinute };
        if (createsMoney(old.scopes)) {
          const [p] = await tx.select().from(partners).where(eq(partners.id, input.partnerId));
          const pending = await deps.approvals.request(
            {
              kind: PARTNER_KEY_APPROVAL,
              subjectId: minted.id,
              requestedBy: makerOf(ctx),
              owner: { type: "partner", id: input.partnerId },
              summary: {
                partnerName: p?.name ?? "",
                keyId: minted.id,
                keyPrefix: minted.prefix,
                scopes: old.scopes,
                ratePerMinute: old.ratePerMinute,
                rotatedFrom: old.id,
                overlapSeconds: overlap,
              } satisfies KeySummary,
            },
            tx,
          );
          const issued = await insertKey(
            tx,
            minted,
            { ...same, rotatedFrom: old.id, pendingApproval: pending.id },
            ctx,
          );
          await deps.audit.record(
            {
              action: "partner.key.rotate.request",
              target: { type: "partner", id: input.partnerId },
              details: { keyId: issued.key.id, previousKeyId: old.id, overlapSeconds: overlap, approvalId: pending.id },
            },
            ctx,
            tx,
          );
          return { ...issued, previous: { id: old.id, expiresAt: old.expiresAt?.toISOString() ?? null }, pending };
        }
        const expiresAt = expiryAfter(old.expiresAt, now, overlap);
        await tx.update(partnerApiKeys).set({ expiresAt }).where(eq(partnerApiKeys.id, old.id));
        const issued = await insertKey(tx, minted, { ...same, rotatedFrom: old.id }, ctx);
        await deps.audit.record(
          {
            action: "partner.key.rotate",
            target: { type: "partner", id: input.partnerId },
            details: { keyId: issued.key.id, previousKeyId: old.id, previousExpiresAt: expiresAt.toISOString() },
          },
          ctx,
          tx,
        );
        return { ...issued, previous: { id: old.id, expiresAt: expiresAt.toISOString() }, pending: null };
      },
      undefined,
      "partners.rotateKey",
    );
  }

  /** The end of a rotated key's overlap: `overlap` seconds from now, or its own earlier expiry. */
  function expiryAfter(current: Date | null, now: Date, overlapSeconds: number): Date {
    const expiresAt = new Date(now.getTime() + overlapSeconds * 1000);
    return current && current < expiresAt ? current : expiresAt;
  }

  async function revokeKey({ ctx, input }: { ctx: RequestMeta; input: { partnerId: string; keyId: string } }) {
    await transact(
      deps,
      async (tx) => {
        const [k] = await tx
          .update(partnerApiKeys)
          .set({ revokedAt: deps.now() })
          .where(
            and(
              eq(partnerApiKeys.id, input.keyId),
              eq(partnerApiKeys.partnerId, input.partnerId),
              isNull(partnerApiKeys.revokedAt),
            ),
          )
          .returning();
        if (!k) return deferred(new AppError("NOT_FOUND", "No such active key."));
        await deps.audit.record(
          { action: "partner.key.revoke", target: { type: "partner", id: input.partnerId }, details: { keyId: k.id } },
          ctx,
          tx,
        );
      },
      undefined,
      "partners.revokeKey",
    );
  }

  // ------------------------------------------------------------------ the checker's half (src/approvals)

  const summaryOf = (approval: Approval) => approval.summary as unknown as KeySummary;

  /** The keys a refused request would have made live are revoked, so they can never authenticate. */
  async function revokePending(tx: Executor, approvalId: string, now: Date) {
    await tx
      .update(partnerApiKeys)
      .set({ revokedAt: now })
      .where(and(eq(partnerApiKeys.pendingApproval, approvalId), isNull(partnerApiKeys.revokedAt)));
  }

  const partnerKind = approvalKind({
    label: "New partner",
    permission: "partners:manage",
    async onApprove(tx, ctx) {
      const partnerId = ctx.approval.subjectId;
      const [p] = await tx
        .update(partners)
        .set({ status: "active", updatedAt: ctx.now })
        .where(and(eq(partners.id, partnerId), eq(partners.status, "pending")))
        .returning();
      if (!p) throw new AppError("CONFLICT", "This partner is no longer waiting for approval.");
      await openSettlement(tx, partnerId);
      const activated = await tx
        .update(partnerApiKeys)
        .set({ pendingApproval: null })
        .where(and(eq(partnerApiKeys.pendingApproval, ctx.approval.id), isNull(partnerApiKeys.revokedAt)))
        .returning({ id: partnerApiKeys.id });
      await deps.audit.record(
        {
          action: "partner.create",
          actor: ctx.decidedBy,
          target: { type: "partner", id: partnerId },
          details: {
            name: p.name,
            keyIds: activated.map((k) => k.id),
            scopes: summaryOf(ctx.approval).scopes,
            fundingLimit: Number(p.fundingLimit),
            approvalId: ctx.approval.id,
            requestedBy: ctx.approval.requestedBy.id,
          },
        },
        ctx.meta,
        tx,
      );
    },
    onReject: (tx, ctx) => refusePartner(tx, ctx, "rejected"),
    onExpire: (tx, ctx) => refusePartner(tx, ctx, "expired"),
  });

  async function refusePartner(tx: Executor, ctx: DecisionContext, outcome: "rejected" | "expired") {
    const partnerId = ctx.approval.subjectId;
    await tx
      .update(partners)
      .set({ status: "rejected", updatedAt: ctx.now })
      .where(and(eq(partners.id, partnerId), eq(partners.status, "pending")));
    await revokePending(tx, ctx.approval.id, ctx.now);
    await deps.audit.record(
      {
        action: "partner.create.refused",
        actor: ctx.decidedBy,
        target: { type: "partner", id: partnerId },
        details: { outcome, approvalId: ctx.approval.id, reason: ctx.reason },
      },
      ctx.meta,
      tx,
    );
  }

  const partnerKeyKind = approvalKind({
    label: "Partner API key with deposits:create",
    permission: "partners:manage",
    async onApprove(tx, ctx) {
      const summary = summaryOf(ctx.approval);
      const [k] = await tx
        .update(partnerApiKeys)
        .set({ pendingApproval: null })
        .where(
          and(
            eq(partnerApiKeys.id, ctx.approval.subjectId),
            eq(partnerApiKeys.pendingApproval, ctx.approval.id),
            isNull(partnerApiKeys.revokedAt),
          ),
        )
        .returning();
      if (!k) throw new AppError("CONFLICT", "This key was revoked while it waited for approval.");
      let previousExpiresAt: string | null = null;
      if (summary.rotatedFrom) {
        // The overlap starts now: the old key has worked unchanged while the new one waited.
        const [old] = await tx.select().from(partnerApiKeys).where(eq(partnerApiKeys.id, summary.rotatedFrom));
        if (old && !old.revokedAt) {
          const expiresAt = expiryAfter(old.expiresAt, ctx.now, summary.overlapSeconds ?? auth.partnerKeyOverlap);
          await tx.update(partnerApiKeys).set({ expiresAt }).where(eq(partnerApiKeys.id, old.id));
          previousExpiresAt = expiresAt.toISOString();
        }
      }
      await deps.audit.record(
        {
          action: summary.rotatedFrom ? "partner.key.rotate" : "partner.key.create",
          actor: ctx.decidedBy,
          target: { type: "partner", id: k.partnerId },
          details: {
            keyId: k.id,
            scopes: k.scopes,
            approvalId: ctx.approval.id,
            requestedBy: ctx.approval.requestedBy.id,
            ...(summary.rotatedFrom ? { previousKeyId: summary.rotatedFrom, previousExpiresAt } : {}),
          },
        },
        ctx.meta,
        tx,
      );
    },
    onReject: (tx, ctx) => refuseKey(tx, ctx, "rejected"),
    onExpire: (tx, ctx) => refuseKey(tx, ctx, "expired"),
  });

  async function refuseKey(tx: Executor, ctx: DecisionContext, outcome: "rejected" | "expired") {
    await revokePending(tx, ctx.approval.id, ctx.now);
    await deps.audit.record(
      {
        action: "partner.key.refused",
        actor: ctx.decidedBy,
        target: { type: "partner", id: ctx.approval.owner?.id ?? null },
        details: { keyId: ctx.approval.subjectId, outcome, approvalId: ctx.approval.id, reason: ctx.reason },
      },
      ctx.meta,
      tx,
    );
  }

  /**
   * Authenticates an `X-API-Key` for one scope: SHA-256 lookup, constant-time compare, revocation and
   * expiry, the partner's status, the scope, the key's own rate limit; records when it was last used.
   */
  async function authenticate(input: {
    apiKey: string;
    scope?: string | undefined;
    meta: RequestMeta;
  }): Promise<{ partnerId: string; keyId: string; scopes: string[] }> {
    if (!KEY_FORMAT.test(input.apiKey)) throw invalidKey();
    const hash = sha256Hex(input.apiKey);
    const [row] = await queryRows<KeyRow & { partner_status: string }>(
      db,
      sql`select k.id, k.partner_id as "partnerId", k.key_hash as "keyHash", k.scopes, k.rate_per_minute as "ratePerMinute",
                 k.expires_at as "expiresAt", k.revoked_at as "revokedAt", k.last_used_at as "lastUsedAt",
                 k.pending_approval as "pendingApproval", p.status as partner_status
            from partner_api_keys k join partners p on p.id = k.partner_id
           where k.key_hash = ${hash}`,
    );
    if (!row || !constantTimeEqual(row.keyHash, hash)) {
      deps.logger.warn({ keyPrefix: input.apiKey.slice(0, 16), requestId: input.meta.requestId }, "unknown API key");
      throw invalidKey();
    }
    const now = deps.now();
    const scopes = typeof row.scopes === "string" ? (JSON.parse(row.scopes) as string[]) : row.scopes;
    const refuse = async (reason: string, error: AppError) => {
      await deps.audit.record(
        {
          action: "partner.key.rejected",
          actor: { type: "partner", id: row.partnerId },
          target: { type: "partner", id: row.partnerId },
          details: { keyId: row.id, reason, scope: input.scope },
        },
        input.meta,
      );
      return error;
    };
    if (row.revokedAt) throw await refuse("revoked", invalidKey());
    if (row.pendingApproval)
      throw await refuse(
        "pending_approval",
        new AppError("UNAUTHENTICATED", "This API key is not valid until a second admin approves it."),
      );
    if (row.expiresAt && new Date(row.expiresAt) <= now) throw await refuse("expired", invalidKey());
    if (row.partner_status !== "active") throw await refuse("partner_suspended", frozen("partner"));
    if (input.scope && !scopes.includes(input.scope))
      throw await refuse(
        "scope",
        new AppError("FORBIDDEN", `This API key does not have the ${input.scope} scope.`, { scope: input.scope }),
      );
    const decision = await deps.rateLimiter.take(
      [{ key: `partner-key:${row.id}`, limit: row.ratePerMinute, periodSeconds: 60 }],
      now,
    );
    if (!decision.ok) throw rateLimited(decision.retryAfterSeconds, "This API key's rate limit is spent; slow down.");
    const lastUsed = row.lastUsedAt ? new Date(row.lastUsedAt) : null;
    if (!lastUsed || now.getTime() - lastUsed.getTime() >= LAST_USED_GRANULARITY_MS) {
      await withTransaction(
        deps,
        async (tx) => {
          const updated = await tx
            .update(partnerApiKeys)
            .set({ lastUsedAt: now })
            .where(
              and(
                eq(partnerApiKeys.id, row.id),
                sql`(${partnerApiKeys.lastUsedAt} is null or ${partnerApiKeys.lastUsedAt} <= ${new Date(now.getTime() - LAST_USED_GRANULARITY_MS).toISOString()}::timestamptz)`,
              ),
            )
            .returning({ id: partnerApiKeys.id });
          // Key use is audited at most once an hour per key: a trail of who used what, not a copy of traffic.
          if (updated.length && (!lastUsed || now.getTime() - lastUsed.getTime() >= 3_600_000))
            await deps.audit.record(
              {
                action: "partner.key.used",
                actor: { type: "partner", id: row.partnerId },
                target: { type: "partner", id: row.partnerId },
                details: { keyId: row.id, scope: input.scope },
              },
              input.meta,
              tx,
            );
        },
        { isolation: "read committed", label: "partner.keyUsed" },
      );
    }
    return { partnerId: row.partnerId, keyId: row.id, scopes };
  }

  return {
    get,
    list,
    create,
    requestCreate,
    keys,
    createKey,
    rotateKey,
    revokeKey,
    authenticate,
    approvalKinds: { [PARTNER_APPROVAL]: partnerKind, [PARTNER_KEY_APPROVAL]: partnerKeyKind },
  };
}

export type PartnerService = ReturnType<typeof createPartners>;
