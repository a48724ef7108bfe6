/**
 * The pages the resource owner sees. Pure functions from values to HTML strings: every value is
 * escaped by `html`, nothing needs JavaScript except the auto-submit of the form post response
 * page (which still works without it), and the only inline style is the hashed one of `layout`.
 *
 * Serve them with `Content-Security-Policy: pageCsp(...)` from ./html.js and `Cache-Control:
 * no-store`. Form field names (csrf_token, username, password, decision=allow|deny) are a
 * contract with the HTTP handlers and with automated tests: do not rename them.
 */
import { html, layout, raw, safeUrl, scriptHash, type SafeHtml } from './html.js';
import { describeScope } from './scopes.js';

const ICON_ATTRS =
  'viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"';
const ALERT_ICON = raw(
  `<svg ${ICON_ATTRS}><circle cx="12" cy="12" r="9"/><path d="M12 7.5v5"/><path d="M12 16.25v.01"/></svg>`,
);
const CHECK_ICON = raw(`<svg ${ICON_ATTRS}><path d="m5 12.5 4.5 4.5L19 7.5"/></svg>`);
const WARNING_ICON = raw(
  `<svg ${ICON_ATTRS} stroke-width="1.75"><path d="M10.3 3.9 2.4 17.6A2 2 0 0 0 4.1 20.6h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0Z"/><path d="M12 9v4.5"/><path d="M12 17v.01"/></svg>`,
);

export function renderLoginPage(p: {
  action: string;
  csrfToken: string;
  clientName: string;
  username?: string;
  error?: string;
  lang?: string;
}): string {
  const hasError = p.error !== undefined && p.error !== '';
  const hasUsername = p.username !== undefined && p.username !== '';
  // WCAG 3.3.1: the fields a failed sign-in refers to are marked invalid and point at the message.
  const describedBy = hasError ? raw(' aria-describedby="login-error" aria-invalid="true"') : '';
  const body = html`<h1>Sign in to continue to ${p.clientName}</h1>
<p class="lead">Enter your username and password.</p>
${hasError ? html`<div class="alert" role="alert" id="login-error">${ALERT_ICON}<span>${p.error}</span></div>` : ''}
<form method="post" action="${safeUrl(p.action)}">
<input type="hidden" name="csrf_token" value="${p.csrfToken}">
<div class="field">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${p.username ?? ''}"${describedBy}${hasUsername ? '' : raw(' autofocus')}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${describedBy}${hasUsername ? raw(' autofocus') : ''}>
</div>
<button type="submit" class="btn btn-primary btn-block">Sign in</button>
</form>`;
  return layout({ title: `Sign in · ${p.clientName}`, body, lang: p.lang });
}

export function renderConsentPage(p: {
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
  lang?: string;
}): string {
  const scopes = [...new Set(p.scopes)];
  const unverified =
    p.unverified === undefined
      ? ''
      : html`<div class="alert" role="note">${ALERT_ICON}<span><strong>Unverified app.</strong> &ldquo;${p.clientName}&rdquo; registered itself with this server; nobody has checked who runs it or that its name is true.${
          p.unverified.redirectHost === null
            ? ''
            : html` If you allow, you will be sent to <strong><code>${p.unverified.redirectHost}</code></strong>.`
        }</span></div>`;
  const initial = (Array.from(p.username.trim())[0] ?? '?').toUpperCase();
  const access: SafeHtml =
    scopes.length > 0
      ? html`<h2 id="scopes-heading">This will allow ${p.clientName} to:</h2>
<ul class="scopes" aria-labelledby="scopes-heading">
${scopes.map((scope) => html`<li>${CHECK_ICON}<span>${describeScope(scope)}</span></li>\n`)}</ul>`
      : html`<p>${p.clientName} is not asking for access to any of your information.</p>`;
  const body = html`<h1>${p.clientName}${p.unverified === undefined ? '' : ' (unverified)'} wants to access your account</h1>
${unverified}<div class="account"><span class="avatar" aria-hidden="true">${initial}</span><span class="who"><span class="label">Signed in as</span><strong>${p.username}</strong></span></div>
${
  p.userCode === undefined
    ? ''
    : html`<div class="alert" role="note">${ALERT_ICON}<span>Check that your device shows the code <strong><code>${p.userCode}</code></strong>. If it does not, or you did not start this on a device of yours, deny.</span></div>`
}
${
  p.metadataDocument
    ? html`<div class="alert" role="note">${ALERT_ICON}<span>Unverified application: it is identified only by its web address <strong>${p.clientName}</strong>, and this server has not checked who runs it.</span></div>
`
    : ''
}${access}
<p class="note">Only allow this if you trust ${p.clientName}. Client ID: <code>${p.clientId}</code></p>
<form method="post" action="${safeUrl(p.action)}">
<input type="hidden" name="csrf_token" value="${p.csrfToken}">
${
  p.userCode === undefined
    ? ''
    : html`<input type="hidden" name="user_code" value="${p.userCode}">
`
}<div class="actions">
<button type="submit" name="decision" value="deny" class="btn btn-secondary">Deny</button>
<button type="submit" name="decision" value="allow" class="btn btn-primary">Allow</button>
</div>
</form>`;
  return layout({ title: `Allow access · ${p.clientName}`, body, lang: p.lang });
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

function markedAt(value: string, at: number): SafeHtml {
  const length = value.codePointAt(at) !== undefined && value.codePointAt(at)! > 0xffff ? 2 : 1;
  const differing = value.slice(at, at + length);
  const mark =
    differing === ''
      ? html`<mark class="end" title="ends here">&#8203;</mark>`
      : html`<mark title="first difference">${differing}</mark>`;
  return html`<code>${value.slice(0, at)}${mark}${value.slice(at + differing.length)}</code>`;
}

/** The side-by-side comparison of a received and a registered value (also drawn by the flow inspector). */
export function renderComparison(c: Comparison): SafeHtml {
  return html`<div class="compare">
<p class="compare-head">The ${c.name} received, against the closest registered one: they differ from character ${c.at + 1} on (marked).</p>
<table>
<tr><th scope="row">received</th><td>${markedAt(c.received, c.at)}</td></tr>
<tr><th scope="row">registered</th><td>${markedAt(c.expected, c.at)}</td></tr>
</table>
</div>`;
}

/** For errors that must not be sent to the client's redirect URI (unknown client, bad redirect_uri). */
export function renderErrorPage(p: {
  title: string;
  message: string;
  details?: Array<{ label: string; value: string }>;
  comparison?: Comparison;
  lang?: string;
}): string {
  const details = p.details ?? [];
  const body = html`<div class="icon-head">${WARNING_ICON}</div>
<h1 class="center">${p.title}</h1>
<p class="center">${p.message}</p>
${p.comparison ? renderComparison(p.comparison) : ''}
${
  details.length > 0
    ? html`<dl class="details">
${details.map((d) => html`<dt>${d.label}</dt><dd>${d.value}</dd>\n`)}</dl>`
    : ''
}`;
  return layout({ title: p.title, body, lang: p.lang });
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
export function renderFormPostPage(p: { redirectUri: string; fields: Record<string, string> }): {
  html: string;
  scriptHash: string;
} {
  const body = html`<div class="spinner" aria-hidden="true"></div>
<h1 class="center">Returning you to the application…</h1>
<form method="post" action="${safeUrl(p.redirectUri)}">
${Object.entries(p.fields).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}<noscript>
<p class="center lead">JavaScript is turned off. Select Continue to go back to the application.</p>
<button type="submit" class="btn btn-primary btn-block">Continue</button>
</noscript>
</form>
<script>${raw(FORM_POST_SCRIPT)}</script>`;
  return { html: layout({ title: 'Returning to the application', body }), scriptHash: FORM_POST_SCRIPT_HASH };
}

/**
 * OpenID Connect RP-Initiated Logout 1.0 §2: asks the End-User to confirm signing out when the
 * request cannot show that it comes from an application of the current session (no valid
 * `id_token_hint` for it). `fields` are hidden inputs POSTed back with `csrf_token`.
 */
export function renderLogoutConfirmPage(p: {
  action: string;
  csrfToken: string;
  username: string;
  clientName?: string | null;
  fields?: Record<string, string>;
  lang?: string;
}): string {
  const initial = (Array.from(p.username.trim())[0] ?? '?').toUpperCase();
  const hasClient = p.clientName !== undefined && p.clientName !== null && p.clientName !== '';
  const body = html`<h1>Sign out of Gatehouse?</h1>
<p class="lead">${hasClient ? html`${p.clientName} asked to sign you out.` : 'Do you want to sign out?'}</p>
<div class="account"><span class="avatar" aria-hidden="true">${initial}</span><span class="who"><span class="label">Signed in as</span><strong>${p.username}</strong></span></div>
<form method="post" action="${safeUrl(p.action)}">
<input type="hidden" name="csrf_token" value="${p.csrfToken}">
${Object.entries(p.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}<button type="submit" class="btn btn-primary btn-block">Sign out</button>
<a class="btn btn-secondary btn-block" href="/">Cancel, stay signed in</a>
</form>
<p class="note">Signing out ends your Gatehouse session in this browser. Applications you signed in to with it are told that you signed out.</p>`;
  return layout({ title: 'Sign out of Gatehouse?', body, lang: p.lang });
}

/**
 * The issuer's root page: what this server is and where its metadata is (RFC 8414 §3, OpenID
 * Connect Discovery 1.0 §4), instead of a bare 404 for someone who opens the issuer URL.
 */
export function renderHomePage(p: { issuer: string }): string {
  const body = html`<h1>Gatehouse</h1>
<p class="lead">This is an OAuth 2.1 and OpenID Connect authorization server. Applications send you here to sign in; there is nothing to do on this page.</p>
<ul class="links">
<li><a href="/.well-known/openid-configuration">OpenID Connect discovery</a> (<code>${p.issuer}/.well-known/openid-configuration</code>)</li>
<li><a href="/.well-known/oauth-authorization-server">OAuth 2.0 authorization server metadata</a> (RFC 8414)</li>
<li><a href="/jwks">Signing keys (JWKS)</a></li>
</ul>
<p class="note">Operators: the README of gatehouse-server explains the configuration, the CLI and the demo.</p>`;
  return layout({ title: 'Gatehouse', body });
}

/** OpenID Connect RP-Initiated Logout 1.0 §2: shown after signing out when there is no redirect. */
export function renderSignedOutPage(p: { lang?: string } = {}): string {
  const body = html`<div class="icon-head ok">${CHECK_ICON}</div>
<h1 class="center">You are signed out</h1>
<p class="center">You have signed out of Gatehouse. You can close this window.</p>`;
  return layout({ title: 'Signed out', body, lang: p.lang });
}

/**
 * RFC 8628 §3.3: the verification page's form for the user code shown on the device
 * (`user_code`, pre-filled from `verification_uri_complete`; case, dashes and spaces do not
 * matter). `status` 429 pages carry the limit's message as `error`.
 */
export function renderDeviceCodePage(p: {
  action: string;
  csrfToken: string;
  username: string;
  userCode: string | null;
  error: string | null;
  lang?: string;
}): string {
  const initial = (Array.from(p.username.trim())[0] ?? '?').toUpperCase();
  const hasError = p.error !== null && p.error !== '';
  const body = html`<h1>Connect a device</h1>
<p class="lead">Enter the code shown on your device.</p>
<div class="account"><span class="avatar" aria-hidden="true">${initial}</span><span class="who"><span class="label">Signed in as</span><strong>${p.username}</strong></span></div>
${hasError ? html`<div class="alert" role="alert" id="code-error">${ALERT_ICON}<span>${p.error}</span></div>` : ''}
<form method="post" action="${safeUrl(p.action)}">
<input type="hidden" name="csrf_token" value="${p.csrfToken}">
<div class="field">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required placeholder="XXXX-XXXX" value="${p.userCode ?? ''}"${hasError ? raw(' aria-describedby="code-error"') : ''} autofocus>
</div>
<button type="submit" class="btn btn-primary btn-block">Continue</button>
</form>`;
  return layout({ title: 'Connect a device', body, lang: p.lang });
}

/** RFC 8628 §3.3: the decision is recorded; the device learns it at its next poll. */
export function renderDeviceDonePage(p: { clientName: string; approved: boolean; lang?: string }): string {
  const body = p.approved
    ? html`<div class="icon-head ok">${CHECK_ICON}</div>
<h1 class="center">Device connected</h1>
<p class="center">${p.clientName} can now continue on your device. You can close this window.</p>`
    : html`<div class="icon-head">${WARNING_ICON}</div>
<h1 class="center">Access denied</h1>
<p class="center">${p.clientName} was not given access. You can close this window.</p>`;
  return layout({ title: p.approved ? 'Device connected' : 'Access denied', body, lang: p.lang });
}
