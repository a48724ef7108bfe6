/**
 * The resource-server module against tokens from a running Gatehouse: RFC 8707 audiences
 * (a token for resource A is refused by resource B), RFC 6750 responses, and revocation seen
 * through introspection mode (RFC 7662).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createVerifier } from '../../src/resource/resource.js';
import type { RunningGatehouse } from '../../src/server.js';
import { CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { codeFlow, interopClient, type InteropClient } from '../helpers/interop-client.js';
import { bearerError } from '../helpers/bearer-error.js';

const API_A = 'https://a.api.example/';
const API_B = 'https://b.api.example/';
const INTROSPECTOR = {
  client_id: 'api-a-introspector',
  client_secret: 'api-a-introspector-secret-0123456789',
  client_name: 'API A',
  redirect_uris: [],
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic' as const,
  scope: 'notes:read',
  require_pkce: true,
};
const WEB = {
  ...CONFIDENTIAL_CLIENT,
  scope: `${CONFIDENTIAL_CLIENT.scope} notes:read`,
  grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
};

function bearer(token: string): Request {
  return new Request(`${API_A}notes`, { headers: { authorization: `Bearer ${token}` } });
}

describe('resource module with a running Gatehouse', () => {
  let gatehouse: RunningGatehouse;
  let web: InteropClient;

  before(async () => {
    gatehouse = await startTestServer({
      clients: [WEB, INTROSPECTOR],
      resources: [
        { resource: API_A, scopes: ['notes:read'], introspection_client_ids: [INTROSPECTOR.client_id] },
        { resource: API_B, scopes: ['notes:read'], introspection_client_ids: [] },
      ],
    });
    web = await interopClient(gatehouse, WEB);
  });
  after(() => gatehouse.close());

  const verifierFor = (audience: string) => createVerifier({ issuer: gatehouse.url, audience });

  it('RFC 8707 + RFC 9068 §4: a token minted for resource A is accepted by A and refused by B', async () => {
    const tokens = await codeFlow(gatehouse, web, { scope: 'openid notes:read', resource: [API_A] });
    const claims = await verifierFor(API_A).verify(bearer(tokens.access_token), ['notes:read']);
    assert.equal(claims.client_id, WEB.client_id);
    const error = await bearerError(verifierFor(API_B).verify(bearer(tokens.access_token)));
    assert.equal(error.status, 401);
    assert.equal(error.error, 'invalid_token');
    assert.match(error.wwwAuthenticate, /^Bearer .*error="invalid_token"/);
  });

  it('RFC 8707: a client credentials token for resource B is refused by A', async () => {
    const tokens = await client.clientCredentialsGrant(web.config, { scope: 'notes:read', resource: API_B });
    await verifierFor(API_B).verify(bearer(tokens.access_token));
    assert.equal((await bearerError(verifierFor(API_A).verify(bearer(tokens.access_token)))).error, 'invalid_token');
  });

  it('RFC 6750 §3.1: a token without the needed scope gets 403 insufficient_scope naming the scope', async () => {
    const tokens = await codeFlow(gatehouse, web, { scope: 'openid', resource: [API_A] });
    const error = await bearerError(verifierFor(API_A).verify(bearer(tokens.access_token), ['notes:read']));
    assert.equal(error.status, 403);
    assert.equal(error.error, 'insufficient_scope');
    assert.match(error.wwwAuthenticate, /scope="notes:read"/);
  });

  it('RFC 6750 §3: no token at all gets 401 with a bare Bearer challenge and resource_metadata (RFC 9728 §5.1)', async () => {
    const error = await bearerError(verifierFor(API_A).verify(new Request(`${API_A}notes`)));
    assert.equal(error.status, 401);
    assert.doesNotMatch(error.wwwAuthenticate, /error=/);
    assert.match(
      error.wwwAuthenticate,
      /^Bearer realm="[^"]+".*resource_metadata="https:\/\/a\.api\.example\/\.well-known\/oauth-protected-resource"/,
    );
  });

  it('RFC 7009 + RFC 7662: a revoked JWT access token is rejected by a resource in introspection mode', async () => {
    const tokens = await codeFlow(gatehouse, web, { scope: 'openid notes:read', resource: [API_A] });
    const introspecting = createVerifier({
      issuer: gatehouse.url,
      audience: API_A,
      mode: 'introspection',
      introspection: { clientId: INTROSPECTOR.client_id, clientSecret: INTROSPECTOR.client_secret, cacheSeconds: 0 },
    });
    await introspecting.verify(bearer(tokens.access_token), ['notes:read']);
    await client.tokenRevocation(web.config, tokens.access_token);
    assert.equal((await bearerError(introspecting.verify(bearer(tokens.access_token)))).error, 'invalid_token');
    // Local JWT validation cannot see revocation, which is why introspection mode exists.
    await verifierFor(API_A).verify(bearer(tokens.access_token));
  });
});
