import { eswatiniIso } from "../lib/clock";

/**
 * Which backups the cleanup keeps (API.md "Scheduled jobs"): every backup of the last `days` local days, the first
 * of each of the last `months` calendar months and the first of each of the last `years` calendar years (today,
 * this month and this year included; Africa/Mbabane's calendar). Whatever `protect` names is kept too: the newest
 * backup that verifies, and any a restore or verify is reading. Pure, so a test can run it over any calendar.
 */

export interface RetentionRules {
  days: number;
  months: number;
  years: number;
}

export interface Dated {
  object: string;
  createdAt: Date;
}

export type KeepReason = "daily" | "monthly" | "yearly" | "protected";

export interface RetentionPlan {
  keep: Map<string, KeepReason[]>;
  delete: string[];
}

function local(at: Date) {
  const iso = eswatiniIso(at);
  const year = Number(iso.slice(0, 4));
  const month = year * 12 + Number(iso.slice(5, 7)) - 1;
  // Days since the epoch on the local calendar.
  const day = Math.floor(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / 86_400_000);
  return { year, month, day };
}

export function planRetention(
  backups: readonly Dated[],
  now: Date,
  rules: RetentionRules,
  protect: ReadonlySet<string> = new Set(),
): RetentionPlan {
  const today = local(now);
  const keep = new Map<string, KeepReason[]>();
  const mark = (object: string, reason: KeepReason) => keep.set(object, [...(keep.get(object) ?? []), reason]);
  const sorted = [...backups].sort(
    (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.object.localeCompare(b.object),
  );
  const firstOfMonth = new Set<number>();
  const firstOfYear = new Set<number>();
  for (const backup of sorted) {
    const at = local(backup.createdAt);
    if (at.day > today.day - rules.days) mark(backup.object, "daily");
    if (!firstOfMonth.has(at.month)) {
      firstOfMonth.add(at.month);
      if (at.month > today.month - rules.months) mark(backup.object, "monthly");
    }
    if (!firstOfYear.has(at.year)) {
      firstOfYear.add(at.year);
      if (at.year > today.year - rules.years) mark(backup.object, "yearly");
    }
    if (protect.has(backup.object)) mark(backup.object, "protected");
  }
  return { keep, delete: sorted.filter((b) => !keep.has(b.object)).map((b) => b.object) };
}
