import { z } from "@hono/zod-openapi";

const party = z.object({ type: z.string(), id: z.string() });

/** An approval as the API shows it (the queue, and a reversal or withdrawal that waits for one). */
export const approvalSchema = z
  .object({
    id: z.string().openapi({ example: "apr_…" }),
    kind: z.string().openapi({ example: "withdrawal", description: "withdrawal · card · reversal · …" }),
    subjectId: z.string().openapi({ example: "txn_…", description: "What is being approved, in its kind's ids" }),
    amount: z.number().int().nullable().openapi({ description: "cents" }),
    currency: z.string().nullable(),
    status: z.enum(["pending", "approved", "rejected", "expired"]),
    requestedBy: party.openapi({ description: "The maker; never allowed to decide it" }),
    owner: party.nullable().openapi({ description: "Whose money or account it concerns" }),
    requiredApprovals: z.number().int().openapi({ description: "2 when a second, different admin must approve" }),
    checkers: z.array(z.object({ adminId: z.string(), role: z.string(), at: z.string(), note: z.string().nullable() })),
    decidedBy: z.string().nullable(),
    reason: z.string().nullable(),
    summary: z.record(z.string(), z.unknown()),
    expiresAt: z.string(),
    decidedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Approval");
