/**
 * The pages the resource owner sees. Pure functions from values to HTML strings: every value is
 * escaped by `html`, nothing needs JavaScript except the auto-submit of the form post response
 * page (which still works without it), and the only inline style is the hashed one of `layout`.
 *
 * Serve them with `Content-Security-Policy: pageCsp(...)` from ./html.js and `Cache-Control:
 * no-store`. Form field names (csrf_token, username, password, decision=allow|deny) are a
 * contract with the HTTP handlers and with automated tests: do not rename them.
 *
 * Each takes the page's `lang` (its texts follow it, ./i18n.ts) and the server's PageKit
 * (branding, template overrides, scope descriptions; Gatehouse's defaults when left out).
 * The pages of the session and the device flow are in ./session-pages.ts.
 */
import { html, raw, safeUrl, scriptHash, type SafeHtml } from './html.js';
import { ALERT_ICON, CHECK_ICON, WARNING_ICON } from './icons.js';
import type { PageKit } from './page-kit.js';
import { accountBox, cardBody, frame, hiddenInputs, page, type PageFrame } from './page-parts.js';
import { describeScopeIn } from './scopes.js';

export {
  renderDeviceCodePage,
  renderDeviceDonePage,
  renderHomePage,
  renderLogoutConfirmPage,
  renderSignedOutPage,
} from './session-pages.js';

export function renderLoginPage(
  p: {
    action: string;
    csrfToken: string;
    clientName: string;
    username?: string;
    error?: string;
    lang?: string;
    /**
     * RFC 8628 §3.3: signing in on the device verification page, for "your device" rather than
     * a named client (its own texts: the device is named in another grammatical case in German).
     */
    forDevice?: boolean;
    /** Signing in to the account page (`/account`): no client, the user's own account. */
    forAccount?: boolean;
  },
  kit?: PageKit,
): string {
  const f = frame(p.lang, kit);
  const { t } = f;
  const heading = p.forDevice
    ? t.text('login.device_heading')
    : p.forAccount
      ? t.text('login.account_heading')
      : t.text('login.heading', { client: p.clientName });
  const title = p.forDevice
    ? t.text('login.device_title')
    : p.forAccount
      ? t.text('login.account_title')
      : t.text('login.title', { client: p.clientName });
  const hasError = p.error !== undefined && p.error !== '';
  const hasUsername = p.username !== undefined && p.username !== '';
  // WCAG 3.3.1: the fields a failed sign-in refers to are marked invalid and point at the message.
  const describedBy = hasError ? raw(' aria-describedby="login-error" aria-invalid="true"') : '';
  const hidden = { csrf_token: p.csrfToken };
  const body = cardBody(
    f,
    'login',
    () => html`<h1>${heading}</h1>
<p class="lead">${t.t('login.lead')}</p>
${hasError ? html`<div class="alert" role="alert" id="login-error">${ALERT_ICON}<span>${p.error}</span></div>` : ''}
<form method="post" action="${safeUrl(p.action)}">
${hiddenInputs(hidden)}<div class="field">
<label for="username">${t.t('login.username')}</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${p.username ?? ''}"${describedBy}${hasUsername ? '' : raw(' autofocus')}>
</div>
<div class="field">
<label for="password">${t.t('login.password')}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${describedBy}${hasUsername ? raw(' autofocus') : ''}>
</div>
<button type="submit" class="btn btn-primary btn-block">${t.t('login.submit')}</button>
</form>`,
    () => ({
      action: safeUrl(p.action),
      hidden_fields: hiddenInputs(hidden),
      client_name: p.clientName,
      username: p.username ?? '',
      error: p.error ?? '',
      heading,
      lead: t.text('login.lead'),
      username_label: t.text('login.username'),
      password_label: t.text('login.password'),
      submit_label: t.text('login.submit'),
    }),
  );
  return page(f, title, body);
}

export function renderConsentPage(
  p: {
    action: string;
    csrfToken: string;
    clientName: string;
    clientId: string;
    /**
     * The client is known only by its Client ID Metadata Document (its name is its URL's host):
     * the page says that no one has verified it.
     */
    metadataDocument?: boolean;
    username: string;
    scopes: string[];
    /**
     * RFC 8628 §5.4: the user code a device authorization is confirmed for, shown for the user to
     * check against the device's screen (and sent back with the decision).
     */
    userCode?: string;
    /**
     * The client registered itself (RFC 7591): nobody vouches for its name, which is shown as the
     * client wrote it, marked unverified, with the host the browser will be sent back to (none for
     * a device). No logo is ever fetched from a client.
     */
    unverified?: { redirectHost: string | null };
    /** The account page, where the user can take the access back later. */
    accountUrl?: string;
    lang?: string;
  },
  kit?: PageKit,
): string {
  const f = frame(p.lang, kit);
  const { t } = f;
  const scopes = [...new Set(p.scopes)];
  const client = p.clientName;
  const unverified =
    p.unverified === undefined
      ? ''
      : html`<div class="alert" role="note">${ALERT_ICON}<span><strong>${t.t('consent.unverified_label')}</strong> ${t.t('consent.unverified_text', { client })}${
          p.unverified.redirectHost === null
            ? ''
            : html` ${t.t('consent.unverified_redirect', { host: html`<strong><code>${p.unverified.redirectHost}</code></strong>` })}`
        }</span></div>`;
  const deviceNote =
    p.userCode === undefined
      ? ''
      : html`<div class="alert" role="note">${ALERT_ICON}<span>${t.t('consent.device_code', { code: html`<strong><code>${p.userCode}</code></strong>` })}</span></div>`;
  const metadataNote = p.metadataDocument
    ? html`<div class="alert" role="note">${ALERT_ICON}<span>${t.t('consent.metadata_document', { client: html`<strong>${client}</strong>` })}</span></div>
`
    : '';
  const scopeList = html`<ul class="scopes" aria-labelledby="scopes-heading">
${scopes.map(
  (scope) => html`<li>${CHECK_ICON}<span>${describeScopeIn(scope, t, f.kit.scopeDescriptions)}</span></li>
`,
)}</ul>`;
  const access: SafeHtml =
    scopes.length > 0
      ? html`<h2 id="scopes-heading">${t.t('consent.scopes_heading', { client })}</h2>
${scopeList}`
      : html`<p>${t.t('consent.no_scopes', { client })}</p>`;
  const hidden: Record<string, string> = { csrf_token: p.csrfToken };
  if (p.userCode !== undefined) hidden['user_code'] = p.userCode;
  const heading = t.text(p.unverified === undefined ? 'consent.heading' : 'consent.heading_unverified', { client });
  const body = cardBody(
    f,
    'consent',
    () => html`<h1>${heading}</h1>
${unverified}${accountBox(f, p.username)}
${deviceNote}
${metadataNote}${access}
<p class="note">${t.t('consent.trust', { client, client_id: html`<code>${p.clientId}</code>` })}</p>
<form method="post" action="${safeUrl(p.action)}">
${hiddenInputs(hidden)}<div class="actions">
<button type="submit" name="decision" value="deny" class="btn btn-secondary">${t.t('consent.deny')}</button>
<button type="submit" name="decision" value="allow" class="btn btn-primary">${t.t('consent.allow')}</button>
</div>
</form>${
      p.accountUrl === undefined
        ? ''
        : html`
<p class="foot">${t.t('consent.account_link', { link: html`<a href="${safeUrl(p.accountUrl)}">${t.t('consent.account_link_text')}</a>` })}</p>`
    }`,
    () => ({
      action: safeUrl(p.action),
      hidden_fields: hiddenInputs(hidden),
      client_name: client,
      client_id: p.clientId,
      username: p.username,
      heading,
      notices: html`${unverified}${deviceNote}${metadataNote}`,
      scope_list: scopes.length > 0 ? access : html`<p>${t.t('consent.no_scopes', { client })}</p>`,
      trust_note: t.text('consent.trust', { client, client_id: p.clientId }),
      allow_label: t.text('consent.allow'),
      deny_label: t.text('consent.deny'),
      signed_in_as_label: t.text('account.signed_in_as'),
    }),
  );
  return page(f, t.text('consent.title', { client }), body);
}

/** The consent page's `unverified` for a self-registered client, else nothing. */
export function unverifiedClient(
  client: { registrationKind: string },
  redirectUri: string | null,
): { unverified?: { redirectHost: string | null } } {
  if (client.registrationKind !== 'dynamic') return {};
  if (redirectUri === null) return { unverified: { redirectHost: null } };
  // Registered redirect URIs are absolute (src/core/registration/client-metadata.ts). A
  // private-use scheme (RFC 8252 §7.1) has no host: the scheme names the app.
  const url = new URL(redirectUri);
  return { unverified: { redirectHost: url.host || url.protocol } };
}

/**
 * A received value and the expected one, one above the other in monospace, with the first
 * differing character of each in <mark> (an empty mark where one of them ends first).
 */
export interface Comparison {
  name: string;
  received: string;
  expected: string;
  /** UTF-16 index of the first difference, never inside a surrogate pair. */
  at: number;
}

function markedAt(f: PageFrame, value: string, at: number): SafeHtml {
  const length = value.codePointAt(at) !== undefined && value.codePointAt(at)! > 0xffff ? 2 : 1;
  const differing = value.slice(at, at + length);
  const mark =
    differing === ''
      ? html`<mark class="end" title="${f.t.text('error.compare_ends_here')}">&#8203;</mark>`
      : html`<mark title="${f.t.text('error.compare_first_difference')}">${differing}</mark>`;
  return html`<code>${value.slice(0, at)}${mark}${value.slice(at + differing.length)}</code>`;
}

/** The side-by-side comparison of a received and a registered value (also drawn by the flow inspector). */
export function renderComparison(f: PageFrame, c: Comparison): SafeHtml {
  return html`<div class="compare">
<p class="compare-head">${f.t.t('error.compare_head', { name: c.name, position: c.at + 1 })}</p>
<table>
<tr><th scope="row">${f.t.t('error.compare_received')}</th><td>${markedAt(f, c.received, c.at)}</td></tr>
<tr><th scope="row">${f.t.t('error.compare_registered')}</th><td>${markedAt(f, c.expected, c.at)}</td></tr>
</table>
</div>`;
}

/** For errors that must not be sent to the client's redirect URI (unknown client, bad redirect_uri). */
export function renderErrorPage(
  p: {
    title: string;
    message: string;
    details?: Array<{ label: string; value: string }>;
    comparison?: Comparison;
    lang?: string | undefined;
  },
  kit?: PageKit,
): string {
  const f = frame(p.lang, kit);
  const details = p.details ?? [];
  const detailList =
    details.length > 0
      ? html`<dl class="details">
${details.map((d) => html`<dt>${d.label}</dt><dd>${d.value}</dd>\n`)}</dl>`
      : '';
  const comparison = p.comparison ? renderComparison(f, p.comparison) : '';
  const body = cardBody(
    f,
    'error',
    () => html`<div class="icon-head">${WARNING_ICON}</div>
<h1 class="center">${p.title}</h1>
<p class="center">${p.message}</p>
${comparison}
${detailList}`,
    () => ({ title: p.title, message: p.message, details: html`${comparison}${detailList}` }),
  );
  return page(f, p.title, body);
}

/**
 * Constant, so its hash is constant. `HTMLFormElement.prototype.submit.call` rather than
 * `form.submit()`: a field named "submit" would shadow the method on the form element.
 */
export const FORM_POST_SCRIPT = 'HTMLFormElement.prototype.submit.call(document.forms[0])';
export const FORM_POST_SCRIPT_HASH = scriptHash(FORM_POST_SCRIPT);

/**
 * OAuth 2.0 Form Post Response Mode: a page that POSTs `fields` to `redirectUri`. Serve with
 * `pageCsp({ scriptHashes: [scriptHash], formAction: [cspSourceForUrl(redirectUri)] })`.
 */
export function renderFormPostPage(
  p: { redirectUri: string; fields: Record<string, string>; lang?: string | undefined },
  kit?: PageKit,
): {
  html: string;
  scriptHash: string;
} {
  const f = frame(p.lang, kit);
  const { t } = f;
  const body = html`<div class="spinner" aria-hidden="true"></div>
<h1 class="center">${t.t('form_post.heading')}</h1>
<form method="post" action="${safeUrl(p.redirectUri)}">
${Object.entries(p.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}<noscript>
<p class="center lead">${t.t('form_post.noscript')}</p>
<button type="submit" class="btn btn-primary btn-block">${t.t('form_post.continue')}</button>
</noscript>
</form>
<script>${raw(FORM_POST_SCRIPT)}</script>`;
  return { html: page(f, t.text('form_post.title'), body), scriptHash: FORM_POST_SCRIPT_HASH };
}
