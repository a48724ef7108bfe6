/**
 * A FAPI 2.0 client for the tests of test/fapi: its keys and fixture, and oauth4webapi set up as
 * such a client (PAR + PKCE + DPoP + private_key_jwt).
 */
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { UserAgent } from './user-agent.js';
import { ALICE } from './server.js';

export const FAPI_KID = 'fapi-es256';
export const fapiKeys = await generateKeyPair('ES256', { extractable: true });
export const rsaKeys = await generateKeyPair('RS256', { extractable: true });

/** A client meeting every rule of the FAPI 2.0 Security Profile. */
export const FAPI_CLIENT: ClientFixture = {
  client_id: 'fapi-app',
  redirect_uris: ['http://127.0.0.1:9000/fapi-callback'],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'private_key_jwt',
  scope: 'openid profile offline_access',
  require_pkce: true,
  jwks: { keys: [{ ...(await exportJWK(fapiKeys.publicKey)), kid: FAPI_KID, use: 'sig' }] },
  profile: 'fapi2',
  dpop_bound_access_tokens: true,
  require_pushed_authorization_requests: true,
};

/** A fapi2 client whose only key is an RSA key (assertions it signs are RS256). */
export const RSA_FAPI_CLIENT: ClientFixture = {
  ...FAPI_CLIENT,
  client_id: 'fapi-rsa-app',
  jwks: { keys: [{ ...(await exportJWK(rsaKeys.publicKey)), kid: 'fapi-rs256', use: 'sig' }] },
};

export { INSECURE as insecure } from './oauth4webapi-discovery.js';
import { INSECURE as insecure, discoverOidc } from './oauth4webapi-discovery.js';

export interface FapiSession {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
  DPoP: oauth.DPoPHandle;
}

/** oauth4webapi as `fixture` (ES256 private_key_jwt unless `key` says otherwise), with a DPoP key of `dpopAlg`. */
export async function fapiSession(
  gatehouse: RunningGatehouse,
  fixture: ClientFixture = FAPI_CLIENT,
  options: { key?: CryptoKey; kid?: string; dpopAlg?: string } = {},
): Promise<FapiSession> {
  const as = await discoverOidc(gatehouse);
  const client: oauth.Client = { client_id: fixture.client_id, id_token_signed_response_alg: 'ES256' };
  const auth = oauth.PrivateKeyJwt({
    key: (options.key ?? fapiKeys.privateKey) as CryptoKey,
    kid: options.kid ?? FAPI_KID,
  });
  const DPoP = oauth.DPoP(client, await oauth.generateKeyPair(options.dpopAlg ?? 'ES256'));
  return { as, client, auth, DPoP };
}

/** Pushes an authorization request (PKCE S256) and signs ALICE in; returns the callback and verifier. */
export async function authorizeWithPar(
  gatehouse: RunningGatehouse,
  session: FapiSession,
  redirectUri: string = FAPI_CLIENT.redirect_uris[0]!,
): Promise<{ callback: URLSearchParams; verifier: string; nonce: string }> {
  const { as, client, auth, DPoP } = session;
  const verifier = oauth.generateRandomCodeVerifier();
  const nonce = oauth.generateRandomNonce();
  const pushed = await oauth.processPushedAuthorizationResponse(
    as,
    client,
    await oauth.pushedAuthorizationRequest(
      as,
      client,
      auth,
      {
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid offline_access',
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      },
      { DPoP, ...insecure },
    ),
  );
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('request_uri', pushed.request_uri);
  const final = await new UserAgent(gatehouse.url).authorize(url.href, ALICE);
  assert.equal(final.status, 303, final.body.slice(0, 300));
  // RFC 9207 (FAPI 2.0 §5.3.2.2): validateAuthResponse checks `iss`, which discovery promises.
  const callback = oauth.validateAuthResponse(as, client, new URL(final.location!), oauth.skipStateCheck);
  return { callback, verifier, nonce };
}

/** The token request of the code in `callback`, as oauth4webapi sends it. */
export function redeemCode(
  session: FapiSession,
  flow: { callback: URLSearchParams; verifier: string },
  redirectUri: string = FAPI_CLIENT.redirect_uris[0]!,
): Promise<Response> {
  const { as, client, auth, DPoP } = session;
  return oauth.authorizationCodeGrantRequest(as, client, auth, flow.callback, redirectUri, flow.verifier, {
    DPoP,
    ...insecure,
  });
}
