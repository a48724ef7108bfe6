/**
 * Random tokens: RFC 9700 §4.2.1 / RFC 6749 §10.10 want codes and tokens unguessable (at least
 * 128 bits); they come from the CSPRNG through a block pool, each byte used once.
 *
 * Client secret verification: generated secrets are checked against SHA-256, person-chosen
 * ones against argon2id, and a successful argon2id check is remembered so that such a client
 * does not pay argon2 on every token request.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import {
  hashClientSecret,
  clientSecretArgon2CheckCount,
  randomIdentifier,
  randomToken,
  sha256Base64Url,
  sortableId,
  storedTokenKey,
  timeOrderedToken,
  verifyClientSecret,
} from '../../src/core/secrets.js';

it('identifiers typed on a command line (client_id, registration token id) never start with - or _, so no CLI reads them as options', () => {
  // A base64url token starts with - or _ once in 32 draws: 3,000 draws would almost surely show one.
  for (let index = 0; index < 3000; index++) {
    const id = randomIdentifier(9);
    assert.match(id, /^[A-Za-z0-9][A-Za-z0-9_-]*$/);
    assert.equal(Buffer.from(id, 'base64url').length, 9);
  }
});

it('RFC 9700 §4.2.1: sortable ids (grants, sid, jti) carry 128 random bits after the time, and ids made later sort after earlier ones', async () => {
  const first = sortableId();
  assert.match(first, /^[0-9a-f]{12}[A-Za-z0-9_-]{22}$/);
  assert.equal(Buffer.from(first.slice(12), 'base64url').length, 16);
  // The prefix is the creation time in milliseconds (for B-tree locality, never read back).
  assert.ok(Math.abs(Number.parseInt(first.slice(0, 12), 16) - Date.now()) < 1000);
  await new Promise((resolve) => setTimeout(resolve, 2));
  const later = Array.from({ length: 100 }, () => sortableId());
  for (const id of later) assert.ok(id > first, `${id} sorts before ${first}`);
  assert.equal(new Set(later).size, later.length);
  assert.match(sortableId(24), /^[0-9a-f]{12}[A-Za-z0-9_-]{32}$/);
});

it('RFC 6749 §10.10: codes and refresh tokens carry 256 random bits after the time; their stored keys sort in issue order and hold no token', async () => {
  const first = timeOrderedToken();
  assert.match(first, /^[0-9a-f]{12}[A-Za-z0-9_-]{43}$/);
  assert.equal(Buffer.from(first.slice(12), 'base64url').length, 32);
  const key = storedTokenKey(first);
  // The time prefix, then the SHA-256 of the whole token: no part of the random bits is stored.
  assert.equal(key, first.slice(0, 12) + sha256Base64Url(first));
  assert.ok(!key.includes(first.slice(12)));
  await new Promise((resolve) => setTimeout(resolve, 2));
  const later = Array.from({ length: 100 }, () => storedTokenKey(timeOrderedToken()));
  for (const laterKey of later) assert.ok(laterKey > key, `${laterKey} sorts before ${key}`);
  assert.equal(new Set(later).size, later.length);
});

it('a code or refresh token issued before tokens carried the time is still found: its key is its SHA-256, as before', () => {
  const older = randomToken(32);
  assert.equal(storedTokenKey(older), sha256Base64Url(older));
  // Anything else a client sends (not the shape of timeOrderedToken) is keyed the old way too,
  // and can never produce a time-prefixed key (43 characters against 55).
  for (const presented of ['', 'x', `${'0'.repeat(12)}${'A'.repeat(42)}`, `${'G'.repeat(12)}${'A'.repeat(43)}`])
    assert.equal(storedTokenKey(presented), sha256Base64Url(presented));
  assert.equal(storedTokenKey(timeOrderedToken()).length, 55);
});

it('RFC 6749 §10.10: random tokens carry the requested entropy, never repeat across pool refills, and are base64url', () => {
  const seen = new Set<string>();
  // 5,000 tokens of 32 bytes span 39 refills of the 4 KiB pool; odd sizes straddle block ends.
  for (let index = 0; index < 5000; index++) {
    const bytes = index % 7 === 0 ? 13 : 32;
    const token = randomToken(bytes);
    assert.match(token, /^[A-Za-z0-9_-]+$/);
    assert.equal(Buffer.from(token, 'base64url').length, bytes);
    assert.equal(seen.has(token), false, 'a token repeated');
    seen.add(token);
  }
  // No two consecutive 16-byte tokens share their bytes (a pool handed out twice would).
  const first = Buffer.from(randomToken(16), 'base64url');
  const second = Buffer.from(randomToken(16), 'base64url');
  assert.notDeepEqual(first, second);
  assert.throws(() => randomToken(0), RangeError);
  assert.throws(() => randomToken(4097), RangeError);
});

it('a generated secret is stored as SHA-256 and verified exactly', async () => {
  const hash = await hashClientSecret('generated-secret-0123456789abcdefghijklmnop', true);
  assert.match(hash, /^sha256\$/);
  assert.equal(await verifyClientSecret(hash, 'generated-secret-0123456789abcdefghijklmnop'), true);
  assert.equal(await verifyClientSecret(hash, 'generated-secret-0123456789abcdefghijklmnoq'), false);
});

it('a person-chosen secret is argon2id; a repeated correct secret is verified from the cache, a wrong one never', async () => {
  const hash = await hashClientSecret('a secret a person chose', false);
  assert.match(hash, /^\$argon2id\$/);
  const before = clientSecretArgon2CheckCount();
  assert.equal(await verifyClientSecret(hash, 'a secret a person chose'), true);
  assert.equal(clientSecretArgon2CheckCount(), before + 1, 'the first check runs argon2id');
  assert.equal(await verifyClientSecret(hash, 'a secret a person chose'), true);
  assert.equal(clientSecretArgon2CheckCount(), before + 1, 'the repeated correct secret is answered from the cache');
  assert.equal(await verifyClientSecret(hash, 'a secret a person chose!'), false);
  assert.equal(await verifyClientSecret(hash, 'a secret a person chose!'), false);
  assert.equal(clientSecretArgon2CheckCount(), before + 3, 'a wrong secret runs argon2id every time');

  // A new hash of another secret (the secret was changed): the old secret does not match it.
  const changed = await hashClientSecret('the new secret', false);
  assert.equal(await verifyClientSecret(changed, 'a secret a person chose'), false);
  assert.equal(await verifyClientSecret(changed, 'the new secret'), true);
});
