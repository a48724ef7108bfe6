/**
 * What the page renderers share: the page's translator, its branded layout, and its card body
 * from the built-in markup or the operator's template for the page (src/ui/templates.ts).
 */
import { html, layout, type HtmlValue, type SafeHtml } from './html.js';
import { Translator } from './i18n.js';
import { DEFAULT_PAGE_KIT, type PageKit } from './page-kit.js';
import type { PageValues, TemplatePage } from './templates.js';

export interface PageFrame {
  t: Translator;
  kit: PageKit;
  lang: string | undefined;
}

export function frame(lang: string | undefined, kit: PageKit = DEFAULT_PAGE_KIT): PageFrame {
  return { t: new Translator(lang), kit, lang };
}

/** The card body: the template of `page` when the operator has one (with its documented values), else `builtIn`. */
export function cardBody<P extends TemplatePage>(
  f: PageFrame,
  page: P,
  builtIn: () => SafeHtml,
  values: () => PageValues<P>,
): SafeHtml {
  const template = f.kit.templates[page];
  if (template === undefined) return builtIn();
  const common: Record<string, HtmlValue> = {
    lang: f.t.language,
    product_name: f.kit.productName,
    home_url: f.kit.homeHref,
  };
  return template.render({ ...common, ...values() });
}

export function page(f: PageFrame, title: string, body: SafeHtml): string {
  return layoutFor(f, title, body);
}

/** `page` with layout options (the account page's wider card). */
export function layoutFor(f: PageFrame, title: string, body: SafeHtml, options: { wide?: boolean } = {}): string {
  return layout({ title, body, lang: f.lang, branding: f.kit, ...options });
}

/** The "Signed in as" box. */
export function accountBox(f: PageFrame, username: string): SafeHtml {
  const initial = (Array.from(username.trim())[0] ?? '?').toUpperCase();
  return html`<div class="account"><span class="avatar" aria-hidden="true">${initial}</span><span class="who"><span class="label">${f.t.t('account.signed_in_as')}</span><strong>${username}</strong></span></div>`;
}

/** Hidden form inputs, name → value. */
export function hiddenInputs(fields: Record<string, string>): SafeHtml {
  return html`${Object.entries(fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}`;
}
