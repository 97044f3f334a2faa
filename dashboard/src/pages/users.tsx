import { Link, useParams, useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { Facts, Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { RecentTransactions } from "@/components/transaction-table";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { money, when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

type User = components["schemas"]["User"];
const STATUSES = ["active", "frozen", "deleted"] as const;

export interface UsersSearch extends ListSearch {
  q?: string;
  status?: (typeof STATUSES)[number];
}

export const usersSearch = (s: Record<string, unknown>): UsersSearch => ({
  ...listSearch(s),
  q: text(s.q),
  status: oneOf(s.status, STATUSES),
});

const column = createColumnHelper<User>();
const columns = [
  column.accessor("phone", {
    header: "Phone",
    cell: (c) => (
      <Link to="/users/$id" params={{ id: c.row.original.id }} className="text-primary underline">
        {c.getValue()}
      </Link>
    ),
  }),
  column.accessor("name", { header: "Name", cell: (c) => c.getValue() ?? "—" }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("kycTier", { header: "KYC tier" }),
  column.accessor("hasPin", { header: "PIN set", cell: (c) => (c.getValue() ? "yes" : "no") }),
];

export function UsersPage() {
  const search = useSearch({ from: "/app/users" });
  const { data, isLoading, error, refetch } = api.useQuery("get", "/admin/v1/users", {
    params: { query: { q: search.q, status: search.status, cursor: search.cursor } },
  });
  const { paging, setFilters } = useListUrl(search, data?.nextCursor);
  return (
    <>
      <PageHeader title="Users" description="Search by phone (or its last digits), name or id." />
      <Filters
        fields={[
          { name: "q", label: "Phone, name or id", type: "search", placeholder: "+26876…" },
          { name: "status", label: "Status", options: STATUSES },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="Users"
        columns={columns}
        rows={data?.data}
        loading={isLoading}
        error={error}
        empty="No user matches."
        paging={paging}
        onRetry={() => refetch()}
      />
    </>
  );
}

export function UserPage() {
  const { id } = useParams({ from: "/app/users/$id" });
  const refreshAll = useRefreshAll();
  const user = api.useQuery("get", "/admin/v1/users/{id}", { params: { path: { id } } });
  const freeze = api.useMutation("post", "/admin/v1/users/{id}/freeze");
  const unfreeze = api.useMutation("post", "/admin/v1/users/{id}/unfreeze");
  const setTier = api.useMutation("post", "/admin/v1/users/{id}/kyc-tier");
  const kyc = api.useQuery(
    "get",
    "/admin/v1/kyc/submissions",
    { params: { query: { userId: id, limit: 10 } } },
    { enabled: can("kyc:read") },
  );
  const [tier, setTierValue] = useState("1");

  return (
    <Loadable loading={user.isLoading} error={user.error}>
      {() => {
        const u = user.data!;
        return (
          <>
            <PageHeader title={u.name ?? u.phone} description={`${u.phone} · ${u.id}`}>
              {can("users:freeze") &&
                (u.status === "frozen" ? (
                  <ConfirmAction
                    label="Unfreeze"
                    title="Unfreeze this user?"
                    description="They can sign in and move money again."
                    reason={{ label: "Reason (recorded in the audit log)" }}
                    onConfirm={async (reason) => {
                      await unfreeze.mutateAsync({ params: { path: { id } }, body: { reason } });
                      await refreshAll();
                    }}
                  />
                ) : (
                  <ConfirmAction
                    label="Freeze"
                    variant="destructive"
                    title="Freeze this user?"
                    description="They cannot sign in or move money, and their current sessions stop working."
                    reason={{ label: "Reason (recorded in the audit log)" }}
                    onConfirm={async (reason) => {
                      await freeze.mutateAsync({ params: { path: { id } }, body: { reason } });
                      await refreshAll();
                    }}
                  />
                ))}
              {can("kyc:review") && (
                <ConfirmAction
                  label="Set KYC tier"
                  variant="outline"
                  title="Set this user's KYC tier"
                  description="Their limits change at once."
                  reason={{ label: "Reason" }}
                  onConfirm={async (reason) => {
                    await setTier.mutateAsync({ params: { path: { id } }, body: { tier: Number(tier), reason } });
                    await refreshAll();
                  }}
                >
                  <div className="grid gap-1.5">
                    <Label htmlFor="tier">Tier</Label>
                    <NativeSelect id="tier" value={tier} onChange={(e) => setTierValue(e.target.value)}>
                      {[0, 1, 2].map((t) => (
                        <option key={t} value={t}>
                          Tier {t}
                        </option>
                      ))}
                    </NativeSelect>
                  </div>
                </ConfirmAction>
              )}
            </PageHeader>
            <div className="grid gap-4 lg:grid-cols-2">
              <Card>
                <CardHeader>
                  <CardTitle>Profile</CardTitle>
                </CardHeader>
                <CardContent>
                  <Facts
                    items={[
                      ["Status", <StatusBadge key="s" status={u.status} />],
                      ["Status reason", u.statusReason],
                      ["KYC tier", u.kycTier],
                      ["PIN set", u.hasPin ? "yes" : "no"],
                      ["PIN locked until", u.pinLockedUntil ? when(u.pinLockedUntil) : "—"],
                      ["Last sign-in", when(u.lastLoginAt)],
                      ["Joined", when(u.createdAt)],
                    ]}
                  />
                </CardContent>
              </Card>
              <Card>
                <CardHeader>
                  <CardTitle>Wallet</CardTitle>
                </CardHeader>
                <CardContent>
                  {u.wallet ? (
                    <Facts
                      items={[
                        [
                          "Balance",
                          <span key="b" data-testid="wallet-balance">
                            {money(u.wallet.balance, u.wallet.currency)}
                          </span>,
                        ],
                        ["Available", money(u.wallet.available, u.wallet.currency)],
                        [
                          "Account",
                          <span key="a" className="font-mono text-xs">
                            {u.wallet.accountId}
                          </span>,
                        ],
                      ]}
                    />
                  ) : (
                    <p className="text-sm text-muted-foreground">No wallet.</p>
                  )}
                </CardContent>
              </Card>
            </div>
            <h2 className="mt-6 mb-2 text-lg font-semibold">Transactions</h2>
            {can("transactions:read") && <RecentTransactions filter={{ userId: id }} />}
            {can("kyc:read") && (
              <>
                <h2 className="mt-6 mb-2 text-lg font-semibold">KYC submissions</h2>
                <Loadable loading={kyc.isLoading} error={kyc.error}>
                  {() =>
                    kyc.data?.data.length ? (
                      <ul className="space-y-1 text-sm">
                        {kyc.data.data.map((s) => (
                          <li key={s.id}>
                            <Link to="/kyc/$id" params={{ id: s.id }} className="text-primary underline">
                              {s.id}
                            </Link>{" "}
                            <StatusBadge status={s.status} /> {when(s.createdAt)}
                          </li>
                        ))}
                      </ul>
                    ) : (
                      <p className="text-sm text-muted-foreground">No submissions.</p>
                    )
                  }
                </Loadable>
              </>
            )}
          </>
        );
      }}
    </Loadable>
  );
}
