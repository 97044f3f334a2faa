import { and, eq, sql } from "drizzle-orm";
import type { Core } from "../core";
import { queryRows } from "../db/client";
import { retrySerializable } from "../db/serializable";
import type { Language } from "./catalog";
import { ussdProfiles, ussdSessions } from "./schema";
import type { SessionState } from "./screens";

export interface SessionRow {
  gateway: string;
  sessionId: string;
  nonce: string;
  phone: string;
  state: SessionState;
  hop: number;
  lastFingerprint: string | null;
  lastReply: string;
  ended: boolean;
  updatedAt: Date;
  expiresAt: Date;
}

type StoreDeps = Pick<Core, "database" | "config" | "logger" | "now">;

/**
 * USSD sessions and language choices in Postgres. Every write is one statement; a write that races
 * another instance on the same session loses on the `hop` version and the caller answers with the
 * winner's reply, so two instances never both advance one hop.
 */
export function createSessionStore(deps: StoreDeps) {
  const { db } = deps.database;
  const retry = <T>(fn: () => Promise<T>, label: string) =>
    retrySerializable(fn, { maxRetries: deps.config.serializableMaxRetries, logger: deps.logger, label });
  const ttlMs = () => deps.config.ussd.sessionTtl * 1000;

  async function load(gateway: string, sessionId: string): Promise<SessionRow | undefined> {
    const [row] = await retry(
      () =>
        db
          .select()
          .from(ussdSessions)
          .where(and(eq(ussdSessions.gateway, gateway), eq(ussdSessions.sessionId, sessionId))),
      "ussd.load",
    );
    return row ? { ...row, state: row.state as SessionState } : undefined;
  }

  /**
   * Starts a session, replacing a dead row with the same key (expired, or another phone's: gateways
   * recycle ids). false: a live session already has this key — a resent begin — and nothing changed.
   */
  async function start(input: {
    gateway: string;
    sessionId: string;
    nonce: string;
    phone: string;
    state: SessionState;
    reply: string;
    ended: boolean;
    fingerprint: string;
  }): Promise<boolean> {
    const now = deps.now();
    const values = {
      gateway: input.gateway,
      sessionId: input.sessionId,
      nonce: input.nonce,
      phone: input.phone,
      state: input.state,
      hop: 0,
      lastFingerprint: input.fingerprint,
      lastReply: input.reply,
      ended: input.ended,
      createdAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + ttlMs()),
    };
    const rows = await retry(
      () =>
        db
          .insert(ussdSessions)
          .values(values)
          .onConflictDoUpdate({
            target: [ussdSessions.gateway, ussdSessions.sessionId],
            set: { ...values },
            // A live, unfinished session with this key means the begin was resent: leave it be.
            setWhere: sql`${ussdSessions.expiresAt} <= ${now.toISOString()}::timestamptz or ${ussdSessions.ended}
                          or ${ussdSessions.phone} <> ${input.phone}`,
          })
          .returning({ hop: ussdSessions.hop }),
      "ussd.start",
    );
    return rows.length > 0;
  }

  /** Moves the session from `hop` to `hop + 1`; false when another instance got there first. */
  async function advance(
    row: Pick<SessionRow, "gateway" | "sessionId" | "hop">,
    next: { state: SessionState; reply: string; ended: boolean; fingerprint: string },
  ): Promise<boolean> {
    const now = deps.now();
    const rows = await retry(
      () =>
        db
          .update(ussdSessions)
          .set({
            state: next.state,
            hop: row.hop + 1,
            lastFingerprint: next.fingerprint,
            lastReply: next.reply,
            ended: next.ended,
            updatedAt: now,
            expiresAt: new Date(now.getTime() + ttlMs()),
          })
          .where(
            and(
              eq(ussdSessions.gateway, row.gateway),
              eq(ussdSessions.sessionId, row.sessionId),
              eq(ussdSessions.hop, row.hop),
            ),
          )
          .returning({ hop: ussdSessions.hop }),
      "ussd.advance",
    );
    return rows.length > 0;
  }

  async function remove(gateway: string, sessionId: string): Promise<void> {
    await retry(
      () =>
        db.delete(ussdSessions).where(and(eq(ussdSessions.gateway, gateway), eq(ussdSessions.sessionId, sessionId))),
      "ussd.remove",
    );
  }

  /** Deletes a bounded batch of dead sessions; called as sessions begin, so no separate job is needed. */
  async function sweep(limit = 100): Promise<number> {
    const now = deps.now().toISOString();
    const rows = await retry(
      () =>
        queryRows<{ gateway: string }>(
          db,
          sql`delete from ussd_sessions where (gateway, session_id) in
                (select gateway, session_id from ussd_sessions where expires_at < ${now}::timestamptz limit ${limit})
              returning gateway`,
        ),
      "ussd.sweep",
    );
    return rows.length;
  }

  async function language(phone: string): Promise<Language | undefined> {
    const [row] = await db
      .select({ language: ussdProfiles.language })
      .from(ussdProfiles)
      .where(eq(ussdProfiles.phone, phone));
    return row?.language as Language | undefined;
  }

  async function setLanguage(phone: string, language: Language): Promise<void> {
    const now = deps.now();
    await retry(
      () =>
        db
          .insert(ussdProfiles)
          .values({ phone, language, updatedAt: now })
          .onConflictDoUpdate({ target: ussdProfiles.phone, set: { language, updatedAt: now } }),
      "ussd.language",
    );
  }

  return { load, start, advance, remove, sweep, language, setLanguage };
}

export type SessionStore = ReturnType<typeof createSessionStore>;
