import type { Database } from "../db/client";
import { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import { sha256Hex } from "../lib/crypto";
import { currentVersionId, matcherRows } from "./sanctions-list";
import {
  buildIndex,
  type Candidate,
  type MatcherSettings,
  type SanctionsIndex,
  type ScreenQuery,
  screenQuery,
} from "./sanctions-matcher";
import { nameTokens } from "./sanctions-names";
import type { ListType } from "./sanctions-parse";

/**
 * Screening a name against the current list (COMPLIANCE.md §2). Each process holds the current version's
 * matcher in memory and rebuilds it when the version changes: which version is current is read from the
 * database at most every VERSION_TTL_MS (a sync in this process says so at once), so a screening costs the
 * matcher alone — no query in the common case.
 *
 * Names are personal data: the logs name a screened person by a hash of their normalised name (and the
 * subject's id when there is one), never by the name. Every candidate is logged at debug with its score and
 * the parts it was made of; the outcome at info.
 */

export interface ScreenMatch {
  dataid: string;
  /** The listed entry's primary name. */
  name: string;
  /** The listed name (primary or alias) that matched best. */
  matchedName: string;
  score: number;
  listType: ListType;
  referenceNumber: string;
  reasons: string[];
}

export interface ScreenResult {
  listVersion: string;
  matches: ScreenMatch[];
}

/** What a caller says of whom it screens, for the log line (never the name). */
export interface ScreenContext {
  subject?: { type: string; id: string };
}

export type ScreenName = (query: ScreenQuery, context?: ScreenContext) => Promise<ScreenResult>;

export interface ScreeningDeps {
  database: Pick<Database, "db">;
  logger: Logger;
  config: { sanctions: { matching: MatcherSettings } };
}

const VERSION_TTL_MS = 2000;

export const nameHash = (name: string) => sha256Hex(nameTokens(name).join(" ")).slice(0, 16);

export const toMatch = (c: Candidate): ScreenMatch => ({
  dataid: c.dataid,
  name: c.name,
  matchedName: c.matchedName,
  score: c.score,
  listType: c.listType,
  referenceNumber: c.referenceNumber,
  reasons: c.reasons,
});

export function createScreening(deps: ScreeningDeps) {
  const log = deps.logger.child({ component: "sanctions" });
  const settings = deps.config.sanctions.matching;
  let index: SanctionsIndex | undefined;
  const building = new Map<string, Promise<SanctionsIndex>>();
  let known: { version: string | undefined; at: number } | undefined;

  async function build(version: string): Promise<SanctionsIndex> {
    const started = performance.now();
    const rows = await matcherRows(deps.database.db, version);
    const built = buildIndex(version, rows.entries, rows.names, settings);
    log.info(
      {
        listVersion: version,
        entries: built.entries.length,
        names: built.names.length,
        vocabulary: built.vocab.length,
        ms: Math.round(performance.now() - started),
      },
      "sanctions matcher built",
    );
    return built;
  }

  /** The current version's matcher, or undefined before the first sync. */
  async function current(): Promise<SanctionsIndex | undefined> {
    const now = performance.now();
    if (!known || now - known.at > VERSION_TTL_MS)
      known = { version: await currentVersionId(deps.database.db), at: now };
    const version = known.version;
    if (!version) return undefined;
    if (index?.version === version) return index;
    let pending = building.get(version);
    if (!pending) {
      pending = build(version).finally(() => building.delete(version));
      building.set(version, pending);
    }
    const built = await pending;
    if (!index || index.version !== known.version) index = built;
    return built;
  }

  async function require(): Promise<SanctionsIndex> {
    const built = await current();
    if (!built)
      throw new AppError("UNAVAILABLE", "No sanctions list has been synced yet: run the sanctions sync first.", {
        reason: "NO_SANCTIONS_LIST",
      });
    return built;
  }

  /** Every candidate logged; the matches (at or above the threshold), best first. */
  function screenWith(
    built: SanctionsIndex,
    query: ScreenQuery,
    context: ScreenContext = {},
    options: { quiet?: boolean; only?: ReadonlySet<string> } = {},
  ): ScreenResult {
    const started = performance.now();
    const candidates = screenQuery(built, query, options.only);
    const matches = candidates.filter((c) => c.score >= settings.threshold);
    const who = { nameHash: nameHash(query.name), ...(context.subject ? { subject: context.subject } : {}) };
    if (log.isLevelEnabled("debug"))
      for (const c of candidates)
        log.debug(
          {
            ...who,
            listVersion: built.version,
            dataid: c.dataid,
            matchedName: c.matchedName,
            score: c.score,
            nameScore: c.nameScore,
            parts: c.parts,
            reasons: c.reasons,
          },
          "sanctions candidate",
        );
    // A bulk re-screen logs only its hits at info, each by subject id.
    if (!options.quiet || matches.length)
      log.info(
        {
          ...who,
          listVersion: built.version,
          candidates: candidates.length,
          matches: matches.map((m) => ({ dataid: m.dataid, score: m.score })),
          ms: Math.round((performance.now() - started) * 100) / 100,
        },
        matches.length ? "sanctions screening matched" : "sanctions screening clear",
      );
    return { listVersion: built.version, matches: matches.map(toMatch) };
  }

  const screenName: ScreenName = async (query, context) => screenWith(await require(), query, context);

  return {
    screenName,
    screenWith,
    current,
    require,
    /** A sync in this process changed the current version: look again now. */
    invalidate() {
      known = undefined;
    },
  };
}

export type Screening = ReturnType<typeof createScreening>;
