/**
 * The website's English words. siSwati (ss.ts) has the same keys — the type checker refuses one that is missing.
 * Figures never appear here: they arrive as arguments, already formatted from the API's configuration.
 */
export const en = {
  lang: "en",
  languageName: "English",
  skip: "Skip to content",
  navLabel: "Main",
  footerLabel: "More",
  brandTagline: "Mobile money for Eswatini",

  nav: {
    home: "Home",
    pay: "Pay and send",
    fees: "Fees and limits",
    vendors: "Vendors",
    safety: "Safety",
    privacy: "Privacy",
    terms: "Terms",
    contact: "Contact",
  },

  home: {
    title: "Keshless — pay and send money with your phone in Eswatini",
    description: (code: string) =>
      `Keshless is a mobile-money wallet for Eswatini. Pay vendors, send money, buy airtime and cash out with the app or by dialling ${code} on any phone.`,
    h1: "Pay and send money with your phone",
    lead: (code: string) =>
      `Keshless is a mobile-money wallet for Eswatini. Pay market vendors and taxi drivers, send money home, buy airtime and cash out — with the Keshless app on a smartphone, or by dialling ${code} on any phone.`,
    whatTitle: "What you can do",
    what: [
      "Pay a vendor with their vendor code.",
      "Send money to any Eswatini mobile number that has a Keshless wallet.",
      "Buy airtime for your number or another MTN or Eswatini Mobile number.",
      "Cash out at an agent, or to your bank account from the app.",
      "Check your balance and your last transactions.",
    ],
    startTitle: "Start in a minute",
    start: (code: string) => [
      `Dial ${code} and choose your language.`,
      "Accept the terms and choose a PIN of 4 to 6 digits.",
      "Your wallet is ready. Money can be added by a partner bank or mobile-money operator, or sent to you by another Keshless user.",
    ],
    moreTitle: "Find out more",
    more: {
      pay: "How to pay and send, step by step",
      fees: "What it costs and how much you can move",
      vendors: "Take payments with Keshless",
      safety: "Keep your money safe",
    },
  },

  pay: {
    title: "How to pay and send money — Keshless",
    description: (code: string) =>
      `Pay a vendor, send money, buy airtime and withdraw with the Keshless app or by dialling ${code}. The real USSD screens, step by step.`,
    h1: "How to pay and send money",
    lead: (code: string) =>
      `Use the Keshless app on a smartphone, or dial ${code} on any phone. Both use the same wallet and the same PIN.`,
    appTitle: "With the app",
    appSteps: [
      "Open the app and enter your phone number. We send you a 6-digit sign-in code by WhatsApp or SMS.",
      "Enter the code, then choose a PIN of 4 to 6 digits.",
      "To pay a vendor, enter the vendor code (or the payment code the vendor shows you) and the amount.",
      "To send money, enter the phone number of the person and the amount.",
      "Check the name, the amount and the fee, then enter your PIN to confirm.",
    ],
    appMore:
      "In the app you can also buy airtime, withdraw to a bank account or at an agent, see every transaction and verify your ID to raise your limits.",
    ussdTitle: "By USSD, on any phone",
    ussdLead: (code: string) =>
      `Dial ${code}. No data and no smartphone are needed. The screens below are the ones your phone shows.`,
    ussdNav: (nav: string) => `On every screen after the menu: “${nav}”. Type 0 to go back, 00 to go to the menu.`,
    ussdTimeout: (minutes: number) =>
      `A session ends after ${minutes} minutes without an answer. Nothing is paid until you enter your PIN on the last screen.`,
    screenLabel: "Phone screen",
    dial: (code: string) => `Dial ${code}.`,
    type: (input: string) => `Type ${input}.`,
    choose: (digit: string, label: string) => `Type ${digit} (${label}).`,
    typePhone: (phone: string) => `Type the phone number, for example ${phone}.`,
    typeCode: (code: string) => `Type the vendor code, for example ${code}.`,
    typeAgent: (code: string) => `Type the agent code, for example ${code}.`,
    typeAmount: (amount: string) => `Type the amount, for example ${amount}.`,
    typePin: "Type your PIN. Nobody else should see it.",
    typeNewPin: "Type a new PIN of 4 to 6 digits.",
    typePinAgain: "Type the same PIN again.",
    result: "You see:",
    smsNote: "You also get an SMS.",
    flows: {
      join: "Join Keshless",
      menu: "The main menu",
      balance: "Check your balance",
      send: "Send money",
      pay: "Pay a vendor",
      airtime: "Buy airtime",
      withdraw: "Withdraw cash at an agent",
      statement: "See your last transactions",
      changePin: "Change your PIN",
    },
    menuIntro: (code: string) =>
      `After you have joined, ${code} opens the main menu. Type the number of what you want to do.`,
    joinIntro: "The first time you dial, you choose your language, accept the terms and choose a PIN.",
    languageChoice: "Type 1 for English or 2 for siSwati.",
    acceptTerms: "Type 1 to accept the terms.",
    example: {
      person: "Thandi",
      vendor: "Mbabane Market",
    },
  },

  fees: {
    title: "Fees and limits — Keshless",
    description:
      "What each Keshless transaction costs, who pays the fee, and how much you can move per transaction, day and month.",
    h1: "Fees and limits",
    lead: "These are the fees and limits Keshless applies. The app and the USSD screens always show the fee before you confirm.",
    feesTitle: "Fees",
    feesCaption: "Fee for each kind of transaction",
    type: "Transaction",
    fee: "Fee",
    whoPays: "Who pays",
    examples: "Examples",
    feeTypes: {
      payment: "Pay a vendor",
      transfer: "Send money to a person",
      deposit: "Money added by a partner",
      withdrawal: "Withdraw (agent or bank)",
      airtime: "Buy airtime",
    },
    free: "Free",
    percentOf: (p: string) => `${p} of the amount`,
    atLeast: (min: string) => `at least ${min}`,
    atMost: (max: string) => `at most ${max}`,
    plus: "plus",
    sender: "The one who pays or sends",
    receiver: "Taken from what is received",
    exampleLine: (amount: string, fee: string) => `${amount} → fee ${fee}`,
    card: (fee: string) => `A Keshless tap card costs ${fee}, paid when your card request is approved.`,
    cardFree: "A Keshless tap card is free.",
    limitsTitle: "Limits",
    limitsLead:
      "How much you can move depends on your tier. Verify your ID in the app to move up a tier. The app shows your current limits.",
    limitsCaption: "Limits for each tier",
    tierNames: {
      "0": "Tier 0: phone number only",
      "1": "Tier 1: ID checked",
      "2": "Tier 2: ID and selfie checked",
    } as Record<string, string>,
    tierName: (tier: string) => `Tier ${tier}`,
    perTransaction: "Per transaction",
    daily: "Per day",
    monthly: "Per month",
    maxBalance: "Largest balance",
    tierHowTitle: "How to move up a tier",
    tierHow: [
      "Tier 1: in the app, add a photo of the front of your ID card, or of your passport.",
      "Tier 2: add a selfie as well. We compare it with the photo on your ID.",
      "Most checks are done in minutes. Some are checked by our staff; we send you an SMS with the result.",
    ],
    otherTitle: "Other limits",
    maxAmount: (max: string) => `The largest amount of any single transaction is ${max}.`,
    airtime: (min: string, max: string) => `Airtime: from ${min} to ${max} at a time.`,
    withdrawalApproval: (max: string) =>
      `Withdrawals of up to ${max} are paid at once. A larger withdrawal waits for a check by our staff; your money is held for it meanwhile.`,
    changeNote:
      "Fees and limits can change. We will tell you before a fee goes up; the app and the USSD screens always show the fee that applies.",
  },

  vendors: {
    title: "For vendors — take payments with Keshless",
    description:
      "Market vendors, shops and taxi drivers take Keshless payments with a vendor code and cash out to a bank.",
    h1: "Take payments with Keshless",
    lead: "Market stalls, shops, taxi drivers and anyone who sells can take Keshless payments. Your customers pay from the app or from any phone.",
    getTitle: "What you get",
    get: (ttlHours: number) => [
      "A vendor code. Customers type it to pay you, in the app or by USSD.",
      `Payment requests: enter an amount in the vendor app and show the customer a payment code. It is valid for ${ttlHours} hours.`,
      "Your balance and every payment in the vendor app, on each phone you trust.",
      "Withdrawals to your bank account.",
    ],
    feeTitle: "What it costs you",
    feeSender: (fee: string) =>
      `Taking a payment costs you nothing: the customer pays the fee (${fee}). You receive the full amount.`,
    feeReceiver: (fee: string) => `A fee of ${fee} is taken from each payment you receive.`,
    withdrawalFee: (fee: string) => `Each withdrawal costs ${fee}.`,
    banksTitle: "Banks you can withdraw to",
    joinTitle: "How to join",
    join: [
      "Contact us (see below) with your business name, a phone number and an email address.",
      "Tell us your business registration number and address, if you have them, and what you sell.",
      "We check your details, as the law asks of us, and create your vendor account.",
      "You get your vendor code and sign in to the vendor app with your email and password.",
      "The first time you sign in on a phone, we send a code to your phone number to trust that device.",
    ],
    joinContact: "Write to us to become a vendor:",
  },

  safety: {
    title: "Safety — keep your Keshless money safe",
    description: "Never share your Keshless PIN. How to spot scams and what to do if your phone is lost.",
    h1: "Keep your money safe",
    pinTitle: "Never share your PIN",
    pin: [
      "Your PIN is only for you. Keshless staff will never ask for it — not by phone, SMS, WhatsApp or in person.",
      "Never tell anyone the 6-digit sign-in code we send you. Anyone who asks for it is trying to take your wallet.",
      "Choose a PIN that is hard to guess: not 1234, not 0000, not the last digits of your phone number.",
      "Cover the keypad when you type your PIN.",
    ],
    checkTitle: "Check before you confirm",
    check: [
      "The last screen shows the name, the amount and the fee. Read it before you enter your PIN.",
      "Pay only vendors you know, with the code they show you.",
      "If you did not start a payment, do not enter your PIN.",
    ],
    lockTitle: "Wrong PINs",
    lock: (attempts: number, minutes: number) =>
      `After ${attempts} wrong PINs, payments from your wallet are locked for ${minutes} minutes. This stops someone guessing your PIN.`,
    lostTitle: "Lost your phone or think someone knows your PIN?",
    lost: "Contact us at once: we can put your account on hold so no money leaves it. Your money stays yours. Forgot your PIN? Reset it in the app.",
    scamTitle: "Common scams",
    scams: [
      "Someone says they sent you money by mistake and asks you to send it back. Check your balance first: a real mistake can be fixed by us.",
      "Someone says they are from Keshless and asks for your PIN or code. We never do.",
      "A message says you won a prize and must pay a fee first. Keshless runs no such prizes.",
    ],
  },

  privacy: {
    title: "Privacy — Keshless",
    description: "What personal data Keshless keeps, why, who can see it and how long it is kept.",
    h1: "Your privacy",
    lead: "We keep only what we need to run your wallet and what the law asks of a mobile-money provider.",
    whatTitle: "What we keep",
    what: [
      "Your phone number, and your name once you give it.",
      "Your transactions: amounts, dates, who paid whom.",
      "If you verify your ID: the photos you add, your ID number and date of birth.",
      "A hash of your PIN — never the PIN itself.",
      "For vendors: business details and the devices you trust.",
    ],
    whyTitle: "Why",
    why: [
      "To move your money and show you your history.",
      "To check who our customers are, as the law asks, and to compare names with the United Nations sanctions list.",
      "To watch for fraud and money laundering, and to report it to the authorities when the law requires.",
      "To send you codes and receipts by SMS or WhatsApp.",
    ],
    whoTitle: "Who can see it",
    who: (minutes: number) => [
      "Only Keshless staff whose job needs it. Each person sees only what their role allows, and every change they make is recorded.",
      `Your ID photos are never public. Staff open them through a link that expires within ${minutes} minutes.`,
      "We share data with the companies that carry our messages and check IDs for us, only for that work, and with the authorities when the law requires.",
      "We never sell your data.",
    ],
    keepTitle: "How long we keep it",
    keep: (days: number, rejectedYears: number) => [
      "Money records are kept for good: the law requires a full history.",
      `Messages we send you are deleted after ${days} days.`,
      `If an ID check is refused, its documents are deleted after ${rejectedYears} years.`,
    ],
    siteTitle: "This website",
    site: "This website uses no cookies, no trackers and no outside scripts. It does not know who you are.",
    rightsTitle: "Your rights",
    rights: "You can ask to see the data we keep about you, and ask us to correct it. Contact us:",
  },

  terms: {
    title: "Terms of use — Keshless",
    description:
      "The terms of the Keshless wallet in plain words: who can use it, your PIN, fees, limits and mistakes.",
    h1: "Terms of use",
    lead: "The main terms of your Keshless wallet, in plain words. By joining you accept them.",
    sections: [
      {
        h: "Who can use Keshless",
        p: "Anyone with an Eswatini mobile number. One wallet per phone number. Your money is held in Emalangeni (SZL).",
      },
      {
        h: "Your PIN",
        p: "Keep your PIN secret. A payment confirmed with your PIN is treated as yours. Tell us at once if someone else may know it.",
      },
      {
        h: "Fees and limits",
        p: "The fees and limits on our fees page apply. The fee is shown before you confirm every transaction.",
      },
      {
        h: "Mistakes",
        p: "A confirmed payment cannot be cancelled by you. If you paid the wrong person or amount, contact us: a reversal is checked and approved by two of our staff.",
      },
      {
        h: "When we may hold an account",
        p: "We may put an account on hold while we look into fraud, money laundering or a match with the sanctions list, as the law requires. The money stays yours.",
      },
      {
        h: "Closing your wallet",
        p: "You can ask us to close your wallet at any time. Withdraw your balance first, or ask us to help you move it.",
      },
      {
        h: "Changes",
        p: "We tell you before these terms change. The terms on this page are the ones that apply.",
      },
    ],
  },

  contact: {
    title: "Contact Keshless",
    description: "How to reach Keshless support, for customers and vendors.",
    h1: "Contact us",
    lead: "We are here to help with your wallet, a payment, or joining as a vendor.",
    emailTitle: "Email",
    emailText: "Write to us at",
    ussdTitle: "On your phone",
    ussd: (code: string, digit: string, label: string) => `Dial ${code} and type ${digit} (${label}).`,
    appTitle: "In the app",
    app: "Open Help in the Keshless app.",
    neverTitle: "Remember",
    never: "We will never ask for your PIN or your sign-in code.",
  },

  notFound: {
    title: "Page not found — Keshless",
    description: "This page does not exist.",
    h1: "Page not found",
    text: "This page does not exist. Go to the home page:",
  },
};

export type Copy = typeof en;
