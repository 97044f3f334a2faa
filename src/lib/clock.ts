/**
 * Eswatini's clock. The country keeps UTC+2 all year (no daylight saving), so a local instant is the UTC one
 * shifted by two hours: limits count local days and months, screens show local times.
 */
const ESWATINI_OFFSET_MS = 2 * 3_600_000;

/** `at` written as local ISO text without an offset, e.g. "2026-11-26T14:05:00.000" for 12:05Z. */
export const eswatiniIso = (at: Date): string => new Date(at.getTime() + ESWATINI_OFFSET_MS).toISOString().slice(0, 23);

/** The local calendar day and month as usage counters name them: { day: "d:2026-11-26", month: "m:2026-11" }. */
export function usagePeriods(at: Date): { day: string; month: string } {
  const local = eswatiniIso(at);
  return { day: `d:${local.slice(0, 10)}`, month: `m:${local.slice(0, 7)}` };
}

const DAY_MS = 86_400_000;

/** The local calendar day `at` falls on, "2026-11-26". */
export const eswatiniDay = (at: Date): string => eswatiniIso(at).slice(0, 10);

/** The local day before the one `at` falls on: what a daily job run after midnight covers. */
export const previousEswatiniDay = (at: Date): string => eswatiniDay(new Date(at.getTime() - DAY_MS));

/** The instants a local day "2026-11-26" covers, [from, to): 2026-11-25T22:00Z to 2026-11-26T22:00Z. */
export function eswatiniDayRange(day: string): { from: Date; to: Date } {
  const from = new Date(Date.parse(`${day}T00:00:00Z`) - ESWATINI_OFFSET_MS);
  if (Number.isNaN(from.getTime())) throw new TypeError(`Not a calendar day: ${JSON.stringify(day)}.`);
  return { from, to: new Date(from.getTime() + DAY_MS) };
}
