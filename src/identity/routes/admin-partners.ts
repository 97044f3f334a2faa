import { createRoute, z } from "@hono/zod-openapi";
import { approvalSchema } from "../../approvals";
import { requestMeta } from "../../http/auth";
import { AppError } from "../../http/errors";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../../http/router";
import type { Identity } from "..";
import { adminAuth } from "../guards";
import { MAX_FUNDING_CHANGE } from "../partner-funding";
import { bearer, idParam, issuedKeySchema, jsonBody, partnerKeySchema, partnerSchema, scopesField } from "./schemas";

const rateField = z.number().int().min(1).max(1_000_000).optional();

// Partners' funding limits (src/identity/partner-funding.ts). Not a money movement: its own bound, not KESHLESS_MAX_AMOUNT.
const fundingAmount = z
  .number()
  .int()
  .min(1)
  .max(MAX_FUNDING_CHANGE)
  .openapi({ description: "Cents by which the limit changes" });

const partnerFundingSchema = z
  .object({
    partnerId: z.string(),
    currency: z.literal("SZL"),
    limit: z.number().int().openapi({ description: "Cents the partner may have deposited, net of reversals" }),
    used: z.number().int().openapi({ description: "Cents it has deposited, net of reversals" }),
    available: z.number().int().openapi({ description: "limit − used (never below 0): the largest deposit that fits" }),
    pendingTopUps: z.number().int().openapi({ description: "Top-ups waiting for a second admin, in cents" }),
  })
  .openapi("PartnerFunding");

const fundingChangeSchema = z
  .object({
    id: z.string().openapi({ example: "fnd_…" }),
    partnerId: z.string(),
    kind: z.enum(["top_up", "decrease"]),
    amount: z.number().int(),
    currency: z.string(),
    bankReference: z.string().nullable(),
    note: z.string().nullable(),
    status: z.enum(["pending", "applied", "rejected", "expired"]),
    approvalId: z.string().nullable(),
    requestedBy: z.string().nullable(),
    decidedBy: z.string().nullable(),
    limitBefore: z.number().int().nullable(),
    limitAfter: z.number().int().nullable(),
    createdAt: z.string(),
    decidedAt: z.string().nullable(),
  })
  .openapi("PartnerFundingChange");

const adminPartnerSchema = partnerSchema.extend({ funding: partnerFundingSchema }).openapi("AdminPartner");
const pendingKeySchema = approvalSchema.extend(issuedKeySchema.shape).openapi("PartnerKeyRequest");

/** /admin/v1/partners: dual-controlled creation, API keys, and funding limits. */
export function adminPartnerRoutes(deps: { identity: Identity }) {
  const router = createRouter();

  // Dual control: creating a partner and issuing or rotating a key with deposits:create answer 202 with the
  // approval request (a second, different admin approves it at /admin/v1/approvals/{id}/approve); the new key
  // is in that 202 only, shown once to the maker, and authenticates nothing until approved.
  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/partners",
      tags: ["admin: partners"],
      summary: "Ask for a new partner (maker): a second admin approves it; the first API key is shown once, here",
      description:
        "Creates the partner `pending`, with the configured default funding limit (KESHLESS_PARTNER_DEFAULT_FUNDING_LIMIT: " +
        "0 in production), and its first key, inert. A different admin with partners:manage approves it at " +
        "/admin/v1/approvals/{id}/approve: the partner becomes `active`, its settlement account opens and the key starts " +
        "to work. Rejected or expired: the partner is `rejected` and the key revoked. The key is in this answer only.",
      security: bearer,
      middleware: [adminAuth("partners:manage")] as const,
      request: jsonBody(
        z
          .object({ name: z.string().trim().min(2).max(120), scopes: scopesField.optional(), ratePerMinute: rateField })
          .openapi("CreatePartnerRequest"),
      ),
      responses: {
        202: jsonContent(
          approvalSchema.extend({ partner: partnerSchema, ...issuedKeySchema.shape }).openapi("PartnerCreationRequest"),
          "Waiting for a second admin; the key (shown once) works once approved",
        ),
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const { approval, partner, apiKey, key } = await deps.identity.partners.requestCreate({
        ctx: requestMeta(c),
        input: c.req.valid("json"),
      });
      return c.json({ ...approval, partner, apiKey, key }, 202);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/partners",
      tags: ["admin: partners"],
      summary: "Partners, newest first",
      security: bearer,
      middleware: [adminAuth("partners:read")] as const,
      request: { query: paginationQuery },
      responses: { 200: jsonContent(listOf(partnerSchema), "A page"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.identity.partners.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/partners/{id}",
      tags: ["admin: partners"],
      summary: "One partner, with its funding limit and what it has used",
      security: bearer,
      middleware: [adminAuth("partners:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(adminPartnerSchema, "The partner"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { identity } = deps;
      const { id } = c.req.valid("param");
      const [partner, funding] = await Promise.all([identity.partners.get(id), identity.partnerFunding.funding(id)]);
      if (!partner || !funding) throw new AppError("NOT_FOUND", "No such partner.");
      return c.json({ ...partner, funding }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/partners/{id}/keys",
      tags: ["admin: partners"],
      summary: "A partner's API keys (prefixes only)",
      security: bearer,
      middleware: [adminAuth("partners:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(listOf(partnerKeySchema), "Keys"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { identity } = deps;
      const { id } = c.req.valid("param");
      if (!(await identity.partners.get(id))) throw new AppError("NOT_FOUND", "No such partner.");
      return c.json({ data: await identity.partners.keys(id), nextCursor: null }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/partners/{id}/keys",
      tags: ["admin: partners"],
      summary: "Issue another API key (shown once); with deposits:create it waits for a second admin (202)",
      description:
        "Without deposits:create the key works at once (201). With it, the answer is 202 with the approval request " +
        "and the key, which authenticates nothing until a different admin with partners:manage approves.",
      security: bearer,
      middleware: [adminAuth("partners:manage")] as const,
      request: {
        params: idParam,
        ...jsonBody(z.object({ scopes: scopesField, ratePerMinute: rateField }).openapi("CreateKeyRequest")),
      },
      responses: {
        201: jsonContent(issuedKeySchema, "Issued"),
        202: jsonContent(pendingKeySchema, "Waiting for a second admin; the key (shown once) works once approved"),
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { pending, apiKey, key } = await deps.identity.partners.createKey({
        ctx: requestMeta(c),
        input: { partnerId: c.req.valid("param").id, ...c.req.valid("json") },
      });
      return pending ? c.json({ ...pending, apiKey, key }, 202) : c.json({ apiKey, key }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/partners/{id}/keys/{keyId}/rotate",
      tags: ["admin: partners"],
      summary: "Replace a key: the new one is shown once; the old one works until the overlap ends",
      description:
        "A key with deposits:create is replaced only once a second admin approves (202): until then the old key works " +
        "unchanged and the new one is inert; the overlap starts at the approval. Other keys rotate at once (201).",
      security: bearer,
      middleware: [adminAuth("partners:manage")] as const,
      request: {
        params: z.object({ id: z.string().min(1).max(64), keyId: z.string().min(1).max(64) }),
        body: {
          required: false,
          content: {
            "application/json": {
              schema: z
                .object({
                  overlapSeconds: z
                    .number()
                    .int()
                    .min(0)
                    .max(30 * 86_400)
                    .optional(),
                })
                .openapi("RotateKeyRequest"),
            },
          },
        },
      },
      responses: {
        201: jsonContent(
          issuedKeySchema
            .extend({ previous: z.object({ id: z.string(), expiresAt: z.string() }) })
            .openapi("RotatedPartnerKey"),
          "Rotated",
        ),
        202: jsonContent(pendingKeySchema, "Waiting for a second admin; the new key (shown once) works once approved"),
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { id, keyId } = c.req.valid("param");
      const body = (c.req.valid("json") ?? {}) as { overlapSeconds?: number };
      const rotated = await deps.identity.partners.rotateKey({
        ctx: requestMeta(c),
        input: { partnerId: id, keyId, overlapSeconds: body.overlapSeconds },
      });
      if (rotated.pending) return c.json({ ...rotated.pending, apiKey: rotated.apiKey, key: rotated.key }, 202);
      const previous = { id: rotated.previous.id, expiresAt: rotated.previous.expiresAt ?? "" };
      return c.json({ apiKey: rotated.apiKey, key: rotated.key, previous }, 201);
    },
  );

  router.openapi(
    createRoute({
      method: "delete",
      path: "/admin/v1/partners/{id}/keys/{keyId}",
      tags: ["admin: partners"],
      summary: "Revoke a key at once",
      security: bearer,
      middleware: [adminAuth("partners:manage")] as const,
      request: { params: z.object({ id: z.string().min(1).max(64), keyId: z.string().min(1).max(64) }) },
      responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id, keyId } = c.req.valid("param");
      await deps.identity.partners.revokeKey({ ctx: requestMeta(c), input: { partnerId: id, keyId } });
      return c.body(null, 204);
    },
  );

  // ------------------------------------------------------------------ partners' funding limits
  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/partners/{id}/funding",
      tags: ["admin: partners"],
      summary: "A partner's funding limit (its prefunded float), what it has deposited net of reversals, what is left",
      security: bearer,
      middleware: [adminAuth("partners:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(partnerFundingSchema, "The funding"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const funding = await deps.identity.partnerFunding.funding(c.req.valid("param").id);
      if (!funding) throw new AppError("NOT_FOUND", "No such partner.");
      return c.json(funding, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/partners/{id}/funding",
      tags: ["admin: partners"],
      summary: "Top a partner's funding limit up (maker) once the bank confirms its transfer into the trust account",
      description:
        "Answers 202 with the approval request; the limit rises by `amount` only when a different admin with " +
        "partners:fund approves it at /admin/v1/approvals/{id}/approve. A bank reference tops a partner up once " +
        "(another request with it while one is pending or applied is 409). Deposits that would take the partner past " +
        "its limit are refused with 422 LIMIT_EXCEEDED.",
      security: bearer,
      middleware: [adminAuth("partners:fund")] as const,
      request: {
        params: idParam,
        ...jsonBody(
          z
            .object({
              amount: fundingAmount,
              currency: z.literal("SZL"),
              bankReference: z
                .string()
                .trim()
                .min(3)
                .max(100)
                .openapi({ description: "The bank's reference of the transfer into the trust account" }),
              note: z.string().trim().max(500).optional(),
            })
            .openapi("PartnerTopUpRequest"),
        ),
      },
      responses: {
        202: jsonContent(approvalSchema, "Waiting for a second admin"),
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { approval } = await deps.identity.partnerFunding.requestTopUp({
        ctx: requestMeta(c),
        input: { partnerId: c.req.valid("param").id, ...c.req.valid("json") },
      });
      return c.json(approval, 202);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/partners/{id}/funding/decrease",
      tags: ["admin: partners"],
      summary: "Lower a partner's funding limit at once (it takes money-creating power away: one step)",
      description:
        "The limit may end below what the partner has used: then no deposit fits until reversals or a top-up make room.",
      security: bearer,
      middleware: [adminAuth("partners:fund")] as const,
      request: {
        params: idParam,
        ...jsonBody(
          z
            .object({ amount: fundingAmount, currency: z.literal("SZL"), reason: z.string().trim().min(3).max(500) })
            .openapi("PartnerFundingDecreaseRequest"),
        ),
      },
      responses: {
        200: jsonContent(
          z.object({ funding: partnerFundingSchema, change: fundingChangeSchema }).openapi("PartnerFundingDecreased"),
          "Lowered",
        ),
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const result = await deps.identity.partnerFunding.decrease({
        ctx: requestMeta(c),
        input: { partnerId: c.req.valid("param").id, ...c.req.valid("json") },
      });
      return c.json(result, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/partners/{id}/funding/changes",
      tags: ["admin: partners"],
      summary: "A partner's funding-limit changes (top-ups, pending or decided, and decreases), newest first",
      security: bearer,
      middleware: [adminAuth("partners:read")] as const,
      request: { params: idParam, query: paginationQuery },
      responses: { 200: jsonContent(listOf(fundingChangeSchema), "A page"), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { identity } = deps;
      const { id } = c.req.valid("param");
      if (!(await identity.partners.get(id))) throw new AppError("NOT_FOUND", "No such partner.");
      return c.json(await identity.partnerFunding.history(id, c.req.valid("query")), 200);
    },
  );

  return router;
}
