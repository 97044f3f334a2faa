import { Link, useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import type * as React from "react";
import { useState } from "react";
import { api, messageOf } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { Facts, Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Input } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, useListUrl } from "@/lib/search";

type Match = components["schemas"]["SanctionsMatch"];
type ScreenMatch = components["schemas"]["SanctionsScreenMatch"];
const STATUSES = ["open", "cleared", "confirmed"] as const;

function Decision({ match }: { match: Match }) {
  const refreshAll = useRefreshAll();
  const clear = api.useMutation("post", "/admin/v1/sanctions/matches/{id}/clear");
  const confirm = api.useMutation("post", "/admin/v1/sanctions/matches/{id}/confirm");
  if (!can("sanctions:decide") || match.status !== "open") return null;
  const path = { id: match.id };
  return (
    <div className="flex gap-2">
      <ConfirmAction
        label="Clear"
        title="Clear this match?"
        description={`${match.subject.name} is not ${match.listedName}: the freeze this match set is lifted.`}
        reason={{ label: "Note" }}
        onConfirm={async (note) => {
          await clear.mutateAsync({ params: { path }, body: { note } });
          await refreshAll();
        }}
      />
      <ConfirmAction
        label="Confirm"
        variant="destructive"
        title="Confirm this match?"
        description={`${match.subject.name} stays frozen and an AML alert opens.`}
        reason={{ label: "Note" }}
        onConfirm={async (note) => {
          await confirm.mutateAsync({ params: { path }, body: { note } });
          await refreshAll();
        }}
      />
    </div>
  );
}

const column = createColumnHelper<Match>();
const columns = [
  column.accessor("subject", {
    header: "Subject",
    cell: (c) => (
      <Link
        to={c.getValue().type === "user" ? "/users/$id" : "/vendors/$id"}
        params={{ id: c.getValue().id }}
        className="text-primary underline"
      >
        {c.getValue().name}
      </Link>
    ),
  }),
  column.accessor("listedName", { header: "Listed as" }),
  column.accessor("referenceNumber", { header: "Reference" }),
  column.accessor("score", { header: "Score", cell: (c) => c.getValue().toFixed(2) }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("createdAt", { header: "Found", cell: (c) => when(c.getValue()) }),
  column.display({
    id: "decide",
    header: () => <span className="sr-only">Decision</span>,
    cell: (c) => <Decision match={c.row.original} />,
  }),
];

const screenColumn = createColumnHelper<ScreenMatch>();
const screenColumns = [
  screenColumn.accessor("name", { header: "Listed name" }),
  screenColumn.accessor("matchedName", { header: "Matched" }),
  screenColumn.accessor("score", { header: "Score", cell: (c) => c.getValue().toFixed(2) }),
  screenColumn.accessor("listType", { header: "Type" }),
  screenColumn.accessor("referenceNumber", { header: "Reference" }),
  screenColumn.accessor("reasons", { header: "Why", cell: (c) => c.getValue().join(", ") }),
];

function Screen() {
  const screen = api.useMutation("post", "/admin/v1/sanctions/screen");
  const [name, setName] = useState("");
  const [dateOfBirth, setDateOfBirth] = useState("");
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    screen.mutate({ body: { name, ...(dateOfBirth ? { dateOfBirth } : {}) } });
  };
  return (
    <Card>
      <CardHeader>
        <CardTitle>Screen a name</CardTitle>
      </CardHeader>
      <CardContent className="grid gap-3">
        <form onSubmit={submit} className="flex flex-wrap items-end gap-3">
          <div className="grid gap-1">
            <Label htmlFor="screen-name">Name</Label>
            <Input id="screen-name" className="w-64" required value={name} onChange={(e) => setName(e.target.value)} />
          </div>
          <div className="grid gap-1">
            <Label htmlFor="screen-dob">Date of birth (optional)</Label>
            <Input id="screen-dob" type="date" value={dateOfBirth} onChange={(e) => setDateOfBirth(e.target.value)} />
          </div>
          <Button type="submit" disabled={screen.isPending}>
            Screen
          </Button>
        </form>
        {screen.error ? (
          <Alert variant="destructive">
            <AlertDescription>{messageOf(screen.error)}</AlertDescription>
          </Alert>
        ) : null}
        {screen.data && (
          <DataTable
            caption="Screening result"
            columns={screenColumns}
            rows={screen.data.matches}
            loading={false}
            error={null}
            empty={`No match on list ${screen.data.listVersion}.`}
          />
        )}
      </CardContent>
    </Card>
  );
}

export interface SanctionsSearch extends ListSearch {
  status?: (typeof STATUSES)[number];
}

export const sanctionsSearch = (s: Record<string, unknown>): SanctionsSearch => ({
  ...listSearch(s),
  status: oneOf(s.status, STATUSES),
});

export function SanctionsPage() {
  const search = useSearch({ from: "/app/sanctions" });
  const list = api.useQuery("get", "/admin/v1/sanctions/list", {}, { retry: false });
  const matches = api.useQuery("get", "/admin/v1/sanctions/matches", {
    params: { query: { status: search.status, cursor: search.cursor } },
  });
  const { paging, setFilters } = useListUrl(search, matches.data?.nextCursor);
  return (
    <>
      <PageHeader title="Sanctions" description="The UN Security Council Consolidated List: matches to decide." />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card>
          <CardHeader>
            <CardTitle>List version</CardTitle>
          </CardHeader>
          <CardContent>
            <Loadable loading={list.isLoading} error={list.error}>
              {() => (
                <Facts
                  items={[
                    ["Version", list.data!.version],
                    ["Generated", when(list.data!.dateGenerated)],
                    ["Last sync", when(list.data!.syncedAt)],
                    ["Individuals", list.data!.individuals],
                    ["Entities", list.data!.entities],
                    ["Added / removed", `${list.data!.added} / ${list.data!.removed}`],
                  ]}
                />
              )}
            </Loadable>
          </CardContent>
        </Card>
        {can("sanctions:screen") && <Screen />}
      </div>
      <h2 className="mt-6 mb-2 text-lg font-semibold">Matches</h2>
      <Filters fields={[{ name: "status", label: "Status", options: STATUSES }]} values={search} onApply={setFilters} />
      <DataTable
        caption="Sanctions matches"
        columns={columns}
        rows={matches.data?.data}
        loading={matches.isLoading}
        error={matches.error}
        empty="No match."
        paging={paging}
        onRetry={() => matches.refetch()}
      />
    </>
  );
}
