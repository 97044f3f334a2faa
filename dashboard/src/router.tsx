import {
  createRootRoute,
  createRoute,
  createRouter,
  lazyRouteComponent,
  Outlet,
  redirect,
} from "@tanstack/react-router";
import { currentAdmin } from "@/auth/session";
import { AppLayout } from "@/components/layout";
import { AdminsPage, adminsSearch } from "@/pages/admins";
import { AirtimePage } from "@/pages/airtime";
import { AmlAlertPage, AmlPage, amlSearch } from "@/pages/aml";
import { ApprovalsPage, approvalsSearch } from "@/pages/approvals";
import { AuditPage, auditSearch } from "@/pages/audit";
import { JobsPage, jobsSearch } from "@/pages/jobs";
import { KycPage, KycSubmissionPage, kycSearch } from "@/pages/kyc";
import { LedgerPage, ledgerSearch } from "@/pages/ledger";
import { NotFound } from "@/pages/not-found";
import { PartnerPage, PartnersPage, partnersSearch } from "@/pages/partners";
import { ReportsPage, reportsSearch } from "@/pages/reports";
import { SanctionsPage, sanctionsSearch } from "@/pages/sanctions";
import { SettingsPage } from "@/pages/settings";
import { SignInPage } from "@/pages/sign-in";
import { TransactionPage, TransactionsPage, transactionsSearch } from "@/pages/transactions";
import { UserPage, UsersPage, usersSearch } from "@/pages/users";
import { VendorPage, VendorsPage, vendorsSearch } from "@/pages/vendors";

const rootRoute = createRootRoute({ component: Outlet, notFoundComponent: NotFound });

const signInRoute = createRoute({ getParentRoute: () => rootRoute, path: "/sign-in", component: SignInPage });

/** Everything else needs a session: without one (a reload forgets it) the sign-in page. */
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  component: AppLayout,
  beforeLoad: () => {
    if (!currentAdmin()) throw redirect({ to: "/sign-in" });
  },
});

const routeTree = rootRoute.addChildren([
  signInRoute,
  appRoute.addChildren([
    createRoute({
      getParentRoute: () => appRoute,
      path: "/",
      component: lazyRouteComponent(() => import("@/pages/overview"), "OverviewPage"),
    }),
    createRoute({ getParentRoute: () => appRoute, path: "/users", validateSearch: usersSearch, component: UsersPage }),
    createRoute({ getParentRoute: () => appRoute, path: "/users/$id", component: UserPage }),
    createRoute({
      getParentRoute: () => appRoute,
      path: "/vendors",
      validateSearch: vendorsSearch,
      component: VendorsPage,
    }),
    createRoute({ getParentRoute: () => appRoute, path: "/vendors/$id", component: VendorPage }),
    createRoute({
      getParentRoute: () => appRoute,
      path: "/transactions",
      validateSearch: transactionsSearch,
      component: TransactionsPage,
    }),
    createRoute({ getParentRoute: () => appRoute, path: "/transactions/$id", component: TransactionPage }),
    createRoute({
      getParentRoute: () => appRoute,
      path: "/approvals",
      validateSearch: approvalsSearch,
      component: ApprovalsPage,
    }),
    createRoute({ getParentRoute: () => appRoute, path: "/kyc", validateSearch: kycSearch, component: KycPage }),
    createRoute({ getParentRoute: () => appRoute, path: "/kyc/$id", component: KycSubmissionPage }),
    createRoute({ getParentRoute: () => appRoute, path: "/aml", validateSearch: amlSearch, component: AmlPage }),
    createRoute({ getParentRoute: () => appRoute, path: "/aml/$id", component: AmlAlertPage }),
    createRoute({
      getParentRoute: () => appRoute,
      path: "/sanctions",
      validateSearch: sanctionsSearch,
      component: SanctionsPage,
    }),
    createRoute({
      getParentRoute: () => appRoute,
      path: "/reports",
      validateSearch: reportsSearch,
      component: ReportsPage,
    }),
    createRoute({ getParentRoute: () => appRoute, path: "/audit", validateSearch: auditSearch, component: AuditPage }),
    createRoute({
      getParentRoute: () => appRoute,
      path: "/partners",
      validateSearch: partnersSearch,
      component: PartnersPage,
    }),
    createRoute({ getParentRoute: () => appRoute, path: "/partners/$id", component: PartnerPage }),
    createRoute({
      getParentRoute: () => appRoute,
      path: "/admins",
      validateSearch: adminsSearch,
      component: AdminsPage,
    }),
    createRoute({ getParentRoute: () => appRoute, path: "/jobs", validateSearch: jobsSearch, component: JobsPage }),
    createRoute({
      getParentRoute: () => appRoute,
      path: "/ledger",
      validateSearch: ledgerSearch,
      component: LedgerPage,
    }),
    createRoute({ getParentRoute: () => appRoute, path: "/airtime", component: AirtimePage }),
    createRoute({ getParentRoute: () => appRoute, path: "/settings", component: SettingsPage }),
  ]),
]);

export const router = createRouter({ routeTree, defaultPreload: false, scrollRestoration: true });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
