import { describe, expect, test } from "bun:test";
import type { TransactionDto } from "../../src/payments/dto";
import { type Catalog, catalogs, LANGUAGES } from "../../src/ussd/catalog";
import { type Data, type ErrorKey, errorText, render, type ScreenId, screens, statement } from "../../src/ussd/screens";
import { clip, isGsm7, localPhone, MAX_SCREEN, money } from "../../src/ussd/text";

/**
 * Every screen of every language, rendered with the longest values it can ever carry, fits one USSD
 * page (182 GSM-7 characters) — with the longest error line above it where a screen can be asked again.
 */

const BIG = money(999_999_999); // "E9999999.99": beyond the largest configurable amount in practice
const NAME = clip("W".repeat(60)); // names are clipped to 20 characters before they reach a screen
const TERMS = "x".repeat(40); // KESHLESS_USSD_TERMS_URL is at most 40 characters
const REF = `txn_${"x".repeat(20)}`;
const WHEN = "31/12 23:59";

const worstData: Data = {
  to: "+26876123456",
  toLabel: NAME,
  vendorCode: "1234567890ABCDEF",
  vendorName: NAME,
  agentCode: "1234567890ABCDEF",
  amount: 999_999_999,
  fee: 999_999_999,
  pinHash: "h",
};

const longestLimitName = (t: Catalog) => Object.values(t.limitNames).sort((a, b) => b.length - a.length)[0]!;

/** Each error line with the longest argument it can get. */
const worstError = (t: Catalog, key: ErrorKey) =>
  errorText(
    t,
    key,
    key === "wrongPin" ? 20 : key === "tooMuch" ? BIG : key === "amountRange" ? { min: BIG, max: BIG } : undefined,
  );

function ends(t: Catalog): [string, string][] {
  const e = t.end;
  const money = { amount: BIG, to: NAME, balance: BIG, ref: REF };
  const entries: Record<keyof Catalog["end"], string[]> = {
    timedOut: [e.timedOut],
    goodbye: [e.goodbye],
    failed: [e.failed],
    notEswatini: [e.notEswatini],
    frozen: [e.frozen],
    closed: [e.closed],
    pinLocked: [e.pinLocked(WHEN)],
    declined: [e.declined],
    registered: [e.registered],
    balance: [e.balance({ balance: BIG, available: BIG, pending: BIG })],
    sent: [e.sent(money)],
    paid: [e.paid(money)],
    insufficient: [e.insufficient(BIG)],
    limit: [e.limit(longestLimitName(t))],
    processing: [e.processing],
    unavailable: [e.unavailable],
    statement: [statement(t, worstStatement())],
    statementEmpty: [e.statementEmpty],
    pinChanged: [e.pinChanged],
    airtimeAccepted: [e.airtimeAccepted({ amount: BIG, to: localPhone("+26876123456") })],
    withdrawAccepted: [e.withdrawAccepted(BIG)],
    withdrawPending: [e.withdrawPending(BIG)],
  };
  return Object.entries(entries).flatMap(([key, texts]) => texts.map((text) => [key, text] as [string, string]));
}

function worstStatement(): TransactionDto[] {
  const kinds: [TransactionDto["type"], TransactionDto["direction"]][] = [
    ["reversal", "credit"],
    ["withdrawal", "debit"],
    ["transfer", "debit"],
    ["payment", "debit"],
    ["deposit", "credit"],
  ];
  return kinds.map(([type, direction], i) => ({
    id: `txn_${i}`,
    type,
    status: "completed",
    amount: 999_999_999,
    currency: "SZL",
    fee: 1_000,
    feeBearer: "sender",
    direction,
    counterparty: { type: "vendor", id: "vnd_x", name: "A very long counterparty name" },
    reference: null,
    createdAt: "2026-12-31T21:59:00.000Z",
    balanceAfter: 0,
  }));
}

for (const lang of LANGUAGES) {
  const t = catalogs[lang];
  describe(`${lang}: every screen fits one page`, () => {
    for (const id of Object.keys(screens) as ScreenId[]) {
      test(id, () => {
        const plain = render(t, id, worstData, { termsUrl: TERMS });
        const asked = screens[id].errors.map((key) =>
          render(t, id, worstData, { termsUrl: TERMS }, worstError(t, key)),
        );
        for (const text of [plain, ...asked]) {
          expect({ id, length: text.length }).toEqual({ id, length: Math.min(text.length, MAX_SCREEN) });
          expect(isGsm7(text)).toBe(true);
        }
      });
    }

    test("every closing message", () => {
      for (const [key, text] of ends(t)) {
        expect({ key, length: text.length }).toEqual({ key, length: Math.min(text.length, MAX_SCREEN) });
        expect({ key, gsm7: isGsm7(text) }).toEqual({ key, gsm7: true });
      }
    });

    test("every error line and label is GSM-7", () => {
      const errors = (Object.keys(t.error) as ErrorKey[]).map((key) => worstError(t, key));
      for (const text of [...errors, ...Object.values(t.limitNames), ...Object.values(t.line), t.nav])
        expect({ text, gsm7: isGsm7(text) }).toEqual({ text, gsm7: true });
    });
  });
}

test("the language question, asked again in every language, fits", () => {
  const error = LANGUAGES.map((lang) => errorText(catalogs[lang], "choice")).join(" / ");
  const text = render(catalogs.en, "language", {}, { termsUrl: TERMS }, error);
  expect(text.length).toBeLessThanOrEqual(MAX_SCREEN);
  expect(screens.language.errors).toEqual(["choice"]);
});

test("every catalog has exactly the English keys", () => {
  const shape = (value: unknown): unknown =>
    typeof value === "object" && value
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]))
      : typeof value;
  for (const lang of LANGUAGES) expect(shape(catalogs[lang])).toEqual(shape(catalogs.en));
});

test("the mini statement keeps five lines and drops names before it would overflow", () => {
  for (const lang of LANGUAGES) {
    const text = statement(catalogs[lang], worstStatement());
    expect(text.split("\n").length).toBe(6);
    expect(text.length).toBeLessThanOrEqual(MAX_SCREEN);
  }
});
