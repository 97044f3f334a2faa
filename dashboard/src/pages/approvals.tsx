import { Link, useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can, currentAdmin } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { money, when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

type Approval = components["schemas"]["Approval"];
const STATUSES = ["pending", "approved", "rejected", "expired"] as const;

export interface ApprovalsSearch extends ListSearch {
  status?: (typeof STATUSES)[number];
  kind?: string;
  subjectId?: string;
}

export const approvalsSearch = (s: Record<string, unknown>): ApprovalsSearch => ({
  ...listSearch(s),
  status: oneOf(s.status, STATUSES),
  kind: text(s.kind),
  subjectId: text(s.subjectId),
});

function Decide({ approval }: { approval: Approval }) {
  const refreshAll = useRefreshAll();
  const approve = api.useMutation("post", "/admin/v1/approvals/{id}/approve");
  const reject = api.useMutation("post", "/admin/v1/approvals/{id}/reject");
  const me = currentAdmin();
  // The maker never decides their own request (the API refuses with MAKER_CANNOT_CHECK); nor twice.
  if (!can("approvals:decide") || approval.status !== "pending") return null;
  if (approval.requestedBy.id === me?.id) return <span className="text-xs text-muted-foreground">Your request</span>;
  if (approval.checkers.some((c) => c.adminId === me?.id))
    return <span className="text-xs text-muted-foreground">You approved</span>;
  const what = `${approval.kind} ${approval.subjectId}${approval.amount !== null ? ` of ${money(approval.amount, approval.currency ?? "SZL")}` : ""}`;
  const path = { id: approval.id };
  const header = { "idempotency-key": crypto.randomUUID() };
  return (
    <div className="flex gap-2">
      <ConfirmAction
        label="Approve"
        title="Approve this request?"
        description={`This carries out the ${what} when it is the last approval needed.`}
        reason={{ label: "Note (optional)", required: false }}
        onConfirm={async (note) => {
          await approve.mutateAsync({ params: { path, header }, body: note ? { note } : {} });
          await refreshAll();
        }}
      />
      <ConfirmAction
        label="Reject"
        variant="destructive"
        title="Reject this request?"
        description={`The ${what} will not happen; the requester is told your reason.`}
        reason={{ label: "Reason" }}
        onConfirm={async (reason) => {
          await reject.mutateAsync({ params: { path, header }, body: { reason } });
          await refreshAll();
        }}
      />
    </div>
  );
}

const column = createColumnHelper<Approval>();
const columns = [
  column.accessor("kind", { header: "Kind" }),
  column.accessor("subjectId", {
    header: "Subject",
    cell: (c) =>
      c.getValue().startsWith("txn_") ? (
        <Link to="/transactions/$id" params={{ id: c.getValue() }} className="font-mono text-xs text-primary underline">
          {c.getValue()}
        </Link>
      ) : (
        <span className="font-mono text-xs">{c.getValue()}</span>
      ),
  }),
  column.accessor("amount", { header: "Amount", cell: (c) => money(c.getValue(), c.row.original.currency ?? "SZL") }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("requestedBy", { header: "Requested by", cell: (c) => c.getValue().id }),
  // The maker's reason travels in the request's summary; `reason` is the checker's, once rejected.
  column.accessor((a) => a.reason ?? (typeof a.summary.reason === "string" ? a.summary.reason : null), {
    id: "reason",
    header: "Reason",
    cell: (c) => c.getValue() ?? "—",
  }),
  column.accessor("requiredApprovals", {
    header: "Approvals",
    cell: (c) => `${c.row.original.checkers.length} / ${c.getValue()}`,
  }),
  column.accessor("createdAt", { header: "Asked", cell: (c) => when(c.getValue()) }),
  column.accessor("expiresAt", { header: "Expires", cell: (c) => when(c.getValue()) }),
  column.display({
    id: "decide",
    header: () => <span className="sr-only">Decision</span>,
    cell: (c) => <Decide approval={c.row.original} />,
  }),
];

export function ApprovalsPage() {
  const search = useSearch({ from: "/app/approvals" });
  const { data, isLoading, error, refetch } = api.useQuery("get", "/admin/v1/approvals", {
    params: { query: { status: search.status, kind: search.kind, subjectId: search.subjectId, cursor: search.cursor } },
  });
  const { paging, setFilters } = useListUrl(search, data?.nextCursor);
  return (
    <>
      <PageHeader
        title="Approvals"
        description="Maker-checker: reversals, withdrawals, cards, partners and top-ups wait here for a second admin."
      />
      <Filters
        fields={[
          { name: "status", label: "Status", options: STATUSES },
          { name: "kind", label: "Kind", placeholder: "reversal" },
          { name: "subjectId", label: "Subject id" },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="Approvals"
        columns={columns}
        rows={data?.data}
        loading={isLoading}
        error={error}
        empty="Nothing waits for a decision."
        paging={paging}
        onRetry={() => refetch()}
      />
    </>
  );
}
