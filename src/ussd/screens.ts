import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import { AppError } from "../http/errors";
import { canonical, type Outcome, runIdempotent } from "../http/idempotency";
import { toAppError } from "../http/to-app-error";
import { weakPinReason } from "../identity";
import { eswatiniIso } from "../lib/clock";
import { hmacSha256Hex, sha256Hex } from "../lib/crypto";
import { normalizePhone, operatorOf } from "../lib/phone";
import type { TransactionDto } from "../payments";
import type { Catalog, Language } from "./catalog";
import type { UssdDeps } from "./deps";
import { clip, localPhone, MAX_SCREEN, money, parseAmount } from "./text";

/**
 * The menus. Each screen renders a prompt from the catalog and handles one input, returning where to
 * go next. What a screen collects goes into `data` (persisted with the session) — never a PIN: a PIN
 * is checked on the screen that asks for it, and a new PIN awaiting confirmation is kept as a keyed hash.
 */

export type ScreenId =
  | "language"
  | "welcome"
  | "choosePin"
  | "confirmPin"
  | "main"
  | "balancePin"
  | "sendPhone"
  | "sendAmount"
  | "sendConfirm"
  | "payCode"
  | "payAmount"
  | "payConfirm"
  | "airtimeTarget"
  | "airtimePhone"
  | "airtimeAmount"
  | "airtimeConfirm"
  | "withdrawAgent"
  | "withdrawAmount"
  | "withdrawConfirm"
  | "statementPin"
  | "currentPin"
  | "newPin"
  | "confirmNewPin"
  | "help";

export interface Data {
  /** E.164 of a recipient or of the phone to top up. */
  to?: string;
  /** How the recipient is shown: a clipped name, or the number as people write it. */
  toLabel?: string;
  vendorCode?: string;
  vendorName?: string;
  agentCode?: string;
  amount?: number;
  fee?: number;
  /** Keyed hash of a new PIN awaiting its confirmation. */
  pinHash?: string;
}

export interface SessionState {
  lang: Language | null;
  /** The registered user (a wallet and a PIN); null for a newcomer. */
  userId: string | null;
  screen: ScreenId;
  data: Data;
  stack: { screen: ScreenId; data: Data }[];
}

export type ErrorKey = keyof Catalog["error"];
export type ErrorArg = string | number | Record<string, string>;

export type Step =
  | { kind: "go"; screen: ScreenId; data?: Data }
  | { kind: "home"; lang?: Language }
  /** Ask again (or ask `screen`), with an error line above; the screen must list `error` in its errors. */
  | { kind: "retry"; error: ErrorKey; arg?: ErrorArg; screen?: ScreenId; data?: Data }
  | { kind: "end"; text: string };

export interface StepContext {
  deps: UssdDeps;
  t: Catalog;
  phone: string;
  userId: string | null;
  session: { gateway: string; sessionId: string; nonce: string; hop: number };
  meta: RequestMeta;
}

export interface RenderEnv {
  termsUrl: string;
}

interface Screen {
  /** Root screens (no back/home line): the first screen a subscriber can land on. */
  root?: boolean;
  /** The error lines this screen can be asked again with (the length test renders each of them). */
  errors: ErrorKey[];
  prompt(t: Catalog, d: Data, env: RenderEnv): string;
  handle(ctx: StepContext, input: string, d: Data): Promise<Step>;
}

const go = (screen: ScreenId, data?: Data): Step => (data ? { kind: "go", screen, data } : { kind: "go", screen });
const retry = (error: ErrorKey, arg?: ErrorArg): Step =>
  arg === undefined ? { kind: "retry", error } : { kind: "retry", error, arg };
const end = (text: string): Step => ({ kind: "end", text });

const isPin = (input: string) => /^\d{4,6}$/.test(input);
const userOf = (ctx: StepContext) => {
  if (!ctx.userId) throw new Error("ussd: a wallet screen was reached without a registered user");
  return ctx.userId;
};
/** Unique per session and hop: the idempotency key of whatever money this hop moves. */
const hopKey = (ctx: StepContext) => `${ctx.session.sessionId}:${ctx.session.nonce}:${ctx.session.hop}`;
/** A new PIN awaiting its confirmation, as the session may keep it: keyed, and only good for this session. */
const pinHash = (ctx: StepContext, pin: string) =>
  hmacSha256Hex(
    ctx.deps.config.secrets.pinPepper,
    `ussd-new-pin:${ctx.session.gateway}:${ctx.session.sessionId}:${ctx.session.nonce}:${pin}`,
  );

/** "26/11 14:05": a local date and time short enough for a USSD screen. */
function localTime(iso: string): string {
  const d = eswatiniIso(new Date(iso));
  return `${d.slice(8, 10)}/${d.slice(5, 7)} ${d.slice(11, 16)}`;
}

const asAppError = toAppError;

/**
 * Checks a PIN typed on a screen. null: correct. Otherwise the step to take — ask again (wrong, with
 * tries left; or not 4–6 digits, which is not counted as a try) or end (locked, frozen).
 */
async function checkPin(ctx: StepContext, pin: string): Promise<Step | null> {
  if (!isPin(pin)) return retry("pinFormat");
  try {
    await ctx.deps.identity.users.verifyPin({ userId: userOf(ctx), pin }, ctx.meta);
    return null;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const details = (error.details ?? {}) as { attemptsRemaining?: number; lockedUntil?: string | null };
    if (error.code === "INVALID_PIN")
      return details.lockedUntil
        ? end(ctx.t.end.pinLocked(localTime(details.lockedUntil)))
        : retry("wrongPin", details.attemptsRemaining ?? 0);
    if (error.code === "FORBIDDEN" && details.lockedUntil)
      return end(ctx.t.end.pinLocked(localTime(details.lockedUntil)));
    if (error.code === "ACCOUNT_FROZEN") return end(ctx.t.end.frozen);
    if (error.code === "UNAUTHENTICATED") return end(ctx.t.end.closed);
    throw error;
  }
}

/** An amount typed on a screen, or the re-prompt saying what is wrong with it. */
function readAmount(ctx: StepContext, input: string): number | Step {
  const amount = parseAmount(input);
  if (amount === null) return retry("amount");
  if (amount > ctx.deps.config.maxAmount) return retry("tooMuch", money(ctx.deps.config.maxAmount));
  return amount;
}

/** What a refused money movement tells the subscriber. Unknown failures propagate (END "failed"). */
async function moneyError(ctx: StepContext, error: unknown): Promise<Step> {
  const e = asAppError(error);
  if (!e) throw error;
  const { t } = ctx;
  switch (e.code) {
    case "INSUFFICIENT_FUNDS": {
      const wallet = await ctx.deps.payments.wallet("user_wallet", userOf(ctx));
      return end(t.end.insufficient(money(wallet.available)));
    }
    case "LIMIT_EXCEEDED": {
      const limit = (e.details as { limit?: string } | undefined)?.limit ?? "other";
      return end(t.end.limit(t.limitNames[limit as keyof Catalog["limitNames"]] ?? t.limitNames.other));
    }
    case "IDEMPOTENCY_IN_PROGRESS":
      return end(t.end.processing);
    case "ACCOUNT_FROZEN":
    case "FORBIDDEN":
    case "NOT_FOUND":
    case "VALIDATION_FAILED":
    case "CONFLICT":
    case "UNAVAILABLE":
    case "IDEMPOTENCY_KEY_REUSED":
      return end(t.end.unavailable);
    default:
      throw error;
  }
}

type Kind = "payment" | "transfer" | "airtime" | "withdrawal";

/** What a planned movement shows on its confirmation screen. */
interface Planned<P> {
  plan: P;
  fee: number;
  commit: (tx: Executor) => Promise<Outcome<TransactionDto>>;
  /** After the commit (or its replay): work that must not delay the reply (airtime's operator call). */
  after?: () => void;
}

/**
 * Plans a movement the way the REST route does, through the same service. Nothing is written: the
 * amount screen uses it to show the fee and refuse early; the PIN screen plans afresh and commits.
 */
async function plan(ctx: StepContext, kind: Kind, d: Data, amount: number): Promise<Planned<unknown>> {
  const userId = userOf(ctx);
  const { payments, airtime, withdrawals } = ctx.deps;
  switch (kind) {
    case "payment": {
      const p = await payments.planPayment({ userId, vendorCode: d.vendorCode!, amount, currency: "SZL" });
      return { plan: p, fee: Number(p.fee), commit: (tx) => payments.commit(p, tx) };
    }
    case "transfer": {
      const p = await payments.planTransfer({ userId, toPhone: d.to!, amount, currency: "SZL" });
      return { plan: p, fee: Number(p.fee), commit: (tx) => payments.commit(p, tx) };
    }
    case "airtime": {
      const p = await airtime.plan({ userId, msisdn: d.to!, amount, currency: "SZL" });
      // A replayed hop finds no queued attempt under this fresh plan id, so it sends nothing.
      return {
        plan: p,
        fee: Number(p.fee),
        commit: (tx) => airtime.commit(p, tx),
        after: () => airtime.dispatchInBackground(p.id),
      };
    }
    case "withdrawal": {
      const p = await withdrawals.plan({
        owner: { type: "user", id: userId },
        amount,
        currency: "SZL",
        destination: { type: "agent", agentCode: d.agentCode! },
      });
      return { plan: p, fee: Number(p.fee), commit: (tx) => withdrawals.commit(p, tx, ctx.meta) };
    }
  }
}

/** The amount screen: read it, plan it (fee, early refusals), and go on to the confirmation. */
async function amountStep(ctx: StepContext, kind: Kind, input: string, d: Data, next: ScreenId): Promise<Step> {
  const amount = readAmount(ctx, input);
  if (typeof amount !== "number") return amount;
  if (kind === "airtime") {
    const { minAmount, maxAmount } = ctx.deps.config.airtime;
    if (amount < minAmount || amount > maxAmount)
      return retry("amountRange", { min: money(minAmount), max: money(maxAmount) });
  }
  try {
    const planned = await plan(ctx, kind, d, amount);
    return go(next, { ...d, amount, fee: planned.fee });
  } catch (error) {
    const e = asAppError(error);
    if (e?.code === "LIMIT_EXCEEDED") {
      const details = e.details as { limit?: string; max?: number } | undefined;
      if (details?.limit === "perTransaction" && details.max) return retry("tooMuch", money(details.max));
    }
    if (e?.code === "VALIDATION_FAILED" && kind === "withdrawal") return retry("amount");
    return moneyError(ctx, error);
  }
}

/**
 * The PIN screen that moves money: the PIN, then the same plan and commit as REST inside runIdempotent
 * keyed on gateway + session + hop, so a resent hop replays the first outcome instead of paying twice.
 */
async function commitStep(ctx: StepContext, kind: Kind, pin: string, d: Data): Promise<TransactionDto | Step> {
  const bad = await checkPin(ctx, pin);
  if (bad) return bad;
  try {
    const planned = await plan(ctx, kind, d, d.amount!);
    const requestHash = sha256Hex(
      canonical({
        kind,
        userId: userOf(ctx),
        to: d.to ?? null,
        vendorCode: d.vendorCode ?? null,
        agentCode: d.agentCode ?? null,
        amount: d.amount,
      }),
    );
    const result = await runIdempotent(
      ctx.deps,
      `ussd:${ctx.session.gateway}`,
      hopKey(ctx),
      requestHash,
      planned.commit,
    );
    planned.after?.();
    return result.body;
  } catch (error) {
    return moneyError(ctx, error);
  }
}

const isStep = (value: TransactionDto | Step): value is Step => "kind" in value;

/** The closing screen of a payment or transfer. */
function moved(ctx: StepContext, kind: "payment" | "transfer", body: TransactionDto, d: Data): Step {
  const p = {
    amount: money(body.amount),
    to: kind === "payment" ? d.vendorName! : d.toLabel!,
    balance: body.balanceAfter === null ? null : money(body.balanceAfter),
    ref: body.id,
  };
  return end(kind === "payment" ? ctx.t.end.paid(p) : ctx.t.end.sent(p));
}

// ------------------------------------------------------------------ screens

/** Screens that take a PIN ask again when it is wrong or malformed; amounts, when unreadable or too big. */
const PIN_ERRORS: ErrorKey[] = ["pinFormat", "wrongPin"];
const AMOUNT_ERRORS: ErrorKey[] = ["amount", "tooMuch"];

export const mainChoices: Record<string, ScreenId> = {
  "1": "balancePin",
  "2": "sendPhone",
  "3": "payCode",
  "4": "airtimeTarget",
  "5": "statementPin",
  "6": "withdrawAgent",
  "7": "currentPin",
  "8": "language",
  "9": "help",
};

export const screens: Record<ScreenId, Screen> = {
  language: {
    errors: ["choice"],
    root: true,
    prompt: (t) => t.screen.language,
    handle: async (_ctx, input) => {
      const lang = input === "1" ? "en" : input === "2" ? "ss" : null;
      if (!lang) return retry("choice");
      return { kind: "home", lang };
    },
  },

  welcome: {
    errors: ["choice"],
    root: true,
    prompt: (t, _d, env) => t.screen.welcome(env.termsUrl),
    handle: async (ctx, input) => {
      if (input === "1") return go("choosePin");
      if (input === "2") return end(ctx.t.end.declined);
      return retry("choice");
    },
  },

  choosePin: {
    errors: ["pinFormat", "weakPin", "pinMismatch"],
    prompt: (t) => t.screen.choosePin,
    handle: async (ctx, input, d) => {
      if (!isPin(input)) return retry("pinFormat");
      if (weakPinReason(input, ctx.phone)) return retry("weakPin");
      return go("confirmPin", { ...d, pinHash: pinHash(ctx, input) });
    },
  },

  confirmPin: {
    errors: [],
    prompt: (t) => t.screen.confirmPin,
    handle: async (ctx, input, d) => {
      if (!isPin(input) || pinHash(ctx, input) !== d.pinHash)
        return { kind: "retry", error: "pinMismatch", screen: "choosePin", data: {} };
      // The network vouches for the number: registering is this phone's say-so, as an OTP sign-in is.
      const { users } = ctx.deps.identity;
      const user = await users.register({ phone: ctx.phone });
      if (user.status === "frozen") return end(ctx.t.end.frozen);
      if (user.status !== "active") return end(ctx.t.end.closed);
      if (!user.hasPin) {
        const meta = { ...ctx.meta, actor: { type: "user" as const, id: user.id } };
        try {
          await users.setPin({ ctx: meta, input: { userId: user.id, sessionId: "ussd", pin: input } });
        } catch (error) {
          // The same hop resent at once: the other copy set this PIN a moment ago.
          if (error instanceof AppError && error.code === "VALIDATION_FAILED" && (await users.get(user.id))?.hasPin)
            return end(ctx.t.end.registered);
          throw error;
        }
        await ctx.deps.audit.record(
          {
            action: "user.terms.accepted",
            target: { type: "user", id: user.id },
            details: { channel: "ussd", terms: ctx.deps.config.ussd.termsUrl },
          },
          meta,
        );
      }
      return end(ctx.t.end.registered);
    },
  },

  main: {
    errors: ["choice"],
    root: true,
    prompt: (t) => t.screen.main,
    handle: async (_ctx, input) => {
      const next = mainChoices[input];
      return next ? go(next) : retry("choice");
    },
  },

  balancePin: {
    errors: PIN_ERRORS,
    prompt: (t) => t.screen.balancePin,
    handle: async (ctx, input) => {
      const bad = await checkPin(ctx, input);
      if (bad) return bad;
      const wallet = await ctx.deps.payments.wallet("user_wallet", userOf(ctx));
      return end(
        ctx.t.end.balance({
          balance: money(wallet.balance),
          available: money(wallet.available),
          pending: wallet.pending ? money(wallet.pending) : null,
        }),
      );
    },
  },

  sendPhone: {
    errors: ["phone", "self", "noWallet", "recipientUnavailable"],
    prompt: (t) => t.screen.sendPhone,
    handle: async (ctx, input) => {
      const to = normalizePhone(input);
      if (!to) return retry("phone");
      if (to === ctx.phone) return retry("self");
      const recipient = await ctx.deps.identity.users.findByPhone(to);
      if (!recipient) return retry("noWallet");
      if (recipient.status !== "active") return retry("recipientUnavailable");
      return go("sendAmount", { to, toLabel: recipient.name ? clip(recipient.name) : localPhone(to) });
    },
  },

  sendAmount: {
    errors: AMOUNT_ERRORS,
    prompt: (t, d) => t.screen.sendAmount(d.toLabel!),
    handle: (ctx, input, d) => amountStep(ctx, "transfer", input, d, "sendConfirm"),
  },

  sendConfirm: {
    errors: PIN_ERRORS,
    prompt: (t, d) => t.screen.sendConfirm({ amount: money(d.amount!), fee: money(d.fee!), to: d.toLabel! }),
    handle: async (ctx, input, d) => {
      const result = await commitStep(ctx, "transfer", input, d);
      return isStep(result) ? result : moved(ctx, "transfer", result, d);
    },
  },

  payCode: {
    errors: ["unknownVendor", "vendorUnavailable"],
    prompt: (t) => t.screen.payCode,
    handle: async (ctx, input) => {
      const code = input.trim().toUpperCase();
      if (!/^[0-9A-Z]{2,16}$/.test(code)) return retry("unknownVendor");
      const vendor = await ctx.deps.identity.vendors.findByCode(code);
      if (!vendor) return retry("unknownVendor");
      if (vendor.status !== "active") return retry("vendorUnavailable");
      return go("payAmount", { vendorCode: vendor.code, vendorName: clip(vendor.name) });
    },
  },

  payAmount: {
    errors: AMOUNT_ERRORS,
    prompt: (t, d) => t.screen.payAmount(d.vendorName!),
    handle: (ctx, input, d) => amountStep(ctx, "payment", input, d, "payConfirm"),
  },

  payConfirm: {
    errors: PIN_ERRORS,
    prompt: (t, d) => t.screen.payConfirm({ amount: money(d.amount!), fee: money(d.fee!), vendor: d.vendorName! }),
    handle: async (ctx, input, d) => {
      const result = await commitStep(ctx, "payment", input, d);
      return isStep(result) ? result : moved(ctx, "payment", result, d);
    },
  },

  airtimeTarget: {
    errors: ["choice", "network"],
    prompt: (t) => t.screen.airtimeTarget,
    handle: async (ctx, input) => {
      if (input === "2") return go("airtimePhone");
      if (input !== "1") return retry("choice");
      if (!sellsAirtime(ctx.phone)) return retry("network");
      return go("airtimeAmount", { to: ctx.phone, toLabel: localPhone(ctx.phone) });
    },
  },

  airtimePhone: {
    errors: ["phone", "network"],
    prompt: (t) => t.screen.airtimePhone,
    handle: async (_ctx, input) => {
      const to = normalizePhone(input);
      if (!to) return retry("phone");
      if (!sellsAirtime(to)) return retry("network");
      return go("airtimeAmount", { to, toLabel: localPhone(to) });
    },
  },

  airtimeAmount: {
    errors: [...AMOUNT_ERRORS, "amountRange"],
    prompt: (t, d) => t.screen.airtimeAmount(d.toLabel!),
    handle: (ctx, input, d) => amountStep(ctx, "airtime", input, d, "airtimeConfirm"),
  },

  airtimeConfirm: {
    errors: PIN_ERRORS,
    prompt: (t, d) => t.screen.airtimeConfirm({ amount: money(d.amount!), fee: money(d.fee!), to: d.toLabel! }),
    handle: async (ctx, input, d) => {
      // Held and recorded here; the operator is called after the reply and its answer comes by SMS.
      const result = await commitStep(ctx, "airtime", input, d);
      if (isStep(result)) return result;
      if (result.status === "failed") return end(ctx.t.end.unavailable);
      return end(ctx.t.end.airtimeAccepted({ amount: money(d.amount!), to: d.toLabel! }));
    },
  },

  withdrawAgent: {
    errors: ["agent"],
    prompt: (t) => t.screen.withdrawAgent,
    handle: async (ctx, input) => {
      try {
        const destination = ctx.deps.withdrawals.validDestination({ type: "agent", agentCode: input });
        return go("withdrawAmount", { agentCode: destination.type === "agent" ? destination.agentCode : input });
      } catch {
        return retry("agent");
      }
    },
  },

  withdrawAmount: {
    errors: AMOUNT_ERRORS,
    prompt: (t, d) => t.screen.withdrawAmount(d.agentCode!),
    handle: (ctx, input, d) => amountStep(ctx, "withdrawal", input, d, "withdrawConfirm"),
  },

  withdrawConfirm: {
    errors: PIN_ERRORS,
    prompt: (t, d) => t.screen.withdrawConfirm({ amount: money(d.amount!), fee: money(d.fee!), agent: d.agentCode! }),
    handle: async (ctx, input, d) => {
      const result = await commitStep(ctx, "withdrawal", input, d);
      if (isStep(result)) return result;
      const amount = money(d.amount!);
      if (result.status === "pending") return end(ctx.t.end.withdrawPending(amount));
      if (result.status !== "completed") return end(ctx.t.end.unavailable);
      return end(ctx.t.end.withdrawAccepted(amount));
    },
  },

  statementPin: {
    errors: PIN_ERRORS,
    prompt: (t) => t.screen.statementPin,
    handle: async (ctx, input) => {
      const bad = await checkPin(ctx, input);
      if (bad) return bad;
      const { payments } = ctx.deps;
      const account = await payments.walletOf("user_wallet", userOf(ctx));
      const { data } = await payments.listForAccount(account, { limit: 5 });
      if (!data.length) return end(ctx.t.end.statementEmpty);
      return end(statement(ctx.t, data));
    },
  },

  currentPin: {
    errors: PIN_ERRORS,
    prompt: (t) => t.screen.currentPin,
    handle: async (ctx, input) => {
      const bad = await checkPin(ctx, input);
      return bad ?? go("newPin");
    },
  },

  newPin: {
    errors: ["pinFormat", "weakPin", "pinMismatch"],
    prompt: (t) => t.screen.newPin,
    handle: async (ctx, input, d) => {
      if (!isPin(input)) return retry("pinFormat");
      if (weakPinReason(input, ctx.phone)) return retry("weakPin");
      return go("confirmNewPin", { ...d, pinHash: pinHash(ctx, input) });
    },
  },

  confirmNewPin: {
    errors: [],
    prompt: (t) => t.screen.confirmNewPin,
    handle: async (ctx, input, d) => {
      if (!isPin(input) || pinHash(ctx, input) !== d.pinHash)
        return { kind: "retry", error: "pinMismatch", screen: "newPin", data: {} };
      try {
        await ctx.deps.identity.users.changePinAfterUssdCheck({
          ctx: ctx.meta,
          input: { userId: userOf(ctx), pin: input },
        });
      } catch (error) {
        if (error instanceof AppError && error.code === "VALIDATION_FAILED")
          return { kind: "retry", error: "weakPin", screen: "newPin", data: {} };
        return moneyError(ctx, error);
      }
      return end(ctx.t.end.pinChanged);
    },
  },

  help: {
    errors: ["choice"],
    prompt: (t) => t.screen.help,
    handle: async (_ctx) => retry("choice"),
  },
};

function sellsAirtime(e164: string) {
  const operator = operatorOf(e164);
  return operator === "mtn" || operator === "eswatini_mobile";
}

// ------------------------------------------------------------------ rendering

/** The text of an error line. */
export function errorText(t: Catalog, key: ErrorKey, arg?: ErrorArg): string {
  const entry = t.error[key] as string | ((value: never) => string);
  return typeof entry === "function" ? entry(arg as never) : entry;
}

/** A screen's text: an optional error line, the prompt, and the back/home line below non-root screens. */
export function render(t: Catalog, id: ScreenId, d: Data, env: RenderEnv, error?: string): string {
  const screen = screens[id];
  const body = screen.prompt(t, d, env);
  return [error, body, screen.root ? undefined : t.nav].filter(Boolean).join("\n");
}

/** How a transaction changed the viewer's wallet: what the mini statement shows. */
function walletChange(tx: TransactionDto): number {
  if (tx.direction === "debit") return -(tx.amount + (tx.feeBearer === "sender" ? tx.fee : 0));
  return tx.amount - (tx.feeBearer === "receiver" ? tx.fee : 0);
}

function lineLabel(t: Catalog, tx: TransactionDto): string {
  if (tx.type === "transfer") return tx.direction === "debit" ? t.line.transferOut : t.line.transferIn;
  return t.line[tx.type as keyof Catalog["line"]] ?? t.line.other;
}

/**
 * The mini statement: one line per transaction, newest first. Counterparty names are shortened (and
 * dropped if need be) until the screen fits.
 */
export function statement(t: Catalog, items: TransactionDto[]): string {
  for (const nameLength of [12, 8, 0]) {
    const lines = items.map((tx) => {
      const change = walletChange(tx);
      const name = nameLength && tx.counterparty.name ? ` ${clip(tx.counterparty.name, nameLength)}` : "";
      return `${localTime(tx.createdAt).slice(0, 5)} ${lineLabel(t, tx)} ${change > 0 ? "+" : ""}${money(change)}${name}`;
    });
    const text = t.end.statement(lines.join("\n"));
    if (text.length <= MAX_SCREEN) return text;
  }
  return t.end.statement(
    items
      .slice(0, 3)
      .map((tx) => `${lineLabel(t, tx)} ${money(walletChange(tx))}`)
      .join("\n"),
  );
}
