import { createRoute, z } from "@hono/zod-openapi";
import { requestMeta } from "../http/auth";
import { createRouter, errorResponses, jsonContent } from "../http/router";
import { adminAuth } from "../identity";
import type { TierLimitsSettings } from "./tier-limits-settings";

/** E10 billion: far above any wallet's limit, and well inside the bigint columns and a JSON number's exact range. */
const MAX_LIMIT = 1_000_000_000_000;

const cents = (description: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(MAX_LIMIT)
    .openapi({ description: `${description}, in cents` });

const limitsBody = z
  .object({
    perTransaction: cents("The most one outflow (payment, transfer, withdrawal, airtime, card fee) may move"),
    daily: cents("The most a user's outflows may sum to in one local day (Africa/Mbabane)"),
    monthly: cents("The most a user's outflows may sum to in one local month"),
    maxBalance: cents("The most a wallet may hold after money comes in"),
  })
  // A per-transaction limit above the day's (or a day's above the month's) could never be reached: a typo.
  .refine((l) => l.daily >= l.perTransaction, { path: ["daily"], message: "must be at least perTransaction" })
  .refine((l) => l.monthly >= l.daily, { path: ["monthly"], message: "must be at least daily" })
  .openapi("TierLimitsChange");

const tierLimitsSchema = z
  .object({
    tier: z.number().int(),
    perTransaction: z.number().int(),
    daily: z.number().int(),
    monthly: z.number().int(),
    maxBalance: z.number().int(),
    updatedBy: z
      .string()
      .nullable()
      .openapi({ description: "The admin who last set them; null: the environment's first-boot default" }),
    updatedAt: z.string(),
  })
  .openapi("TierLimits");

const bearer = [{ bearer: [] }];
const tags = ["admin: settings"];

/** /admin/v1/settings/limits: the KYC tiers' limits, read by every admin, set by compliance (limits:manage). */
export function tierLimitsRoutes(deps: { tierLimitsSettings: TierLimitsSettings }) {
  const router = createRouter();

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/settings/limits",
      tags,
      summary: "Every KYC tier's limits, as payments apply them",
      security: bearer,
      middleware: [adminAuth("limits:read")] as const,
      responses: {
        200: jsonContent(z.object({ data: z.array(tierLimitsSchema) }), "The tiers, lowest first"),
        ...errorResponses(401, 403),
      },
    }),
    async (c) => c.json({ data: await deps.tierLimitsSettings.list() }, 200),
  );

  router.openapi(
    createRoute({
      method: "put",
      path: "/admin/v1/settings/limits/{tier}",
      tags,
      summary: "Set a KYC tier's limits (audited with before and after)",
      description:
        "Applies at once on the instance that answers and on every other within 10 seconds. KESHLESS_KYC_LIMITS " +
        "only gives the first boot's values: it never overwrites a tier set here. An unknown tier is 404.",
      security: bearer,
      middleware: [adminAuth("limits:manage")] as const,
      request: {
        params: z.object({ tier: z.string().regex(/^\d$/, "a tier: one digit") }),
        body: { required: true, content: { "application/json": { schema: limitsBody } } },
      },
      responses: {
        200: jsonContent(tierLimitsSchema, "The tier's limits now"),
        ...errorResponses(400, 401, 403, 404, 415),
      },
    }),
    async (c) => {
      const saved = await deps.tierLimitsSettings.set(
        Number(c.req.valid("param").tier),
        c.req.valid("json"),
        { id: c.get("principal")!.id },
        requestMeta(c),
      );
      return c.json(saved, 200);
    },
  );

  return router;
}
