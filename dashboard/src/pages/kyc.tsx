import { Link, useParams, useSearch } from "@tanstack/react-router";
import { createColumnHelper } from "@tanstack/react-table";
import { useState } from "react";
import { api } from "@/api/client";
import { useRefreshAll } from "@/api/hooks";
import type { components } from "@/api/schema";
import { can } from "@/auth/session";
import { ConfirmAction } from "@/components/confirm-action";
import { DataTable } from "@/components/data-table";
import { Filters } from "@/components/filters";
import { Facts, Loadable, PageHeader } from "@/components/page";
import { StatusBadge } from "@/components/status-badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { Label } from "@/components/ui/label";
import { NativeSelect } from "@/components/ui/native-select";
import { when } from "@/lib/format";
import { type ListSearch, listSearch, oneOf, text, useListUrl } from "@/lib/search";

type Summary = components["schemas"]["KycSubmissionSummary"];
const STATUSES = ["processing", "in_review", "approved", "rejected"] as const;

export interface KycSearch extends ListSearch {
  status?: (typeof STATUSES)[number];
  userId?: string;
}

export const kycSearch = (s: Record<string, unknown>): KycSearch => ({
  ...listSearch(s),
  status: oneOf(s.status, STATUSES),
  userId: text(s.userId),
});

const column = createColumnHelper<Summary>();
const columns = [
  column.accessor("id", {
    header: "Submission",
    cell: (c) => (
      <Link to="/kyc/$id" params={{ id: c.getValue() }} className="font-mono text-xs text-primary underline">
        {c.getValue()}
      </Link>
    ),
  }),
  column.accessor("user", { header: "User", cell: (c) => `${c.getValue().name ?? "—"} · ${c.getValue().phone}` }),
  column.accessor("status", { header: "Status", cell: (c) => <StatusBadge status={c.getValue()} /> }),
  column.accessor("tierRequested", { header: "Tier asked" }),
  column.accessor("reasons", {
    header: "Why in review",
    cell: (c) =>
      c
        .getValue()
        .map((r) => r.code)
        .join(", ") || "—",
  }),
  column.accessor("createdAt", { header: "Submitted", cell: (c) => when(c.getValue()) }),
];

export function KycPage() {
  const search = useSearch({ from: "/app/kyc" });
  const { data, isLoading, error, refetch } = api.useQuery("get", "/admin/v1/kyc/submissions", {
    params: { query: { status: search.status, userId: search.userId, cursor: search.cursor } },
  });
  const { paging, setFilters } = useListUrl(search, data?.nextCursor);
  return (
    <>
      <PageHeader title="KYC review" description="Submissions the checks could not approve on their own wait here." />
      <Filters
        fields={[
          { name: "status", label: "Status", options: STATUSES },
          { name: "userId", label: "User id", placeholder: "usr_…" },
        ]}
        values={search}
        onApply={setFilters}
      />
      <DataTable
        caption="KYC submissions"
        columns={columns}
        rows={data?.data}
        loading={isLoading}
        error={error}
        empty="No submission matches."
        paging={paging}
        onRetry={() => refetch()}
      />
    </>
  );
}

const yesNo = (value: boolean | null | undefined) =>
  value === null || value === undefined ? "—" : value ? "yes" : "no";

export function KycSubmissionPage() {
  const { id } = useParams({ from: "/app/kyc/$id" });
  const refreshAll = useRefreshAll();
  const submission = api.useQuery("get", "/admin/v1/kyc/submissions/{id}", { params: { path: { id } } });
  const approve = api.useMutation("post", "/admin/v1/kyc/submissions/{id}/approve");
  const reject = api.useMutation("post", "/admin/v1/kyc/submissions/{id}/reject");
  const [tier, setTier] = useState<string | null>(null);
  return (
    <Loadable loading={submission.isLoading} error={submission.error}>
      {() => {
        const s = submission.data!;
        const { ocr, faceMatch, idNumber, sanctions } = s.checks;
        const open = s.status === "in_review" || s.status === "processing";
        const chosenTier = tier ?? String(Math.max(1, s.tier));
        return (
          <>
            <PageHeader title={`KYC of ${s.user.name ?? s.user.phone}`} description={s.id}>
              {can("kyc:review") && open && (
                <>
                  <ConfirmAction
                    label="Approve"
                    title="Approve this submission?"
                    description="The user's tier and limits change at once, and they are told."
                    reason={{ label: "Note (optional)", required: false }}
                    onConfirm={async (note) => {
                      await approve.mutateAsync({
                        params: { path: { id } },
                        body: { tier: Number(chosenTier), ...(note ? { note } : {}) },
                      });
                      await refreshAll();
                    }}
                  >
                    <div className="grid gap-1.5">
                      <Label htmlFor="approve-tier">Tier to grant</Label>
                      <NativeSelect id="approve-tier" value={chosenTier} onChange={(e) => setTier(e.target.value)}>
                        {[1, 2].map((t) => (
                          <option key={t} value={t}>
                            Tier {t}
                          </option>
                        ))}
                      </NativeSelect>
                    </div>
                  </ConfirmAction>
                  <ConfirmAction
                    label="Reject"
                    variant="destructive"
                    title="Reject this submission?"
                    description="The tier stays as it is; the user is told your reason."
                    reason={{ label: "Reason (the user reads it)" }}
                    onConfirm={async (reason) => {
                      await reject.mutateAsync({ params: { path: { id } }, body: { reason } });
                      await refreshAll();
                    }}
                  />
                </>
              )}
            </PageHeader>
            <div className="grid gap-4 xl:grid-cols-2">
              <Card>
                <CardHeader>
                  <CardTitle>What the checks found</CardTitle>
                </CardHeader>
                <CardContent className="grid gap-4">
                  <Facts
                    items={[
                      ["Status", <StatusBadge key="s" status={s.status} />],
                      [
                        "User",
                        <Link key="u" to="/users/$id" params={{ id: s.user.id }} className="text-primary underline">
                          {s.user.phone}
                        </Link>,
                      ],
                      ["Tier asked / reached", `${s.tierRequested} / ${s.tier}`],
                      ["Reasons", s.reasons.map((r) => r.message).join(" · ") || "—"],
                      ["ID number typed", s.idNumber],
                      ["Name on the document", s.documentName],
                      ["Birth date on the document", s.documentDateOfBirth],
                      ["OCR", ocr ? `${ocr.provider ?? "none"} (confidence ${ocr.confidence})` : "not run"],
                      ...Object.entries(ocr?.fields ?? {}).map(([k, v]) => [`· ${k}`, v] as [string, string | null]),
                      [
                        "Face match",
                        faceMatch ? `${faceMatch.similarity ?? "—"} (needs ${faceMatch.threshold})` : "no selfie",
                      ],
                      ["ID number valid", yesNo(idNumber?.valid)],
                      ["ID number's birth date", idNumber?.dateOfBirth],
                      ["Matches the document", yesNo(idNumber?.matchesDocument)],
                      [
                        "Sanctions",
                        !sanctions?.run
                          ? "not run"
                          : sanctions.matches.length
                            ? sanctions.matches.map((m) => `${m.matchedName} (${m.score.toFixed(2)})`).join(", ")
                            : "no match",
                      ],
                      ["Decided", s.decidedAt ? `${when(s.decidedAt)} by ${s.decidedBy}` : "—"],
                      ["Note / reason", s.note ?? s.reason],
                    ]}
                  />
                </CardContent>
              </Card>
              <Card>
                <CardHeader>
                  <CardTitle>Documents</CardTitle>
                </CardHeader>
                <CardContent className="grid gap-4 sm:grid-cols-2">
                  {s.documents.length === 0 && <p className="text-sm text-muted-foreground">No documents.</p>}
                  {s.documents.map((d) => (
                    <figure key={d.id} className="grid gap-1">
                      {d.contentType.startsWith("image/") ? (
                        <img
                          src={d.url}
                          alt={`${d.type.replaceAll("_", " ")} of ${s.user.name ?? s.user.phone}`}
                          className="max-h-72 w-full rounded-md border object-contain"
                        />
                      ) : null}
                      <figcaption className="text-xs">
                        {d.type.replaceAll("_", " ")} ·{" "}
                        <a href={d.url} target="_blank" rel="noreferrer noopener" className="text-primary underline">
                          open
                        </a>{" "}
                        (link works until {when(d.expiresAt)})
                      </figcaption>
                    </figure>
                  ))}
                </CardContent>
              </Card>
            </div>
          </>
        );
      }}
    </Loadable>
  );
}
