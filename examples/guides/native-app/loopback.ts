/**
 * Sign-in from a command-line or desktop app through the system browser (RFC 8252): the app
 * listens on a loopback address for the redirect (§7.3), uses PKCE (§8.1) and, being a public
 * client, no secret. With openid-client.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as client from 'openid-client';

export async function signInWithBrowser(options: {
  issuer: string;
  clientId: string;
  /** Opens the URL in the user's browser (e.g. with the `open` package), or prints it. */
  openBrowser: (url: URL) => void | Promise<void>;
}) {
  const config = await client.discovery(new URL(options.issuer), options.clientId, undefined, client.None(), {
    execute: options.issuer.startsWith('http://') ? [client.allowInsecureRequests] : [],
  });

  // 127.0.0.1, not localhost (RFC 8252 §8.3), on a port the system picks.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  try {
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const callback = new Promise<URL>((resolve) => {
      server.on('request', (req, res) => {
        const url = new URL(req.url ?? '/', redirectUri);
        if (url.pathname !== '/callback') return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. You can close this window.');
        resolve(url);
      });
    });
    await options.openBrowser(
      client.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: 'openid profile offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
      }),
    );
    const tokens = await client.authorizationCodeGrant(config, await callback, {
      pkceCodeVerifier: codeVerifier,
      expectedState: state,
    });
    // Keep the refresh token in the system's credential store; refresh with client.refreshTokenGrant().
    return { tokens, claims: tokens.claims()!, refresh: () => client.refreshTokenGrant(config, tokens.refresh_token!) };
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
