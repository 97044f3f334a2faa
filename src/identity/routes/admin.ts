import type { Audit } from "../../audit";
import { createRouter } from "../../http/router";
import type { Identity } from "..";
import { adminAdminRoutes } from "./admin-admins";
import { adminPartnerRoutes } from "./admin-partners";
import { adminSessionRoutes } from "./admin-session";
import { adminUserRoutes } from "./admin-users";
import { adminVendorRoutes } from "./admin-vendors";

/**
 * /admin/v1: sign-in, and users, vendors, admins and partners as the dashboard manages them. Every write is audited.
 * Mounted in this order, which is the OpenAPI document's order and the order routes are matched in.
 */
export function adminRoutes(deps: { identity: Identity; audit: Audit }) {
  const router = createRouter();
  for (const routes of [
    adminSessionRoutes(deps),
    adminUserRoutes(deps),
    adminVendorRoutes(deps),
    adminAdminRoutes(deps),
    adminPartnerRoutes(deps),
  ])
    router.route("/", routes);
  return router;
}
