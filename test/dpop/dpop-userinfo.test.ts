/**
 * DPoP-bound access tokens at UserInfo (a protected resource of Gatehouse itself), RFC 9449 §7:
 * accepted with the DPoP scheme and a proof of the bound key over this token (`ath`), refused as
 * a bearer token (§7.2), with `WWW-Authenticate: DPoP` challenges (§7.1). Driven by
 * openid-client's DPoP support for the successful path.
 *
 * Run: node --import tsx --test test/dpop/dpop-userinfo.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { accessTokenHash } from '../../src/core/dpop/dpop-proof-jwt.js';
import type { RunningGatehouse } from '../../src/server.js';
import { codeFlow, discoverAs, interopClient } from '../helpers/interop-client.js';
import { ALICE, CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';
import { dpopProof, proofKey, type ProofKey } from '../helpers/dpop-proofs.js';

describe('RFC 9449 §7: DPoP-bound tokens at UserInfo', () => {
  let gatehouse: RunningGatehouse;
  let config: client.Configuration;
  let key: Pick<ProofKey, 'privateKey' | 'jwk'>;
  let boundToken: string;
  let bearerToken: string;

  /** A code flow of `fixture` as Alice; with `dpop`, the token request carries proofs of that handle's key. */
  async function accessToken(
    fixture: typeof PUBLIC_CLIENT,
    dpop?: client.DPoPHandle,
  ): Promise<{ token: string; config: client.Configuration }> {
    const ic = await interopClient(gatehouse, fixture);
    const tokens = await codeFlow(gatehouse, ic, { scope: 'openid email', ...(dpop ? { dpop } : {}) });
    return { token: tokens.access_token, config: ic.config };
  }

  /** A proof for GET /userinfo over `token`, signed by `by` (default: the bound key). */
  async function proof(
    token: string,
    by: Pick<ProofKey, 'privateKey' | 'jwk'> = key,
    claims: Record<string, unknown> = {},
  ): Promise<string> {
    return dpopProof(`${gatehouse.url}/userinfo`, by, { ath: accessTokenHash(token), ...claims }, {}, 'GET');
  }

  async function userinfo(headers: Record<string, string>) {
    const response = await fetch(`${gatehouse.url}/userinfo`, { headers });
    return {
      status: response.status,
      challenge: response.headers.get('www-authenticate') ?? '',
      body: response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined,
    };
  }

  before(async () => {
    gatehouse = await startTestServer({ clients: [PUBLIC_CLIENT, CONFIDENTIAL_CLIENT], users: [ALICE] });
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    key = { privateKey, jwk: await exportJWK(publicKey) };
    config = await discoverAs(gatehouse, PUBLIC_CLIENT);
    const handle = client.getDPoPHandle(config, { privateKey, publicKey });
    boundToken = (await accessToken(PUBLIC_CLIENT, handle)).token;
    bearerToken = (await accessToken(CONFIDENTIAL_CLIENT)).token;
  });
  after(async () => {
    await gatehouse?.close();
  });

  it('RFC 9449 §7.1: openid-client fetches UserInfo with the DPoP scheme and a proof of the bound key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const handle = client.getDPoPHandle(config, { privateKey, publicKey });
    const own = await accessToken(PUBLIC_CLIENT, handle);
    const claims = await client.fetchUserInfo(own.config, own.token, client.skipSubjectCheck, { DPoP: handle });
    assert.equal(claims['email'], ALICE.email);
  });

  it('RFC 9449 §7.1: a hand-made proof (ath of this token, the bound key) is accepted', async () => {
    const result = await userinfo({ authorization: `DPoP ${boundToken}`, dpop: await proof(boundToken) });
    assert.equal(result.status, 200);
    assert.equal(result.body?.['email'], ALICE.email);
  });

  it('RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is 401 invalid_token with a DPoP challenge', async () => {
    const result = await userinfo({ authorization: `Bearer ${boundToken}` });
    assert.equal(result.status, 401);
    assert.match(result.challenge, /^DPoP realm="gatehouse", algs="[^"]*ES256[^"]*", error="invalid_token"/);
  });

  const refusals: Array<[string, () => Promise<Record<string, string>>, RegExp]> = [
    ['no DPoP proof', async () => ({ authorization: `DPoP ${boundToken}` }), /a DPoP proof is required/],
    [
      'a proof whose ath is another token (§4.3 check 12)',
      async () => ({ authorization: `DPoP ${boundToken}`, dpop: await proof(bearerToken) }),
      /ath/,
    ],
    [
      'a proof by another key than cnf.jkt',
      async () => ({ authorization: `DPoP ${boundToken}`, dpop: await proof(boundToken, await proofKey()) }),
      /another key/,
    ],
    [
      'a proof for another method (htm)',
      async () => ({ authorization: `DPoP ${boundToken}`, dpop: await proof(boundToken, key, { htm: 'POST' }) }),
      /htm/,
    ],
  ];
  for (const [name, headers, description] of refusals) {
    it(`RFC 9449 §7.1: ${name} is 401 invalid_dpop_proof with a DPoP challenge`, async () => {
      const result = await userinfo(await headers());
      assert.equal(result.status, 401);
      assert.match(result.challenge, /^DPoP realm="gatehouse", algs="[^"]+", error="invalid_dpop_proof"/);
      assert.match(result.challenge, description);
    });
  }

  it('RFC 9449 §11.1: a proof is used once at UserInfo too', async () => {
    const dpop = await proof(boundToken);
    assert.equal((await userinfo({ authorization: `DPoP ${boundToken}`, dpop })).status, 200);
    const replayed = await userinfo({ authorization: `DPoP ${boundToken}`, dpop });
    assert.equal(replayed.status, 401);
    assert.match(replayed.challenge, /already used/);
  });

  it('RFC 9449 §7.1: a bearer (unbound) token with the DPoP scheme is 401 invalid_token', async () => {
    const result = await userinfo({ authorization: `DPoP ${bearerToken}`, dpop: await proof(bearerToken) });
    assert.equal(result.status, 401);
    assert.match(result.challenge, /error="invalid_token"/);
    assert.match(result.challenge, /not DPoP-bound/);
  });

  it('RFC 9449 §7.1 + RFC 6750 §3: without a token both schemes are offered, DPoP with its algorithms', async () => {
    const result = await userinfo({});
    assert.equal(result.status, 401);
    assert.match(result.challenge, /^Bearer realm="gatehouse", DPoP realm="gatehouse", algs="[^"]*ES256[^"]*"$/);
  });

  it('RFC 7638: the bound key is the one the client proved at the token endpoint', async () => {
    const { cnf } = JSON.parse(Buffer.from(boundToken.split('.')[1]!, 'base64url').toString()) as {
      cnf: { jkt: string };
    };
    assert.equal(cnf.jkt, await calculateJwkThumbprint(key.jwk));
  });
});
