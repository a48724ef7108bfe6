/**
 * The demo web client's protocol steps, as routes, with openid-client: `/login` sends the browser
 * to the authorization endpoint with PKCE (S256), `state`, `nonce` and `resource` (front
 * channel); `/callback` lets openid-client check `state` and `iss` and exchange the code with the
 * client secret and the PKCE verifier (back channel), then fetches UserInfo; `/call-api` calls the
 * notes API from the server; `/refresh` uses the refresh token. Each records the steps it took,
 * which the home page tells. Signing out is in client-logout.ts.
 */
import type { FastifyInstance } from 'fastify';
import * as oidc from 'openid-client';
import { DEMO_SCOPE, type DemoUrls } from './demo-config.js';
import { seeOther, truncateToken } from './client-pages.js';
import type { BrowserSession, ClientSessions, Step } from './client-sessions.js';

export interface WebClientRoutesOptions {
  urls: DemoUrls;
  clientId: string;
  sessions: ClientSessions;
  /** The issuer's configuration (see webClientDiscovery). */
  oidcConfig: () => Promise<oidc.Configuration>;
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

export function errorStep(tag: string, error: unknown): Step {
  return { kind: 'error', tag, text: errorText(error) };
}

/** The ID token's `sub` and `sid`, which a logout token names (Back-Channel Logout 1.0 §2.4). */
function idTokenSession(claims: oidc.IDToken | undefined): { sub?: string; sid?: string } {
  if (!claims) return {};
  return { sub: claims.sub, ...(typeof claims['sid'] === 'string' ? { sid: claims['sid'] } : {}) };
}

/** Discovery of the issuer for the web client, memoised once it succeeds (the authorization server may start after the client). */
export function webClientDiscovery(
  urls: DemoUrls,
  clientId: string,
  clientSecret: string,
): () => Promise<oidc.Configuration> {
  let configuration: Promise<oidc.Configuration> | undefined;
  return () => {
    configuration ??= oidc
      .discovery(new URL(urls.issuer), clientId, undefined, oidc.ClientSecretBasic(clientSecret), {
        execute: new URL(urls.issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      })
      .catch((error: unknown) => {
        configuration = undefined;
        throw error;
      });
    return configuration;
  };
}

/**
 * OpenID Connect Core §5.3: UserInfo. Its endpoint is at the issuer, so it needs an access token
 * whose audience is the issuer (RFC 8707 / RFC 9068 §3), while the first token is for the notes
 * API only: the refresh token (issued for both resources) gets a second one, narrowed to the
 * issuer (RFC 8707 §2.2). Updates the held refresh token (rotated) and the session's UserInfo.
 */
async function fetchUserInfo(config: oidc.Configuration, session: BrowserSession, urls: DemoUrls): Promise<Step> {
  const tokens = session.tokens!;
  const userinfo = `${config.serverMetadata().userinfo_endpoint ?? '/userinfo'}`;
  try {
    if (!tokens.refreshToken || !tokens.sub)
      throw new Error('no refresh token or no subject to check UserInfo against');
    const response = await oidc.refreshTokenGrant(config, tokens.refreshToken, { resource: urls.issuer });
    tokens.refreshToken = response.refresh_token ?? tokens.refreshToken;
    const claims = await oidc.fetchUserInfo(config, response.access_token, tokens.sub);
    session.userinfo = { claims: { ...claims } };
    return {
      kind: 'back',
      tag: 'Back channel · client → authorization server (UserInfo)',
      text: `The access token above is for the notes API only, so the client used its refresh token to get a second one for the authorization server itself (resource ${urls.issuer}), and sent it to the UserInfo endpoint. The answer is the profile below; openid-client checked that its sub is the ID token's.`,
      sent: `GET ${userinfo} · Authorization: Bearer …`,
    };
  } catch (error) {
    session.userinfo = { error: errorText(error) };
    return errorStep('Back channel · UserInfo failed', error);
  }
}

export function registerWebClientRoutes(
  app: FastifyInstance,
  { urls, clientId, sessions, oidcConfig }: WebClientRoutesOptions,
): void {
  // Front channel, outbound: send the browser to the authorization endpoint.
  app.get('/login', async (request, reply) => {
    const session = sessions.ensure(request, reply);
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
    const url = oidc.buildAuthorizationUrl(
      config,
      new URLSearchParams([
        ['redirect_uri', urls.webRedirectUri],
        ['scope', DEMO_SCOPE],
        ['code_challenge', await oidc.calculatePKCECodeChallenge(verifier)],
        ['code_challenge_method', 'S256'],
        ['state', state],
        ['nonce', nonce],
        // RFC 8707: the notes API, and the issuer for UserInfo (each token is then for one of them).
        ['resource', urls.resource],
        ['resource', urls.issuer],
      ]),
    );
    session.steps = [
      {
        kind: 'front',
        tag: 'Front channel · client → your browser → authorization server',
        text: `The client redirected your browser to the authorization endpoint. The request named the client, where to come back to, the scopes, the resources the tokens are for (the notes API, and the authorization server for UserInfo), a random state and nonce, and a PKCE code_challenge: a hash of a code_verifier that stayed on the client's server.`,
        sent: `GET ${url.origin}${url.pathname}?client_id=${clientId}&redirect_uri=${urls.webRedirectUri}&scope=${DEMO_SCOPE}&resource=${urls.resource}&resource=${urls.issuer}&state=${truncateToken(state)}&nonce=${truncateToken(nonce)}&code_challenge=${truncateToken(url.searchParams.get('code_challenge') ?? '')}&code_challenge_method=S256`,
      },
    ];
    return reply.code(302).header('location', url.href).header('cache-control', 'no-store').send();
  });

  // Front channel, inbound, then the back channel: the code exchange.
  app.get('/callback', async (request, reply) => {
    const session = sessions.find(request);
    const currentUrl = new URL(request.url, urls.webRedirectUri);
    const params = currentUrl.searchParams;
    if (!session || !session.pending) {
      const fresh = sessions.ensure(request, reply);
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
      sent: [...params.entries()]
        .map(([name, value]) => `${name}=${name === 'iss' || name.startsWith('error') ? value : truncateToken(value)}`)
        .join('&'),
    };
    let config: oidc.Configuration;
    try {
      config = await oidcConfig();
      const response = await oidc.authorizationCodeGrant(
        config,
        currentUrl,
        {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        },
        { resource: urls.resource },
      );
      const code = params.get('code');
      if (code !== null) session.redeemed = { code, verifier: pending.verifier };
      session.tokens = {
        accessToken: response.access_token,
        idToken: response.id_token,
        refreshToken: response.refresh_token,
        tokenType: response.token_type,
        expiresIn: response.expires_in,
        scope: response.scope,
        receivedAt: Date.now(),
        ...idTokenSession(response.claims()),
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
        await fetchUserInfo(config, session, urls),
      ];
    } catch (error) {
      session.steps = [
        ...session.steps,
        front,
        errorStep(params.has('error') ? 'Authorization refused' : 'Back channel · code exchange failed', error),
      ];
    }
    return seeOther(reply, '/');
  });

  // The client's server calls the API with the access token.
  app.post('/call-api', async (request, reply) => {
    const session = sessions.posted(request);
    if (!session?.tokens) return seeOther(reply, '/');
    const api = `${urls.resourceOrigin}/notes`;
    try {
      const response = await fetch(api, {
        headers: { authorization: `Bearer ${session.tokens.accessToken}`, accept: 'application/json' },
      });
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
    const session = sessions.posted(request);
    const tokens = session?.tokens;
    if (!session || !tokens?.refreshToken) return seeOther(reply, '/');
    try {
      const config = await oidcConfig();
      // RFC 8707 §2.2: the new access token is for the notes API again.
      const response = await oidc.refreshTokenGrant(config, tokens.refreshToken, { resource: urls.resource });
      const rotated = response.refresh_token !== undefined && response.refresh_token !== tokens.refreshToken;
      session.tokens = {
        accessToken: response.access_token,
        idToken: response.id_token ?? tokens.idToken,
        refreshToken: response.refresh_token ?? tokens.refreshToken,
        tokenType: response.token_type,
        expiresIn: response.expires_in,
        scope: response.scope,
        receivedAt: Date.now(),
        ...(tokens.sub !== undefined ? { sub: tokens.sub } : {}),
        ...(tokens.sid !== undefined ? { sid: tokens.sid } : {}),
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
}
