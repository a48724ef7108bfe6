/**
 * The client credentials grant, RFC 6749 §4.4, driven by openid-client: a confidential client
 * acting on its own behalf gets an access token (RFC 9068 JWT with `sub` = its client_id), no
 * refresh token (§4.4.3) and no ID token; scopes are limited to the registered ones, and the
 * OpenID scopes (about a user) are refused; public clients and clients without the grant are
 * unauthorized_client.
 *
 * Run: node --import tsx --test test/token/client-credentials.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { validateClientMetadata } from '../../src/core/registration/client-metadata.js';
import { CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';
import { assertNoStore, assertTokenError, basicAuthorization, postToken } from '../helpers/code-flow.js';
import { assertOAuthError, interopClient, type InteropClient } from '../helpers/interop-client.js';
import { ClientMetadataError } from '../../src/core/errors.js';

/** A service (machine-to-machine) client; `openid` is registered to show it is refused anyway. */
const SERVICE_CLIENT: ClientFixture = {
  client_id: 'reporting-service',
  client_secret: 'reporting-service-secret-long-enough',
  client_name: 'Reporting Service',
  redirect_uris: [],
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'client_secret_basic',
  scope: 'api:read api:write openid offline_access',
  require_pkce: true,
};

const SERVICE_POST_CLIENT: ClientFixture = {
  ...SERVICE_CLIENT,
  client_id: 'billing-service',
  client_secret: 'billing-service-secret-long-enough',
  client_name: 'Billing Service',
  token_endpoint_auth_method: 'client_secret_post',
  scope: 'billing:read',
};

describe('RFC 6749 §4.4: client credentials grant', () => {
  let gatehouse: RunningGatehouse;
  let service: InteropClient;

  before(async () => {
    gatehouse = await startTestServer({
      clients: [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, SERVICE_CLIENT, SERVICE_POST_CLIENT],
    });
    service = await interopClient(gatehouse, SERVICE_CLIENT);
  });
  after(async () => {
    await gatehouse?.close();
  });

  it('RFC 8414 §2: client_credentials is advertised in grant_types_supported', () => {
    assert.ok(service.config.serverMetadata().grant_types_supported?.includes('client_credentials'));
  });

  it('RFC 6749 §4.4.2-4.4.3 + RFC 9068 §2.2: a confidential client gets an access token with sub = client_id, no refresh token, no ID token', async () => {
    const tokens = await client.clientCredentialsGrant(service.config, { scope: 'api:read' });
    const response = service.lastResponse('/token');
    assert.equal(response.status, 200);
    assertNoStore(response);
    assert.equal(tokens.token_type, 'bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.scope, 'api:read');
    assert.equal(tokens.refresh_token, undefined, 'RFC 6749 §4.4.3: a refresh token SHOULD NOT be included');
    assert.equal(tokens.id_token, undefined, 'no user, no ID token');

    const jwks = createRemoteJWKSet(new URL(`${gatehouse.url}/jwks`));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
      issuer: gatehouse.url,
      audience: gatehouse.url,
      typ: 'at+jwt',
    });
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(
      payload.sub,
      SERVICE_CLIENT.client_id,
      'RFC 9068 §2.2: sub is the client when no resource owner is involved',
    );
    assert.equal(payload['client_id'], SERVICE_CLIENT.client_id);
    assert.equal(payload['scope'], 'api:read');
    assert.equal(payload['auth_time'], undefined);
    assert.equal(payload.exp! - payload.iat!, 3600);

    // RFC 7662: the client can introspect its own token.
    const introspected = await client.tokenIntrospection(service.config, tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.sub, SERVICE_CLIENT.client_id);
    assert.equal(introspected.client_id, SERVICE_CLIENT.client_id);
  });

  it('RFC 7009 §2.1: a client credentials access token can be revoked by its client', async () => {
    const tokens = await client.clientCredentialsGrant(service.config, { scope: 'api:write' });
    assert.equal((await client.tokenIntrospection(service.config, tokens.access_token)).active, true);
    await client.tokenRevocation(service.config, tokens.access_token);
    assert.equal(service.lastResponse('/revoke').status, 200);
    assert.deepEqual(await client.tokenIntrospection(service.config, tokens.access_token), { active: false });
  });

  it('RFC 6749 §3.3: without a scope parameter the client gets its registered scopes, minus the OpenID ones', async () => {
    const tokens = await client.clientCredentialsGrant(service.config);
    assert.equal(tokens.scope, 'api:read api:write');
  });

  it('RFC 6749 §2.3.1: client_secret_post authentication works for the grant too', async () => {
    const billing = await interopClient(gatehouse, SERVICE_POST_CLIENT);
    const tokens = await client.clientCredentialsGrant(billing.config, { scope: 'billing:read' });
    assert.equal(tokens.scope, 'billing:read');
  });

  /** RFC 6749 §5.2: the service's client credentials grant for `scope` is 400 invalid_scope. */
  const assertInvalidScope = (scope: string) =>
    assertOAuthError(client.clientCredentialsGrant(service.config, { scope }), 400, 'invalid_scope');

  it('RFC 6749 §5.2: a scope the client is not registered for is invalid_scope', async () => {
    await assertInvalidScope('api:admin');
    await assertInvalidScope('api:read billing:read');
  });

  it('RFC 6749 §4.4 + OIDC Core §3.1.2.1: openid and offline_access are invalid_scope with client credentials (no user), even when registered', async () => {
    await assertInvalidScope('openid');
    await assertInvalidScope('api:read openid');
    await assertInvalidScope('offline_access');
  });

  it('RFC 6749 §4.4: a public client cannot even be registered for client_credentials', async () => {
    const fixture = {
      ...PUBLIC_CLIENT,
      client_id: 'public-service',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    };
    assert.throws(
      () => validateClientMetadata(fixture),
      (error: unknown) =>
        error instanceof ClientMetadataError && /MUST only be used by confidential clients/.test(error.message),
    );
    await assert.rejects(startTestServer({ clients: [fixture] }), /client_credentials requires a confidential client/);
  });

  it('RFC 6749 §4.4 + §5.2: a public client (which lacks the grant) is unauthorized_client', async () => {
    const spa = await interopClient(gatehouse, PUBLIC_CLIENT);
    await assertOAuthError(client.clientCredentialsGrant(spa.config), 400, 'unauthorized_client');
    const response = await postToken(gatehouse, {
      grant_type: 'client_credentials',
      client_id: PUBLIC_CLIENT.client_id,
    });
    assertTokenError(response, 400, 'unauthorized_client');
  });

  it('RFC 6749 §5.2: a confidential client without the client_credentials grant is unauthorized_client', async () => {
    const web = await interopClient(gatehouse, CONFIDENTIAL_CLIENT);
    await assertOAuthError(client.clientCredentialsGrant(web.config, { scope: 'profile' }), 400, 'unauthorized_client');
  });

  it('RFC 6749 §5.2: wrong Basic credentials are 401 invalid_client with a Basic challenge, none at all 400', async () => {
    const response = await postToken(
      gatehouse,
      { grant_type: 'client_credentials' },
      { authorization: basicAuthorization(SERVICE_CLIENT.client_id, 'wrong-secret') },
    );
    assertTokenError(response, 401, 'invalid_client');
    // RFC 6749 §5.2: without an Authorization header, 400.
    const anonymous = await postToken(gatehouse, { grant_type: 'client_credentials' });
    assertTokenError(anonymous, 400, 'invalid_client');
  });
});
