/**
 * Every English string the USSD menus show. Parameters arrive already formatted (money "E15.00",
 * phones "7612 3456", names clipped), so a translation only places them. siSwati (ss.ts) has the
 * same keys — the type checker refuses one that is missing. Screens stay within 182 GSM-7 characters:
 * tests/ussd/screens.test.ts renders every one, in every language, with the longest values possible.
 */
export const en = {
  /** Shown under every screen that is not the main menu. */
  nav: "0 Back 00 Home",

  screen: {
    /** Asked once per phone, before anything else; the same in every catalog. */
    language: "Choose language / Khetsa lulwimi\n1. English\n2. siSwati",
    welcome: (terms: string) =>
      `Welcome to Keshless! Pay, send money and buy airtime from any phone.\nTerms: ${terms}\n1. Accept terms\n2. No thanks`,
    choosePin: "Choose a 4-6 digit PIN for your wallet. Never share it with anyone.",
    confirmPin: "Enter the same PIN again.",
    main: "Keshless\n1. Check balance\n2. Send money\n3. Pay vendor\n4. Buy airtime\n5. Mini statement\n6. Withdraw\n7. Change PIN\n8. Language\n9. Help",
    balancePin: "Enter your PIN to see your balance.",
    sendPhone: "Send money\nEnter the phone number of the person to pay.",
    sendAmount: (to: string) => `Send to ${to}\nEnter the amount in E (e.g. 50).`,
    sendConfirm: (p: { amount: string; fee: string; to: string }) =>
      `Send ${p.amount} to ${p.to}. Fee ${p.fee}.\nEnter your PIN to confirm.`,
    payCode: "Pay vendor\nEnter the vendor code.",
    payAmount: (vendor: string) => `Pay ${vendor}\nEnter the amount in E (e.g. 50).`,
    payConfirm: (p: { amount: string; fee: string; vendor: string }) =>
      `Pay ${p.amount} to ${p.vendor}. Fee ${p.fee}.\nEnter your PIN to confirm.`,
    airtimeTarget: "Buy airtime for\n1. My number\n2. Another number",
    airtimePhone: "Enter the number to top up.",
    airtimeAmount: (to: string) => `Airtime for ${to}\nEnter the amount in E (e.g. 10).`,
    airtimeConfirm: (p: { amount: string; fee: string; to: string }) =>
      `Buy ${p.amount} airtime for ${p.to}. Fee ${p.fee}.\nEnter your PIN to confirm.`,
    withdrawAgent: "Withdraw cash at an agent\nEnter the agent code.",
    withdrawAmount: (agent: string) => `Withdraw at agent ${agent}\nEnter the amount in E (e.g. 100).`,
    withdrawConfirm: (p: { amount: string; fee: string; agent: string }) =>
      `Withdraw ${p.amount} at agent ${p.agent}. Fee ${p.fee}.\nEnter your PIN to confirm.`,
    statementPin: "Enter your PIN to see your last 5 transactions.",
    currentPin: "Change PIN\nEnter your current PIN.",
    newPin: "Enter your new 4-6 digit PIN.",
    confirmNewPin: "Enter the new PIN again.",
    help: "Keshless help\nPay, send money and buy airtime from your wallet. Never share your PIN: Keshless staff never ask for it. Forgot it? Reset it in the app.",
  },

  /** Shown above the screen asked again, so the session goes on. */
  error: {
    choice: "Invalid choice.",
    amount: "That is not an amount. Use digits, e.g. 50 or 12.50.",
    tooMuch: (max: string) => `The most you can move at once is ${max}.`,
    amountRange: (p: { min: string; max: string }) => `Enter an amount from ${p.min} to ${p.max}.`,
    phone: "That is not an Eswatini mobile number.",
    pinFormat: "A PIN is 4 to 6 digits.",
    wrongPin: (tries: number) => `Wrong PIN. ${tries} ${tries === 1 ? "try" : "tries"} left.`,
    pinMismatch: "The PINs did not match. Start again.",
    weakPin: "That PIN is too easy to guess.",
    noWallet: "That number has no Keshless wallet yet.",
    self: "You cannot send money to yourself.",
    recipientUnavailable: "That wallet cannot receive money now.",
    unknownVendor: "No vendor has that code.",
    vendorUnavailable: "That vendor cannot take payments now.",
    network: "Airtime is for MTN and Eswatini Mobile numbers only.",
    agent: "That is not an agent code.",
  },

  /** The last screen of a session. */
  end: {
    timedOut: "Your session timed out. Please dial again.",
    goodbye: "Thank you for using Keshless.",
    failed: "Sorry, something went wrong. Check your SMS messages before you try again.",
    notEswatini: "Keshless is for Eswatini mobile numbers only.",
    frozen: "Your Keshless account is on hold. Please contact Keshless support.",
    closed: "This Keshless account is closed.",
    pinLocked: (until: string) => `Too many wrong PINs. Payments are locked until ${until}.`,
    declined: "No problem. Dial again any time to join Keshless.",
    registered: "Your Keshless wallet is ready. Dial again to check your balance or to pay.",
    balance: (p: { balance: string; available: string; pending: string | null }) =>
      `Balance: ${p.balance}\nAvailable: ${p.available}${p.pending ? `\nOn hold: ${p.pending}` : ""}`,
    sent: (p: { amount: string; to: string; balance: string | null; ref: string }) =>
      `Sent ${p.amount} to ${p.to}.${p.balance ? ` New balance ${p.balance}.` : ""}\nRef ${p.ref}`,
    paid: (p: { amount: string; to: string; balance: string | null; ref: string }) =>
      `Paid ${p.amount} to ${p.to}.${p.balance ? ` New balance ${p.balance}.` : ""}\nRef ${p.ref}`,
    insufficient: (available: string) => `Not enough money. Available: ${available}.`,
    limit: (which: string) => `This is over your ${which} limit. Verify your ID in the Keshless app to raise it.`,
    processing: "Your request is being processed. You will receive an SMS.",
    unavailable: "This cannot be done right now. Nothing was charged.",
    statement: (lines: string) => `Last transactions\n${lines}`,
    statementEmpty: "No transactions yet.",
    pinChanged: "Your PIN has been changed.",
    airtimeAccepted: (p: { amount: string; to: string }) =>
      `Airtime of ${p.amount} for ${p.to} is on its way. You will receive an SMS.`,
    withdrawAccepted: (amount: string) => `Withdrawal of ${amount} received. You will receive an SMS.`,
    withdrawPending: (amount: string) =>
      `Withdrawal of ${amount} received and waiting for approval. You will receive an SMS.`,
  },

  limitNames: {
    perTransaction: "per-transaction",
    daily: "daily",
    monthly: "monthly",
    maxBalance: "balance",
    recipientMaxBalance: "recipient's balance",
    other: "spending",
  },

  /** Mini-statement labels, one per line kind. */
  line: {
    payment: "Paid",
    transferOut: "Sent",
    transferIn: "Got",
    deposit: "Deposit",
    withdrawal: "Cash out",
    airtime: "Airtime",
    reversal: "Reversal",
    fee: "Fee",
    card: "Card",
    other: "Other",
  },
};

export type Catalog = typeof en;
