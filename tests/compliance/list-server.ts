import { afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import { SHIPPED_LIST } from "../../src/compliance/sanctions-simulator";

/**
 * A local stand-in for the UN's download (INTEGRATIONS.md §8), on 127.0.0.1: the list URL answers 302 to a
 * "blob" URL, which serves whatever file the test put there last. Stopped after the file's tests.
 */

export const REAL_LIST = readFileSync(SHIPPED_LIST, "utf8");

export function startListServer() {
  let body: string = REAL_LIST;
  const requests: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      requests.push(path);
      if (path === "/resources/xml/en/consolidated.xml")
        return new Response(null, { status: 302, headers: { location: "/publiclegacyxmlfiles/EN/consolidated.xml" } });
      if (path === "/publiclegacyxmlfiles/EN/consolidated.xml")
        return new Response(body, { headers: { "content-type": "application/xml" } });
      return new Response("not found", { status: 404 });
    },
  });
  afterAll(() => server.stop(true));
  return {
    url: `http://127.0.0.1:${server.port}/resources/xml/en/consolidated.xml`,
    requests,
    serve(next: string) {
      body = next;
    },
  };
}

/** The real list with another dateGenerated. */
export const withDate = (xml: string, iso: string) => xml.replace(/dateGenerated='[^']+'/, `dateGenerated='${iso}'`);

/** The real list without the listed entry `dataid` (its whole INDIVIDUAL or ENTITY block). */
export function without(xml: string, dataid: string): string {
  const at = xml.indexOf(`<DATAID>${dataid}</DATAID>`);
  if (at < 0) throw new Error(`no DATAID ${dataid}`);
  const open = Math.max(xml.lastIndexOf("<INDIVIDUAL>", at), xml.lastIndexOf("<ENTITY>", at));
  const tag = xml.startsWith("<INDIVIDUAL>", open) ? "</INDIVIDUAL>" : "</ENTITY>";
  const close = xml.indexOf(tag, at) + tag.length;
  return xml.slice(0, open) + xml.slice(close);
}
