/**
 * Hand-made DPoP proofs (RFC 9449 §4.2) for protocol tests: a proof key with its RFC 7638
 * thumbprint, and a proof for one request with every part overridable.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface ProofKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
  /** RFC 7638 SHA-256 thumbprint of `jwk` (`cnf.jkt`, `dpop_jkt`). */
  jkt: string;
}

export async function proofKey(alg = 'ES256'): Promise<ProofKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, publicKey, jwk, jkt: await calculateJwkThumbprint(jwk) };
}

/** A DPoP proof for `method` `url` signed by `key`, fresh (iat now, a new jti), `claims` and `header` overriding. */
export function dpopProof(
  url: string,
  key: Pick<ProofKey, 'privateKey' | 'jwk'>,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  method = 'POST',
): Promise<string> {
  return new SignJWT({ jti: randomUUID(), htm: method, htu: url, iat: Math.floor(Date.now() / 1000), ...claims })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...header } as never)
    .sign(key.privateKey);
}
