/**
 * Screen text rules. A USSD screen is at most 182 GSM-7 characters; one character outside GSM-7's
 * basic set makes the network send UCS-2 and the limit drops to about 80, so dynamic text (names the
 * users typed) is folded into the basic set before it reaches a screen.
 */

export const MAX_SCREEN = 182;

const GSM7_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7 = new Set(GSM7_BASIC);

export const isGsm7 = (text: string) => [...text].every((ch) => GSM7.has(ch));

/** Folds text into GSM-7's basic set: accents dropped where that helps, anything else becomes "?". */
export function toGsm7(text: string): string {
  return [...text]
    .map((ch) => {
      if (GSM7.has(ch)) return ch;
      const folded = ch.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
      if (folded && [...folded].every((c) => GSM7.has(c))) return folded;
      if (/[‘’`´]/.test(ch)) return "'";
      if (/[“”]/.test(ch)) return '"';
      if (/[–—]/.test(ch)) return "-";
      return "?";
    })
    .join("");
}

/** A name or other user-typed text for a screen: GSM-7, one line, at most `max` characters. */
export function clip(text: string, max = 20): string {
  const clean = toGsm7(text.replace(/\s+/g, " ").trim());
  return clean.length <= max ? clean : `${clean.slice(0, max - 2)}..`;
}

/** Cents as people write them on a feature phone: 1500 → "E15.00". */
export function money(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(cents));
  return `${sign}E${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** "50", "50.5", "50.50" (emalangeni) → cents; anything else (or zero) → null. */
export function parseAmount(input: string): number | null {
  const match = /^(\d{1,9})(?:\.(\d{1,2}))?$/.exec(input.trim());
  if (!match) return null;
  const cents = Number(match[1]) * 100 + Number((match[2] ?? "0").padEnd(2, "0"));
  return cents > 0 ? cents : null;
}

/** `+26876123456` → `7612 3456`: how people say their numbers. */
export function localPhone(e164: string): string {
  const local = e164.replace(/^\+268/, "");
  return local.length === 8 ? `${local.slice(0, 4)} ${local.slice(4)}` : local;
}

/**
 * The last line of defence: a screen that would be too long is cut rather than refused by the network.
 * The catalog tests keep every screen under the limit, so this only fires on data no test foresaw.
 */
export function fit(text: string): { text: string; cut: boolean } {
  const clean = toGsm7(text);
  if (clean.length <= MAX_SCREEN) return { text: clean, cut: false };
  return { text: `${clean.slice(0, MAX_SCREEN - 2)}..`, cut: true };
}
