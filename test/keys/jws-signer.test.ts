/**
 * The synchronous JWS signer of the hot path (src/core/keys/jws-signer.ts): its compact
 * serializations (RFC 7515 §7.1) verify with jose for every algorithm Gatehouse signs with
 * (RFC 7518 §3.3 RS256, §3.4 ES256, RFC 8037 §3.1 EdDSA), carry the header members asked for,
 * and do not verify once a byte of the payload or a bit of the signature changes.
 *
 * Run: node --import tsx --test test/keys/jws-signer.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { compactVerify, decodeProtectedHeader, jwtVerify } from 'jose';
import { signCompactJws } from '../../src/core/keys/jws-signer.js';
import type { SigningAlg } from '../../src/core/keys/signing-key-crypto.js';

function keyPair(alg: SigningAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'ES256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'RS256':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'EdDSA':
      return generateKeyPairSync('ed25519');
  }
}

const ALGS: SigningAlg[] = ['ES256', 'RS256', 'EdDSA'];

describe('RFC 7515 §7.1: compact JWS signed with node:crypto, verified by jose', () => {
  for (const alg of ALGS) {
    it(`${alg}: jose verifies the signature, the header and every claim`, async () => {
      const { privateKey, publicKey } = keyPair(alg);
      const now = Math.floor(Date.now() / 1000);
      const payload = {
        scope: 'openid notes:read',
        name: 'Zoë «Ünïcode» 🚀',
        iss: 'https://as.example/',
        sub: 'user-1',
        aud: ['https://api.example/', 'https://other.example/'],
        iat: now,
        exp: now + 60,
        jti: 'abc',
      };
      const jws = signCompactJws(payload, { kid: 'key-1', alg, privateKey }, { typ: 'at+jwt' });
      const { payload: verified, protectedHeader } = await jwtVerify(jws, publicKey, {
        issuer: 'https://as.example/',
        audience: 'https://api.example/',
        algorithms: [alg],
        typ: 'at+jwt',
      });
      assert.deepEqual(protectedHeader, { alg, kid: 'key-1', typ: 'at+jwt' });
      assert.deepEqual(verified, payload);
    });

    it(`${alg}: no typ member unless asked for (ID tokens, OIDC Core §2)`, async () => {
      const { privateKey, publicKey } = keyPair(alg);
      const jws = signCompactJws({ sub: 'x' }, { kid: 'k', alg, privateKey });
      assert.deepEqual(decodeProtectedHeader(jws), { alg, kid: 'k' });
      await compactVerify(jws, publicKey, { algorithms: [alg] });
    });

    it(`${alg}: a changed payload or signature does not verify`, async () => {
      const { privateKey, publicKey } = keyPair(alg);
      const jws = signCompactJws({ sub: 'alice' }, { kid: 'k', alg, privateKey });
      const [header, , signature] = jws.split('.') as [string, string, string];
      const forgedPayload = Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url');
      await assert.rejects(compactVerify(`${header}.${forgedPayload}.${signature}`, publicKey), {
        code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
      const bytes = Buffer.from(signature, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      await assert.rejects(
        compactVerify(`${jws.slice(0, jws.lastIndexOf('.'))}.${bytes.toString('base64url')}`, publicKey),
        { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
      );
    });
  }

  it('RFC 7518 §3.4: an ES256 signature is R || S, 64 octets, not DER', () => {
    const { privateKey } = keyPair('ES256');
    const jws = signCompactJws({ sub: 'x' }, { kid: 'k', alg: 'ES256', privateKey });
    assert.equal(Buffer.from(jws.split('.')[2]!, 'base64url').length, 64);
  });
});
