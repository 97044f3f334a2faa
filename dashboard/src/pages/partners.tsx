import { Link, useParams, useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { FormDialog, ShownOnce } from "@/components/form-dialog";
import { Facts, Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { RecentTransactions } from "@/components/transaction-table";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { money, toCents, when } from "@/lib/format";
import { listSearch as partnersSearch, useListUrl } from "@/lib/search";

export { partnersSearch };

type Partner = components["schemas"]["Partner"];
type Key = components["schemas"]["PartnerKey"];
type Endpoint = components["schemas"]["WebhookEndpoint"];
type Delivery = components["schemas"]["WebhookDelivery"];

const SCOPES = ["deposits:create", "transactions:read", "users:read", "webhooks:manage"];

const column = createColumnHelper<Partner>();
const columns = [
  column.accessor("name", {
    header: "Partner",
    cell: (c) => (
      <Link to="/partners/$id" params={{ id: c.row.original.id }} className="text-primary underline">
        {c.getValue()}
      </Link>
    ),
  }),
  column.accessor("id", { header: "Id", cell: (c) => <span className="font-mono text-xs">{c.getValue()}</span> }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
];

export function PartnersPage() {
  const refreshAll = useRefreshAll();
  const search = useSearch({ from: "/app/partners" });
  const list = api.useQuery("get", "/admin/v1/partners", { params: { query: { cursor: search.cursor } } });
  const { paging } = useListUrl(search, list.data?.nextCursor);
  const create = api.useMutation("post", "/admin/v1/partners");
  return (
    <>
      <PageHeader title="Partners" description="Banks and operators that deposit through the partner API.">
        {can("partners:manage") && (
          <FormDialog
            label="Add partner"
            title="Ask for a new partner"
            description="A second admin must approve it; its first API key is shown once, now, and works once approved."
            submitLabel="Ask"
            fields={[{ name: "name", label: "Name" }]}
            onSubmit={async (v) => {
              const answer = await create.mutateAsync({ body: { name: v.name!, scopes: SCOPES as never } });
              await refreshAll();
              return answer;
            }}
            renderResult={(r) => <ShownOnce label="API key" value={(r as { apiKey: string }).apiKey} />}
          />
        )}
      </PageHeader>
      <DataTable
        caption="Partners"
        columns={columns}
        rows={list.data?.data}
        loading={list.isLoading}
        error={list.error}
        empty="No partners yet."
        paging={paging}
        onRetry={() => list.refetch()}
      />
    </>
  );
}

export function PartnerPage() {
  const { id } = useParams({ from: "/app/partners/$id" });
  const refreshAll = useRefreshAll();
  const path = { id };
  const partner = api.useQuery("get", "/admin/v1/partners/{id}", { params: { path } });
  const keys = api.useQuery("get", "/admin/v1/partners/{id}/keys", { params: { path } });
  const endpoints = api.useQuery("get", "/admin/v1/partners/{id}/webhooks", { params: { path } });
  const [deliveryPages, setDeliveryPages] = useState<string[]>([]);
  const deliveries = api.useQuery("get", "/admin/v1/partners/{id}/webhook-deliveries", {
    params: { path, query: { cursor: deliveryPages[deliveryPages.length - 1] } },
  });
  const issueKey = api.useMutation("post", "/admin/v1/partners/{id}/keys");
  const revokeKey = api.useMutation("delete", "/admin/v1/partners/{id}/keys/{keyId}");
  const topUp = api.useMutation("post", "/admin/v1/partners/{id}/funding");
  const addEndpoint = api.useMutation("post", "/admin/v1/partners/{id}/webhooks");
  const retry = api.useMutation("post", "/admin/v1/partners/{id}/webhook-deliveries/{deliveryId}/retry");
  const manage = can("partners:manage");

  const key = createColumnHelper<Key>();
  const keyColumns = [
    key.accessor("prefix", { header: "Key", cell: (c) => <span className="font-mono text-xs">{c.getValue()}…</span> }),
    key.accessor("scopes", { header: "Scopes", cell: (c) => c.getValue().join(", ") }),
    key.accessor("createdAt", { header: "Issued", cell: (c) => when(c.getValue()) }),
    key.accessor("lastUsedAt", { header: "Last used", cell: (c) => when(c.getValue()) }),
    key.accessor("pendingApproval", { header: "Waiting for", cell: (c) => c.getValue() ?? "—" }),
    key.accessor("revokedAt", { header: "Revoked", cell: (c) => when(c.getValue()) }),
    key.display({
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: (c) =>
        manage && !c.row.original.revokedAt ? (
          <ConfirmAction
            label="Revoke"
            variant="destructive"
            title="Revoke this key?"
            description="It stops working at once."
            onConfirm={async () => {
              await revokeKey.mutateAsync({ params: { path: { id, keyId: c.row.original.id } } });
              await refreshAll();
            }}
          />
        ) : null,
    }),
  ];

  const endpoint = createColumnHelper<Endpoint>();
  const endpointColumns = [
    endpoint.accessor("url", { header: "URL" }),
    endpoint.accessor("active", { header: "Active", cell: (c) => (c.getValue() ? "yes" : "no") }),
    endpoint.accessor("secretPrefix", { header: "Secret", cell: (c) => `${c.getValue()}…` }),
    endpoint.accessor("createdAt", { header: "Added", cell: (c) => when(c.getValue()) }),
  ];

  const delivery = createColumnHelper<Delivery>();
  const deliveryColumns = [
    delivery.accessor("eventType", { header: "Event" }),
    delivery.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
    delivery.accessor("attempts", { header: "Attempts" }),
    delivery.accessor("lastStatusCode", {
      header: "Last answer",
      cell: (c) => c.getValue() ?? c.row.original.lastError ?? "—",
    }),
    delivery.accessor("createdAt", { header: "Created", cell: (c) => when(c.getValue()) }),
    delivery.display({
      id: "retry",
      header: () => <span className="sr-only">Retry</span>,
      cell: (c) =>
        manage && c.row.original.status === "failed" ? (
          <ConfirmAction
            label="Retry"
            variant="outline"
            title="Send this delivery again?"
            description="One more attempt, with the same event id."
            onConfirm={async () => {
              await retry.mutateAsync({ params: { path: { id, deliveryId: c.row.original.id } } });
              await refreshAll();
            }}
          />
        ) : null,
    }),
  ];

  return (
    <Loadable loading={partner.isLoading} error={partner.error}>
      {() => {
        const p = partner.data!;
        return (
          <>
            <PageHeader title={p.name} description={p.id}>
              {manage && (
                <FormDialog
                  label="Issue key"
                  title="Issue another API key"
                  description="With deposits:create it waits for a second admin. The key is shown once."
                  submitLabel="Issue"
                  fields={[]}
                  onSubmit={async () => {
                    const answer = await issueKey.mutateAsync({ params: { path }, body: { scopes: SCOPES as never } });
                    await refreshAll();
                    return answer;
                  }}
                  renderResult={(r) => <ShownOnce label="API key" value={(r as { apiKey: string }).apiKey} />}
                />
              )}
              {can("partners:fund") && (
                <FormDialog
                  label="Top up funding"
                  title="Top up the funding limit"
                  description="Once the bank confirms the transfer into the trust account. A second admin approves it."
                  submitLabel="Ask for the top-up"
                  fields={[
                    { name: "amount", label: "Amount (E)" },
                    { name: "bankReference", label: "Bank reference" },
                  ]}
                  onSubmit={async (v) => {
                    const amount = toCents(v.amount ?? "");
                    if (!amount) throw new Error("Type an amount such as 1000 or 1000.50.");
                    await topUp.mutateAsync({
                      params: { path },
                      body: { amount, currency: "SZL", bankReference: v.bankReference! },
                    });
                    await refreshAll();
                  }}
                />
              )}
              {manage && (
                <FormDialog
                  label="Add webhook"
                  title="Add a webhook endpoint"
                  description="Its signing secret is shown once."
                  submitLabel="Add"
                  fields={[{ name: "url", label: "URL", type: "url" }]}
                  onSubmit={async (v) => {
                    const answer = await addEndpoint.mutateAsync({ params: { path }, body: { url: v.url! } });
                    await refreshAll();
                    return answer;
                  }}
                  renderResult={(r) => <ShownOnce label="Signing secret" value={(r as { secret: string }).secret} />}
                />
              )}
            </PageHeader>
            <Card>
              <CardHeader>
                <CardTitle>Funding</CardTitle>
              </CardHeader>
              <CardContent>
                <Facts
                  items={[
                    ["Status", <StatusBadge key="s" status={p.status} />],
                    ["Funding limit", money(p.funding.limit)],
                    ["Used", money(p.funding.used)],
                    ["Available", money(p.funding.available)],
                    ["Top-ups waiting", money(p.funding.pendingTopUps)],
                  ]}
                />
              </CardContent>
            </Card>
            <h2 className="mt-6 mb-2 text-lg font-semibold">API keys</h2>
            <DataTable
              caption="API keys"
              columns={keyColumns}
              rows={keys.data?.data}
              loading={keys.isLoading}
              error={keys.error}
              empty="No keys."
            />
            <h2 className="mt-6 mb-2 text-lg font-semibold">Webhook endpoints</h2>
            <DataTable
              caption="Webhook endpoints"
              columns={endpointColumns}
              rows={endpoints.data?.data}
              loading={endpoints.isLoading}
              error={endpoints.error}
              empty="No endpoints."
            />
            <h2 className="mt-6 mb-2 text-lg font-semibold">Delivery log</h2>
            <DataTable
              caption="Webhook deliveries"
              columns={deliveryColumns}
              rows={deliveries.data?.data}
              loading={deliveries.isLoading}
              error={deliveries.error}
              empty="Nothing delivered yet."
              paging={{
                nextCursor: deliveries.data?.nextCursor,
                hasPrevious: deliveryPages.length > 0,
                onNext: (c) => setDeliveryPages([...deliveryPages, c]),
                onPrevious: () => setDeliveryPages(deliveryPages.slice(0, -1)),
              }}
            />
            <h2 className="mt-6 mb-2 text-lg font-semibold">Transactions</h2>
            {can("transactions:read") && <RecentTransactions filter={{ partnerId: id }} />}
          </>
        );
      }}
    </Loadable>
  );
}
