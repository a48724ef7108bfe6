/**
 * The admin API accepts DPoP-bound admin tokens (RFC 9449 §7.1): the guard hands the verifier
 * the request's DPoP proof, and checks its `htu` against the issuer's origin and the request's
 * path (§4.3 check 9). A bound token sent as a bearer token is refused (§7.2).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminAudience } from '../../src/core/admin/admin-access.js';
import { accessTokenHash } from '../../src/core/dpop/dpop-proof-jwt.js';
import type { RunningGatehouse } from '../../src/server.js';
import { dpopProof, type ProofKey, proofKey } from '../helpers/dpop-proofs.js';
import { AUTOMATION, startAdminServer } from './admin-harness.js';

describe('admin API: DPoP-bound admin tokens (RFC 9449 §7)', () => {
  let server: RunningGatehouse;
  let key: ProofKey;
  let token: string;

  before(async () => {
    server = await startAdminServer('sqlite::memory:');
    key = await proofKey();
    const response = await fetch(`${server.url}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${AUTOMATION.client_id}:${AUTOMATION.client_secret}`).toString('base64')}`,
        dpop: await dpopProof(`${server.url}/token`, key),
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'gatehouse:admin',
        resource: adminAudience(server.context.settings.issuer),
      }).toString(),
    });
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body['token_type'], 'DPoP');
    token = body['access_token'] as string;
  });
  after(async () => {
    await server?.close();
  });

  const clients = () => `${server.url}/admin/v1/clients`;
  const call = async (headers: Record<string, string>) => {
    const response = await fetch(clients(), { headers });
    return {
      status: response.status,
      body: await response.text(),
      challenge: response.headers.get('www-authenticate'),
    };
  };
  const proof = (htu: string) => dpopProof(htu, key, { ath: accessTokenHash(token) }, {}, 'GET');

  it('§7.1: with the DPoP scheme and a proof for this URL: 200', async () => {
    const answer = await call({ authorization: `DPoP ${token}`, dpop: await proof(clients()) });
    assert.equal(answer.status, 200, answer.body);
  });

  it('§4.3: a proof for another URL is 401 invalid_dpop_proof naming the htu expected', async () => {
    const answer = await call({ authorization: `DPoP ${token}`, dpop: await proof(`${server.url}/admin/v1/users`) });
    assert.equal(answer.status, 401);
    assert.match(answer.challenge ?? '', /^DPoP .*error="invalid_dpop_proof"/);
    assert.match(answer.body, /htu must be http:\/\/127\.0\.0\.1:\d+\/admin\/v1\/clients/);
  });

  it('§7.2: the bound token as a bearer token is 401 invalid_token', async () => {
    const answer = await call({ authorization: `Bearer ${token}` });
    assert.equal(answer.status, 401);
    assert.match(answer.challenge ?? '', /error="invalid_token"/);
  });
});
