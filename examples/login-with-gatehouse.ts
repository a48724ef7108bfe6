/**
 * Login with Gatehouse: a minimal Node relying party with openid-client.
 * docs/guides/web-app.md shows this file; test/oidc/readme-snippet.test.ts runs it against a live server.
 */
import * as client from 'openid-client';

export async function loginWithGatehouse(options: {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Sends the browser to the URL and resolves with the URL it comes back to. */
  browser: (authorizationUrl: URL) => Promise<URL>;
}) {
  // Gatehouse clients authenticate with the method they registered: client_secret_basic by default.
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    undefined,
    client.ClientSecretBasic(options.clientSecret),
    {
      // Only for an http://localhost issuer in development.
      execute: options.issuer.startsWith('http://') ? [client.allowInsecureRequests] : [],
    },
  );
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorizationUrl = client.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callbackUrl = await options.browser(authorizationUrl);
  // Checks state and iss (RFC 9207), exchanges the code, validates the ID token.
  const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  const claims = tokens.claims()!;
  const profile = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  return { tokens, claims, profile };
}
