import { and, desc, eq, inArray, ne, type SQL } from "drizzle-orm";
import type { Audit, RequestMeta } from "../audit";
import type { Database, Executor } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import type { Logger } from "../http/logger";
import { after, encodeCursor } from "../http/pagination";
import { newId } from "../lib/ids";
import type { ScreenMatch } from "./sanctions-screening";
import type { SanctionsSubject, SubjectControl } from "./sanctions-subjects";
import { sanctionsMatches } from "./schema";

/**
 * Sanctions matches: a screened subject whose name matched a listed entry. Opening one freezes the subject's
 * money movement; an analyst clears it (the subject is unfrozen when no other match holds them) or confirms it
 * (they stay frozen, and `onConfirmed` — the AML alert's seam — runs in the decision's transaction). Every
 * decision is audited in the transaction that makes it.
 */

export type MatchStatus = "open" | "cleared" | "confirmed";

export interface SanctionsMatch {
  id: string;
  subject: SanctionsSubject;
  listVersion: string;
  dataid: string;
  listType: "individual" | "entity";
  referenceNumber: string;
  listedName: string;
  matchedName: string;
  score: number;
  reasons: string[];
  status: MatchStatus;
  note: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  createdAt: string;
}

export interface MatchesDeps {
  database: Pick<Database, "db">;
  logger: Logger;
  now: () => Date;
  config: { serializableMaxRetries: number };
  audit: Audit;
  subjects: SubjectControl;
  /** Runs when an analyst confirms a match, inside that decision's transaction (the AML alert's hit). */
  onConfirmed?: (match: SanctionsMatch, tx: Executor, meta: RequestMeta) => Promise<void>;
  /** Runs when a match is opened, inside its transaction (the AML alert it opens). */
  onRecorded?: (match: SanctionsMatch, tx: Executor, meta: RequestMeta) => Promise<void>;
}

type Row = typeof sanctionsMatches.$inferSelect;

const toMatch = (r: Row): SanctionsMatch => ({
  id: r.id,
  subject: { type: r.subjectType as SanctionsSubject["type"], id: r.subjectId, name: r.subjectName },
  listVersion: r.listId,
  dataid: r.dataid,
  listType: r.listType as SanctionsMatch["listType"],
  referenceNumber: r.referenceNumber,
  listedName: r.listedName,
  matchedName: r.matchedName,
  score: r.score,
  reasons: r.reasons,
  status: r.status as MatchStatus,
  note: r.note,
  decidedBy: r.decidedBy,
  decidedAt: r.decidedAt?.toISOString() ?? null,
  createdAt: r.createdAt.toISOString(),
});

const freezeReason = (m: Pick<SanctionsMatch, "id" | "referenceNumber">) =>
  `sanctions screening: possible match to UN list ${m.referenceNumber} (${m.id}) under review`;

/**
 * Opens a match for `subject` (or returns the one already recorded for this subject, name and entry — a
 * re-screen never reopens what an analyst decided) and freezes the subject while it is open or confirmed.
 * Calling it again heals a freeze a crash left undone.
 */
export async function recordMatch(
  deps: MatchesDeps,
  input: { subject: SanctionsSubject; match: ScreenMatch; listVersion: string },
  meta: RequestMeta = {},
): Promise<{ match: SanctionsMatch; created: boolean }> {
  const { subject, match } = input;
  const { row, created } = await withTransaction(
    deps,
    async (tx) => {
      const now = deps.now();
      const [inserted] = await tx
        .insert(sanctionsMatches)
        .values({
          id: newId("snm"),
          listId: input.listVersion,
          subjectType: subject.type,
          subjectId: subject.id,
          subjectName: subject.name,
          dataid: match.dataid,
          listType: match.listType,
          referenceNumber: match.referenceNumber,
          listedName: match.name,
          matchedName: match.matchedName,
          score: match.score,
          reasons: match.reasons,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoNothing()
        .returning();
      if (!inserted) {
        const [existing] = await tx
          .select()
          .from(sanctionsMatches)
          .where(
            and(
              eq(sanctionsMatches.subjectType, subject.type),
              eq(sanctionsMatches.subjectId, subject.id),
              eq(sanctionsMatches.dataid, match.dataid),
              eq(sanctionsMatches.subjectName, subject.name),
            ),
          );
        return { row: existing!, created: false };
      }
      await deps.audit.record(
        {
          action: "sanctions.match.opened",
          target: { type: subject.type, id: subject.id },
          details: {
            matchId: inserted.id,
            listVersion: input.listVersion,
            dataid: match.dataid,
            referenceNumber: match.referenceNumber,
            matchedName: match.matchedName,
            score: match.score,
            reasons: match.reasons,
          },
        },
        meta,
        tx,
      );
      await deps.onRecorded?.(toMatch(inserted), tx, meta);
      return { row: inserted, created: true };
    },
    { label: "sanctions.recordMatch" },
  );
  let view = toMatch(row);
  if (view.status !== "cleared") view = await holdFrozen(deps, view, meta);
  return { match: view, created };
}

/** Freezes the subject if they are active, and remembers on the match that it did. */
async function holdFrozen(deps: MatchesDeps, match: SanctionsMatch, meta: RequestMeta): Promise<SanctionsMatch> {
  const { froze } = await deps.subjects.freeze(match.subject, freezeReason(match), meta);
  if (!froze) return match;
  await withTransaction(
    deps,
    (tx) =>
      tx.update(sanctionsMatches).set({ froze: true, updatedAt: deps.now() }).where(eq(sanctionsMatches.id, match.id)),
    { label: "sanctions.froze" },
  );
  return match;
}

async function decide(
  deps: MatchesDeps,
  input: { id: string; to: "cleared" | "confirmed"; note: string; adminId: string },
  meta: RequestMeta,
): Promise<{ match: SanctionsMatch; release: boolean }> {
  return withTransaction(
    deps,
    async (tx) => {
      const [current] = await tx.select().from(sanctionsMatches).where(eq(sanctionsMatches.id, input.id)).for("update");
      if (!current) throw new AppError("NOT_FOUND", "No such sanctions match.");
      if (current.status !== "open")
        throw new AppError("CONFLICT", `The match was already ${current.status}.`, { status: current.status });
      const now = deps.now();
      let release = false;
      let froze = current.froze;
      if (input.to === "cleared" && current.froze) {
        // Another open or confirmed match on the subject keeps them frozen, and takes over unfreezing them.
        const [other] = await tx
          .select({ id: sanctionsMatches.id })
          .from(sanctionsMatches)
          .where(
            and(
              eq(sanctionsMatches.subjectType, current.subjectType),
              eq(sanctionsMatches.subjectId, current.subjectId),
              ne(sanctionsMatches.id, current.id),
              inArray(sanctionsMatches.status, ["open", "confirmed"]),
            ),
          )
          .limit(1)
          .for("update");
        if (other)
          await tx
            .update(sanctionsMatches)
            .set({ froze: true, updatedAt: now })
            .where(eq(sanctionsMatches.id, other.id));
        else release = true;
        froze = false;
      }
      const [row] = await tx
        .update(sanctionsMatches)
        .set({ status: input.to, note: input.note, decidedBy: input.adminId, decidedAt: now, froze, updatedAt: now })
        .where(eq(sanctionsMatches.id, input.id))
        .returning();
      const match = toMatch(row!);
      await deps.audit.record(
        {
          action: `sanctions.match.${input.to === "cleared" ? "cleared" : "confirmed"}`,
          target: { type: current.subjectType, id: current.subjectId },
          details: {
            matchId: match.id,
            dataid: match.dataid,
            referenceNumber: match.referenceNumber,
            score: match.score,
            note: input.note,
          },
        },
        meta,
        tx,
      );
      if (input.to === "confirmed") await deps.onConfirmed?.(match, tx, meta);
      return { match, release };
    },
    { label: `sanctions.${input.to}` },
  );
}

/** The analyst's "not them": the match is cleared and, if nothing else holds the subject, they are unfrozen. */
export async function clearMatch(
  deps: MatchesDeps,
  input: { id: string; note: string; adminId: string },
  meta: RequestMeta,
): Promise<SanctionsMatch> {
  const { match, release } = await decide(deps, { ...input, to: "cleared" }, meta);
  if (release) await deps.subjects.unfreeze(match.subject, `sanctions match ${match.id} cleared`, meta);
  return match;
}

/** The analyst's "it is them": the match is confirmed and the subject stays frozen. */
export async function confirmMatch(
  deps: MatchesDeps,
  input: { id: string; note: string; adminId: string },
  meta: RequestMeta,
): Promise<SanctionsMatch> {
  const { match } = await decide(deps, { ...input, to: "confirmed" }, meta);
  return holdFrozen(deps, match, meta);
}

export async function getMatch(deps: Pick<MatchesDeps, "database">, id: string) {
  const [row] = await deps.database.db.select().from(sanctionsMatches).where(eq(sanctionsMatches.id, id));
  return row ? toMatch(row) : undefined;
}

/** Newest first, by status and subject. */
export async function listMatches(
  deps: Pick<MatchesDeps, "database">,
  filter: { status?: MatchStatus; subjectId?: string; limit: number; cursor?: string },
): Promise<{ data: SanctionsMatch[]; nextCursor: string | null }> {
  const where: (SQL | undefined)[] = [];
  if (filter.status) where.push(eq(sanctionsMatches.status, filter.status));
  if (filter.subjectId) where.push(eq(sanctionsMatches.subjectId, filter.subjectId));
  if (filter.cursor) where.push(after(filter.cursor, sanctionsMatches.createdAt, sanctionsMatches.id));
  const rows = await deps.database.db
    .select()
    .from(sanctionsMatches)
    .where(and(...where))
    .orderBy(desc(sanctionsMatches.createdAt), desc(sanctionsMatches.id))
    .limit(filter.limit + 1);
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    data: page.map(toMatch),
    nextCursor: rows.length > filter.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
