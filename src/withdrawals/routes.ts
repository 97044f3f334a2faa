import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../http/auth";
import { amountField, currencyField, pinField } from "../http/fields";
import { idempotent } from "../http/idempotency";
import { createRouter, errorResponses, jsonContent } from "../http/router";
import type { Identity } from "../identity";
import { userAuth, vendorAuth } from "../identity";
import { transactionSchema } from "../payments";
import type { Withdrawals } from "./service";

const destinationSchema = z
  .discriminatedUnion("type", [
    z.object({
      type: z.literal("bank"),
      bankCode: z.string().min(2).max(16).openapi({ example: "FNB", description: "See KESHLESS_WITHDRAWAL_BANKS" }),
      accountNumber: z.string().min(6).max(32).openapi({ example: "62001234567" }),
      accountName: z.string().min(2).max(100),
    }),
    z.object({
      type: z.literal("agent"),
      agentCode: z.string().min(3).max(12).openapi({ example: "AG1042", description: "Cash-out agent" }),
    }),
  ])
  .openapi("WithdrawalDestination");

const userBody = z.object({
  amount: amountField,
  currency: currencyField,
  pin: pinField,
  destination: destinationSchema,
});
const vendorBody = z.object({
  amount: amountField,
  currency: currencyField,
  password: z.string().min(1).max(256).openapi({ description: "The vendor's account password (vendors have no PIN)" }),
  destination: destinationSchema,
});

const withdrawalSchema = z
  .object({
    id: z.string().openapi({ example: "txn_…" }),
    status: z.enum(["pending", "completed", "rejected", "expired"]),
    amount: z.number().int(),
    fee: z.number().int(),
    currency: z.string(),
    destination: destinationSchema,
    reason: z.string().nullable().openapi({ description: "Why it was declined or cancelled" }),
    approvalId: z.string().nullable(),
    createdAt: z.string(),
    resolvedAt: z.string().nullable(),
    transaction: transactionSchema,
  })
  .openapi("Withdrawal");

const idempotencyHeader = z.object({
  "idempotency-key": z.string().min(1).max(255).openapi({ description: "Required on every money-moving POST." }),
});
const moneyErrors = errorResponses(400, 401, 403, 404, 409, 415, 422, 429, 503);
const security = [{ bearer: [] }];
const responses = {
  201: jsonContent(transactionSchema, "Completed at once (at most KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX)"),
  202: jsonContent(transactionSchema, "Held, pending a finance admin's approval"),
  ...moneyErrors,
};
const description =
  "amount + fee is held at once. Up to KESHLESS_WITHDRAWAL_AUTO_APPROVE_MAX it completes (201); above, it waits " +
  "for a finance admin (202; two different admins from KESHLESS_WITHDRAWAL_DUAL_APPROVAL_MIN). Approval posts it, " +
  "rejection or expiry (KESHLESS_APPROVAL_TTL_HOURS) releases the held money; the owner is told each time.";

export function withdrawalRoutes(deps: { identity: Identity; withdrawals: Withdrawals }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/withdrawals",
      middleware: [userAuth] as const,
      tags: ["wallet"],
      summary: "Withdraw to a bank account or an agent",
      description,
      security,
      request: { headers: idempotencyHeader, body: { content: { "application/json": { schema: userBody } } } },
      responses,
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { withdrawals, identity } = deps;
      const userId = c.get("principal")!.id;
      await identity.users.verifyPin({ userId, pin: input.pin });
      const plan = await withdrawals.plan({ owner: { type: "user", id: userId }, ...input });
      return idempotent(c, input, (tx) => withdrawals.commit(plan, tx, requestMeta(c)));
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/vendor/withdrawals",
      middleware: [vendorAuth] as const,
      tags: ["vendors"],
      summary: "Withdraw the vendor's takings to a bank account or an agent",
      description: `${description} Vendors have no PIN: they confirm with their account password (rate-limited per vendor). A wrong password is 403 FORBIDDEN with \`details.reason: "WRONG_PASSWORD"\` — the session stays valid (401 would read as signed out).`,
      security,
      request: { headers: idempotencyHeader, body: { content: { "application/json": { schema: vendorBody } } } },
      responses,
    }),
    async (c) => {
      const input = c.req.valid("json");
      const { withdrawals } = deps;
      const vendorId = c.get("principal")!.id;
      await withdrawals.confirmVendor(vendorId, input.password, requestMeta(c));
      const { password: _, ...rest } = input;
      const plan = await withdrawals.plan({ owner: { type: "vendor", id: vendorId }, ...rest });
      // The password is not part of what makes two requests the same.
      return idempotent(c, rest, (tx) => withdrawals.commit(plan, tx, requestMeta(c)));
    },
  );

  for (const who of ["user", "vendor"] as const) {
    router.openapi(
      createRoute({
        method: "get",
        path: who === "user" ? "/v1/withdrawals/{id}" : "/v1/vendor/withdrawals/{id}",
        tags: [who === "user" ? "wallet" : "vendors"],
        summary: `One of the ${who}'s withdrawals, with its destination and outcome (anyone else's is 404)`,
        security,
        middleware: [who === "user" ? userAuth : vendorAuth] as const,
        request: { params: z.object({ id: z.string().max(64) }) },
        responses: { 200: jsonContent(withdrawalSchema, "The withdrawal"), ...errorResponses(401, 403, 404) },
      }),
      async (c) => {
        const { withdrawals } = deps;
        const owner = { type: who, id: c.get("principal")!.id };
        return c.json(await withdrawals.view(c.req.valid("param").id, owner), 200);
      },
    );
  }

  return router;
}
