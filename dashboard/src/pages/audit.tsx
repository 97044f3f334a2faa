import { useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { PageHeader } from "@/components/page";
import { when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

type Record_ = components["schemas"]["AuditRecord"];
const ACTORS = ["admin", "user", "vendor", "partner", "system", "anonymous"] as const;

export interface AuditSearch extends ListSearch {
  actorType?: (typeof ACTORS)[number];
  actorId?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
}

export const auditSearch = (s: Record<string, unknown>): AuditSearch => ({
  ...listSearch(s),
  actorType: oneOf(s.actorType, ACTORS),
  actorId: text(s.actorId),
  action: text(s.action),
  targetType: text(s.targetType),
  targetId: text(s.targetId),
});

const column = createColumnHelper<Record_>();
const columns = [
  column.accessor("at", { header: "When", cell: (c) => when(c.getValue()) }),
  column.accessor("action", { header: "Action" }),
  column.accessor("actorId", { header: "Actor", cell: (c) => `${c.row.original.actorType} ${c.getValue() ?? ""}` }),
  column.accessor("targetId", {
    header: "Target",
    cell: (c) => (c.getValue() ? `${c.row.original.targetType} ${c.getValue()}` : "—"),
  }),
  column.accessor("ip", { header: "IP", cell: (c) => c.getValue() ?? "—" }),
  column.accessor("details", {
    header: "Details",
    cell: (c) => <code className="block max-w-md truncate text-xs">{JSON.stringify(c.getValue())}</code>,
  }),
];

export function AuditPage() {
  const search = useSearch({ from: "/app/audit" });
  const { cursor, actorType, actorId, action, targetType, targetId } = search;
  const { data, isLoading, error, refetch } = api.useQuery("get", "/admin/v1/audit", {
    params: { query: { cursor, actorType, actorId, action, targetType, targetId } },
  });
  const { paging, setFilters } = useListUrl(search, data?.nextCursor);
  return (
    <>
      <PageHeader title="Audit log" description="Every write and every admin read of personal data, append-only." />
      <Filters
        fields={[
          { name: "action", label: "Action (family.*)", placeholder: "user.*" },
          { name: "actorType", label: "Actor type", options: ACTORS },
          { name: "actorId", label: "Actor id" },
          { name: "targetType", label: "Target type" },
          { name: "targetId", label: "Target id" },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="Audit records"
        columns={columns}
        rows={data?.data}
        loading={isLoading}
        error={error}
        empty="No record matches."
        paging={paging}
        onRetry={() => refetch()}
      />
    </>
  );
}
