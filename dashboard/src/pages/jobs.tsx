import { useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

type Job = components["schemas"]["Job"];
type Run = components["schemas"]["JobRun"];
const RUN_STATUSES = ["running", "succeeded", "failed", "abandoned"] as const;

const job = createColumnHelper<Job>();
const jobColumns = [
  job.accessor("name", { header: "Job" }),
  job.accessor("summary", {
    header: "What it does",
    cell: (c) => <span className="block max-w-xl whitespace-normal">{c.getValue()}</span>,
  }),
  job.accessor("schedule", { header: "Schedule" }),
  job.accessor("lastRun", { header: "Last run", cell: (c) => when(c.getValue()?.startedAt) }),
  job.accessor((j) => j.lastRun?.status, {
    id: "lastStatus",
    header: "Outcome",
    cell: (c) => <StatusBadge status={c.getValue()} />,
  }),
  job.accessor("nextRunAt", { header: "Next", cell: (c) => when(c.getValue()) }),
];

const run = createColumnHelper<Run>();
const runColumns = [
  run.accessor("name", { header: "Job" }),
  run.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  run.accessor("trigger", { header: "Trigger" }),
  run.accessor("startedAt", { header: "Started", cell: (c) => when(c.getValue()) }),
  run.accessor("finishedAt", { header: "Finished", cell: (c) => when(c.getValue()) }),
  run.accessor("error", { header: "Error", cell: (c) => c.getValue() ?? "—" }),
];

export interface JobsSearch extends ListSearch {
  name?: string;
  status?: (typeof RUN_STATUSES)[number];
}

export const jobsSearch = (s: Record<string, unknown>): JobsSearch => ({
  ...listSearch(s),
  name: text(s.name),
  status: oneOf(s.status, RUN_STATUSES),
});

export function JobsPage() {
  const search = useSearch({ from: "/app/jobs" });
  const jobs = api.useQuery("get", "/admin/v1/jobs");
  const runs = api.useQuery("get", "/admin/v1/job-runs", {
    params: { query: { name: search.name, status: search.status, cursor: search.cursor } },
  });
  const { paging, setFilters } = useListUrl(search, runs.data?.nextCursor);
  return (
    <>
      <PageHeader title="Jobs" description="Scheduled work: its last runs and failures." />
      <DataTable
        caption="Jobs"
        columns={jobColumns}
        rows={jobs.data?.data}
        loading={jobs.isLoading}
        error={jobs.error}
        empty="No jobs."
        onRetry={() => jobs.refetch()}
      />
      <h2 className="mt-6 mb-2 text-lg font-semibold">Runs</h2>
      <Filters
        fields={[
          { name: "name", label: "Job", options: jobs.data?.data.map((j) => j.name) ?? [] },
          { name: "status", label: "Status", options: RUN_STATUSES },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="Job runs"
        columns={runColumns}
        rows={runs.data?.data}
        loading={runs.isLoading}
        error={runs.error}
        empty="No runs yet."
        paging={paging}
        onRetry={() => runs.refetch()}
      />
    </>
  );
}
