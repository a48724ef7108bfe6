/**
 * The End-User's account page (`/account`): the applications they authorized, the browsers
 * signed in as them, and a change-password form. Server-rendered like the login pages (same
 * layout, branding, languages and CSP, no JavaScript); every form is a POST with the page's CSRF
 * token, answered by a 303 back to the page (Post/Redirect/Get) or, for a refused password
 * change, the page again.
 */
import type { DeviceDescription } from '../core/account/account-sessions.js';
import type { PasswordField, PasswordRefusal } from '../core/account/password-change.js';
import { MIN_PASSWORD_LENGTH } from '../core/users/password-policy.js';
import { html, raw, safeUrl, type SafeHtml } from './html.js';
import type { Translator } from './i18n.js';
import type { PageKit } from './page-kit.js';
import { frame, hiddenInputs, layoutFor } from './page-parts.js';
import { describeScopeIn } from './scopes.js';

/** The page's actions, as paths (under the issuer's path). */
export interface AccountActions {
  revokeApp: string;
  signOutSession: string;
  signOutEverywhere: string;
  changePassword: string;
  /** RP-Initiated Logout's end_session_endpoint: signs this browser out after a confirmation. */
  signOut: string;
}

export interface AccountPageApp {
  clientId: string;
  name: string;
  scopes: string[];
  since: number;
  lastUsedAt: number | null;
}

export interface AccountPageSession {
  sid: string;
  device: DeviceDescription;
  signedInAt: number;
  lastSeenAt: number;
  current: boolean;
}

/** What `?done=` may say after an action: fixed messages, so a link cannot put words on the page. */
export const ACCOUNT_NOTICES = {
  'app-removed': 'my_account.done_app_removed',
  'app-unchanged': 'my_account.done_app_unchanged',
  'session-ended': 'my_account.done_session_ended',
  'password-changed': 'my_account.done_password_changed',
  'password-changed-signed-out': 'my_account.done_password_changed_signed_out',
} as const;
export type AccountNotice = keyof typeof ACCOUNT_NOTICES;

/** A refused password change, as the page says it. */
export type PasswordError =
  | { field: PasswordField; reason: PasswordRefusal }
  | { field: 'current_password'; reason: 'limited'; retryAfterSeconds: number }
  | { field: 'current_password'; reason: 'unsupported' };

export interface AccountPage {
  actions: AccountActions;
  csrfToken: string;
  username: string;
  name: string | null;
  apps: AccountPageApp[];
  sessions: AccountPageSession[];
  notice?: AccountNotice | undefined;
  passwordError?: PasswordError | undefined;
  /** False when the user directory keeps passwords elsewhere (an embedding app's own users). */
  canChangePassword: boolean;
  lang?: string | undefined;
}

/** `2026-12-05 14:03 UTC`: one unambiguous format for every time on the page, in every language. */
function timeText(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

function when(ms: number): SafeHtml {
  return html`<time datetime="${new Date(ms).toISOString()}">${timeText(ms)}</time>`;
}

function deviceName(t: Translator, device: DeviceDescription): string {
  if (device.browser && device.system)
    return t.text('my_account.device', { browser: device.browser, system: device.system });
  return device.browser ?? device.system ?? t.text('my_account.device_unknown');
}

function passwordErrorText(t: Translator, error: PasswordError): string {
  switch (error.reason) {
    case 'wrong_current':
      return t.text('my_account.password_wrong_current');
    case 'too_short':
      return t.text('my_account.password_too_short', { min: MIN_PASSWORD_LENGTH });
    case 'mismatch':
      return t.text('my_account.password_mismatch');
    case 'limited':
      return t.text('my_account.password_limited', { wait: t.waitingTime(error.retryAfterSeconds) });
    case 'unsupported':
      return t.text('my_account.password_unsupported');
  }
}

function appsSection(p: AccountPage, t: Translator, kit: PageKit): SafeHtml {
  if (p.apps.length === 0) return html`<p class="note">${t.t('my_account.apps_none')}</p>`;
  const csrf = hiddenInputs({ csrf_token: p.csrfToken });
  return html`<ul class="items" aria-labelledby="apps-heading">
${p.apps.map(
  (app) => html`<li><span class="what"><strong>${app.name}</strong>
<span class="meta">${
    app.scopes.length > 0
      ? app.scopes.map((scope) => describeScopeIn(scope, t, kit.scopeDescriptions)).join('; ')
      : t.text('my_account.apps_no_scopes')
  }</span>
<span class="meta">${t.t('my_account.apps_since', { since: when(app.since) })} · ${
    app.lastUsedAt === null
      ? t.t('my_account.apps_not_used')
      : t.t('my_account.apps_last_used', { when: when(app.lastUsedAt) })
  }</span></span>
<form method="post" action="${safeUrl(p.actions.revokeApp)}">${csrf}<input type="hidden" name="client_id" value="${app.clientId}">
<button type="submit" class="btn btn-secondary btn-small" aria-label="${t.text('my_account.apps_remove_label', { app: app.name })}">${t.t('my_account.apps_remove')}</button></form></li>
`,
)}</ul>
<p class="note">${t.t('my_account.apps_note')}</p>`;
}

function sessionsSection(p: AccountPage, t: Translator): SafeHtml {
  const csrf = hiddenInputs({ csrf_token: p.csrfToken });
  return html`<ul class="items" aria-labelledby="sessions-heading">
${p.sessions.map((session) => {
  const device = deviceName(t, session.device);
  return html`<li><span class="what"><strong>${device}</strong>${session.current ? html`<span class="tag">${t.t('my_account.sessions_this_browser')}</span>` : ''}
<span class="meta">${t.t('my_account.sessions_times', { signed_in: when(session.signedInAt), last_active: when(session.lastSeenAt) })}</span></span>
${
  session.current
    ? ''
    : html`<form method="post" action="${safeUrl(p.actions.signOutSession)}">${csrf}<input type="hidden" name="sid" value="${session.sid}">
<button type="submit" class="btn btn-secondary btn-small" aria-label="${t.text('my_account.sessions_sign_out_label', { device, last_active: timeText(session.lastSeenAt) })}">${t.t('my_account.sessions_sign_out')}</button></form>`
}</li>
`;
})}</ul>
<form method="post" action="${safeUrl(p.actions.signOutEverywhere)}">${csrf}
<button type="submit" class="btn btn-secondary btn-block">${t.t('my_account.sessions_sign_out_everywhere')}</button></form>`;
}

function passwordSection(p: AccountPage, t: Translator): SafeHtml {
  if (!p.canChangePassword) return html`<p class="note">${t.t('my_account.password_managed')}</p>`;
  const error = p.passwordError;
  const invalid = (field: string): SafeHtml =>
    error?.field === field ? raw(' aria-invalid="true" aria-describedby="password-error"') : raw('');
  return html`${error ? html`<div class="alert" role="alert" id="password-error"><span>${passwordErrorText(t, error)}</span></div>` : ''}
<form method="post" action="${safeUrl(p.actions.changePassword)}">${hiddenInputs({ csrf_token: p.csrfToken })}
<input type="text" name="username" value="${p.username}" autocomplete="username" aria-label="${t.text('login.username')}" hidden>
<div class="field"><label for="current_password">${t.t('my_account.password_current')}</label>
<input id="current_password" name="current_password" type="password" autocomplete="current-password" required${invalid('current_password')}></div>
<div class="field"><label for="new_password">${t.t('my_account.password_new')}</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="${String(MIN_PASSWORD_LENGTH)}" required${invalid('new_password')}></div>
<div class="field"><label for="confirm_password">${t.t('my_account.password_confirm')}</label>
<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" minlength="${String(MIN_PASSWORD_LENGTH)}" required${invalid('confirm_password')}></div>
<div class="field"><label class="check"><input type="checkbox" name="sign_out_others" value="1" checked> ${t.t('my_account.password_sign_out_others')}</label></div>
<button type="submit" class="btn btn-primary btn-block">${t.t('my_account.password_submit')}</button>
</form>`;
}

export function renderAccountPage(p: AccountPage, kit?: PageKit): string {
  const f = frame(p.lang, kit);
  const { t } = f;
  const display = p.name ?? p.username;
  const initial = (Array.from(display.trim())[0] ?? '?').toUpperCase();
  const body = html`<h1>${t.t('my_account.heading')}</h1>
${p.notice ? html`<p class="notice" role="status">${t.t(ACCOUNT_NOTICES[p.notice])}</p>` : ''}
<div class="account"><span class="avatar" aria-hidden="true">${initial}</span><span class="who"><span class="label">${t.t('account.signed_in_as')}</span><strong>${display}</strong>${p.name !== null ? html` <span class="meta">${p.username}</span>` : ''}</span></div>
<section class="section" aria-labelledby="apps-heading"><h2 id="apps-heading">${t.t('my_account.apps_heading')}</h2>
${appsSection(p, t, f.kit)}</section>
<section class="section" aria-labelledby="sessions-heading"><h2 id="sessions-heading">${t.t('my_account.sessions_heading')}</h2>
${sessionsSection(p, t)}</section>
<section class="section" aria-labelledby="password-heading"><h2 id="password-heading">${t.t('my_account.password_heading')}</h2>
${passwordSection(p, t)}</section>
<p class="foot"><a href="${safeUrl(p.actions.signOut)}">${t.t('my_account.sign_out_this_browser')}</a></p>`;
  return layoutFor(f, t.text('my_account.title', { product: f.kit.productName }), body, { wide: true });
}
