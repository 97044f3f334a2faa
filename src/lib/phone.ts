/**
 * Eswatini mobile numbers: 8 digits starting 75–79, stored as E.164 (+2687XXXXXXX).
 * 76/78 MTN, 75/79 Eswatini Mobile, 77 SPTC.
 */
export type Operator = "mtn" | "eswatini_mobile" | "sptc";

const MOBILE = /^7[5-9]\d{6}$/;

/** Accepts `76123456`, `26876123456`, `+26876123456`, `+268 7612 3456`; returns E.164 or null. */
export function normalizePhone(input: string): string | null {
  const compact = input.replace(/[\s\-().]/g, "");
  const digits = compact.startsWith("+") ? compact.slice(1) : compact.startsWith("00") ? compact.slice(2) : compact;
  if (!/^\d+$/.test(digits)) return null;
  const local = digits.length === 11 && digits.startsWith("268") ? digits.slice(3) : digits;
  if (local.length !== 8 || (compact.startsWith("+") && digits.length !== 11)) return null;
  return MOBILE.test(local) ? `+268${local}` : null;
}

export function operatorOf(e164: string): Operator | null {
  const prefix = e164.slice(4, 6);
  if (prefix === "76" || prefix === "78") return "mtn";
  if (prefix === "75" || prefix === "79") return "eswatini_mobile";
  if (prefix === "77") return "sptc";
  return null;
}

/** `+26876123456` → `+268*****456`: enough to tell numbers apart in logs, not enough to call anyone. */
export function maskPhone(e164: string): string {
  return e164.length > 7 ? `${e164.slice(0, 4)}${"*".repeat(e164.length - 7)}${e164.slice(-3)}` : "***";
}

// Any run of digits that could be an Eswatini mobile, in any accepted spelling.
const PHONE_IN_TEXT = /(?:(?:\+|%2B|00)?268[\s-]?)?7[5-9]\d{2}[\s-]?\d{4}(?!\d)/g;

export function maskPhonesInText(text: string): string {
  return text.replace(PHONE_IN_TEXT, (m) => `${"*".repeat(Math.max(0, m.length - 3))}${m.slice(-3)}`);
}
