import { Link } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { DataTable } from "@/components/data-table";
import { StatusBadge } from "@/components/status-badge";
import { money, when } from "@/lib/format";

type Transaction = components["schemas"]["AdminTransaction"];
const column = createColumnHelper<Transaction>();

const party = (p: Transaction["payer"]) => p.name ?? `${p.type} ${p.id}`;

export const transactionColumns = [
  column.accessor("id", {
    header: "Id",
    cell: (c) => (
      <Link to="/transactions/$id" params={{ id: c.getValue() }} className="font-mono text-xs text-primary underline">
        {c.getValue()}
      </Link>
    ),
  }),
  column.accessor("type", { header: "Type" }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("amount", { header: "Amount", cell: (c) => money(c.getValue(), c.row.original.currency) }),
  column.accessor("fee", { header: "Fee", cell: (c) => money(c.getValue(), c.row.original.currency) }),
  column.accessor("payer", { header: "From", cell: (c) => party(c.getValue()) }),
  column.accessor("payee", { header: "To", cell: (c) => party(c.getValue()) }),
  column.accessor("createdAt", { header: "When", cell: (c) => when(c.getValue()) }),
];

/** The latest transactions of one user, vendor or partner (a detail page's panel; the full search is /transactions). */
export function RecentTransactions({ filter }: { filter: { userId?: string; vendorId?: string; partnerId?: string } }) {
  const { data, isLoading, error, refetch } = api.useQuery("get", "/admin/v1/transactions", {
    params: { query: { ...filter, limit: 10 } },
  });
  return (
    <div className="space-y-2">
      <DataTable
        caption="Recent transactions"
        columns={transactionColumns}
        rows={data?.data}
        loading={isLoading}
        error={error}
        empty="No transactions yet."
        onRetry={() => refetch()}
      />
      {data?.nextCursor && (
        <Link to="/transactions" search={filter} className="text-sm text-primary underline">
          All their transactions
        </Link>
      )}
    </div>
  );
}
