import { randomBytes } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit/service";
import type { Executor } from "../db/client";
import { queryRows } from "../db/client";
import { AppError } from "../http/errors";
import { rateLimited } from "../http/rate-limit";
import { constantTimeEqual, sha256Hex } from "../lib/crypto";
import { newId } from "../lib/ids";
import { DEFAULT_PARTNER_SCOPES, PARTNER_SCOPES } from "./permissions";
import { partnerApiKeys, partners } from "./schema";
import { frozen } from "./tokens";
import { deferred, type IdentityDeps, transact } from "./tx";

export interface Partner {
  id: string;
  name: string;
  status: "active" | "suspended";
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
});

const KEY_FORMAT = /^kl_(live|test)_[A-Za-z0-9_-]{40}$/;
/** How stale last_used_at may get: recording every request would turn each one into a write. */
const LAST_USED_GRANULARITY_MS = 60_000;

const invalidKey = () => new AppError("UNAUTHENTICATED", "The API key is not valid.");

/**
 * Partners (banks, mobile-money operators) and their API keys. A key is shown once — a recognisable
 * prefix (`kl_live_` / `kl_test_`) and 240 random bits — and stored only as its SHA-256. Keys are
 * scoped, rate-limited each on its own, revocable, and rotatable with an overlap window during which
 * old and new both work.
 */
export function createPartners(deps: IdentityDeps) {
  const { db } = deps.database;
  const auth = deps.config.auth;

  async function get(id: string): Promise<Partner | undefined> {
    const [r] = await db.select().from(partners).where(eq(partners.id, id));
    return r ? { id: r.id, name: r.name, status: r.status as Partner["status"] } : undefined;
  }

  function checkScopes(scopes: string[]) {
    const unknown = scopes.filter((s) => !(PARTNER_SCOPES as readonly string[]).includes(s));
    if (unknown.length)
      throw new AppError("VALIDATION_FAILED", `Unknown scopes: ${unknown.join(", ")}.`, [
        { path: "scopes", message: `allowed: ${PARTNER_SCOPES.join(", ")}` },
      ]);
  }

  async function insertKey(
    tx: Executor,
    input: { partnerId: string; scopes: string[]; ratePerMinute?: number | undefined; rotatedFrom?: string },
    ctx: RequestMeta,
  ): Promise<{ apiKey: string; key: PartnerKey }> {
    const apiKey = `kl_${deps.config.env === "production" ? "live" : "test"}_${randomBytes(30).toString("base64url")}`;
    const [k] = await tx
      .insert(partnerApiKeys)
      .values({
        id: newId("key"),
        partnerId: input.partnerId,
        prefix: apiKey.slice(0, 16),
        keyHash: sha256Hex(apiKey),
        scopes: [...new Set(input.scopes)],
        ratePerMinute: input.ratePerMinute ?? auth.partnerKeyRatePerMinute,
        rotatedFrom: input.rotatedFrom ?? null,
        createdBy: ctx.actor?.id ?? null,
        createdAt: deps.now(),
      })
      .returning();
    return { apiKey, key: toKey(k!) };
  }

  /** A partner, its sharded settlement account and a first key, in one transaction. */
  async function create({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { name: string; scopes?: string[] | undefined; ratePerMinute?: number | undefined };
  }): Promise<Partner & { apiKey: string; key: PartnerKey }> {
    const scopes = input.scopes ?? DEFAULT_PARTNER_SCOPES;
    checkScopes(scopes);
    return transact(
      deps,
      async (tx) => {
        const id = newId("prt");
        const now = deps.now();
        await tx.insert(partners).values({
          id,
          name: input.name.trim(),
          createdBy: ctx.actor?.id ?? null,
          createdAt: now,
          updatedAt: now,
        });
        await deps.ledger.openAccount(
          {
            kind: "partner_settlement",
            ownerType: "partner",
            ownerId: id,
            currency: "SZL",
            guarded: false,
            shards: deps.config.hotAccountShards,
            code: `partner_settlement:${id}:SZL`,
          },
          tx,
        );
        const issued = await insertKey(tx, { partnerId: id, scopes, ratePerMinute: input.ratePerMinute }, ctx);
        await deps.audit.record(
          {
            action: "partner.create",
            target: { type: "partner", id },
            details: { name: input.name, keyId: issued.key.id, scopes },
          },
          ctx,
          tx,
        );
        return { id, name: input.name.trim(), status: "active" as const, ...issued };
      },
      undefined,
      "partners.create",
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

  async function createKey({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; scopes: string[]; ratePerMinute?: number | undefined };
  }) {
    checkScopes(input.scopes);
    return transact(
      deps,
      async (tx) => {
        const [p] = await tx.select().from(partners).where(eq(partners.id, input.partnerId));
        if (!p) return deferred(new AppError("NOT_FOUND", "No such partner."));
        const issued = await insertKey(tx, input, ctx);
        await deps.audit.record(
          {
            action: "partner.key.create",
            target: { type: "partner", id: input.partnerId },
            details: { keyId: issued.key.id, scopes: issued.key.scopes },
          },
          ctx,
          tx,
        );
        return issued;
      },
      undefined,
      "partners.createKey",
    );
  }

  /** A new key with the same scopes; the old one keeps working for the overlap window, then expires. */
  async function rotateKey({
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; keyId: string; overlapSeconds?: number | undefined };
  }) {
    return transact(
      deps,
      async (tx) => {
        const [old] = await tx
          .select()
          .from(partnerApiKeys)
          .where(and(eq(partnerApiKeys.id, input.keyId), eq(partnerApiKeys.partnerId, input.partnerId)));
        const now = deps.now();
        if (!old || old.revokedAt || (old.expiresAt && old.expiresAt <= now))
          return deferred(new AppError("NOT_FOUND", "No such active key."));
        const overlap = input.overlapSeconds ?? auth.partnerKeyOverlap;
        const expiresAt = new Date(now.getTime() + overlap * 1000);
        await tx
          .update(partnerApiKeys)
          .set({ expiresAt: old.expiresAt && old.expiresAt < expiresAt ? old.expiresAt : expiresAt })
          .where(eq(partnerApiKeys.id, old.id));
        const issued = await insertKey(
          tx,
          { partnerId: input.partnerId, scopes: old.scopes, ratePerMinute: old.ratePerMinute, rotatedFrom: old.id },
          ctx,
        );
        await deps.audit.record(
          {
            action: "partner.key.rotate",
            target: { type: "partner", id: input.partnerId },
            details: { keyId: issued.key.id, previousKeyId: old.id, previousExpiresAt: expiresAt.toISOString() },
          },
          ctx,
          tx,
        );
        return { ...issued, previous: { id: old.id, expiresAt: expiresAt.toISOString() } };
      },
      undefined,
      "partners.rotateKey",
    );
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
                 p.status as partner_status
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
      await db.transaction(
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
              tx as unknown as Executor,
            );
        },
        { isolationLevel: "read committed" },
      );
    }
    return { partnerId: row.partnerId, keyId: row.id, scopes };
  }

  return { get, create, keys, createKey, rotateKey, revokeKey, authenticate };
}

export type PartnerService = ReturnType<typeof createPartners>;
