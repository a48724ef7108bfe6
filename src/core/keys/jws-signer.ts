/**
 * The JWS Compact Serialization (RFC 7515 §7.1) of the tokens Gatehouse issues on the hot path
 * (access tokens, ID tokens), signed synchronously with node:crypto.
 *
 * Why not jose's SignJWT here: jose signs through WebCrypto, whose asynchronous jobs cost about
 * twice the CPU of a synchronous node:crypto signature (bench/floor.ts measures both), and a
 * token request signs two of them. This module only serializes and signs our own claims with
 * our own keys; everything that reads a JWS (verification, JWK import and export) stays with
 * jose, and test/keys/jws-signer.test.ts verifies this module's output with jose.
 */
import { sign, type KeyObject } from 'node:crypto';
import type { SigningAlg } from './signing-key-crypto.js';

export interface JwsSigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
}

/** The JOSE header of a token: `alg` and `kid` are the key's, `typ` when the token type says so. */
export interface JwsHeaderExtras {
  /** RFC 7515 §4.1.9, e.g. `at+jwt` (RFC 9068 §2.1). */
  typ?: string;
}

/**
 * Signs `payload` as a compact JWS with `key`:
 * - ES256 (RFC 7518 §3.4): ECDSA P-256 SHA-256, the signature as R || S, 64 octets
 *   (`dsaEncoding: 'ieee-p1363'`), not the DER that node:crypto produces by default;
 * - RS256 (RFC 7518 §3.3): RSASSA-PKCS1-v1_5 SHA-256, node:crypto's default padding for RSA keys;
 * - EdDSA (RFC 8037 §3.1): Ed25519, which takes no separate digest (`null`).
 */
export function signCompactJws(
  payload: Record<string, unknown>,
  key: JwsSigningKey,
  extras: JwsHeaderExtras = {},
): string {
  const header: Record<string, string> = { alg: key.alg, kid: key.kid };
  if (extras.typ !== undefined) header['typ'] = extras.typ;
  // RFC 7515 §7.1: BASE64URL(UTF8(header)) '.' BASE64URL(payload), and the signature over both.
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${signingInput}.${signatureOver(signingInput, key).toString('base64url')}`;
}

function signatureOver(signingInput: string, key: JwsSigningKey): Buffer {
  const data = Buffer.from(signingInput, 'latin1');
  switch (key.alg) {
    case 'ES256':
      return sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    case 'RS256':
      return sign('sha256', data, key.privateKey);
    case 'EdDSA':
      return sign(null, data, key.privateKey);
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
