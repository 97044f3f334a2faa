import { Link, useParams, useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { FormDialog } from "@/components/form-dialog";
import { Facts, Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { RecentTransactions } from "@/components/transaction-table";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

type Vendor = components["schemas"]["VendorView"];
type Device = components["schemas"]["VendorDevice"];
const STATUSES = ["active", "frozen", "deleted"] as const;

export interface VendorsSearch extends ListSearch {
  q?: string;
  status?: (typeof STATUSES)[number];
}

export const vendorsSearch = (s: Record<string, unknown>): VendorsSearch => ({
  ...listSearch(s),
  q: text(s.q),
  status: oneOf(s.status, STATUSES),
});

const column = createColumnHelper<Vendor>();
const columns = [
  column.accessor("name", {
    header: "Name",
    cell: (c) => (
      <Link to="/vendors/$id" params={{ id: c.row.original.id }} className="text-primary underline">
        {c.getValue()}
      </Link>
    ),
  }),
  column.accessor("code", { header: "Code" }),
  column.accessor("phone", { header: "Phone" }),
  column.accessor("category", { header: "Category", cell: (c) => c.getValue() ?? "—" }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("createdAt", { header: "Created", cell: (c) => when(c.getValue()) }),
];

export function VendorsPage() {
  const search = useSearch({ from: "/app/vendors" });
  const refreshAll = useRefreshAll();
  const { data, isLoading, error, refetch } = api.useQuery("get", "/admin/v1/vendors", {
    params: { query: { q: search.q, status: search.status, cursor: search.cursor } },
  });
  const create = api.useMutation("post", "/admin/v1/vendors");
  const { paging, setFilters } = useListUrl(search, data?.nextCursor);
  return (
    <>
      <PageHeader title="Vendors" description="Market stalls, shops and taxis that take payments.">
        {can("vendors:create") && (
          <FormDialog
            label="Create vendor"
            title="Create a vendor"
            description="Opens its wallet and gives it the 6-digit code payers type."
            submitLabel="Create"
            fields={[
              { name: "name", label: "Name" },
              { name: "email", label: "Email", type: "email" },
              { name: "phone", label: "Phone" },
              { name: "password", label: "Initial password", type: "password" },
              { name: "category", label: "Category", required: false },
            ]}
            onSubmit={async (v) => {
              await create.mutateAsync({
                body: {
                  name: v.name!,
                  email: v.email!,
                  phone: v.phone!,
                  password: v.password!,
                  ...(v.category ? { category: v.category } : {}),
                },
              });
              await refreshAll();
            }}
          />
        )}
      </PageHeader>
      <Filters
        fields={[
          { name: "q", label: "Name, email, code or phone", type: "search" },
          { name: "status", label: "Status", options: STATUSES },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="Vendors"
        columns={columns}
        rows={data?.data}
        loading={isLoading}
        error={error}
        empty="No vendor matches."
        paging={paging}
        onRetry={() => refetch()}
      />
    </>
  );
}

const deviceColumn = createColumnHelper<Device>();

export function VendorPage() {
  const { id } = useParams({ from: "/app/vendors/$id" });
  const refreshAll = useRefreshAll();
  const vendor = api.useQuery("get", "/admin/v1/vendors/{id}", { params: { path: { id } } });
  const devices = api.useQuery("get", "/admin/v1/vendors/{id}/devices", { params: { path: { id } } });
  const freeze = api.useMutation("post", "/admin/v1/vendors/{id}/freeze");
  const unfreeze = api.useMutation("post", "/admin/v1/vendors/{id}/unfreeze");
  const revoke = api.useMutation("delete", "/admin/v1/vendors/{id}/devices/{deviceId}");
  const deviceColumns = [
    deviceColumn.accessor("deviceId", { header: "Device" }),
    deviceColumn.accessor("trustedAt", { header: "Trusted", cell: (c) => when(c.getValue()) }),
    deviceColumn.accessor("lastSeenAt", { header: "Last seen", cell: (c) => when(c.getValue()) }),
    deviceColumn.accessor("revokedAt", { header: "Revoked", cell: (c) => when(c.getValue()) }),
    deviceColumn.display({
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) =>
        can("vendors:devices") && !c.row.original.revokedAt ? (
          <ConfirmAction
            label="Revoke"
            variant="destructive"
            title="Revoke this device?"
            description="Its sessions end; signing in from it needs a new verification code."
            onConfirm={async () => {
              await revoke.mutateAsync({ params: { path: { id, deviceId: c.row.original.id } } });
              await refreshAll();
            }}
          />
        ) : null,
    }),
  ];
  return (
    <Loadable loading={vendor.isLoading} error={vendor.error}>
      {() => {
        const v = vendor.data!;
        return (
          <>
            <PageHeader title={v.name} description={`Code ${v.code} · ${v.id}`}>
              {can("vendors:freeze") &&
                (v.status === "frozen" ? (
                  <ConfirmAction
                    label="Unfreeze"
                    title="Unfreeze this vendor?"
                    description="It can take payments and withdraw again."
                    reason={{ label: "Reason" }}
                    onConfirm={async (reason) => {
                      await unfreeze.mutateAsync({ params: { path: { id } }, body: { reason } });
                      await refreshAll();
                    }}
                  />
                ) : (
                  <ConfirmAction
                    label="Freeze"
                    variant="destructive"
                    title="Freeze this vendor?"
                    description="It cannot sign in, take payments or withdraw."
                    reason={{ label: "Reason" }}
                    onConfirm={async (reason) => {
                      await freeze.mutateAsync({ params: { path: { id } }, body: { reason } });
                      await refreshAll();
                    }}
                  />
                ))}
            </PageHeader>
            <Card>
              <CardHeader>
                <CardTitle>Profile</CardTitle>
              </CardHeader>
              <CardContent>
                <Facts
                  items={[
                    ["Status", <StatusBadge key="s" status={v.status} />],
                    ["Status reason", v.statusReason],
                    ["Email", v.email],
                    ["Phone", v.phone],
                    ["Category", v.category],
                    ["Registration", v.registrationNumber],
                    ["Address", v.address],
                    ["Locked until", when(v.lockedUntil)],
                    ["Last sign-in", when(v.lastLoginAt)],
                    ["Created", when(v.createdAt)],
                  ]}
                />
              </CardContent>
            </Card>
            <h2 className="mt-6 mb-2 text-lg font-semibold">Trusted devices</h2>
            <DataTable
              caption="Devices"
              columns={deviceColumns}
              rows={devices.data?.data}
              loading={devices.isLoading}
              error={devices.error}
              empty="No trusted devices."
            />
            <h2 className="mt-6 mb-2 text-lg font-semibold">Transactions</h2>
            {can("transactions:read") && <RecentTransactions filter={{ vendorId: id }} />}
          </>
        );
      }}
    </Loadable>
  );
}
