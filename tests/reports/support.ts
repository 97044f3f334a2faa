import { expect } from "bun:test";
import { TEST_SECRETS, type TestContext } from "../support/harness";

/** What the report tests share: running the job as Cloud Scheduler does, and reading CSV back. */

export const runReportJob = (t: TestContext, query = "") =>
  t.request("POST", `/report-jobs/generate${query}`, {
    headers: { "x-job-secret": TEST_SECRETS.KESHLESS_JOB_SECRET },
  });

/** RFC 4180: quoted cells (with "" for a quote, and commas or line breaks inside), CRLF line ends. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += ch;
  }
  expect(quoted).toBe(false);
  // Every line ends with CRLF: nothing is left over.
  expect(row.length === 0 && cell === "").toBe(true);
  return rows;
}

export interface CsvLine {
  section: string;
  key: string;
  metric: string;
  currency: string;
  count: string;
  amountCents: number | null;
  amount: string;
}

/** A report's CSV as lines keyed by their header; every line has the header's seven cells. */
export function reportLines(text: string): CsvLine[] {
  const [header, ...rows] = parseCsv(text);
  expect(header).toEqual(["section", "key", "metric", "currency", "count", "amount_cents", "amount"]);
  return rows.map((cells) => {
    expect(cells).toHaveLength(7);
    const [section, key, metric, currency, count, cents, amount] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    return { section, key, metric, currency, count, amountCents: cents === "" ? null : Number(cents), amount };
  });
}

export const sumCents = (lines: CsvLine[]) => lines.reduce((sum, l) => sum + (l.amountCents ?? 0), 0);
