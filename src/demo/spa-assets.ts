/**
 * The demo's single-page app: one static HTML page (served at /spa/ and at its redirect URI
 * /spa/callback) and one ES module script, no build step. It is the public client `demo-spa`:
 * it runs the authorization code flow with PKCE in the browser with oauth4webapi (served from the
 * installed package at /spa/oauth4webapi.js), keeps the PKCE verifier, state and nonce in
 * sessionStorage for the round trip, keeps the tokens in memory only, and calls the token
 * endpoint and the API cross-origin (CORS).
 *
 * The script is kept here as text so that it ships with the compiled package; it builds the page
 * with DOM methods and textContent only (no innerHTML).
 */
import { html } from '../ui/html.js';
import { DEMO_SCOPE, DEMO_USER, type DemoUrls, inspectorUrl } from './demo-config.js';
import { demoLayout } from './demo-page.js';

/** The CSP of the SPA page: its own scripts and styles; fetch only to the AS and the API. */
export function spaCsp(urls: DemoUrls): string {
  const connect = [...new Set([new URL(urls.issuer).origin, urls.resourceOrigin])].join(' ');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src ${connect}`,
    "img-src 'self' data:",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function spaPage(p: { urls: DemoUrls; clientId: string; showCredentials: boolean }): string {
  const { urls } = p;
  return demoLayout({
    title: 'Demo single-page app',
    party: 'public client in the browser',
    head: html`<script type="module" src="/spa/app.js"></script>`,
    body: html`<main id="app" data-issuer="${urls.issuer}" data-client-id="${p.clientId}" data-redirect-uri="${urls.spaRedirectUri}" data-resource="${urls.resource}" data-api="${urls.resourceOrigin}/notes" data-scope="${DEMO_SCOPE}" data-post-logout-redirect-uri="${urls.spa}">
<section class="card">
<h1 id="spa-title">A public client in your browser</h1>
<p class="lead" id="spa-lead">This page is a single-page app: all of its code runs in your browser, so it cannot keep a secret. It is the public client <code>${p.clientId}</code>, and it proves that it is the one that started a sign-in with PKCE instead of a client secret.</p>
<ul class="parties" aria-label="The three parties">
<li class="here"><b>This page (client)</b><span>${new URL(urls.client).host}, in your browser</span></li>
<li><b>Authorization server</b><span>${new URL(urls.issuer).host}</span></li>
<li><b>Protected resource</b><span>${new URL(urls.resourceOrigin).host}</span></li>
</ul>
<div id="spa-steps-wrap" hidden><h2>What just happened</h2><ol class="steps" id="spa-steps"></ol></div>
<noscript><p class="alert">This page needs JavaScript: it is the browser-based client.</p></noscript>
<div class="actions" id="spa-signed-out"><button class="btn btn-primary" id="spa-sign-in" type="button">Sign in with Gatehouse</button></div>
<div class="actions" id="spa-signed-in" hidden>
<button class="btn btn-primary" id="spa-call-api" type="button">Call the API</button>
<button class="btn btn-secondary" id="spa-refresh" type="button">Refresh</button>
<button class="btn btn-secondary" id="spa-sign-out" type="button">Forget tokens</button>
<button class="btn btn-secondary" id="spa-sign-out-everywhere" type="button">Sign out</button>
</div>
${p.showCredentials ? html`<p class="note center credentials" id="spa-credentials">Demo user: <code>${DEMO_USER.username}</code> / <code>${DEMO_USER.password}</code></p>` : ''}
</section>
<section class="card" id="spa-api-result" hidden aria-labelledby="spa-api-title">
<h2 id="spa-api-title">API response: <span id="spa-api-status"></span></h2>
<ul class="notes" id="spa-notes" hidden></ul>
<p class="token-line" id="spa-www-authenticate" hidden></p>
<details class="raw" id="spa-api-raw"><summary>The raw JSON response</summary><pre class="json" id="spa-api-json"></pre></details>
</section>
<section class="card" id="spa-tokens" hidden aria-labelledby="spa-tokens-title">
<h2 id="spa-tokens-title">The tokens this page holds</h2>
<p class="small" id="spa-token-summary"></p>
<p class="token-line"><b>Refresh token</b> (opaque, shown truncated): <code id="spa-refresh-token"></code></p>
<div class="tokens">
<div><h3>Access token · header</h3><pre class="json" id="spa-access-token-header"></pre>
<h3>Access token · claims</h3><pre class="json" id="spa-access-token-claims"></pre></div>
<div id="spa-id-token"><h3>ID token · header</h3><pre class="json" id="spa-id-token-header"></pre>
<h3>ID token · claims</h3><pre class="json" id="spa-id-token-claims"></pre></div>
</div>
</section>
<p class="foot">Every step of this public client's flow, drawn front and back channel: <a id="spa-open-inspector" href="${inspectorUrl(p.urls)}" target="inspector">the flow inspector</a>.</p>
<p class="foot">The same flow with a confidential client, on a server: <a href="/">the web app</a>.</p>
</main>`,
  });
}

/**
 * The SPA's script (an ES module). Written without template literals, so that it can live in
 * this TypeScript template string unchanged.
 */
export const SPA_SCRIPT = String.raw`// Gatehouse demo SPA: the public client, in the browser, with oauth4webapi.
import * as oauth from './oauth4webapi.js';

const root = document.getElementById('app');
const settings = {
  issuer: new URL(root.dataset.issuer),
  clientId: root.dataset.clientId,
  redirectUri: root.dataset.redirectUri,
  resource: root.dataset.resource,
  api: root.dataset.api,
  scope: root.dataset.scope,
  postLogoutRedirectUri: root.dataset.postLogoutRedirectUri,
};
const client = { client_id: settings.clientId, token_endpoint_auth_method: 'none' };
const clientAuth = oauth.None();
// Plain http is only acceptable because the demo runs on localhost.
const http = { [oauth.allowInsecureRequests]: settings.issuer.protocol === 'http:' };
const PENDING = 'gatehouse-demo-spa:pending';
const LOGOUT = 'gatehouse-demo-spa:logout';

/** Tokens live in this page's memory only: a reload forgets them. */
let tokens = null;
let authorizationServer = null;

const $ = (id) => document.getElementById(id);
/** What the title and lead say while this page holds no tokens. */
const SIGNED_OUT_TITLE = $('spa-title').textContent;
const SIGNED_OUT_LEAD = $('spa-lead').cloneNode(true);

function truncate(token) {
  // Mostly the end: Gatehouse's refresh tokens start with their issue time (see truncateToken).
  return token.length <= 16 ? token : token.slice(0, 4) + '\u2026' + token.slice(-10);
}

function decodePart(part) {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const bytes = Uint8Array.from(atob(base64 + '==='.slice((base64.length + 3) % 4)), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function decodeJwt(token) {
  const parts = token.split('.');
  try {
    return { header: JSON.stringify(decodePart(parts[0]), null, 2), claims: JSON.stringify(decodePart(parts[1]), null, 2) };
  } catch {
    return { header: '(not a JWT)', claims: '(opaque token)' };
  }
}

function describeError(error) {
  if (error && typeof error.error === 'string') return error.error + (error.error_description ? ': ' + error.error_description : '');
  if (error instanceof TypeError && /fetch/i.test(error.message)) {
    return error.message + ' (a cross-origin request was refused or the server is down: check CORS and that the server is running)';
  }
  return error instanceof Error ? error.message : String(error);
}

/** Shows the steps: [{ kind: 'front' | 'back' | 'api' | 'error', tag, text, sent? }]. */
function showSteps(steps) {
  const list = $('spa-steps');
  list.replaceChildren();
  for (const step of steps) {
    const item = document.createElement('li');
    item.className = 'step ' + step.kind;
    const tag = document.createElement('span');
    tag.className = 'tag';
    tag.textContent = step.tag;
    const text = document.createElement('p');
    text.textContent = step.text;
    item.append(tag, text);
    if (step.sent) {
      const sent = document.createElement('p');
      sent.className = 'sent';
      const code = document.createElement('code');
      code.textContent = step.sent;
      sent.append('Sent: ', code);
      item.append(sent);
    }
    list.append(item);
  }
  $('spa-steps-wrap').hidden = steps.length === 0;
}

function errorStep(tag, error) {
  return { kind: 'error', tag, text: describeError(error) };
}

function showTokens(previousRefreshToken) {
  const signedIn = tokens !== null;
  $('spa-signed-out').hidden = signedIn;
  $('spa-signed-in').hidden = !signedIn;
  if ($('spa-credentials')) $('spa-credentials').hidden = signedIn;
  $('spa-tokens').hidden = !signedIn;
  if (!signedIn) {
    $('spa-api-result').hidden = true;
    $('spa-title').textContent = SIGNED_OUT_TITLE;
    $('spa-lead').replaceChildren(...SIGNED_OUT_LEAD.cloneNode(true).childNodes);
    return;
  }
  const idClaims = tokens.id_token ? JSON.parse(decodeJwt(tokens.id_token).claims) : {};
  $('spa-title').textContent = idClaims.name ? 'Signed in as ' + idClaims.name : 'Signed in';
  $('spa-lead').textContent = 'The ID token says who you are: subject ' + idClaims.sub + ' at ' + idClaims.iss + '. The tokens below are in this page\u2019s memory (a reload forgets them); the buttons call the API and the token endpoint directly from your browser.';
  const summary = 'token_type ' + tokens.token_type + (tokens.expires_in !== undefined ? ', expires_in ' + tokens.expires_in + ' s' : '') + (tokens.scope ? ', scope \u201c' + tokens.scope + '\u201d' : '') + '.';
  $('spa-token-summary').textContent = 'Received at ' + new Date().toLocaleTimeString('en-GB') + ': ' + summary;
  $('spa-refresh-token').textContent = tokens.refresh_token ? truncate(tokens.refresh_token) : 'none';
  if (previousRefreshToken) $('spa-refresh-token').textContent += ' (replaced ' + truncate(previousRefreshToken) + ', now spent)';
  $('spa-refresh').disabled = !tokens.refresh_token;
  const access = decodeJwt(tokens.access_token);
  $('spa-access-token-header').textContent = access.header;
  $('spa-access-token-claims').textContent = access.claims;
  $('spa-id-token').hidden = !tokens.id_token;
  if (tokens.id_token) {
    const id = decodeJwt(tokens.id_token);
    $('spa-id-token-header').textContent = id.header;
    $('spa-id-token-claims').textContent = id.claims;
  }
}

async function discover() {
  if (authorizationServer === null) {
    const response = await oauth.discoveryRequest(settings.issuer, { algorithm: 'oidc', ...http });
    authorizationServer = await oauth.processDiscoveryResponse(settings.issuer, response);
  }
  return authorizationServer;
}

// Front channel, outbound: send the browser to the authorization endpoint.
async function signIn() {
  try {
    const as = await discover();
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const sent = 'GET ' + as.authorization_endpoint + '?client_id=' + settings.clientId + '&redirect_uri=' + settings.redirectUri + '&response_type=code&scope=' + settings.scope +
      '&resource=' + settings.resource + '&state=' + truncate(state) + '&nonce=' + truncate(nonce) + '&code_challenge=' + truncate(challenge) + '&code_challenge_method=S256';
    sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, sent }));
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', settings.clientId);
    url.searchParams.set('redirect_uri', settings.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', settings.scope);
    url.searchParams.set('resource', settings.resource);
    url.searchParams.set('state', state);
    url.searchParams.set('nonce', nonce);
    url.searchParams.set('code_challenge', challenge);
    url.searchParams.set('code_challenge_method', 'S256');
    location.assign(url.href);
  } catch (error) {
    showSteps([errorStep('Discovery failed (' + settings.issuer.href + ')', error)]);
  }
}

// Front channel, inbound, then the token request from the browser.
async function completeSignIn() {
  const currentUrl = new URL(location.href);
  // Take the code out of the address bar and the history straight away.
  history.replaceState(null, '', new URL('./', currentUrl).pathname);
  const stored = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (stored === null) {
    showSteps([{ kind: 'error', tag: 'Front channel \u00b7 unexpected callback', text: 'This tab has no sign-in in progress (it was started in another tab, or already completed), so the response was ignored. Sign in again.' }]);
    return;
  }
  const pending = JSON.parse(stored);
  const outbound = {
    kind: 'front',
    tag: 'Front channel \u00b7 this page \u2192 authorization server',
    text: 'This page sent your browser to the authorization endpoint with its client_id, the redirect URI, the scopes, the API the token is for (resource), a random state and nonce, and a PKCE code_challenge. The matching code_verifier waited in this tab\u2019s sessionStorage.',
    sent: pending.sent,
  };
  const query = [];
  for (const [name, value] of currentUrl.searchParams) query.push(name + '=' + (name === 'iss' || name.startsWith('error') ? value : truncate(value)));
  const inbound = {
    kind: currentUrl.searchParams.has('error') ? 'error' : 'front',
    tag: 'Front channel \u00b7 authorization server \u2192 this page',
    text: currentUrl.searchParams.has('error')
      ? 'The authorization server sent your browser back with an error instead of a code.'
      : 'After you signed in (or your existing session was recognised) and consented, the authorization server redirected your browser to ' + new URL(settings.redirectUri).pathname + ' with a one-time code, the state and its issuer name (iss). oauth4webapi checked that state matches the one this tab stored and that iss names the expected issuer.',
    sent: query.join('&'),
  };
  let as;
  try {
    as = await discover();
    const params = oauth.validateAuthResponse(as, client, currentUrl, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, settings.redirectUri, pending.verifier, {
      additionalParameters: { resource: settings.resource },
      ...http,
    });
    tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: pending.nonce, requireIdToken: true });
  } catch (error) {
    showSteps([outbound, inbound, errorStep(inbound.kind === 'error' ? 'Authorization refused' : 'Token request failed', error)]);
    return;
  }
  showSteps([
    outbound,
    inbound,
    {
      kind: 'back',
      tag: 'Token request \u00b7 this page \u2192 authorization server (cross-origin)',
      text: 'This page POSTed the code and the PKCE code_verifier to the token endpoint with fetch, across origins (the token endpoint allows it with CORS). There is no client secret: a public client has none. The code_verifier proves that this page is the one that started the sign-in, so a stolen code is useless. The tokens came back to this page\u2019s JavaScript, which is why a browser app must guard against script injection.',
      sent: 'POST ' + as.token_endpoint + ' \u00b7 no Authorization header \u00b7 grant_type=authorization_code&client_id=' + settings.clientId + '&code=\u2026&redirect_uri=' + settings.redirectUri + '&code_verifier=\u2026&resource=' + settings.resource,
    },
  ]);
  showTokens();
}

async function callApi() {
  const resultCard = $('spa-api-result');
  try {
    const response = await fetch(settings.api, { headers: { authorization: 'Bearer ' + tokens.access_token, accept: 'application/json' } });
    const text = await response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    const challenge = response.headers.get('www-authenticate');
    $('spa-api-status').textContent = response.ok ? response.status + ' OK' : 'HTTP ' + response.status;
    $('spa-api-status').className = response.ok ? 'ok-text' : 'err-text';
    const notes = $('spa-notes');
    notes.replaceChildren();
    if (response.ok && body && Array.isArray(body.notes)) {
      for (const note of body.notes) {
        const item = document.createElement('li');
        const title = document.createElement('b');
        title.textContent = String(note.title);
        item.append(title, String(note.body));
        notes.append(item);
      }
    }
    notes.hidden = notes.childElementCount === 0;
    // The raw body is folded away when the notes are shown, and open for an error.
    $('spa-api-raw').open = notes.hidden;
    $('spa-www-authenticate').hidden = challenge === null;
    $('spa-www-authenticate').textContent = challenge === null ? '' : 'WWW-Authenticate: ' + challenge;
    $('spa-api-json').textContent = JSON.stringify(body, null, 2);
    resultCard.hidden = false;
    showSteps([
      {
        kind: response.ok ? 'api' : 'error',
        tag: 'API call \u00b7 this page \u2192 protected resource (cross-origin)',
        text: response.ok
          ? 'This page sent GET /notes to the API with the access token in the Authorization header. The browser first asked the API (a CORS preflight) whether this origin may send that header. The API checked the token itself (signature with the authorization server\u2019s published keys, issuer, audience ' + settings.resource + ', expiry, scope notes:read) and answered with the notes of the token\u2019s subject.'
          : 'This page sent the access token to the API, which refused it: the reason is in the WWW-Authenticate header (RFC 6750), readable here because the API exposes it with CORS.',
        sent: 'GET ' + settings.api + ' \u00b7 Authorization: Bearer ' + truncate(tokens.access_token),
      },
    ]);
  } catch (error) {
    resultCard.hidden = true;
    showSteps([errorStep('API call failed', error)]);
  }
}

async function refresh() {
  const previous = tokens.refresh_token;
  try {
    const as = await discover();
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, previous, http);
    const next = await oauth.processRefreshTokenResponse(as, client, response);
    tokens = { ...next, id_token: next.id_token || tokens.id_token, refresh_token: next.refresh_token || previous };
  } catch (error) {
    showSteps([errorStep('Refresh failed', error)]);
    return;
  }
  const rotated = tokens.refresh_token !== previous;
  $('spa-api-result').hidden = true;
  showSteps([
    {
      kind: 'back',
      tag: 'Token request \u00b7 this page \u2192 authorization server (cross-origin)',
      text: 'This page POSTed its refresh token to the token endpoint with grant_type=refresh_token and its client_id, no secret. ' +
        (rotated
          ? 'Gatehouse rotated the refresh token: the old one (' + truncate(previous) + ') is now spent, so a copy stolen from this page would be detected when used, and a new one (' + truncate(tokens.refresh_token) + ') came back with a fresh access token.'
          : 'A fresh access token came back.'),
      sent: 'POST ' + authorizationServer.token_endpoint + ' \u00b7 grant_type=refresh_token&client_id=' + settings.clientId + '&refresh_token=' + truncate(previous),
    },
  ]);
  showTokens(rotated ? previous : undefined);
}

function forget() {
  tokens = null;
  showTokens();
  showSteps([{ kind: 'front', tag: 'Tokens forgotten', text: 'This page dropped the tokens from memory. Your single sign-on session at the authorization server is still active, so signing in again will not ask for your password.' }]);
}

// RP-Initiated Logout 1.0 §2: drop the tokens, then send the browser to the end_session_endpoint.
async function signOut() {
  try {
    const as = await discover();
    const state = oauth.generateRandomState();
    const url = new URL(as.end_session_endpoint);
    url.searchParams.set('client_id', settings.clientId);
    if (tokens.id_token) url.searchParams.set('id_token_hint', tokens.id_token);
    url.searchParams.set('post_logout_redirect_uri', settings.postLogoutRedirectUri);
    url.searchParams.set('state', state);
    sessionStorage.setItem(LOGOUT, JSON.stringify({ state, endpoint: as.end_session_endpoint }));
    tokens = null;
    location.assign(url.href);
  } catch (error) {
    showSteps([errorStep('Sign out failed', error)]);
  }
}

// RP-Initiated Logout 1.0 §3: back at the post_logout_redirect_uri, with the state sent.
function completeSignOut() {
  const currentUrl = new URL(location.href);
  history.replaceState(null, '', currentUrl.pathname);
  const stored = sessionStorage.getItem(LOGOUT);
  sessionStorage.removeItem(LOGOUT);
  const pending = stored === null ? null : JSON.parse(stored);
  if (pending === null || currentUrl.searchParams.get('state') !== pending.state) {
    showSteps([{ kind: 'error', tag: 'Front channel \u00b7 unexpected return from logout', text: 'The browser came back here with a state this tab did not send with a logout request, so it was ignored.' }]);
    return;
  }
  showSteps([
    {
      kind: 'front',
      tag: 'Front channel \u00b7 this page \u2192 authorization server \u2192 this page (logout)',
      text: 'This page dropped its tokens and sent your browser to the authorization server\u2019s end_session_endpoint with the ID token as id_token_hint, where to come back to (post_logout_redirect_uri) and a state. The authorization server ended your single sign-on session (and told the web app\u2019s server by back-channel logout) and sent your browser back here with that state. Signing in again asks for your password.',
      sent: 'GET ' + pending.endpoint + '?client_id=' + settings.clientId + '&id_token_hint=\u2026&post_logout_redirect_uri=' + settings.postLogoutRedirectUri + '&state=' + truncate(pending.state),
    },
  ]);
}

$('spa-sign-in').addEventListener('click', signIn);
$('spa-call-api').addEventListener('click', callApi);
$('spa-refresh').addEventListener('click', refresh);
$('spa-sign-out').addEventListener('click', forget);
$('spa-sign-out-everywhere').addEventListener('click', signOut);

if (new URL(settings.redirectUri).pathname === location.pathname) await completeSignIn();
else if (new URL(location.href).searchParams.has('state')) completeSignOut();
document.documentElement.dataset.ready = 'true';
`;
