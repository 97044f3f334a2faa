import { closeSync, openSync, readSync, statSync } from "node:fs";

/**
 * The Postgres server log as evidence: what one of our databases logged during a phase (serialization
 * failures and where they struck; with `log_statement = all` set on the database, every statement it ran).
 * Lines look like `2026-11-26 12:50:29.659 UTC [6564] postgres@keshless_bench_x LOG:  execute <unnamed>: …`
 * (log_line_prefix `%m [%p] %q%u@%d `); continuation lines of a multi-line statement carry no prefix.
 */

export const DEFAULT_PG_LOG = "/var/log/postgresql/postgresql-15-main.log";

/** Where the log ends now (bytes), or undefined when it cannot be read. */
export function logOffset(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
}

/** The lines appended since `offset` that belong to `database` (continuation lines folded into their line). */
export function logLinesSince(path: string, offset: number, database: string): string[] {
  let fd: number | undefined;
  try {
    const size = statSync(path).size;
    if (size <= offset) return [];
    fd = openSync(path, "r");
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    const lines: string[] = [];
    let ours = false;
    const tag = `@${database} `;
    for (const line of buffer.toString("utf8").split("\n")) {
      if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(line)) {
        ours = line.includes(tag);
        if (ours) lines.push(line.slice(line.indexOf(tag) + tag.length));
      } else if (ours && lines.length) lines[lines.length - 1] += ` ${line.trim()}`;
    }
    return lines;
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export interface LoggedErrors {
  /** SQLSTATE-ish kind ("serialization: read/write dependencies", "deadlock", …) → count. */
  byKind: Record<string, number>;
  /** "kind @ where" (the PL/pgSQL context or statement that failed) → count, most frequent first. */
  byPlace: [string, number][];
  total: number;
}

function kindOf(message: string): string {
  if (message.includes("read/write dependencies")) return "40001 read/write dependencies";
  if (message.includes("concurrent update")) return "40001 concurrent update";
  if (message.includes("deadlock detected")) return "40P01 deadlock";
  return message.slice(0, 80);
}

/** ERROR lines of the database, grouped by kind and by the statement or PL/pgSQL line they hit. */
export function loggedErrors(lines: string[]): LoggedErrors {
  const byKind: Record<string, number> = {};
  const byPlace = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < lines.length; i++) {
    const m = /^ERROR:\s+(.*)$/.exec(lines[i]!);
    if (!m) continue;
    total++;
    const kind = kindOf(m[1]!);
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    let where = "";
    for (let j = i + 1; j < Math.min(lines.length, i + 5); j++) {
      const context = /^CONTEXT:\s+(.*)$/.exec(lines[j]!);
      if (context) {
        where = context[1]!.replace(/\s+/g, " ").slice(0, 110);
        break;
      }
      const statement = /^STATEMENT:\s+(.*)$/.exec(lines[j]!);
      if (statement) {
        where = statement[1]!.replace(/\s+/g, " ").slice(0, 110);
        break;
      }
      if (/^ERROR:/.test(lines[j]!)) break;
    }
    const place = `${kind} @ ${where || "?"}`;
    byPlace.set(place, (byPlace.get(place) ?? 0) + 1);
  }
  return { byKind, byPlace: [...byPlace].sort((a, b) => b[1] - a[1]), total };
}

export interface LoggedStatement {
  /** The statement's first words (parameters are on DETAIL lines and not part of it). */
  text: string;
  /** Times it ran (execute messages, or simple-protocol statements). */
  count: number;
  /** Server time over all its runs, parse + bind + execute (`log_min_duration_statement = 0`); NaN without. */
  ms: number;
}

/**
 * Statements logged by `log_min_duration_statement = 0` (or `log_statement = all`, without durations),
 * grouped by their first words, most frequent first: what a request costs in round trips and server time.
 */
export function loggedStatements(lines: string[]): LoggedStatement[] {
  const byText = new Map<string, LoggedStatement>();
  for (const line of lines) {
    const m = /^LOG:\s+(?:duration: ([\d.]+) ms\s+)?(statement|parse|bind|execute)(?: [^:]*)?:\s+(.*)$/.exec(line);
    if (!m) continue;
    const text = m[3]!.replace(/\s+/g, " ").trim();
    const short = text.length > 90 ? `${text.slice(0, 90)}…` : text;
    const entry = byText.get(short) ?? { text: short, count: 0, ms: m[1] === undefined ? Number.NaN : 0 };
    byText.set(short, entry);
    if (m[2] === "statement" || m[2] === "execute") entry.count++;
    if (m[1] !== undefined) entry.ms += Number(m[1]);
  }
  return [...byText.values()].sort((a, b) => b.count - a.count || b.ms - a.ms);
}

/**
 * Statements timed by auto_explain (`auto_explain.log_min_duration = 0`, `log_nested_statements = on`,
 * `log_format = json`): also those run inside PL/pgSQL functions and triggers, which the statement log does
 * not show. Times are inclusive (a function's statement includes the statements it runs).
 */
export function loggedPlans(lines: string[]): LoggedStatement[] {
  const byText = new Map<string, LoggedStatement>();
  for (const line of lines) {
    const m = /^LOG:\s+duration: ([\d.]+) ms\s+plan:\s*.*?"Query Text": "((?:[^"\\]|\\.)*)"/.exec(line);
    if (!m) continue;
    const text = JSON.parse(`"${m[2]!}"`).replace(/\s+/g, " ").trim() as string;
    const short = text.length > 100 ? `${text.slice(0, 100)}…` : text;
    const entry = byText.get(short) ?? { text: short, count: 0, ms: 0 };
    byText.set(short, entry);
    entry.count++;
    entry.ms += Number(m[1]);
  }
  return [...byText.values()].sort((a, b) => b.ms - a.ms);
}
