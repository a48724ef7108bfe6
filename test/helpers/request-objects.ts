/**
 * Signed request objects (RFC 9101) for protocol tests: a client with registered request-object
 * keys, and request objects signed with them, every claim overridable.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { authorizeParams } from './code-flow.js';

export interface SigningKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A key pair of `alg` whose public half a client registers (with `kid`). */
export async function signingKey(alg: string, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A confidential (client_secret_basic) client with `keys` registered as its jwks. */
export function jarClient(clientId: string, keys: SigningKey[], overrides: Partial<ClientFixture> = {}): ClientFixture {
  return {
    client_id: clientId,
    client_secret: `${clientId}-secret-long-enough-0123456789`,
    redirect_uris: [`http://127.0.0.1:9000/${clientId}/callback`],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid profile email',
    require_pkce: true,
    jwks: { keys: keys.map((key) => key.publicJwk as Record<string, unknown>) },
    ...overrides,
  };
}

export interface RequestObjectOptions {
  /** Claims added or replaced (an authorization request parameter or a JWT claim). */
  claims?: Record<string, unknown>;
  /** Claims left out. */
  omit?: string[];
  /** Protected header members added or replaced (alg stays the key's unless given). */
  header?: Record<string, unknown>;
}

/**
 * RFC 9101 §4: the request object of `client`'s valid authorization request (authorizeParams:
 * state xyz, PKCE S256), with iss, aud (the issuer), client_id, jti, iat, nbf and exp (60 s),
 * signed with `key`.
 */
export function requestObject(
  gatehouse: Pick<RunningGatehouse, 'url'>,
  client: ClientFixture,
  key: SigningKey,
  options: RequestObjectOptions = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    ...authorizeParams(client),
    iss: client.client_id,
    aud: gatehouse.url,
    jti: randomUUID(),
    iat: now,
    nbf: now,
    exp: now + 60,
    ...options.claims,
  };
  for (const name of options.omit ?? []) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: 'oauth-authz-req+jwt', kid: key.publicJwk.kid, ...options.header })
    .sign(key.privateKey);
}
