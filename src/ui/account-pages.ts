/**
 * The End-User's account page (`/account`): the applications they authorized, the browsers
 * signed in as them, and a change-password form. Server-rendered like the login pages (same
 * layout, same CSP, no JavaScript); every form is a POST with the page's CSRF token, answered by
 * a 303 back to the page (Post/Redirect/Get) or, for a refused password change, the page again.
 */
import { html, layout, raw, safeUrl, type SafeHtml } from './html.js';
import { describeScope } from './scopes.js';

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
  device: string;
  signedInAt: number;
  lastSeenAt: number;
  current: boolean;
}

export interface AccountPage {
  actions: AccountActions;
  csrfToken: string;
  username: string;
  name: string | null;
  apps: AccountPageApp[];
  sessions: AccountPageSession[];
  /** What the last action did, shown once at the top (`role="status"`). */
  notice?: string | undefined;
  /** A refused password change: the field it refers to and why. */
  passwordError?: { field: 'current_password' | 'new_password' | 'confirm_password'; message: string } | undefined;
  /** False when the user directory keeps passwords elsewhere (an embedding app's own users). */
  canChangePassword: boolean;
  lang?: string | undefined;
}

/** `2026-12-05 14:03 UTC`: one unambiguous format for every time on the page. */
function when(ms: number): SafeHtml {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC</time>`;
}

function csrf(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf_token" value="${token}">`;
}

function appsSection(p: AccountPage): SafeHtml {
  if (p.apps.length === 0) {
    return html`<p class="note">You have not allowed any application to access your account.</p>`;
  }
  return html`<ul class="items" aria-labelledby="apps-heading">
${p.apps.map(
  (app) => html`<li><span class="what"><strong>${app.name}</strong>
<span class="meta">${app.scopes.length > 0 ? app.scopes.map(describeScope).join('; ') : 'No access to your information'}</span>
<span class="meta">Allowed since ${when(app.since)} · ${app.lastUsedAt === null ? 'not used since' : html`last used ${when(app.lastUsedAt)}`}</span></span>
<form method="post" action="${safeUrl(p.actions.revokeApp)}">${csrf(p.csrfToken)}<input type="hidden" name="client_id" value="${app.clientId}">
<button type="submit" class="btn btn-secondary btn-small" aria-label="Remove access for ${app.name}">Remove access</button></form></li>
`,
)}</ul>
<p class="note">Removing access signs the application out and ends its access to your account; it has to ask you again.</p>`;
}

function sessionsSection(p: AccountPage): SafeHtml {
  return html`<ul class="items" aria-labelledby="sessions-heading">
${p.sessions.map(
  (
    session,
  ) => html`<li><span class="what"><strong>${session.device}</strong>${session.current ? html`<span class="tag">This browser</span>` : ''}
<span class="meta">Signed in ${when(session.signedInAt)} · last active ${when(session.lastSeenAt)}</span></span>
${
  session.current
    ? ''
    : html`<form method="post" action="${safeUrl(p.actions.signOutSession)}">${csrf(p.csrfToken)}<input type="hidden" name="sid" value="${session.sid}">
<button type="submit" class="btn btn-secondary btn-small" aria-label="Sign out ${session.device}, last active ${new Date(session.lastSeenAt).toISOString().slice(0, 16).replace('T', ' ')} UTC">Sign out</button></form>`
}</li>
`,
)}</ul>
<form method="post" action="${safeUrl(p.actions.signOutEverywhere)}">${csrf(p.csrfToken)}
<button type="submit" class="btn btn-secondary btn-block">Sign out everywhere</button></form>`;
}

function passwordSection(p: AccountPage): SafeHtml {
  if (!p.canChangePassword) {
    return html`<p class="note">Your password is managed by the application you signed up with; change it there.</p>`;
  }
  const error = p.passwordError;
  const invalid = (field: string): SafeHtml =>
    error?.field === field ? raw(' aria-invalid="true" aria-describedby="password-error"') : raw('');
  return html`${error ? html`<div class="alert" role="alert" id="password-error"><span>${error.message}</span></div>` : ''}
<form method="post" action="${safeUrl(p.actions.changePassword)}">${csrf(p.csrfToken)}
<input type="text" name="username" value="${p.username}" autocomplete="username" aria-label="Username" hidden>
<div class="field"><label for="current_password">Current password</label>
<input id="current_password" name="current_password" type="password" autocomplete="current-password" required${invalid('current_password')}></div>
<div class="field"><label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" required${invalid('new_password')}></div>
<div class="field"><label for="confirm_password">New password again</label>
<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" minlength="8" required${invalid('confirm_password')}></div>
<div class="field"><label class="check"><input type="checkbox" name="sign_out_others" value="1" checked> Sign out my other browsers</label></div>
<button type="submit" class="btn btn-primary btn-block">Change password</button>
</form>`;
}

export function renderAccountPage(p: AccountPage): string {
  const display = p.name ?? p.username;
  const initial = (Array.from(display.trim())[0] ?? '?').toUpperCase();
  const body = html`<h1>Your account</h1>
${p.notice ? html`<p class="notice" role="status">${p.notice}</p>` : ''}
<div class="account"><span class="avatar" aria-hidden="true">${initial}</span><span class="who"><span class="label">Signed in as</span><strong>${display}</strong>${p.name !== null ? html` <span class="meta">${p.username}</span>` : ''}</span></div>
<section class="section" aria-labelledby="apps-heading"><h2 id="apps-heading">Applications with access</h2>
${appsSection(p)}</section>
<section class="section" aria-labelledby="sessions-heading"><h2 id="sessions-heading">Where you are signed in</h2>
${sessionsSection(p)}</section>
<section class="section" aria-labelledby="password-heading"><h2 id="password-heading">Change password</h2>
${passwordSection(p)}</section>
<p class="foot"><a href="${safeUrl(p.actions.signOut)}">Sign out of this browser</a></p>`;
  return layout({ title: 'Your account · Gatehouse', body, lang: p.lang, wide: true });
}
