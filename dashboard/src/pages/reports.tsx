import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { api, fetchClient, messageOf } from "@/api/client";
import type { components } from "@/api/schema";
import { DataTable } from "@/components/data-table";
import { PageHeader } from "@/components/page";
import { Alert, AlertDescription } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { when } from "@/lib/format";

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

export function ReportsPage() {
  const [type, setType] = useState<(typeof TYPES)[number] | "">("");
  const [cursors, setCursors] = useState<string[]>([]);
  const list = api.useQuery("get", "/admin/v1/reports", {
    params: { query: { type: type || undefined, cursor: cursors[cursors.length - 1] } },
  });
  return (
    <>
      <PageHeader
        title="Reports"
        description="The daily financial, operational and compliance reports (Eswatini days)."
      >
        <div className="grid gap-1">
          <Label htmlFor="report-type" className="text-xs">
            Type
          </Label>
          <NativeSelect
            id="report-type"
            className="w-44"
            value={type}
            onChange={(e) => {
              setType(e.target.value as typeof type);
              setCursors([]);
            }}
          >
            <option value="">all three</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </NativeSelect>
        </div>
      </PageHeader>
      {list.error ? (
        <Alert variant="destructive" className="mb-3">
          <AlertDescription>{messageOf(list.error)}</AlertDescription>
        </Alert>
      ) : null}
      <DataTable
        caption="Reports"
        columns={columns}
        rows={list.data?.data}
        loading={list.isLoading}
        error={null}
        empty="No reports yet: they are generated after each day ends."
        paging={{
          nextCursor: list.data?.nextCursor,
          hasPrevious: cursors.length > 0,
          onNext: (c) => setCursors([...cursors, c]),
          onPrevious: () => setCursors(cursors.slice(0, -1)),
        }}
        onRetry={() => list.refetch()}
      />
    </>
  );
}
