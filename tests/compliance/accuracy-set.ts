import { nameTokens } from "../../src/compliance/sanctions-names";
import type { ListedEntry } from "../../src/compliance/sanctions-parse";

/**
 * The screening accuracy set (issue 14), built from the real 2024-09-26 list: for every listed individual and
 * entity, its primary name as listed, reordered, with one typo, with a middle name dropped, and in another
 * transliteration — and a population of ordinary Eswatini names that must not be flagged, many sharing a given
 * name with listed people (Mohammed, Ali, Abdul, Musa, John, Ahmed, Ibrahim, Hassan, Omar…). Deterministic.
 *
 * Names the policy matches only exactly (a single token) are in the exact set and not in the fuzzy ones: a
 * fuzzy single-word hit is what COMPLIANCE.md §2 rule 5 rules out.
 */

export type VariantKind = "exact" | "reordered" | "typo" | "middle_dropped" | "transliteration";
export const VARIANT_KINDS: VariantKind[] = ["exact", "reordered", "typo", "middle_dropped", "transliteration"];

export interface Variant {
  kind: VariantKind;
  dataid: string;
  listed: string;
  query: string;
}

/** A small seeded generator (mulberry32), so the set is the same on every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const title = (tokens: string[]) => tokens.map((t) => t[0]!.toUpperCase() + t.slice(1)).join(" ");

// Neighbouring keys, for a plausible substitution.
const KEYS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];
function neighbour(c: string, next: () => number): string {
  for (const row of KEYS) {
    const i = row.indexOf(c);
    if (i >= 0) return row[i + (i === 0 ? 1 : i === row.length - 1 ? -1 : next() < 0.5 ? -1 : 1)]!;
  }
  return "e";
}

/** One edit (substitution, deletion, transposition, doubling) inside the longest token, never its first letter. */
function typo(tokens: string[], next: () => number): string[] {
  let at = 0;
  for (let i = 1; i < tokens.length; i++) if (tokens[i]!.length > tokens[at]!.length) at = i;
  const t = tokens[at]!;
  if (t.length < 4) return tokens;
  const p = 1 + Math.floor(next() * (t.length - 2));
  const edits = [
    () => t.slice(0, p) + neighbour(t[p]!, next) + t.slice(p + 1),
    () => t.slice(0, p) + t.slice(p + 1),
    () => t.slice(0, p) + t[p + 1]! + t[p]! + t.slice(p + 2),
    () => t.slice(0, p) + t[p]! + t.slice(p),
  ];
  const edited = edits[Math.floor(next() * edits.length)]!();
  return tokens.map((x, i) => (i === at ? edited : x));
}

// Spellings the same name takes in the list's own aliases and in ID documents (Arabic, Pashto, Somali names in
// Latin letters): whole-token swaps first, then letter patterns.
const SPELLINGS: string[][] = [
  ["muhammad", "mohammed", "mohamed", "mohammad", "muhamad"],
  ["ahmad", "ahmed"],
  ["abdul", "abdel", "abdoul"],
  ["abdullah", "abdallah", "abdulla"],
  ["yusuf", "yousef", "youssef"],
  ["hussein", "husain", "hussain", "hussien"],
  ["omar", "umar"],
  ["usama", "osama"],
  ["uthman", "usman", "osman"],
  ["said", "saeed", "sayed"],
  ["khalid", "khaled"],
  ["mahmoud", "mahmud"],
  ["mustafa", "mustapha"],
  ["ibrahim", "ebrahim"],
  ["hassan", "hasan"],
  ["saleh", "salih"],
  ["qadhafi", "gaddafi", "qaddafi"],
];
const PATTERNS: [RegExp, string][] = [
  [/ou/, "u"],
  [/ee/, "i"],
  [/oo/, "u"],
  [/q/, "k"],
  [/dh/, "z"],
  [/kh/, "h"],
  [/iy/, "i"],
  [/([bcdfghjklmnpqrstvwz])\1/, "$1"],
  [/ai/, "ay"],
  [/ei/, "ey"],
  [/y$/, "i"],
  [/i$/, "y"],
  [/u/, "o"],
];

function transliterate(tokens: string[], next: () => number): string[] {
  const out = [...tokens];
  const order = out.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (const i of order) {
    const group = SPELLINGS.find((g) => g.includes(out[i]!));
    if (group) {
      const others = group.filter((s) => s !== out[i]);
      out[i] = others[Math.floor(next() * others.length)]!;
      return out;
    }
  }
  for (const i of order)
    for (const [pattern, replacement] of PATTERNS)
      if (out[i]!.length > 3 && pattern.test(out[i]!.slice(1))) {
        out[i] = out[i]![0]! + out[i]!.slice(1).replace(pattern, replacement);
        return out;
      }
  return tokens;
}

/** Every variant kind for every listed name that has one (a kind is skipped where it would change nothing). */
export function listedVariants(entries: ListedEntry[], seed = 14): Variant[] {
  const next = random(seed);
  const variants: Variant[] = [];
  for (const e of entries) {
    const tokens = nameTokens(e.name);
    if (!tokens.length) continue;
    const push = (kind: VariantKind, q: string[]) => {
      const query = title(q);
      if (kind === "exact" || query.toLowerCase() !== tokens.join(" "))
        variants.push({ kind, dataid: e.dataid, listed: e.name, query });
    };
    push("exact", tokens);
    if (tokens.length < 2) continue;
    push("reordered", [...tokens.slice(1), tokens[0]!]);
    push("typo", typo(tokens, next));
    if (tokens.length >= 3) push("middle_dropped", [tokens[0]!, ...tokens.slice(2)]);
    const t = transliterate(tokens, next);
    if (t.join(" ") !== tokens.join(" ")) push("transliteration", t);
  }
  return variants;
}

export const GIVEN_NAMES = [
  "Sipho",
  "Thabo",
  "Nomvula",
  "Lindiwe",
  "Sibusiso",
  "Bongani",
  "Thandeka",
  "Zanele",
  "Mandla",
  "Nokuthula",
  "Sandile",
  "Phindile",
  "Mbali",
  "Themba",
  "Lwazi",
  "Siphiwe",
  "Gcina",
  "Nonhlanhla",
  "Mohammed",
  "Muhammad",
  "Ali",
  "Abdul",
  "Musa",
  "John",
  "Ahmed",
  "Ibrahim",
  "Hassan",
  "Omar",
  "Yusuf",
  "Fatima",
  "Joseph",
  "Peter",
  "Mary",
  "Samuel",
  "Grace",
];

export const SURNAMES = [
  "Dlamini",
  "Nkosi",
  "Simelane",
  "Motsa",
  "Shongwe",
  "Mamba",
  "Magagula",
  "Zwane",
  "Mkhabela",
  "Hlophe",
  "Mabuza",
  "Khumalo",
  "Gamedze",
  "Masilela",
  "Ndlovu",
  "Mdluli",
  "Maseko",
  "Tsabedze",
  "Nxumalo",
  "Fakudze",
];

/** 700 given × surname pairs, and 100 with a middle name (as an ID document writes three names). */
export function eswatiniNames(seed = 268): string[] {
  const next = random(seed);
  const names = GIVEN_NAMES.flatMap((given) => SURNAMES.map((surname) => `${given} ${surname}`));
  for (let i = 0; i < 100; i++) {
    const pick = (list: string[]) => list[Math.floor(next() * list.length)]!;
    names.push(`${pick(GIVEN_NAMES)} ${pick(GIVEN_NAMES)} ${pick(SURNAMES)}`);
  }
  return names;
}

/** Words vendors' trading names are made of here: places, families, trades, legal forms. */
const PLACES = [
  "Mbabane",
  "Manzini",
  "Matsapha",
  "Siteki",
  "Nhlangano",
  "Piggs Peak",
  "Ezulwini",
  "Lobamba",
  "Big Bend",
  "Hlathikhulu",
];
const TRADES = [
  "General Dealer",
  "Butchery",
  "Supermarket",
  "Hardware",
  "Bakery",
  "Salon",
  "Takeaways",
  "Spaza Shop",
  "Taxi Services",
  "Trading",
  "Fresh Produce",
  "Pharmacy",
  "Garage",
  "Tuckshop",
  "Exchange Shop",
  "Investments Pty Ltd",
  "Holdings",
  "Enterprises",
  "Corporation",
  "Market Stall",
];

/**
 * 400 ordinary vendor names — a family or a town and a trade ("Dlamini General Dealer", "Manzini Butchery"), and
 * the tests' own "Shop 3fa2b1" — none of which a listed entity's shared generic words may flag.
 */
export function eswatiniBusinessNames(seed = 2680): string[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const names = new Set<string>();
  for (const trade of TRADES) for (const who of [...SURNAMES, ...PLACES].slice(0, 15)) names.add(`${who} ${trade}`);
  while (names.size < 350) names.add(`${pick([...SURNAMES, ...PLACES])} ${pick(TRADES)}`);
  for (let i = 0; i < 50; i++)
    names.add(
      `Shop ${Math.floor(next() * 0xffffff)
        .toString(16)
        .padStart(6, "0")}`,
    );
  return [...names];
}
