/**
 * Minimal, dependency-free HTML rendering for the pages the resource owner sees.
 *
 * - `escapeHtml` escapes the characters that matter in text and in quoted attribute values.
 * - `html` is a tagged template that escapes every interpolation unless it is `SafeHtml`, which
 *   only `html` itself and `raw()` (for trusted, constant markup) can create.
 * - `layout` wraps a body in the shared document and the one inline <style>, whose CSP hash is
 *   `STYLE_HASH`; `pageCsp` builds the matching Content-Security-Policy header value.
 *
 * Escaping makes a value safe in element content and in *quoted* attribute values. It does not
 * make a value safe as a URL (`javascript:`), in an unquoted attribute, or inside <script> or
 * <style>: templates here always quote attributes, and URLs go through `safeUrl`.
 */
import { createHash } from 'node:crypto';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: string): string {
  return String(value).replace(/[&<>"'`]/g, (char) => ESCAPES[char]!);
}

const SAFE_HTML_TOKEN = Symbol('SafeHtml');
let createSafeHtml: (markup: string) => SafeHtml;

/**
 * Markup that is already safe to emit as is. It cannot be constructed from outside this module
 * (the constructor checks a module-private token), only through `html` and `raw`.
 */
export class SafeHtml {
  readonly #markup: string;

  private constructor(markup: string, token: symbol) {
    if (token !== SAFE_HTML_TOKEN) throw new TypeError('SafeHtml is created only by html`...` or raw()');
    this.#markup = markup;
  }

  /** Brand check that a look-alike object (same prototype, forged fields) cannot pass. */
  static is(value: unknown): value is SafeHtml {
    return typeof value === 'object' && value !== null && #markup in value;
  }

  static {
    createSafeHtml = (markup) => new SafeHtml(markup, SAFE_HTML_TOKEN);
  }

  toString(): string {
    return this.#markup;
  }
}

/** A value that may be interpolated into `html`. `null`, `undefined` and `false` render nothing. */
export type HtmlValue = string | number | bigint | SafeHtml | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (SafeHtml.is(value)) return value.toString();
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint') {
    return escapeHtml(String(value));
  }
  throw new TypeError(`cannot interpolate a value of type ${typeof value} into html`);
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  // Only a real template literal has `raw`: refuses html([untrusted] as any) smuggling.
  if (!Array.isArray(strings) || !Array.isArray((strings as { raw?: unknown }).raw)) {
    throw new TypeError('html must be used as a tagged template');
  }
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return createSafeHtml(out);
}

/** Trusted markup, as is. Only for constants written in this code base, never for input. */
export function raw(markup: string): SafeHtml {
  return createSafeHtml(markup);
}

/**
 * A URL for an `href`/`action` attribute (still escaped by `html` afterwards). Refuses the
 * schemes that run code or smuggle content, after removing what browsers ignore when parsing.
 */
export function safeUrl(url: string): string {
  // eslint-disable-next-line no-control-regex
  const normalised = url.replace(/[\u0000-\u0020\u007f]/g, '').toLowerCase();
  if (/^(javascript|vbscript|data):/.test(normalised)) throw new TypeError('refusing a script or data URL');
  return url;
}

/** The one inline stylesheet; its hash is allowed by the CSP. Do not add `style=""` attributes. */
export const STYLE = `
:root{color-scheme:light dark;--bg:#f3f4f7;--bg-top:#e8ebf3;--card:#ffffff;--text:#1b1f27;--muted:#555e6b;--border:#dfe3ea;--field:#ffffff;--field-border:#858e9b;--subtle:#f5f6f9;--primary:#3451b2;--primary-hover:#2a4296;--on-primary:#ffffff;--focus:#3451b2;--ok:#1e7a46;--danger-bg:#fdf0ef;--danger-border:#f1b8b2;--danger-text:#8c1d13;--shadow:0 1px 2px rgba(20,28,45,.05),0 10px 30px -8px rgba(20,28,45,.14)}
@media (prefers-color-scheme:dark){:root{--bg:#0f1217;--bg-top:#161b26;--card:#181c24;--text:#e7eaf0;--muted:#a2aab7;--border:#2c323d;--field:#11151b;--field-border:#788291;--subtle:#1e232d;--primary:#8ea2ff;--primary-hover:#a9b8ff;--on-primary:#0d1433;--focus:#a9b8ff;--ok:#5fd08e;--danger-bg:#2c1716;--danger-border:#6e2b26;--danger-text:#ffb4ab;--shadow:0 1px 2px rgba(0,0,0,.3),0 10px 30px -8px rgba(0,0,0,.5)}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;min-height:100dvh;display:flex;flex-direction:column;align-items:center;justify-content:center;padding:2.5rem 1rem;background:linear-gradient(180deg,var(--bg-top),var(--bg) 22rem) var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","Liberation Sans",Arial,sans-serif;-webkit-font-smoothing:antialiased}
.shell{width:100%;max-width:27rem}
.brand{display:flex;align-items:center;justify-content:center;gap:.5rem;margin:0 0 1.25rem;color:var(--text);font-weight:650;font-size:1.0625rem;letter-spacing:.01em}
.brand svg{width:1.75rem;height:1.75rem;color:var(--primary)}
.brand img{height:2rem;width:auto;max-width:12rem}
.card{background:var(--card);border:1px solid var(--border);border-radius:16px;box-shadow:var(--shadow);padding:2rem 2rem 1.75rem}
.foot{margin:1.25rem 0 0;text-align:center;font-size:.8125rem;color:var(--muted)}
h1{margin:0 0 .5rem;font-size:1.375rem;line-height:1.3;font-weight:650;letter-spacing:-.01em;overflow-wrap:anywhere}
h2{margin:0 0 .625rem;font-size:.9375rem;font-weight:600}
p{margin:0 0 1rem}
.lead{color:var(--muted);margin-bottom:1.5rem}
.center{text-align:center}
strong{font-weight:650;overflow-wrap:anywhere}
code,.mono{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:.875em}
.field{margin:0 0 1.125rem}
label{display:block;margin:0 0 .375rem;font-weight:600;font-size:.9375rem}
input[type=text],input[type=password]{display:block;width:100%;min-height:2.875rem;margin:0;padding:.625rem .75rem;font:inherit;color:var(--text);background:var(--field);border:1px solid var(--field-border);border-radius:10px}
input[type=text]:hover,input[type=password]:hover{border-color:var(--text)}
input[aria-invalid=true]{border-color:var(--danger-text)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
input:focus-visible{outline-offset:1px;border-color:var(--focus)}
.btn{display:inline-flex;align-items:center;justify-content:center;min-height:2.875rem;margin:0;padding:.625rem 1.25rem;font:inherit;font-weight:600;line-height:1.2;text-align:center;border:1px solid transparent;border-radius:10px;cursor:pointer;transition:background-color .15s,border-color .15s}
.btn-primary{background:var(--primary);color:var(--on-primary)}
.btn-primary:hover{background:var(--primary-hover)}
.btn-secondary{background:var(--card);color:var(--text);border-color:var(--field-border)}
.btn-secondary:hover{background:var(--subtle)}
.btn-block{width:100%;margin-top:.5rem}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
.actions .btn{flex:1 1 0}
.alert{display:flex;gap:.625rem;align-items:flex-start;margin:0 0 1.25rem;padding:.75rem .875rem;font-size:.9375rem;color:var(--danger-text);background:var(--danger-bg);border:1px solid var(--danger-border);border-radius:10px;overflow-wrap:anywhere}
.alert svg{flex:none;width:1.25rem;height:1.25rem;margin-top:.0625rem}
.account{display:flex;align-items:center;gap:.75rem;margin:1.25rem 0 1.5rem;padding:.625rem .875rem;background:var(--subtle);border:1px solid var(--border);border-radius:12px;font-size:.9375rem}
.account .who{min-width:0;overflow-wrap:anywhere}
.account .label{display:block;color:var(--muted);font-size:.8125rem}
.avatar{flex:none;display:inline-flex;align-items:center;justify-content:center;width:2.25rem;height:2.25rem;border-radius:50%;background:var(--primary);color:var(--on-primary);font-weight:650}
.scopes{list-style:none;margin:0 0 1.25rem;padding:0;border:1px solid var(--border);border-radius:12px}
.scopes li{display:flex;gap:.75rem;align-items:flex-start;padding:.75rem .875rem;overflow-wrap:anywhere}
.scopes li+li{border-top:1px solid var(--border)}
.scopes svg{flex:none;width:1.25rem;height:1.25rem;margin-top:.125rem;color:var(--ok)}
.note{font-size:.875rem;color:var(--muted);margin:0;overflow-wrap:anywhere}
.icon-head{display:flex;justify-content:center;margin:0 0 1rem;color:var(--danger-text)}
.icon-head svg{width:2.5rem;height:2.5rem}
.icon-head.ok{color:var(--ok)}
.details{margin:1.25rem 0 0;padding:.875rem 1rem;background:var(--subtle);border:1px solid var(--border);border-radius:10px;font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:.8125rem;line-height:1.5}
.details dt{color:var(--muted);font-weight:600}
.details dd{margin:.125rem 0 .75rem;white-space:pre-wrap;overflow-wrap:anywhere}
.details dd:last-child{margin-bottom:0}
.compare{margin:1.25rem 0 0;font-size:.8125rem}
.compare-head{margin:0 0 .5rem;color:var(--muted)}
.compare table{width:100%;border-collapse:collapse;table-layout:fixed;background:var(--subtle);border:1px solid var(--border);border-radius:10px}
.compare th{width:6.5rem;padding:.5rem .75rem;text-align:left;vertical-align:top;color:var(--muted);font-weight:600}
.compare td{padding:.5rem .75rem .5rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
mark{color:var(--danger-text);background:var(--danger-bg);outline:1px solid var(--danger-border);border-radius:2px}
mark.end{display:inline-block;min-width:.5em}
.spinner{width:2.25rem;height:2.25rem;margin:.5rem auto 1.25rem;border:3px solid var(--border);border-top-color:var(--primary);border-radius:50%;animation:spin .9s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}
@media (prefers-reduced-motion:reduce){.spinner{animation-duration:3s}.btn{transition:none}}
@media (scripting:none){.spinner{display:none}}
.shell-wide{max-width:40rem}
[hidden]{display:none!important}
.section{margin:1.75rem 0 0;padding-top:1.25rem;border-top:1px solid var(--border)}
.items{list-style:none;margin:0 0 1rem;padding:0;border:1px solid var(--border);border-radius:12px}
.items li{display:flex;flex-wrap:wrap;gap:.5rem .75rem;align-items:center;justify-content:space-between;padding:.75rem .875rem}
.items li+li{border-top:1px solid var(--border)}
.items .what{min-width:0;flex:1 1 14rem;overflow-wrap:anywhere}
.items form{flex:none}
.meta{display:block;color:var(--muted);font-size:.8125rem}
.btn-small{min-height:2.25rem;padding:.375rem .875rem;font-size:.875rem}
.notice{margin:0 0 1.25rem;padding:.75rem .875rem;font-size:.9375rem;color:var(--ok);background:var(--subtle);border:1px solid var(--border);border-radius:10px;overflow-wrap:anywhere}
.tag{display:inline-block;margin-left:.375rem;padding:0 .375rem;font-size:.75rem;font-weight:600;color:var(--muted);border:1px solid var(--border);border-radius:6px}
.check{display:flex;gap:.5rem;align-items:center;font-weight:400}
.check input{width:1.125rem;height:1.125rem;margin:0}
.shell-console{max-width:72rem}
body:has(.shell-console){justify-content:flex-start}
.shell-console .note{margin-bottom:.75rem}
.shell-console a{color:var(--primary)}
.shell-console a.btn-primary{color:var(--on-primary)}
.shell-console a.btn-secondary{color:var(--text)}
.shell-console a.btn{text-decoration:none}
.console-top{display:flex;flex-wrap:wrap;gap:.75rem 1rem;align-items:center;justify-content:space-between;margin:0 0 1rem}
.console-nav{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem;margin:0;padding:0}
.console-nav a{display:inline-block;padding:.5rem .75rem;border-radius:8px;color:var(--text);text-decoration:none;font-weight:600;font-size:.9375rem}
.console-nav a:hover{background:var(--card)}
.console-nav a[aria-current=page]{background:var(--primary);color:var(--on-primary)}
.console-user{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0;font-size:.875rem}
.table{margin:0 0 1rem;border:1px solid var(--border);border-radius:12px;overflow:hidden}
table.data{width:100%;border-collapse:collapse;font-size:.9375rem}
table.data caption{padding:.625rem .875rem;text-align:left;font-weight:600;border-bottom:1px solid var(--border)}
table.data th,table.data td{padding:.5rem .875rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
table.data time,table.data .nowrap{white-space:nowrap}
table.data thead th{overflow-wrap:normal;background:var(--subtle);color:var(--muted);font-size:.8125rem;font-weight:600}
table.data tbody tr+tr td{border-top:1px solid var(--border)}
.counts{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem;list-style:none;margin:1rem 0 1.5rem;padding:0}
.counts a{display:block;padding:1rem;border:1px solid var(--border);border-radius:12px;text-decoration:none;color:var(--text)}
.counts a:hover{background:var(--subtle)}
.counts .n{display:block;font-size:1.75rem;font-weight:650;line-height:1.2}
.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:0 0 1.25rem}
.filters .field{flex:1 1 11rem;margin:0}
.row-actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0 0 1rem}
form.inline{display:inline;margin:0}
.crumbs{margin:0 0 .25rem;font-size:.875rem}
.pager{margin:0 0 1rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}
.facts dt{color:var(--muted);font-weight:600}
.facts dd{margin:0;overflow-wrap:anywhere}
.wrap{white-space:pre-wrap;overflow-wrap:anywhere}
fieldset{margin:0 0 1.125rem;padding:0;border:0}
legend{margin:0 0 .375rem;padding:0;font-weight:600;font-size:.9375rem}
input[type=email],input[type=url],input[type=search],input[type=datetime-local],select,textarea{display:block;width:100%;min-height:2.875rem;margin:0;padding:.625rem .75rem;font:inherit;color:var(--text);background:var(--field);border:1px solid var(--field-border);border-radius:10px}
textarea{min-height:5rem;resize:vertical}
.visually-hidden{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (max-width:40rem){table.data caption{display:block}table.data thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}table.data,table.data tbody,table.data tr,table.data td{display:block}table.data td{padding:.25rem .875rem}table.data tr{padding:.375rem 0}table.data tbody tr+tr{border-top:1px solid var(--border)}table.data tbody tr+tr td{border-top:0}table.data td::before{content:attr(data-label);display:block;color:var(--muted);font-size:.75rem;font-weight:600}.facts{grid-template-columns:1fr}}
@media (max-width:30rem){body{justify-content:flex-start;padding:1.5rem .75rem}.card{padding:1.5rem 1.25rem 1.25rem;border-radius:14px}}
@media (forced-colors:active){.btn,.card,.alert,.account,.scopes,.details,.compare table{border-color:CanvasText}mark{outline-color:CanvasText}.avatar{border:1px solid CanvasText}}
`;

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** CSP source (`'sha256-…'`) allowing the inline <style> that `layout` emits. */
export const STYLE_HASH = cspHash(STYLE);

/** CSP source (`'sha256-…'`) for an inline script with exactly this text. */
export function scriptHash(script: string): string {
  return cspHash(script);
}

const LANG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

const BRAND_ICON = raw(
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="M12 2.75 4.5 5.6v5.9c0 4.6 3.1 8.6 7.5 9.75 4.4-1.15 7.5-5.15 7.5-9.75V5.6L12 2.75Z"/><path d="m8.75 12 2.25 2.25 4.25-4.5"/></svg>',
);

/**
 * The HTML document every page shares (these pages and the demo's): the common head, with `head`
 * added to it, and in the `shell` container the brand header (`brand`) above `body`.
 */
export function htmlDocument(p: {
  lang: string;
  title: string;
  head: SafeHtml;
  shell: string;
  brand: SafeHtml;
  body: SafeHtml;
}): string {
  return html`<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${p.title}</title>
${p.head}
</head>
<body>
<div class="${p.shell}">
<header class="brand">${p.brand}</header>
${p.body}
</div>
</body>
</html>
`.toString();
}

/** What `layout` shows of the branding (src/ui/page-kit.ts); the default is Gatehouse's own. */
export interface LayoutBranding {
  productName: string;
  /** Validated at config load (src/ui/branding.ts logoUrlProblem): a same-origin path or a data: image. */
  logoUrl: string | null;
  /** The theme stylesheet, allowed by the CSP by its exact URL (see withStyleSource). */
  themeHref: string | null;
}

const DEFAULT_BRANDING: LayoutBranding = { productName: 'Gatehouse', logoUrl: null, themeHref: null };

/** The full HTML document: shared head, inline style, brand header and a card holding `body`. */
export function layout(p: {
  title: string;
  body: SafeHtml;
  lang?: string | undefined;
  branding?: LayoutBranding;
  /** A wider card (the account page's lists). */
  wide?: boolean;
}): string {
  const lang = p.lang !== undefined && LANG.test(p.lang) ? p.lang : 'en';
  const branding = p.branding ?? DEFAULT_BRANDING;
  // The logo is decorative: the product name beside it says the same (WCAG 1.1.1).
  const mark = branding.logoUrl === null ? BRAND_ICON : html`<img src="${branding.logoUrl}" alt="">`;
  return htmlDocument({
    lang,
    title: p.title,
    head: html`<style>${raw(STYLE)}</style>${
      branding.themeHref === null ? '' : html`\n<link rel="stylesheet" href="${safeUrl(branding.themeHref)}">`
    }`,
    shell: p.wide ? 'shell shell-wide' : 'shell',
    brand: html`${mark}<span>${branding.productName}</span>`,
    body: html`<main class="card">
${p.body}
</main>`,
  });
}

/**
 * `csp` with `source` added to its `style-src` (the theme stylesheet's exact URL, CSP3 §6.7.2.8:
 * a source with a path matches that file only), the narrowest change that lets it load.
 */
export function withStyleSource(csp: string, source: string): string {
  if (!CSP_SOURCE.test(source)) throw new TypeError(`not a CSP source expression: ${source}`);
  return csp
    .split('; ')
    .map((directive) => (directive.startsWith('style-src ') ? `${directive} ${source}` : directive))
    .join('; ');
}

// A CSP source expression: no whitespace, no `;` or `,` (they would end the directive or policy).
const CSP_SOURCE = /^[\x21-\x2b\x2d-\x3a\x3c-\x7e]+$/;
const CSP_HASH = /^'sha(?:256|384|512)-[A-Za-z0-9+/]+={0,2}'$/;

/**
 * The Content-Security-Policy header value for a page rendered with `layout`.
 *
 * `formAction`: extra sources for `form-action`. Browsers apply `form-action` to the redirects
 * that follow a form submission too, so a page whose POST is answered by a redirect to the
 * client (the consent page) must list that client's redirect URI (see `cspSourceForUrl`), and
 * the form post response page must list its target.
 */
export function pageCsp(extra: { scriptHashes?: string[]; formAction?: string[] } = {}): string {
  const scriptHashes = extra.scriptHashes ?? [];
  for (const hash of scriptHashes) {
    if (!CSP_HASH.test(hash)) throw new TypeError(`not a CSP hash source: ${hash}`);
  }
  const formAction = ["'self'"];
  for (const source of extra.formAction ?? []) {
    if (!CSP_SOURCE.test(source)) throw new TypeError(`not a CSP source expression: ${source}`);
    if (!formAction.includes(source)) formAction.push(source);
  }
  const directives = [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    "img-src 'self' data:",
    `form-action ${formAction.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ];
  if (scriptHashes.length > 0) directives.push(`script-src ${[...new Set(scriptHashes)].join(' ')}`);
  return directives.join('; ');
}

/**
 * The CSP source expression that covers navigations to `url`: its origin for http(s), else its
 * scheme (`com.example.app:`) for private-use URI schemes of native apps. CSP host sources cannot
 * express IPv6 literals, so `http://[::1]:port` gives the scheme only (`http:`).
 */
export function cspSourceForUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
    return parsed.hostname.startsWith('[') ? parsed.protocol : parsed.origin;
  }
  return parsed.protocol;
}
