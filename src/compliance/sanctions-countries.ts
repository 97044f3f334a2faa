import { nameTokens } from "./sanctions-names";

/**
 * Nationalities compared as ISO 3166 alpha-2 codes. The list writes the UN's own country names
 * ("Democratic People's Republic of Korea", "Russian Federation"); a screening names a code ("SZ") or a
 * country's English name. Anything unrecognised is left out of the comparison rather than counted a mismatch.
 */

// The UN's names that differ from what Intl calls the same country.
const UN_NAMES: Record<string, string> = {
  "democratic peoples republic of korea": "KP",
  "republic of korea": "KR",
  "russian federation": "RU",
  "united kingdom of great britain and northern ireland": "GB",
  "united states of america": "US",
  "syrian arab republic": "SY",
  "state of palestine": "PS",
  "united republic of tanzania": "TZ",
  "democratic republic of the congo": "CD",
  congo: "CG",
  "iran islamic republic of": "IR",
  "lao peoples democratic republic": "LA",
  "bolivia plurinational state of": "BO",
  "venezuela bolivarian republic of": "VE",
  "republic of moldova": "MD",
  turkey: "TR",
  swaziland: "SZ",
  "kingdom of eswatini": "SZ",
  "viet nam": "VN",
  "cote divoire": "CI",
};

let byName: Map<string, string> | undefined;

function names(): Map<string, string> {
  if (byName) return byName;
  byName = new Map(Object.entries(UN_NAMES));
  const display = new Intl.DisplayNames(["en"], { type: "region" });
  for (let a = 65; a < 91; a++)
    for (let b = 65; b < 91; b++) {
      const code = String.fromCharCode(a, b);
      let name: string | undefined;
      try {
        name = display.of(code);
      } catch {
        continue;
      }
      if (!name || name === code) continue;
      const key = nameTokens(name).join(" ");
      if (!byName.has(key)) byName.set(key, code);
    }
  return byName;
}

/** "SZ", "sz", "Eswatini", "Democratic People's Republic of Korea" → an alpha-2 code; unknown → undefined. */
export function countryCode(value: string | undefined | null): string | undefined {
  const text = (value ?? "").trim();
  if (/^[A-Za-z]{2}$/.test(text)) return text.toUpperCase();
  const key = nameTokens(text).join(" ");
  return key ? names().get(key) : undefined;
}
