import { createRoute, z } from "@hono/zod-openapi";
import { approvalSchema } from "../approvals";
import type { Audit } from "../audit";
import { requestMeta } from "../http/auth";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth } from "../identity";
import { instantField } from "../lib/input";
import type { PaymentsAdmin } from "./admin";
import { transactionSchema } from "./dto";

const party = z.object({ type: z.string(), id: z.string(), name: z.string().nullable(), accountId: z.string() });

const adminTransactionSchema = z
  .object({
    id: z.string().openapi({ example: "txn_…" }),
    type: transactionSchema.shape.type,
    status: transactionSchema.shape.status,
    amount: z.number().int(),
    currency: z.string(),
    fee: z.number().int(),
    feeBearer: z.enum(["sender", "receiver"]),
    payer: party,
    payee: party,
    partnerId: z.string().nullable(),
    reference: z.string().nullable(),
    externalReference: z.string().nullable(),
    reversalOf: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("AdminTransaction");

const transactionDetailSchema = adminTransactionSchema
  .extend({
    ledger: z
      .object({
        journalId: z.string(),
        kind: z.string(),
        reversalOf: z.string().nullable(),
        createdAt: z.string(),
        entries: z.array(
          z.object({
            id: z.string(),
            accountId: z.string(),
            accountCode: z.string().nullable(),
            accountKind: z.string().nullable(),
            shard: z.number().int(),
            currency: z.string(),
            amount: z.number().int().openapi({ description: "Signed cents: positive credits the account" }),
            balanceAfter: z
              .number()
              .int()
              .nullable()
              .openapi({ description: "The account's balance after it (null for sharded system accounts)" }),
          }),
        ),
      })
      .nullable(),
    reversedBy: z.string().nullable().openapi({ description: "The reversal transaction, once reversed" }),
    reversalRequest: z
      .object({ approvalId: z.string(), status: z.string(), requestedBy: z.string() })
      .nullable()
      .openapi({ description: "The latest reversal approval request about it" }),
  })
  .openapi("AdminTransactionDetail");

const trialBalanceSchema = z
  .object({
    asOf: z.string(),
    balanced: z.boolean().openapi({ description: "Every currency nets to zero" }),
    currencies: z.array(
      z.object({
        currency: z.string(),
        balanced: z.boolean(),
        net: z.number().int().openapi({ description: "Sum of every balance: 0 when the books balance" }),
        debitTotal: z.number().int(),
        creditTotal: z.number().int(),
        kinds: z.array(
          z.object({
            kind: z.string(),
            accountCount: z.number().int(),
            balance: z.number().int(),
            accounts: z
              .array(
                z.object({
                  id: z.string(),
                  code: z.string(),
                  ownerType: z.string().nullable(),
                  ownerId: z.string().nullable(),
                  balance: z.number().int(),
                }),
              )
              .nullable()
              .openapi({
                description: "Each account; null for a kind of more than 500 (see /admin/v1/ledger/accounts)",
              }),
          }),
        ),
      }),
    ),
  })
  .openapi("TrialBalance");

const ledgerAccountSchema = z
  .object({
    id: z.string(),
    code: z.string(),
    kind: z.string(),
    ownerType: z.string().nullable(),
    ownerId: z.string().nullable(),
    currency: z.string(),
    shardCount: z.number().int(),
    balance: z.number().int(),
    held: z.number().int(),
    available: z.number().int(),
    createdAt: z.string(),
  })
  .openapi("LedgerAccount");

const volumeSchema = z
  .object({
    from: z.string().openapi({ description: "The first local day's first instant" }),
    to: z.string().openapi({ description: "The instant after today's last" }),
    days: z.array(
      z.object({
        date: z.string().openapi({ format: "date", description: "Local day (Africa/Mbabane)" }),
        type: z.string().openapi({ example: "payment" }),
        currency: z.string(),
        count: z.number().int(),
        amount: z.number().int().openapi({ description: "cents" }),
        fees: z.number().int().openapi({ description: "cents" }),
      }),
    ),
    activeUsers: z.object({ today: z.number().int(), range: z.number().int() }),
  })
  .openapi("TransactionVolume");

const searchQuery = paginationQuery.extend({
  userId: z.string().max(64).optional(),
  vendorId: z.string().max(64).optional(),
  partnerId: z.string().max(64).optional(),
  type: transactionSchema.shape.type.optional(),
  status: transactionSchema.shape.status.optional(),
  from: instantField.optional().openapi({ description: "Created at or after (ISO 8601; years 1900–9999)" }),
  to: instantField.optional().openapi({ description: "Created before (ISO 8601; years 1900–9999)" }),
});

const idParam = z.object({ id: z.string().min(1).max(64) });
const bearer = [{ bearer: [] }];
const tags = ["admin: money"];

/** /admin/v1/transactions and /admin/v1/ledger: search, detail, reversal requests, trial balance. */
export function paymentAdminRoutes(deps: { audit: Audit; paymentsAdmin: PaymentsAdmin }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/transactions",
      tags,
      summary: "Search transactions by user, vendor, partner, type, status and date range; newest first",
      security: bearer,
      middleware: [adminAuth("transactions:read")] as const,
      request: { query: searchQuery },
      responses: {
        200: jsonContent(listOf(adminTransactionSchema), "A page"),
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const page = await deps.paymentsAdmin.search(query);
      const { cursor: _cursor, limit: _limit, ...filter } = query;
      await deps.audit.record({ action: "transaction.search", details: filter }, requestMeta(c));
      return c.json(page, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/transactions/{id}",
      tags,
      summary: "One transaction with its ledger entries and reversal state",
      security: bearer,
      middleware: [adminAuth("transactions:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(transactionDetailSchema, "The transaction"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const detail = await deps.paymentsAdmin.detail(id);
      await deps.audit.record({ action: "transaction.view", target: { type: "transaction", id } }, requestMeta(c));
      return c.json(detail, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/transactions/{id}/reversal",
      tags,
      summary: "Ask for a reversal (maker): a different admin approves it at /admin/v1/approvals/{id}/approve",
      description:
        "Payments, transfers and deposits that are completed. Approval runs the reversal at once: a new ledger journal undoing the original exactly (fee included), the original becomes `reversed`, a `reversal` transaction is recorded, both parties are notified, and a reversed deposit is sent to the partner's webhook as `deposit.reversed`. If the receiving wallet no longer holds the money, approval fails with 422 INSUFFICIENT_FUNDS and nothing changes.",
      security: bearer,
      middleware: [adminAuth("transactions:reverse")] as const,
      request: {
        params: idParam,
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({ reason: z.string().trim().min(3).max(500) }).openapi("ReversalRequest"),
            },
          },
        },
      },
      responses: {
        202: jsonContent(approvalSchema, "Waiting for a second admin"),
        ...errorResponses(400, 401, 403, 404, 409, 415),
      },
    }),
    async (c) => {
      const approval = await deps.paymentsAdmin.requestReversal({
        ctx: requestMeta(c),
        input: {
          transactionId: c.req.valid("param").id,
          reason: c.req.valid("json").reason,
          adminId: c.get("principal")!.id,
        },
      });
      return c.json(approval, 202);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/overview/volume",
      tags,
      summary: "Completed transactions' count, amount and fees per local day and type, and active users (the overview)",
      description:
        "The last `days` local days (Africa/Mbabane), today included and so partial. Active users: distinct users " +
        "who paid or were paid in a completed transaction today, and over the whole range.",
      security: bearer,
      middleware: [adminAuth("transactions:read")] as const,
      request: { query: z.object({ days: z.coerce.number().int().min(1).max(90).default(30) }) },
      responses: { 200: jsonContent(volumeSchema, "The volume"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.paymentsAdmin.volume(c.req.valid("query").days), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/ledger/trial-balance",
      tags,
      summary: "Every ledger account's balance grouped by currency and kind; each currency nets to zero",
      security: bearer,
      middleware: [adminAuth("ledger:read")] as const,
      responses: { 200: jsonContent(trialBalanceSchema, "The trial balance"), ...errorResponses(401, 403) },
    }),
    async (c) => c.json(await deps.paymentsAdmin.trialBalance(), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/ledger/accounts",
      tags,
      summary: "Ledger accounts with balances, newest first (filter by kind or owner)",
      security: bearer,
      middleware: [adminAuth("ledger:read")] as const,
      request: {
        query: paginationQuery.extend({ kind: z.string().max(32).optional(), ownerId: z.string().max(64).optional() }),
      },
      responses: { 200: jsonContent(listOf(ledgerAccountSchema), "A page"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.paymentsAdmin.accounts(c.req.valid("query")), 200),
  );

  return router;
}
