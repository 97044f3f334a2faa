import { useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { api, fetchClient, messageOf } from "@/api/client";
import type { components } from "@/api/schema";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { PageHeader } from "@/components/page";
import { Button } from "@/components/ui/button";
import { when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

type Report = components["schemas"]["ReportListItem"];
const TYPES = ["financial", "operational", "compliance"] as const;

/** The CSV comes through the API with the bearer token, then is handed to the browser as a download. */
async function downloadCsv(report: Report) {
  const result = await fetchClient.GET("/admin/v1/reports/{id}", {
    params: { path: { id: report.id }, query: { format: "csv" } },
    parseAs: "blob",
  });
  // openapi-fetch has read the body: a refusal is in `error` (the API's error shape), typed never for this route.
  if (!result.response.ok || !result.data)
    throw (result as { error?: unknown }).error ?? new Error(`The server answered ${result.response.status}.`);
  const url = URL.createObjectURL(result.data as unknown as Blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = `${report.type}-${report.date}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

function Download({ report }: { report: Report }) {
  const [error, setError] = useState<unknown>(null);
  return (
    <div className="flex items-center gap-2">
      <Button
        size="sm"
        variant="outline"
        onClick={() => downloadCsv(report).then(() => setError(null), setError)}
        aria-label={`Download ${report.type} report of ${report.date} as CSV`}
      >
        CSV
      </Button>
      {error ? <span className="text-xs text-destructive">{messageOf(error)}</span> : null}
    </div>
  );
}

const column = createColumnHelper<Report>();
const columns = [
  column.accessor("date", { header: "Day" }),
  column.accessor("type", { header: "Report" }),
  column.accessor("generatedAt", { header: "Generated", cell: (c) => when(c.getValue()) }),
  column.accessor("summary", {
    header: "Headline figures",
    cell: (c) => <code className="block max-w-xl truncate text-xs">{JSON.stringify(c.getValue())}</code>,
  }),
  column.display({
    id: "csv",
    header: () => <span className="sr-only">Download</span>,
    cell: (c) => <Download report={c.row.original} />,
  }),
];

const day = (value: unknown) => {
  const v = text(value);
  return v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : undefined;
};

export interface ReportsSearch extends ListSearch {
  type?: (typeof TYPES)[number];
  from?: string;
  to?: string;
}

export const reportsSearch = (s: Record<string, unknown>): ReportsSearch => ({
  ...listSearch(s),
  type: oneOf(s.type, TYPES),
  from: day(s.from),
  to: day(s.to),
});

export function ReportsPage() {
  const search = useSearch({ from: "/app/reports" });
  const list = api.useQuery("get", "/admin/v1/reports", {
    params: { query: { type: search.type, from: search.from, to: search.to, cursor: search.cursor } },
  });
  const { paging, setFilters } = useListUrl(search, list.data?.nextCursor);
  return (
    <>
      <PageHeader
        title="Reports"
        description="The daily financial, operational and compliance reports (Eswatini days)."
      />
      <Filters
        fields={[
          { name: "type", label: "Report", options: TYPES },
          { name: "from", label: "From day", type: "date" },
          { name: "to", label: "To day", type: "date" },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="Reports"
        columns={columns}
        rows={list.data?.data}
        loading={list.isLoading}
        error={list.error}
        empty="No reports yet: they are generated after each day ends."
        paging={paging}
        onRetry={() => list.refetch()}
      />
    </>
  );
}
