import { readFile } from "node:fs/promises";

/**
 * The UN list's download as the development default sees it, in process: the UN's URL answers 302 to a blob
 * URL, which serves the copy of the real 2024-09-26 list shipped in src/compliance/data (INTEGRATIONS.md §8).
 * Used when simulators are on and no KESHLESS_SANCTIONS_URL is set; tests serve their own files instead.
 */

export const SIMULATED_SANCTIONS_URL = "http://scsanctions.un.simulator/resources/xml/en/consolidated.xml";
const BLOB_URL = "http://unsolprodfiles.blob.simulator/publiclegacyxmlfiles/EN/consolidated.xml";
export const SHIPPED_LIST = new URL("./data/un-consolidated-2024-09-26.xml", import.meta.url);

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export function createSanctionsSimulator(file: URL = SHIPPED_LIST): { url: string; fetch: Fetch } {
  return {
    url: SIMULATED_SANCTIONS_URL,
    async fetch(input) {
      const url = input instanceof Request ? input.url : String(input);
      if (url === SIMULATED_SANCTIONS_URL) return new Response(null, { status: 302, headers: { location: BLOB_URL } });
      if (url === BLOB_URL)
        return new Response(await readFile(file), { status: 200, headers: { "content-type": "application/xml" } });
      return new Response("not found", { status: 404 });
    },
  };
}
