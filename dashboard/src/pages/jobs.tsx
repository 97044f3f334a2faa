import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { DataTable } from "@/components/data-table";
import { PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { when } from "@/lib/format";

type Job = components["schemas"]["Job"];
type Run = components["schemas"]["JobRun"];
const RUN_STATUSES = ["running", "succeeded", "failed", "abandoned"] as const;

const job = createColumnHelper<Job>();
const jobColumns = [
  job.accessor("name", { header: "Job" }),
  job.accessor("summary", { header: "What it does" }),
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

export function JobsPage() {
  const jobs = api.useQuery("get", "/admin/v1/jobs");
  const [status, setStatus] = useState<(typeof RUN_STATUSES)[number] | "">("");
  const [cursors, setCursors] = useState<string[]>([]);
  const runs = api.useQuery("get", "/admin/v1/job-runs", {
    params: { query: { status: status || undefined, cursor: cursors[cursors.length - 1] } },
  });
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
      <div className="mt-6 mb-2 flex items-end justify-between">
        <h2 className="text-lg font-semibold">Runs</h2>
        <div className="grid gap-1">
          <Label htmlFor="run-status" className="text-xs">
            Status
          </Label>
          <NativeSelect
            id="run-status"
            className="w-40"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as typeof status);
              setCursors([]);
            }}
          >
            <option value="">any</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </NativeSelect>
        </div>
      </div>
      <DataTable
        caption="Job runs"
        columns={runColumns}
        rows={runs.data?.data}
        loading={runs.isLoading}
        error={runs.error}
        empty="No runs yet."
        paging={{
          nextCursor: runs.data?.nextCursor,
          hasPrevious: cursors.length > 0,
          onNext: (c) => setCursors([...cursors, c]),
          onPrevious: () => setCursors(cursors.slice(0, -1)),
        }}
        onRetry={() => runs.refetch()}
      />
    </>
  );
}
