import { eq, sql } from "drizzle-orm";
import type { Config } from "../config";
import { type Database, type Executor, queryRows } from "../db/client";
import { sqlMessage, sqlState } from "../db/pg-errors";
import { retrySerializable } from "../db/serializable";
import { withTransaction } from "../db/transaction";
import { AppError, type StatesItself } from "../http/errors";
import type { Logger } from "../http/logger";
import { newId } from "../lib/ids";
import { ledgerAccounts, ledgerBalances } from "./schema";
import { verifyLedger } from "./verify";

/**
 * The double-entry core. Knows accounts and money, nothing of users or vendors.
 * Every write is one SQL statement calling a PL/pgSQL function (drizzle/0001_ledger_rules.sql):
 * one round trip, run as its own SERIALIZABLE transaction and retried on 40001/40P01 — or, when the
 * caller passes `tx`, run inside the caller's transaction, which the caller retries as a whole.
 */

export type AccountKind =
  | "user_wallet"
  | "vendor_wallet"
  | "fee_revenue"
  | "partner_settlement"
  | "airtime_clearing"
  | "withdrawal_clearing"
  | "card_fees"
  | "suspense";

export interface Account {
  id: string;
  kind: AccountKind;
  ownerType: string | null;
  ownerId: string | null;
  code: string;
  currency: string;
  guarded: boolean;
  shardCount: number;
}

export interface Leg {
  accountId: string;
  /** Signed cents: positive credits the account, negative debits it. */
  amount: bigint;
}

export interface Entry {
  id: bigint;
  accountId: string;
  shard: number;
  currency: string;
  amount: bigint;
  balanceAfter: bigint;
}

export interface Journal {
  id: string;
  kind: string;
  reversalOf: string | null;
  holdId: string | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
  entries: Entry[];
  /** True when this id had already been written and the stored journal is returned. */
  replayed: boolean;
}

export interface Hold {
  id: string;
  accountId: string;
  currency: string;
  amount: bigint;
  status: "pending" | "posted" | "voided" | "expired";
  postedAmount: bigint | null;
  journalId: string | null;
  expiresAt: Date | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
  replayed: boolean;
}

export interface Balance {
  balance: bigint;
  held: bigint;
  available: bigint;
}

export interface StatementLine {
  entryId: bigint;
  journalId: string;
  kind: string;
  amount: bigint;
  balanceAfter: bigint;
  metadata: Record<string, unknown>;
  createdAt: Date;
}

export type LedgerErrorCode = "INSUFFICIENT_FUNDS" | "NOT_FOUND" | "CONFLICT" | "INVALID" | "ID_REUSED";

/** The ledger's own failures, and how each reads in the API's error model (src/http/to-app-error.ts asks). */
export class LedgerError extends Error implements StatesItself {
  override name = "LedgerError";
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }

  toAppError(): AppError {
    switch (this.code) {
      case "INSUFFICIENT_FUNDS":
        return new AppError("INSUFFICIENT_FUNDS", "The wallet does not have enough available funds.");
      case "NOT_FOUND":
        return new AppError("NOT_FOUND", this.message);
      case "INVALID":
        return new AppError(
          "VALIDATION_FAILED",
          this.message,
          this.field ? [{ path: this.field, message: this.message }] : undefined,
        );
      default:
        return new AppError("CONFLICT", this.message, this.field ? { field: this.field } : undefined);
    }
  }
}

export interface TransferInput {
  id: string;
  kind: string;
  legs: Leg[];
  metadata?: Record<string, unknown>;
  reversalOf?: string;
}

export interface HoldInput {
  id: string;
  accountId: string;
  amount: bigint;
  expiresAt?: Date;
  metadata?: Record<string, unknown>;
}

export interface PostHoldInput {
  holdId: string;
  /** Id of the journal the post creates (idempotent like a transfer id). */
  id: string;
  kind: string;
  /** How much of the hold to take; the rest is released. Defaults to all of it. */
  amount?: bigint;
  /** Where the posted amount goes (credits, summing to `amount`). */
  legs: Leg[];
  metadata?: Record<string, unknown>;
}

export interface OpenAccountInput {
  kind: AccountKind;
  currency: string;
  ownerType?: string;
  ownerId?: string;
  guarded: boolean;
  /** Balance rows to spread concurrent writers over; 1 for ordinary wallets. */
  shards?: number;
  code?: string;
}

interface LedgerDeps {
  database: Database;
  logger: Logger;
  config: Pick<Config, "serializableMaxRetries" | "hotAccountShards">;
}

/** System accounts take every fee, deposit and clearing: shard them so none serializes the platform. */
const SYSTEM_GUARDED: Record<string, boolean> = {
  fee_revenue: false,
  partner_settlement: false,
  airtime_clearing: false,
  withdrawal_clearing: false,
  card_fees: false,
  suspense: false,
};

const toJson = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v));

function canonicalLegs(legs: Leg[]): { account: string; amount: string }[] {
  const byAccount = new Map<string, bigint>();
  for (const leg of legs) byAccount.set(leg.accountId, (byAccount.get(leg.accountId) ?? 0n) + leg.amount);
  return [...byAccount.entries()]
    .filter(([, amount]) => amount !== 0n)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([account, amount]) => ({ account, amount: amount.toString() }));
}

/**
 * The account's balance right after entry `e` (of account `a`), in SQL: the entry's own running balance on a
 * one-shard account; on a sharded one, the sum of each shard's last running balance up to that entry. The one
 * definition, for statements and for any read model that shows a balance after a movement.
 */
export const balanceAfterEntry = sql`(case when a.shard_count = 1 then e.balance_after
  else (select sum(x.b) from (select distinct on (shard) balance_after as b from ledger_entries
         where account_id = e.account_id and id <= e.id order by shard, id desc) x) end)`;

function translate(error: unknown): never {
  const state = sqlState(error);
  const message = sqlMessage(error);
  if (state === "KL001" || state === "23514") throw new LedgerError("INSUFFICIENT_FUNDS", message);
  if (state === "KL002") throw new LedgerError("NOT_FOUND", message);
  if (state === "KL003") throw new LedgerError("CONFLICT", message);
  if (state === "KL004") throw new LedgerError("INVALID", message);
  throw error;
}

function parseJournal(raw: any): Journal {
  const j = raw.journal;
  return {
    id: j.id,
    kind: j.kind,
    reversalOf: j.reversalOf ?? null,
    holdId: j.holdId ?? null,
    metadata: j.metadata ?? {},
    createdAt: new Date(j.createdAt),
    replayed: Boolean(raw.replayed),
    entries: (raw.entries as any[]).map((e) => ({
      id: BigInt(e.id),
      accountId: e.accountId,
      shard: Number(e.shard),
      currency: e.currency,
      amount: BigInt(e.amount),
      balanceAfter: BigInt(e.balanceAfter),
    })),
  };
}

function parseHold(raw: any): Hold {
  return {
    id: raw.id,
    accountId: raw.account_id,
    currency: raw.currency,
    amount: BigInt(raw.amount),
    status: raw.status,
    postedAmount: raw.posted_amount == null ? null : BigInt(raw.posted_amount),
    journalId: raw.journal_id ?? null,
    expiresAt: raw.expires_at ? new Date(raw.expires_at) : null,
    metadata: raw.metadata ?? {},
    createdAt: new Date(raw.created_at),
    replayed: Boolean(raw.replayed),
  };
}

export function createLedger({ database, logger, config }: LedgerDeps) {
  const { db } = database;
  const systemAccounts = new Map<string, Account>();

  /** One statement calling a ledger function; its own SERIALIZABLE transaction unless inside `tx`. */
  async function call(fn: string, args: unknown[], tx?: Executor): Promise<any> {
    const params = sql.join(
      args.map((a) => (typeof a === "string" || a === null ? sql`${a}` : sql`${toJson(a)}::jsonb`)),
      sql`, `,
    );
    const run = async (executor: Pick<Executor, "execute">) => {
      try {
        const rows = await queryRows<{ r: any }>(executor, sql`select ${sql.raw(fn)}(${params}) as r`);
        const r = rows[0]!.r;
        return typeof r === "string" ? JSON.parse(r) : r;
      } catch (error) {
        return translate(error);
      }
    };
    if (tx) return run(tx);
    return retrySerializable(() => run(db), { maxRetries: config.serializableMaxRetries, logger, label: fn });
  }

  async function openAccount(input: OpenAccountInput, tx?: Executor): Promise<Account> {
    const code = input.code ?? `${input.kind}:${input.ownerId ?? "system"}:${input.currency}`;
    const shards = input.shards ?? 1;
    const create = async (t: Executor) => {
      const id = newId("acc");
      const inserted = await t
        .insert(ledgerAccounts)
        .values({
          id,
          kind: input.kind,
          ownerType: input.ownerType ?? null,
          ownerId: input.ownerId ?? null,
          code,
          currency: input.currency,
          guarded: input.guarded,
          shardCount: shards,
        })
        .onConflictDoNothing({ target: ledgerAccounts.code })
        .returning();
      if (inserted.length) {
        await t.insert(ledgerBalances).values(
          Array.from({ length: shards }, (_, shard) => ({
            accountId: id,
            shard,
            currency: input.currency,
            guarded: input.guarded,
          })),
        );
        return toAccount(inserted[0]!);
      }
      const [existing] = await t.select().from(ledgerAccounts).where(eq(ledgerAccounts.code, code));
      return toAccount(existing!);
    };
    return withTransaction({ database, config, logger }, create, { tx, label: "openAccount" });
  }

  /** The one account of a system kind per currency (and per owner: partner, operator). Cached: ids never change. */
  async function systemAccount(kind: AccountKind, currency: string, ownerId?: string): Promise<Account> {
    const code = `${kind}:${ownerId ?? "system"}:${currency}`;
    const cached = systemAccounts.get(code);
    if (cached) return cached;
    const account = await openAccount({
      kind,
      currency,
      ownerType: ownerId ? "owner" : "system",
      ownerId,
      guarded: SYSTEM_GUARDED[kind] ?? false,
      shards: config.hotAccountShards,
      code,
    });
    systemAccounts.set(code, account);
    return account;
  }

  /** An owner's account of a kind, e.g. a user's SZL wallet (code `user_wallet:usr_…:SZL`). */
  async function findAccount(kind: AccountKind, ownerId: string, currency: string): Promise<Account | undefined> {
    const [row] = await db
      .select()
      .from(ledgerAccounts)
      .where(eq(ledgerAccounts.code, `${kind}:${ownerId}:${currency}`));
    return row ? toAccount(row) : undefined;
  }

  async function getAccount(id: string): Promise<Account | undefined> {
    const [row] = await db.select().from(ledgerAccounts).where(eq(ledgerAccounts.id, id));
    return row ? toAccount(row) : undefined;
  }

  async function transfer(input: TransferInput, tx?: Executor): Promise<Journal> {
    const legs = canonicalLegs(input.legs);
    if (legs.length < 2)
      throw new LedgerError("INVALID", "a transfer needs at least two accounts with non-zero amounts");
    const request = { kind: input.kind, legs, reversalOf: input.reversalOf ?? null };
    const raw = await call(
      "ledger_transfer",
      [{ id: input.id, kind: input.kind, request, metadata: input.metadata ?? {}, reversalOf: input.reversalOf, legs }],
      tx,
    ).catch((error) => {
      if (input.reversalOf && sqlState(error) === "23505")
        throw new LedgerError("CONFLICT", `journal ${input.reversalOf} has already been reversed`);
      throw error;
    });
    const journal = parseJournal(raw);
    if (journal.replayed) assertSameRequest(input.id, (raw.journal as any).request, request);
    return journal;
  }

  async function hold(input: HoldInput, tx?: Executor): Promise<Hold> {
    if (input.amount <= 0n) throw new LedgerError("INVALID", "hold amount must be positive", "amount");
    const raw = await call(
      "ledger_hold",
      [
        {
          id: input.id,
          account: input.accountId,
          amount: input.amount,
          expiresAt: input.expiresAt?.toISOString(),
          metadata: input.metadata ?? {},
        },
      ],
      tx,
    );
    const result = parseHold(raw);
    if (result.replayed) {
      if (result.accountId !== input.accountId) throw idReused(input.id, "accountId");
      if (result.amount !== input.amount) throw idReused(input.id, "amount");
    }
    return result;
  }

  async function postHold(input: PostHoldInput, tx?: Executor): Promise<Journal> {
    const legs = canonicalLegs(input.legs);
    const amount = input.amount ?? legs.reduce((sum, l) => sum + BigInt(l.amount), 0n);
    const request = { kind: input.kind, holdId: input.holdId, amount: amount.toString(), legs };
    const raw = await call(
      "ledger_post_hold",
      [{ holdId: input.holdId, id: input.id, kind: input.kind, amount, legs, request, metadata: input.metadata ?? {} }],
      tx,
    );
    const journal = parseJournal(raw);
    if (journal.replayed) assertSameRequest(input.id, (raw.journal as any).request, request);
    return journal;
  }

  async function voidHold(holdId: string, tx?: Executor): Promise<Hold> {
    return parseHold(await call("ledger_void_hold", [holdId, "voided"], tx));
  }

  async function expireHold(holdId: string, tx?: Executor): Promise<Hold> {
    return parseHold(await call("ledger_void_hold", [holdId, "expired"], tx));
  }

  /** Expires every pending hold whose time has passed; each in its own transaction, so one failure stops nothing. */
  async function expireDueHolds(now: Date): Promise<{ expired: string[] }> {
    const due = await queryRows<{ id: string }>(
      db,
      sql`select id from ledger_holds where status = 'pending' and expires_at <= ${now.toISOString()}::timestamptz order by expires_at limit 1000`,
    );
    const expired: string[] = [];
    for (const { id } of due) {
      try {
        const result = await expireHold(id);
        if (!result.replayed) expired.push(id);
      } catch (error) {
        if (!(error instanceof LedgerError && error.code === "CONFLICT")) throw error;
      }
    }
    return { expired };
  }

  async function getHold(id: string): Promise<Hold | undefined> {
    const rows = await queryRows<any>(db, sql`select to_jsonb(h) as h from ledger_holds h where id = ${id}`);
    return rows[0] ? parseHold(rows[0].h) : undefined;
  }

  /** A new journal undoing `journalId` exactly; a journal can be reversed once (`reversal_of` is unique). */
  async function reverse(
    input: { journalId: string; id: string; metadata?: Record<string, unknown> },
    tx?: Executor,
  ): Promise<Journal> {
    const original = await getJournal(input.journalId, tx);
    if (!original) throw new LedgerError("NOT_FOUND", `journal ${input.journalId} not found`);
    const legs = original.entries.map((e) => ({ accountId: e.accountId, amount: -e.amount }));
    return transfer({ id: input.id, kind: "reversal", legs, reversalOf: original.id, metadata: input.metadata }, tx);
  }

  async function getJournal(id: string, tx?: Executor): Promise<Journal | undefined> {
    const rows = await queryRows<{ r: any }>(tx ?? db, sql`select ledger_journal_json(${id}, false) as r`);
    const r = rows[0]?.r;
    return r ? parseJournal(typeof r === "string" ? JSON.parse(r) : r) : undefined;
  }

  /** Current balance, or the balance as it stood at `at` (from each shard's last entry up to then). */
  async function balance(accountId: string, at?: Date): Promise<Balance> {
    if (at) {
      const rows = await queryRows<{ balance: string | null }>(
        db,
        sql`select coalesce(sum(b), 0)::text as balance from (
              select distinct on (shard) balance_after as b from ledger_entries
               where account_id = ${accountId} and created_at <= ${at.toISOString()}::timestamptz
               order by shard, id desc) s`,
      );
      const value = BigInt(rows[0]?.balance ?? "0");
      return { balance: value, held: 0n, available: value };
    }
    const rows = await queryRows<{ balance: string | null; held: string | null }>(
      db,
      sql`select coalesce(sum(balance), 0)::text as balance, coalesce(sum(held), 0)::text as held
            from ledger_balances where account_id = ${accountId}`,
    );
    const value = BigInt(rows[0]?.balance ?? "0");
    const held = BigInt(rows[0]?.held ?? "0");
    return { balance: value, held, available: value - held };
  }

  /** Newest first; `cursor` is the last entry id of the previous page. */
  async function statement(
    accountId: string,
    options: { limit: number; cursor?: string },
  ): Promise<{ data: StatementLine[]; nextCursor: string | null }> {
    const before = options.cursor && /^\d+$/.test(options.cursor) ? options.cursor : null;
    const rows = await queryRows<any>(
      db,
      sql`select e.id::text as entry_id, e.journal_id, j.kind, e.amount::text as amount, j.metadata, e.created_at,
                 ${balanceAfterEntry}::text as balance_after
            from ledger_entries e
            join ledger_journals j on j.id = e.journal_id
            join ledger_accounts a on a.id = e.account_id
           where e.account_id = ${accountId} ${before ? sql`and e.id < ${before}::bigint` : sql``}
           order by e.id desc limit ${options.limit + 1}`,
    );
    const page = rows.slice(0, options.limit).map(
      (r): StatementLine => ({
        entryId: BigInt(r.entry_id),
        journalId: r.journal_id,
        kind: r.kind,
        amount: BigInt(r.amount),
        balanceAfter: BigInt(r.balance_after),
        metadata: typeof r.metadata === "string" ? JSON.parse(r.metadata) : r.metadata,
        createdAt: new Date(r.created_at),
      }),
    );
    const nextCursor = rows.length > options.limit ? page[page.length - 1]!.entryId.toString() : null;
    return { data: page, nextCursor };
  }

  return {
    openAccount,
    systemAccount,
    getAccount,
    findAccount,
    transfer,
    hold,
    postHold,
    voidHold,
    expireHold,
    expireDueHolds,
    getHold,
    reverse,
    getJournal,
    balance,
    statement,
    verify: () => verifyLedger(db),
  };
}

export type Ledger = ReturnType<typeof createLedger>;

function idReused(id: string, field: string) {
  return new LedgerError("ID_REUSED", `id ${id} was already used with a different ${field}`, field);
}

function assertSameRequest(id: string, stored: any, request: Record<string, unknown>) {
  for (const [field, value] of Object.entries(request)) {
    // jsonb reorders object keys, so compare structurally rather than as text.
    if (!Bun.deepEquals(stored?.[field] ?? null, value ?? null)) throw idReused(id, field);
  }
}

function toAccount(row: typeof ledgerAccounts.$inferSelect): Account {
  return {
    id: row.id,
    kind: row.kind as AccountKind,
    ownerType: row.ownerType,
    ownerId: row.ownerId,
    code: row.code,
    currency: row.currency,
    guarded: row.guarded,
    shardCount: row.shardCount,
  };
}
