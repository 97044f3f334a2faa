/**
 * How a name becomes comparable tokens (COMPLIANCE.md §2 step 1), the same for a listed name and a screened one:
 * Unicode NFKD with the accents dropped, lower case, apostrophes removed (Ri’ad → riad), hyphens and other
 * punctuation turned into spaces, titles dropped, "SURNAME, Given" reordered. Only Latin letters survive: a
 * name in Arabic, Cyrillic or Korean script yields no token (its transliterations are separate aliases).
 */

// Letters NFKD leaves whole.
const FOLD: Record<string, string> = { ø: "o", ł: "l", ß: "ss", æ: "ae", œ: "oe", đ: "d", ð: "d", þ: "th", ı: "i" };

// Titles and honorifics carry no identity, and the list writes them inside names ("Haji Mudir", "Dr. Ibrahim").
const TITLES = new Set([
  "mr",
  "mrs",
  "ms",
  "dr",
  "haji",
  "hajji",
  "alhaj",
  "alhajji",
  "mullah",
  "mulla",
  "maulvi",
  "mawlawi",
  "maulavi",
  "maulana",
  "sheikh",
  "shaykh",
  "sheik",
  "shaikh",
  "qari",
  "mufti",
]);

/** Lower-case Latin tokens of a name; "Dlamini, Sipho" → ["sipho", "dlamini"]. */
export function nameTokens(name: string): string[] {
  let text = name
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
  text = text.replace(/[øłßæœđðþı]/g, (c) => FOLD[c] ?? c);
  text = text.replace(/['’‘`ʼʻ´]/g, "");
  // "SURNAME, Given": one comma between two parts of a name, the family name first.
  const comma = text.split(",");
  if (comma.length === 2 && comma[0]!.trim() && comma[1]!.trim()) text = `${comma[1]} ${comma[0]}`;
  return text.split(/[^a-z]+/).filter((token) => token.length > 0 && !TITLES.has(token));
}

/** The tokens joined: what "an exact normalised match" compares (order-insensitive, so sorted). */
export const exactKey = (tokens: readonly string[]) => [...tokens].sort().join(" ");

/** True when a name has at least one Latin letter to compare. */
export const hasLatin = (name: string) => nameTokens(name).length > 0;

/**
 * One alias field, as the list writes it, into the names it holds. Six individual aliases pack several,
 * `;`-separated, sometimes in brackets after an Arabic-script name, with line breaks inside
 * ("حسن غول (Hassan Ghul; Hassan Gul; Hasan Gul)"). Brackets are stripped, whitespace collapsed, a trailing
 * comma dropped.
 */
export function splitAliases(raw: string): string[] {
  const names: string[] = [];
  for (const part of raw.split(/[;()]/)) {
    const name = part
      .replace(/\s+/g, " ")
      .trim()
      .replace(/^[,.\s]+|[,\s]+$/g, "");
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

/** A name field: trimmed, inner whitespace collapsed ("SALIM ", " MOHAMUD "). */
export const cleanName = (value: string | undefined | null) => (value ?? "").replace(/\s+/g, " ").trim();
