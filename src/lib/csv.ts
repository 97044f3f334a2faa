/**
 * One CSV cell, RFC 4180 quoted; a cell a spreadsheet would run as a formula (= + - @, tab, CR) is prefixed with
 * `'` (OWASP's CSV injection advice): names and notes are typed by people. Numbers are written as they are, so a
 * negative amount stays a number.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV document: the header, then one line per row, CRLF-terminated (RFC 4180). */
export const csvDocument = (header: readonly string[], rows: readonly (string | number | null)[][]): string =>
  [header.map(csvCell), ...rows.map((row) => row.map(csvCell))].map((cells) => `${cells.join(",")}\r\n`).join("");
