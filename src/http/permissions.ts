/**
 * The one permission map: every admin route names a permission (`adminAuth("users:freeze")`) and
 * this table says which roles hold it. A permission not listed here is a programming error, caught
 * when the route is built rather than as a silent 403 in production.
 */

export const ADMIN_ROLES = ["super_admin", "compliance", "finance", "support"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

const ALL: AdminRole[] = ["super_admin", "compliance", "finance", "support"];

export const PERMISSIONS = {
  "users:read": ALL,
  "users:freeze": ["super_admin", "compliance"],
  "vendors:read": ALL,
  "vendors:create": ["super_admin", "support"],
  "vendors:freeze": ["super_admin", "compliance"],
  "vendors:devices": ["super_admin", "support"],
  "admins:read": ["super_admin"],
  "admins:manage": ["super_admin"],
  "partners:read": ["super_admin", "finance", "compliance"],
  "partners:manage": ["super_admin", "finance"],
  // Requesting and approving a partner's funding top-up (its prefunded float), and lowering it.
  "partners:fund": ["super_admin", "finance"],
  "audit:read": ["super_admin", "compliance"],
  "transactions:read": ALL,
  "transactions:reverse": ["super_admin", "finance"],
  "approvals:decide": ["super_admin", "finance", "compliance"],
  "approvals:read": ALL,
  "withdrawals:approve": ["super_admin", "finance"],
  "airtime:read": ["super_admin", "finance", "support"],
  "kyc:read": ["super_admin", "compliance", "support"],
  "kyc:review": ["super_admin", "compliance"],
  // AML alerts, rules and the STR export (read); assigning, moving and closing alerts, editing rules (review).
  "aml:read": ["super_admin", "compliance"],
  "aml:review": ["super_admin", "compliance"],
  "sanctions:review": ["super_admin", "compliance"],
  // The sanctions list and its matches; screening a name by hand; clearing or confirming a match.
  "sanctions:read": ["super_admin", "compliance"],
  "sanctions:screen": ["super_admin", "compliance"],
  "sanctions:decide": ["super_admin", "compliance"],
  "reports:read": ["super_admin", "finance", "compliance"],
  "ledger:read": ["super_admin", "finance"],
  // The KYC tiers' limits (GET and PUT /admin/v1/settings/limits): every admin reads them, compliance sets them.
  "limits:read": ALL,
  "limits:manage": ["super_admin", "compliance"],
  "jobs:read": ["super_admin", "finance"],
} as const satisfies Record<string, readonly AdminRole[]>;

export type Permission = keyof typeof PERMISSIONS;

export const isPermission = (value: string): value is Permission => Object.hasOwn(PERMISSIONS, value);

export function can(role: string, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly string[]).includes(role);
}

export const permissionsOf = (role: string): Permission[] =>
  (Object.keys(PERMISSIONS) as Permission[]).filter((p) => can(role, p));

/** What a partner API key may be allowed to do. */
export const PARTNER_SCOPES = ["deposits:create", "transactions:read", "users:read", "webhooks:manage"] as const;
export type PartnerScope = (typeof PARTNER_SCOPES)[number];
export const DEFAULT_PARTNER_SCOPES: PartnerScope[] = ["deposits:create", "transactions:read"];
