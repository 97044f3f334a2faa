import { Link, useParams, useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { Facts, Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { transactionColumns } from "@/components/transaction-table";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { money, when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

const TYPES = ["payment", "transfer", "deposit", "withdrawal", "airtime", "reversal", "fee", "card"] as const;
const STATUSES = ["pending", "completed", "failed", "reversed"] as const;
const dateOnly = (value: unknown) => {
  const v = text(value);
  return v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined;
};

export interface TransactionsSearch extends ListSearch {
  userId?: string;
  vendorId?: string;
  partnerId?: string;
  type?: (typeof TYPES)[number];
  status?: (typeof STATUSES)[number];
  /** Calendar days (inclusive), sent to the API as instants. */
  from?: string;
  to?: string;
}

export const transactionsSearch = (s: Record<string, unknown>): TransactionsSearch => ({
  ...listSearch(s),
  userId: text(s.userId),
  vendorId: text(s.vendorId),
  partnerId: text(s.partnerId),
  type: oneOf(s.type, TYPES),
  status: oneOf(s.status, STATUSES),
  from: dateOnly(s.from),
  to: dateOnly(s.to),
});

/** The day after `day`, at midnight Eswatini time (UTC+2, no daylight saving): `to` is exclusive in the API. */
const startOf = (day: string) => `${day}T00:00:00+02:00`;
const dayAfter = (day: string) => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return startOf(d.toISOString().slice(0, 10));
};

export function TransactionsPage() {
  const search = useSearch({ from: "/app/transactions" });
  const { data, isLoading, error, refetch } = api.useQuery("get", "/admin/v1/transactions", {
    params: {
      query: {
        userId: search.userId,
        vendorId: search.vendorId,
        partnerId: search.partnerId,
        type: search.type,
        status: search.status,
        from: search.from ? startOf(search.from) : undefined,
        to: search.to ? dayAfter(search.to) : undefined,
        cursor: search.cursor,
      },
    },
  });
  const { paging, setFilters } = useListUrl(search, data?.nextCursor);
  return (
    <>
      <PageHeader title="Transactions" description="Every money movement, newest first. Days are Eswatini days." />
      <Filters
        fields={[
          { name: "userId", label: "User id", placeholder: "usr_…" },
          { name: "vendorId", label: "Vendor id", placeholder: "vnd_…" },
          { name: "partnerId", label: "Partner id", placeholder: "prt_…" },
          { name: "type", label: "Type", options: TYPES },
          { name: "status", label: "Status", options: STATUSES },
          { name: "from", label: "From", type: "date" },
          { name: "to", label: "To", type: "date" },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="Transactions"
        columns={transactionColumns}
        rows={data?.data}
        loading={isLoading}
        error={error}
        empty="No transaction matches."
        paging={paging}
        onRetry={() => refetch()}
      />
    </>
  );
}

type Entry = NonNullable<components["schemas"]["AdminTransactionDetail"]["ledger"]>["entries"][number];
const entry = createColumnHelper<Entry>();
const entryColumns = [
  entry.accessor("accountCode", { header: "Account", cell: (c) => c.getValue() ?? c.row.original.accountId }),
  entry.accessor("accountKind", { header: "Kind", cell: (c) => c.getValue() ?? "—" }),
  entry.accessor("amount", {
    header: "Amount",
    cell: (c) => (
      <span className={c.getValue() < 0 ? "text-destructive" : ""}>{money(c.getValue(), c.row.original.currency)}</span>
    ),
  }),
  entry.accessor("balanceAfter", {
    header: "Balance after",
    cell: (c) => (c.getValue() === null ? "—" : money(c.getValue(), c.row.original.currency)),
  }),
];

const partyLink = (p: components["schemas"]["AdminTransaction"]["payer"]) =>
  p.type === "user" ? (
    <Link to="/users/$id" params={{ id: p.id }} className="text-primary underline">
      {p.name ?? p.id}
    </Link>
  ) : p.type === "vendor" ? (
    <Link to="/vendors/$id" params={{ id: p.id }} className="text-primary underline">
      {p.name ?? p.id}
    </Link>
  ) : (
    `${p.name ?? p.id} (${p.type})`
  );

export function TransactionPage() {
  const { id } = useParams({ from: "/app/transactions/$id" });
  const refreshAll = useRefreshAll();
  const detail = api.useQuery("get", "/admin/v1/transactions/{id}", { params: { path: { id } } });
  const reverse = api.useMutation("post", "/admin/v1/transactions/{id}/reversal");
  return (
    <Loadable loading={detail.isLoading} error={detail.error}>
      {() => {
        const t = detail.data!;
        const reversible =
          t.status === "completed" &&
          ["payment", "transfer", "deposit"].includes(t.type) &&
          t.reversalRequest?.status !== "pending";
        return (
          <>
            <PageHeader title={`${t.type} ${money(t.amount, t.currency)}`} description={t.id}>
              {can("transactions:reverse") && reversible && (
                <ConfirmAction
                  label="Ask for a reversal"
                  variant="destructive"
                  title="Ask for a reversal?"
                  description="A different admin must approve it; then the money goes back, fee included."
                  reason={{ label: "Reason" }}
                  onConfirm={async (reason) => {
                    await reverse.mutateAsync({ params: { path: { id } }, body: { reason } });
                    await refreshAll();
                  }}
                />
              )}
            </PageHeader>
            <Card>
              <CardHeader>
                <CardTitle>Transaction</CardTitle>
              </CardHeader>
              <CardContent>
                <Facts
                  items={[
                    ["Status", <StatusBadge key="s" status={t.status} />],
                    ["Amount", money(t.amount, t.currency)],
                    ["Fee", `${money(t.fee, t.currency)} (${t.feeBearer})`],
                    ["From", partyLink(t.payer)],
                    ["To", partyLink(t.payee)],
                    ["Reference", t.reference],
                    ["External reference", t.externalReference],
                    ["Reversal of", t.reversalOf],
                    ["Reversed by", t.reversedBy],
                    [
                      "Reversal request",
                      t.reversalRequest ? (
                        <span key="r">
                          <Link to="/approvals" search={{ subjectId: t.id }} className="text-primary underline">
                            {t.reversalRequest.approvalId}
                          </Link>{" "}
                          <StatusBadge status={t.reversalRequest.status} />
                        </span>
                      ) : null,
                    ],
                    ["Created", when(t.createdAt)],
                  ]}
                />
              </CardContent>
            </Card>
            <h2 className="mt-6 mb-2 text-lg font-semibold">Ledger entries</h2>
            <DataTable
              caption="Ledger entries"
              columns={entryColumns}
              rows={t.ledger?.entries}
              loading={false}
              error={null}
              empty="No journal (the transaction moved no money)."
            />
          </>
        );
      }}
    </Loadable>
  );
}
