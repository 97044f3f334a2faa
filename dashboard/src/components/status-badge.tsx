import { Badge } from "@/components/ui/badge";

const ALARMING = new Set([
  "frozen",
  "failed",
  "rejected",
  "disabled",
  "open",
  "confirmed",
  "confirmed_risk",
  "suspended",
]);
const CALM = new Set(["active", "completed", "approved", "cleared", "closed", "delivered", "succeeded", "ok"]);

/** One look for every status the API returns. */
export function StatusBadge({ status }: { status: string | null | undefined }) {
  if (!status) return <span>—</span>;
  const variant = ALARMING.has(status) ? "destructive" : CALM.has(status) ? "secondary" : "outline";
  return <Badge variant={variant}>{status.replaceAll("_", " ")}</Badge>;
}
