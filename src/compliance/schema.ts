import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

const tz = { withTimezone: true } as const;

/**
 * Every version of the UN Security Council Consolidated List we accepted, newest `date_generated` first: the
 * newest is the current list. A version is written whole, in one transaction, or not at all; older versions
 * are kept so a delisting (a DATAID gone from the next version) can be shown and a past match explained.
 */
export const sanctionsLists = pgTable(
  "sanctions_lists",
  {
    /** `unsc-` + dateGenerated (one version per dateGenerated). */
    id: text().primaryKey(),
    dateGenerated: timestamp(tz).notNull(),
    downloadedAt: timestamp(tz).notNull(),
    syncedAt: timestamp(tz).notNull(),
    individuals: integer().notNull(),
    entities: integer().notNull(),
    /** DATAIDs new in this version, and those of the previous version no longer in it (delistings). */
    added: integer().notNull(),
    removed: integer().notNull(),
    removedDataids: jsonb().$type<string[]>().notNull().default([]),
    sha256: text().notNull(),
    bytes: integer().notNull(),
    /** What was asked for (KESHLESS_SANCTIONS_URL) and where the redirects ended. */
    sourceUrl: text().notNull(),
    fetchedUrl: text().notNull(),
  },
  (t) => [uniqueIndex("sanctions_lists_generated_idx").on(t.dateGenerated.desc())],
);

/** The listed individuals and entities of one version, as parsed (src/compliance/sanctions-parse.ts). */
export const sanctionsEntries = pgTable(
  "sanctions_entries",
  {
    listId: text()
      .notNull()
      .references(() => sanctionsLists.id),
    dataid: text().notNull(),
    /** individual · entity */
    listType: text().notNull(),
    /** UN_LIST_TYPE: Al-Qaida, Taliban, DPRK, … */
    regime: text().notNull(),
    referenceNumber: text().notNull(),
    name: text().notNull(),
    /** [{name, quality: good|low|aka|fka|original_script}] */
    aliases: jsonb().$type<{ name: string; quality: string }[]>().notNull(),
    /** [{type: date|year|approximate|between, …}] */
    dobs: jsonb().$type<Record<string, unknown>[]>().notNull(),
    nationalities: jsonb().$type<string[]>().notNull(),
    listedOn: text(),
    lastUpdated: text(),
  },
  (t) => [
    primaryKey({ columns: [t.listId, t.dataid] }),
    check("sanctions_entries_type", sql`${t.listType} in ('individual','entity')`),
  ],
);

/**
 * The candidate index: every name a listed entry is matched by (primary and aliases), normalised into tokens
 * once when the version is written. Each process loads the current version's rows into its in-memory matcher
 * (sanctions-screening.ts); the tokens are also what an analyst's SQL can search.
 */
export const sanctionsNames = pgTable(
  "sanctions_names",
  {
    listId: text()
      .notNull()
      .references(() => sanctionsLists.id),
    dataid: text().notNull(),
    ordinal: smallint().notNull(),
    /** primary · alias */
    kind: text().notNull(),
    /** null for the primary name; good · low · aka · fka · original_script */
    quality: text(),
    name: text().notNull(),
    /** Latin tokens (sanctions-names.ts nameTokens); empty for a name in another script. */
    tokens: text().array().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.listId, t.dataid, t.ordinal] }),
    check("sanctions_names_kind", sql`${t.kind} in ('primary','alias')`),
  ],
);

/**
 * A screened user or vendor whose name matched a listed entry: open until an analyst clears it (the subject
 * is unfrozen if this match froze them) or confirms it (they stay frozen). One row per (subject, their name
 * at the time, listed entry): a re-screen of the same name never reopens what an analyst decided.
 */
export const sanctionsMatches = pgTable(
  "sanctions_matches",
  {
    id: text().primaryKey(),
    listId: text().notNull(),
    /** user · vendor */
    subjectType: text().notNull(),
    subjectId: text().notNull(),
    subjectName: text().notNull(),
    dataid: text().notNull(),
    listType: text().notNull(),
    referenceNumber: text().notNull(),
    listedName: text().notNull(),
    matchedName: text().notNull(),
    score: doublePrecision().notNull(),
    reasons: jsonb().$type<string[]>().notNull(),
    /** open · cleared · confirmed */
    status: text().notNull().default("open"),
    note: text(),
    decidedBy: text(),
    decidedAt: timestamp(tz),
    /** This match froze the subject (they were active): clearing it is what unfreezes them. */
    froze: boolean().notNull().default(false),
    createdAt: timestamp(tz).notNull(),
    updatedAt: timestamp(tz).notNull(),
  },
  (t) => [
    uniqueIndex("sanctions_matches_subject_entry_idx").on(t.subjectType, t.subjectId, t.dataid, t.subjectName),
    index("sanctions_matches_created_idx").on(t.createdAt.desc(), t.id.desc()),
    index("sanctions_matches_status_created_idx").on(t.status, t.createdAt.desc(), t.id.desc()),
    index("sanctions_matches_subject_idx").on(t.subjectId),
    check("sanctions_matches_status", sql`${t.status} in ('open','cleared','confirmed')`),
    check("sanctions_matches_subject_type", sql`${t.subjectType} in ('user','vendor')`),
  ],
);
