import type { Config } from "../config";
import { callJson, type Database } from "../db/client";
import { createGroupCommit } from "../db/group-commit";

/** What payments_execute_batch (drizzle/0021) answers for each item: its own answer, or the error it raised alone. */
type ItemAnswer = { ok: unknown } | { error: { code: string; message: string; constraint: string | null } };

/** A payments_execute payload (commit.ts statementOf), as far as batching reads it. */
interface Statement {
  transaction: { payer_id: string };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The group commit of a payments service: concurrent fast-lane statements written together (commit.ts
 * commitAlone). Items are written in payer order, so two batches that share payers take their rows' locks in the
 * same order instead of deadlocking; answers go back in the order submitted.
 */
export function createPaymentsGroupCommit(
  database: Database,
  config: Pick<Config, "serializableMaxRetries" | "groupCommit">,
) {
  return createGroupCommit<Statement, ItemAnswer>({
    ...config.groupCommit,
    maxRetries: config.serializableMaxRetries,
    label: "payments_execute_batch",
    write: async (items) => {
      const order = items.map((_, i) => i);
      order.sort((a, b) => compare(items[a]!.transaction.payer_id, items[b]!.transaction.payer_id) || a - b);
      const answers = await callJson<ItemAnswer[]>(
        database,
        "payments_execute_batch",
        order.map((i) => items[i]),
      );
      const inOrder: ItemAnswer[] = new Array(items.length);
      order.forEach((item, position) => {
        inOrder[item] = answers[position]!;
      });
      return inOrder;
    },
  });
}
