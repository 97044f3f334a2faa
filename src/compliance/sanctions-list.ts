import { asc, desc, eq } from "drizzle-orm";
import type { Executor } from "../db/client";
import { listedNames, type MatcherEntry, type MatcherName } from "./sanctions-matcher";
import { nameTokens } from "./sanctions-names";
import type { AliasQuality, ListedDob, ListType, ParsedList } from "./sanctions-parse";
import { sanctionsEntries, sanctionsLists, sanctionsNames } from "./schema";

/** The stored list versions: which is current, what one holds, and writing a new one. */

export type ListVersion = typeof sanctionsLists.$inferSelect;

export interface ListView {
  version: string;
  dateGenerated: string;
  individuals: number;
  entities: number;
  syncedAt: string;
  added: number;
  removed: number;
  sha256: string;
}

export const versionId = (dateGenerated: Date) => `unsc-${dateGenerated.toISOString().replace(/[-:.]/g, "")}`;

/** The current list: the newest dateGenerated accepted. */
export async function currentList(db: Executor): Promise<ListVersion | undefined> {
  const [row] = await db.select().from(sanctionsLists).orderBy(desc(sanctionsLists.dateGenerated)).limit(1);
  return row;
}

/** Just the current version's id: what each screening checks (on a short TTL) to know its index is current. */
export async function currentVersionId(db: Executor): Promise<string | undefined> {
  const [row] = await db
    .select({ id: sanctionsLists.id })
    .from(sanctionsLists)
    .orderBy(desc(sanctionsLists.dateGenerated))
    .limit(1);
  return row?.id;
}

export const listView = (row: ListVersion): ListView => ({
  version: row.id,
  dateGenerated: row.dateGenerated.toISOString(),
  individuals: row.individuals,
  entities: row.entities,
  syncedAt: row.syncedAt.toISOString(),
  added: row.added,
  removed: row.removed,
  sha256: row.sha256,
});

/** What the matcher is built from, for one version. */
export async function matcherRows(
  db: Executor,
  listId: string,
): Promise<{ entries: MatcherEntry[]; names: MatcherName[] }> {
  const entries = await db
    .select({
      dataid: sanctionsEntries.dataid,
      listType: sanctionsEntries.listType,
      name: sanctionsEntries.name,
      referenceNumber: sanctionsEntries.referenceNumber,
      regime: sanctionsEntries.regime,
      dobs: sanctionsEntries.dobs,
      nationalities: sanctionsEntries.nationalities,
    })
    .from(sanctionsEntries)
    .where(eq(sanctionsEntries.listId, listId));
  const names = await db
    .select({
      dataid: sanctionsNames.dataid,
      name: sanctionsNames.name,
      kind: sanctionsNames.kind,
      quality: sanctionsNames.quality,
    })
    .from(sanctionsNames)
    .where(eq(sanctionsNames.listId, listId))
    .orderBy(asc(sanctionsNames.dataid), asc(sanctionsNames.ordinal));
  return {
    entries: entries.map((e) => ({
      ...e,
      listType: e.listType as ListType,
      dobs: e.dobs as unknown as ListedDob[],
    })),
    names: names.map((n) => ({
      ...n,
      kind: n.kind as MatcherName["kind"],
      quality: n.quality as AliasQuality | null,
    })),
  };
}

/** Each DATAID of a version with what says it changed: the latest LAST_DAY_UPDATED, and its names. */
export async function entryFingerprints(db: Executor, listId: string): Promise<Map<string, string>> {
  const rows = await db
    .select({
      dataid: sanctionsEntries.dataid,
      name: sanctionsEntries.name,
      aliases: sanctionsEntries.aliases,
      lastUpdated: sanctionsEntries.lastUpdated,
    })
    .from(sanctionsEntries)
    .where(eq(sanctionsEntries.listId, listId));
  return new Map(rows.map((r) => [r.dataid, fingerprint(r)]));
}

export const fingerprint = (e: { name: string; aliases: { name: string }[]; lastUpdated: string | null }) =>
  JSON.stringify([e.lastUpdated, e.name, e.aliases.map((a) => a.name)]);

const CHUNK = 500;

/** Writes a whole version (its row, entries and names) in the caller's transaction. */
export async function writeVersion(tx: Executor, row: ListVersion, list: ParsedList): Promise<void> {
  await tx.insert(sanctionsLists).values(row);
  const entries = [...list.individuals, ...list.entities];
  for (let i = 0; i < entries.length; i += CHUNK)
    await tx.insert(sanctionsEntries).values(
      entries.slice(i, i + CHUNK).map((e) => ({
        listId: row.id,
        dataid: e.dataid,
        listType: e.listType,
        regime: e.regime,
        referenceNumber: e.referenceNumber,
        name: e.name,
        aliases: e.aliases,
        dobs: e.dobs as unknown as Record<string, unknown>[],
        nationalities: e.nationalities,
        listedOn: e.listedOn,
        lastUpdated: e.lastUpdated,
      })),
    );
  const names = entries.flatMap((e) =>
    listedNames(e).map((n, ordinal) => ({
      listId: row.id,
      dataid: e.dataid,
      ordinal,
      kind: n.kind,
      quality: n.quality,
      name: n.name,
      tokens: nameTokens(n.name),
    })),
  );
  for (let i = 0; i < names.length; i += CHUNK) await tx.insert(sanctionsNames).values(names.slice(i, i + CHUNK));
}
