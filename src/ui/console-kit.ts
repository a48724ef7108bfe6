/**
 * The web console's page frame and building blocks (src/ui/console-pages.ts uses them): the
 * same document, stylesheet, CSP and branding as the login and account pages (src/ui/html.ts),
 * in a wider shell with a navigation bar. No JavaScript: links, forms and buttons only, every
 * input with a label, every POST with the console session's CSRF token. Tables turn into
 * labelled blocks below 40rem, so that nothing scrolls sideways at phone width.
 */
import { html, raw, safeUrl, STYLE, htmlDocument, type HtmlValue, type SafeHtml } from './html.js';
import type { MessageKey } from './i18n.js';
import type { PageFrame } from './page-parts.js';
import { hiddenInputs } from './page-parts.js';

export const CONSOLE_SECTIONS = ['dashboard', 'clients', 'users', 'resources', 'keys', 'sessions', 'audit'] as const;
export type ConsoleSection = (typeof CONSOLE_SECTIONS)[number];

/** What every console page knows: where the console is, who is signed in, the CSRF token. */
export interface ConsoleFrame {
  f: PageFrame;
  /** The console's path (`<issuer path>/console`). */
  base: string;
  csrfToken: string;
  username: string;
  section: ConsoleSection;
}

const SECTION_TEXT: Record<ConsoleSection, MessageKey> = {
  dashboard: 'console.nav_dashboard',
  clients: 'console.nav_clients',
  users: 'console.nav_users',
  resources: 'console.nav_resources',
  keys: 'console.nav_keys',
  sessions: 'console.nav_sessions',
  audit: 'console.nav_audit',
};

export function sectionPath(base: string, section: ConsoleSection): string {
  return section === 'dashboard' ? base : `${base}/${section}`;
}

const BRAND_ICON = raw(
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="M12 2.75 4.5 5.6v5.9c0 4.6 3.1 8.6 7.5 9.75 4.4-1.15 7.5-5.15 7.5-9.75V5.6L12 2.75Z"/><path d="m8.75 12 2.25 2.25 4.25-4.5"/></svg>',
);

/** A whole console page: brand, navigation with the current section marked, the signed-in user, `body`. */
export function consolePage(c: ConsoleFrame, title: string, body: SafeHtml): string {
  const { t, kit } = c.f;
  const nav = CONSOLE_SECTIONS.map(
    (section) =>
      html`<li><a href="${safeUrl(sectionPath(c.base, section))}"${section === c.section ? raw(' aria-current="page"') : ''}>${t.t(SECTION_TEXT[section])}</a></li>`,
  );
  const mark = kit.logoUrl === null ? BRAND_ICON : html`<img src="${kit.logoUrl}" alt="">`;
  return htmlDocument({
    lang: c.f.t.language,
    title: `${title} · ${t.text('console.title', { product: kit.productName })}`,
    head: html`<style>${raw(STYLE)}</style>${
      kit.themeHref === null ? '' : html`\n<link rel="stylesheet" href="${safeUrl(kit.themeHref)}">`
    }`,
    shell: 'shell shell-console',
    brand: html`${mark}<span>${t.t('console.title', { product: kit.productName })}</span>`,
    body: html`<div class="console-top">
<nav aria-label="${t.text('console.nav_label')}"><ul class="console-nav">${nav}</ul></nav>
<form method="post" action="${safeUrl(`${c.base}/sign-out`)}" class="console-user">${hiddenInputs({ csrf_token: c.csrfToken })}<span>${t.t('console.signed_in_as', { user: html`<strong>${c.username}</strong>` })}</span>
<button type="submit" class="btn btn-secondary btn-small">${t.t('console.sign_out')}</button></form>
</div>
<main class="card" id="main">
${body}
</main>`,
  });
}

/** A page outside the signed-in console (refusals): the plain layout, with a way out. */
export function consoleMessagePage(f: PageFrame, title: string, message: SafeHtml, links: SafeHtml): string {
  return htmlDocument({
    lang: f.t.language,
    title: `${title} · ${f.t.text('console.title', { product: f.kit.productName })}`,
    head: html`<style>${raw(STYLE)}</style>`,
    shell: 'shell',
    brand: html`${f.kit.logoUrl === null ? BRAND_ICON : html`<img src="${f.kit.logoUrl}" alt="">`}<span>${f.t.t('console.title', { product: f.kit.productName })}</span>`,
    body: html`<main class="card"><h1>${title}</h1><p>${message}</p>${links}</main>`,
  });
}

/** `2026-12-05 14:03 UTC`, in a <time> element. */
export function when(ms: number | null): SafeHtml {
  if (ms === null) return html`–`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

/** A data table: column headings, then rows of cells; each cell also carries its heading for the narrow layout. */
export function dataTable(caption: SafeHtml, headings: string[], rows: HtmlValue[][], empty: SafeHtml): SafeHtml {
  if (rows.length === 0) return html`<p class="note">${empty}</p>`;
  return html`<div class="table"><table class="data"><caption>${caption}</caption>
<thead><tr>${headings.map((heading) => html`<th scope="col">${heading}</th>`)}</tr></thead>
<tbody>${rows.map(
    (row) => html`<tr>${row.map((cell, index) => html`<td data-label="${headings[index] ?? ''}">${cell}</td>`)}</tr>
`,
  )}</tbody></table></div>`;
}

/** A form POSTing to `action` with the CSRF token and `fields`, and one button. */
export function postButton(
  c: ConsoleFrame,
  action: string,
  label: SafeHtml | string,
  options: { fields?: Record<string, string>; ariaLabel?: string; primary?: boolean } = {},
): SafeHtml {
  const aria = options.ariaLabel !== undefined ? html` aria-label="${options.ariaLabel}"` : '';
  return html`<form method="post" action="${safeUrl(action)}" class="inline">${hiddenInputs({ csrf_token: c.csrfToken, ...options.fields })}<button type="submit" class="btn ${options.primary ? 'btn-primary' : 'btn-secondary'} btn-small"${aria}>${label}</button></form>`;
}

export interface InputOptions {
  type?: 'text' | 'email' | 'password' | 'url' | 'search' | 'datetime-local';
  value?: string | undefined;
  required?: boolean;
  hint?: SafeHtml | string;
  autocomplete?: string;
  invalid?: boolean;
}

/** A labelled input (the label names it for assistive technology; a hint is tied by aria-describedby). */
export function inputField(name: string, label: SafeHtml | string, options: InputOptions = {}): SafeHtml {
  const id = `f-${name}`;
  const hint = options.hint !== undefined ? html`<span class="meta" id="${id}-hint">${options.hint}</span>` : '';
  const attributes = [
    options.required ? ' required' : '',
    options.hint !== undefined ? ` aria-describedby="${id}-hint"` : '',
    options.invalid ? ' aria-invalid="true"' : '',
  ].join('');
  return html`<div class="field"><label for="${id}">${label}</label>${hint}
<input id="${id}" name="${name}" type="${options.type ?? 'text'}" value="${options.value ?? ''}" autocomplete="${options.autocomplete ?? 'off'}"${raw(attributes)}></div>`;
}

/** A labelled multi-line input (one value a line). */
export function textareaField(
  name: string,
  label: SafeHtml | string,
  value: string,
  hint?: SafeHtml | string,
): SafeHtml {
  const id = `f-${name}`;
  return html`<div class="field"><label for="${id}">${label}</label>${hint !== undefined ? html`<span class="meta" id="${id}-hint">${hint}</span>` : ''}
<textarea id="${id}" name="${name}" rows="3"${hint !== undefined ? raw(` aria-describedby="${id}-hint"`) : ''}>${value}</textarea></div>`;
}

/** A labelled select of fixed options. */
export function selectField(
  name: string,
  label: SafeHtml | string,
  options: Array<{ value: string; text: string }>,
  selected: string,
): SafeHtml {
  const id = `f-${name}`;
  return html`<div class="field"><label for="${id}">${label}</label>
<select id="${id}" name="${name}">${options.map(
    (option) =>
      html`<option value="${option.value}"${option.value === selected ? raw(' selected') : ''}>${option.text}</option>`,
  )}</select></div>`;
}

export function checkboxField(name: string, label: SafeHtml | string, checked: boolean): SafeHtml {
  return html`<div class="field"><label class="check"><input type="checkbox" name="${name}" value="1"${checked ? raw(' checked') : ''}> ${label}</label></div>`;
}

/** A refusal of the last change, with the server's reason (the core's words). */
export function problemAlert(c: ConsoleFrame, problem: string | undefined): SafeHtml {
  if (problem === undefined) return html``;
  return html`<div class="alert" role="alert" id="problem"><span>${c.f.t.t('console.refused', { reason: problem })}</span></div>`;
}

/** The notice after a Post/Redirect/Get. */
export function doneNotice(text: SafeHtml | undefined): SafeHtml {
  return text === undefined ? html`` : html`<p class="notice" role="status">${text}</p>`;
}

/** "Next page" when the listing has one (the admin API's cursor pagination). */
export function pager(
  c: ConsoleFrame,
  path: string,
  query: Record<string, string>,
  nextCursor: string | null,
): SafeHtml {
  if (nextCursor === null) return html``;
  const params = new URLSearchParams({ ...query, cursor: nextCursor });
  return html`<p class="pager"><a href="${safeUrl(`${path}?${params.toString()}`)}" rel="next">${c.f.t.t('console.next_page')}</a></p>`;
}
