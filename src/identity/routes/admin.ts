import { createRoute, z } from "@hono/zod-openapi";
import { approvalSchema } from "../../approvals";
import type { Audit } from "../../audit";
import { requestMeta } from "../../http/auth";
import { AppError } from "../../http/errors";
import { ADMIN_ROLES } from "../../http/permissions";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../../http/router";
import type { Identity } from "..";
import { adminAuth, sessionIdOf } from "../guards";
import { MAX_FUNDING_CHANGE } from "../partner-funding";
import {
  adminSchema,
  adminSessionSchema,
  adminUserSchema,
  deviceSchema,
  emailField,
  idParam,
  issuedKeySchema,
  jsonBody,
  partnerKeySchema,
  partnerSchema,
  passwordField,
  phoneField,
  reasonBody,
  refreshBody,
  scopesField,
  userSchema,
  vendorViewSchema,
} from "./schemas";

const bearer = [{ bearer: [] }];
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

/** /admin/v1: sign-in, and users, vendors, admins and partners as the dashboard manages them. Every write is audited. */
export function adminRoutes(deps: { identity: Identity; audit: Audit }) {
  const router = createRouter();

  // ------------------------------------------------------------------ sign-in
  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/auth/login",
      security: [],
      tags: ["admin: sign-in"],
      summary: "Sign in with email, password and a TOTP code (RFC 6238; each code works once)",
      request: jsonBody(
        z
          .object({ email: emailField, password: passwordField, totp: z.string().regex(/^\d{6}$/, "must be 6 digits") })
          .openapi("AdminLoginRequest"),
      ),
      responses: { 200: jsonContent(adminSessionSchema, "Signed in"), ...errorResponses(400, 401, 403, 429) },
    }),
    async (c) => c.json(await deps.identity.admins.login({ ctx: requestMeta(c), input: c.req.valid("json") }), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/auth/refresh",
      security: [],
      tags: ["admin: sign-in"],
      summary: "Rotate the refresh token (admin sessions end 12 hours after sign-in)",
      request: jsonBody(refreshBody),
      responses: { 200: jsonContent(adminSessionSchema, "New tokens"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.identity.admins.refresh({ ctx: requestMeta(c), input: c.req.valid("json") }), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/auth/logout",
      tags: ["admin: sign-in"],
      summary: "End this session",
      security: bearer,
      middleware: [adminAuth()] as const,
      responses: { 204: { description: "Signed out" }, ...errorResponses(401, 403) },
    }),
    async (c) => {
      await deps.identity.tokens.revokeSession(sessionIdOf(c), "logout");
      return c.body(null, 204);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/me",
      tags: ["admin: sign-in"],
      summary: "The signed-in admin and their permissions",
      security: bearer,
      middleware: [adminAuth()] as const,
      responses: { 200: jsonContent(adminSchema, "The admin"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const admin = await deps.identity.admins.get(c.get("principal")!.id);
      if (!admin) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
      return c.json(admin, 200);
    },
  );

  // ------------------------------------------------------------------ users
  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/users",
      tags: ["admin: users"],
      summary: "Search users by id, phone (or its last digits) or name; newest first",
      security: bearer,
      middleware: [adminAuth("users:read")] as const,
      request: {
        query: paginationQuery.extend({
          q: z.string().trim().max(100).optional(),
          status: z.enum(["active", "frozen", "deleted"]).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(userSchema), "Users"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const page = await deps.identity.users.search(query);
      await deps.audit.record({ action: "user.search", details: { q: query.q, status: query.status } }, requestMeta(c));
      return c.json(page, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/users/{id}",
      tags: ["admin: users"],
      summary: "One user, with PIN lock and wallet balance",
      security: bearer,
      middleware: [adminAuth("users:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(adminUserSchema, "The user"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const user = await deps.identity.users.view(id);
      if (!user) throw new AppError("NOT_FOUND", "No such user.");
      await deps.audit.record({ action: "user.view", target: { type: "user", id } }, requestMeta(c));
      return c.json(user, 200);
    },
  );

  for (const [verb, status] of [
    ["freeze", "frozen"],
    ["unfreeze", "active"],
  ] as const) {
    router.openapi(
      createRoute({
        method: "post",
        path: `/admin/v1/users/{id}/${verb}`,
        tags: ["admin: users"],
        summary:
          verb === "freeze"
            ? "Freeze a user: no sign-in, no money movement, existing tokens refused"
            : "Unfreeze a user",
        security: bearer,
        middleware: [adminAuth("users:freeze")] as const,
        request: { params: idParam, ...jsonBody(reasonBody) },
        responses: { 200: jsonContent(adminUserSchema, "The user"), ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => {
        const user = await deps.identity.users.setStatus({
          ctx: requestMeta(c),
          input: { userId: c.req.valid("param").id, status, reason: c.req.valid("json").reason },
        });
        return c.json(user, 200);
      },
    );
  }

  // ------------------------------------------------------------------ vendors
  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/vendors",
      tags: ["admin: vendors"],
      summary: "Search vendors by id, code, email, phone or name; newest first",
      security: bearer,
      middleware: [adminAuth("vendors:read")] as const,
      request: {
        query: paginationQuery.extend({
          q: z.string().trim().max(100).optional(),
          status: z.enum(["active", "frozen", "deleted"]).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(vendorViewSchema), "Vendors"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.identity.vendors.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/vendors",
      tags: ["admin: vendors"],
      summary: "Create a vendor (and its wallet); the response carries the vendor code payers use",
      security: bearer,
      middleware: [adminAuth("vendors:create")] as const,
      request: jsonBody(
        z
          .object({
            name: z.string().trim().min(2).max(120),
            email: emailField,
            password: passwordField,
            phone: phoneField,
            registrationNumber: z.string().trim().max(64).optional(),
            address: z.string().trim().max(300).optional(),
            category: z.string().trim().max(64).optional(),
          })
          .openapi("CreateVendorRequest"),
      ),
      responses: { 201: jsonContent(vendorViewSchema, "Created"), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => c.json(await deps.identity.vendors.create({ ctx: requestMeta(c), input: c.req.valid("json") }), 201),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/vendors/{id}",
      tags: ["admin: vendors"],
      summary: "One vendor",
      security: bearer,
      middleware: [adminAuth("vendors:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(vendorViewSchema, "The vendor"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const vendor = await deps.identity.vendors.getView(c.req.valid("param").id);
      if (!vendor) throw new AppError("NOT_FOUND", "No such vendor.");
      return c.json(vendor, 200);
    },
  );

  for (const [verb, status] of [
    ["freeze", "frozen"],
    ["unfreeze", "active"],
  ] as const) {
    router.openapi(
      createRoute({
        method: "post",
        path: `/admin/v1/vendors/{id}/${verb}`,
        tags: ["admin: vendors"],
        summary: verb === "freeze" ? "Freeze a vendor" : "Unfreeze a vendor",
        security: bearer,
        middleware: [adminAuth("vendors:freeze")] as const,
        request: { params: idParam, ...jsonBody(reasonBody) },
        responses: { 200: jsonContent(vendorViewSchema, "The vendor"), ...errorResponses(400, 401, 403, 404) },
      }),
      async (c) => {
        const vendor = await deps.identity.vendors.setStatus({
          ctx: requestMeta(c),
          input: { vendorId: c.req.valid("param").id, status, reason: c.req.valid("json").reason },
        });
        return c.json(vendor, 200);
      },
    );
  }

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/vendors/{id}/devices",
      tags: ["admin: vendors"],
      summary: "A vendor's trusted devices",
      security: bearer,
      middleware: [adminAuth("vendors:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(listOf(deviceSchema), "Devices"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { identity } = deps;
      const { id } = c.req.valid("param");
      if (!(await identity.vendors.get(id))) throw new AppError("NOT_FOUND", "No such vendor.");
      return c.json({ data: await identity.vendors.devices(id), nextCursor: null }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "delete",
      path: "/admin/v1/vendors/{id}/devices/{deviceId}",
      tags: ["admin: vendors"],
      summary: "Revoke a vendor's device; its sessions end",
      security: bearer,
      middleware: [adminAuth("vendors:devices")] as const,
      request: { params: z.object({ id: z.string().min(1).max(64), deviceId: z.string().min(1).max(64) }) },
      responses: { 204: { description: "Revoked" }, ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id, deviceId } = c.req.valid("param");
      await deps.identity.vendors.revokeDevice({ ctx: requestMeta(c), input: { vendorId: id, id: deviceId } });
      return c.body(null, 204);
    },
  );

  // ------------------------------------------------------------------ admins
  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/admins",
      tags: ["admin: admins"],
      summary: "Admins",
      security: bearer,
      middleware: [adminAuth("admins:read")] as const,
      request: { query: paginationQuery },
      responses: { 200: jsonContent(listOf(adminSchema), "Admins"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.identity.admins.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/admins",
      tags: ["admin: admins"],
      summary: "Create an admin; the TOTP secret is in this response only",
      security: bearer,
      middleware: [adminAuth("admins:manage")] as const,
      request: jsonBody(
        z
          .object({ email: emailField, password: passwordField, role: z.enum(ADMIN_ROLES) })
          .openapi("CreateAdminRequest"),
      ),
      responses: {
        201: jsonContent(
          adminSchema.extend({ totpSecret: z.string(), otpauthUrl: z.string() }).openapi("CreatedAdmin"),
          "Created",
        ),
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => c.json(await deps.identity.admins.create({ ctx: requestMeta(c), input: c.req.valid("json") }), 201),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/admins/{id}/disable",
      tags: ["admin: admins"],
      summary: "Disable an admin; their sessions end",
      security: bearer,
      middleware: [adminAuth("admins:manage")] as const,
      request: { params: idParam, ...jsonBody(reasonBody) },
      responses: { 200: jsonContent(adminSchema, "The admin"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const admin = await deps.identity.admins.disable({
        ctx: requestMeta(c),
        input: { adminId: c.req.valid("param").id, reason: c.req.valid("json").reason },
      });
      return c.json(admin, 200);
    },
  );

  // ------------------------------------------------------------------ partners
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
