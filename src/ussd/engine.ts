import { randomBytes } from "node:crypto";
import { hmacSha256Hex } from "../lib/crypto";
import { maskPhone } from "../lib/phone";
import { type Catalog, catalogs, LANGUAGES } from "./catalog";
import type { UssdDeps } from "./deps";
import { errorText, render, type SessionState, type Step, type StepContext, screens } from "./screens";
import { createSessionStore, type SessionRow } from "./store";
import { fit } from "./text";
import type { UssdEvent, UssdReply } from "./types";

/** Back stacks deeper than this lose their oldest screens: a USSD menu is never that deep. */
const MAX_STACK = 12;

/**
 * The menu engine: one event in, one reply out, with the session read from and written to Postgres on
 * every hop. `0` goes back and `00` home on every screen; anything a screen does not accept re-prompts
 * it without losing the session. A gateway's resent request gets the reply already given.
 */
export function createUssdEngine(deps: UssdDeps) {
  const store = createSessionStore(deps);
  const env = () => ({ termsUrl: deps.config.ussd.termsUrl });
  const catalogOf = (state: Pick<SessionState, "lang"> | null): Catalog => catalogs[state?.lang ?? "en"];
  const fingerprint = (event: UssdEvent) =>
    hmacSha256Hex(deps.config.secrets.pinPepper, `ussd:${event.gateway}:${event.sessionId}:${event.raw}`);

  async function handle(event: UssdEvent, requestId?: string): Promise<UssdReply> {
    const started = performance.now();
    const log = { gateway: event.gateway, phone: event.phone ? maskPhone(event.phone) : null, requestId };
    try {
      const reply = await step(event, requestId);
      deps.logger.info(
        { ...log, end: reply.end, ms: Math.round(performance.now() - started) },
        event.ended ? "ussd session closed by the gateway" : "ussd hop",
      );
      return reply;
    } catch (error) {
      deps.logger.error({ ...log, err: error }, "ussd hop failed");
      const row = await store.load(event.gateway, event.sessionId).catch(() => undefined);
      return { text: catalogOf(row?.state ?? null).end.failed, end: true };
    }
  }

  async function step(event: UssdEvent, requestId: string | undefined): Promise<UssdReply> {
    if (event.ended) {
      await store.remove(event.gateway, event.sessionId);
      return { text: "", end: true };
    }
    if (!event.phone) return { text: catalogOf(null).end.notEswatini, end: true };
    const fp = fingerprint(event);
    const now = deps.now();

    if (event.isNew) return begin(event, event.phone, fp);

    const row = await store.load(event.gateway, event.sessionId);
    if (!row || row.phone !== event.phone) return { text: catalogOf(null).end.timedOut, end: true };
    if (row.expiresAt <= now) {
      await store.remove(event.gateway, event.sessionId);
      return { text: catalogOf(row.state).end.timedOut, end: true };
    }
    if (row.ended || isRetry(event, row, fp, now)) return { text: row.lastReply, end: row.ended };
    return advance(event, event.phone, row, fp, requestId);
  }

  function isRetry(event: UssdEvent, row: SessionRow, fp: string, now: Date) {
    if (row.lastFingerprint !== fp) return false;
    return event.exact || now.getTime() - row.updatedAt.getTime() <= deps.config.ussd.retryWindowMs;
  }

  /** The first screen: language (asked once per phone), then the menu for a wallet, or joining for a newcomer. */
  async function begin(event: UssdEvent, phone: string, fp: string): Promise<UssdReply> {
    await store.sweep();
    const [lang, user] = await Promise.all([store.language(phone), deps.identity.users.findByPhone(phone)]);
    if (user?.status === "frozen") return { text: catalogs[lang ?? "en"].end.frozen, end: true };
    if (user?.status === "deleted") return { text: catalogs[lang ?? "en"].end.closed, end: true };
    const state: SessionState = {
      lang: lang ?? null,
      userId: user?.hasPin ? user.id : null,
      screen: "main",
      data: {},
      stack: [],
    };
    state.screen = home(state);
    const text = checked(render(catalogOf(state), state.screen, state.data, env()), state.screen);
    const started = await store.start({
      gateway: event.gateway,
      sessionId: event.sessionId,
      nonce: randomBytes(6).toString("base64url"),
      phone,
      state,
      reply: text,
      ended: false,
      fingerprint: fp,
    });
    if (started) return { text, end: false };
    // A live session already has this id: the begin was resent. Answer with where that session is.
    const row = await store.load(event.gateway, event.sessionId);
    return row ? { text: row.lastReply, end: row.ended } : { text: catalogOf(null).end.failed, end: true };
  }

  function home(state: SessionState) {
    if (!state.lang) return "language" as const;
    return state.userId ? ("main" as const) : ("welcome" as const);
  }

  async function advance(
    event: UssdEvent,
    phone: string,
    row: SessionRow,
    fp: string,
    requestId: string | undefined,
  ): Promise<UssdReply> {
    const state: SessionState = structuredClone(row.state);
    const input = event.input.trim();
    let reply: UssdReply;

    if (input === "00") {
      state.screen = home(state);
      state.data = {};
      state.stack = [];
      reply = { text: render(catalogOf(state), state.screen, state.data, env()), end: false };
    } else if (input === "0") {
      const previous = state.stack.pop();
      if (previous) {
        state.screen = previous.screen;
        state.data = previous.data;
      }
      reply = { text: render(catalogOf(state), state.screen, state.data, env()), end: false };
    } else {
      const ctx: StepContext = {
        deps,
        t: catalogOf(state),
        phone,
        userId: state.userId,
        session: { gateway: event.gateway, sessionId: event.sessionId, nonce: row.nonce, hop: row.hop },
        meta: {
          actor: state.userId ? { type: "user", id: state.userId } : { type: "anonymous" },
          ...(requestId ? { requestId } : {}),
        },
      };
      const next = await screens[state.screen].handle(ctx, input, state.data);
      reply = await apply(state, phone, next);
    }

    const text = checked(reply.text, state.screen);
    const saved = await store.advance(row, { state, reply: text, ended: reply.end, fingerprint: fp });
    if (saved) return { text, end: reply.end };
    // Another instance answered this hop first (the gateway resent it meanwhile): give its answer.
    const winner = await store.load(event.gateway, event.sessionId);
    return winner ? { text: winner.lastReply, end: winner.ended } : { text, end: reply.end };
  }

  /** Applies a screen's step to the session state and renders what comes next. */
  async function apply(state: SessionState, phone: string, next: Step): Promise<UssdReply> {
    switch (next.kind) {
      case "end":
        return { text: next.text, end: true };
      case "go":
        state.stack.push({ screen: state.screen, data: state.data });
        if (state.stack.length > MAX_STACK) state.stack.shift();
        state.screen = next.screen;
        state.data = next.data ?? {};
        return { text: render(catalogOf(state), state.screen, state.data, env()), end: false };
      case "home":
        if (next.lang) {
          await store.setLanguage(phone, next.lang);
          state.lang = next.lang;
        }
        state.screen = home(state);
        state.data = {};
        state.stack = [];
        return { text: render(catalogOf(state), state.screen, state.data, env()), end: false };
      case "retry": {
        if (next.screen && next.screen !== state.screen) {
          const at = state.stack.findIndex((frame) => frame.screen === next.screen);
          if (at >= 0) state.stack.length = at;
          state.screen = next.screen;
        }
        if (next.data) state.data = next.data;
        // The length tests render each screen with the errors it lists: one not listed was never measured.
        if (!screens[state.screen].errors.includes(next.error))
          deps.logger.warn({ screen: state.screen, error: next.error }, "ussd error line not listed for its screen");
        const t = catalogOf(state);
        // Before a language is chosen, say it in every language, as the language question does.
        const error = state.lang
          ? errorText(t, next.error, next.arg)
          : LANGUAGES.map((lang) => errorText(catalogs[lang], next.error, next.arg)).join(" / ");
        return { text: render(t, state.screen, state.data, env(), error), end: false };
      }
    }
  }

  /** Every screen fits by construction (tests prove it); this guards data no test foresaw. */
  function checked(text: string, screen: string): string {
    const result = fit(text);
    if (result.cut) deps.logger.warn({ screen, length: text.length }, "ussd screen too long; cut");
    return result.text;
  }

  return { handle, store };
}

export type UssdEngine = ReturnType<typeof createUssdEngine>;
