import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { DataTable } from "@/components/data-table";
import { Facts, Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { money, when } from "@/lib/format";

type Order = components["schemas"]["AirtimeOrder"];
const column = createColumnHelper<Order>();
const columns = [
  column.accessor("id", { header: "Order", cell: (c) => <span className="font-mono text-xs">{c.getValue()}</span> }),
  column.accessor("operator", { header: "Operator" }),
  column.accessor("msisdn", { header: "Number" }),
  column.accessor("amount", { header: "Amount", cell: (c) => money(c.getValue(), c.row.original.currency) }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("resultDescription", { header: "Operator said", cell: (c) => c.getValue() ?? "—" }),
  column.accessor("attempts", { header: "Attempts", cell: (c) => c.getValue().length }),
  column.accessor("nextCheckAt", { header: "Next check", cell: (c) => when(c.getValue()) }),
  column.accessor("createdAt", { header: "Ordered", cell: (c) => when(c.getValue()) }),
];

/** Airtime whose outcome the operator has not settled yet: what reconciliation still has to check. */
export function AirtimePage() {
  const reconciliation = api.useQuery("get", "/admin/v1/airtime/reconciliation", {
    params: { query: { limit: 100 } },
  });
  return (
    <>
      <PageHeader title="Airtime reconciliation" description="Top-ups still waiting for the operator's answer." />
      <Card className="mb-4">
        <CardHeader>
          <CardTitle>Unsettled</CardTitle>
        </CardHeader>
        <CardContent>
          <Loadable loading={reconciliation.isLoading} error={reconciliation.error}>
            {() => {
              const t = reconciliation.data!.totals;
              return (
                <Facts
                  items={[
                    ["Orders", t.count],
                    ["Amount", money(t.amount)],
                    ...Object.entries(t.byOperator).map(
                      ([op, v]) => [op, `${v.count} · ${money(v.amount)}`] as [string, string],
                    ),
                    ["Oldest", when(t.oldestCreatedAt)],
                  ]}
                />
              );
            }}
          </Loadable>
        </CardContent>
      </Card>
      <DataTable
        caption="Unsettled airtime orders"
        columns={columns}
        rows={reconciliation.data?.data}
        loading={reconciliation.isLoading}
        error={reconciliation.error}
        empty="Nothing to reconcile."
        onRetry={() => reconciliation.refetch()}
      />
    </>
  );
}
