import { and, eq, lt, or, type SQL } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { isStorableText, parseInstant } from "../lib/input";
import { AppError } from "./errors";

/**
 * Keyset pagination, the one way every list pages: newest first by (time, id); a page's cursor is its last
 * row's pair, opaque to clients (base64url JSON).
 */

export function encodeCursor(at: Date | string, id: string): string {
  return Buffer.from(JSON.stringify([new Date(at).toISOString(), id])).toString("base64url");
}

/**
 * A cursor we issued, or 400: a tampered cursor is the caller's mistake, not a 500. What it decodes to meets
 * the same input rules as any other input (src/lib/input.ts), since the validation hook cannot see inside it.
 */
export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const date = typeof at === "string" ? parseInstant(at) : undefined;
    if (typeof id === "string" && isStorableText(id) && date) return { at: date, id };
  } catch {
    // falls through
  }
  throw new AppError("VALIDATION_FAILED", "The cursor is not valid.", [{ path: "cursor", message: "not valid" }]);
}

/** The rows after `cursor` in (at, id) descending order: `at < c.at or (at = c.at and id < c.id)`. */
export function after(cursor: string, at: PgColumn, id: PgColumn): SQL {
  const c = decodeCursor(cursor);
  return or(lt(at, c.at), and(eq(at, c.at), lt(id, c.id)))!;
}
