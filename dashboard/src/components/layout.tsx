import { useQueryClient } from "@tanstack/react-query";
import { Link, Navigate, Outlet, useNavigate } from "@tanstack/react-router";
import {
  ArrowLeftRight,
  BadgeCheck,
  Banknote,
  BookOpen,
  Building2,
  ClipboardCheck,
  FileText,
  Handshake,
  LayoutDashboard,
  LogOut,
  type LucideIcon,
  Phone,
  ScrollText,
  Settings,
  ShieldAlert,
  ShieldCheck,
  Store,
  Timer,
  Users,
} from "lucide-react";
import { useEffect } from "react";
import { api } from "@/api/client";
import { can, signOut, signOutEverywhere, updateAdmin, useSession } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { Button } from "@/components/ui/button";

interface NavItem {
  to: string;
  label: string;
  icon: LucideIcon;
  /** The permission of the page's list route; without it the page is not offered. */
  permission?: string;
}

export const NAV: NavItem[] = [
  { to: "/", label: "Overview", icon: LayoutDashboard },
  { to: "/users", label: "Users", icon: Users, permission: "users:read" },
  { to: "/vendors", label: "Vendors", icon: Store, permission: "vendors:read" },
  { to: "/transactions", label: "Transactions", icon: ArrowLeftRight, permission: "transactions:read" },
  { to: "/approvals", label: "Approvals", icon: ClipboardCheck, permission: "approvals:read" },
  { to: "/kyc", label: "KYC review", icon: BadgeCheck, permission: "kyc:read" },
  { to: "/aml", label: "AML alerts", icon: ShieldAlert, permission: "aml:read" },
  { to: "/sanctions", label: "Sanctions", icon: ShieldCheck, permission: "sanctions:read" },
  { to: "/reports", label: "Reports", icon: FileText, permission: "reports:read" },
  { to: "/audit", label: "Audit log", icon: ScrollText, permission: "audit:read" },
  { to: "/partners", label: "Partners", icon: Handshake, permission: "partners:read" },
  { to: "/admins", label: "Admins", icon: Building2, permission: "admins:read" },
  { to: "/jobs", label: "Jobs", icon: Timer, permission: "jobs:read" },
  { to: "/ledger", label: "Ledger", icon: BookOpen, permission: "ledger:read" },
  { to: "/airtime", label: "Airtime", icon: Phone, permission: "airtime:read" },
  { to: "/settings", label: "Settings", icon: Settings, permission: "limits:read" },
];

export function AppLayout() {
  const session = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const admin = session?.admin;
  // What the navigation and every action offer follows GET /admin/v1/me (the role may change while signed in).
  const me = api.useQuery("get", "/admin/v1/me", {}, { enabled: !!session, staleTime: 60_000 });
  useEffect(() => {
    if (me.data) updateAdmin(me.data);
  }, [me.data]);
  // The API ended the session (signed out elsewhere, expired, admin disabled): back to the sign-in page.
  if (!session) return <Navigate to="/sign-in" />;
  return (
    <div className="flex min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50">
        Skip to content
      </a>
      <aside className="w-56 shrink-0 border-r bg-muted/40">
        <div className="flex items-center gap-2 px-4 py-4 font-semibold text-primary">
          <Banknote className="size-5" aria-hidden /> Keshless
        </div>
        <nav aria-label="Main">
          <ul className="space-y-0.5 px-2">
            {NAV.filter((item) => !item.permission || can(item.permission)).map((item) => (
              <li key={item.to}>
                <Link
                  to={item.to as "/"}
                  activeOptions={{ exact: item.to === "/" }}
                  className="flex items-center gap-2 rounded-md px-2 py-1.5 text-sm hover:bg-accent data-[status=active]:bg-accent data-[status=active]:font-medium data-[status=active]:text-accent-foreground"
                >
                  <item.icon className="size-4" aria-hidden />
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center justify-end gap-3 border-b px-6 py-2 text-sm">
          <span>
            {admin?.email} <span className="text-muted-foreground">({admin?.role.replace("_", " ")})</span>
          </span>
          <ConfirmAction
            label="Sign out everywhere"
            variant="ghost"
            title="Sign out everywhere?"
            description="Every session of yours ends: this one, other tabs and other devices."
            onConfirm={async () => {
              await signOutEverywhere();
              queryClient.clear();
              await navigate({ to: "/sign-in" });
            }}
          />
          <Button
            variant="outline"
            size="sm"
            onClick={async () => {
              await signOut();
              queryClient.clear();
              await navigate({ to: "/sign-in" });
            }}
          >
            <LogOut aria-hidden /> Sign out
          </Button>
        </header>
        <main id="main" className="flex-1 p-6">
          <Outlet />
        </main>
      </div>
    </div>
  );
}
