/**
 * Signing out of the demo web client, both ways Gatehouse offers:
 *
 * - OpenID Connect RP-Initiated Logout 1.0: the Sign out button (`POST /logout`) sends the
 *   browser to the end_session_endpoint with `id_token_hint`, `client_id`,
 *   `post_logout_redirect_uri` and `state` (§2). Gatehouse ends its single sign-on session and
 *   sends the browser back to `/signed-out` (§3), where the client checks `state`.
 * - OpenID Connect Back-Channel Logout 1.0: whenever the Gatehouse session ends (this button,
 *   another client, or signing out at Gatehouse directly), Gatehouse POSTs a logout token to
 *   `/backchannel-logout` (§2.5). The client validates it (§2.6, with jose and the issuer's
 *   published keys) and forgets the tokens of every browser signed in with that `sid`, so the
 *   next page it shows that browser is signed out.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import * as oidc from 'openid-client';
import { randomBytes } from 'node:crypto';
import type { DemoUrls } from './demo-config.js';
import { errorStep } from './client-flow.js';
import { seeOther } from './client-pages.js';
import { forgetTokens, type ClientSessions } from './client-sessions.js';

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutRoutesOptions {
  urls: DemoUrls;
  clientId: string;
  sessions: ClientSessions;
  oidcConfig: () => Promise<oidc.Configuration>;
}

/** Back-Channel Logout 1.0 §2.8: 400 with an OAuth 2.0 error for a logout token that fails validation. */
function refuse(reply: FastifyReply, description: string): FastifyReply {
  return reply
    .code(400)
    .header('cache-control', 'no-store')
    .send({ error: 'invalid_request', error_description: description });
}

/** Back-Channel Logout 1.0 §2.6: the checks beyond those of an ID token's signature, iss, aud and iat. */
function logoutTokenProblem(claims: JWTPayload): string | undefined {
  if (typeof claims.sub !== 'string' && typeof claims['sid'] !== 'string') return 'the logout token has no sub or sid';
  const events = claims['events'];
  if (typeof events !== 'object' || events === null || !(BACKCHANNEL_LOGOUT_EVENT in events))
    return 'the logout token has no back-channel logout event';
  if ('nonce' in claims) return 'a logout token must not contain a nonce';
  return undefined;
}

export function registerLogoutRoutes(
  app: FastifyInstance,
  { urls, clientId, sessions, oidcConfig }: LogoutRoutesOptions,
): void {
  let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  // Back channel, inbound: Gatehouse tells this client's server that a session ended.
  app.post('/backchannel-logout', async (request, reply) => {
    const logoutToken = request.body instanceof URLSearchParams ? request.body.get('logout_token') : null;
    if (logoutToken === null) return refuse(reply, 'logout_token is missing');
    let claims: JWTPayload;
    try {
      const config = await oidcConfig();
      jwks ??= createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
      // §2.6 steps 3-5: signature with the issuer's keys, iss, aud (this client), iat, and exp;
      // §2.4 / RFC 8725 §3.11: explicitly typed as a logout token, so no ID token passes as one.
      ({ payload: claims } = await jwtVerify(logoutToken, jwks, {
        issuer: config.serverMetadata().issuer,
        audience: clientId,
        typ: 'logout+jwt',
        requiredClaims: ['iat', 'jti', 'events'],
      }));
    } catch (error) {
      return refuse(reply, `the logout token is not valid: ${error instanceof Error ? error.message : String(error)}`);
    }
    const problem = logoutTokenProblem(claims);
    if (problem !== undefined) return refuse(reply, problem);
    // A delivery retried after a lost answer carries the same jti: forgetting the tokens again is
    // harmless, so a repeated jti is accepted rather than refused.
    const sid = typeof claims['sid'] === 'string' ? claims['sid'] : undefined;
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    sessions.signOut(sid !== undefined ? { sid } : sub !== undefined ? { sub } : {}, {
      kind: 'back',
      tag: 'Back channel · authorization server → client (logout)',
      text: `Your session at the authorization server ended, and it POSTed a logout token to this client's ${new URL(urls.webBackchannelLogoutUri).pathname}. The client checked the token (signature with the authorization server's published keys, issuer, audience ${clientId}, typ logout+jwt, the logout event) and forgot the tokens of the browser signed in with that session (sid). Your browser was not involved.`,
      sent: `POST ${urls.webBackchannelLogoutUri} · logout_token=… (sid ${sid ?? '-'}, sub ${sub ?? '-'})`,
    });
    return reply.code(200).header('cache-control', 'no-store').send();
  });

  // Front channel, outbound: the Sign out button goes through Gatehouse's end_session_endpoint.
  app.post('/logout', async (request, reply) => {
    const session = sessions.posted(request);
    if (!session?.tokens) return seeOther(reply, '/');
    let config: oidc.Configuration;
    try {
      config = await oidcConfig();
    } catch (error) {
      session.steps = [errorStep(`Discovery failed (${urls.issuer})`, error)];
      return seeOther(reply, '/');
    }
    const state = randomBytes(16).toString('base64url');
    session.logoutState = state;
    const parameters: Record<string, string> = {
      client_id: clientId,
      post_logout_redirect_uri: urls.webPostLogoutRedirectUri,
      state,
    };
    if (session.tokens.idToken !== undefined) parameters['id_token_hint'] = session.tokens.idToken;
    const url = oidc.buildEndSessionUrl(config, parameters);
    return reply.code(302).header('location', url.href).header('cache-control', 'no-store').send();
  });

  // Front channel, inbound: Gatehouse sends the browser back after the logout (§3).
  app.get('/signed-out', async (request, reply) => {
    const session = sessions.find(request);
    if (!session) return seeOther(reply, '/');
    const state = new URL(request.url, urls.client).searchParams.get('state');
    const expected = session.logoutState;
    delete session.logoutState;
    if (expected === undefined || state !== expected) {
      session.steps = [
        {
          kind: 'error',
          tag: 'Front channel · unexpected return from logout',
          text: 'The browser came back to /signed-out without the state this client sent with its logout request, so the client ignored it.',
        },
      ];
      return seeOther(reply, '/');
    }
    const droppedByBackChannel = session.tokens === undefined;
    forgetTokens(session);
    const endSession = (await oidcConfig()).serverMetadata().end_session_endpoint ?? `${urls.issuer}/logout`;
    session.steps = [
      // The back channel's step (when it came first), then the front channel's.
      ...(droppedByBackChannel ? session.steps : []),
      {
        kind: 'front',
        tag: 'Front channel · client → authorization server → client (logout)',
        text: `The client sent your browser to the authorization server's end_session_endpoint with the ID token as id_token_hint, where to come back to (post_logout_redirect_uri) and a state. The authorization server ended your single sign-on session and sent your browser back here with that state. ${
          droppedByBackChannel
            ? 'The client had already forgotten your tokens: the authorization server told its server directly (back-channel logout) before your browser came back.'
            : 'The client forgot the tokens it held for this browser.'
        } Signing in again asks for your password.`,
        sent: `GET ${endSession}?id_token_hint=…&client_id=${clientId}&post_logout_redirect_uri=${urls.webPostLogoutRedirectUri}&state=${state}`,
      },
    ];
    return seeOther(reply, '/');
  });
}
