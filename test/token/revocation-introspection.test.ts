/**
 * Token revocation (RFC 7009) and introspection (RFC 7662), driven by openid-client:
 * - both endpoints require client authentication (invalid_client otherwise: 401 after Basic, else 400);
 * - revoking a refresh token revokes its family and the family's access tokens; revoking an
 *   access token revokes that token; unknown tokens and other clients' tokens are answered 200
 *   and left untouched;
 * - introspection answers exactly `{"active":false}` for unknown, expired, revoked and other
 *   clients' tokens, describes active tokens to their client, refuses public clients, and lets a
 *   resource's registered introspection client see only tokens whose audience is that resource.
 *
 * Run: node --import tsx --test test/token/revocation-introspection.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import {
  CONFIDENTIAL_CLIENT,
  MACHINE_CLIENT,
  OTHER_CLIENT,
  PUBLIC_CLIENT,
  startTestServer,
} from '../helpers/server.js';
import { assertNoStore, postForm, type TokenResponse } from '../helpers/code-flow.js';
import { apiResource } from '../helpers/resources.js';
import {
  assertOAuthError,
  codeFlow,
  decodeAccessToken,
  interopClient,
  sleep,
  type InteropClient,
} from '../helpers/interop-client.js';

/** The credentials of resource server A (it introspects tokens for its API). */
const RESOURCE_SERVER_A: ClientFixture = {
  ...MACHINE_CLIENT,
  client_id: 'api-a-server',
  client_secret: 'api-a-server-secret-long-enough',
  client_name: 'API A',
  scope: 'api:read',
};

const RESOURCE_A = apiResource('https://api-a.example.test/', 'API A', [RESOURCE_SERVER_A.client_id]);
const RESOURCE_B = apiResource('https://api-b.example.test/', 'API B');

const OFFLINE_SCOPE = 'openid profile offline_access';
const INACTIVE = { active: false };

/** A raw introspection request of `token` by `fixture` (Basic), outside openid-client: the exact answer. */
function introspectAs(gatehouse: RunningGatehouse, fixture: ClientFixture, token: string): Promise<TokenResponse> {
  return postForm(
    gatehouse,
    '/introspect',
    { token },
    { basic: { id: fixture.client_id, secret: fixture.client_secret! } },
  );
}

/**
 * RFC 6749 §5.2: a POST of `token` to `path` without client authentication is 400 invalid_client
 * (no Authorization header was used, so without a challenge); with a wrong secret, 401.
 */
async function assertClientAuthenticationRequired(
  gatehouse: RunningGatehouse,
  path: string,
  token: string,
): Promise<void> {
  const response = await postForm(gatehouse, path, { token });
  assert.equal(response.status, 400, response.text);
  assert.equal(response.body['error'], 'invalid_client');
  assertNoStore(response);
  assert.equal(response.headers.get('www-authenticate'), null);
  const wrongSecret = await postForm(
    gatehouse,
    path,
    { token },
    { basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: 'wrong' } },
  );
  assert.equal(wrongSecret.status, 401);
  assert.equal(wrongSecret.body['error'], 'invalid_client');
}

describe('RFC 7009 / RFC 7662: revocation and introspection', () => {
  let gatehouse: RunningGatehouse;
  let web: InteropClient;
  let other: InteropClient;
  let spa: InteropClient;
  let apiA: InteropClient;

  before(async () => {
    gatehouse = await startTestServer({
      clients: [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, OTHER_CLIENT, RESOURCE_SERVER_A],
      resources: [RESOURCE_A, RESOURCE_B],
    });
    web = await interopClient(gatehouse, CONFIDENTIAL_CLIENT);
    other = await interopClient(gatehouse, OTHER_CLIENT);
    spa = await interopClient(gatehouse, PUBLIC_CLIENT);
    apiA = await interopClient(gatehouse, RESOURCE_SERVER_A);
  });
  after(async () => {
    await gatehouse?.close();
  });

  it('RFC 8414 §2: both endpoints are advertised', () => {
    const metadata = web.config.serverMetadata();
    assert.equal(metadata.revocation_endpoint, `${gatehouse.url}/revoke`);
    assert.equal(metadata.introspection_endpoint, `${gatehouse.url}/introspect`);
  });

  it('RFC 7009 §2.1: revocation without client authentication is 400 invalid_client; wrong Basic credentials 401 (RFC 6749 §5.2)', async () => {
    const { accessToken } = await offline(web);
    await assertClientAuthenticationRequired(gatehouse, '/revoke', accessToken);
    assert.equal((await client.tokenIntrospection(web.config, accessToken)).active, true, 'nothing was revoked');
  });

  it('RFC 7662 §2.1: introspection without client authentication is 400 invalid_client; wrong Basic credentials 401 (RFC 6749 §5.2)', async () => {
    const { accessToken } = await offline(web);
    await assertClientAuthenticationRequired(gatehouse, '/introspect', accessToken);
  });

  it('RFC 7009 §2.1: revoking a refresh token revokes its family and the access tokens issued from it', async () => {
    const first = await offline(web);
    const second = await client.refreshTokenGrant(web.config, first.refreshToken);
    await client.tokenRevocation(web.config, second.refresh_token!, { token_type_hint: 'refresh_token' });
    const response = web.lastResponse('/revoke');
    assert.equal(response.status, 200);
    assertNoStore(response);
    for (const token of [first.accessToken, second.access_token, second.refresh_token!]) {
      assert.deepEqual(await client.tokenIntrospection(web.config, token), INACTIVE);
    }
    await assertOAuthError(client.refreshTokenGrant(web.config, second.refresh_token!), 400, 'invalid_grant');
    // The rotated predecessor cannot revive the family through the grace window either.
    await assertOAuthError(client.refreshTokenGrant(web.config, first.refreshToken), 400, 'invalid_grant');
  });

  it('RFC 7009 §2.1: revoking a refresh token without a hint works too', async () => {
    const first = await offline(web);
    await client.tokenRevocation(web.config, first.refreshToken);
    assert.deepEqual(await client.tokenIntrospection(web.config, first.accessToken), INACTIVE);
    await assertOAuthError(client.refreshTokenGrant(web.config, first.refreshToken), 400, 'invalid_grant');
  });

  it('RFC 7009 §2.1: revoking an access token makes it inactive', async () => {
    const first = await offline(web);
    assert.equal((await client.tokenIntrospection(web.config, first.accessToken)).active, true);
    await client.tokenRevocation(web.config, first.accessToken, { token_type_hint: 'access_token' });
    assert.equal(web.lastResponse('/revoke').status, 200);
    assert.deepEqual(await client.tokenIntrospection(web.config, first.accessToken), INACTIVE);
  });

  it('RFC 7662 §2.2 + RFC 9068 §4: a verified token is remembered by its whole value: the same jti with another signature or payload stays unknown', async () => {
    const genuine = await offline(web);
    // Twice: the second answer comes from the remembered verification.
    for (let i = 0; i < 2; i++)
      assert.equal((await client.tokenIntrospection(web.config, genuine.accessToken)).active, true);
    const [header, payload, signature] = genuine.accessToken.split('.') as [string, string, string];
    const flipped = Buffer.from(signature, 'base64url');
    flipped[10] = flipped[10]! ^ 1;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'openid admin' })).toString('base64url');
    for (const forged of [
      `${header}.${payload}.${flipped.toString('base64url')}`,
      `${header}.${widened}.${signature}`,
    ]) {
      assert.deepEqual(await client.tokenIntrospection(web.config, forged), INACTIVE);
    }
    assert.equal((await client.tokenIntrospection(web.config, genuine.accessToken)).active, true);
  });

  it('RFC 7009 §2.2: revoking an unknown token is answered 200', async () => {
    await client.tokenRevocation(web.config, 'no-such-token');
    assert.equal(web.lastResponse('/revoke').status, 200);
    await client.tokenRevocation(web.config, 'no-such-token', { token_type_hint: 'refresh_token' });
    assert.equal(web.lastResponse('/revoke').status, 200);
    // A syntactically valid JWT from elsewhere is just as unknown.
    await client.tokenRevocation(web.config, 'eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0.c2ln');
    assert.equal(web.lastResponse('/revoke').status, 200);
  });

  it("RFC 7009 §2.1: client B cannot revoke client A's tokens (200, and they stay active for A)", async () => {
    const first = await offline(web);
    await client.tokenRevocation(other.config, first.accessToken);
    assert.equal(other.lastResponse('/revoke').status, 200);
    await client.tokenRevocation(other.config, first.refreshToken);
    assert.equal(other.lastResponse('/revoke').status, 200);
    assert.equal((await client.tokenIntrospection(web.config, first.accessToken)).active, true);
    assert.equal((await client.tokenIntrospection(web.config, first.refreshToken)).active, true);
    const refreshed = await client.refreshTokenGrant(web.config, first.refreshToken);
    assert.ok(refreshed.refresh_token);
  });

  it('RFC 7662 §2.2: an active access token is described with active, scope, client_id, sub, exp, iat, iss, aud, token_type', async () => {
    const tokens = await codeFlow(gatehouse, web, { scope: OFFLINE_SCOPE });
    const introspected = await client.tokenIntrospection(web.config, tokens.access_token);
    const response = web.lastResponse('/introspect');
    assert.equal(response.status, 200);
    assertNoStore(response);
    const claims = decodeAccessToken(tokens.access_token);
    assert.deepEqual(
      { ...introspected },
      {
        active: true,
        scope: OFFLINE_SCOPE,
        client_id: CONFIDENTIAL_CLIENT.client_id,
        sub: tokens.claims()!.sub,
        exp: claims.exp,
        iat: claims.iat,
        iss: gatehouse.url,
        aud: gatehouse.url,
        token_type: 'Bearer',
      },
    );
  });

  it('RFC 7662 §2.2: an active refresh token is described to its client', async () => {
    const first = await offline(web);
    const introspected = await client.tokenIntrospection(web.config, first.refreshToken, {
      token_type_hint: 'refresh_token',
    });
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, CONFIDENTIAL_CLIENT.client_id);
    assert.equal(introspected.scope, OFFLINE_SCOPE);
    assert.equal(introspected.token_type, 'refresh_token');
  });

  it('RFC 7662 §2.2: exactly {"active":false} for an unknown token, a revoked token and another client\'s token', async () => {
    assert.deepEqual(await client.tokenIntrospection(web.config, 'no-such-token'), INACTIVE);
    const raw = await introspectAs(gatehouse, CONFIDENTIAL_CLIENT, 'no-such-token');
    assert.equal(raw.status, 200);
    assert.equal(raw.text, '{"active":false}');
    assertNoStore(raw);

    const revoked = await offline(web);
    await client.tokenRevocation(web.config, revoked.accessToken);
    assert.deepEqual(await client.tokenIntrospection(web.config, revoked.accessToken), INACTIVE);

    // Another client's (active) tokens: nothing is disclosed, not even that they exist.
    const mine = await offline(web);
    assert.deepEqual(await client.tokenIntrospection(other.config, mine.accessToken), INACTIVE);
    assert.deepEqual(await client.tokenIntrospection(other.config, mine.refreshToken), INACTIVE);
    const asOther = await introspectAs(gatehouse, OTHER_CLIENT, mine.accessToken);
    assert.equal(asOther.text, '{"active":false}');
    assert.equal((await client.tokenIntrospection(web.config, mine.accessToken)).active, true);
  });

  it('RFC 7662 §2.2: exactly {"active":false} for expired access and refresh tokens', async () => {
    // JWT times are whole seconds (iat rounded down): a 2 s access token lives between 1 and 2 s.
    const shortLived = await startTestServer({ settings: { accessTokenTtlSeconds: 2, refreshTokenIdleTtlSeconds: 1 } });
    try {
      const ic = await interopClient(shortLived, CONFIDENTIAL_CLIENT);
      const tokens = await codeFlow(shortLived, ic, { scope: OFFLINE_SCOPE });
      assert.equal((await client.tokenIntrospection(ic.config, tokens.access_token)).active, true);
      await sleep(2100);
      assert.deepEqual(await client.tokenIntrospection(ic.config, tokens.access_token), INACTIVE);
      assert.deepEqual(await client.tokenIntrospection(ic.config, tokens.refresh_token!), INACTIVE);
      const raw = await introspectAs(shortLived, CONFIDENTIAL_CLIENT, tokens.access_token);
      assert.equal(raw.text, '{"active":false}');
    } finally {
      await shortLived.close();
    }
  });

  it('RFC 7662 §2.1 + §4: a public client cannot introspect (400 invalid_client, RFC 6749 §5.2), not even its own tokens', async () => {
    const tokens = await codeFlow(gatehouse, spa, { scope: OFFLINE_SCOPE });
    await assertOAuthError(client.tokenIntrospection(spa.config, tokens.access_token), 400, 'invalid_client');
  });

  it('RFC 7009 §2.1: a public client can revoke its own refresh token (it authenticates with its client_id)', async () => {
    const tokens = await codeFlow(gatehouse, spa, { scope: OFFLINE_SCOPE });
    await client.tokenRevocation(spa.config, tokens.refresh_token!);
    assert.equal(spa.lastResponse('/revoke').status, 200);
    await assertOAuthError(client.refreshTokenGrant(spa.config, tokens.refresh_token!), 400, 'invalid_grant');
    // (A public client cannot introspect; the store shows the family's access token revoked.)
    const record = await gatehouse.store.accessTokens.get(decodeAccessToken(tokens.access_token).jti!);
    assert.ok(record);
    assert.notEqual(record.revokedAt, null);
  });

  it("RFC 7662 §2.1 + RFC 8707: a resource's registered introspection client can introspect tokens for that resource, and no others", async () => {
    const forA = await codeFlow(gatehouse, web, { scope: OFFLINE_SCOPE, resource: [RESOURCE_A.resource] });
    const forB = await codeFlow(gatehouse, web, { scope: OFFLINE_SCOPE, resource: [RESOURCE_B.resource] });
    const forIssuer = await codeFlow(gatehouse, web, { scope: OFFLINE_SCOPE });
    const forBoth = await codeFlow(gatehouse, web, {
      scope: OFFLINE_SCOPE,
      resource: [RESOURCE_A.resource, RESOURCE_B.resource],
    });

    const introspected = await client.tokenIntrospection(apiA.config, forA.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.aud, RESOURCE_A.resource);
    assert.equal(introspected.client_id, CONFIDENTIAL_CLIENT.client_id);
    assert.equal(introspected.sub, forA.claims()!.sub);
    assert.equal(introspected.scope, OFFLINE_SCOPE);
    const both = await client.tokenIntrospection(apiA.config, forBoth.access_token);
    assert.equal(both.active, true);
    assert.deepEqual(both.aud, [RESOURCE_A.resource, RESOURCE_B.resource]);

    assert.deepEqual(
      await client.tokenIntrospection(apiA.config, forB.access_token),
      INACTIVE,
      'audience B is not its resource',
    );
    assert.deepEqual(
      await client.tokenIntrospection(apiA.config, forIssuer.access_token),
      INACTIVE,
      'audience issuer is not its resource',
    );
    assert.deepEqual(
      await client.tokenIntrospection(apiA.config, forA.refresh_token!),
      INACTIVE,
      'refresh tokens are for the client alone',
    );
    // A revoked token for A is inactive for the resource server too.
    await client.tokenRevocation(web.config, forA.access_token);
    assert.deepEqual(await client.tokenIntrospection(apiA.config, forA.access_token), INACTIVE);
    // And the resource server cannot revoke the client's tokens.
    await client.tokenRevocation(apiA.config, forBoth.access_token);
    assert.equal((await client.tokenIntrospection(web.config, forBoth.access_token)).active, true);
  });

  async function offline(ic: InteropClient): Promise<{ accessToken: string; refreshToken: string }> {
    const tokens = await codeFlow(gatehouse, ic, { scope: OFFLINE_SCOPE });
    assert.ok(tokens.refresh_token);
    return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
  }
});
