import jaroWinkler from "jaro-winkler";
import { countryCode } from "./sanctions-countries";
import { exactKey, nameTokens } from "./sanctions-names";
import type { AliasQuality, ListedDob, ListType } from "./sanctions-parse";

/**
 * The name matcher of COMPLIANCE.md §2, over one list version held in memory. Pure: no database, no logging.
 *
 * - Token-level Jaro-Winkler, best pairs: each query token takes its best partner among the listed name's
 *   tokens not yet used, greedily by score; a token may also pair with two adjacent tokens of the other side
 *   written together ("Abdulrahman" ~ "Abdul Rahman"). The name score is the length-weighted average over the
 *   query's tokens (a token left without a partner, or whose best partner scores under `tokenFloor`, adds 0),
 *   less `unmatchedPenalty` × the share of the listed name left unmatched ("John Doe" ≠ "John Bartholomew Doe").
 * - Common names (Mohammed, Ali, Abdul, Musa, John… configured, plus any token carried by `commonEntries`
 *   listed people or more) never carry a match alone: some pair of uncommon tokens must reach `tokenMatch`,
 *   or else every token of both names must be matched at `tokenMatch` (the whole name is the listed one).
 * - Low-quality aliases and single-token names count only on an exact normalised match, never fuzzily.
 * - Date of birth and nationality only lower a score (a DOB that cannot be the listed one, a different
 *   nationality), never raise it.
 * - Candidates come from an inverted index over the list's token vocabulary: a query token is compared with
 *   every vocabulary token whose letters could reach `tokenMatch` (a letter-count bound prunes the rest),
 *   and the results are cached per token, so a re-screen of many names costs one scan per distinct token.
 */

export interface MatcherSettings {
  /** A match is a score at or above this (KESHLESS_SANCTIONS_THRESHOLD). */
  threshold: number;
  /** A token pair at or above this is a matched token: it can carry a match, and it finds candidates. */
  tokenMatch: number;
  /** A token pair under this counts 0, not the Jaro-Winkler of two unrelated tokens (≈ 0.4–0.6). */
  tokenFloor: number;
  /**
   * Two adjacent tokens written together pair with one token only at or above this: a joined pair is long, and
   * Jaro-Winkler's prefix bonus would otherwise let "John Nkosi" (johnnkosi) pass for "Johnson".
   */
  joinedMatch: number;
  /** Weight of the share of the listed name left unmatched (Watchman's 0.15). */
  unmatchedPenalty: number;
  /** Given names too common, on the list and among our users, to carry a match. */
  commonNames: readonly string[];
  /** A token carried by this many listed entries or more is common too. */
  commonEntries: number;
  /** How far (years) an approximate year of birth stretches. */
  dobToleranceYears: number;
  /** Taken off when no listed date of birth can be the screened one (year apart). */
  dobPenalty: number;
  /** Taken off when the listed date is in the same year but another day. */
  dobDayPenalty: number;
  /** Taken off when the listed nationalities do not include the screened one. */
  nationalityPenalty: number;
}

export interface MatcherEntry {
  dataid: string;
  listType: ListType;
  name: string;
  referenceNumber: string;
  regime: string;
  dobs: ListedDob[];
  nationalities: string[];
}

export interface MatcherName {
  dataid: string;
  /** The name as listed. */
  name: string;
  kind: "primary" | "alias";
  quality: AliasQuality | null;
}

export interface ScreenQuery {
  name: string;
  /** YYYY-MM-DD, or YYYY. */
  dateOfBirth?: string | undefined;
  /** ISO alpha-2 or an English country name. */
  nationality?: string | undefined;
}

/** One listed person or entity's best name against the query, with what made the score. */
export interface Candidate {
  dataid: string;
  name: string;
  matchedName: string;
  listType: ListType;
  referenceNumber: string;
  regime: string;
  score: number;
  nameScore: number;
  reasons: string[];
  parts: {
    base: number;
    unmatchedListShare: number;
    carried: "uncommon_token" | "whole_name" | "exact" | "none";
    dob: number;
    nationality: number;
    pairs: [number, string, number][];
  };
}

interface IndexedName {
  entry: number;
  name: string;
  kind: "primary" | "alias";
  quality: AliasQuality | null;
  tokens: string[];
  lengths: number[];
  total: number;
  /** Exact normalised match only. */
  weak: boolean;
  /** Every token common: only a whole-name match counts. */
  allCommon: boolean;
  /** Its tokens and adjacent pairs, as scoring pairs them. */
  items: Item[];
}

interface Entry extends MatcherEntry {
  countries: Set<string>;
}

/** One vocabulary token, or two adjacent tokens of a listed name written together. */
interface Vocab {
  text: string;
  joined: boolean;
  common: boolean;
  /** Names holding it as a fuzzy-matchable token (weak names excluded), and the positions it covers in each. */
  names: number[];
  masks: number[];
}

export interface SanctionsIndex {
  version: string;
  entries: Entry[];
  names: IndexedName[];
  vocab: Vocab[];
  /** Per vocabulary entry, flat: its letter counts (26 each), length, first four letters, whether joined. */
  letters: Uint8Array;
  lengths: Uint8Array;
  prefixes: Uint8Array;
  joined: Uint8Array;
  /** Vocabulary ids by length, and where each length starts in it: a scan visits only the lengths that can match. */
  byLength: Int32Array;
  lengthStart: Int32Array;
  exact: Map<string, number[]>;
  common: Set<string>;
  settings: MatcherSettings;
  /** Per query token: the vocabulary ids within tokenMatch, with their Jaro-Winkler. Bounded; cleared when full. */
  near: Map<string, [number, number][]>;
}

const NEAR_CACHE = 200_000;
const A = 97;

function letterCounts(text: string, into: Uint8Array, at: number) {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - A;
    if (c >= 0 && c < 26 && into[at + c]! < 255) into[at + c]!++;
  }
}

export function buildIndex(
  version: string,
  entries: MatcherEntry[],
  names: MatcherName[],
  settings: MatcherSettings,
): SanctionsIndex {
  const byId = new Map<string, number>();
  const indexed: Entry[] = entries.map((e, i) => {
    byId.set(e.dataid, i);
    const countries = new Set<string>();
    for (const n of e.nationalities) {
      const code = countryCode(n);
      if (code) countries.add(code);
    }
    return { ...e, countries };
  });

  const tokenized = names.flatMap((n) => {
    const entry = byId.get(n.dataid);
    const tokens = nameTokens(n.name);
    return entry === undefined || !tokens.length ? [] : [{ ...n, entry, tokens }];
  });
  // How many listed entries carry each token: the list's own common names.
  const entriesOf = new Map<string, Set<number>>();
  for (const n of tokenized)
    for (const t of n.tokens) {
      const set = entriesOf.get(t) ?? new Set<number>();
      set.add(n.entry);
      entriesOf.set(t, set);
    }
  const common = new Set(settings.commonNames.flatMap((n) => nameTokens(n)));
  for (const [token, set] of entriesOf) if (set.size >= settings.commonEntries) common.add(token);
  // A lone letter (an initial, the "S" and "A" of "S.A.", what is left of "Shop a85a82" without its digits) says
  // nothing about who someone is: it never carries a match alone either.
  for (const token of entriesOf.keys()) if (token.length === 1) common.add(token);

  const vocabId = new Map<string, number>();
  const vocab: Vocab[] = [];
  const add = (text: string, joined: boolean, isCommon: boolean, name: number, mask: number) => {
    let id = vocabId.get(text);
    if (id === undefined) {
      id = vocab.length;
      vocabId.set(text, id);
      vocab.push({ text, joined, common: isCommon, names: [], masks: [] });
    }
    const v = vocab[id]!;
    if (v.names.at(-1) === name) v.masks[v.masks.length - 1]! |= mask;
    else {
      v.names.push(name);
      v.masks.push(mask);
    }
  };
  const exact = new Map<string, number[]>();
  const indexedNames: IndexedName[] = [];
  for (const n of tokenized) {
    const id = indexedNames.length;
    const weak = n.quality === "low" || n.tokens.length === 1;
    const allCommon = n.tokens.every((t) => common.has(t));
    const lengths = n.tokens.map((t) => t.length);
    indexedNames.push({
      entry: n.entry,
      name: n.name,
      kind: n.kind,
      quality: n.quality,
      tokens: n.tokens,
      lengths,
      total: lengths.reduce((a, b) => a + b, 0),
      weak,
      allCommon,
      items: items(n.tokens, common),
    });
    const key = exactKey(n.tokens);
    const list = exact.get(key);
    if (list) list.push(id);
    else exact.set(key, [id]);
    if (weak) continue;
    // Positions past the 31st are never covered: so long a name only matches through an uncommon token.
    const bit = (i: number) => (i < 31 ? 1 << i : 0);
    for (let i = 0; i < n.tokens.length; i++) {
      add(n.tokens[i]!, false, common.has(n.tokens[i]!), id, bit(i));
      if (i + 1 < n.tokens.length)
        add(
          n.tokens[i]! + n.tokens[i + 1]!,
          true,
          common.has(n.tokens[i]!) && common.has(n.tokens[i + 1]!),
          id,
          bit(i) | bit(i + 1),
        );
    }
  }
  const letters = new Uint8Array(vocab.length * 26);
  const lengths = new Uint8Array(vocab.length);
  const prefixes = new Uint8Array(vocab.length * 4);
  const joined = new Uint8Array(vocab.length);
  for (const [i, v] of vocab.entries()) {
    letterCounts(v.text, letters, i * 26);
    lengths[i] = Math.min(255, v.text.length);
    for (let k = 0; k < 4 && k < v.text.length; k++) prefixes[i * 4 + k] = v.text.charCodeAt(k);
    joined[i] = v.joined ? 1 : 0;
  }
  const byLength = Int32Array.from(vocab.keys()).sort((x, y) => lengths[x]! - lengths[y]! || x - y);
  const lengthStart = new Int32Array(257);
  for (const id of byLength) lengthStart[lengths[id]! + 1]!++;
  for (let n = 1; n <= 256; n++) lengthStart[n]! += lengthStart[n - 1]!;
  return {
    version,
    entries: indexed,
    names: indexedNames,
    vocab,
    letters,
    lengths,
    prefixes,
    joined,
    byLength,
    lengthStart,
    exact,
    common,
    settings,
    near: new Map(),
  };
}

/**
 * Vocabulary ids whose Jaro-Winkler with `token` reaches tokenMatch, and that Jaro-Winkler; for two query tokens
 * written together (`joined`), only single vocabulary tokens reaching joinedMatch (a pair never pairs a pair).
 */
function nearTokens(index: SanctionsIndex, token: string, joined: boolean): [number, number][] {
  const key = joined ? `+${token}` : token;
  const cached = index.near.get(key);
  if (cached) return cached;
  const { vocab, letters, lengths, prefixes, settings } = index;
  const needed = joined ? settings.joinedMatch : settings.tokenMatch;
  const counts = new Uint8Array(26);
  letterCounts(token, counts, 0);
  const present: number[] = [];
  for (let c = 0; c < 26; c++) if (counts[c]) present.push(c);
  const head = [0, 1, 2, 3].map((k) => token.charCodeAt(k) || -1);
  // Jaro-Winkler = j + 0.1·l·(1 − j) for a common prefix of l ≤ 4, so reaching `needed` takes a Jaro of at least
  // (needed − 0.1·l)/(1 − 0.1·l); and j ≤ (m/a + m/b + 1)/3, where m is at most the shorter length and at most
  // the letters both tokens hold. Most of the vocabulary fails one of these bounds before any Jaro-Winkler runs.
  const jaroNeeded = [0, 1, 2, 3, 4].map((l) => (needed - 0.1 * l) / (1 - 0.1 * l));
  const a = token.length;
  // Even with the longest prefix, a length outside [a·r, a/r] (r = 3·j − 2) cannot reach the Jaro needed.
  const r = 3 * jaroNeeded[4]! - 2;
  const shortest = Math.max(1, Math.ceil(a * r));
  const longest = r > 0 ? Math.min(255, Math.floor(a / r)) : 255;
  const found: [number, number][] = [];
  const end = index.lengthStart[longest + 1]!;
  for (let k = index.lengthStart[shortest]!; k < end; k++) {
    const id = index.byLength[k]!;
    if (joined && index.joined[id]) continue;
    const b = lengths[id]!;
    const limit = Math.min(4, a, b);
    let l = 0;
    while (l < limit && prefixes[id * 4 + l] === head[l]) l++;
    const least = jaroNeeded[l]!;
    const shorter = Math.min(a, b);
    if ((shorter / a + shorter / b + 1) / 3 < least) continue;
    let m = 0;
    const at = id * 26;
    for (const c of present) m += Math.min(counts[c]!, letters[at + c]!);
    if (m === 0 || (m / a + m / b + 1) / 3 < least) continue;
    const jw = jaroWinkler(token, vocab[id]!.text);
    if (jw >= needed) found.push([id, jw]);
  }
  if (index.near.size >= NEAR_CACHE) index.near.clear();
  index.near.set(key, found);
  return found;
}

interface Item {
  text: string;
  /** Token positions covered (one, or two adjacent). */
  from: number;
  to: number;
  weight: number;
  common: boolean;
}

function items(tokens: string[], common: Set<string>): Item[] {
  const out: Item[] = tokens.map((t, i) => ({ text: t, from: i, to: i, weight: t.length, common: common.has(t) }));
  for (let i = 0; i + 1 < tokens.length; i++)
    out.push({
      text: tokens[i]! + tokens[i + 1]!,
      from: i,
      to: i + 1,
      weight: tokens[i]!.length + tokens[i + 1]!.length,
      common: common.has(tokens[i]!) && common.has(tokens[i + 1]!),
    });
  return out;
}

interface NameScore {
  score: number;
  base: number;
  unmatchedListShare: number;
  carried: Candidate["parts"]["carried"];
  pairs: [number, string, number][];
}

/** Best pairs between the query's tokens and one listed name's (COMPLIANCE.md §2 steps 2–4). */
function scoreName(index: SanctionsIndex, query: Item[], queryTokens: number, queryTotal: number, name: IndexedName) {
  const { settings } = index;
  const listed = name.items;
  const pairs: { q: Item; l: Item; jw: number }[] = [];
  for (const q of query)
    for (const l of listed) {
      if (q.from !== q.to && l.from !== l.to) continue;
      const jw = q.text === l.text ? 1 : jaroWinkler(q.text, l.text);
      const joined = q.from !== q.to || l.from !== l.to;
      if (jw >= (joined ? settings.joinedMatch : settings.tokenFloor)) pairs.push({ q, l, jw });
    }
  // Best first; between equals, the pair covering more of the names.
  pairs.sort((x, y) => y.jw - x.jw || y.q.weight + y.l.weight - (x.q.weight + x.l.weight));
  const usedQ = new Uint8Array(queryTokens);
  const usedL = new Uint8Array(name.tokens.length);
  let matched = 0;
  let carriedByUncommon = false;
  let allStrong = true;
  const chosen: [number, string, number][] = [];
  for (const p of pairs) {
    let free = true;
    for (let i = p.q.from; i <= p.q.to; i++) if (usedQ[i]) free = false;
    for (let j = p.l.from; j <= p.l.to; j++) if (usedL[j]) free = false;
    if (!free) continue;
    for (let i = p.q.from; i <= p.q.to; i++) usedQ[i] = 1;
    for (let j = p.l.from; j <= p.l.to; j++) usedL[j] = 1;
    matched += p.q.weight * p.jw;
    if (p.jw >= settings.tokenMatch && !p.q.common && !p.l.common) carriedByUncommon = true;
    if (p.jw < settings.tokenMatch) allStrong = false;
    chosen.push([p.q.from, p.l.text, Math.round(p.jw * 1000) / 1000]);
  }
  let unmatchedList = 0;
  for (let j = 0; j < name.tokens.length; j++) if (!usedL[j]) unmatchedList += name.lengths[j]!;
  const everyQuery = usedQ.every((u) => u === 1);
  const base = matched / queryTotal;
  const unmatchedListShare = unmatchedList / name.total;
  const wholeName = allStrong && everyQuery && unmatchedList === 0;
  const carried: NameScore["carried"] =
    carriedByUncommon && !name.allCommon ? "uncommon_token" : wholeName ? "whole_name" : "none";
  const score = carried === "none" ? 0 : Math.max(0, base - settings.unmatchedPenalty * unmatchedListShare);
  return { score, base, unmatchedListShare, carried, pairs: chosen } satisfies NameScore;
}

const yearOf = (dob: string) => Number(dob.slice(0, 4));

/** −penalty and the reason, or 0 when nothing can be compared or the listed date can be the screened one. */
function dobQualifier(entry: Entry, dateOfBirth: string | undefined, settings: MatcherSettings): [number, string?] {
  if (!dateOfBirth || !entry.dobs.length) return [0];
  const year = yearOf(dateOfBirth);
  const fullDate = dateOfBirth.length >= 10 ? dateOfBirth.slice(0, 10) : undefined;
  let best: "match" | "day" | "apart" = "apart";
  for (const d of entry.dobs) {
    const verdict =
      d.type === "date"
        ? !fullDate || d.date === fullDate
          ? yearOf(d.date) === year
            ? "match"
            : "apart"
          : yearOf(d.date) === year
            ? "day"
            : "apart"
        : d.type === "year"
          ? d.year === year
            ? "match"
            : "apart"
          : d.type === "approximate"
            ? Math.abs(d.year - year) <= settings.dobToleranceYears
              ? "match"
              : "apart"
            : year >= d.from && year <= d.to
              ? "match"
              : "apart";
    if (verdict === "match") return [0, "dob_consistent"];
    if (verdict === "day") best = "day";
  }
  return best === "day" ? [-settings.dobDayPenalty, "dob_day_differs"] : [-settings.dobPenalty, "dob_mismatch"];
}

function nationalityQualifier(entry: Entry, nationality: string | undefined, penalty: number): [number, string?] {
  const code = countryCode(nationality);
  if (!code || !entry.countries.size) return [0];
  return entry.countries.has(code) ? [0, "nationality_match"] : [-penalty, "nationality_mismatch"];
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

/**
 * Every listed entry that scored anything against the query, best first, its best name chosen (among the
 * entries `only` names, when given). Matches are those at or above the threshold; the rest are what the debug
 * log shows.
 */
export function screenQuery(index: SanctionsIndex, query: ScreenQuery, only?: ReadonlySet<string>): Candidate[] {
  const tokens = nameTokens(query.name);
  if (!tokens.length) return [];
  const { settings } = index;
  const queryItems = items(tokens, index.common);
  const queryTotal = tokens.reduce((a, t) => a + t.length, 0);
  // A name is worth scoring when an uncommon pair can carry it, or when every one of its tokens has a partner.
  const candidates = new Set<number>();
  const covered = new Map<number, number>();
  for (const item of queryItems)
    for (const [id, jw] of nearTokens(index, item.text, item.from !== item.to)) {
      const v = index.vocab[id]!;
      if (v.joined && jw < settings.joinedMatch) continue;
      const carries = !v.common && !item.common;
      for (let k = 0; k < v.names.length; k++) {
        const n = v.names[k]!;
        if (carries && !index.names[n]!.allCommon) candidates.add(n);
        covered.set(n, (covered.get(n) ?? 0) | v.masks[k]!);
      }
    }
  for (const [n, mask] of covered) {
    const count = index.names[n]!.tokens.length;
    if (count <= 31 && mask === 2 ** count - 1) candidates.add(n);
  }
  const exactHits = new Set(index.exact.get(exactKey(tokens)) ?? []);
  for (const n of exactHits) candidates.add(n);

  const best = new Map<number, Candidate>();
  for (const n of candidates) {
    const name = index.names[n]!;
    const entry = index.entries[name.entry]!;
    if (only && !only.has(entry.dataid)) continue;
    const s: NameScore = exactHits.has(n)
      ? { score: 1, base: 1, unmatchedListShare: 0, carried: "exact", pairs: [] }
      : name.weak
        ? { score: 0, base: 0, unmatchedListShare: 0, carried: "none", pairs: [] }
        : scoreName(index, queryItems, tokens.length, queryTotal, name);
    if (s.score <= 0) continue;
    const [dob, dobReason] = entry.listType === "individual" ? dobQualifier(entry, query.dateOfBirth, settings) : [0];
    const [nat, natReason] =
      entry.listType === "individual"
        ? nationalityQualifier(entry, query.nationality, settings.nationalityPenalty)
        : [0];
    const score = round(Math.max(0, s.score + dob + nat));
    const previous = best.get(name.entry);
    if (previous && previous.score >= score) continue;
    const basis =
      name.kind === "primary"
        ? "primary_name"
        : name.quality === "low"
          ? "low_quality_alias"
          : name.quality === "fka"
            ? "former_name"
            : "alias";
    const reasons = [
      basis,
      s.carried === "exact" ? "exact_name" : s.carried === "whole_name" ? "whole_name" : "fuzzy_name",
    ];
    if (s.unmatchedListShare > 0) reasons.push("listed_tokens_unmatched");
    if (dobReason) reasons.push(dobReason);
    if (natReason) reasons.push(natReason);
    best.set(name.entry, {
      dataid: entry.dataid,
      name: entry.name,
      matchedName: name.name,
      listType: entry.listType,
      referenceNumber: entry.referenceNumber,
      regime: entry.regime,
      score,
      nameScore: round(s.score),
      reasons,
      parts: {
        base: round(s.base),
        unmatchedListShare: round(s.unmatchedListShare),
        carried: s.carried,
        dob: round(dob),
        nationality: round(nat),
        pairs: s.pairs,
      },
    });
  }
  return [...best.values()].sort((a, b) => b.score - a.score || a.dataid.localeCompare(b.dataid));
}

/** The names a listed entry is matched by: its primary name and every alias (original-script ones included). */
export function listedNames(entry: {
  dataid: string;
  name: string;
  aliases: { name: string; quality: AliasQuality }[];
}): MatcherName[] {
  return [
    { dataid: entry.dataid, name: entry.name, kind: "primary", quality: null },
    ...entry.aliases.map((a) => ({ dataid: entry.dataid, name: a.name, kind: "alias" as const, quality: a.quality })),
  ];
}
