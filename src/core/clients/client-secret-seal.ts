/**
 * The client secret of a client_secret_jwt client (OpenID Connect Core §9), sealed at rest.
 *
 * Verifying an HS256 assertion needs the secret itself (RFC 7518 §3.2: the HMAC key is the
 * secret's octets), so the one-way hash kept for the other methods is not enough. The secret is
 * kept as an RFC 7517 symmetric JWK (`kty: oct`), encrypted as a compact JWE (`dir`, A256GCM,
 * the same format as the stored signing keys, src/core/keys/signing-key-crypto.ts) under a key
 * derived from GATEHOUSE_SECRET with its own HKDF `info` (RFC 5869 §3.2), so that the database
 * alone does not reveal it.
 */
import type { JWK } from 'jose';
import { decryptPrivateJwk, encryptPrivateJwk } from '../keys/signing-key-crypto.js';
import { deriveSecretKey } from '../secrets.js';

const sealingKeys = new Map<string, Uint8Array>();

function sealingKey(instanceSecret: string): Uint8Array {
  let key = sealingKeys.get(instanceSecret);
  if (!key) {
    key = deriveSecretKey(instanceSecret, 'gatehouse client-secret sealing v1');
    sealingKeys.set(instanceSecret, key);
  }
  return key;
}

/** Seals `clientSecret` under the instance secret (GATEHOUSE_SECRET). */
export function sealClientSecret(clientSecret: string, instanceSecret: string): Promise<string> {
  const jwk: JWK = { kty: 'oct', k: Buffer.from(clientSecret, 'utf8').toString('base64url') };
  return encryptPrivateJwk(jwk, sealingKey(instanceSecret));
}

/** The HMAC key (RFC 7518 §3.2: the secret's UTF-8 octets) of a sealed secret; throws when it does not open. */
export async function openClientSecret(sealed: string, instanceSecret: string): Promise<Uint8Array> {
  const jwk = await decryptPrivateJwk(sealed, sealingKey(instanceSecret));
  if (jwk.kty !== 'oct' || typeof jwk.k !== 'string') throw new Error('sealed client secret is not a symmetric JWK');
  return new Uint8Array(Buffer.from(jwk.k, 'base64url'));
}
