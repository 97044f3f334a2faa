import { z } from "@hono/zod-openapi";

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
