import { z } from "@hono/zod-openapi";
import { ADMIN_ROLES, PARTNER_SCOPES } from "../../http/permissions";

/** Request and response shapes of the identity routes (API.md), shared by the route files. */

export const phoneField = z
  .string()
  .min(1)
  .max(32)
  .openapi({ example: "+26876123456", description: "E.164, or 76123456, 26876123456, +268 7612 3456" });

export const userSchema = z
  .object({
    id: z.string().openapi({ example: "usr_…" }),
    phone: z.string().openapi({ example: "+26876123456" }),
    name: z.string().nullable(),
    kycTier: z.number().int(),
    hasPin: z.boolean(),
    status: z.enum(["active", "frozen", "deleted"]),
  })
  .openapi("User");

export const adminUserSchema = userSchema
  .extend({
    statusReason: z.string().nullable(),
    pinLockedUntil: z.string().nullable(),
    lastLoginAt: z.string().nullable(),
    createdAt: z.string(),
    wallet: z
      .object({ accountId: z.string(), currency: z.string(), balance: z.number().int(), available: z.number().int() })
      .nullable(),
  })
  .openapi("AdminUserView");

export const vendorSchema = z
  .object({
    id: z.string().openapi({ example: "vnd_…" }),
    name: z.string(),
    code: z.string().openapi({ example: "482913", description: "What payers type to pay this vendor" }),
    phone: z.string(),
    email: z.string(),
    status: z.enum(["active", "frozen", "deleted"]),
  })
  .openapi("Vendor");

export const vendorViewSchema = vendorSchema
  .extend({
    registrationNumber: z.string().nullable(),
    address: z.string().nullable(),
    category: z.string().nullable(),
    statusReason: z.string().nullable(),
    lockedUntil: z.string().nullable(),
    lastLoginAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("VendorView");

export const deviceSchema = z
  .object({
    id: z.string().openapi({ example: "dev_…" }),
    deviceId: z.string(),
    trustedAt: z.string(),
    lastSeenAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi("VendorDevice");

export const adminSchema = z
  .object({
    id: z.string().openapi({ example: "adm_…" }),
    email: z.string(),
    role: z.enum(ADMIN_ROLES),
    status: z.enum(["active", "disabled"]),
    permissions: z.array(z.string()),
    lastLoginAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi("Admin");

export const partnerSchema = z
  .object({
    id: z.string().openapi({ example: "prt_…" }),
    name: z.string(),
    status: z.enum(["pending", "active", "suspended", "rejected"]).openapi({
      description: "pending: waiting for a second admin's approval · rejected: refused or expired while pending",
    }),
  })
  .openapi("Partner");

export const partnerKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_…" }),
    partnerId: z.string(),
    prefix: z.string().openapi({ description: "The key's first characters, to recognise it" }),
    scopes: z.array(z.string()),
    ratePerMinute: z.number().int(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    rotatedFrom: z.string().nullable(),
    pendingApproval: z
      .string()
      .nullable()
      .openapi({ description: "The approval request this key waits for; it authenticates nothing until approved" }),
  })
  .openapi("PartnerKey");

export const issuedKeySchema = z
  .object({
    apiKey: z.string().openapi({ description: "Shown once; store it now", example: "kl_test_…" }),
    key: partnerKeySchema,
  })
  .openapi("IssuedPartnerKey");

const tokens = {
  accessToken: z.string(),
  refreshToken: z.string(),
  expiresIn: z.number().int().openapi({ description: "Seconds until the access token expires" }),
};

export const userSessionSchema = z.object({ ...tokens, user: userSchema }).openapi("UserSession");
export const vendorSessionSchema = z.object({ ...tokens, vendor: vendorSchema }).openapi("VendorSession");
export const deviceTrustedSchema = z
  .object({
    ...tokens,
    vendor: vendorSchema,
    deviceCredential: z.string().openapi({
      description:
        "Shown once: the app stores it and sends it as `deviceId` from now on. Revoking the device voids it.",
    }),
  })
  .openapi("VendorDeviceTrusted");
export const adminSessionSchema = z.object({ ...tokens, admin: adminSchema }).openapi("AdminSession");

export const refreshBody = z.object({ refreshToken: z.string().min(1).max(200) }).openapi("RefreshRequest");
export const reasonBody = z.object({ reason: z.string().trim().min(3).max(500) }).openapi("Reason");
export const idParam = z.object({ id: z.string().min(1).max(64) });

export const passwordField = z.string().min(1).max(200);
export const emailField = z.string().trim().email().max(254);
export const scopesField = z.array(z.enum(PARTNER_SCOPES)).min(1).max(PARTNER_SCOPES.length);

/** The security requirement of a route behind a bearer token. */
export const bearer = [{ bearer: [] }];

/** JSON request body helper. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { "application/json": { schema } } },
});
