/**
 * A server-side web app (Express) that signs its users in with Gatehouse through openid-client:
 * the authorization code flow with PKCE (RFC 7636), state, nonce and iss (RFC 9207) checks.
 */
import { randomUUID } from 'node:crypto';
import express from 'express';
import * as client from 'openid-client';

interface Session {
  codeVerifier?: string;
  state?: string;
  nonce?: string;
  user?: { sub: string; name?: string; email?: string };
}

export async function createWebApp(options: {
  issuer: string; // e.g. https://auth.example.com
  clientId: string;
  clientSecret: string;
  baseUrl: string; // where this app is served, e.g. https://app.example.com
}) {
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    undefined,
    // The method the client is registered with (client_secret_basic is Gatehouse's default).
    client.ClientSecretBasic(options.clientSecret),
    // Only for an http://127.0.0.1 issuer in development.
    { execute: options.issuer.startsWith('http://') ? [client.allowInsecureRequests] : [] },
  );
  const redirectUri = new URL('/callback', options.baseUrl).href;

  // In production, use a real session store (express-session, a database, ...).
  const sessions = new Map<string, Session>();
  const sessionOf = (req: express.Request, res: express.Response): Session => {
    const id = /(?:^|;\s*)sid=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (id && sessions.has(id)) return sessions.get(id)!;
    const created = randomUUID();
    sessions.set(created, {});
    res.cookie('sid', created, { httpOnly: true, sameSite: 'lax', secure: options.baseUrl.startsWith('https:') });
    return sessions.get(created)!;
  };

  const app = express();

  app.get('/', (req, res) => {
    const { user } = sessionOf(req, res);
    res.send(user ? `Signed in as ${user.name ?? user.sub}` : '<a href="/login">Sign in</a>');
  });

  // Front channel: send the browser to Gatehouse.
  app.get('/login', async (req, res) => {
    const session = sessionOf(req, res);
    session.codeVerifier = client.randomPKCECodeVerifier();
    session.state = client.randomState();
    session.nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(session.codeVerifier),
      code_challenge_method: 'S256',
      state: session.state,
      nonce: session.nonce,
    });
    res.redirect(url.href);
  });

  // Back channel: exchange the code (with the secret and the PKCE verifier) for tokens.
  app.get('/callback', async (req, res, next) => {
    try {
      const session = sessionOf(req, res);
      const tokens = await client.authorizationCodeGrant(config, new URL(req.originalUrl, options.baseUrl), {
        pkceCodeVerifier: session.codeVerifier,
        expectedState: session.state,
        expectedNonce: session.nonce,
      });
      const claims = tokens.claims()!;
      const profile = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      session.user = { sub: claims.sub, name: profile.name, email: profile.email };
      delete session.codeVerifier;
      res.redirect('/');
    } catch (error) {
      next(error); // e.g. the user chose Deny: error=access_denied at the callback
    }
  });

  return app;
}
