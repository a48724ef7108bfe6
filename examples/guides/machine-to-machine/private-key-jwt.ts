/**
 * The same with private_key_jwt (RFC 7523 §2.2, OpenID Connect Core §9): the service signs a
 * short-lived assertion with its private key for every token request; no secret crosses the wire.
 */
import { importJWK, type JWK } from 'jose';
import * as client from 'openid-client';

export async function serviceTokenWithKey(options: {
  issuer: string;
  clientId: string;
  privateJwk: JWK; // the private key, kept by the service (e.g. from a secret store), with its kid
  resource: string;
  scope: string;
}): Promise<string> {
  const key = (await importJWK(options.privateJwk, 'ES256')) as CryptoKey;
  const config = await client.discovery(
    new URL(options.issuer),
    options.clientId,
    undefined,
    // openid-client signs the assertion: iss = sub = client_id, aud = the issuer, a new jti, exp soon.
    client.PrivateKeyJwt({ key, kid: options.privateJwk.kid }),
    { execute: options.issuer.startsWith('http://') ? [client.allowInsecureRequests] : [] },
  );
  const tokens = await client.clientCredentialsGrant(config, { scope: options.scope, resource: options.resource });
  return tokens.access_token;
}
