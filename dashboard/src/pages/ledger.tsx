import { useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { Loadable, PageHeader } from "@/components/page";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { money, when } from "@/lib/format";
import { type ListSearch, listSearch, text, useListUrl } from "@/lib/search";

type Kind = components["schemas"]["TrialBalance"]["currencies"][number]["kinds"][number];
type Account = components["schemas"]["LedgerAccount"];

const kind = createColumnHelper<Kind>();
const kindColumns = (currency: string) => [
  kind.accessor("kind", { header: "Kind" }),
  kind.accessor("accountCount", { header: "Accounts" }),
  kind.accessor("balance", { header: "Balance", cell: (c) => money(c.getValue(), currency) }),
];

const account = createColumnHelper<Account>();
const accountColumns = [
  account.accessor("code", { header: "Code", cell: (c) => <span className="font-mono text-xs">{c.getValue()}</span> }),
  account.accessor("kind", { header: "Kind" }),
  account.accessor("ownerId", { header: "Owner", cell: (c) => c.getValue() ?? "—" }),
  account.accessor("balance", { header: "Balance", cell: (c) => money(c.getValue(), c.row.original.currency) }),
  account.accessor("held", { header: "Held", cell: (c) => money(c.getValue(), c.row.original.currency) }),
  account.accessor("available", { header: "Available", cell: (c) => money(c.getValue(), c.row.original.currency) }),
  account.accessor("shardCount", { header: "Shards" }),
];

export interface LedgerSearch extends ListSearch {
  kind?: string;
  ownerId?: string;
}

export const ledgerSearch = (s: Record<string, unknown>): LedgerSearch => ({
  ...listSearch(s),
  kind: text(s.kind),
  ownerId: text(s.ownerId),
});

export function LedgerPage() {
  const search = useSearch({ from: "/app/ledger" });
  const trial = api.useQuery("get", "/admin/v1/ledger/trial-balance");
  const accounts = api.useQuery("get", "/admin/v1/ledger/accounts", {
    params: { query: { kind: search.kind, ownerId: search.ownerId, cursor: search.cursor } },
  });
  const { paging, setFilters } = useListUrl(search, accounts.data?.nextCursor);
  return (
    <>
      <PageHeader title="Ledger" description="The double-entry books: every currency must net to zero." />
      <Loadable loading={trial.isLoading} error={trial.error}>
        {() => (
          <div className="grid gap-4">
            <p className="text-sm">
              Trial balance as of {when(trial.data!.asOf)}:{" "}
              <Badge variant={trial.data!.balanced ? "secondary" : "destructive"}>
                {trial.data!.balanced ? "balanced" : "NOT balanced"}
              </Badge>
            </p>
            {trial.data!.currencies.map((c) => (
              <Card key={c.currency}>
                <CardHeader>
                  <CardTitle>
                    {c.currency}: net {money(c.net, c.currency)} · debits {money(c.debitTotal, c.currency)} · credits{" "}
                    {money(c.creditTotal, c.currency)}
                  </CardTitle>
                </CardHeader>
                <CardContent>
                  <DataTable
                    caption={`Trial balance ${c.currency}`}
                    columns={kindColumns(c.currency)}
                    rows={c.kinds}
                    loading={false}
                    error={null}
                    empty="No accounts."
                  />
                </CardContent>
              </Card>
            ))}
          </div>
        )}
      </Loadable>
      <h2 className="mt-6 mb-2 text-lg font-semibold">Accounts</h2>
      <Filters
        fields={[
          { name: "kind", label: "Kind", placeholder: "user_wallet" },
          { name: "ownerId", label: "Owner id" },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="Ledger accounts"
        columns={accountColumns}
        rows={accounts.data?.data}
        loading={accounts.isLoading}
        error={accounts.error}
        empty="No account matches."
        paging={paging}
        onRetry={() => accounts.refetch()}
      />
    </>
  );
}
