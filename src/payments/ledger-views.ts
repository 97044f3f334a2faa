import { type SQL, sql } from "drizzle-orm";
import { type Executor, queryRows } from "../db/client";
import { type TransactionDeps, withTransaction } from "../db/transaction";
import { decodeCursor, encodeCursor } from "../http/pagination";

/** The ledger as admins read it, in raw SQL over ledger_accounts and ledger_balances: trial balance and accounts. */

/** Kinds with more accounts than this are totalled in the trial balance and listed by GET /admin/v1/ledger/accounts. */
const LISTED_ACCOUNTS_PER_KIND = 500;

export interface AccountFilter {
  kind?: string | undefined;
  ownerId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/**
 * Every account's balance grouped by currency and kind, from one snapshot. Per currency the balances
 * sum to zero — what double entry promises; `balanced` says whether they do. Positive: the account
 * holds money (credit); negative: a debit balance, e.g. a partner's settlement after its deposits.
 */
export function trialBalance(deps: TransactionDeps) {
  return withTransaction(
    deps,
    async (tx) => {
      const kinds = await queryRows<{ currency: string; kind: string; accounts: number; balance: string }>(
        tx,
        sql`select a.currency, a.kind, count(*)::int as accounts, coalesce(sum(s.balance), 0)::text as balance
              from ledger_accounts a
              join (select account_id, sum(balance) as balance from ledger_balances group by account_id) s
                on s.account_id = a.id
             group by a.currency, a.kind order by a.currency, a.kind`,
      );
      const listed = kinds.filter((k) => k.accounts <= LISTED_ACCOUNTS_PER_KIND).map((k) => k.kind);
      const accounts = listed.length
        ? await queryRows<{
            id: string;
            code: string;
            kind: string;
            owner_type: string | null;
            owner_id: string | null;
            currency: string;
            balance: string;
          }>(
            tx,
            sql`select a.id, a.code, a.kind, a.owner_type, a.owner_id, a.currency, sum(b.balance)::text as balance
                  from ledger_accounts a join ledger_balances b on b.account_id = a.id
                 where a.kind in (${sql.join(
                   listed.map((k) => sql`${k}`),
                   sql`, `,
                 )})
                 group by a.id order by a.kind, a.code`,
          )
        : [];
      const [asOf] = await queryRows<{ now: string }>(tx, sql`select now()::text as now`);
      const currencies = [...new Set(kinds.map((k) => k.currency))].map((currency) => {
        const rows = kinds.filter((k) => k.currency === currency);
        let debits = 0n;
        let credits = 0n;
        for (const a of accounts.filter((x) => x.currency === currency)) {
          const b = BigInt(a.balance);
          if (b < 0n) debits -= b;
          else credits += b;
        }
        // Kinds too large to list count by their total (wallets never go negative).
        for (const k of rows.filter((x) => !listed.includes(x.kind))) {
          const b = BigInt(k.balance);
          if (b < 0n) debits -= b;
          else credits += b;
        }
        const net = rows.reduce((sum, k) => sum + BigInt(k.balance), 0n);
        return {
          currency,
          balanced: net === 0n,
          net: Number(net),
          debitTotal: Number(debits),
          creditTotal: Number(credits),
          kinds: rows.map((k) => ({
            kind: k.kind,
            accountCount: k.accounts,
            balance: Number(k.balance),
            accounts: listed.includes(k.kind)
              ? accounts
                  .filter((a) => a.kind === k.kind && a.currency === currency)
                  .map((a) => ({
                    id: a.id,
                    code: a.code,
                    ownerType: a.owner_type,
                    ownerId: a.owner_id,
                    balance: Number(a.balance),
                  }))
              : null,
          })),
        };
      });
      return {
        asOf: new Date(asOf!.now).toISOString(),
        balanced: currencies.every((c) => c.balanced),
        currencies,
      };
    },
    // One consistent snapshot: totals taken mid-flight would not sum to zero.
    { label: "ledger.trial-balance", isolation: "repeatable read", readOnly: true },
  );
}

/** Every ledger account with its balance, newest first (the trial balance lists only the smaller kinds). */
export async function listAccounts(db: Executor, filter: AccountFilter) {
  const where: SQL[] = [];
  if (filter.kind) where.push(sql`a.kind = ${filter.kind}`);
  if (filter.ownerId) where.push(sql`a.owner_id = ${filter.ownerId}`);
  if (filter.cursor) {
    const c = decodeCursor(filter.cursor);
    where.push(sql`(a.created_at, a.id) < (${c.at.toISOString()}::timestamptz, ${c.id})`);
  }
  const rows = await queryRows<any>(
    db,
    sql`select a.id, a.code, a.kind, a.owner_type, a.owner_id, a.currency, a.shard_count, a.created_at,
               (select coalesce(sum(balance), 0)::text from ledger_balances b where b.account_id = a.id) as balance,
               (select coalesce(sum(held), 0)::text from ledger_balances b where b.account_id = a.id) as held
          from ledger_accounts a
         ${where.length ? sql`where ${sql.join(where, sql` and `)}` : sql``}
         order by a.created_at desc, a.id desc limit ${filter.limit + 1}`,
  );
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    data: page.map((a) => ({
      id: a.id as string,
      code: a.code as string,
      kind: a.kind as string,
      ownerType: a.owner_type as string | null,
      ownerId: a.owner_id as string | null,
      currency: a.currency as string,
      shardCount: Number(a.shard_count),
      balance: Number(a.balance),
      held: Number(a.held),
      available: Number(a.balance) - Number(a.held),
      createdAt: new Date(a.created_at).toISOString(),
    })),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}
