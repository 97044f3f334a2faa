import { createColumnHelper } from "@tanstack/react-table";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { FormDialog } from "@/components/form-dialog";
import { PageHeader } from "@/components/page";
import { money, toCents, when } from "@/lib/format";

type Limits = components["schemas"]["TierLimits"];
type Rule = components["schemas"]["AmlRule"];
const FIELDS = ["perTransaction", "daily", "monthly", "maxBalance"] as const;
const LABELS: Record<(typeof FIELDS)[number], string> = {
  perTransaction: "Per transaction (E)",
  daily: "Daily (E)",
  monthly: "Monthly (E)",
  maxBalance: "Maximum balance (E)",
};

function EditLimits({ limits }: { limits: Limits }) {
  const refreshAll = useRefreshAll();
  const put = api.useMutation("put", "/admin/v1/settings/limits/{tier}");
  return (
    <FormDialog
      label="Edit"
      variant="outline"
      title={`Tier ${limits.tier} limits`}
      description="Applies to every payment within 10 seconds; the change is audited with before and after."
      fields={FIELDS.map((f) => ({ name: f, label: LABELS[f], initial: (limits[f] / 100).toFixed(2) }))}
      onSubmit={async (v) => {
        const body = Object.fromEntries(FIELDS.map((f) => [f, toCents(v[f] ?? "")]));
        const bad = FIELDS.find((f) => body[f] === null);
        if (bad) throw new Error(`${LABELS[bad]} is not an amount.`);
        await put.mutateAsync({
          params: { path: { tier: String(limits.tier) } },
          body: body as Record<(typeof FIELDS)[number], number>,
        });
        await refreshAll();
      }}
    />
  );
}

const limit = createColumnHelper<Limits>();
const limitColumns = [
  limit.accessor("tier", { header: "Tier" }),
  ...FIELDS.map((f) => limit.accessor(f, { header: LABELS[f].replace(" (E)", ""), cell: (c) => money(c.getValue()) })),
  limit.accessor("updatedAt", {
    header: "Last set",
    cell: (c) => `${when(c.getValue())}${c.row.original.updatedBy ? ` by ${c.row.original.updatedBy}` : " (default)"}`,
  }),
  limit.display({
    id: "edit",
    header: () => <span className="sr-only">Edit</span>,
    cell: (c) => (can("limits:manage") ? <EditLimits limits={c.row.original} /> : null),
  }),
];

function ToggleRule({ rule }: { rule: Rule }) {
  const refreshAll = useRefreshAll();
  const put = api.useMutation("put", "/admin/v1/aml/rules/{id}");
  if (!can("aml:review")) return null;
  return (
    <ConfirmAction
      label={rule.enabled ? "Disable" : "Enable"}
      variant={rule.enabled ? "destructive" : "outline"}
      title={`${rule.enabled ? "Disable" : "Enable"} “${rule.name}”?`}
      description={
        rule.enabled ? "The monitor stops raising alerts by this rule." : "The monitor applies it to new transactions."
      }
      onConfirm={async () => {
        await put.mutateAsync({ params: { path: { id: rule.id } }, body: { enabled: !rule.enabled } });
        await refreshAll();
      }}
    />
  );
}

function EditRule({ rule }: { rule: Rule }) {
  const refreshAll = useRefreshAll();
  const put = api.useMutation("put", "/admin/v1/aml/rules/{id}");
  if (!can("aml:review")) return null;
  return (
    <FormDialog
      label="Edit"
      variant="outline"
      title={`Edit “${rule.name}”`}
      description="Priority 1–10; parameters as JSON, merged over the stored ones and checked against the rule's type. Audited with before and after."
      fields={[
        { name: "priority", label: "Priority", type: "number", initial: String(rule.priority) },
        { name: "params", label: "Parameters (JSON)", initial: JSON.stringify(rule.params) },
      ]}
      onSubmit={async (v) => {
        let params: Record<string, unknown>;
        try {
          params = JSON.parse(v.params ?? "{}");
        } catch {
          throw new Error("The parameters are not valid JSON.");
        }
        await put.mutateAsync({ params: { path: { id: rule.id } }, body: { priority: Number(v.priority), params } });
        await refreshAll();
      }}
    />
  );
}

const rule = createColumnHelper<Rule>();
const ruleColumns = [
  rule.accessor("name", { header: "Rule" }),
  rule.accessor("type", { header: "Type" }),
  rule.accessor("enabled", { header: "On", cell: (c) => (c.getValue() ? "yes" : "no") }),
  rule.accessor("priority", { header: "Priority" }),
  rule.accessor("params", {
    header: "Parameters",
    cell: (c) => <code className="text-xs">{JSON.stringify(c.getValue())}</code>,
  }),
  rule.display({
    id: "edit",
    header: () => <span className="sr-only">Edit</span>,
    cell: (c) => <EditRule rule={c.row.original} />,
  }),
  rule.display({
    id: "toggle",
    header: () => <span className="sr-only">Change</span>,
    cell: (c) => <ToggleRule rule={c.row.original} />,
  }),
];

export function SettingsPage() {
  const limits = api.useQuery("get", "/admin/v1/settings/limits");
  const rules = api.useQuery("get", "/admin/v1/aml/rules", {}, { enabled: can("aml:read") });
  return (
    <>
      <PageHeader title="Settings" description="KYC tier limits and the AML monitoring rules." />
      <h2 className="mb-2 text-lg font-semibold">KYC tier limits</h2>
      <DataTable
        caption="KYC tier limits"
        columns={limitColumns}
        rows={limits.data?.data}
        loading={limits.isLoading}
        error={limits.error}
        empty="No tiers."
        onRetry={() => limits.refetch()}
      />
      {can("aml:read") && (
        <>
          <h2 className="mt-6 mb-2 text-lg font-semibold">
            AML rules{rules.data ? ` (cash threshold ${money(rules.data.cashThreshold)})` : ""}
          </h2>
          <DataTable
            caption="AML rules"
            columns={ruleColumns}
            rows={rules.data?.data}
            loading={rules.isLoading}
            error={rules.error}
            empty="No rules."
            onRetry={() => rules.refetch()}
          />
        </>
      )}
    </>
  );
}
