/**
 * The demo's client: a small confidential web app (server-rendered HTML, no script) using
 * openid-client, plus the static single-page app at /spa/ (a public client using oauth4webapi in
 * the browser).
 *
 * Web app flow: `/login` sends the browser to the authorization endpoint with PKCE (S256),
 * `state`, `nonce` and `resource` (front channel); `/callback` lets openid-client check `state`
 * and `iss` and exchange the code with the client secret and the PKCE verifier (back channel);
 * `/` shows what the client holds, calls the API from the server, and refreshes.
 *
 * Per-browser state lives in memory, keyed by a random HttpOnly cookie. Every page says in plain
 * sentences which channel the last step used and what travelled on it.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import * as oidc from 'openid-client';
import { parseCookies } from '../http/cookies.js';
import { html, type SafeHtml } from '../ui/html.js';
import { DEMO_SCOPE, DEMO_SPA_CLIENT_ID, DEMO_USER, DEMO_WEB_CLIENT_ID, DEMO_WEB_CLIENT_SECRET, type DemoUrls } from './demo-config.js';
import { CLIENT_PAGE_CSP, DEMO_CSS, demoLayout } from './demo-page.js';
import { SPA_SCRIPT, spaCsp, spaPage } from './spa-assets.js';

export interface ClientAppOptions {
  urls: DemoUrls;
  clientId?: string;
  clientSecret?: string;
  spaClientId?: string;
  /** Show the demo user's credentials on the home page (default true). */
  showDemoCredentials?: boolean;
}

const COOKIE = 'demo_client_sid';
const MAX_SESSIONS = 1000;

type StepKind = 'front' | 'back' | 'api' | 'error';

/** One step of the protocol, told in plain sentences. */
interface Step {
  kind: StepKind;
  tag: string;
  text: string;
  /** What travelled, in the order it was sent. */
  sent?: string;
}

interface HeldTokens {
  accessToken: string;
  idToken: string | undefined;
  refreshToken: string | undefined;
  tokenType: string;
  expiresIn: number | undefined;
  scope: string | undefined;
  receivedAt: number;
  /** The refresh token this set replaced, if it came from a refresh. */
  replacedRefreshToken?: string;
}

interface ApiResult {
  status: number;
  body: unknown;
  wwwAuthenticate: string | null;
}

interface BrowserSession {
  id: string;
  csrf: string;
  pending?: { state: string; nonce: string; verifier: string };
  tokens?: HeldTokens;
  api?: ApiResult;
  steps: Step[];
}

/** A shortened token for display: enough to tell two apart, too little to use. */
export function truncateToken(token: string): string {
  return token.length <= 16 ? token : `${token.slice(0, 10)}…${token.slice(-4)}`;
}

function errorText(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError || error instanceof oidc.ResponseBodyError) {
    return `${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
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

function oauth4webapiSource(): string {
  // The package's own ES module build, served as is to the browser.
  const path = createRequire(import.meta.url).resolve('oauth4webapi');
  return readFileSync(path, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
}

export function createClientApp(options: ClientAppOptions): FastifyInstance {
  const { urls } = options;
  const clientId = options.clientId ?? DEMO_WEB_CLIENT_ID;
  const clientSecret = options.clientSecret ?? DEMO_WEB_CLIENT_SECRET;
  const spaClientId = options.spaClientId ?? DEMO_SPA_CLIENT_ID;
  const showCredentials = options.showDemoCredentials ?? true;
  const sessions = new Map<string, BrowserSession>();
  const oauth4webapiJs = oauth4webapiSource();

  // Discovery, memoised once it succeeds (the authorization server may start after the client).
  let configuration: Promise<oidc.Configuration> | undefined;
  function oidcConfig(): Promise<oidc.Configuration> {
    configuration ??= oidc
      .discovery(new URL(urls.issuer), clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
        execute: new URL(urls.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  }

  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, new URLSearchParams(body as string));
  });

  // --- sessions -------------------------------------------------------------------------------

  function findSession(request: FastifyRequest): BrowserSession | undefined {
    const id = parseCookies(request.headers.cookie).get(COOKIE);
    return id === undefined ? undefined : sessions.get(id);
  }

  function ensureSession(request: FastifyRequest, reply: FastifyReply): BrowserSession {
    const existing = findSession(request);
    if (existing) return existing;
    if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
    const session: BrowserSession = { id: randomBytes(32).toString('base64url'), csrf: randomBytes(24).toString('base64url'), steps: [] };
    sessions.set(session.id, session);
    reply.header('set-cookie', `${COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax`);
    return session;
  }

  /** A POSTed form from this session's own page (the CSRF token matches). */
  function postedSession(request: FastifyRequest): BrowserSession | undefined {
    const session = findSession(request);
    const sent = request.body instanceof URLSearchParams ? request.body.get('csrf_token') : null;
    if (!session || sent === null) return undefined;
    const a = Buffer.from(sent);
    const b = Buffer.from(session.csrf);
    return a.length === b.length && timingSafeEqual(a, b) ? session : undefined;
  }

  function sendPage(reply: FastifyReply, status: number, page: string): FastifyReply {
    return reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', CLIENT_PAGE_CSP)
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(page);
  }

  const seeOther = (reply: FastifyReply, location: string): FastifyReply => reply.code(303).header('location', location).header('cache-control', 'no-store').send();

  // --- rendering ------------------------------------------------------------------------------

  const host = (url: string): string => new URL(url).host;

  function parties(): SafeHtml {
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
      (step) => html`<li class="step ${step.kind}"><span class="tag">${step.tag}</span><p>${step.text}</p>${
        step.sent ? html`<p class="sent">Sent: <code>${step.sent}</code></p>` : ''
      }</li>`,
    )}</ol>`;
  }

  const csrfField = (session: BrowserSession): SafeHtml => html`<input type="hidden" name="csrf_token" value="${session.csrf}">`;

  function renderApiResult(result: ApiResult): SafeHtml {
    const body = result.body as { notes?: Array<{ title?: unknown; body?: unknown }> } | null;
    const notes = result.status === 200 && body && Array.isArray(body.notes) ? body.notes : undefined;
    return html`<section class="card" id="api-result" aria-labelledby="api-title">
<h2 id="api-title">API response: ${result.status === 200 ? html`<span class="ok-text">200 OK</span>` : html`<span class="err-text">HTTP ${result.status}</span>`}</h2>
${notes
      ? html`<ul class="notes">${notes.map((note) => html`<li><b>${String(note.title ?? '')}</b>${String(note.body ?? '')}</li>`)}</ul>`
      : ''}
${result.wwwAuthenticate ? html`<p class="token-line">WWW-Authenticate: <code>${result.wwwAuthenticate}</code></p>` : ''}
${notes
      ? html`<details class="raw"><summary>The raw JSON response</summary><pre class="json" id="api-json">${pretty(result.body)}</pre></details>`
      : html`<pre class="json" id="api-json">${pretty(result.body)}</pre>`}
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
      tokens.replacedRefreshToken ? html` <span class="small">(replaced <code id="previous-refresh-token">${truncateToken(tokens.replacedRefreshToken)}</code>, which is now spent)</span>` : ''
    }</p>
<div class="tokens">
<div><h3>Access token · header</h3><pre class="json" id="access-token-header">${access.header}</pre>
<h3>Access token · claims</h3><pre class="json" id="access-token-claims">${access.claims}</pre></div>
${id
      ? html`<div><h3>ID token · header</h3><pre class="json" id="id-token-header">${id.header}</pre>
<h3>ID token · claims</h3><pre class="json" id="id-token-claims">${id.claims}</pre></div>`
      : ''}
</div>
</section>`;
  }

  function homePage(session: BrowserSession | undefined): string {
    const tokens = session?.tokens;
    if (!session || !tokens) {
      return demoLayout({
        title: 'Demo web app',
        party: 'confidential client',
        body: html`<main><section class="card">
<h1>A confidential web client</h1>
<p class="lead">This app runs on a server. It signs you in with Gatehouse using the authorization code flow with PKCE, then calls the notes API with the access token it receives. It authenticates to Gatehouse with a client secret that never leaves its server.</p>
${parties()}
${session ? renderSteps(session.steps) : ''}
<div class="actions"><a class="btn btn-primary" id="sign-in" href="/login">Sign in with Gatehouse</a></div>
${showCredentials ? html`<p class="note center credentials">Demo user: <code>${DEMO_USER.username}</code> / <code>${DEMO_USER.password}</code></p>` : ''}
</section>
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
<p class="lead">The ID token says who you are: subject <code id="subject">${String(idClaims['sub'] ?? '?')}</code> at ${urls.issuer}. The buttons below make the client's server act with the tokens; your browser only ever sees this page.</p>
${renderSteps(session.steps)}
<div class="actions">
<form method="post" action="/call-api">${csrfField(session)}<button class="btn btn-primary" id="call-api" type="submit">Call the API</button></form>
<form method="post" action="/refresh">${csrfField(session)}<button class="btn btn-secondary" id="refresh" type="submit"${tokens.refreshToken ? '' : html` disabled`}>Refresh</button></form>
<form method="post" action="/logout">${csrfField(session)}<button class="btn btn-secondary" id="sign-out" type="submit">Sign out</button></form>
</div>
</section>
${session.api ? renderApiResult(session.api) : ''}
${renderTokens(tokens)}
<p class="foot">The same flow as a public client, in the browser: <a href="/spa/">the single-page app</a>.</p></main>`,
    });
  }

  function errorStep(tag: string, error: unknown): Step {
    return { kind: 'error', tag, text: errorText(error) };
  }

  // --- routes ---------------------------------------------------------------------------------

  app.get('/assets/demo.css', async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'no-cache').send(DEMO_CSS),
  );

  app.get('/', async (request, reply) => sendPage(reply, 200, homePage(findSession(request))));

  // Front channel, outbound: send the browser to the authorization endpoint.
  app.get('/login', async (request, reply) => {
    const session = ensureSession(request, reply);
    let config: oidc.Configuration;
    try {
      config = await oidcConfig();
    } catch (error) {
      session.steps = [errorStep(`Discovery failed (${urls.issuer})`, error)];
      return seeOther(reply, '/');
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    session.pending = { state, nonce, verifier };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: urls.webRedirectUri,
      scope: DEMO_SCOPE,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      resource: urls.resource,
    });
    session.steps = [
      {
        kind: 'front',
        tag: 'Front channel · client → your browser → authorization server',
        text: `The client redirected your browser to the authorization endpoint. The request named the client, where to come back to, the scopes, the API the token is for (resource), a random state and nonce, and a PKCE code_challenge: a hash of a code_verifier that stayed on the client's server.`,
        sent: `GET ${url.origin}${url.pathname}?client_id=${clientId}&redirect_uri=${urls.webRedirectUri}&scope=${DEMO_SCOPE}&resource=${urls.resource}&state=${truncateToken(state)}&nonce=${truncateToken(nonce)}&code_challenge=${truncateToken(url.searchParams.get('code_challenge') ?? '')}&code_challenge_method=S256`,
      },
    ];
    return reply.code(302).header('location', url.href).header('cache-control', 'no-store').send();
  });

  // Front channel, inbound, then the back channel: the code exchange.
  app.get('/callback', async (request, reply) => {
    const session = findSession(request);
    const currentUrl = new URL(request.url, urls.webRedirectUri);
    const params = currentUrl.searchParams;
    if (!session || !session.pending) {
      const fresh = ensureSession(request, reply);
      fresh.steps = [
        {
          kind: 'error',
          tag: 'Front channel · unexpected callback',
          text: 'The browser arrived at /callback, but this browser has no sign-in in progress here (expired, already used, or started elsewhere), so the client refused it. Sign in again.',
        },
      ];
      return seeOther(reply, '/');
    }
    const pending = session.pending;
    delete session.pending;
    const front: Step = {
      kind: params.has('error') ? 'error' : 'front',
      tag: 'Front channel · authorization server → your browser → client',
      text: params.has('error')
        ? `The authorization server sent your browser back with an error instead of a code.`
        : `After you signed in and consented, the authorization server redirected your browser to ${new URL(urls.webRedirectUri).pathname} with a one-time code, the state and its issuer name (iss). openid-client checked that state is the one this client sent and that iss names the expected issuer. The code alone is useless: it is bound to this client, the redirect URI and the PKCE challenge, and expires within a minute.`,
      sent: [...params.entries()].map(([name, value]) => `${name}=${name === 'iss' || name.startsWith('error') ? value : truncateToken(value)}`).join('&'),
    };
    let config: oidc.Configuration;
    try {
      config = await oidcConfig();
      const response = await oidc.authorizationCodeGrant(
        config,
        currentUrl,
        { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
        { resource: urls.resource },
      );
      session.tokens = {
        accessToken: response.access_token,
        idToken: response.id_token,
        refreshToken: response.refresh_token,
        tokenType: response.token_type,
        expiresIn: response.expires_in,
        scope: response.scope,
        receivedAt: Date.now(),
      };
      delete session.api;
      session.steps = [
        ...session.steps,
        front,
        {
          kind: 'back',
          tag: 'Back channel · client → authorization server',
          text: `The client's server POSTed the code and its PKCE code_verifier to the token endpoint, authenticating with its client secret (HTTP Basic). The tokens came back in the JSON response, straight to the client's server: your browser never saw them. openid-client checked the ID token's issuer, audience, expiry and nonce.`,
          sent: `POST ${config.serverMetadata().token_endpoint ?? '/token'} · Authorization: Basic (demo-web + secret) · grant_type=authorization_code&code=…&redirect_uri=${urls.webRedirectUri}&code_verifier=…&resource=${urls.resource}`,
        },
      ];
    } catch (error) {
      session.steps = [...session.steps, front, errorStep(params.has('error') ? 'Authorization refused' : 'Back channel · code exchange failed', error)];
    }
    return seeOther(reply, '/');
  });

  // The client's server calls the API with the access token.
  app.post('/call-api', async (request, reply) => {
    const session = postedSession(request);
    if (!session?.tokens) return seeOther(reply, '/');
    const api = `${urls.resourceOrigin}/notes`;
    try {
      const response = await fetch(api, { headers: { authorization: `Bearer ${session.tokens.accessToken}`, accept: 'application/json' } });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      session.api = { status: response.status, body, wwwAuthenticate: response.headers.get('www-authenticate') };
      session.steps = [
        {
          kind: response.ok ? 'api' : 'error',
          tag: 'API call · client → protected resource',
          text: response.ok
            ? `The client's server sent GET /notes to the API with the access token in the Authorization header. The API checked the token itself (signature with the authorization server's published keys, issuer, audience ${urls.resource}, expiry, scope notes:read) and answered with the notes of the token's subject.`
            : `The client's server sent the access token to the API, which refused it: the reason is in the WWW-Authenticate header (RFC 6750).`,
          sent: `GET ${api} · Authorization: Bearer ${truncateToken(session.tokens.accessToken)}`,
        },
      ];
    } catch (error) {
      delete session.api;
      session.steps = [errorStep(`API call · ${api} unreachable`, error)];
    }
    return seeOther(reply, '/#api-result');
  });

  // Back channel: the refresh_token grant, with rotation.
  app.post('/refresh', async (request, reply) => {
    const session = postedSession(request);
    const tokens = session?.tokens;
    if (!session || !tokens?.refreshToken) return seeOther(reply, '/');
    try {
      const config = await oidcConfig();
      const response = await oidc.refreshTokenGrant(config, tokens.refreshToken);
      const rotated = response.refresh_token !== undefined && response.refresh_token !== tokens.refreshToken;
      session.tokens = {
        accessToken: response.access_token,
        idToken: response.id_token ?? tokens.idToken,
        refreshToken: response.refresh_token ?? tokens.refreshToken,
        tokenType: response.token_type,
        expiresIn: response.expires_in,
        scope: response.scope,
        receivedAt: Date.now(),
        ...(rotated ? { replacedRefreshToken: tokens.refreshToken } : {}),
      };
      delete session.api;
      session.steps = [
        {
          kind: 'back',
          tag: 'Back channel · client → authorization server',
          text: `The client's server POSTed its refresh token to the token endpoint with grant_type=refresh_token, authenticating with its client secret. Your browser was not involved and you were not asked anything. ${
            rotated
              ? `Gatehouse rotated the refresh token: the old one (${truncateToken(tokens.refreshToken)}) is now spent (presenting it again would revoke the whole family), and a new one (${truncateToken(response.refresh_token!)}) came back with a fresh access token.`
              : 'A fresh access token came back.'
          }`,
          sent: `POST ${config.serverMetadata().token_endpoint ?? '/token'} · Authorization: Basic (demo-web + secret) · grant_type=refresh_token&refresh_token=${truncateToken(tokens.refreshToken)}`,
        },
      ];
    } catch (error) {
      session.steps = [errorStep('Back channel · refresh failed', error)];
    }
    return seeOther(reply, '/');
  });

  app.post('/logout', async (request, reply) => {
    const session = postedSession(request);
    if (session) {
      delete session.tokens;
      delete session.api;
      session.steps = [
        {
          kind: 'front',
          tag: 'Signed out of the client',
          text: 'The client forgot the tokens it held for this browser. Your single sign-on session at the authorization server is still active, so signing in again will not ask for your password.',
        },
      ];
    }
    return seeOther(reply, '/');
  });

  // --- the single-page app (public client) --------------------------------------------------

  const spaHtml = spaPage({ urls, clientId: spaClientId, showCredentials });
  const sendSpa = (reply: FastifyReply): FastifyReply =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', spaCsp(urls))
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer')
      .send(spaHtml);
  app.get('/spa', async (_request, reply) => seeOther(reply, '/spa/'));
  app.get('/spa/', async (_request, reply) => sendSpa(reply));
  app.get('/spa/callback', async (_request, reply) => sendSpa(reply));
  app.get('/spa/app.js', async (_request, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(SPA_SCRIPT),
  );
  app.get('/spa/oauth4webapi.js', async (_request, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(oauth4webapiJs),
  );

  return app;
}
