import { Link, useParams, useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can, currentAdmin } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { FormDialog } from "@/components/form-dialog";
import { Facts, Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { money, when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

type Alert = components["schemas"]["AmlAlert"];
type Detail = components["schemas"]["AmlAlertDetail"];
const STATUSES = ["open", "investigating", "closed"] as const;
const OUTCOMES = ["false_positive", "valuable", "confirmed_risk"] as const;

export interface AmlSearch extends ListSearch {
  status?: (typeof STATUSES)[number];
  rule?: string;
  assignee?: string;
  subjectId?: string;
}

export const amlSearch = (s: Record<string, unknown>): AmlSearch => ({
  ...listSearch(s),
  status: oneOf(s.status, STATUSES),
  rule: text(s.rule),
  assignee: text(s.assignee),
  subjectId: text(s.subjectId),
});

const subjectLink = (subject: Alert["subject"]) => (
  <Link
    to={subject.type === "user" ? "/users/$id" : "/vendors/$id"}
    params={{ id: subject.id }}
    className="text-primary underline"
  >
    {subject.name ?? subject.id}
  </Link>
);

const column = createColumnHelper<Alert>();
const columns = [
  column.accessor("id", {
    header: "Alert",
    cell: (c) => (
      <Link to="/aml/$id" params={{ id: c.getValue() }} className="font-mono text-xs text-primary underline">
        {c.getValue()}
      </Link>
    ),
  }),
  column.accessor("priority", { header: "Priority" }),
  column.accessor("escalationLevel", { header: "Level" }),
  column.accessor("rule", { header: "Rule" }),
  column.accessor("subject", { header: "Subject", cell: (c) => subjectLink(c.getValue()), enableSorting: false }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("hits", { header: "Hits" }),
  column.accessor("assignee", { header: "Assignee", cell: (c) => c.getValue() ?? c.row.original.assigneeRole }),
  column.accessor("nextEscalationAt", { header: "Escalates", cell: (c) => when(c.getValue()) }),
  column.accessor("createdAt", { header: "Opened", cell: (c) => when(c.getValue()) }),
];

export function AmlPage() {
  const search = useSearch({ from: "/app/aml" });
  const { data, isLoading, error, refetch } = api.useQuery("get", "/admin/v1/aml/alerts", {
    params: {
      query: {
        status: search.status,
        rule: search.rule,
        assignee: search.assignee,
        subjectId: search.subjectId,
        cursor: search.cursor,
      },
    },
  });
  const { paging, setFilters } = useListUrl(search, data?.nextCursor);
  return (
    <>
      <PageHeader
        title="AML alerts"
        description="Raised by the monitoring rules; each page is ordered by priority, then escalation level."
      />
      <Filters
        fields={[
          { name: "status", label: "Status", options: STATUSES },
          { name: "rule", label: "Rule", placeholder: "structuring" },
          { name: "assignee", label: "Assignee (admin id)", placeholder: "adm_…" },
          { name: "subjectId", label: "Subject id", placeholder: "usr_…" },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="AML alerts"
        columns={columns}
        rows={data?.data}
        loading={isLoading}
        error={error}
        empty="No alert matches."
        paging={paging}
        sorting={[
          { id: "priority", desc: true },
          { id: "escalationLevel", desc: true },
        ]}
        onRetry={() => refetch()}
      />
    </>
  );
}

type Evidence = Detail["evidence"][number];
const evidence = createColumnHelper<Evidence>();
const evidenceColumns = [
  evidence.accessor("id", {
    header: "Transaction",
    cell: (c) => (
      <Link to="/transactions/$id" params={{ id: c.getValue() }} className="font-mono text-xs text-primary underline">
        {c.getValue()}
      </Link>
    ),
  }),
  evidence.accessor("type", { header: "Type" }),
  evidence.accessor("amount", { header: "Amount", cell: (c) => money(c.getValue(), c.row.original.currency) }),
  evidence.accessor("payer", { header: "From", cell: (c) => c.getValue().name ?? c.getValue().id }),
  evidence.accessor("payee", { header: "To", cell: (c) => c.getValue().name ?? c.getValue().id }),
  evidence.accessor("createdAt", { header: "When", cell: (c) => when(c.getValue()) }),
];

export function AmlAlertPage() {
  const { id } = useParams({ from: "/app/aml/$id" });
  const refreshAll = useRefreshAll();
  const alert = api.useQuery("get", "/admin/v1/aml/alerts/{id}", { params: { path: { id } } });
  const assign = api.useMutation("post", "/admin/v1/aml/alerts/{id}/assign");
  const move = api.useMutation("post", "/admin/v1/aml/alerts/{id}/status");
  const [outcome, setOutcome] = useState<(typeof OUTCOMES)[number]>("false_positive");
  const me = currentAdmin();
  return (
    <Loadable loading={alert.isLoading} error={alert.error}>
      {() => {
        const a = alert.data!;
        const review = can("aml:review");
        const status = async (next: (typeof STATUSES)[number], note: string, withOutcome?: boolean) => {
          await move.mutateAsync({
            params: { path: { id } },
            body: { status: next, note, ...(withOutcome ? { outcome } : {}) },
          });
          await refreshAll();
        };
        return (
          <>
            <PageHeader title={`Alert: ${a.rule}`} description={a.id}>
              {review && a.assignee !== me?.id && a.status !== "closed" && (
                <ConfirmAction
                  label="Assign to me"
                  variant="outline"
                  title="Take this alert?"
                  description="It moves to your queue; the assignment is audited."
                  onConfirm={async () => {
                    await assign.mutateAsync({ params: { path: { id } }, body: { adminId: me!.id } });
                    await refreshAll();
                  }}
                />
              )}
              {review && a.status !== "closed" && (
                <FormDialog
                  label="Assign…"
                  variant="outline"
                  title="Assign to another analyst"
                  description="An admin who reviews alerts (compliance or super admin), by id; the assignment is audited."
                  submitLabel="Assign"
                  fields={[{ name: "adminId", label: "Admin id", initial: a.assignee ?? "" }]}
                  onSubmit={async (v) => {
                    await assign.mutateAsync({ params: { path: { id } }, body: { adminId: v.adminId!.trim() } });
                    await refreshAll();
                  }}
                />
              )}
              {review && a.status === "open" && (
                <ConfirmAction
                  label="Investigate"
                  variant="outline"
                  title="Start investigating?"
                  description="The alert moves to investigating."
                  reason={{ label: "Note" }}
                  onConfirm={(note) => status("investigating", note)}
                />
              )}
              {review && a.status !== "closed" && (
                <ConfirmAction
                  label="Close alert"
                  variant="destructive"
                  title="Close this alert?"
                  description="Choose the outcome; confirmed risk goes into the STR for the EFIU."
                  reason={{ label: "Note" }}
                  onConfirm={(note) => status("closed", note, true)}
                >
                  <div className="grid gap-1.5">
                    <Label htmlFor="outcome">Outcome</Label>
                    <NativeSelect
                      id="outcome"
                      value={outcome}
                      onChange={(e) => setOutcome(e.target.value as (typeof OUTCOMES)[number])}
                    >
                      {OUTCOMES.map((o) => (
                        <option key={o} value={o}>
                          {o.replaceAll("_", " ")}
                        </option>
                      ))}
                    </NativeSelect>
                  </div>
                </ConfirmAction>
              )}
              {review && a.status === "closed" && (
                <ConfirmAction
                  label="Reopen"
                  variant="outline"
                  title="Reopen this alert?"
                  description="It goes back to the open queue."
                  reason={{ label: "Note" }}
                  onConfirm={(note) => status("open", note)}
                />
              )}
            </PageHeader>
            <Card>
              <CardHeader>
                <CardTitle>Alert</CardTitle>
              </CardHeader>
              <CardContent>
                <Facts
                  items={[
                    ["Status", <StatusBadge key="s" status={a.status} />],
                    ["Outcome", a.outcome?.replaceAll("_", " ")],
                    ["Subject", subjectLink(a.subject)],
                    ["Priority", a.priority],
                    ["Escalation level", `${a.escalationLevel} (${a.assigneeRole})`],
                    ["Assignee", a.assignee],
                    ["Next escalation", when(a.nextEscalationAt)],
                    ["Hits", a.hits],
                    [
                      "What the last hit measured",
                      <code key="d" className="text-xs">
                        {JSON.stringify(a.details)}
                      </code>,
                    ],
                    ["Note", a.note],
                    ["Opened", when(a.createdAt)],
                    ["Closed", a.closedAt ? `${when(a.closedAt)} by ${a.closedBy}` : "—"],
                  ]}
                />
              </CardContent>
            </Card>
            <h2 className="mt-6 mb-2 text-lg font-semibold">Evidence</h2>
            <DataTable
              caption="Evidence"
              columns={evidenceColumns}
              rows={a.evidence}
              loading={false}
              error={null}
              empty={a.sanctionsMatches.length ? "A sanctions match, no transactions." : "No transactions."}
            />
            <h2 className="mt-6 mb-2 text-lg font-semibold">History</h2>
            <ol className="space-y-1 text-sm">
              {a.history.map((h) => (
                <li key={`${h.at}-${h.action}`}>
                  <span className="text-muted-foreground">{when(h.at)}</span> {h.action} by {h.actor.id ?? h.actor.type}
                </li>
              ))}
            </ol>
          </>
        );
      }}
    </Loadable>
  );
}
