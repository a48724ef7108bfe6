/**
 * RFC 5869 §3.2: the key that encrypts the signing keys at rest and the key that seals refresh
 * token successors are derived from GATEHOUSE_SECRET under distinct HKDF `info` labels; key
 * rings and sealed successors written before the split still load.
 *
 * Run: node --import tsx --test test/keys/key-derivation.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hkdfSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { KeyRing } from '../../src/core/keys/key-ring.js';
import {
  createSigningKeyRecord,
  deriveKeyEncryptionKey,
  deriveSealingKey,
} from '../../src/core/keys/signing-key-crypto.js';
import { openStore } from '../../src/store/open-store.js';
import { TEST_SECRET } from '../helpers/server.js';

/** The derivation every release so far used for the signing keys (and, until now, for sealing too). */
const legacyKek = () =>
  new Uint8Array(hkdfSync('sha256', TEST_SECRET, 'gatehouse', 'gatehouse signing-key encryption v1', 32));
const DIR = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] };

describe('HKDF key separation', () => {
  it('RFC 5869 §3.2: the sealing key differs from the signing-key encryption key; a sealed successor cannot be opened with the latter', async () => {
    assert.notDeepEqual(deriveSealingKey(TEST_SECRET), deriveKeyEncryptionKey(TEST_SECRET));
    const store = await openStore('sqlite::memory:');
    await store.migrate();
    try {
      const ring = await KeyRing.open(store, TEST_SECRET, 'ES256');
      const sealed = await ring.seal('successor-token');
      assert.equal(await ring.unseal(sealed), 'successor-token');
      await assert.rejects(compactDecrypt(sealed, deriveKeyEncryptionKey(TEST_SECRET), DIR));
      assert.equal(
        new TextDecoder().decode((await compactDecrypt(sealed, deriveSealingKey(TEST_SECRET), DIR)).plaintext),
        'successor-token',
      );
    } finally {
      await store.close();
    }
  });

  it('RFC 5869 §3.2: a key ring stored with the existing derivation loads unchanged, and a successor sealed by an earlier release still opens', async () => {
    const store = await openStore('sqlite::memory:');
    await store.migrate();
    try {
      const now = Date.now() - 1000;
      const old = await createSigningKeyRecord('ES256', legacyKek(), now);
      await store.signingKeys.create(old);
      const ring = await KeyRing.open(store, TEST_SECRET, 'ES256');
      assert.equal(ring.active().kid, old.kid, 'the stored key signs; no new key was made');
      assert.equal((await store.signingKeys.list()).length, 1);
      const legacySealed = await new CompactEncrypt(new TextEncoder().encode('old-successor'))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
        .encrypt(legacyKek());
      assert.equal(decodeProtectedHeader(legacySealed).kid, undefined);
      assert.equal(await ring.unseal(legacySealed), 'old-successor');
    } finally {
      await store.close();
    }
  });
});
