import { createHash } from "node:crypto";
import type { Audit, RequestMeta } from "../audit";
import type { Database } from "../db/client";
import { withTransaction } from "../db/transaction";
import type { Logger } from "../http/logger";
import {
  currentList,
  entryFingerprints,
  fingerprint,
  type ListVersion,
  versionId,
  writeVersion,
} from "./sanctions-list";
import { type MatchesDeps, recordMatch } from "./sanctions-matches";
import { ListRefused, parseConsolidatedList } from "./sanctions-parse";
import type { Screening } from "./sanctions-screening";
import { createSanctionsSimulator, type Fetch } from "./sanctions-simulator";
import { type SanctionsSubject, subjectsPage } from "./sanctions-subjects";

/**
 * The sanctions sync (`POST /sanctions-jobs/sync`): download the UN list, following its redirect; parse it;
 * and only when it is whole and newer than the list we hold, write it as the new current version in one
 * transaction, then screen what changed — new and updated entries — against every user and vendor. Anything
 * else (a download error, a truncated or malformed file, an older list, one suspiciously shorter than ours)
 * fails the run and changes nothing. The same list again (same dateGenerated, same bytes) is a quiet no-op.
 */

export interface SyncSummary {
  listVersion: string;
  individuals: number;
  entities: number;
  added: number;
  removed: number;
  screened: number;
  matches: number;
  unchanged?: boolean;
}

export interface SyncDeps extends MatchesDeps {
  database: Database;
  logger: Logger;
  audit: Audit;
  config: MatchesDeps["config"] & {
    simulators: boolean;
    sanctions: { url?: string; defaultUrl: string; downloadTimeoutMs: number; maxBytes: number; maxDrop: number };
  };
  screening: Screening;
  /** Replaces the network (tests); otherwise the simulator when simulators are on and no URL is set. */
  fetch?: Fetch;
}

const MAX_REDIRECTS = 5;
const PAGE = 1000;

/** Where the list comes from: the configured URL, else the simulator (development), else the UN. */
export function listSource(deps: Pick<SyncDeps, "config" | "fetch">): { url: string; fetch: Fetch } {
  const { url, defaultUrl } = deps.config.sanctions;
  if (url) return { url, fetch: deps.fetch ?? fetch };
  if (deps.config.simulators && !deps.fetch) return createSanctionsSimulator();
  return { url: defaultUrl, fetch: deps.fetch ?? fetch };
}

/** The file's bytes, redirects followed by hand (each hop checked), within the time and size limits. */
export async function download(
  source: { url: string; fetch: Fetch },
  limits: { timeoutMs: number; maxBytes: number },
): Promise<{ bytes: Uint8Array; finalUrl: string }> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let url = source.url;
  for (let hop = 0; ; hop++) {
    const response = await source.fetch(url, { redirect: "manual", signal });
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get("location");
      await response.body?.cancel();
      if (!location || hop >= MAX_REDIRECTS)
        throw new ListRefused(`download: ${response.status} without a usable redirect`);
      url = new URL(location, url).toString();
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new ListRefused(`download: ${url} answered ${response.status}`);
    }
    const declared = Number(response.headers.get("content-length") ?? 0);
    if (declared > limits.maxBytes) throw new ListRefused(`download: ${declared} bytes is over the limit`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > limits.maxBytes)
      throw new ListRefused(`download: ${bytes.byteLength} bytes is over the limit`);
    // A body cut short of its declared length is a truncated download, whatever the XML then says.
    if (declared && bytes.byteLength !== declared)
      throw new ListRefused(`download: ${bytes.byteLength} of ${declared} bytes arrived`);
    return { bytes, finalUrl: url };
  }
}

export async function syncList(deps: SyncDeps, meta: RequestMeta = {}): Promise<SyncSummary> {
  const log = deps.logger.child({ component: "sanctions" });
  const source = listSource(deps);
  const downloadedAt = deps.now();
  const { bytes, finalUrl } = await download(source, {
    timeoutMs: deps.config.sanctions.downloadTimeoutMs,
    maxBytes: deps.config.sanctions.maxBytes,
  });
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  let xml: string;
  try {
    xml = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ListRefused("download: not UTF-8 text");
  }
  const list = parseConsolidatedList(xml);
  const count = list.individuals.length + list.entities.length;

  const outcome = await withTransaction(
    deps,
    async (tx) => {
      const current = await currentList(tx);
      if (current && list.dateGenerated.getTime() === current.dateGenerated.getTime()) {
        if (current.sha256 === sha256) return { unchanged: current };
        throw new ListRefused(
          `a different file with the current list's dateGenerated ${current.dateGenerated.toISOString()}`,
        );
      }
      if (current && list.dateGenerated < current.dateGenerated)
        throw new ListRefused(
          `dateGenerated ${list.dateGenerated.toISOString()} is older than the current list's ${current.dateGenerated.toISOString()}`,
        );
      const held = current ? current.individuals + current.entities : 0;
      if (current && count < held * (1 - deps.config.sanctions.maxDrop))
        throw new ListRefused(
          `${count} entries against ${held} in the current list: more likely cut short than delisted`,
        );
      const previous = current ? await entryFingerprints(tx, current.id) : new Map<string, string>();
      const entries = [...list.individuals, ...list.entities];
      const ids = new Set(entries.map((e) => e.dataid));
      const added = entries.filter((e) => !previous.has(e.dataid)).map((e) => e.dataid);
      const changed = entries.filter((e) => previous.has(e.dataid) && previous.get(e.dataid) !== fingerprint(e));
      const removed = [...previous.keys()].filter((id) => !ids.has(id));
      const row: ListVersion = {
        id: versionId(list.dateGenerated),
        dateGenerated: list.dateGenerated,
        downloadedAt,
        syncedAt: deps.now(),
        individuals: list.individuals.length,
        entities: list.entities.length,
        added: added.length,
        removed: removed.length,
        removedDataids: removed,
        sha256,
        bytes: bytes.byteLength,
        sourceUrl: source.url,
        fetchedUrl: finalUrl,
      };
      await writeVersion(tx, row, list);
      await deps.audit.record(
        {
          action: "sanctions.list.synced",
          target: { type: "sanctions_list", id: row.id },
          details: {
            dateGenerated: row.dateGenerated.toISOString(),
            previous: current?.id ?? null,
            individuals: row.individuals,
            entities: row.entities,
            added: row.added,
            updated: changed.length,
            removed: row.removed,
            delisted: removed,
            sha256,
          },
        },
        meta,
        tx,
      );
      return { version: row, toScreen: new Set([...added, ...changed.map((e) => e.dataid)]) };
    },
    { label: "sanctions.sync" },
  );

  if ("unchanged" in outcome) {
    const u = outcome.unchanged!;
    log.info({ listVersion: u.id }, "sanctions list unchanged");
    return {
      listVersion: u.id,
      individuals: u.individuals,
      entities: u.entities,
      added: 0,
      removed: 0,
      screened: 0,
      matches: 0,
      unchanged: true,
    };
  }
  const { version, toScreen } = outcome;
  deps.screening.invalidate();
  log.info(
    { listVersion: version.id, added: version.added, removed: version.removed, delisted: version.removedDataids },
    "sanctions list synced",
  );
  const { screened, matches } = toScreen.size
    ? await rescreen(deps, version.id, toScreen, meta)
    : { screened: 0, matches: 0 };
  return {
    listVersion: version.id,
    individuals: version.individuals,
    entities: version.entities,
    added: version.added,
    removed: version.removed,
    screened,
    matches,
  };
}

/**
 * Every user and vendor against the listed entries `only` names (all of them: a full re-screen), a page at a
 * time; each hit opens a match (and freezes the subject). Returns how many subjects were screened and how many
 * new matches were opened.
 */
export async function rescreen(
  deps: SyncDeps,
  listVersion: string,
  only: Set<string> | undefined,
  meta: RequestMeta = {},
): Promise<{ screened: number; matches: number }> {
  const log = deps.logger.child({ component: "sanctions" });
  const index = await deps.screening.require();
  if (index.version !== listVersion) return { screened: 0, matches: 0 };
  const started = performance.now();
  let screened = 0;
  let matches = 0;
  let cursor: Pick<SanctionsSubject, "type" | "id"> | undefined;
  for (;;) {
    const page = await subjectsPage(deps.database, cursor, PAGE);
    for (const subject of page.subjects) {
      screened++;
      const result = deps.screening.screenWith(index, { name: subject.name }, { subject }, { quiet: true, only });
      for (const match of result.matches) {
        const { created } = await recordMatch(deps, { subject, match, listVersion }, meta);
        if (created) matches++;
      }
    }
    if (!page.next) break;
    cursor = page.next;
  }
  log.info({ listVersion, screened, matches, ms: Math.round(performance.now() - started) }, "sanctions re-screen done");
  return { screened, matches };
}
