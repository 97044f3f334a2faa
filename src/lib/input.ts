import { z } from "@hono/zod-openapi";

/**
 * Input the database must be able to store. Postgres refuses, deep inside a statement, what a zod string
 * or a JS Date happily accepts — U+0000 in text (22021, 22P05 in jsonb), a lone UTF-16 surrogate (no UTF-8
 * for it: jsonb refuses it, text would silently store U+FFFD), a timestamp JS writes with a 5- or 6-digit
 * year (22008, 22009) — and the caller got a 500 for their own mistake. The validation hook
 * (src/http/router.ts) applies `unstorableText` to every validated input and the date fields use `instantField`,
 * so these are one 400 VALIDATION_FAILED naming the field, checked before any handler runs.
 */

// With the `u` flag a well-formed surrogate pair is one code point, so \p{Cs} matches only lone halves.
const LONE_SURROGATE = /\p{Cs}/u;

/** True when Postgres text (UTF-8) can hold `value` exactly. */
export const isStorableText = (value: string) => !value.includes("\u0000") && !LONE_SURROGATE.test(value);

const MESSAGE = "must not contain U+0000 or a lone UTF-16 surrogate";

/**
 * Every string in a validated input — values and object keys, at any depth — that Postgres text cannot
 * store, as validation issues `{path, message}` (the path as the hook reports zod's: dot-joined).
 */
export function unstorableText(value: unknown, path: (string | number)[] = []): { path: string; message: string }[] {
  if (typeof value === "string") return isStorableText(value) ? [] : [{ path: path.join("."), message: MESSAGE }];
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableText(item, [...path, i]));
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    return Object.entries(value).flatMap(([k, v]) => [
      ...(isStorableText(k) ? [] : [{ path: [...path, k].join("."), message: `a key ${MESSAGE}` }]),
      ...unstorableText(v, [...path, k]),
    ]);
  return [];
}

// Nothing in a wallet predates 1900; past 9999 a Date's ISO form needs an expanded (±YYYYYY) year that
// Postgres does not read. Both ends are inclusive and in UTC.
const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(10000, 0, 1) - 1;

// A date (midnight UTC) or a date-time with Z or an offset: a time without one would be read in the
// server's zone. Seconds and fractions optional.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

/** The instant `value` names, or undefined when it is not one the API accepts (see `instantField`). */
export function parseInstant(value: string): Date | undefined {
  const m = INSTANT.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = m
    .slice(1)
    .map((part) => (part === undefined ? undefined : Number(part)));
  // Date.parse would roll 2024-02-30 over to March 1st; a calendar date must exist as written.
  const calendar = new Date(Date.UTC(year!, month! - 1, day!));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month! - 1 || calendar.getUTCDate() !== day)
    return undefined;
  if (hour! > 23 || minute! > 59 || second! > 59 || offsetHours! > 23 || offsetMinutes! > 59) return undefined;
  const at = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(at) || at < EARLIEST || at > LATEST) return undefined;
  return new Date(at);
}

/** The one date/instant input of the API: every date query or body field is this (→ a Date). */
export const instantField = z
  .string()
  .max(40)
  .transform((value, ctx) => {
    const at = parseInstant(value);
    if (!at) {
      ctx.addIssue({
        code: "custom",
        message: "an ISO 8601 date (YYYY-MM-DD, midnight UTC) or date-time with Z or an offset, in the years 1900–9999",
      });
      return z.NEVER;
    }
    return at;
  })
  .openapi({
    type: "string",
    format: "date-time",
    description: "ISO 8601 date-time with Z or an offset, or a date (midnight UTC); years 1900–9999",
    example: "2024-06-01T00:00:00Z",
  });

/** A calendar day, exactly "YYYY-MM-DD" and one that exists (2024-02-30 does not), as a string. */
export const dayField = z
  .string()
  .max(10)
  .refine((value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && parseInstant(value) !== undefined, {
    message: "a calendar day, YYYY-MM-DD",
    // A refinement chained after this one may read the value as a day: it runs only on one.
    abort: true,
  })
  .openapi({ type: "string", format: "date", example: "2026-11-26" });
