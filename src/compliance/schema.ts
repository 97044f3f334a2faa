import { sql } from "drizzle-orm";
import {
  bigint,
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

/**
 * The AML rules (COMPLIANCE.md §3): a type and its parameters (amounts in cents, windows, counts), each rule
 * stored once and edited by compliance admins (PUT /admin/v1/aml/rules/:id, audited). The defaults are written
 * by the first process to read the table (aml-rules-store.ts); a stored rule is never overwritten by them.
 */
export const amlRules = pgTable(
  "aml_rules",
  {
    /** Stable: alerts name it (`structuring`, `daily_aggregate`, …). */
    id: text().primaryKey(),
    /** large_transaction · aggregate · velocity · structuring · rapid_in_out · dormant_reactivation · round_amounts · sanctions */
    type: text().notNull(),
    name: text().notNull(),
    enabled: boolean().notNull().default(true),
    /** An alert's priority when it opens (1–10); each further hit raises it by one. */
    priority: smallint().notNull(),
    params: jsonb().$type<Record<string, unknown>>().notNull(),
    /** The admin who last changed it; null while it is the default. */
    updatedBy: text(),
    updatedAt: timestamp(tz).notNull(),
  },
  (t) => [check("aml_rules_priority", sql`${t.priority} between 1 and 10`)],
);

/**
 * An AML alert: a rule's hit on a user or vendor. One not closed per (rule, subject), enforced by the partial
 * unique index: a new hit on it adds evidence and raises its priority. `open → investigating → closed` (an
 * outcome and a note), reopened to `open`; while not closed it escalates at `next_escalation_at`.
 */
export const amlAlerts = pgTable(
  "aml_alerts",
  {
    id: text().primaryKey(),
    ruleId: text().notNull(),
    ruleType: text().notNull(),
    /** user · vendor */
    subjectType: text().notNull(),
    subjectId: text().notNull(),
    subjectName: text(),
    /** open · investigating · closed */
    status: text().notNull().default("open"),
    /** false_positive · valuable · confirmed_risk, once closed */
    outcome: text(),
    note: text(),
    priority: smallint().notNull(),
    hits: integer().notNull().default(1),
    escalationLevel: smallint().notNull().default(0),
    /** The ladder's role for the level (KESHLESS_AML_ESCALATION_LADDER): whose queue the alert is in. */
    assigneeRole: text().notNull(),
    /** The admin working it, when one took it or was given it. */
    assignee: text(),
    /** Null once closed: closing stops the escalation. */
    nextEscalationAt: timestamp(tz),
    /** What the latest hit measured (counts, sums, windows), for the analyst. */
    details: jsonb().$type<Record<string, unknown>>().notNull().default({}),
    lastHitAt: timestamp(tz).notNull(),
    closedAt: timestamp(tz),
    closedBy: text(),
    createdAt: timestamp(tz).notNull(),
    updatedAt: timestamp(tz).notNull(),
  },
  (t) => [
    uniqueIndex("aml_alerts_one_open_idx").on(t.ruleId, t.subjectType, t.subjectId).where(sql`${t.status} <> 'closed'`),
    index("aml_alerts_created_idx").on(t.createdAt.desc(), t.id.desc()),
    index("aml_alerts_status_created_idx").on(t.status, t.createdAt.desc(), t.id.desc()),
    index("aml_alerts_subject_idx").on(t.subjectId),
    index("aml_alerts_due_idx").on(t.nextEscalationAt).where(sql`${t.status} <> 'closed'`),
    index("aml_alerts_closed_idx").on(t.closedAt).where(sql`${t.outcome} = 'confirmed_risk'`),
    check("aml_alerts_status", sql`${t.status} in ('open','investigating','closed')`),
    check(
      "aml_alerts_outcome",
      sql`(${t.status} = 'closed') = (${t.outcome} is not null) and (${t.outcome} is null or ${t.outcome} in ('false_positive','valuable','confirmed_risk'))`,
    ),
    check("aml_alerts_subject_type", sql`${t.subjectType} in ('user','vendor')`),
  ],
);

/** What an alert rests on: the transactions of its hits, or the sanctions matches that opened it. */
export const amlAlertEvidence = pgTable(
  "aml_alert_evidence",
  {
    alertId: text()
      .notNull()
      .references(() => amlAlerts.id),
    /** transaction · sanctions_match */
    kind: text().notNull(),
    refId: text().notNull(),
    addedAt: timestamp(tz).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.alertId, t.kind, t.refId] }),
    check("aml_alert_evidence_kind", sql`${t.kind} in ('transaction','sanctions_match')`),
  ],
);

/**
 * How far the AML monitor has read `transactions` (aml-monitor.ts): every row at or before (cursor_at, cursor_id)
 * was evaluated once. Updated in the transaction that writes the alerts those rows raised.
 */
export const amlMonitorState = pgTable("aml_monitor_state", {
  id: text().primaryKey(),
  cursorAt: timestamp(tz).notNull(),
  cursorId: text().notNull(),
  /** Transactions evaluated (completed ones), ever: a restart neither skips nor repeats one. */
  evaluated: bigint({ mode: "number" }).notNull().default(0),
  updatedAt: timestamp(tz).notNull(),
});

/**
 * Transactions the monitor passed while they were pending (a held withdrawal, airtime, a card fee): evaluated
 * when they complete, however late; dropped when they fail.
 */
export const amlMonitorPending = pgTable("aml_monitor_pending", {
  transactionId: text().primaryKey(),
  parkedAt: timestamp(tz).notNull(),
});
