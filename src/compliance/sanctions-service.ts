import type { Audit, RequestMeta } from "../audit";
import type { Config } from "../config";
import type { Database, Executor } from "../db/client";
import type { Logger } from "../http/logger";
import { currentList, listView } from "./sanctions-list";
import {
  clearMatch,
  confirmMatch,
  getMatch,
  listMatches,
  type MatchesDeps,
  type MatchStatus,
  recordMatch,
  type SanctionsMatch,
} from "./sanctions-matches";
import { createScreening, type ScreenMatch } from "./sanctions-screening";
import type { Fetch } from "./sanctions-simulator";
import type { SanctionsSubject, SubjectControl } from "./sanctions-subjects";
import { rescreen, type SyncDeps, syncList } from "./sanctions-sync";

/**
 * The sanctions service: the list (sync, current version), screening, and the matches analysts decide.
 * Wiring only; the rules live in the files it names.
 */
export interface SanctionsDeps {
  database: Database;
  logger: Logger;
  now: () => Date;
  config: Pick<Config, "sanctions" | "simulators" | "serializableMaxRetries">;
  audit: Audit;
  subjects: SubjectControl;
  fetch?: Fetch;
  /** Where confirming a match opens an AML alert (issue 14's AML half), inside the decision's transaction. */
  onConfirmed?: (match: SanctionsMatch, tx: Executor, meta: RequestMeta) => Promise<void>;
  /** Where opening a match opens an AML alert, inside the match's transaction. */
  onRecorded?: (match: SanctionsMatch, tx: Executor, meta: RequestMeta) => Promise<void>;
}

export function createSanctions(deps: SanctionsDeps) {
  const screening = createScreening(deps);
  const matchesDeps: MatchesDeps = deps;
  const syncDeps: SyncDeps = { ...deps, screening };
  return {
    /** Screens a name against the current list: `{listVersion, matches}` best first (503 before the first sync). */
    screenName: screening.screenName,
    /** The current matcher (undefined before the first sync); benches and re-screens use it directly. */
    matcher: screening.current,
    screenWith: screening.screenWith,
    sync: (meta?: RequestMeta) => syncList(syncDeps, meta),
    /** Every user and vendor against the whole current list (or the entries `only` names). */
    rescreen: async (only?: Set<string>, meta?: RequestMeta) => {
      const index = await screening.require();
      return rescreen(syncDeps, index.version, only, meta);
    },
    currentList: async () => {
      const row = await currentList(deps.database.db);
      return row ? listView(row) : undefined;
    },
    /**
     * Opens a match for a subject screening found (and freezes them); `listVersion` defaults to the current one.
     * Idempotent per subject, name and listed entry.
     */
    recordMatch: async (
      input: { subject: SanctionsSubject; match: ScreenMatch; listVersion?: string },
      meta?: RequestMeta,
    ) =>
      recordMatch(
        matchesDeps,
        { ...input, listVersion: input.listVersion ?? (await screening.require()).version },
        meta,
      ),
    /**
     * Screens one subject whose name was just set (a KYC-verified name, a new vendor) and opens a match for each
     * hit (freezing them). Null when it could not screen — no list synced yet — which the caller must treat as
     * "not screened", never as "clear".
     */
    screenSubject: async (
      subject: SanctionsSubject,
      qualifiers: { dateOfBirth?: string | null } = {},
      meta?: RequestMeta,
    ): Promise<ScreenMatch[] | null> => {
      let result: Awaited<ReturnType<typeof screening.screenName>>;
      try {
        result = await screening.screenName(
          { name: subject.name, ...(qualifiers.dateOfBirth ? { dateOfBirth: qualifiers.dateOfBirth } : {}) },
          { subject: { type: subject.type, id: subject.id } },
        );
      } catch (err) {
        deps.logger.warn({ err, subject: { type: subject.type, id: subject.id } }, "sanctions screening unavailable");
        return null;
      }
      for (const match of result.matches)
        await recordMatch(matchesDeps, { subject, match, listVersion: result.listVersion }, meta);
      return result.matches;
    },
    listMatches: (filter: { status?: MatchStatus; subjectId?: string; limit: number; cursor?: string }) =>
      listMatches(deps, filter),
    getMatch: (id: string) => getMatch(deps, id),
    clear: (input: { id: string; note: string; adminId: string }, meta: RequestMeta) =>
      clearMatch(matchesDeps, input, meta),
    confirm: (input: { id: string; note: string; adminId: string }, meta: RequestMeta) =>
      confirmMatch(matchesDeps, input, meta),
  };
}

export type Sanctions = ReturnType<typeof createSanctions>;
