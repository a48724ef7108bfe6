/**
 * The client metadata of RFC 7523 §2.2 client authentication: `jwks` and `jwks_uri` (RFC 7591
 * §2) and `token_endpoint_auth_signing_alg` (OpenID Connect Dynamic Client Registration §2); and
 * the rule every URL the server itself requests must meet (`jwks_uri`, `backchannel_logout_uri`).
 */
import { createPublicKey } from 'node:crypto';
import type { JwkSet, TokenEndpointAuthMethod } from '../../store/store.js';
import { ClientMetadataError } from '../errors.js';
import { staticRefusal, type OutboundPolicy } from '../outbound/safe-fetch.js';
import { ASSERTION_SIGNING_ALGS, type ValidatedClientMetadata } from './client-metadata-fields.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** RFC 7518 §6.2.2, §6.3.2, RFC 8037 §2 and RFC 7518 §6.4: the members that hold private or secret key material. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_KEYS = 32;

/**
 * An absolute URL the server sends requests to: https (http only on a loopback host, for
 * development), without fragment or user information, and, when it is an IP literal, not in a
 * private or other special range unless outbound_allow_private_addresses (host names are checked
 * when the request is made, src/core/outbound/safe-fetch.ts). `spec` names the rule's source.
 */
export function validateOutboundUri(field: string, uri: string, outbound: OutboundPolicy, spec: string): void {
  if (uri.length === 0 || !/^[\x21-\x7E]+$/.test(uri)) {
    throw new ClientMetadataError(
      field,
      `${field} ${JSON.stringify(uri)} must be a non-empty absolute URL without spaces or non-ASCII characters`,
    );
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new ClientMetadataError(field, `${field} ${uri} is not a valid absolute URL (${spec})`);
  }
  if (uri.includes('#')) throw new ClientMetadataError(field, `${field} ${uri} must not include a fragment (${spec})`);
  if (url.username !== '' || url.password !== '')
    throw new ClientMetadataError(field, `${field} ${uri} must not contain user information`);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new ClientMetadataError(
      field,
      `${field} ${uri} must use https (${spec}); http only on a loopback host (localhost, 127.0.0.1, [::1]) for development`,
    );
  }
  // The server requests this URL, so it must not name the server's own network: an IP literal
  // (as the URL parser reads it: 127.1, 0x7f.1 and 2130706433 are 127.0.0.1) in a private,
  // loopback, link-local or other special range is refused here already (OWASP SSRF Prevention).
  const refusal = staticRefusal(url, outbound);
  if (refusal !== null) {
    throw new ClientMetadataError(
      field,
      `${field} ${uri} is refused: ${refusal}; requests to private, loopback and link-local addresses are refused unless outbound_allow_private_addresses is true`,
    );
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A JWK Set of public keys (RFC 7517 §5): each key a public RSA, EC or OKP key that Node can
 * import, with no private member (a client that registers its private key has given it away).
 * `field` is where the set came from, for the error.
 */
export function validateJwkSet(value: unknown, field: string): JwkSet {
  if (!isRecord(value) || !Array.isArray(value['keys'])) {
    throw new ClientMetadataError(field, `${field} must be a JWK Set: an object with a "keys" array (RFC 7517 §5)`);
  }
  const keys = value['keys'] as unknown[];
  if (keys.length === 0 || keys.length > MAX_KEYS) {
    throw new ClientMetadataError(field, `${field} must hold 1 to ${MAX_KEYS} keys`);
  }
  const kids = new Set<string>();
  keys.forEach((key, index) => {
    const keyField = `${field}.keys[${index}]`;
    if (!isRecord(key)) throw new ClientMetadataError(keyField, `${keyField} must be a JWK object (RFC 7517 §4)`);
    const secret = PRIVATE_JWK_MEMBERS.filter((member) => member in key);
    if (secret.length > 0) {
      throw new ClientMetadataError(
        keyField,
        `${keyField} holds private key material (${secret.join(', ')}); register public keys only: the private key never leaves the client (RFC 7523 §2.2)`,
      );
    }
    try {
      createPublicKey({ key: key as never, format: 'jwk' });
    } catch (error) {
      throw new ClientMetadataError(
        keyField,
        `${keyField} is not a usable public RSA, EC or OKP key: ${(error as Error).message}`,
      );
    }
    const kid = key['kid'];
    if (kid !== undefined) {
      if (typeof kid !== 'string') throw new ClientMetadataError(keyField, `${keyField}.kid must be a string`);
      if (kids.has(kid)) throw new ClientMetadataError(keyField, `${keyField}.kid "${kid}" is used by two keys`);
      kids.add(kid);
    }
  });
  return { keys: keys as JwkSet['keys'] };
}

/**
 * `jwks`, `jwks_uri` and `token_endpoint_auth_signing_alg`. RFC 7591 §2: jwks and jwks_uri MUST
 * NOT both be present; private_key_jwt needs one of them (RFC 7523 §2.2: the server verifies
 * the assertion with the client's public key). The signing alg, when set, must be one the
 * client's method allows (ASSERTION_SIGNING_ALGS) and is then the only one accepted.
 */
export function validateClientKeyMetadata(
  input: Record<string, unknown>,
  authMethod: TokenEndpointAuthMethod,
  outbound: OutboundPolicy,
  optionalString: (metadata: Record<string, unknown>, field: string) => string | undefined,
): Pick<ValidatedClientMetadata, 'jwks' | 'jwks_uri' | 'token_endpoint_auth_signing_alg'> {
  const jwksRaw = input['jwks'];
  const jwks = jwksRaw === undefined || jwksRaw === null ? undefined : validateJwkSet(jwksRaw, 'jwks');
  const jwksUri = optionalString(input, 'jwks_uri');
  if (jwks !== undefined && jwksUri !== undefined) {
    throw new ClientMetadataError('jwks', 'jwks and jwks_uri must not both be present (RFC 7591 §2); register one');
  }
  if (jwksUri !== undefined) validateOutboundUri('jwks_uri', jwksUri, outbound, 'RFC 7591 §2');
  if (authMethod === 'private_key_jwt' && jwks === undefined && jwksUri === undefined) {
    throw new ClientMetadataError(
      'token_endpoint_auth_method',
      'a private_key_jwt client needs its public keys in jwks or jwks_uri (RFC 7523 §2.2, RFC 7591 §2)',
    );
  }
  if (authMethod === 'none' && (jwks !== undefined || jwksUri !== undefined)) {
    throw new ClientMetadataError(
      jwks !== undefined ? 'jwks' : 'jwks_uri',
      'a public client (token_endpoint_auth_method "none") has no keys to register; use private_key_jwt to authenticate with a key',
    );
  }
  const alg = optionalString(input, 'token_endpoint_auth_signing_alg');
  if (alg !== undefined) {
    if (authMethod !== 'private_key_jwt' && authMethod !== 'client_secret_jwt') {
      throw new ClientMetadataError(
        'token_endpoint_auth_signing_alg',
        `token_endpoint_auth_signing_alg is only used with private_key_jwt or client_secret_jwt, not ${authMethod}`,
      );
    }
    const allowed: readonly string[] = ASSERTION_SIGNING_ALGS[authMethod];
    if (!allowed.includes(alg)) {
      throw new ClientMetadataError(
        'token_endpoint_auth_signing_alg',
        `token_endpoint_auth_signing_alg "${alg}" is not allowed with ${authMethod}; use ${allowed.join(', ')} (never "none"${authMethod === 'private_key_jwt' ? ', and no HMAC algorithm with a public key' : ''})`,
      );
    }
  }
  return { jwks, jwks_uri: jwksUri, token_endpoint_auth_signing_alg: alg };
}
