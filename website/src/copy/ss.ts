import type { Copy } from "./en";

/**
 * siSwati. Same keys as English (the type says so), in short, plain sentences, with the words the USSD menus
 * already use (src/ussd/catalog/ss.ts: tfumela, khokhela umtsengisi, inkokhelo, umkhawulo). Written without a
 * native speaker's review: have one read it, with the USSD catalog, before launch.
 */
export const ss: Copy = {
  lang: "ss",
  languageName: "siSwati",
  skip: "Yiya kulokucuketfwe",
  navLabel: "Imenyu",
  footerLabel: "Lokunye",
  brandTagline: "Imali yeselula yaseSwatini",

  nav: {
    home: "Ekhaya",
    pay: "Khokha utfumele",
    fees: "Tinkokhelo nemikhawulo",
    vendors: "Batsengisi",
    safety: "Kuphepha",
    privacy: "Imfihlo",
    terms: "Imibandzela",
    contact: "Tsintsana natsi",
  },

  home: {
    title: "Keshless — khokha futsi utfumele imali ngelucingo lwakho eSwatini",
    description: (code: string) =>
      `I-Keshless yi-wallet yemali yeselula yaseSwatini. Khokhela batsengisi, tfumela imali, tsenga i-airtime futsi ukhiphe imali nge-app nobe ngekushaya ${code}.`,
    h1: "Khokha futsi utfumele imali ngelucingo lwakho",
    lead: (code: string) =>
      `I-Keshless yi-wallet yemali yeselula yaseSwatini. Ungakhokhela batsengisi, utfumele imali ekhaya, utsenge i-airtime, futsi ukhiphe imali. Sebentisa i-app ye-Keshless, nobe ushaye ${code} kunoma yiphi ifoni.`,
    whatTitle: "Longakwenta",
    what: [
      "Khokhela umtsengisi ngekhodi yakhe.",
      "Tfumela imali kunoma yiphi inombolo yeselula yaseSwatini lene-wallet ye-Keshless.",
      "Tsenga i-airtime yenombolo yakho, nobe yalenye inombolo ye-MTN nobe ye-Eswatini Mobile.",
      "Khipha imali ku-ejenti, nobe uyise ku-akhawunti yakho yasebhange nge-app.",
      "Bona imali yakho nalokugcine kwenteka.",
    ],
    startTitle: "Cala ngemzuzu",
    start: (code: string) => [
      `Shaya ${code} bese ukhetsa lulwimi.`,
      "Vuma imibandzela bese ukhetsa i-PIN yetinombolo leti-4 kuya ku-6.",
      "I-wallet yakho seyilungile. Imali ingafakwa libhange nobe inkampani yemali yeselula lesebenta natsi, nobe itfunyelwe ngulomunye umsebentisi we-Keshless.",
    ],
    moreTitle: "Fundza kabanti",
    more: {
      pay: "Kukhokha nekutfumela, sinyatselo ngesinyatselo",
      fees: "Kubita malini nekutsi ungatfumela malini",
      vendors: "Yamukela tinkokhelo nge-Keshless",
      safety: "Gcina imali yakho iphephile",
    },
  },

  pay: {
    title: "Kukhokha nekutfumela imali — Keshless",
    description: (code: string) =>
      `Khokhela umtsengisi, tfumela imali, tsenga i-airtime futsi ukhiphe imali nge-app ye-Keshless nobe ngekushaya ${code}. Tikrini te-USSD, sinyatselo ngesinyatselo.`,
    h1: "Kukhokha nekutfumela imali",
    lead: (code: string) =>
      `Sebentisa i-app ye-Keshless kusmathifoni, nobe ushaye ${code} kunoma yiphi ifoni. Kokubili kusebentisa i-wallet yinye ne-PIN yinye.`,
    appTitle: "Nge-app",
    appSteps: [
      "Vula i-app bese ufaka inombolo yakho yelucingo. Sitakutfumelela ikhodi yetinombolo leti-6 nge-WhatsApp nobe nge-SMS.",
      "Faka ikhodi, bese ukhetsa i-PIN yetinombolo leti-4 kuya ku-6.",
      "Kute ukhokhele umtsengisi, faka ikhodi yemtsengisi (nobe ikhodi yekukhokha lakukhombisa yona) nelinani.",
      "Kute utfumele imali, faka inombolo yelucingo yalomuntfu nelinani.",
      "Hlola libito, linani nenkokhelo, bese ufaka i-PIN yakho kute uvume.",
    ],
    appMore:
      "Nge-app ungaphindze utsenge i-airtime, ukhiphe imali ku-akhawunti yasebhange nobe ku-ejenti, ubone konkhe lokwentekile, futsi uqinisekise i-ID yakho kute ukhulise imikhawulo yakho.",
    ussdTitle: "Nge-USSD, kunoma yiphi ifoni",
    ussdLead: (code: string) =>
      `Shaya ${code}. Awudzingi idatha nobe smathifoni. Lokubhalwe ngentasi nguloko lokuvela efonini yakho.`,
    ussdNav: (nav: string) =>
      `Kuso sonkhe sikrini ngemuva kwemenyu: “${nav}”. Faka 0 kute ubuyele emuva, 00 kute uye emenyu.`,
    ussdTimeout: (minutes: number) =>
      `Uma ungaphendvuli imizuzu lengu-${minutes}, sikhatsi siyaphela. Akukhokhwa lutfo ungakayifaki i-PIN yakho esikrinini sekugcina.`,
    screenLabel: "Sikrini sefoni",
    dial: (code: string) => `Shaya ${code}.`,
    type: (input: string) => `Faka ${input}.`,
    choose: (digit: string, label: string) => `Faka ${digit} (${label}).`,
    typePhone: (phone: string) => `Faka inombolo yelucingo, sibonelo ${phone}.`,
    typeCode: (code: string) => `Faka ikhodi yemtsengisi, sibonelo ${code}.`,
    typeAgent: (code: string) => `Faka ikhodi ye-ejenti, sibonelo ${code}.`,
    typeAmount: (amount: string) => `Faka linani, sibonelo ${amount}.`,
    typePin: "Faka i-PIN yakho. Kungabi khona lomunye loyibonako.",
    typeNewPin: "Faka i-PIN lensha yetinombolo leti-4 kuya ku-6.",
    typePinAgain: "Faka leyo PIN futsi.",
    result: "Ubona loku:",
    smsNote: "Utawutfola ne-SMS.",
    flows: {
      join: "Joyina i-Keshless",
      menu: "Imenyu lenkhulu",
      balance: "Bona imali yakho",
      send: "Tfumela imali",
      pay: "Khokhela umtsengisi",
      airtime: "Tsenga i-airtime",
      withdraw: "Khipha imali ku-ejenti",
      statement: "Bona lokugcine kwenteka",
      changePin: "Shintja i-PIN yakho",
    },
    menuIntro: (code: string) => `Nawusujoyinile, ${code} uvula imenyu lenkhulu. Faka inombolo yaloko lofuna kukwenta.`,
    joinIntro: "Kwekucala nawushaya, ukhetsa lulwimi, uvume imibandzela, bese ukhetsa i-PIN.",
    languageChoice: "Faka 1 kute ukhetse si-English, nobe 2 kute ukhetse siSwati.",
    acceptTerms: "Faka 1 kute uvume imibandzela.",
    example: {
      person: "Thandi",
      vendor: "Mbabane Market",
    },
  },

  fees: {
    title: "Tinkokhelo nemikhawulo — Keshless",
    description:
      "Kubita malini lokwentiwa ngakunye nge-Keshless, ngubani lokhokha inkokhelo, nekutsi ungatfumela malini ngelilanga nangenyanga.",
    h1: "Tinkokhelo nemikhawulo",
    lead: "Leti tinkokhelo nemikhawulo ye-Keshless. I-app netikrini te-USSD tihlala tikhombisa inkokhelo ngaphambi kwekutsi uvume.",
    feesTitle: "Tinkokhelo",
    feesCaption: "Inkokhelo yalokwentiwa ngakunye",
    type: "Lokwentiwako",
    fee: "Inkokhelo",
    whoPays: "Ngubani lokhokhako",
    examples: "Tibonelo",
    feeTypes: {
      payment: "Khokhela umtsengisi",
      transfer: "Tfumela imali kumuntfu",
      deposit: "Imali lefakwa libhange nobe inkampani",
      withdrawal: "Khipha imali (ku-ejenti nobe ebhange)",
      airtime: "Tsenga i-airtime",
    },
    free: "Mahhala",
    percentOf: (p: string) => `${p} welinani`,
    atLeast: (min: string) => `lokungenani ${min}`,
    atMost: (max: string) => `lokukhulu ${max}`,
    plus: "kanye na",
    sender: "Lokhokhako nobe lotfumelako",
    receiver: "Isuswa kuloko lokwamukelwako",
    exampleLine: (amount: string, fee: string) => `${amount} → inkokhelo ${fee}`,
    card: (fee: string) => `Likhadi le-Keshless libita ${fee}. Uyalikhokhela nasicelo sakho selikhadi sesivunyiwe.`,
    cardFree: "Likhadi le-Keshless limahhala.",
    limitsTitle: "Imikhawulo",
    limitsLead:
      "Imali longayitfumela incike elizingeni lakho. Qinisekisa i-ID yakho ku-app kute ukhuphukele elizingeni lelilandzelako. I-app ikhombisa imikhawulo yakho yanyalo.",
    limitsCaption: "Imikhawulo yelizinga ngalinye",
    tierNames: {
      "0": "Lizinga 0: inombolo yelucingo kuphela",
      "1": "Lizinga 1: i-ID ihloliwe",
      "2": "Lizinga 2: i-ID ne-selfie kuhloliwe",
    },
    tierName: (tier: string) => `Lizinga ${tier}`,
    perTransaction: "Kwentiwa ngakunye",
    daily: "Ngelilanga",
    monthly: "Ngenyanga",
    maxBalance: "Imali lenkhulu ku-wallet",
    tierHowTitle: "Kukhuphukela elizingeni lelilandzelako",
    tierHow: [
      "Lizinga 1: ku-app, faka sitfombe sangaphambili se-ID yakho, nobe se-passport yakho.",
      "Lizinga 2: faka ne-selfie. Siyayicatsanisa nesitfombe lesise-ID yakho.",
      "Kuhlola lokunyenti kuphela ngemizuzu lembalwa. Lokunye kuhlolwa tisebenti tetfu; sikutfumelela i-SMS nemphumela.",
    ],
    otherTitle: "Leminye imikhawulo",
    maxAmount: (max: string) => `Linani lelikhulu kakhulu lalokwentiwa kanye ngu-${max}.`,
    airtime: (min: string, max: string) => `I-airtime: kusuka ku-${min} kuya ku-${max} ngesikhatsi sinye.`,
    withdrawalApproval: (max: string) =>
      `Kukhipha imali lefika ku-${max} kwentiwa ngekushesha. Kukhipha lokukhulu kulindza kuhlolwa tisebenti tetfu; imali yakho iyabanjwa ngalesikhatsi.`,
    changeNote:
      "Tinkokhelo nemikhawulo kungashintja. Sitakwatisa ngaphambi kwekutsi inkokhelo ikhuphuke; i-app netikrini te-USSD tihlala tikhombisa inkokhelo lesebentako.",
  },

  vendors: {
    title: "Batsengisi — yamukela tinkokhelo nge-Keshless",
    description:
      "Batsengisi basemakethe, titolo nebashayeli betimoto bamukela tinkokhelo te-Keshless ngekhodi yemtsengisi, futsi bakhiphela imali ebhange.",
    h1: "Yamukela tinkokhelo nge-Keshless",
    lead: "Titolo, batsengisi basemakethe, bashayeli betimoto, nabo bonkhe labatsengisako, bangamukela tinkokhelo te-Keshless. Emakhasimende akho akhokha nge-app nobe kunoma yiphi ifoni.",
    getTitle: "Lotakutfola",
    get: (ttlHours: number) => [
      "Ikhodi yemtsengisi. Emakhasimende ayayifaka kute akukhokhele, nge-app nobe nge-USSD.",
      `Ticelo tekukhokha: faka linani ku-app yemtsengisi, bese ukhombisa likhasimende ikhodi yekukhokha. Isebenta ema-awa langu-${ttlHours}.`,
      "Imali yakho nato tonkhe tinkokhelo ku-app yemtsengisi, kuwo onkhe emafoni lowetsembako.",
      "Kukhipha imali uyise ku-akhawunti yakho yasebhange.",
    ],
    feeTitle: "Kukubita malini",
    feeSender: (fee: string) =>
      `Kwamukela inkokhelo akukubiti lutfo: likhasimende likhokha inkokhelo (${fee}). Wena utfola linani lonkhe.`,
    feeReceiver: (fee: string) => `Inkokhelo ye-${fee} isuswa kuyo yonkhe imali loyamukelako.`,
    withdrawalFee: (fee: string) => `Kukhipha imali ngakunye kubita ${fee}.`,
    banksTitle: "Emabhange longakhiphela kuwo imali",
    joinTitle: "Kujoyina",
    join: [
      "Tsintsana natsi (buka ngentasi) nelibito lebhizinisi lakho, inombolo yelucingo ne-email.",
      "Sitjele inombolo yekubhaliswa kwebhizinisi nelikheli, uma unako, nekutsi utsengisani.",
      "Sihlola imininingwane yakho, njengobe umtsetfo usho, bese sikuvulela i-akhawunti yemtsengisi.",
      "Utfola ikhodi yakho yemtsengisi, bese ungena ku-app yemtsengisi nge-email neliphasiwedi lakho.",
      "Kwekucala nawungena ngefoni, sitfumela ikhodi kunombolo yakho yelucingo kute leyo foni yetsembeke.",
    ],
    joinContact: "Sibhalele kute ube ngumtsengisi:",
  },

  safety: {
    title: "Kuphepha — gcina imali yakho ye-Keshless iphephile",
    description:
      "Ungayitjeli muntfu i-PIN yakho ye-Keshless. Kutivikela kubantjontji, nekutsi wentani uma ifoni yakho ilahlekile.",
    h1: "Gcina imali yakho iphephile",
    pinTitle: "Ungayitjeli muntfu i-PIN yakho",
    pin: [
      "I-PIN yakho ngeyakho wedvwa. Tisebenti te-Keshless atisoze tayibuta — nangelucingo, nange-SMS, nange-WhatsApp, nobe ubuso ngebuso.",
      "Ungamtjeli muntfu ikhodi yetinombolo leti-6 lesikutfumelela yona kute ungene. Loyibutako ufuna kuntjontja i-wallet yakho.",
      "Khetsa i-PIN lelukhuni kuyicagela: hhayi 1234, hhayi 0000, hhayi tinombolo tekugcina telucingo lwakho.",
      "Vala tinkinobho tefoni nawufaka i-PIN yakho.",
    ],
    checkTitle: "Hlola ngaphambi kwekutsi uvume",
    check: [
      "Sikrini sekugcina sikhombisa libito, linani nenkokhelo. Kufundze ngaphambi kwekutsi ufake i-PIN yakho.",
      "Khokhela kuphela batsengisi lobatiko, ngekhodi labakukhombisa yona.",
      "Uma akusiwe lowacala kukhokha, ungayifaki i-PIN yakho.",
    ],
    lockTitle: "Ti-PIN letingalungi",
    lock: (attempts: number, minutes: number) =>
      `Ngemuva kweti-PIN letingalungi letingu-${attempts}, kukhokha ku-wallet yakho kuyavalwa imizuzu lengu-${minutes}. Loku kuvimba umuntfu locagela i-PIN yakho.`,
    lostTitle: "Ulahlekelwe yifoni, nobe ucabanga kutsi lomunye uyayati i-PIN yakho?",
    lost: "Tsintsana natsi masinyane: singayimisa i-akhawunti yakho kute kungaphumi imali. Imali yakho ihlala iyakho. Uyikhohliwe i-PIN yakho? Yishintje ku-app.",
    scamTitle: "Bantjontji labajwayelekile",
    scams: [
      "Umuntfu utsi ukutfumelele imali ngelishwa, bese ukucela kutsi uyibuyise. Cala uhlole imali yakho: liphutsa leliliciniso singalilungisa tsine.",
      "Umuntfu utsi use-Keshless, bese ucela i-PIN yakho nobe ikhodi. Asisoze sakwenta loko.",
      "Umlayeto utsi uwine umklomelo, kodvwa kufanele ucale ukhokhe. I-Keshless ayinato timklomelo letinjalo.",
    ],
  },

  privacy: {
    title: "Imfihlo — Keshless",
    description:
      "Imininingwane yakho legcinwa yi-Keshless, kungani, ngubani longayibona, nekutsi igcinwa sikhatsi lesingakanani.",
    h1: "Imfihlo yakho",
    lead: "Sigcina kuphela loko lesikudzingako kute sisebentise i-wallet yakho, naloko umtsetfo lokufunako kulabo labanikela ngemali yeselula.",
    whatTitle: "Lesikugcinako",
    what: [
      "Inombolo yakho yelucingo, nelibito lakho nawusulinikile.",
      "Lokwentiwa ngu-wallet yakho: emanani, emalanga, nekutsi ngubani lokhokhele bani.",
      "Uma uqinisekisa i-ID yakho: titfombe lotifakako, inombolo ye-ID nelusuku lwekutalwa.",
      "I-PIN yakho igcinwa ifihliwe (hash): asiyigcini i-PIN ngekwayo.",
      "Kubatsengisi: imininingwane yebhizinisi nemafoni labawetsembako.",
    ],
    whyTitle: "Kungani",
    why: [
      "Kute sihambise imali yakho futsi sikukhombise umlandvo wakho.",
      "Kute sati kutsi emakhasimende etfu ngobani, njengobe umtsetfo usho, futsi sicatsanise emabito neluhlu lwe-United Nations lwalabajezisiwe.",
      "Kute sibheke kukhwabanisa nekugeza imali, futsi sikubike kubaphatsi uma umtsetfo ufuna.",
      "Kute sikutfumelele tikhodi nemarisidi nge-SMS nobe nge-WhatsApp.",
    ],
    whoTitle: "Ngubani longayibona",
    who: (minutes: number) => [
      "Tisebenti te-Keshless kuphela letiyidzingela umsebenti wato. Umuntfu ngamunye ubona kuphela loko lokuvunyelwe ngumsebenti wakhe, futsi konkhe labakushintjako kuyabhalwa.",
      `Titfombe te-ID yakho atisoze tabonwa ngumphakatsi. Tisebenti tivula ngelinki lephelelwa sikhatsi ngaphambi kwemizuzu lengu-${minutes}.`,
      "Sabelana ngemininingwane netinkampani letitfwala imilayeto yetfu naletihlola ema-ID, kuloyo msebenti kuphela, nebaphatsi uma umtsetfo ufuna.",
      "Asisoze sayitsengisa imininingwane yakho.",
    ],
    keepTitle: "Siyigcina sikhatsi lesingakanani",
    keep: (days: number, rejectedYears: number) => [
      "Imibhalo yemali igcinwa phakadze: umtsetfo ufuna umlandvo lophelele.",
      `Imilayeto lesikutfumelela yona iyesulwa ngemuva kwetinsuku letingu-${days}.`,
      `Uma kuhlolwa kwe-ID kwaliwa, imibhalo yako iyesulwa ngemuva kweminyaka lengu-${rejectedYears}.`,
    ],
    siteTitle: "Lewebhusayithi",
    site: "Lewebhusayithi ayisebentisi ema-cookie, ayikulandzeleli, futsi ayinato tinhlelo tangaphandle. Ayati kutsi ungubani.",
    rightsTitle: "Emalungelo akho",
    rights: "Ungacela kubona imininingwane lesiyigcinile ngawe, futsi ucele kutsi siyilungise. Tsintsana natsi:",
  },

  terms: {
    title: "Imibandzela yekusebentisa — Keshless",
    description:
      "Imibandzela ye-wallet ye-Keshless ngemagama lalula: ngubani longayisebentisa, i-PIN yakho, tinkokhelo, imikhawulo nemaphutsa.",
    h1: "Imibandzela yekusebentisa",
    lead: "Imibandzela lemikhulu ye-wallet yakho ye-Keshless, ngemagama lalula. Nawujoyina uyayivuma.",
    sections: [
      {
        h: "Ngubani longasebentisa i-Keshless",
        p: "Noma ngubani lonenombolo yeselula yaseSwatini. I-wallet yinye ngenombolo yinye. Imali yakho igcinwa nge-Emalangeni (SZL).",
      },
      {
        h: "I-PIN yakho",
        p: "Gcina i-PIN yakho iyimfihlo. Inkokhelo levunywe nge-PIN yakho itsatfwa njengeyakho. Sitjele masinyane uma lomunye angayati.",
      },
      {
        h: "Tinkokhelo nemikhawulo",
        p: "Kusebenta tinkokhelo nemikhawulo lesekhasini letfu letinkokhelo. Inkokhelo iyakhonjiswa ngaphambi kwekutsi uvume konkhe lokwentiwako.",
      },
      {
        h: "Emaphutsa",
        p: "Inkokhelo levunyiwe ungeke uyikhansele. Uma ukhokhele umuntfu lokungasiye nobe linani lelingakalungi, tsintsana natsi: kubuyiselwa kwemali kuhlolwa futsi kuvunywe tisebenti tetfu letimbili.",
      },
      {
        h: "Nasingayimisa i-akhawunti",
        p: "Singayimisa i-akhawunti sisahlola kukhwabanisa, kugeza imali, nobe libito lelifana nalelisoluhlu lwalabajezisiwe, njengobe umtsetfo usho. Imali ihlala iyakho.",
      },
      {
        h: "Kuvala i-wallet yakho",
        p: "Ungacela kutsi siyivale i-wallet yakho nanoma nini. Cala ukhiphe imali yakho, nobe usicele sikusite kuyihambisa.",
      },
      {
        h: "Lushintjo",
        p: "Sitakwatisa ngaphambi kwekutsi lemibandzela ishintje. Kusebenta imibandzela lekuleli khasi.",
      },
    ],
  },

  contact: {
    title: "Tsintsana ne-Keshless",
    description: "Kutsi ungayitfola njani i-Keshless kute ikusite: emakhasimende nebatsengisi.",
    h1: "Tsintsana natsi",
    lead: "Sikhona kute sikusite nge-wallet yakho, ngenkokhelo, nobe ngekujoyina njengemtsengisi.",
    emailTitle: "I-email",
    emailText: "Sibhalele ku",
    ussdTitle: "Efonini yakho",
    ussd: (code: string, digit: string, label: string) => `Shaya ${code} bese ufaka ${digit} (${label}).`,
    appTitle: "Ku-app",
    app: "Vula Lusito ku-app ye-Keshless.",
    neverTitle: "Khumbula",
    never: "Asisoze sakucela i-PIN yakho nobe ikhodi yekungena.",
  },

  notFound: {
    title: "Leli khasi alitfolakali — Keshless",
    description: "Leli khasi alikho.",
    h1: "Leli khasi alitfolakali",
    text: "Leli khasi alikho. Yiya ekhasini lekucala:",
  },
};
