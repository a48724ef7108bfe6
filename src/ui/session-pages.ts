/**
 * The pages of the browser session and the device flow: the logout confirmation and the
 * signed-out page (OpenID Connect RP-Initiated Logout 1.0), the issuer's home page, and the
 * device verification pages (RFC 8628 §3.3). As ./pages.ts: values escaped, texts in the page's
 * language, the server's branding and template overrides applied.
 */
import { html, raw, safeUrl } from './html.js';
import { ALERT_ICON, CHECK_ICON, WARNING_ICON } from './icons.js';
import type { PageKit } from './page-kit.js';
import { accountBox, cardBody, frame, hiddenInputs, page } from './page-parts.js';

/**
 * OpenID Connect RP-Initiated Logout 1.0 §2: asks the End-User to confirm signing out when the
 * request cannot show that it comes from an application of the current session (no valid
 * `id_token_hint` for it). `fields` are hidden inputs POSTed back with `csrf_token`. Cancel
 * leads to the issuer's home page, under the issuer's path when Gatehouse is mounted under one.
 */
export function renderLogoutConfirmPage(
  p: {
    action: string;
    csrfToken: string;
    username: string;
    clientName?: string | null;
    fields?: Record<string, string>;
    lang?: string;
  },
  kit?: PageKit,
): string {
  const f = frame(p.lang, kit);
  const { t } = f;
  const product = f.kit.productName;
  const hasClient = p.clientName !== undefined && p.clientName !== null && p.clientName !== '';
  const lead = hasClient ? t.text('logout.client_asks', { client: p.clientName! }) : t.text('logout.question');
  const hidden = { csrf_token: p.csrfToken, ...(p.fields ?? {}) };
  const body = cardBody(
    f,
    'logout',
    () => html`<h1>${t.t('logout.title', { product })}</h1>
<p class="lead">${lead}</p>
${accountBox(f, p.username)}
<form method="post" action="${safeUrl(p.action)}">
${hiddenInputs(hidden)}<button type="submit" class="btn btn-primary btn-block">${t.t('logout.submit')}</button>
<a class="btn btn-secondary btn-block" href="${safeUrl(f.kit.homeHref)}">${t.t('logout.cancel')}</a>
</form>
<p class="note">${t.t('logout.note', { product })}</p>`,
    () => ({
      action: safeUrl(p.action),
      hidden_fields: hiddenInputs(hidden),
      username: p.username,
      heading: t.text('logout.title', { product }),
      lead,
      submit_label: t.text('logout.submit'),
      cancel_label: t.text('logout.cancel'),
      cancel_url: f.kit.homeHref,
      note: t.text('logout.note', { product }),
      signed_in_as_label: t.text('account.signed_in_as'),
    }),
  );
  return page(f, t.text('logout.title', { product }), body);
}

/**
 * The issuer's root page: what this server is and where its metadata is (RFC 8414 §3, OpenID
 * Connect Discovery 1.0 §4), instead of a bare 404 for someone who opens the issuer URL. Under
 * an issuer with a path (`https://host/auth`), the OpenID configuration is at the issuer plus
 * `/.well-known/openid-configuration` (Discovery §4.1), the RFC 8414 metadata at
 * `/.well-known/oauth-authorization-server` plus the path (RFC 8414 §3.1).
 */
export function renderHomePage(p: { issuer: string; lang?: string | undefined }, kit?: PageKit): string {
  const f = frame(p.lang, kit);
  const { t } = f;
  const base = f.kit.homeHref.replace(/\/$/, '');
  const links = html`<ul class="links">
<li><a href="${safeUrl(`${base}/.well-known/openid-configuration`)}">${t.t('home.discovery')}</a> (<code>${p.issuer}/.well-known/openid-configuration</code>)</li>
<li><a href="${safeUrl(`/.well-known/oauth-authorization-server${base}`)}">${t.t('home.metadata')}</a> (RFC 8414)</li>
<li><a href="${safeUrl(`${base}/jwks`)}">${t.t('home.jwks')}</a></li>
<li><a href="${safeUrl(`${base}/account`)}">${t.t('home.account')}</a>: ${t.t('home.account_text')}</li>
</ul>`;
  const body = cardBody(
    f,
    'home',
    () => html`<h1>${f.kit.productName}</h1>
<p class="lead">${t.t('home.lead')}</p>
${links}
<p class="note">${t.t('home.note')}</p>`,
    () => ({ heading: f.kit.productName, lead: t.text('home.lead'), links, note: t.text('home.note') }),
  );
  return page(f, f.kit.productName, body);
}

/** OpenID Connect RP-Initiated Logout 1.0 §2: shown after signing out when there is no redirect. */
export function renderSignedOutPage(p: { lang?: string } = {}, kit?: PageKit): string {
  const f = frame(p.lang, kit);
  const { t } = f;
  const product = f.kit.productName;
  const body = cardBody(
    f,
    'signed-out',
    () => html`<div class="icon-head ok">${CHECK_ICON}</div>
<h1 class="center">${t.t('signed_out.heading')}</h1>
<p class="center">${t.t('signed_out.text', { product })}</p>`,
    () => ({ heading: t.text('signed_out.heading'), text: t.text('signed_out.text', { product }) }),
  );
  return page(f, t.text('signed_out.title'), body);
}

/**
 * RFC 8628 §3.3: the verification page's form for the user code shown on the device
 * (`user_code`, pre-filled from `verification_uri_complete`; case, dashes and spaces do not
 * matter). `status` 429 pages carry the limit's message as `error`.
 */
export function renderDeviceCodePage(
  p: {
    action: string;
    csrfToken: string;
    username: string;
    userCode: string | null;
    error: string | null;
    lang?: string | undefined;
  },
  kit?: PageKit,
): string {
  const f = frame(p.lang, kit);
  const { t } = f;
  const hasError = p.error !== null && p.error !== '';
  const hidden = { csrf_token: p.csrfToken };
  const body = cardBody(
    f,
    'device-code',
    () => html`<h1>${t.t('device.title')}</h1>
<p class="lead">${t.t('device.lead')}</p>
${accountBox(f, p.username)}
${hasError ? html`<div class="alert" role="alert" id="code-error">${ALERT_ICON}<span>${p.error}</span></div>` : ''}
<form method="post" action="${safeUrl(p.action)}">
${hiddenInputs(hidden)}<div class="field">
<label for="user_code">${t.t('device.code')}</label>
<input id="user_code" name="user_code" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required placeholder="XXXX-XXXX" value="${p.userCode ?? ''}"${hasError ? raw(' aria-describedby="code-error"') : ''} autofocus>
</div>
<button type="submit" class="btn btn-primary btn-block">${t.t('device.continue')}</button>
</form>`,
    () => ({
      action: safeUrl(p.action),
      hidden_fields: hiddenInputs(hidden),
      username: p.username,
      heading: t.text('device.title'),
      lead: t.text('device.lead'),
      error: p.error ?? '',
      code_label: t.text('device.code'),
      user_code: p.userCode ?? '',
      submit_label: t.text('device.continue'),
      signed_in_as_label: t.text('account.signed_in_as'),
    }),
  );
  return page(f, t.text('device.title'), body);
}

/** RFC 8628 §3.3: the decision is recorded; the device learns it at its next poll. */
export function renderDeviceDonePage(
  p: { clientName: string; approved: boolean; lang?: string | undefined },
  kit?: PageKit,
): string {
  const f = frame(p.lang, kit);
  const { t } = f;
  const client = p.clientName;
  const heading = t.text(p.approved ? 'device.connected' : 'device.denied');
  const text = p.approved ? t.t('device.connected_text', { client }) : t.t('device.denied_text', { client });
  const body = cardBody(
    f,
    'device-done',
    () => html`<div class="icon-head${p.approved ? ' ok' : ''}">${p.approved ? CHECK_ICON : WARNING_ICON}</div>
<h1 class="center">${heading}</h1>
<p class="center">${text}</p>`,
    () => ({ heading, text, client_name: client }),
  );
  return page(f, heading, body);
}
