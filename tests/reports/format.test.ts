import { describe, expect, test } from "bun:test";
import { eswatiniDay, eswatiniDayRange, previousEswatiniDay } from "../../src/lib/clock";
import { csvDocument } from "../../src/lib/csv";
import { formatAmount } from "../../src/lib/money";
import { parseCsv } from "./support";

/** The pieces a report is written with: local days, grouped amounts, CSV cells. */

describe("local days (Africa/Mbabane, UTC+2 all year)", () => {
  test("a day runs from 22:00Z the evening before to 22:00Z on it", () => {
    expect(eswatiniDayRange("2026-11-26")).toEqual({
      from: new Date("2026-11-25T22:00:00.000Z"),
      to: new Date("2026-11-26T22:00:00.000Z"),
    });
    expect(eswatiniDayRange("2028-03-01").from).toEqual(new Date("2028-02-29T22:00:00.000Z"));
  });

  test("the day an instant falls on, and the one before (what the 00:30 job reports)", () => {
    expect(eswatiniDay(new Date("2026-11-26T21:59:59.999Z"))).toBe("2026-11-26");
    expect(eswatiniDay(new Date("2026-11-26T22:00:00.000Z"))).toBe("2026-11-27");
    expect(previousEswatiniDay(new Date("2026-11-26T22:30:00.000Z"))).toBe("2026-11-26");
    expect(previousEswatiniDay(new Date("2027-01-01T00:00:00.000Z"))).toBe("2026-12-31");
  });
});

describe("amounts for people", () => {
  test("grouped thousands for reports; ungrouped stays as SMS bodies have it", () => {
    expect(formatAmount(123_450, "SZL", { grouped: true })).toBe("E1,234.50");
    expect(formatAmount(100_000_000_05, "SZL", { grouped: true })).toBe("E100,000,000.05");
    expect(formatAmount(99_999, "SZL", { grouped: true })).toBe("E999.99");
    expect(formatAmount(5, "SZL", { grouped: true })).toBe("E0.05");
    expect(formatAmount(-155_000, "SZL", { grouped: true })).toBe("-E1,550.00");
    expect(formatAmount(123_450)).toBe("E1234.50");
  });
});

describe("CSV", () => {
  test("quotes what needs it, defuses formulas, and parses back cell for cell", () => {
    const text = csvDocument(
      ["a", "b"],
      [
        ['Shop "3", Manzini', -5],
        ["=HYPERLINK(1)", null],
        ["two\r\nlines", "-E1.00"],
      ],
    );
    expect(text).toBe('a,b\r\n"Shop ""3"", Manzini",-5\r\n\'=HYPERLINK(1),\r\n"two\r\nlines",\'-E1.00\r\n');
    expect(parseCsv(text)).toEqual([
      ["a", "b"],
      ['Shop "3", Manzini', "-5"],
      ["'=HYPERLINK(1)", ""],
      ["two\r\nlines", "'-E1.00"],
    ]);
  });
});
