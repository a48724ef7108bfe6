/**
 * docs/guides/protect-an-api.md and docs/guides/machine-to-machine.md, run: with each guide's
 * config file, services get tokens with client credentials (RFC 6749 §4.4), with a secret and
 * with private_key_jwt (RFC 7523 §2.2), for the API named by `resource` (RFC 8707), and the Fastify
 * API of examples/guides/protect-an-api/api.ts accepts only tokens for it with the scope a route
 * needs (RFC 6750 §3.1).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JWK } from 'jose';
import { serviceToken } from '../../examples/guides/machine-to-machine/client-credentials.js';
import { serviceTokenWithKey } from '../../examples/guides/machine-to-machine/private-key-jwt.js';
import { createNotesApi } from '../../examples/guides/protect-an-api/api.js';
import type { RunningGatehouse } from '../../src/server.js';
import { guideSettings, startGuideServer } from '../helpers/guides.js';
import { STORE_TARGETS, onStoreTarget } from '../helpers/server.js';

/** The private half of the public key in examples/guides/machine-to-machine/gatehouse.yaml (a test key). */
const PAYMENTS_PRIVATE_JWK: JWK = {
  kty: 'EC',
  crv: 'P-256',
  kid: 'payments-2026-01',
  x: '_rSCCy93ns3fPEx2XjnXsHB5nWEoEFh15hXGShrQc7s',
  y: 'dnUs-LkQX3CWEi2MyJJ8OQZMQ5Vwnd1Gk4DmS4a7cI4',
  d: '_Jev-m8ICE-3x4faKNsL88mV2pKIHN37u_oVJ8BIWdU',
};

const secretOf = async (configFile: string, clientId: string) =>
  (await guideSettings(configFile)).clients.find((client) => client.client_id === clientId)!.client_secret!;

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('docs/guides/protect-an-api.md', () => {
  const CONFIG = 'examples/guides/protect-an-api/gatehouse.yaml';
  let gatehouse: RunningGatehouse;
  let api: ReturnType<typeof createNotesApi>;
  before(async () => {
    gatehouse = await startGuideServer(CONFIG);
    api = createNotesApi({ issuer: gatehouse.url, audience: 'http://127.0.0.1:9002/' });
    await api.ready();
  });
  after(async () => {
    await api.close();
    await gatehouse.close();
  });

  const token = async (resource: string, scope = 'notes:read') =>
    serviceToken({
      issuer: gatehouse.url,
      clientId: 'notes-reader',
      clientSecret: await secretOf(CONFIG, 'notes-reader'),
      resource,
      scope,
    });

  test('RFC 6750 §2.1: a token issued for the API with notes:read reads the notes', async () => {
    const answer = await api.inject({
      url: '/notes',
      headers: { authorization: `Bearer ${await token('http://127.0.0.1:9002/')}` },
    });
    assert.equal(answer.statusCode, 200, answer.body);
    assert.deepEqual(answer.json(), { owner: 'notes-reader', notes: ['Buy milk'] });
  });

  test('RFC 6750 §3.1: no token is 401 with resource_metadata (RFC 9728 §5.1), which names Gatehouse', async () => {
    const answer = await api.inject({ url: '/notes' });
    assert.equal(answer.statusCode, 401);
    assert.match(String(answer.headers['www-authenticate']), /^Bearer .*resource_metadata="/);
    const metadata = (await api.inject({ url: '/.well-known/oauth-protected-resource' })).json() as {
      resource: string;
      authorization_servers: string[];
    };
    assert.equal(metadata.resource, 'http://127.0.0.1:9002/');
    assert.deepEqual(metadata.authorization_servers, [gatehouse.url]);
  });

  test('RFC 8707 §2: a token without resource (aud is the issuer) is 401 invalid_token', async () => {
    const response = await fetch(`${gatehouse.url}/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`notes-reader:${await secretOf(CONFIG, 'notes-reader')}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'notes:read' }),
    });
    const { access_token } = (await response.json()) as { access_token: string };
    const answer = await api.inject({ url: '/notes', headers: { authorization: `Bearer ${access_token}` } });
    assert.equal(answer.statusCode, 401);
    assert.match(String(answer.headers['www-authenticate']), /error="invalid_token"/);
  });

  test('RFC 6750 §3.1: a token without notes:write is 403 insufficient_scope on POST /notes', async () => {
    const answer = await api.inject({
      method: 'POST',
      url: '/notes',
      headers: { authorization: `Bearer ${await token('http://127.0.0.1:9002/')}` },
    });
    assert.equal(answer.statusCode, 403);
    assert.match(String(answer.headers['www-authenticate']), /error="insufficient_scope", .*scope="notes:write"/);
  });
});

describe('docs/guides/machine-to-machine.md', () => {
  const CONFIG = 'examples/guides/machine-to-machine/gatehouse.yaml';
  for (const target of STORE_TARGETS) {
    let gatehouse: RunningGatehouse | undefined;
    test(
      `RFC 6749 §4.4, RFC 7523 §2.2 (${target.name}): reports-job gets a token with its secret, payments-service with private_key_jwt assertions (a new jti each)`,
      onStoreTarget(
        target,
        async (databaseUrl) => {
          gatehouse = await startGuideServer(CONFIG, { databaseUrl });
          const withSecret = claimsOf(
            await serviceToken({
              issuer: gatehouse.url,
              clientId: 'reports-job',
              clientSecret: await secretOf(CONFIG, 'reports-job'),
              resource: 'http://127.0.0.1:9003/',
              scope: 'reports:read',
            }),
          );
          assert.equal(withSecret['aud'], 'http://127.0.0.1:9003/');
          assert.equal(withSecret['client_id'], 'reports-job');
          assert.equal(withSecret['scope'], 'reports:read');
          const ask = () =>
            serviceTokenWithKey({
              issuer: gatehouse!.url,
              clientId: 'payments-service',
              privateJwk: PAYMENTS_PRIVATE_JWK,
              resource: 'http://127.0.0.1:9003/',
              scope: 'reports:read',
            });
          const withKey = claimsOf(await ask());
          assert.equal(withKey['client_id'], 'payments-service');
          assert.equal(withKey['aud'], 'http://127.0.0.1:9003/');
          assert.equal(claimsOf(await ask())['client_id'], 'payments-service');
        },
        async () => {
          await gatehouse?.close();
        },
      ),
    );
  }
});
