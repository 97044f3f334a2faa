import type { FeeRule } from "../../src/config";
import type { Copy } from "./copy/en";
import { emalangeni, type Facts, FEE_EXAMPLES, FEE_TYPES, type FeeType, percent } from "./facts";
import { type Content, escapeHtml, Html, html } from "./html";
import { type Lang, type PageShell, pathOf, type Slug } from "./layout";
import { mainMenu, menuOption, navLine, ussdFlows } from "./ussd";

/**
 * The pages' markup, shared by every language: the copy gives the words, the facts the figures. Every figure taken
 * from the configuration is a <data value="…" data-fact="…"> element, so the tests can compare what a page says with
 * the configuration it was built from.
 */

export interface SiteSettings {
  /** Where people write to us (support and vendors). */
  email: string;
}

interface Ctx {
  lang: Lang;
  t: Copy;
  facts: Facts;
  site: SiteSettings;
}

/** An amount of money from the configuration. */
const money = (name: string, cents: number) =>
  html`<data value="${cents}" data-fact="${name}">${emalangeni(cents)}</data>`;

/**
 * Calls a copy function with placeholders, escapes its text, then puts the markup in: the words stay plain
 * strings in the copy files and the figures keep their <data> elements.
 */
function fill<A extends unknown[]>(fn: (...args: A) => string, ...parts: Html[]): Html {
  const marks = parts.map((_, i) => `\u0001${i}\u0001`);
  let out = escapeHtml(fn(...(marks as unknown as A)));
  parts.forEach((part, i) => {
    out = out.replace(marks[i]!, part.value);
  });
  return new Html(out);
}

const list = (items: Content[]) => html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`;
const steps = (items: Content[]) => html`<ol>${items.map((i) => html`<li>${i}</li>`)}</ol>`;
const code = (text: string) => html`<strong class="code">${text}</strong>`;
const dialCode = (ctx: Ctx) => code(ctx.facts.config.ussd.code);
const mail = (ctx: Ctx) => html`<a href="mailto:${ctx.site.email}">${ctx.site.email}</a>`;

function describeFee(t: Copy, type: FeeType, rule: FeeRule): Html {
  const base: Html[] = [];
  if (rule.flat > 0) base.push(money(`fees.${type}.flat`, rule.flat));
  if (rule.bps > 0)
    base.push(
      fill(t.fees.percentOf, html`<data value="${rule.bps}" data-fact="fees.${type}.bps">${percent(rule.bps)}</data>`),
    );
  if (rule.flat === 0 && rule.bps === 0 && rule.min === 0) return html`${t.fees.free}`;
  const bounds: Html[] = [];
  if (rule.min > 0 && (rule.bps > 0 || rule.flat > 0))
    bounds.push(fill(t.fees.atLeast, money(`fees.${type}.min`, rule.min)));
  if (rule.min > 0 && rule.bps === 0 && rule.flat === 0) base.push(money(`fees.${type}.min`, rule.min));
  if (rule.max !== null && rule.bps > 0) bounds.push(fill(t.fees.atMost, money(`fees.${type}.max`, rule.max)));
  const joined = base.map((b) => b.value).join(` ${escapeHtml(t.fees.plus)} `);
  return new Html(bounds.length ? `${joined} (${bounds.map((b) => b.value).join(", ")})` : joined);
}

const isFree = (rule: FeeRule) => rule.flat === 0 && rule.bps === 0 && rule.min === 0;

function home(ctx: Ctx): PageShell {
  const { t } = ctx;
  const code = ctx.facts.config.ussd.code;
  const more: { slug: Slug; text: string }[] = [
    { slug: "pay", text: t.home.more.pay },
    { slug: "fees", text: t.home.more.fees },
    { slug: "vendors", text: t.home.more.vendors },
    { slug: "safety", text: t.home.more.safety },
  ];
  return {
    lang: ctx.lang,
    slug: "",
    title: t.home.title,
    description: t.home.description(code),
    body: html`<h1>${t.home.h1}</h1>
<p class="lead">${fill(t.home.lead, dialCode(ctx))}</p>
<section aria-labelledby="what"><h2 id="what">${t.home.whatTitle}</h2>${list(t.home.what)}</section>
<section aria-labelledby="start"><h2 id="start">${t.home.startTitle}</h2>${steps(t.home.start(code).map((s) => fillCode(s, code)))}</section>
<section aria-labelledby="more"><h2 id="more">${t.home.moreTitle}</h2>
<ul class="cards">${more.map((m) => html`<li><a href="${pathOf(ctx.lang, m.slug)}">${m.text}</a></li>`)}</ul></section>`,
  };
}

/** Marks the dial code wherever a sentence mentions it. */
function fillCode(sentence: string, code: string): Html {
  return new Html(
    escapeHtml(sentence)
      .split(escapeHtml(code))
      .join(`<strong class="code">${escapeHtml(code)}</strong>`),
  );
}

function pay(ctx: Ctx): PageShell {
  const { t, facts, lang } = ctx;
  const p = t.pay;
  const code = facts.config.ussd.code;
  const flows = ussdFlows(lang, t, facts);
  const screen = (text: string) => html`<pre class="screen"><samp>${text}</samp></pre>`;
  const flowHtml = flows.map(
    (f) => html`<section aria-labelledby="ussd-${f.id}"><h3 id="ussd-${f.id}">${p.flows[f.id]}</h3>
${f.id === "join" ? html`<p>${p.joinIntro}</p>` : ""}
<ol class="flow">${f.steps.map((s) => html`<li><p>${fillCode(s.action, code)}</p>${screen(s.screen)}</li>`)}</ol>
${["send", "pay", "airtime", "withdraw"].includes(f.id) ? html`<p>${p.smsNote}</p>` : ""}</section>`,
  );
  const join = flowHtml[0];
  return {
    lang,
    slug: "pay",
    title: p.title,
    description: p.description(code),
    body: html`<h1>${p.h1}</h1>
<p class="lead">${fill(p.lead, dialCode(ctx))}</p>
<section aria-labelledby="app"><h2 id="app">${p.appTitle}</h2>${steps(p.appSteps)}<p>${p.appMore}</p></section>
<section aria-labelledby="ussd"><h2 id="ussd">${p.ussdTitle}</h2>
<p>${fill(p.ussdLead, dialCode(ctx))}</p>
${join}
<section aria-labelledby="ussd-menu"><h3 id="ussd-menu">${p.flows.menu}</h3>
<p>${fill(p.menuIntro, dialCode(ctx))}</p>${screen(mainMenu(lang, facts))}
<p>${p.ussdNav(navLine(lang))}</p>
<p>${p.ussdTimeout(Math.round(facts.config.ussd.sessionTtl / 60))}</p></section>
${flowHtml.slice(1)}
</section>`,
  };
}

function fees(ctx: Ctx): PageShell {
  const { t, facts } = ctx;
  const f = t.fees;
  const rows = FEE_TYPES.map((type) => {
    const rule = facts.fees[type];
    const examples = isFree(rule)
      ? ""
      : html`<ul class="plain">${FEE_EXAMPLES.map(
          (amount) =>
            html`<li>${fill(f.exampleLine, new Html(escapeHtml(emalangeni(amount))), money(`fee.${type}.${amount}`, facts.fee(type, amount)))}</li>`,
        )}</ul>`;
    // Three columns, the examples under the fee: the table fits a phone without scrolling sideways.
    return html`<tr><th scope="row">${f.feeTypes[type]}</th><td>${describeFee(t, type, rule)}${
      examples ? html`<span class="vh"> — ${f.examples}:</span>${examples}` : ""
    }</td><td>${isFree(rule) ? "" : rule.bearer === "sender" ? f.sender : f.receiver}</td></tr>`;
  });
  const limitKeys = ["perTransaction", "daily", "monthly", "maxBalance"] as const;
  // One row per limit, one column per tier: as many columns as tiers, each header short.
  const limitRows = limitKeys.map(
    (k) =>
      html`<tr><th scope="row">${f[k]}</th>${facts.tiers.map(
        (tier) => html`<td>${money(`limits.${tier.tier}.${k}`, tier[k])}</td>`,
      )}</tr>`,
  );
  const tierList = facts.tiers.map((tier) => f.tierNames[tier.tier] ?? f.tierName(tier.tier));
  const { airtime, withdrawals, cards, maxAmount } = facts.config;
  return {
    lang: ctx.lang,
    slug: "fees",
    title: f.title,
    description: f.description,
    body: html`<h1>${f.h1}</h1>
<p class="lead">${f.lead}</p>
<section aria-labelledby="fees"><h2 id="fees">${f.feesTitle}</h2>
<div class="scroll" role="region" aria-labelledby="fees-caption" tabindex="0"><table>
<caption id="fees-caption">${f.feesCaption}</caption>
<thead><tr><th scope="col">${f.type}</th><th scope="col">${f.fee}</th><th scope="col">${f.whoPays}</th></tr></thead>
<tbody>${rows}</tbody></table></div>
<p>${cards.fee > 0 ? fill(f.card, money("cards.fee", cards.fee)) : f.cardFree}</p></section>
<section aria-labelledby="limits"><h2 id="limits">${f.limitsTitle}</h2>
<p>${f.limitsLead}</p>${list(tierList)}
<div class="scroll" role="region" aria-labelledby="limits-caption" tabindex="0"><table>
<caption id="limits-caption">${f.limitsCaption}</caption>
<thead><tr><td></td>${facts.tiers.map((tier) => html`<th scope="col">${f.tierName(tier.tier)}</th>`)}</tr></thead>
<tbody>${limitRows}</tbody></table></div>
<h3>${f.tierHowTitle}</h3>${list(f.tierHow)}</section>
<section aria-labelledby="other"><h2 id="other">${f.otherTitle}</h2>
${list([
  fill(f.maxAmount, money("maxAmount", maxAmount)),
  fill(f.airtime, money("airtime.min", airtime.minAmount), money("airtime.max", airtime.maxAmount)),
  fill(f.withdrawalApproval, money("withdrawals.autoApproveMax", withdrawals.autoApproveMax)),
])}
<p>${f.changeNote}</p></section>`,
  };
}

function vendors(ctx: Ctx): PageShell {
  const { t, facts } = ctx;
  const v = t.vendors;
  const payment = facts.fees.payment;
  const withdrawal = facts.fees.withdrawal;
  const paymentFee = describeFee(t, "payment", payment);
  return {
    lang: ctx.lang,
    slug: "vendors",
    title: v.title,
    description: v.description,
    body: html`<h1>${v.h1}</h1>
<p class="lead">${v.lead}</p>
<section aria-labelledby="get"><h2 id="get">${v.getTitle}</h2>${list(v.get(Math.round(facts.config.paymentRequestTtl / 3600)))}</section>
<section aria-labelledby="cost"><h2 id="cost">${v.feeTitle}</h2>
<p>${payment.bearer === "sender" || isFree(payment) ? fill(v.feeSender, paymentFee) : fill(v.feeReceiver, paymentFee)}</p>
${isFree(withdrawal) ? "" : html`<p>${fill(v.withdrawalFee, describeFee(t, "withdrawal", withdrawal))}</p>`}
<h3>${v.banksTitle}</h3>${list(Object.values(facts.config.withdrawals.banks))}</section>
<section aria-labelledby="join"><h2 id="join">${v.joinTitle}</h2>${steps(v.join)}
<p>${v.joinContact} ${mail(ctx)}</p></section>`,
  };
}

function safety(ctx: Ctx): PageShell {
  const { t, facts } = ctx;
  const s = t.safety;
  return {
    lang: ctx.lang,
    slug: "safety",
    title: s.title,
    description: s.description,
    body: html`<h1>${s.h1}</h1>
<section aria-labelledby="pin" class="callout"><h2 id="pin">${s.pinTitle}</h2>${list(s.pin)}</section>
<section aria-labelledby="check"><h2 id="check">${s.checkTitle}</h2>${list(s.check)}</section>
<section aria-labelledby="lock"><h2 id="lock">${s.lockTitle}</h2>
<p>${s.lock(facts.config.auth.pinMaxAttempts, Math.round(facts.config.auth.pinLock / 60))}</p></section>
<section aria-labelledby="lost"><h2 id="lost">${s.lostTitle}</h2><p>${s.lost}</p><p>${mail(ctx)}</p></section>
<section aria-labelledby="scams"><h2 id="scams">${s.scamTitle}</h2>${list(s.scams)}</section>`,
  };
}

function privacy(ctx: Ctx): PageShell {
  const { t, facts } = ctx;
  const p = t.privacy;
  return {
    lang: ctx.lang,
    slug: "privacy",
    title: p.title,
    description: p.description,
    body: html`<h1>${p.h1}</h1>
<p class="lead">${p.lead}</p>
<section aria-labelledby="what"><h2 id="what">${p.whatTitle}</h2>${list(p.what)}</section>
<section aria-labelledby="why"><h2 id="why">${p.whyTitle}</h2>${list(p.why)}</section>
<section aria-labelledby="who"><h2 id="who">${p.whoTitle}</h2>${list(p.who(Math.ceil(facts.config.kyc.readTtlSeconds / 60)))}</section>
<section aria-labelledby="keep"><h2 id="keep">${p.keepTitle}</h2>${list(
      p.keep(facts.config.retention.days, Math.round(facts.config.kyc.rejectedRetentionDays / 365)),
    )}</section>
<section aria-labelledby="site"><h2 id="site">${p.siteTitle}</h2><p>${p.site}</p></section>
<section aria-labelledby="rights"><h2 id="rights">${p.rightsTitle}</h2><p>${p.rights} ${mail(ctx)}</p></section>`,
  };
}

function terms(ctx: Ctx): PageShell {
  const { t } = ctx;
  return {
    lang: ctx.lang,
    slug: "terms",
    title: t.terms.title,
    description: t.terms.description,
    body: html`<h1>${t.terms.h1}</h1>
<p class="lead">${t.terms.lead}</p>
${t.terms.sections.map(
  (s, i) => html`<section aria-labelledby="t${i}"><h2 id="t${i}">${s.h}</h2><p>${s.p}</p></section>`,
)}
<p><a href="${pathOf(ctx.lang, "fees")}">${t.nav.fees}</a> · <a href="${pathOf(ctx.lang, "contact")}">${t.nav.contact}</a></p>`,
  };
}

function contact(ctx: Ctx): PageShell {
  const { t, facts, lang } = ctx;
  const c = t.contact;
  const help = menuOption(lang, "help");
  return {
    lang,
    slug: "contact",
    title: c.title,
    description: c.description,
    body: html`<h1>${c.h1}</h1>
<p class="lead">${c.lead}</p>
<section aria-labelledby="email"><h2 id="email">${c.emailTitle}</h2><p>${c.emailText} ${mail(ctx)}</p></section>
<section aria-labelledby="phone"><h2 id="phone">${c.ussdTitle}</h2><p>${fillCode(c.ussd(facts.config.ussd.code, help.digit, help.label), facts.config.ussd.code)}</p></section>
<section aria-labelledby="inapp"><h2 id="inapp">${c.appTitle}</h2><p>${c.app}</p></section>
<section aria-labelledby="never" class="callout"><h2 id="never">${c.neverTitle}</h2><p>${c.never}</p></section>`,
  };
}

const PAGES: Record<Slug, (ctx: Ctx) => PageShell> = {
  "": home,
  pay,
  fees,
  vendors,
  safety,
  privacy,
  terms,
  contact,
};

export function page(slug: Slug, ctx: Ctx): PageShell {
  return PAGES[slug](ctx);
}

export function notFound(ctx: Ctx): PageShell {
  const n = ctx.t.notFound;
  return {
    lang: ctx.lang,
    slug: null,
    title: n.title,
    description: n.description,
    body: html`<h1>${n.h1}</h1><p>${n.text} <a href="${pathOf(ctx.lang, "")}">keshless.com</a></p>`,
  };
}

export type { Ctx as PageContext };
