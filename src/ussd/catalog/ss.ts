import type { Catalog } from "./en";

/**
 * siSwati. Same keys as English (the type says so). Written for this release without a native
 * speaker's review: have one read it before launch.
 */
export const ss: Catalog = {
  nav: "0 Emuva 00 Ekhaya",

  screen: {
    language: "Choose language / Khetsa lulwimi\n1. English\n2. siSwati",
    welcome: (terms: string) =>
      `Wemukelekile ku-Keshless! Khokha, tfumela imali, tsenga i-airtime kunoma yiphi ifoni.\nTimo: ${terms}\n1. Ngiyavuma\n2. Cha`,
    choosePin: "Khetsa i-PIN yetinombolo leti-4 kuya ku-6. Ungayitjeli muntfu.",
    confirmPin: "Faka leyo PIN futsi.",
    main: "Keshless\n1. Bona imali\n2. Tfumela imali\n3. Khokhela umtsengisi\n4. Tsenga i-airtime\n5. Umlandvo\n6. Khipha imali\n7. Shintja i-PIN\n8. Lulwimi\n9. Lusito",
    balancePin: "Faka i-PIN yakho kute ubone imali yakho.",
    sendPhone: "Tfumela imali\nFaka inombolo yelucingo yalomuntfu.",
    sendAmount: (to: string) => `Tfumela ku-${to}\nFaka linani nge-E (sib. 50).`,
    sendConfirm: (p: { amount: string; fee: string; to: string }) =>
      `Tfumela ${p.amount} ku-${p.to}. Inkokhelo ${p.fee}.\nFaka i-PIN yakho kute uvume.`,
    payCode: "Khokhela umtsengisi\nFaka ikhodi yemtsengisi.",
    payAmount: (vendor: string) => `Khokhela ${vendor}\nFaka linani nge-E (sib. 50).`,
    payConfirm: (p: { amount: string; fee: string; vendor: string }) =>
      `Khokha ${p.amount} ku-${p.vendor}. Inkokhelo ${p.fee}.\nFaka i-PIN yakho kute uvume.`,
    airtimeTarget: "Tsenga i-airtime ye\n1. Inombolo yami\n2. Lenye inombolo",
    airtimePhone: "Faka inombolo lofuna kuyitsengela i-airtime.",
    airtimeAmount: (to: string) => `I-airtime ya-${to}\nFaka linani nge-E (sib. 10).`,
    airtimeConfirm: (p: { amount: string; fee: string; to: string }) =>
      `Tsenga i-airtime ye-${p.amount} ya-${p.to}. Inkokhelo ${p.fee}.\nFaka i-PIN yakho kute uvume.`,
    withdrawAgent: "Khipha imali ku-ejenti\nFaka ikhodi ye-ejenti.",
    withdrawAmount: (agent: string) => `Khipha ku-ejenti ${agent}\nFaka linani nge-E (sib. 100).`,
    withdrawConfirm: (p: { amount: string; fee: string; agent: string }) =>
      `Khipha ${p.amount} ku-ejenti ${p.agent}. Inkokhelo ${p.fee}.\nFaka i-PIN yakho kute uvume.`,
    statementPin: "Faka i-PIN yakho kute ubone lokuhlanu lokugcine kwenteka.",
    currentPin: "Shintja i-PIN\nFaka i-PIN yakho yanyalo.",
    newPin: "Faka i-PIN lensha yetinombolo leti-4 kuya ku-6.",
    confirmNewPin: "Faka i-PIN lensha futsi.",
    help: "Lusito lwe-Keshless\nUngayitjeli muntfu i-PIN yakho: tisebenti te-Keshless atisoze tayibuta. Uyikhohliwe? Yishintje ku-app ye-Keshless.",
  },

  error: {
    choice: "Lokukhetsile akulungi.",
    amount: "Leli akusilo linani. Sebentisa tinombolo, sib. 50 nobe 12.50.",
    tooMuch: (max: string) => `Lokukhulu longakutfumela kanye ngu-${max}.`,
    amountRange: (p: { min: string; max: string }) => `Faka linani lelisuka ku-${p.min} kuya ku-${p.max}.`,
    phone: "Lena akusiyo inombolo yeselula yaseSwatini.",
    pinFormat: "I-PIN inetinombolo leti-4 kuya ku-6.",
    wrongPin: (tries: number) => `I-PIN ayilungi. Kusele kwetama lokungu-${tries}.`,
    pinMismatch: "Ti-PIN atifanani. Cala kabusha.",
    weakPin: "Leyo PIN ilula kakhulu kuyicagela.",
    noWallet: "Leyo nombolo ayikabi ne-wallet ye-Keshless.",
    self: "Awukwati kutitfumelela imali.",
    recipientUnavailable: "Leyo wallet ayikwati kwamukela imali nyalo.",
    unknownVendor: "Akekho umtsengisi lonaleyo khodi.",
    vendorUnavailable: "Lomtsengisi akakwati kwamukela imali nyalo.",
    network: "I-airtime itsengiselwa tinombolo te-MTN ne-Eswatini Mobile kuphela.",
    agent: "Leyo akusiyo ikhodi ye-ejenti.",
  },

  end: {
    timedOut: "Sikhatsi sakho siphelile. Sicela ushaye futsi.",
    goodbye: "Siyabonga ngekusebentisa i-Keshless.",
    failed: "Siyacolisa, kukhona lokungakahambi kahle. Hlola ema-SMS akho ngaphambi kwekutsi uzame futsi.",
    notEswatini: "I-Keshless ngeyetinombolo teselula taseSwatini kuphela.",
    frozen: "I-akhawunti yakho ye-Keshless imisiwe. Sicela utsintsane ne-Keshless.",
    closed: "Le-akhawunti ye-Keshless ivaliwe.",
    pinLocked: (until: string) => `Ti-PIN letingalungi tinyenti. Kukhokha kuvaliwe kuze kube ngu-${until}.`,
    declined: "Kulungile. Shaya nanoma nini kute ujoyine i-Keshless.",
    registered: "I-wallet yakho ye-Keshless seyilungile. Shaya futsi kute ubone imali yakho nobe ukhokhe.",
    balance: (p: { balance: string; available: string; pending: string | null }) =>
      `Imali: ${p.balance}\nLengasetjentiswa: ${p.available}${p.pending ? `\nLebanjiwe: ${p.pending}` : ""}`,
    sent: (p: { amount: string; to: string; balance: string | null; ref: string }) =>
      `Utfumele ${p.amount} ku-${p.to}.${p.balance ? ` Imali lensha ${p.balance}.` : ""}\nRef ${p.ref}`,
    paid: (p: { amount: string; to: string; balance: string | null; ref: string }) =>
      `Ukhokhe ${p.amount} ku-${p.to}.${p.balance ? ` Imali lensha ${p.balance}.` : ""}\nRef ${p.ref}`,
    insufficient: (available: string) => `Imali ayenele. Lengasetjentiswa: ${available}.`,
    limit: (which: string) =>
      `Loku kwendlula umkhawulo wakho we-${which}. Qinisekisa i-ID yakho ku-app ye-Keshless kute uwukhulise.`,
    processing: "Sisasebenta ngesicelo sakho. Utawutfola i-SMS.",
    unavailable: "Loku angeke kwenteke nyalo. Akukhokhwanga lutfo.",
    statement: (lines: string) => `Lokugcine kwenteka\n${lines}`,
    statementEmpty: "Akukabi khona lokwentekile.",
    pinChanged: "I-PIN yakho ishintjiwe.",
    airtimeAccepted: (p: { amount: string; to: string }) =>
      `I-airtime ye-${p.amount} ya-${p.to} iyeta. Utawutfola i-SMS.`,
    withdrawAccepted: (amount: string) => `Sicelo sekukhipha ${amount} samukelekile. Utawutfola i-SMS.`,
    withdrawPending: (amount: string) =>
      `Sicelo sekukhipha ${amount} samukelekile, silindzele kuvunywa. Utawutfola i-SMS.`,
  },

  limitNames: {
    perTransaction: "kwentiwa ngakunye",
    daily: "lilanga",
    monthly: "inyanga",
    maxBalance: "imali lephelele",
    recipientMaxBalance: "imali yalowamukelako",
    other: "kusebentisa",
  },

  line: {
    payment: "Ukhokhile",
    transferOut: "Utfumele",
    transferIn: "Utfole",
    deposit: "Lifaka",
    withdrawal: "Ukhiphile",
    airtime: "Airtime",
    reversal: "Kubuyiselwa",
    fee: "Inkokhelo",
    card: "Likhadi",
    other: "Lokunye",
  },
};
