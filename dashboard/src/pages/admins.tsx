import { useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { QRCodeSVG } from "qrcode.react";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can, currentAdmin } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { FormDialog } from "@/components/form-dialog";
import { PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { when } from "@/lib/format";
import { listSearch as adminsSearch, useListUrl } from "@/lib/search";

export { adminsSearch };

type Admin = components["schemas"]["Admin"];
const ROLES = ["support", "compliance", "finance", "super_admin"] as const;

function Disable({ admin }: { admin: Admin }) {
  const refreshAll = useRefreshAll();
  const disable = api.useMutation("post", "/admin/v1/admins/{id}/disable");
  if (!can("admins:manage") || admin.status !== "active" || admin.id === currentAdmin()?.id) return null;
  return (
    <ConfirmAction
      label="Disable"
      variant="destructive"
      title={`Disable ${admin.email}?`}
      description="Their sessions end at once and they cannot sign in again."
      reason={{ label: "Reason" }}
      onConfirm={async (reason) => {
        await disable.mutateAsync({ params: { path: { id: admin.id } }, body: { reason } });
        await refreshAll();
      }}
    />
  );
}

const column = createColumnHelper<Admin>();
const columns = [
  column.accessor("email", { header: "Email" }),
  column.accessor("role", { header: "Role", cell: (c) => c.getValue().replace("_", " ") }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("lastLoginAt", { header: "Last sign-in", cell: (c) => when(c.getValue()) }),
  column.accessor("createdAt", { header: "Created", cell: (c) => when(c.getValue()) }),
  column.display({
    id: "actions",
    header: () => <span className="sr-only">Actions</span>,
    cell: (c) => <Disable admin={c.row.original} />,
  }),
];

export function AdminsPage() {
  const refreshAll = useRefreshAll();
  const search = useSearch({ from: "/app/admins" });
  const list = api.useQuery("get", "/admin/v1/admins", { params: { query: { cursor: search.cursor } } });
  const { paging } = useListUrl(search, list.data?.nextCursor);
  const create = api.useMutation("post", "/admin/v1/admins");
  return (
    <>
      <PageHeader title="Admins" description="Who can sign in here, with which role.">
        {can("admins:manage") && (
          <FormDialog
            label="Create admin"
            title="Create an admin"
            description="They sign in with this password and an authenticator app; give them the QR or let them set it up at first sign-in."
            submitLabel="Create"
            fields={[
              { name: "email", label: "Email", type: "email" },
              { name: "password", label: "Initial password", type: "password" },
              { name: "role", label: "Role", options: ROLES },
            ]}
            onSubmit={async (v) => {
              const created = await create.mutateAsync({
                body: { email: v.email!, password: v.password!, role: v.role as (typeof ROLES)[number] },
              });
              await refreshAll();
              return created;
            }}
            renderResult={(r) => {
              const created = r as { email: string; otpauthUrl: string };
              return (
                <div className="grid justify-items-center gap-2 text-sm">
                  <p>Authenticator QR for {created.email} — shown only now.</p>
                  <QRCodeSVG value={created.otpauthUrl} size={176} title="Authenticator QR code" marginSize={2} />
                </div>
              );
            }}
          />
        )}
      </PageHeader>
      <DataTable
        caption="Admins"
        columns={columns}
        rows={list.data?.data}
        loading={list.isLoading}
        error={list.error}
        empty="No admins."
        paging={paging}
        onRetry={() => list.refetch()}
      />
    </>
  );
}
