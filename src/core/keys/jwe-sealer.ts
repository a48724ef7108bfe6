/**
 * Sealing a short secret as a compact JWE (RFC 7516 §7.1) with `alg: dir` and `enc: A256GCM`
 * (RFC 7518 §4.5 and §5.3), synchronously with node:crypto: every refresh seals its successor
 * (KeyRing.seal), and jose's WebCrypto path cost several times the encryption itself in the
 * refresh profile (bench/profile.ts --scenario refresh). Opening stays with jose (KeyRing.unseal);
 * test/keys/jwe-sealer.test.ts checks that jose opens what this module seals.
 */
import { createCipheriv, randomBytes, type KeyObject } from 'node:crypto';

/** RFC 7518 §5.3: a 96-bit IV, drawn at random for every encryption. */
const IV_BYTES = 12;

/** Encrypts `plaintext` under the 256-bit `key` (a secret KeyObject), as a compact JWE. */
export function sealCompactJwe(plaintext: string, key: KeyObject, kid: string): string {
  // RFC 7516 §5.1 steps 13-14: the additional authenticated data is the ASCII of the encoded
  // protected header; with `dir` the JWE Encrypted Key is empty (§7.1: two dots side by side).
  const protectedHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid })).toString('base64url');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(protectedHeader, 'ascii'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${protectedHeader}..${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${tag.toString('base64url')}`;
}
