import { XMLParser, XMLValidator } from "fast-xml-parser";
import { cleanName, splitAliases } from "./sanctions-names";

/**
 * The UN Security Council Consolidated List (COMPLIANCE.md §1) from its XML, or an error saying why the file
 * cannot be trusted. A file that is not well-formed (a truncated download ends inside an element), has no
 * `dateGenerated`, lacks either section or has an entry without its DATAID, name or reference is refused
 * whole: the caller keeps the list it has.
 */

export type ListType = "individual" | "entity";
/** Good/Low for individuals; a.k.a./f.k.a. for entities; the primary name's original script. */
export type AliasQuality = "good" | "low" | "aka" | "fka" | "original_script";

export interface ListedAlias {
  name: string;
  quality: AliasQuality;
}

/** A date of birth as listed: an exact date, a year, an approximate year or a range of years. */
export type ListedDob =
  | { type: "date"; date: string }
  | { type: "year"; year: number }
  | { type: "approximate"; year: number }
  | { type: "between"; from: number; to: number };

export interface ListedEntry {
  dataid: string;
  listType: ListType;
  /** The sanctions regime: Al-Qaida, Taliban, DPRK, … */
  regime: string;
  referenceNumber: string;
  /** FIRST_NAME … FOURTH_NAME as listed (DPRK entries put the family name first; matching ignores order). */
  name: string;
  aliases: ListedAlias[];
  dobs: ListedDob[];
  nationalities: string[];
  listedOn: string | null;
  /** The latest LAST_DAY_UPDATED: VERSIONNUM is always 1, so this is what says an entry changed. */
  lastUpdated: string | null;
}

export interface ParsedList {
  dateGenerated: Date;
  individuals: ListedEntry[];
  entities: ListedEntry[];
}

export class ListRefused extends Error {
  override name = "ListRefused";
}

// Every child that repeats 0..n times, forced to an array even when it appears once (or self-closes).
const REPEATED = new Set([
  "INDIVIDUAL",
  "ENTITY",
  "VALUE",
  "INDIVIDUAL_ALIAS",
  "INDIVIDUAL_ADDRESS",
  "INDIVIDUAL_DATE_OF_BIRTH",
  "INDIVIDUAL_PLACE_OF_BIRTH",
  "INDIVIDUAL_DOCUMENT",
  "ENTITY_ALIAS",
  "ENTITY_ADDRESS",
  "TITLE",
  "DESIGNATION",
  "NATIONALITY",
  "LIST_TYPE",
  "LAST_DAY_UPDATED",
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  // Everything stays a string: a DATAID or a reference number is an identifier, not a number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => REPEATED.has(name),
});

type Node = Record<string, unknown>;
const isNode = (value: unknown): value is Node => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown): string => (typeof value === "string" ? cleanName(value) : "");
const nodes = (value: unknown): Node[] => (Array.isArray(value) ? value.filter(isNode) : isNode(value) ? [value] : []);
const values = (value: unknown): string[] =>
  nodes(value)
    .flatMap((n) => (Array.isArray(n.VALUE) ? n.VALUE : []))
    .map(text)
    .filter(Boolean);

export function parseConsolidatedList(xml: string): ParsedList {
  const valid = XMLValidator.validate(xml);
  if (valid !== true)
    throw new ListRefused(`not well-formed XML (line ${valid.err.line}: ${valid.err.msg}); truncated or damaged`);
  const document = parser.parse(xml) as Node;
  const root = document.CONSOLIDATED_LIST;
  if (!isNode(root)) throw new ListRefused("no CONSOLIDATED_LIST element");
  const dateGenerated = new Date(String(root["@dateGenerated"] ?? ""));
  if (Number.isNaN(dateGenerated.getTime())) throw new ListRefused("CONSOLIDATED_LIST has no valid dateGenerated");
  if (!isNode(root.INDIVIDUALS) || !isNode(root.ENTITIES))
    throw new ListRefused("the INDIVIDUALS or ENTITIES section is missing");
  const individuals = nodes(root.INDIVIDUALS.INDIVIDUAL).map((n, i) => entry(n, "individual", i));
  const entities = nodes(root.ENTITIES.ENTITY).map((n, i) => entry(n, "entity", i));
  if (!individuals.length || !entities.length) throw new ListRefused("the list has no individuals or no entities");
  const seen = new Set<string>();
  for (const e of [...individuals, ...entities]) {
    if (seen.has(e.dataid)) throw new ListRefused(`DATAID ${e.dataid} appears twice`);
    seen.add(e.dataid);
  }
  return { dateGenerated, individuals, entities };
}

function entry(n: Node, listType: ListType, index: number): ListedEntry {
  const dataid = text(n.DATAID);
  const where = `${listType} #${index + 1}${dataid ? ` (DATAID ${dataid})` : ""}`;
  if (!/^\d+$/.test(dataid)) throw new ListRefused(`${where}: no DATAID`);
  const name = [n.FIRST_NAME, n.SECOND_NAME, n.THIRD_NAME, n.FOURTH_NAME].map(text).filter(Boolean).join(" ");
  if (!name) throw new ListRefused(`${where}: no name`);
  const referenceNumber = text(n.REFERENCE_NUMBER);
  if (!referenceNumber) throw new ListRefused(`${where}: no REFERENCE_NUMBER`);
  const aliases = nodes(listType === "individual" ? n.INDIVIDUAL_ALIAS : n.ENTITY_ALIAS).flatMap(alias);
  const original = text(n.NAME_ORIGINAL_SCRIPT);
  // The original script is kept as listed; its Latin transliterations, when bracketed inside it, count as aliases.
  if (original) for (const name of splitAliases(original)) aliases.push({ name, quality: "original_script" });
  const lastUpdated = values(n.LAST_DAY_UPDATED).sort().at(-1) ?? null;
  return {
    dataid,
    listType,
    regime: text(n.UN_LIST_TYPE),
    referenceNumber,
    name,
    aliases: dedupe(aliases, name),
    dobs: listType === "individual" ? nodes(n.INDIVIDUAL_DATE_OF_BIRTH).flatMap(dob) : [],
    nationalities: values(n.NATIONALITY).filter((v) => v.toLowerCase() !== "na"),
    listedOn: text(n.LISTED_ON) || null,
    lastUpdated,
  };
}

const QUALITY: Record<string, AliasQuality> = { good: "good", low: "low", "a.k.a.": "aka", "f.k.a.": "fka" };

function alias(n: Node): ListedAlias[] {
  const raw = text(n.ALIAS_NAME);
  // 395 individual and 60 entity aliases are empty (no quality, no name).
  if (!raw) return [];
  const quality = QUALITY[text(n.QUALITY).toLowerCase()] ?? "low";
  return splitAliases(raw).map((name) => ({ name, quality }));
}

function dedupe(aliases: ListedAlias[], primary: string): ListedAlias[] {
  const seen = new Set([primary.toLowerCase()]);
  return aliases.filter((a) => {
    const key = a.name.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const year = (value: unknown) => {
  const n = Number(text(value));
  return Number.isInteger(n) && n > 1800 && n < 2200 ? n : undefined;
};

function dob(n: Node): ListedDob[] {
  const type = text(n.TYPE_OF_DATE).toUpperCase();
  const date = text(n.DATE);
  if (/^\d{4}-\d{2}-\d{2}$/.test(date)) return [{ type: "date", date }];
  const from = year(n.FROM_YEAR);
  const to = year(n.TO_YEAR);
  if (from && to) return [{ type: "between", from: Math.min(from, to), to: Math.max(from, to) }];
  // A year, or a NOTE that names one ("Between Aug. and Sep. 1977"); a note naming none ("30-35 years old") says
  // nothing we can compare.
  const y = year(n.YEAR) ?? year(/\b(1[89]\d\d|20\d\d)\b/.exec(text(n.NOTE))?.[1]);
  if (!y) return [];
  return [type === "APPROXIMATELY" ? { type: "approximate", year: y } : { type: "year", year: y }];
}
