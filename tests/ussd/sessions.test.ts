import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/app";
import { buildSystem } from "../../src/modules";
import { createGatewayClient } from "../../src/ussd/sim";
import { createPartner, createVendor, randomPhone, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";
import { clock, dialer, seen, useClock } from "./support";

/**
 * Scripted USSD sessions through both gateway wire formats, against the real app and database:
 * every menu path, wrong PINs, back and home, timeouts, resent requests, and a newcomer who joins by
 * USSD, is paid and checks the balance.
 */
const t = await createTestContext();
useClock(t);

const PIN = "7481";
const partner = await createPartner(t);
const vendor = await createVendor(t, { name: "Mama Thoko Vegetables" });
let keys = 0;

async function deposit(phone: string, amount: number) {
  const res = await t.request("POST", "/partner/v1/deposits", {
    headers: { "x-api-key": partner.apiKey, "idempotency-key": `ussd-${Date.now()}-${++keys}` },
    body: { phone, amount, currency: "SZL", externalReference: `ussd-ext-${keys}-${Date.now()}` },
  });
  expect(res.status).toBe(201);
}

// The embedded ERS360 simulators pick a behaviour from these last four digits; ordinary members avoid them.
const MAGIC = /(0011|0020|0093|0104|0105|0500|0666|0999)$/;

/** A user who signed up in the app, with a PIN and `balance` cents. */
async function member(balance: number) {
  let phone = randomPhone();
  while (MAGIC.test(phone) || phone.endsWith(PIN)) phone = randomPhone();
  const user = await signInUser(t, { pin: PIN, phone });
  if (balance) await deposit(user.phone, balance);
  return user;
}

const balanceOf = async (userId: string) => (await t.deps.payments.wallet("user_wallet", userId)).balance;
const transactionsOf = async (userId: string) =>
  (await t.deps.payments.listForAccount(await t.deps.payments.walletOf("user_wallet", userId), { limit: 50 })).data;

const local = (e164: string) => e164.slice(4);
const spaced = (e164: string) => `${e164.slice(4, 8)} ${e164.slice(8)}`;

for (const format of ["mtn", "at"] as const) {
  describe(`${format}:`, () => {
    test("a newcomer joins by USSD, is paid, and checks the balance", async () => {
      const phone = randomPhone();
      const d = dialer(t, format, phone);
      expect((await d.dial()).text).toStartWith("Choose language / Khetsa lulwimi");
      const welcome = await d.send("1");
      expect(welcome.text).toContain("Terms: keshless.com/terms");
      expect(welcome.text).toContain("1. Accept terms");
      expect((await d.send("1")).text).toStartWith("Choose a 4-6 digit PIN");
      expect((await d.send("1234")).text).toStartWith("That PIN is too easy to guess.\nChoose a 4-6 digit PIN");
      expect((await d.send("8352")).text).toStartWith("Enter the same PIN again.");
      expect((await d.send("8353")).text).toStartWith("The PINs did not match. Start again.\nChoose a 4-6");
      expect((await d.send("8352")).text).toStartWith("Enter the same PIN again.");
      const joined = await d.send("8352");
      expect(joined).toMatchObject({ end: true, text: expect.stringContaining("wallet is ready") });

      const user = (await t.deps.identity.users.findByPhone(phone))!;
      expect(user).toMatchObject({ hasPin: true, status: "active" });
      const audit = await t.deps.audit.list({ action: "user.terms.accepted", targetId: user.id, limit: 5 });
      expect(audit.data).toHaveLength(1);

      // Someone pays them, by USSD too.
      const sender = await member(10_000);
      const s = dialer(t, format, sender.phone);
      await s.home();
      await s.play("2", local(phone));
      expect((await s.send("15")).text).toStartWith(`Send E15.00 to ${spaced(phone)}. Fee E0.00.`);
      const sent = await s.send(PIN);
      expect(sent.end).toBe(true);
      expect(sent.text).toMatch(new RegExp(`^Sent E15\\.00 to ${spaced(phone)}\\. New balance E85\\.00\\.\\nRef txn_`));
      const inbox = await t.deps.notifications.list({ to: phone, limit: 5 });
      expect(inbox.some((m) => m.body.includes("you received E15.00"))).toBe(true);

      // Next dial: no language question, straight to the menu; the PIN before the balance.
      const again = dialer(t, format, phone);
      expect((await again.dial()).text).toStartWith("Keshless\n1. Check balance");
      expect((await again.send("1")).text).toStartWith("Enter your PIN to see your balance.");
      const balance = await again.send("8352");
      expect(balance).toMatchObject({ end: true, text: "Balance: E15.00\nAvailable: E15.00" });
    });

    test("the joining hop sent twice at once makes one wallet with that PIN", async () => {
      const phone = randomPhone();
      const d = dialer(t, format, phone);
      await d.dial();
      await d.play("1", "1", "8352");
      clock.offset += 2_000;
      const fire = d.prepare("8352");
      const replies = await Promise.all([fire(), fire()]);
      for (const r of replies)
        expect(r).toMatchObject({ status: 200, end: true, text: expect.stringContaining("wallet is ready") });
      const user = (await t.deps.identity.users.findByPhone(phone))!;
      expect(user.hasPin).toBe(true);
      await t.deps.identity.users.verifyPin({ userId: user.id, pin: "8352" });
    });

    test("check balance: a wrong PIN is asked again with the tries left; a malformed one is not counted", async () => {
      const user = await member(5_000);
      const d = dialer(t, format, user.phone);
      await d.home();
      await d.send("1");
      expect((await d.send("9999")).text).toStartWith("Wrong PIN. 4 tries left.\nEnter your PIN");
      expect((await d.send("12")).text).toStartWith("A PIN is 4 to 6 digits.\nEnter your PIN");
      expect((await d.send("9998")).text).toStartWith("Wrong PIN. 3 tries left.");
      expect(await d.send(PIN)).toMatchObject({ end: true, text: "Balance: E50.00\nAvailable: E50.00" });
    });

    test("send money: each wrong answer is asked again, the fee is shown, both wallets move", async () => {
      const sender = await member(5_000);
      const receiver = await member(0);
      const d = dialer(t, format, sender.phone);
      await d.home();
      expect((await d.send("2")).text).toStartWith("Send money\nEnter the phone number");
      expect((await d.send("7612")).text).toStartWith("That is not an Eswatini mobile number.\nSend money");
      expect((await d.send(local(sender.phone))).text).toStartWith("You cannot send money to yourself.");
      expect((await d.send(randomPhone())).text).toStartWith("That number has no Keshless wallet yet.");
      expect((await d.send(local(receiver.phone))).text).toStartWith(
        `Send to ${spaced(receiver.phone)}\nEnter the amount`,
      );
      expect((await d.send("abc")).text).toStartWith("That is not an amount.");
      expect((await d.send("0")).text).toStartWith("Send money\nEnter the phone number"); // 0 = back
      await d.send(`+268 ${spaced(receiver.phone)}`);
      expect((await d.send("12.5")).text).toBe(
        `Send E12.50 to ${spaced(receiver.phone)}. Fee E0.00.\nEnter your PIN to confirm.\n0 Back 00 Home`,
      );
      const done = await d.send(PIN);
      expect(done.end).toBe(true);
      expect(done.text).toContain("New balance E37.50.");
      expect(await balanceOf(sender.id)).toBe(3_750);
      expect(await balanceOf(receiver.id)).toBe(1_250);
      const [last] = await transactionsOf(receiver.id);
      expect(last).toMatchObject({ type: "transfer", amount: 1_250, direction: "credit" });
      expect(done.text).toContain(`Ref ${last!.id}`);
    });

    test("pay a vendor by its code", async () => {
      const user = await member(5_000);
      const d = dialer(t, format, user.phone);
      await d.home();
      expect((await d.send("3")).text).toStartWith("Pay vendor\nEnter the vendor code.");
      expect((await d.send("999999")).text).toStartWith("No vendor has that code.\nPay vendor");
      expect((await d.send(vendor.code)).text).toStartWith("Pay Mama Thoko Vegetab..\nEnter the amount");
      expect((await d.send("20")).text).toStartWith("Pay E20.00 to Mama Thoko Vegetab... Fee E0.50.");
      const paid = await d.send(PIN);
      expect(paid.end).toBe(true);
      expect(paid.text).toStartWith("Paid E20.00 to Mama Thoko Vegetab... New balance E29.50.");
      expect(await balanceOf(user.id)).toBe(2_950);
    });

    test("mini statement: the last five, newest first, with the PIN first", async () => {
      const user = await member(10_000);
      for (const amount of [100, 200, 300, 400, 500, 600]) {
        const d = dialer(t, format, user.phone);
        await d.home();
        await d.play("3", vendor.code, String(amount / 100));
        expect((await d.send(PIN)).end).toBe(true);
      }
      const d = dialer(t, format, user.phone);
      await d.home();
      expect((await d.send("5")).text).toStartWith("Enter your PIN to see your last 5");
      const statement = await d.send(PIN);
      expect(statement.end).toBe(true);
      const lines = statement.text.split("\n");
      expect(lines[0]).toBe("Last transactions");
      expect(lines.slice(1)).toHaveLength(5);
      expect(lines[1]).toMatch(/^\d\d\/\d\d Paid -E6\.50/);
      expect(lines[5]).toMatch(/^\d\d\/\d\d Paid -E2\.50/);
    });

    test("change PIN: the current one first, a weak or mismatched new one is asked again", async () => {
      const user = await member(1_000);
      const d = dialer(t, format, user.phone);
      await d.home();
      expect((await d.send("7")).text).toStartWith("Change PIN\nEnter your current PIN.");
      expect((await d.send("1357")).text).toStartWith("Wrong PIN. 4 tries left.\nChange PIN");
      expect((await d.send(PIN)).text).toStartWith("Enter your new 4-6 digit PIN.");
      expect((await d.send("1111")).text).toStartWith("That PIN is too easy to guess.\nEnter your new");
      expect((await d.send("5926")).text).toStartWith("Enter the new PIN again.");
      expect((await d.send("5927")).text).toStartWith("The PINs did not match. Start again.\nEnter your new");
      await d.send("5926");
      expect(await d.send("5926")).toMatchObject({ end: true, text: "Your PIN has been changed." });

      const check = dialer(t, format, user.phone);
      await check.home();
      await check.send("1");
      expect((await check.send(PIN)).text).toStartWith("Wrong PIN.");
      expect((await check.send("5926")).text).toStartWith("Balance: E10.00");
    });

    test("help, back and home; anything unexpected is asked again without losing the session", async () => {
      const user = await member(1_000);
      const other = await member(0);
      const d = dialer(t, format, user.phone);
      const menu = await d.home();
      expect((await d.send("42")).text).toBe(`Invalid choice.\n${menu.text}`);
      expect((await d.send("0")).text).toBe(menu.text); // back from the top stays there
      const help = await d.send("9");
      expect(help.text).toStartWith("Keshless help\n");
      expect(help.text).toEndWith("\n0 Back 00 Home");
      expect((await d.send("x")).text).toBe(`Invalid choice.\n${help.text}`);
      expect((await d.send("0")).text).toBe(menu.text);
      await d.play("2", local(other.phone));
      expect((await d.send("0")).text).toStartWith("Send money\nEnter the phone number");
      await d.play(local(other.phone), "5");
      expect((await d.send("0")).text).toStartWith(`Send to ${spaced(other.phone)}`);
      expect((await d.send("00")).text).toBe(menu.text);
      expect((await d.play("1", PIN)).text).toStartWith("Balance: E10.00");
    });

    test("language: asked once, remembered per phone, changeable from the menu", async () => {
      const phone = randomPhone();
      const d = dialer(t, format, phone);
      await d.dial();
      expect((await d.send("3")).text).toStartWith("Invalid choice. / Lokukhetsile akulungi.\nChoose language");
      expect((await d.send("2")).text).toStartWith("Wemukelekile ku-Keshless!");
      expect(await d.send("2")).toMatchObject({ end: true, text: expect.stringContaining("Kulungile.") });
      const back = dialer(t, format, phone);
      expect((await back.dial()).text).toStartWith("Wemukelekile ku-Keshless!");

      const user = await member(2_000);
      const e = dialer(t, format, user.phone);
      await e.home();
      await e.send("8");
      expect((await e.send("2")).text).toStartWith("Keshless\n1. Bona imali");
      expect((await e.play("1", PIN)).text).toBe("Imali: E20.00\nLengasetjentiswa: E20.00");
      const next = dialer(t, format, user.phone);
      expect((await next.dial()).text).toStartWith("Keshless\n1. Bona imali");
    });

    test("a session that times out mid-flow ends, and nothing moves", async () => {
      const sender = await member(5_000);
      const receiver = await member(0);
      const d = dialer(t, format, sender.phone);
      await d.home();
      await d.play("2", local(receiver.phone), "10");
      clock.offset += 181_000;
      expect(await d.send(PIN)).toMatchObject({ end: true, text: "Your session timed out. Please dial again." });
      expect(await balanceOf(sender.id)).toBe(5_000);
      // The next dial starts afresh.
      const again = dialer(t, format, sender.phone);
      expect((await again.dial()).text).toStartWith("Keshless\n");
    });

    test("the gateway closing the session (abort, timeout, end notice) forgets it", async () => {
      const user = await member(1_000);
      const d = dialer(t, format, user.phone);
      await d.home();
      await d.send("2");
      const closed = await d.abort();
      expect(closed.status).toBe(200);
      if (format === "at") expect(closed.body).toBe("OK");
      else expect(JSON.parse(closed.body).data).toMatchObject({ userInputRequired: false, messageType: 2 });
      expect((await d.send(local(randomPhone()))).text).toBe("Your session timed out. Please dial again.");
      expect(await t.deps.ussd.store.load(format, d.sessionId)).toBeUndefined();
    });

    test("a resent request gets the same answer and never pays twice", async () => {
      const sender = await member(5_000);
      const receiver = await member(0);
      const d = dialer(t, format, sender.phone);
      await d.home();
      // A resent navigation hop is not taken as the next answer.
      const phoneScreen = await d.send("2");
      expect(await d.resend()).toMatchObject({ text: phoneScreen.text, end: false });
      await d.play(local(receiver.phone), "10");
      const paid = await d.send(PIN);
      expect(paid.end).toBe(true);
      const resent = await d.resend();
      expect(resent).toMatchObject({ text: paid.text, end: true });
      clock.offset += 10_000;
      expect(await d.resend()).toMatchObject({ text: paid.text, end: true });
      expect(await balanceOf(sender.id)).toBe(4_000);
      expect(await transactionsOf(receiver.id)).toHaveLength(1);
    });

    test("the money hop sent twice at once pays once", async () => {
      const sender = await member(5_000);
      const receiver = await member(0);
      const d = dialer(t, format, sender.phone);
      await d.home();
      await d.play("2", local(receiver.phone), "10");
      clock.offset += 2_000;
      const fire = d.prepare(PIN);
      const [a, b] = await Promise.all([fire(), fire()]);
      for (const r of [a, b]) {
        expect(r.status).toBe(200);
        expect(r.end).toBe(true);
        expect(r.text).toMatch(/^Sent E10\.00|^Your request is being processed/);
      }
      expect(await balanceOf(sender.id)).toBe(4_000);
      expect(await transactionsOf(receiver.id)).toHaveLength(1);
    });

    test("not enough money, and amounts over the limit, say so and move nothing", async () => {
      const user = await member(1_000);
      const other = await member(0);
      const d = dialer(t, format, user.phone);
      await d.home();
      await d.play("2", local(other.phone));
      expect((await d.send("1000.01")).text).toStartWith("The most you can move at once is E1000.00.\nSend to");
      await d.send("20");
      expect(await d.send(PIN)).toMatchObject({ end: true, text: "Not enough money. Available: E10.00." });
      expect(await balanceOf(user.id)).toBe(1_000);
      expect(await balanceOf(other.id)).toBe(0);
    });

    test("five wrong PINs lock money movement, in this session and the next", async () => {
      const user = await member(1_000);
      const d = dialer(t, format, user.phone);
      await d.home();
      await d.send("1");
      for (const tries of [4, 3, 2, 1]) expect((await d.send("1357")).text).toStartWith(`Wrong PIN. ${tries}`);
      const locked = await d.send("1357");
      expect(locked.end).toBe(true);
      expect(locked.text).toMatch(/^Too many wrong PINs\. Payments are locked until \d\d\/\d\d \d\d:\d\d\.$/);
      const next = dialer(t, format, user.phone);
      await next.home();
      await next.send("1");
      expect((await next.send(PIN)).text).toStartWith("Too many wrong PINs.");
    });

    test("buy airtime for my number or another: held at once, the operator's answer by SMS", async () => {
      const user = await member(5_000);
      const mine = spaced(user.phone);
      const d = dialer(t, format, user.phone);
      await d.home();
      expect((await d.send("4")).text).toStartWith("Buy airtime for\n1. My number\n2. Another number");
      await d.send("2");
      expect((await d.send("77123456")).text).toStartWith("Airtime is for MTN and Eswatini Mobile numbers only.");
      expect((await d.send("79123456")).text).toStartWith("Airtime for 7912 3456\n");
      expect((await d.send("0")).text).toStartWith("Enter the number to top up.");
      expect((await d.send("00")).text).toStartWith("Keshless\n");
      await d.play("4", "1");
      expect((await d.send("0.5")).text).toStartWith("Enter an amount from E1.00 to E1000.00.\nAirtime for");
      expect((await d.send("10")).text).toStartWith(`Buy E10.00 airtime for ${mine}. Fee E0.00.\nEnter your PIN`);
      const done = await d.send(PIN);
      expect(done).toMatchObject({
        end: true,
        text: `Airtime of E10.00 for ${mine} is on its way. You will receive an SMS.`,
      });
      expect(await d.resend()).toMatchObject({ text: done.text, end: true });

      await t.deps.airtime.idle();
      const orders = await t.deps.airtime.listOrders({ userId: user.id, limit: 5 });
      expect(orders.data).toHaveLength(1);
      expect(orders.data[0]).toMatchObject({ msisdn: user.phone, amount: 1_000, status: "completed" });
      expect(await balanceOf(user.id)).toBe(4_000);
      const inbox = await t.deps.notifications.list({ to: user.phone, limit: 5 });
      expect(inbox.some((m) => m.kind.startsWith("airtime"))).toBe(true);

      const other = dialer(t, format, user.phone);
      await other.home();
      await other.play("4", "2", "79123456", "5");
      expect((await other.send(PIN)).text).toBe(
        "Airtime of E5.00 for 7912 3456 is on its way. You will receive an SMS.",
      );
      await t.deps.airtime.idle();
      expect(
        (await t.deps.airtime.listOrders({ userId: user.id, msisdn: "+26879123456", limit: 5 })).data,
      ).toHaveLength(1);
    });

    test("withdraw at an agent: at once below the approval threshold, held for approval above it", async () => {
      const user = await member(100_000);
      const d = dialer(t, format, user.phone);
      await d.home();
      expect((await d.send("6")).text).toStartWith("Withdraw cash at an agent\nEnter the agent code.");
      expect((await d.send("12")).text).toStartWith("That is not an agent code.");
      expect((await d.send("40012")).text).toStartWith("Withdraw at agent 40012\nEnter the amount");
      expect((await d.send("100")).text).toStartWith("Withdraw E100.00 at agent 40012. Fee E5.00.\nEnter your PIN");
      expect(await d.send(PIN)).toMatchObject({
        end: true,
        text: "Withdrawal of E100.00 received. You will receive an SMS.",
      });
      expect(await balanceOf(user.id)).toBe(100_000 - 10_500);
      const [withdrawal] = await transactionsOf(user.id);
      expect(withdrawal).toMatchObject({ type: "withdrawal", status: "completed", amount: 10_000, fee: 500 });

      const big = dialer(t, format, user.phone);
      await big.home();
      await big.play("6", "40012", "600");
      expect(await big.send(PIN)).toMatchObject({
        end: true,
        text: "Withdrawal of E600.00 received and waiting for approval. You will receive an SMS.",
      });
      const wallet = await t.deps.payments.wallet("user_wallet", user.id);
      expect(wallet).toMatchObject({ balance: 89_500, available: 89_500 - 60_500, pending: 60_500 });
    });
  });
}

test("any instance can answer any hop: nothing about a session lives in process memory", async () => {
  // A second app over the same database, as a second Cloud Run instance would be.
  const secondDeps = await buildSystem(t.config, { logger: t.deps.logger, database: t.deps.database });
  secondDeps.now = () => t.deps.now();
  const second = createApp(secondDeps);
  const apps = [t.app, second];
  for (const format of ["mtn", "at"] as const) {
    const sender = await member(3_000);
    const receiver = await member(0);
    let hop = 0;
    const client = createGatewayClient({
      format,
      phone: sender.phone,
      fetch: async (path, init) => apps[hop++ % 2]!.request(path, init),
    });
    await client.dial();
    for (const input of ["1", "2", local(receiver.phone), "7"]) {
      clock.offset += 2_000;
      await client.send(input);
    }
    clock.offset += 2_000;
    const done = await client.send(PIN);
    expect(done.text).toStartWith(`Sent E7.00 to ${spaced(receiver.phone)}.`);
    expect(hop).toBe(6);
    expect(await balanceOf(receiver.id)).toBe(700);
  }
});

test("no PIN appears in any screen or log line", () => {
  const pins = [PIN, "8352", "5926", "1357"];
  const pattern = new RegExp(`(?<![0-9A-Za-z])(${pins.join("|")})(?![0-9A-Za-z])`);
  for (const screen of seen) expect(pattern.test(screen.text)).toBe(false);
  const ussdLogs = t.logs.filter((line) => line.includes("ussd"));
  expect(ussdLogs.length).toBeGreaterThan(0);
  // A PIN arrives as text; a JSON number in a log line (a size, a count) is not one, whatever its digits.
  const withoutNumbers = (line: string) => line.replace(/:-?\d+(\.\d+)?(?=[,}])/g, ":0");
  for (const line of t.logs) expect({ line, pin: pattern.test(withoutNumbers(line)) }).toEqual({ line, pin: false });
});

test("no error line was shown on a screen that does not list it (so every one was measured)", () => {
  expect(t.logs.filter((line) => line.includes("not listed for its screen"))).toEqual([]);
  expect(t.logs.filter((line) => line.includes("screen too long"))).toEqual([]);
  expect(t.logs.filter((line) => line.includes("ussd hop failed"))).toEqual([]);
});

test("the ledger balances after every session above", async () => {
  const report = await t.deps.ledger.verify();
  expect(report.problems).toEqual([]);
});
