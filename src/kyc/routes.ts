import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../http/auth";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth, type Identity, userAuth } from "../identity";
import { CONTENT_TYPES, DOCUMENT_TYPES, MAX_DOCUMENT_BYTES } from "./documents";
import type { Kyc } from "./service";

const bearer = [{ bearer: [] }];
const statuses = ["processing", "in_review", "approved", "rejected"] as const;
const idParam = z.object({ id: z.string().min(1).max(64) });

const documentSchema = z
  .object({
    id: z.string().openapi({ example: "kyd_…" }),
    type: z.enum(DOCUMENT_TYPES),
    status: z.enum(["awaiting_upload", "uploaded", "refused", "deleted"]),
    contentType: z.enum(CONTENT_TYPES),
    sizeBytes: z.number().int(),
  })
  .openapi("KycDocument");

const declaredSchema = z
  .object({
    id: z.string(),
    type: z.enum(DOCUMENT_TYPES),
    status: z.literal("awaiting_upload"),
    upload: z.object({
      method: z.literal("PUT"),
      url: z.string().openapi({ description: "PUT the file's bytes here, with `headers`, before `expiresAt`" }),
      headers: z.record(z.string(), z.string()),
      expiresAt: z.string(),
    }),
  })
  .openapi("KycDocumentDeclared");

const limitsSchema = z.object({
  perTransaction: z.number().int(),
  daily: z.number().int(),
  monthly: z.number().int(),
  maxBalance: z.number().int(),
});

const kycSchema = z
  .object({
    tier: z.number().int(),
    limits: limitsSchema.openapi({ description: "cents" }),
    submission: z
      .object({
        id: z.string(),
        status: z.enum(statuses),
        reason: z.string().optional(),
        createdAt: z.string(),
      })
      .nullable(),
    next: z.object({ tier: z.number().int(), requires: z.array(z.string()) }).nullable(),
  })
  .openapi("Kyc");

const reasonSchema = z.object({ code: z.string(), message: z.string() });
const userSummary = z.object({ id: z.string(), phone: z.string(), name: z.string().nullable() });

const submissionSummarySchema = z
  .object({
    id: z.string().openapi({ example: "kys_…" }),
    user: userSummary,
    status: z.enum(statuses),
    tier: z.number().int().openapi({ description: "Granted once approved; until then the tier the documents reach" }),
    tierRequested: z.number().int(),
    reasons: z.array(reasonSchema),
    createdAt: z.string(),
  })
  .openapi("KycSubmissionSummary");

const submissionSchema = submissionSummarySchema
  .extend({
    idNumber: z.string(),
    documentName: z.string().nullable(),
    documentDateOfBirth: z.string().nullable(),
    checks: z.object({
      ocr: z
        .object({
          provider: z.enum(["textract", "gemini"]).nullable(),
          fields: z.record(z.string(), z.string().nullable()),
          confidence: z.number(),
        })
        .nullable(),
      faceMatch: z.object({ similarity: z.number().nullable(), threshold: z.number() }).nullable(),
      idNumber: z
        .object({ valid: z.boolean(), dateOfBirth: z.string().nullable(), matchesDocument: z.boolean().nullable() })
        .nullable(),
      sanctions: z
        .object({
          run: z.boolean(),
          matches: z.array(z.object({ dataid: z.string(), matchedName: z.string(), score: z.number() })),
        })
        .nullable(),
    }),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    note: z.string().nullable(),
    reason: z.string().nullable(),
    documents: z.array(
      z.object({
        id: z.string(),
        type: z.enum(DOCUMENT_TYPES),
        contentType: z.enum(CONTENT_TYPES),
        url: z.string().openapi({ description: "Signed read URL (≤ 15 minutes)" }),
        expiresAt: z.string(),
      }),
    ),
  })
  .openapi("KycSubmission");

/** Users prove who they are: documents by signed upload URL, then a submission checked in the background. */
export function kycRoutes(deps: { kyc: Kyc; identity: Identity }) {
  const router = createRouter();
  const userOf = (id: string) => deps.identity.users.get(id);

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/kyc/documents",
      tags: ["kyc"],
      summary: "Declare a document and get a signed URL to upload it to",
      description:
        "The bytes go straight to private storage with the returned `upload` (a V4-signed GCS URL in production, " +
        "the app's own signed URL in the embedded default), within 15 minutes; then call …/complete. " +
        "A selfie must be an image. Over 10 MB (10,485,760 bytes) is 413.",
      security: bearer,
      middleware: [userAuth] as const,
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({
                type: z.enum(DOCUMENT_TYPES),
                contentType: z.enum(CONTENT_TYPES),
                sizeBytes: z
                  .number()
                  .int()
                  .min(1)
                  .max(2_147_483_647)
                  .openapi({ description: `bytes, at most ${MAX_DOCUMENT_BYTES}` }),
              }),
            },
          },
        },
      },
      responses: {
        201: jsonContent(declaredSchema, "Declared; upload to `upload.url`"),
        ...errorResponses(400, 401, 403, 413, 415),
      },
    }),
    async (c) => c.json(await deps.kyc.declare(c.get("principal")!.id, c.req.valid("json")), 201),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/kyc/documents/{id}/complete",
      tags: ["kyc"],
      summary: "Finish an upload: the stored object's size and type are checked",
      description:
        "Nothing uploaded is 409; bytes that are not the declared JPEG/PNG/PDF (magic bytes) are 415, more than " +
        "declared 413 — and a refused object is deleted.",
      security: bearer,
      middleware: [userAuth] as const,
      request: { params: idParam },
      responses: {
        200: jsonContent(documentSchema, "Uploaded"),
        ...errorResponses(401, 403, 404, 409, 413, 415),
      },
    }),
    async (c) => c.json(await deps.kyc.complete(c.get("principal")!.id, c.req.valid("param").id), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/kyc/submissions",
      tags: ["kyc"],
      summary: "Submit the ID number and documents for checking",
      description:
        "Checked in the background (ID reading, face match, ID number, sanctions): all clear → approved at the tier " +
        "reached, at once; anything doubtful → in review. A second while one is processing or in review is 409.",
      security: bearer,
      middleware: [userAuth] as const,
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({
                idNumber: z
                  .string()
                  .regex(/^\d{13}$/, "13 digits")
                  .openapi({ example: "0001282100635", description: "The Eswatini personal ID number" }),
                documentIds: z.array(z.string().min(1).max(64)).min(1).max(5),
              }),
            },
          },
        },
      },
      responses: {
        202: jsonContent(z.object({ id: z.string(), status: z.literal("processing") }), "Being checked"),
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => c.json(await deps.kyc.submit(c.get("principal")!.id, c.req.valid("json")), 202),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/v1/kyc",
      tags: ["kyc"],
      summary: "The user's tier, its limits, the latest submission and what the next tier needs",
      security: bearer,
      middleware: [userAuth] as const,
      responses: { 200: jsonContent(kycSchema, "KYC status"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const user = await userOf(c.get("principal")!.id);
      return c.json(await deps.kyc.status(user!), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/kyc/submissions",
      tags: ["kyc"],
      summary: "The KYC review queue",
      security: bearer,
      middleware: [adminAuth("kyc:read")] as const,
      request: {
        query: paginationQuery.extend({
          status: z.enum(statuses).optional(),
          userId: z.string().max(64).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(submissionSummarySchema), "Submissions"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.kyc.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/kyc/submissions/{id}",
      tags: ["kyc"],
      summary: "A submission with every check and its documents (signed read URLs, ≤ 15 minutes)",
      security: bearer,
      middleware: [adminAuth("kyc:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(submissionSchema, "The submission"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await deps.kyc.get(c.req.valid("param").id), 200),
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/kyc/submissions/{id}/approve",
      tags: ["kyc"],
      summary: "Approve at a tier: the user's tier and limits change at once",
      security: bearer,
      middleware: [adminAuth("kyc:review")] as const,
      request: {
        params: idParam,
        body: {
          content: {
            "application/json": {
              schema: z.object({ tier: z.number().int().min(1).max(9), note: z.string().trim().max(500).optional() }),
            },
          },
        },
      },
      responses: { 200: jsonContent(submissionSchema, "Approved"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const { tier, note } = c.req.valid("json");
      const admin = { id: c.get("principal")!.id };
      const decision = { status: "approved" as const, tier, ...(note ? { note } : {}) };
      return c.json(await deps.kyc.decide(c.req.valid("param").id, decision, admin, requestMeta(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/kyc/submissions/{id}/reject",
      tags: ["kyc"],
      summary: "Reject with a reason: the tier is unchanged and the user is told why",
      security: bearer,
      middleware: [adminAuth("kyc:review")] as const,
      request: {
        params: idParam,
        body: { content: { "application/json": { schema: z.object({ reason: z.string().trim().min(3).max(500) }) } } },
      },
      responses: { 200: jsonContent(submissionSchema, "Rejected"), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const decision = { status: "rejected" as const, reason: c.req.valid("json").reason };
      const admin = { id: c.get("principal")!.id };
      return c.json(await deps.kyc.decide(c.req.valid("param").id, decision, admin, requestMeta(c)), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/users/{id}/kyc-tier",
      tags: ["kyc"],
      summary: "Set a user's tier (e.g. lower it) with a reason; audited",
      security: bearer,
      middleware: [adminAuth("kyc:review")] as const,
      request: {
        params: idParam,
        body: {
          content: {
            "application/json": {
              schema: z.object({ tier: z.number().int().min(0).max(9), reason: z.string().trim().min(3).max(500) }),
            },
          },
        },
      },
      responses: {
        200: jsonContent(
          z.object({ userId: z.string(), tier: z.number().int(), previousTier: z.number().int() }),
          "The tier",
        ),
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const input = { userId: c.req.valid("param").id, ...c.req.valid("json") };
      return c.json(await deps.kyc.setTier(input, { id: c.get("principal")!.id }, requestMeta(c)), 200);
    },
  );

  return router;
}
