/**
 * The cryptography of stored signing keys: the keys derived from the instance secret, the
 * encryption of private keys at rest, and new key records.
 *
 * Encryption at rest is a compact JWE (`dir`, `A256GCM`) made with jose, under a 256-bit key
 * derived from GATEHOUSE_SECRET with HKDF-SHA-256. Without the secret the stored keys are useless.
 * The refresh token successors the ring seals (KeyRing.seal, ./key-ring.ts) use another key
 * derived from the same secret under its own HKDF `info` (RFC 5869 §3.2: one derived key per purpose).
 */
import type { KeyObject } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from 'jose';
import type { SigningKeyRecord } from '../../store/store.js';
import { deriveSecretKey } from '../secrets.js';

export type SigningAlg = 'ES256' | 'EdDSA' | 'RS256';

export interface SigningKey {
  kid: string;
  alg: SigningAlg;
  privateKey: KeyObject;
  publicJwk: JWK;
}

/**
 * Derives the key-encryption key of the signing keys from the instance secret (RFC 5869 HKDF).
 * Its `info` is unchanged since the first release, so the key rings already stored load as they are.
 */
export function deriveKeyEncryptionKey(secret: string): Uint8Array {
  return deriveSecretKey(secret, 'gatehouse signing-key encryption v1');
}

/**
 * Derives the key that seals refresh token successors (KeyRing.seal) from the instance secret,
 * under its own HKDF `info` (RFC 5869 §3.2), so that it is never the key that encrypts the
 * signing keys: a sealed successor can never be opened as, or traded for, a signing key.
 */
export function deriveSealingKey(secret: string): Uint8Array {
  return deriveSecretKey(secret, 'gatehouse refresh-successor sealing v1');
}

/**
 * The `kid` of the JWEs sealed under deriveSealingKey. A sealed value without it was sealed
 * under the signing-key KEK by an earlier release; such a value lives only as long as the
 * refresh grace window (refreshTokenGraceSeconds) and is still opened with that key.
 */
export const SEALING_KEY_ID = 'refresh-successor-v1';

export async function encryptPrivateJwk(jwk: JWK, kek: Uint8Array): Promise<string> {
  const plaintext = new TextEncoder().encode(JSON.stringify(jwk));
  return new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(kek);
}

export async function decryptPrivateJwk(jwe: string, kek: Uint8Array): Promise<JWK> {
  const { plaintext } = await compactDecrypt(jwe, kek, {
    keyManagementAlgorithms: ['dir'],
    contentEncryptionAlgorithms: ['A256GCM'],
  });
  return JSON.parse(new TextDecoder().decode(plaintext)) as JWK;
}

export async function createSigningKeyRecord(
  alg: SigningAlg,
  kek: Uint8Array,
  now: number,
  activatesAt = now,
): Promise<SigningKeyRecord> {
  for (;;) {
    const { privateKey, publicKey } = await generateKeyPair(alg, {
      extractable: true,
      ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
      ...(alg === 'RS256' ? { modulusLength: 2048 } : {}),
    });
    const publicJwk = await exportJWK(publicKey);
    // RFC 7638 thumbprint: a stable, collision-free key id. One that starts with "-" (1 key in
    // 64) would read as an option in `gatehouse keys retire KID`, so such a key is discarded.
    const kid = await calculateJwkThumbprint(publicJwk);
    if (kid.startsWith('-')) continue;
    return sealSigningKeyRecord(alg, kek, now, activatesAt, kid, publicJwk, await exportJWK(privateKey));
  }
}

async function sealSigningKeyRecord(
  alg: SigningAlg,
  kek: Uint8Array,
  now: number,
  activatesAt: number,
  kid: string,
  publicJwk: JWK,
  privateJwk: JWK,
): Promise<SigningKeyRecord> {
  return {
    kid,
    alg,
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg, use: 'sig' }),
    privateJwkEncrypted: await encryptPrivateJwk(privateJwk, kek),
    createdAt: now,
    activatesAt,
    retiredAt: null,
  };
}
