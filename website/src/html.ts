import { escapeHtml } from "../../src/lib/html";

/**
 * A tagged template that escapes every interpolated value unless it is already markup, so copy can never
 * inject tags: html`<p>${text}</p>`. Arrays are joined; null, undefined and false render nothing.
 */
export class Html {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

export type Content = Html | string | number | null | undefined | false | Content[];

// The API's own: one escaper for everything Keshless writes as HTML (e-mails, these pages).
export { escapeHtml };

function render(value: Content): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Content[]): Html {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new Html(out);
}

/** Trusted markup written in the copy files (inline <strong>, <a>), passed through as is. */
export const raw = (markup: string) => new Html(markup);

export const join = (parts: Content[]) => new Html(render(parts));
