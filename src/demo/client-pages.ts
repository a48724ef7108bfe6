/**
 * The demo web client's pages: server-rendered HTML without any script (clientPageCsp) that
 * shows the three parties, the steps of the protocol the last action took, the API's answer
 * and the tokens the client holds, and the replies that send them.
 */
import type { FastifyReply } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { html, type SafeHtml } from '../ui/html.js';
import { DEMO_USER, type DemoUrls, inspectorUrl } from './demo-config.js';
import { demoLayout } from './demo-page.js';
import type { ApiResult, BrowserSession, HeldTokens, Step } from './client-sessions.js';

/** What the home page shows besides the session: where the parties are, and whether to print the demo user's credentials. */
export interface HomePageView {
  urls: DemoUrls;
  showCredentials: boolean;
}

/**
 * A shortened token for display: enough to tell two apart, too little to use. Mostly its end: a
 * token's start may be the same for tokens issued close together (Gatehouse's refresh tokens
 * start with their issue time).
 */
export function truncateToken(token: string): string {
  return token.length <= 16 ? token : `${token.slice(0, 4)}…${token.slice(-10)}`;
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function decodeForDisplay(token: string): { header: string; claims: string } {
  try {
    return { header: pretty(decodeProtectedHeader(token)), claims: pretty(decodeJwt(token)) };
  } catch {
    return { header: '(not a JWT)', claims: '(opaque token)' };
  }
}

/** An HTML page of the client, with its security headers (`csp`: the web app's clientPageCsp, or the SPA's). */
export function sendPage(reply: FastifyReply, status: number, page: string, csp: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .send(page);
}

/** RFC 9110 §15.4.4: 303 See Other, to `location`. */
export const seeOther = (reply: FastifyReply, location: string): FastifyReply =>
  reply.code(303).header('location', location).header('cache-control', 'no-store').send();

const host = (url: string): string => new URL(url).host;

function parties(urls: DemoUrls): SafeHtml {
  return html`<ul class="parties" aria-label="The three parties">
<li><b>Your browser</b><span>carries the front channel</span></li>
<li class="here"><b>Client (this app)</b><span>${host(urls.client)}</span></li>
<li><b>Authorization server</b><span>${host(urls.issuer)}</span></li>
<li><b>Protected resource</b><span>${host(urls.resourceOrigin)}</span></li>
</ul>`;
}

function renderSteps(steps: Step[]): SafeHtml {
  if (steps.length === 0) return html``;
  return html`<h2>What just happened</h2>
<ol class="steps" id="steps">${steps.map(
    (step) =>
      html`<li class="step ${step.kind}"><span class="tag">${step.tag}</span><p>${step.text}</p>${
        step.sent ? html`<p class="sent">Sent: <code>${step.sent}</code></p>` : ''
      }${step.inspect ? html`<p class="sent"><a class="inspect" href="${step.inspect}" target="inspector">See it in the flow inspector</a></p>` : ''}</li>`,
  )}</ol>`;
}

const csrfField = (session: BrowserSession): SafeHtml =>
  html`<input type="hidden" name="csrf_token" value="${session.csrf}">`;

function renderApiResult(result: ApiResult): SafeHtml {
  const body = result.body as { notes?: Array<{ title?: unknown; body?: unknown }> } | null;
  const notes = result.status === 200 && body && Array.isArray(body.notes) ? body.notes : undefined;
  return html`<section class="card" id="api-result" aria-labelledby="api-title">
<h2 id="api-title">API response: ${result.status === 200 ? html`<span class="ok-text">200 OK</span>` : html`<span class="err-text">HTTP ${result.status}</span>`}</h2>
${
  notes
    ? html`<ul class="notes">${notes.map((note) => html`<li><b>${String(note.title ?? '')}</b>${String(note.body ?? '')}</li>`)}</ul>`
    : ''
}
${result.wwwAuthenticate ? html`<p class="token-line">WWW-Authenticate: <code>${result.wwwAuthenticate}</code></p>` : ''}
${
  notes
    ? html`<details class="raw"><summary>The raw JSON response</summary><pre class="json" id="api-json">${pretty(result.body)}</pre></details>`
    : html`<pre class="json" id="api-json">${pretty(result.body)}</pre>`
}
</section>`;
}

function renderTokens(tokens: HeldTokens): SafeHtml {
  const access = decodeForDisplay(tokens.accessToken);
  const id = tokens.idToken !== undefined ? decodeForDisplay(tokens.idToken) : undefined;
  return html`<section class="card" id="tokens" aria-labelledby="tokens-title">
<h2 id="tokens-title">The tokens this client holds</h2>
<p class="small">They are kept on the client's server, in memory, for this browser only. Received at ${new Date(tokens.receivedAt).toLocaleTimeString('en-GB')}: <code>token_type</code> ${tokens.tokenType}${
    tokens.expiresIn !== undefined ? html`, <code>expires_in</code> ${tokens.expiresIn} s` : ''
  }${tokens.scope ? html`, <code>scope</code> “${tokens.scope}”` : ''}.</p>
<p class="token-line"><b>Refresh token</b> (opaque, shown truncated): <code id="refresh-token">${tokens.refreshToken ? truncateToken(tokens.refreshToken) : 'none'}</code>${
    tokens.replacedRefreshToken
      ? html` <span class="small">(replaced <code id="previous-refresh-token">${truncateToken(tokens.replacedRefreshToken)}</code>, which is now spent)</span>`
      : ''
  }</p>
<div class="tokens">
<div><h3>Access token · header</h3><pre class="json" id="access-token-header">${access.header}</pre>
<h3>Access token · claims</h3><pre class="json" id="access-token-claims">${access.claims}</pre></div>
${
  id
    ? html`<div><h3>ID token · header</h3><pre class="json" id="id-token-header">${id.header}</pre>
<h3>ID token · claims</h3><pre class="json" id="id-token-claims">${id.claims}</pre></div>`
    : ''
}
</div>
</section>`;
}

/** OpenID Connect Core §5.3.2: the UserInfo answer the client fetched after signing in. */
function renderUserInfo(userinfo: NonNullable<BrowserSession['userinfo']>): SafeHtml {
  return html`<section class="card" id="userinfo" aria-labelledby="userinfo-title">
<h2 id="userinfo-title">UserInfo: what the authorization server says about you</h2>
${
  'claims' in userinfo
    ? html`<p class="small">The client's server fetched these claims from the UserInfo endpoint with an access token for the authorization server.</p>
<pre class="json" id="userinfo-json">${pretty(userinfo.claims)}</pre>`
    : html`<p class="err-text" id="userinfo-error">${userinfo.error}</p>`
}
</section>`;
}

/**
 * The flow inspector beside the app, and the buttons that make each classic mistake on purpose
 * (src/demo/client-mistakes.ts); the token mistakes need a signed-in client.
 */
function mistakes(urls: DemoUrls, session: BrowserSession | undefined): SafeHtml {
  const post = (path: string, id: string, label: string) =>
    session?.tokens
      ? html`<form method="post" action="${path}">${csrfField(session)}<button class="btn btn-secondary" id="${id}" type="submit">${label}</button></form>`
      : '';
  return html`<section class="card" id="mistakes" aria-labelledby="mistakes-title">
<h2 id="mistakes-title">Watch it in the flow inspector</h2>
<p class="small">Every step above is drawn as a sequence diagram, front and back channel, in the <a id="open-inspector" href="${inspectorUrl(urls)}" target="inspector">flow inspector</a>: open it beside this window. These buttons make a classic mistake on purpose; the inspector explains each refusal.</p>
<div class="actions mistakes">
<a class="btn btn-secondary" id="mistake-redirect-uri" href="/mistakes/wrong-redirect-uri">Wrong redirect_uri</a>
<a class="btn btn-secondary" id="mistake-pkce" href="/mistakes/missing-pkce">Missing PKCE</a>
${session?.redeemed ? post('/mistakes/replay-code', 'mistake-replay', 'Replay the code') : ''}
${post('/mistakes/expired-token', 'mistake-expired', 'Expired token at the API')}
${post('/mistakes/wrong-audience', 'mistake-audience', 'Wrong audience')}
${post('/mistakes/reuse-refresh', 'mistake-refresh', 'Reuse a rotated refresh token')}
</div>
</section>`;
}

/** The home page: a sign-in button, or (signed in) who you are, the actions, the API answer and the tokens. */
export function homePage(session: BrowserSession | undefined, { urls, showCredentials }: HomePageView): string {
  const tokens = session?.tokens;
  if (!session || !tokens) {
    return demoLayout({
      title: 'Demo web app',
      party: 'confidential client',
      body: html`<main><section class="card">
<h1>A confidential web client</h1>
<p class="lead">This app runs on a server. It signs you in with Gatehouse using the authorization code flow with PKCE, then calls the notes API with the access token it receives. It authenticates to Gatehouse with a client secret that never leaves its server.</p>
${parties(urls)}
${session ? renderSteps(session.steps) : ''}
<div class="actions"><a class="btn btn-primary" id="sign-in" href="/login">Sign in with Gatehouse</a></div>
${showCredentials ? html`<p class="note center credentials">Demo user: <code>${DEMO_USER.username}</code> / <code>${DEMO_USER.password}</code></p>` : ''}
</section>
${mistakes(urls, session)}
<p class="foot">The same flow as a public client, in the browser: <a href="/spa/">the single-page app</a>.</p></main>`,
    });
  }
  const idClaims = tokens.idToken !== undefined ? decodeJwt(tokens.idToken) : {};
  const name = typeof idClaims['name'] === 'string' ? idClaims['name'] : undefined;
  return demoLayout({
    title: 'Demo web app: signed in',
    party: 'confidential client',
    body: html`<main><section class="card">
<h1>${name !== undefined ? `Signed in as ${name}` : 'Signed in'}</h1>
<p class="lead">The ID token says who you are: subject <code id="subject">${String(idClaims['sub'] ?? '?')}</code> at ${urls.issuer}. The buttons below make the client's server act with the tokens; your browser only ever sees this page. Sign out goes through the authorization server, which ends your single sign-on session and signs this client out.</p>
${renderSteps(session.steps)}
<div class="actions">
<form method="post" action="/call-api">${csrfField(session)}<button class="btn btn-primary" id="call-api" type="submit">Call the API</button></form>
<form method="post" action="/refresh">${csrfField(session)}<button class="btn btn-secondary" id="refresh" type="submit"${tokens.refreshToken ? '' : html` disabled`}>Refresh</button></form>
<form method="post" action="/logout">${csrfField(session)}<button class="btn btn-secondary" id="sign-out" type="submit">Sign out</button></form>
</div>
</section>
${session.api ? renderApiResult(session.api) : ''}
${session.userinfo ? renderUserInfo(session.userinfo) : ''}
${mistakes(urls, session)}
${renderTokens(tokens)}
<p class="foot">The same flow as a public client, in the browser: <a href="/spa/">the single-page app</a>.</p></main>`,
  });
}
