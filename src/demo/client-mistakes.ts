/**
 * The demo web client's deliberate mistakes: each button makes one classic error on purpose, so
 * the flow inspector (`/_gatehouse/flows`, on in the demo) can show how Gatehouse or the API
 * refuses it and why. Wrong redirect_uri and missing PKCE start a new authorization (front
 * channel); the others need a signed-in client: a replayed code, an expired token at the API, a
 * token for another audience, and a refresh token used again after rotation.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import * as oidc from 'openid-client';
import { DEMO_SCOPE, LATER_NOTES_PATH, type DemoUrls, inspectorUrl } from './demo-config.js';
import { seeOther } from './client-pages.js';
import type { BrowserSession, ClientSessions, Step } from './client-sessions.js';

export interface MistakeRoutesOptions {
  urls: DemoUrls;
  clientId: string;
  clientSecret: string;
  sessions: ClientSessions;
  oidcConfig: () => Promise<oidc.Configuration>;
}

const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

export function registerMistakeRoutes(app: FastifyInstance, options: MistakeRoutesOptions): void {
  const { urls, clientId, clientSecret, sessions, oidcConfig } = options;
  const inspector = inspectorUrl(urls);
  const basic = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;

  const mistake = (tag: string, text: string, extra: Partial<Step> = {}): Step => ({
    kind: 'error',
    tag: `Mistake on purpose · ${tag}`,
    text,
    inspect: inspector,
    ...extra,
  });

  async function authorizationUrl(
    session: BrowserSession,
    change: { redirectUri?: string; pkce: boolean },
  ): Promise<URL> {
    const config = await oidcConfig();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    session.pending = { state, nonce, verifier };
    const params = new URLSearchParams([
      ['redirect_uri', change.redirectUri ?? urls.webRedirectUri],
      ['scope', DEMO_SCOPE],
      ['state', state],
      ['nonce', nonce],
      ['resource', urls.resource],
    ]);
    if (change.pkce) {
      params.set('code_challenge', await oidc.calculatePKCECodeChallenge(verifier));
      params.set('code_challenge_method', 'S256');
    }
    return oidc.buildAuthorizationUrl(config, params);
  }

  const redirect = (reply: FastifyReply, url: URL) =>
    reply.code(302).header('location', url.href).header('cache-control', 'no-store').send();

  // RFC 9700 §4.1.3: a redirect_uri that is not registered gets an error page, never a redirect.
  app.get('/mistakes/wrong-redirect-uri', async (request, reply) => {
    const session = sessions.ensure(request, reply);
    const wrong = `${urls.client}/callbak`;
    session.steps = [
      mistake(
        'wrong redirect_uri',
        `The client sent your browser to the authorization endpoint with redirect_uri ${wrong} (a typo of the registered ${urls.webRedirectUri}). Gatehouse must not redirect anywhere it was not told to, so it showed an error page instead.`,
      ),
    ];
    return redirect(reply, await authorizationUrl(session, { redirectUri: wrong, pkce: true }));
  });

  // RFC 9700 §2.1.1: this client is registered with require_pkce, so a request without it is refused.
  app.get('/mistakes/missing-pkce', async (request, reply) => {
    const session = sessions.ensure(request, reply);
    session.steps = [
      mistake(
        'missing PKCE',
        'The client sent your browser to the authorization endpoint without a code_challenge. Its redirect_uri is registered, so Gatehouse sent the error back to the client instead of asking you to sign in.',
      ),
    ];
    return redirect(reply, await authorizationUrl(session, { pkce: false }));
  });

  async function tokenRequest(
    form: Record<string, string>,
  ): Promise<{ status: number; body: string; flow: string | null }> {
    const config = await oidcConfig();
    const response = await fetch(config.serverMetadata().token_endpoint!, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    const text = await response.text();
    let shown = `HTTP ${response.status}`;
    try {
      const json = JSON.parse(text) as { error?: unknown; error_description?: unknown };
      // Only the error: a successful answer would carry tokens, which this page never prints.
      if (typeof json.error === 'string') shown = `${json.error}: ${String(json.error_description ?? '')}`;
    } catch {
      // Not JSON: the status says enough.
    }
    return { status: response.status, body: shown, flow: response.headers.get('gatehouse-flow') };
  }

  // RFC 6749 §4.1.2: a code is single-use; a second redemption revokes what the first issued.
  app.post('/mistakes/replay-code', async (request, reply) => {
    const session = sessions.posted(request);
    if (!session?.redeemed) return seeOther(reply, '/');
    const answer = await tokenRequest({
      grant_type: 'authorization_code',
      code: session.redeemed.code,
      redirect_uri: urls.webRedirectUri,
      code_verifier: session.redeemed.verifier,
    });
    session.steps = [
      mistake(
        'replayed code',
        `The client's server POSTed the code it had already redeemed to the token endpoint again, as an attacker who copied it from a log would. Gatehouse answered HTTP ${answer.status} and revoked the tokens issued from that code.`,
        { sent: answer.body, ...(answer.flow ? { inspect: answer.flow } : {}) },
      ),
    ];
    return seeOther(reply, '/');
  });

  async function callApi(path: string, accessToken: string): Promise<{ status: number; challenge: string | null }> {
    const response = await fetch(`${urls.resourceOrigin}${path}`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
    });
    await response.body?.cancel();
    return { status: response.status, challenge: response.headers.get('www-authenticate') };
  }

  // RFC 9068 §4: an expired access token is refused by the resource.
  app.post('/mistakes/expired-token', async (request, reply) => {
    const session = sessions.posted(request);
    if (!session?.tokens) return seeOther(reply, '/');
    const answer = await callApi(LATER_NOTES_PATH, session.tokens.accessToken);
    session.steps = [
      mistake(
        'expired token at the API',
        `The client called the notes API at ${LATER_NOTES_PATH}, whose clock runs a day ahead: as if it had kept using the access token after it expired instead of refreshing it. The API answered HTTP ${answer.status}.`,
        { sent: `WWW-Authenticate: ${answer.challenge ?? '(none)'}` },
      ),
    ];
    return seeOther(reply, '/');
  });

  // RFC 8707 §2: a token for the authorization server (UserInfo) is not a key to the notes API.
  app.post('/mistakes/wrong-audience', async (request, reply) => {
    const session = sessions.posted(request);
    const tokens = session?.tokens;
    if (!session || !tokens?.refreshToken) return seeOther(reply, '/');
    try {
      const config = await oidcConfig();
      const other = await oidc.refreshTokenGrant(config, tokens.refreshToken, { resource: urls.issuer });
      tokens.refreshToken = other.refresh_token ?? tokens.refreshToken;
      const answer = await callApi('/notes', other.access_token);
      session.steps = [
        mistake(
          'wrong audience',
          `The client refreshed for a token whose audience is the authorization server (${urls.issuer}, for UserInfo) and sent it to the notes API, whose audience is ${urls.resource}. The API answered HTTP ${answer.status}.`,
          { sent: `WWW-Authenticate: ${answer.challenge ?? '(none)'}` },
        ),
      ];
    } catch (error) {
      session.steps = [mistake('wrong audience', `The refresh before the call failed: ${String(error)}`)];
    }
    return seeOther(reply, '/');
  });

  // RFC 9700 §4.14.2: a rotated refresh token presented again revokes the whole family.
  app.post('/mistakes/reuse-refresh', async (request, reply) => {
    const session = sessions.posted(request);
    const tokens = session?.tokens;
    if (!session || !tokens?.refreshToken) return seeOther(reply, '/');
    const stolen = tokens.refreshToken;
    try {
      const config = await oidcConfig();
      // Twice: a token presented again right after one rotation is a retry (refresh_token_grace_seconds),
      // once its successor has been used it can only be a copy.
      const first = await oidc.refreshTokenGrant(config, stolen, { resource: urls.resource });
      const second = await oidc.refreshTokenGrant(config, first.refresh_token ?? stolen, { resource: urls.resource });
      tokens.accessToken = second.access_token;
      tokens.refreshToken = second.refresh_token ?? tokens.refreshToken;
      tokens.replacedRefreshToken = first.refresh_token ?? stolen;
      const answer = await tokenRequest({ grant_type: 'refresh_token', refresh_token: stolen });
      session.steps = [
        mistake(
          'stolen refresh token reused',
          `The client refreshed twice (Gatehouse rotated the refresh token each time), then the first, long spent refresh token was presented again, as a thief holding a copy would. Gatehouse answered HTTP ${answer.status} and revoked the whole family: the client's newest refresh token is dead too, and you must sign in again.`,
          { sent: answer.body, ...(answer.flow ? { inspect: answer.flow } : {}) },
        ),
      ];
    } catch (error) {
      session.steps = [mistake('stolen refresh token reused', `The first refresh failed: ${String(error)}`)];
    }
    return seeOther(reply, '/');
  });
}
