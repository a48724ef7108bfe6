/**
 * The synchronous sealing of refresh token successors (src/core/keys/jwe-sealer.ts): a compact
 * JWE (RFC 7516 §7.1) with `dir` and A256GCM (RFC 7518 §4.5, §5.3) that jose opens, whose header
 * names the key, whose IV is fresh every time, and which does not open once changed.
 *
 * Run: node --import tsx --test test/keys/jwe-sealer.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { compactDecrypt, decodeProtectedHeader } from 'jose';
import { sealCompactJwe } from '../../src/core/keys/jwe-sealer.js';

const OPTIONS = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] };

describe('RFC 7516 §7.1 / RFC 7518 §5.3: compact JWE sealed with node:crypto, opened by jose', () => {
  const bytes = randomBytes(32);
  const key = createSecretKey(bytes);

  it('jose opens it with the same 256-bit key; the protected header is alg dir, enc A256GCM and the kid', async () => {
    const jwe = sealCompactJwe('successor-token-ü', key, 'refresh-successor-v1');
    assert.deepEqual(decodeProtectedHeader(jwe), { alg: 'dir', enc: 'A256GCM', kid: 'refresh-successor-v1' });
    assert.equal(jwe.split('.')[1], '', 'dir: no encrypted key (RFC 7516 §7.1)');
    const { plaintext } = await compactDecrypt(jwe, new Uint8Array(bytes), OPTIONS);
    assert.equal(new TextDecoder().decode(plaintext), 'successor-token-ü');
  });

  it('RFC 7518 §5.3: a fresh 96-bit IV each time, so the same plaintext seals differently', () => {
    const a = sealCompactJwe('same', key, 'k');
    const b = sealCompactJwe('same', key, 'k');
    assert.equal(Buffer.from(a.split('.')[2]!, 'base64url').length, 12);
    assert.notEqual(a.split('.')[2], b.split('.')[2]);
    assert.notEqual(a, b);
  });

  it('a changed header, ciphertext or tag, or another key, does not open', async () => {
    const jwe = sealCompactJwe('secret', key, 'k');
    const [header, , iv, ciphertext, tag] = jwe.split('.') as [string, string, string, string, string];
    const flip = (part: string) => {
      const b = Buffer.from(part, 'base64url');
      b[0] = b[0]! ^ 1;
      return b.toString('base64url');
    };
    const otherHeader = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 'x' })).toString('base64url');
    for (const forged of [
      `${otherHeader}..${iv}.${ciphertext}.${tag}`,
      `${header}..${iv}.${flip(ciphertext)}.${tag}`,
      `${header}..${iv}.${ciphertext}.${flip(tag)}`,
    ]) {
      await assert.rejects(compactDecrypt(forged, new Uint8Array(bytes), OPTIONS));
    }
    await assert.rejects(compactDecrypt(jwe, new Uint8Array(randomBytes(32)), OPTIONS));
  });
});
