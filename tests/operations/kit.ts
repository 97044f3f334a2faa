import { expect } from "bun:test";
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { type Db, queryRows } from "../../src/db/client";
import { createVendor } from "../support/factories";
import type { TestContext } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/** What the backup tests share: real money movement to back up, and what a restore is compared on. */

export const adminUrl = process.env.DATABASE_URL;

/** Users funded by a partner's deposits, a payment to a vendor, a transfer and a withdrawal: every kind of row. */
export async function seedMoney(t: TestContext) {
  const kit = await moneyKit(t);
  const alice = await kit.fundedUser(250_000);
  const bob = await kit.fundedUser(40_000);
  const vendor = await createVendor(t);
  const paid = await t.request("POST", "/v1/payments", {
    token: alice.accessToken,
    headers: { "idempotency-key": key() },
    body: { vendorCode: vendor.code, amount: 12_345, currency: "SZL", pin: PIN },
  });
  expect(paid.status).toBe(201);
  const sent = await t.request("POST", "/v1/transfers", {
    token: alice.accessToken,
    headers: { "idempotency-key": key() },
    body: { toPhone: bob.phone, amount: 5_000, currency: "SZL", pin: PIN },
  });
  expect(sent.status).toBe(201);
  const withdrawn = await t.request("POST", "/v1/withdrawals", {
    token: bob.accessToken,
    headers: { "idempotency-key": key() },
    body: { amount: 700, currency: "SZL", pin: PIN, destination: { type: "agent", agentCode: "AG1" } },
  });
  expect([201, 202]).toContain(withdrawn.status);
  await kit.expectVerified();
  return { alice, bob, vendor };
}

/** Every account's balance and held amount (summed over its shards), by account id. */
export async function balances(db: Pick<Db, "execute">): Promise<Record<string, string>> {
  const rows = await queryRows<{ id: string; kind: string; balance: string; held: string }>(
    db,
    sql`select a.id, a.kind, sum(b.balance)::text as balance, sum(b.held)::text as held
        from ledger_accounts a join ledger_balances b on b.account_id = a.id group by a.id, a.kind order by a.id`,
  );
  return Object.fromEntries(rows.map((r) => [r.id, `${r.kind} ${r.balance} held ${r.held}`]));
}

/** Exact row counts of every table in public and drizzle, counted here (not by the code under test). */
export async function rowCounts(db: Pick<Db, "execute">): Promise<Record<string, number>> {
  const tables = await queryRows<{ name: string }>(
    db,
    sql`select schemaname || '.' || tablename as name from pg_tables
        where schemaname in ('public', 'drizzle') order by 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of tables) {
    const [schema, table] = name.split(".") as [string, string];
    const [row] = await queryRows<{ n: string | number }>(
      db,
      sql`select count(*) as n from ${sql.identifier(schema)}.${sql.identifier(table)}`,
    );
    counts[name] = Number(row!.n);
  }
  return counts;
}

/** A new, really empty database on the local Postgres (not from the migrated template), dropped by `drop`. */
export async function emptyPostgres() {
  const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} });
  const name = `keshless_restore_${randomBytes(5).toString("hex")}`;
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** `bun run cli …` as an operator runs it, in a child process with `env`; its one JSON object and exit code. */
export async function cli(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn(["bun", "src/cli.ts", ...args], {
    cwd: `${import.meta.dir}/../..`,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  let json: any;
  try {
    json = JSON.parse(out.trim().split("\n").pop() ?? "");
  } catch {
    throw new Error(`cli ${args.join(" ")} printed no JSON (exit ${code}): ${out}\n${err}`);
  }
  return { code, json, stderr: err };
}
