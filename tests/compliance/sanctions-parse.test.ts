import { describe, expect, test } from "bun:test";
import { countryCode } from "../../src/compliance/sanctions-countries";
import { buildIndex, listedNames, screenQuery } from "../../src/compliance/sanctions-matcher";
import { nameTokens, splitAliases } from "../../src/compliance/sanctions-names";
import { ListRefused, parseConsolidatedList } from "../../src/compliance/sanctions-parse";
import { loadConfig } from "../../src/config";
import { REAL_LIST, without } from "./list-server";

/** The UN list's quirks (COMPLIANCE.md §1), each handled by the parser and the name normaliser. */
const list = parseConsolidatedList(REAL_LIST);
const all = [...list.individuals, ...list.entities];
const byId = (dataid: string) => all.find((e) => e.dataid === dataid)!;

const ONE = `<?xml version='1.0' encoding='UTF-8'?>
<CONSOLIDATED_LIST dateGenerated='2024-10-01T00:00:00.000Z'>
  <INDIVIDUALS><INDIVIDUAL>
    <DATAID>1</DATAID><VERSIONNUM>1</VERSIONNUM><FIRST_NAME> SALIM </FIRST_NAME><SECOND_NAME>Ri’ad</SECOND_NAME>
    <UN_LIST_TYPE>Al-Qaida</UN_LIST_TYPE><REFERENCE_NUMBER>QDi.001</REFERENCE_NUMBER><LISTED_ON>2001-01-01</LISTED_ON>
    <NATIONALITY><VALUE>Iraq</VALUE></NATIONALITY>
    <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Salim Riad</ALIAS_NAME></INDIVIDUAL_ALIAS>
    <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1970-01-02</DATE></INDIVIDUAL_DATE_OF_BIRTH>
    <INDIVIDUAL_DOCUMENT/>
  </INDIVIDUAL></INDIVIDUALS>
  <ENTITIES><ENTITY>
    <DATAID>2</DATAID><FIRST_NAME>ACME &amp; SONS</FIRST_NAME><UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
    <REFERENCE_NUMBER>KPe.001</REFERENCE_NUMBER><ENTITY_ALIAS><QUALITY/><ALIAS_NAME/></ENTITY_ALIAS>
  </ENTITY></ENTITIES>
</CONSOLIDATED_LIST>`;

describe("parsing the consolidated list", () => {
  test("the real 2024-09-26 file: 682 individuals, 193 entities, its dateGenerated", () => {
    expect(list.individuals.length).toBe(682);
    expect(list.entities.length).toBe(193);
    expect(list.dateGenerated.toISOString()).toBe("2024-09-26T00:00:07.514Z");
    expect(new Set(all.map((e) => e.dataid)).size).toBe(875);
  });

  test("children that appear once, or self-close, are still arrays", () => {
    const one = parseConsolidatedList(ONE);
    expect(one.individuals[0]).toMatchObject({
      name: "SALIM Ri’ad",
      nationalities: ["Iraq"],
      aliases: [{ name: "Salim Riad", quality: "good" }],
      dobs: [{ type: "date", date: "1970-01-02" }],
    });
    expect(one.entities[0]).toMatchObject({ name: "ACME & SONS", aliases: [] });
  });

  test("empty aliases are skipped; packed ';' aliases are split, brackets stripped, whitespace collapsed", () => {
    for (const e of all)
      for (const a of e.aliases) {
        expect(a.name.trim()).toBe(a.name);
        expect(a.name).not.toMatch(/[;()]|\s{2}|\n/);
        expect(a.name.length).toBeGreaterThan(0);
      }
    const rehman = byId("2983651").aliases.map((a) => a.name);
    expect(rehman).toEqual(
      expect.arrayContaining(["Abdul Rehman", "Abd Ur-Rehman", "Abdur Rahman", "Abdullah Sindhi"]),
    );
    expect(splitAliases("حسن غول (Hassan Ghul; Hassan Gul;\n   Hasan Gul)")).toEqual([
      "حسن غول",
      "Hassan Ghul",
      "Hassan Gul",
      "Hasan Gul",
    ]);
    const qualities = new Set(all.flatMap((e) => e.aliases.map((a) => a.quality)));
    expect([...qualities].sort()).toEqual(["aka", "fka", "good", "low", "original_script"]);
  });

  test("stray spaces trimmed; typographic apostrophes, hyphens, accents and 'SURNAME, Given' normalised", () => {
    for (const e of all) expect(e.name).toBe(e.name.replace(/\s+/g, " ").trim());
    expect(nameTokens("Diya’ al-Rahman Madani")).toEqual(["diya", "al", "rahman", "madani"]);
    expect(nameTokens("Diya' AL-RAHMAN  Madani")).toEqual(nameTokens("Diya’ al-Rahman Madani"));
    expect(nameTokens("Hay’at Tahrir al-Sham")).toEqual(["hayat", "tahrir", "al", "sham"]);
    expect(nameTokens("Zoë Müller-Łódź")).toEqual(["zoe", "muller", "lodz"]);
    expect(nameTokens("DLAMINI, Sipho")).toEqual(["sipho", "dlamini"]);
    expect(nameTokens("Haji Mudir")).toEqual(["mudir"]);
    expect(nameTokens("محمد طاهر أنوري")).toEqual([]);
  });

  test("DPRK names put the family name first; matching does not depend on the order", () => {
    const dprk = list.individuals.find((e) => e.regime === "DPRK" && nameTokens(e.name).length === 3)!;
    const settings = loadConfig({ KESHLESS_ENV: "test", KESHLESS_DATA_DIR: "/tmp/keshless-parse" }).sanctions.matching;
    const index = buildIndex("v", all, all.flatMap(listedNames), settings);
    const [family, ...given] = nameTokens(dprk.name);
    const hits = screenQuery(index, { name: [...given, family].join(" ") });
    expect(hits[0]?.dataid).toBe(dprk.dataid);
  });

  test("every date-of-birth form: exact dates, years, approximate years, ranges; notes with a year", () => {
    const kinds: Record<string, number> = {};
    for (const e of list.individuals) for (const d of e.dobs) kinds[d.type] = (kinds[d.type] ?? 0) + 1;
    // 175 exact years plus the 3 whose only year is in a NOTE ("Between Aug. and Sep. 1977").
    expect(kinds).toEqual({ date: 375, year: 178, approximate: 101, between: 29 });
    expect(list.individuals.filter((e) => e.dobs.length > 1).length).toBe(19);
    for (const e of list.individuals)
      for (const d of e.dobs) if (d.type === "between") expect(d.from).toBeLessThanOrEqual(d.to);
  });

  test("nationalities are read as the UN names them and compared as ISO codes", () => {
    expect(list.individuals.filter((e) => e.nationalities.length).length).toBeGreaterThanOrEqual(615);
    expect(countryCode("Democratic People's Republic of Korea")).toBe("KP");
    expect(countryCode("United Kingdom of Great Britain and Northern Ireland")).toBe("GB");
    expect(countryCode("Eswatini")).toBe("SZ");
    expect(countryCode("sz")).toBe("SZ");
    expect(countryCode("Atlantis")).toBeUndefined();
  });

  test("a truncated, malformed or incomplete file is refused whole", () => {
    expect(() => parseConsolidatedList(REAL_LIST.slice(0, 1_000_000))).toThrow(ListRefused);
    expect(() => parseConsolidatedList(REAL_LIST.replace("</INDIVIDUALS>", ""))).toThrow(ListRefused);
    expect(() => parseConsolidatedList(REAL_LIST.replace(/dateGenerated='[^']+'/, ""))).toThrow("dateGenerated");
    expect(() => parseConsolidatedList(ONE.replace("<DATAID>2</DATAID>", "<DATAID>1</DATAID>"))).toThrow(
      "appears twice",
    );
    expect(() => parseConsolidatedList(ONE.replace("<REFERENCE_NUMBER>QDi.001</REFERENCE_NUMBER>", ""))).toThrow(
      "REFERENCE_NUMBER",
    );
    expect(() => parseConsolidatedList(ONE.replace(/<ENTITIES>[\s\S]*<\/ENTITIES>/, ""))).toThrow("ENTITIES");
    expect(() => parseConsolidatedList("not xml at all")).toThrow(ListRefused);
    // Still whole without one entry: a delisting, not damage.
    expect(parseConsolidatedList(without(REAL_LIST, "2983651")).individuals.length).toBe(681);
  });
});
