/** Amounts are integer cents of SZL (API.md "Money"); shown as E1,234.50. */
export function money(cents: number | null | undefined, currency = "SZL"): string {
  if (cents === null || cents === undefined) return "—";
  const symbol = currency === "SZL" ? "E" : `${currency} `;
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${symbol}${Math.floor(abs / 100).toLocaleString("en-US")}.${String(abs % 100).padStart(2, "0")}`;
}

const dateTime = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "Africa/Mbabane",
});

/** Times are shown in Eswatini's clock, the one reports and limits count days in. */
export function when(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

/** "E12.50" or "12.5" typed by a person → cents, or null when it is not an amount. */
export function toCents(input: string): number | null {
  const cleaned = input.replace(/[E,\s]/gi, "");
  if (!/^\d+(\.\d{1,2})?$/.test(cleaned)) return null;
  const [whole, fraction = ""] = cleaned.split(".");
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
}
