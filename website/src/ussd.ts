import { catalogs, type Language } from "../../src/ussd/catalog";
import { type Data, mainChoices, render, type ScreenId } from "../../src/ussd/screens";
import { money } from "../../src/ussd/text";
import type { Copy } from "./copy/en";
import type { Facts } from "./facts";

/**
 * The USSD walkthroughs, rendered by the menu engine's own screen renderer (src/ussd/screens.ts) from the same
 * catalogs the phones are served, with example values and the configured fees: what the site shows is what a
 * phone shows. Only the instructions between screens are the website's words.
 */

export interface UssdStep {
  /** What the person does. */
  action: string;
  /** The screen the phone shows next. */
  screen: string;
}

export interface UssdFlow {
  id: keyof Copy["pay"]["flows"];
  steps: UssdStep[];
}

const EXAMPLE_PHONE = "+26876123456";
const EXAMPLE_VENDOR_CODE = "123456";
const EXAMPLE_AGENT = "4521";
const EXAMPLE_REF = "txn_01JD8W3K5Q";

/** The main menu's digit for the screen it opens, and that option's label as the menu shows it. */
export function menuOption(lang: Language, screen: ScreenId): { digit: string; label: string } {
  const digit = Object.entries(mainChoices).find(([, id]) => id === screen)?.[0];
  if (!digit) throw new Error(`website: no main-menu option opens the ${screen} screen`);
  const line = catalogs[lang].screen.main.split("\n").find((l) => l.startsWith(`${digit}. `));
  if (!line) throw new Error(`website: the ${lang} main menu has no line for option ${digit}`);
  return { digit, label: line.slice(digit.length + 2) };
}

export function ussdFlows(lang: Language, copy: Copy, facts: Facts): UssdFlow[] {
  const t = catalogs[lang];
  const env = { termsUrl: facts.config.ussd.termsUrl };
  const p = copy.pay;
  const screen = (id: ScreenId, d: Data = {}) => render(t, id, d, env);
  const choose = (id: ScreenId) => {
    const { digit, label } = menuOption(lang, id);
    return p.choose(digit, label);
  };
  const local = "7612 3456";
  const flow = (kind: "transfer" | "payment" | "airtime" | "withdrawal", cents: number) => ({
    amount: cents,
    fee: facts.fee(kind, cents),
  });

  const send = { ...flow("transfer", 5_000), toLabel: p.example.person, to: EXAMPLE_PHONE };
  const pay = { ...flow("payment", 2_000), vendorCode: EXAMPLE_VENDOR_CODE, vendorName: p.example.vendor };
  const airtime = { ...flow("airtime", 1_000), to: EXAMPLE_PHONE, toLabel: local };
  const withdraw = { ...flow("withdrawal", 10_000), agentCode: EXAMPLE_AGENT };
  const whole = (cents: number) => String(cents / 100);
  const start = 25_000;
  /** Every money movement: open it from the menu, say who or what, the amount, then the PIN on the confirmation. */
  const moneyFlow = (
    id: UssdFlow["id"],
    [first, amountScreen, confirmScreen]: [ScreenId, ScreenId, ScreenId],
    who: string,
    d: Data & { amount: number },
    done: () => string,
  ): UssdFlow => ({
    id,
    steps: [
      { action: choose(first), screen: screen(first) },
      { action: who, screen: screen(amountScreen, d) },
      { action: p.typeAmount(whole(d.amount)), screen: screen(confirmScreen, d) },
      { action: p.typePin, screen: done() },
    ],
  });

  return [
    {
      id: "join",
      steps: [
        { action: p.dial(facts.config.ussd.code), screen: screen("language") },
        { action: p.languageChoice, screen: screen("welcome") },
        { action: p.acceptTerms, screen: screen("choosePin") },
        { action: p.typeNewPin, screen: screen("confirmPin") },
        { action: p.typePinAgain, screen: t.end.registered },
      ],
    },
    {
      id: "balance",
      steps: [
        { action: choose("balancePin"), screen: screen("balancePin") },
        {
          action: p.typePin,
          screen: t.end.balance({ balance: money(start), available: money(start), pending: null }),
        },
      ],
    },
    moneyFlow("send", ["sendPhone", "sendAmount", "sendConfirm"], p.typePhone(local), send, () =>
      t.end.sent({
        amount: money(send.amount),
        to: send.toLabel,
        balance: money(start - send.amount - send.fee),
        ref: EXAMPLE_REF,
      }),
    ),
    moneyFlow("pay", ["payCode", "payAmount", "payConfirm"], p.typeCode(EXAMPLE_VENDOR_CODE), pay, () =>
      t.end.paid({
        amount: money(pay.amount),
        to: pay.vendorName,
        balance: money(start - pay.amount - pay.fee),
        ref: EXAMPLE_REF,
      }),
    ),
    moneyFlow("airtime", ["airtimeTarget", "airtimeAmount", "airtimeConfirm"], p.type("1"), airtime, () =>
      t.end.airtimeAccepted({ amount: money(airtime.amount), to: airtime.toLabel }),
    ),
    moneyFlow(
      "withdraw",
      ["withdrawAgent", "withdrawAmount", "withdrawConfirm"],
      p.typeAgent(EXAMPLE_AGENT),
      withdraw,
      () =>
        withdraw.amount <= facts.config.withdrawals.autoApproveMax
          ? t.end.withdrawAccepted(money(withdraw.amount))
          : t.end.withdrawPending(money(withdraw.amount)),
    ),
    {
      id: "statement",
      steps: [{ action: choose("statementPin"), screen: screen("statementPin") }],
    },
    {
      id: "changePin",
      steps: [
        { action: choose("currentPin"), screen: screen("currentPin") },
        { action: p.typePin, screen: screen("newPin") },
        { action: p.typeNewPin, screen: screen("confirmNewPin") },
        { action: p.typePinAgain, screen: t.end.pinChanged },
      ],
    },
  ];
}

/** The main menu exactly as the phone shows it. */
export const mainMenu = (lang: Language, facts: Facts) =>
  render(catalogs[lang], "main", {}, { termsUrl: facts.config.ussd.termsUrl });

export const navLine = (lang: Language) => catalogs[lang].nav;
