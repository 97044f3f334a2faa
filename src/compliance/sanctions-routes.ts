import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../http/auth";
import type { AppContext } from "../http/context";
import { AppError } from "../http/errors";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth } from "../identity";
import type { Sanctions } from "./sanctions-service";

const bearer = [{ bearer: [] }];
const tags = ["admin: sanctions"];
const idParam = z.object({ id: z.string().min(1).max(64) });

const screenMatchSchema = z
  .object({
    dataid: z.string().openapi({ description: "The UN list's DATAID of the listed individual or entity" }),
    name: z.string().openapi({ description: "The listed entry's primary name" }),
    matchedName: z.string().openapi({ description: "The listed name (primary or alias) that matched best" }),
    score: z.number().min(0).max(1),
    listType: z.enum(["individual", "entity"]),
    referenceNumber: z.string().openapi({ example: "QDi.309" }),
    reasons: z.array(z.string()).openapi({
      description:
        "What the score rests on: primary_name · alias · low_quality_alias · former_name; exact_name · whole_name · " +
        "fuzzy_name; listed_tokens_unmatched; dob_consistent · dob_day_differs · dob_mismatch; nationality_match · " +
        "nationality_mismatch",
    }),
  })
  .openapi("SanctionsScreenMatch");

const screenResultSchema = z
  .object({ listVersion: z.string(), matches: z.array(screenMatchSchema) })
  .openapi("SanctionsScreenResult");

const listSchema = z
  .object({
    version: z.string(),
    dateGenerated: z.string(),
    individuals: z.number().int(),
    entities: z.number().int(),
    syncedAt: z.string(),
    added: z.number().int(),
    removed: z.number().int().openapi({ description: "DATAIDs of the previous version delisted in this one" }),
    sha256: z.string(),
  })
  .openapi("SanctionsList");

const matchSchema = z
  .object({
    id: z.string(),
    subject: z.object({ type: z.enum(["user", "vendor"]), id: z.string(), name: z.string() }),
    listVersion: z.string(),
    dataid: z.string(),
    listType: z.enum(["individual", "entity"]),
    referenceNumber: z.string(),
    listedName: z.string(),
    matchedName: z.string(),
    score: z.number(),
    reasons: z.array(z.string()),
    status: z.enum(["open", "cleared", "confirmed"]),
    note: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("SanctionsMatch");

const decisionBody = {
  content: { "application/json": { schema: z.object({ note: z.string().trim().min(3).max(500) }) } },
};

function adminId(c: AppContext): string {
  const principal = c.get("principal");
  if (!principal) throw new AppError("UNAUTHENTICATED", "Authentication is required.");
  return principal.id;
}

/** /admin/v1/sanctions: screening a name, the current list, and the matches analysts clear or confirm. */
export function sanctionsRoutes(deps: { sanctions: Sanctions }) {
  const router = createRouter();
  const { sanctions } = deps;

  router.openapi(
    createRoute({
      method: "post",
      path: "/admin/v1/sanctions/screen",
      tags,
      summary: "Screen a name (with an optional date of birth and nationality) against the current UN list",
      description:
        "Matches are the listed entries scoring at or above KESHLESS_SANCTIONS_THRESHOLD (0.80), best first. " +
        "A date of birth that cannot be the listed one, or another nationality, lowers a score; neither ever " +
        "raises one. 503 before the first sync.",
      security: bearer,
      middleware: [adminAuth("sanctions:screen")] as const,
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({
                name: z.string().trim().min(1).max(200),
                dateOfBirth: z
                  .string()
                  .regex(/^\d{4}(-\d{2}-\d{2})?$/, "YYYY-MM-DD or YYYY")
                  .optional(),
                nationality: z
                  .string()
                  .trim()
                  .min(2)
                  .max(100)
                  .optional()
                  .openapi({ description: "ISO 3166 alpha-2 code or English country name" }),
              }),
            },
          },
        },
      },
      responses: {
        200: jsonContent(screenResultSchema, "The matches, best first"),
        ...errorResponses(400, 401, 403, 503),
      },
    }),
    async (c) => {
      const subject = { type: "admin_query", id: adminId(c) };
      return c.json(await sanctions.screenName(c.req.valid("json"), { subject }), 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/sanctions/list",
      tags,
      summary: "The current sanctions list version",
      security: bearer,
      middleware: [adminAuth("sanctions:read")] as const,
      responses: { 200: jsonContent(listSchema, "The current list"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const list = await sanctions.currentList();
      if (!list) throw new AppError("NOT_FOUND", "No sanctions list has been synced yet.");
      return c.json(list, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/sanctions/matches",
      tags,
      summary: "Sanctions matches, newest first (filter by status or subject)",
      security: bearer,
      middleware: [adminAuth("sanctions:read")] as const,
      request: {
        query: paginationQuery.extend({
          status: z.enum(["open", "cleared", "confirmed"]).optional(),
          subjectId: z.string().max(64).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(matchSchema), "A page"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await sanctions.listMatches(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/sanctions/matches/{id}",
      tags,
      summary: "One sanctions match",
      security: bearer,
      middleware: [adminAuth("sanctions:read")] as const,
      request: { params: idParam },
      responses: { 200: jsonContent(matchSchema, "The match"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const match = await sanctions.getMatch(c.req.valid("param").id);
      if (!match) throw new AppError("NOT_FOUND", "No such sanctions match.");
      return c.json(match, 200);
    },
  );

  for (const decision of ["clear", "confirm"] as const)
    router.openapi(
      createRoute({
        method: "post",
        path: `/admin/v1/sanctions/matches/{id}/${decision}`,
        tags,
        summary:
          decision === "clear"
            ? "Clear an open match (not the listed person): the subject is unfrozen unless another match holds them"
            : "Confirm an open match (the listed person): the subject stays frozen",
        description: "Audited. A match already cleared or confirmed is 409.",
        security: bearer,
        middleware: [adminAuth("sanctions:decide")] as const,
        request: { params: idParam, body: decisionBody },
        responses: {
          200: jsonContent(matchSchema, "The decided match"),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      }),
      async (c) => {
        const input = { id: c.req.valid("param").id, note: c.req.valid("json").note, adminId: adminId(c) };
        const meta = requestMeta(c);
        return c.json(
          decision === "clear" ? await sanctions.clear(input, meta) : await sanctions.confirm(input, meta),
          200,
        );
      },
    );

  return router;
}
