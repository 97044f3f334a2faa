import { Link } from "@tanstack/react-router";
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api } from "@/api/client";
import type { components } from "@/api/schema";
import { can } from "@/auth/session";
import { Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { money } from "@/lib/format";

type Volume = components["schemas"]["TransactionVolume"];
const COLORS = ["#0b6e4f", "#2563eb", "#b45309", "#7c3aed", "#be123c", "#0f766e", "#4b5563", "#a16207"];

function byType(rows: Volume["days"]) {
  const totals = new Map<string, { count: number; amount: number; fees: number }>();
  for (const r of rows) {
    const t = totals.get(r.type) ?? { count: 0, amount: 0, fees: 0 };
    totals.set(r.type, { count: t.count + r.count, amount: t.amount + r.amount, fees: t.fees + r.fees });
  }
  return [...totals.entries()].sort((a, b) => b[1].amount - a[1].amount);
}

function TypeTable({ caption, rows }: { caption: string; rows: Volume["days"] }) {
  const totals = byType(rows);
  if (totals.length === 0) return <p className="text-sm text-muted-foreground">No completed transactions.</p>;
  return (
    <Table>
      <caption className="sr-only">{caption}</caption>
      <TableHeader>
        <TableRow>
          <TableHead>Type</TableHead>
          <TableHead>Count</TableHead>
          <TableHead>Volume</TableHead>
          <TableHead>Fees</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {totals.map(([type, t]) => (
          <TableRow key={type}>
            <TableCell>{type}</TableCell>
            <TableCell>{t.count}</TableCell>
            <TableCell>{money(t.amount)}</TableCell>
            <TableCell>{money(t.fees)}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/** One bar per local day, stacked by type: amounts in emalangeni (the chart's axis), cents everywhere else. */
function VolumeChart({ volume, metric }: { volume: Volume; metric: "amount" | "fees" }) {
  const types = [...new Set(volume.days.map((d) => d.type))];
  const days = new Map<string, Record<string, number | string>>();
  for (const d of volume.days) {
    const row = days.get(d.date) ?? { date: d.date.slice(5) };
    row[d.type] = d[metric] / 100;
    days.set(d.date, row);
  }
  return (
    <figure className="h-64">
      <figcaption className="sr-only">{`${metric === "amount" ? "Volume" : "Fees"} per day and type, last 30 days, in emalangeni`}</figcaption>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={[...days.values()]}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="date" fontSize={11} />
          <YAxis fontSize={11} />
          <Tooltip formatter={(value) => `E${Number(value).toFixed(2)}`} />
          <Legend />
          {types.map((type, i) => (
            <Bar key={type} dataKey={type} stackId="a" fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}

function Count({ label, to, value, more }: { label: string; to: string; value: number | undefined; more?: boolean }) {
  return (
    <Card>
      <CardHeader>
        <CardDescription>{label}</CardDescription>
        <CardTitle className="text-2xl">
          <Link to={to} className="hover:underline">
            {value === undefined ? "…" : `${value}${more ? "+" : ""}`}
          </Link>
        </CardTitle>
      </CardHeader>
    </Card>
  );
}

export function OverviewPage() {
  const volume = api.useQuery(
    "get",
    "/admin/v1/overview/volume",
    { params: { query: { days: 30 } } },
    {
      enabled: can("transactions:read"),
    },
  );
  const alerts = api.useQuery(
    "get",
    "/admin/v1/aml/alerts",
    { params: { query: { status: "open", limit: 100 } } },
    {
      enabled: can("aml:read"),
    },
  );
  const approvals = api.useQuery(
    "get",
    "/admin/v1/approvals",
    { params: { query: { status: "pending", limit: 100 } } },
    { enabled: can("approvals:read") },
  );
  const jobs = api.useQuery("get", "/admin/v1/jobs", {}, { enabled: can("jobs:read") });
  const failing = jobs.data?.data.filter((j) => j.lastRun?.status === "failed") ?? [];

  return (
    <>
      <PageHeader title="Overview" description="Today and the last 30 days, in Eswatini time." />
      <div className="mb-4 grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {can("transactions:read") && (
          <Count label="Active users today" to="/users" value={volume.data?.activeUsers.today} />
        )}
        {can("transactions:read") && (
          <Count label="Active users, 30 days" to="/users" value={volume.data?.activeUsers.range} />
        )}
        {can("aml:read") && (
          <Count label="Open AML alerts" to="/aml" value={alerts.data?.data.length} more={!!alerts.data?.nextCursor} />
        )}
        {can("approvals:read") && (
          <Count
            label="Approvals waiting"
            to="/approvals"
            value={approvals.data?.data.length}
            more={!!approvals.data?.nextCursor}
          />
        )}
      </div>
      {can("transactions:read") && (
        <Loadable loading={volume.isLoading} error={volume.error}>
          {() => {
            const v = volume.data!;
            // `to` is the instant after today's last (local midnight): a millisecond before it, read in UTC+2, is today.
            const today = new Date(Date.parse(v.to) - 1 + 2 * 3_600_000).toISOString().slice(0, 10);
            const todayRows = v.days.filter((d) => d.date === today);
            return (
              <div className="grid gap-4 xl:grid-cols-2">
                <Card>
                  <CardHeader>
                    <CardTitle>Volume per day, 30 days</CardTitle>
                  </CardHeader>
                  <CardContent>
                    <VolumeChart volume={v} metric="amount" />
                  </CardContent>
                </Card>
                <Card>
                  <CardHeader>
                    <CardTitle>Fees per day, 30 days</CardTitle>
                  </CardHeader>
                  <CardContent>
                    <VolumeChart volume={v} metric="fees" />
                  </CardContent>
                </Card>
                <Card>
                  <CardHeader>
                    <CardTitle>Today by type</CardTitle>
                  </CardHeader>
                  <CardContent>
                    <TypeTable caption="Today by type" rows={todayRows} />
                  </CardContent>
                </Card>
                <Card>
                  <CardHeader>
                    <CardTitle>30 days by type</CardTitle>
                  </CardHeader>
                  <CardContent>
                    <TypeTable caption="30 days by type" rows={v.days} />
                  </CardContent>
                </Card>
              </div>
            );
          }}
        </Loadable>
      )}
      {can("jobs:read") && (
        <Card className="mt-4">
          <CardHeader>
            <CardTitle>Job health</CardTitle>
            <CardDescription>
              {jobs.data ? `${failing.length} of ${jobs.data.data.length} jobs failed their last run.` : "…"}
            </CardDescription>
          </CardHeader>
          <CardContent>
            <ul className="grid gap-1 text-sm sm:grid-cols-2">
              {jobs.data?.data.map((j) => (
                <li key={j.name} className="flex items-center gap-2">
                  <StatusBadge status={j.lastRun?.status ?? "never run"} /> {j.name}
                </li>
              ))}
            </ul>
          </CardContent>
        </Card>
      )}
    </>
  );
}
