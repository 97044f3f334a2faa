import { z } from "@hono/zod-openapi";
import type { transactions } from "./schema";

/** A transaction as every endpoint returns it (API.md), from the viewer's side. */
export const transactionSchema = z
  .object({
    id: z.string().openapi({ example: "txn_5k2m…" }),
    type: z.enum(["payment", "transfer", "deposit", "withdrawal", "airtime", "reversal", "fee", "card"]),
    status: z.enum(["pending", "completed", "failed", "reversed"]),
    amount: z.number().int().openapi({ description: "cents", example: 1500 }),
    currency: z.string().openapi({ example: "SZL" }),
    fee: z.number().int(),
    feeBearer: z.enum(["sender", "receiver"]),
    direction: z.enum(["debit", "credit"]),
    counterparty: z.object({
      type: z.enum(["user", "vendor", "partner", "system"]),
      id: z.string(),
      name: z.string().nullable(),
    }),
    reference: z.string().nullable(),
    createdAt: z.string().openapi({ format: "date-time" }),
    balanceAfter: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The viewer's wallet balance right after; null for partners (no wallet)." }),
  })
  .openapi("Transaction");

export const walletSchema = z
  .object({ currency: z.string(), balance: z.number().int(), available: z.number().int(), pending: z.number().int() })
  .openapi("Wallet");

export type TransactionDto = z.infer<typeof transactionSchema>;
export type TransactionType = TransactionDto["type"];
export type TransactionStatus = TransactionDto["status"];

/**
 * The one builder of a TransactionDto: `row` as its viewer sees it — `outgoing` when the viewer paid (the
 * counterparty is then the payee), the viewer's balance right after it (null without a wallet), and the status
 * to show when it is not the row's own (a partner's webhook of a transaction being reversed).
 */
export function transactionDto(
  row: typeof transactions.$inferSelect,
  view: { outgoing: boolean; balanceAfter: number | null; status?: TransactionStatus },
): TransactionDto {
  const party = view.outgoing
    ? { type: row.payeeType, id: row.payeeId, name: row.payeeName }
    : { type: row.payerType, id: row.payerId, name: row.payerName };
  return {
    id: row.id,
    type: row.type as TransactionType,
    status: view.status ?? (row.status as TransactionStatus),
    amount: Number(row.amount),
    currency: row.currency,
    fee: Number(row.fee),
    feeBearer: row.feeBearer as TransactionDto["feeBearer"],
    direction: view.outgoing ? "debit" : "credit",
    counterparty: party as TransactionDto["counterparty"],
    reference: row.reference,
    createdAt: row.createdAt.toISOString(),
    balanceAfter: view.balanceAfter,
  };
}
