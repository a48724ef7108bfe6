/**
 * Resource indicators, RFC 8707, driven by openid-client: the `resource` parameter on the
 * authorization request (§2.1) and the token request (§2.2) restricts the access token's
 * audience (`aud`) to the named, registered resources; anything else is invalid_target, as a
 * redirect from the authorization endpoint and as a 400 JSON error from the token endpoint.
 * (The refusal of a token for another audience at a resource server is tested with the
 * resource module in test/resource.)
 *
 * Run: node --import tsx --test test/token/resource-indicators.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { CONFIDENTIAL_CLIENT, MACHINE_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';
import { apiResource } from '../helpers/resources.js';
import {
  assertOAuthError,
  buildCodeRequest,
  codeFlow,
  decodeAccessToken,
  interopClient,
  type InteropClient,
} from '../helpers/interop-client.js';

const RESOURCE_A = apiResource('https://api-a.example.test/', 'API A');
const RESOURCE_B = apiResource('https://api-b.example.test/v1', 'API B');
const UNREGISTERED = 'https://api-c.example.test/';

const SERVICE_CLIENT: ClientFixture = {
  ...MACHINE_CLIENT,
  client_id: 'reporting-service',
  client_secret: 'reporting-service-secret-long-enough',
  scope: 'api:read',
};

const SCOPE = 'openid profile offline_access';

function resources(...values: string[]): URLSearchParams {
  const params = new URLSearchParams();
  for (const value of values) params.append('resource', value);
  return params;
}

describe('RFC 8707: resource indicators', () => {
  let gatehouse: RunningGatehouse;
  let web: InteropClient;
  let service: InteropClient;

  before(async () => {
    gatehouse = await startTestServer({
      clients: [CONFIDENTIAL_CLIENT, SERVICE_CLIENT],
      resources: [RESOURCE_A, RESOURCE_B],
    });
    web = await interopClient(gatehouse, CONFIDENTIAL_CLIENT);
    service = await interopClient(gatehouse, SERVICE_CLIENT);
  });
  after(async () => {
    await gatehouse?.close();
  });

  /** Sends an authorization request and returns the error redirect to the client. */
  async function authorizationError(resource: string[]): Promise<URLSearchParams> {
    const request = await buildCodeRequest(web, { scope: SCOPE, resource });
    const response = await new UserAgent(gatehouse.url).navigate(request.url.href);
    assert.equal(
      response.status,
      303,
      `expected an error redirect, got ${response.status}: ${response.body.slice(0, 200)}`,
    );
    const location = new URL(response.location!);
    assert.equal(location.origin + location.pathname, CONFIDENTIAL_CLIENT.redirect_uris[0]);
    assert.equal(location.searchParams.get('state'), request.state, 'RFC 6749 §4.1.2.1: state is echoed');
    assert.equal(location.searchParams.get('iss'), gatehouse.url, 'RFC 9207 §2');
    assert.equal(location.searchParams.get('code'), null);
    return location.searchParams;
  }

  it('RFC 8707 §2.1-2.2: resource=A on the authorization and token requests gives an access token with aud = A', async () => {
    const tokens = await codeFlow(gatehouse, web, {
      scope: SCOPE,
      resource: [RESOURCE_A.resource],
      tokenParams: resources(RESOURCE_A.resource),
    });
    assert.equal(decodeAccessToken(tokens.access_token).aud, RESOURCE_A.resource);
    const introspected = await client.tokenIntrospection(web.config, tokens.access_token);
    assert.equal(introspected.aud, RESOURCE_A.resource);
    // The ID token is still for the client (OIDC Core §2).
    assert.equal(tokens.claims()!.aud, CONFIDENTIAL_CLIENT.client_id);
  });

  it('RFC 8707 §2.2: without resource on the token request, the audience is what the authorization request named', async () => {
    const tokens = await codeFlow(gatehouse, web, { scope: SCOPE, resource: [RESOURCE_A.resource] });
    assert.equal(decodeAccessToken(tokens.access_token).aud, RESOURCE_A.resource);
  });

  it('RFC 9068 §3: without any resource the access token is for the issuer', async () => {
    const tokens = await codeFlow(gatehouse, web, { scope: SCOPE });
    assert.equal(decodeAccessToken(tokens.access_token).aud, gatehouse.url);
  });

  it('RFC 8707 §2.1: two resources give an aud array (code flow and client credentials)', async () => {
    const tokens = await codeFlow(gatehouse, web, {
      scope: SCOPE,
      resource: [RESOURCE_A.resource, RESOURCE_B.resource],
    });
    assert.deepEqual(decodeAccessToken(tokens.access_token).aud, [RESOURCE_A.resource, RESOURCE_B.resource]);
    const service2 = await client.clientCredentialsGrant(
      service.config,
      resources(RESOURCE_A.resource, RESOURCE_B.resource),
    );
    assert.deepEqual(decodeAccessToken(service2.access_token).aud, [RESOURCE_A.resource, RESOURCE_B.resource]);
  });

  it('RFC 8707 §2.2: the token request (and a refresh) may narrow the audience to one of the authorized resources', async () => {
    const tokens = await codeFlow(gatehouse, web, {
      scope: SCOPE,
      resource: [RESOURCE_A.resource, RESOURCE_B.resource],
      tokenParams: resources(RESOURCE_A.resource),
    });
    assert.equal(decodeAccessToken(tokens.access_token).aud, RESOURCE_A.resource);
    const forB = await client.refreshTokenGrant(web.config, tokens.refresh_token!, resources(RESOURCE_B.resource));
    assert.equal(decodeAccessToken(forB.access_token).aud, RESOURCE_B.resource);
    const forBoth = await client.refreshTokenGrant(web.config, forB.refresh_token!);
    assert.deepEqual(decodeAccessToken(forBoth.access_token).aud, [RESOURCE_A.resource, RESOURCE_B.resource]);
  });

  it('RFC 8707 §2.2: a refresh naming a resource outside the authorization is invalid_target', async () => {
    const tokens = await codeFlow(gatehouse, web, { scope: SCOPE, resource: [RESOURCE_A.resource] });
    await assertOAuthError(
      client.refreshTokenGrant(web.config, tokens.refresh_token!, resources(RESOURCE_B.resource)),
      400,
      'invalid_target',
    );
    // Refused before rotation: the refresh token still works.
    const refreshed = await client.refreshTokenGrant(web.config, tokens.refresh_token!);
    assert.equal(decodeAccessToken(refreshed.access_token).aud, RESOURCE_A.resource);
  });

  it('RFC 8707 §2 + RFC 6749 §4.4: client credentials with resource=B gives aud = B', async () => {
    const tokens = await client.clientCredentialsGrant(service.config, resources(RESOURCE_B.resource));
    const payload = decodeAccessToken(tokens.access_token);
    assert.equal(payload.aud, RESOURCE_B.resource);
    assert.equal(payload.sub, SERVICE_CLIENT.client_id);
  });

  it('RFC 8707 §2: an unregistered resource on the authorization request is an error redirect with error=invalid_target', async () => {
    const params = await authorizationError([UNREGISTERED]);
    assert.equal(params.get('error'), 'invalid_target');
    const mixed = await authorizationError([RESOURCE_A.resource, UNREGISTERED]);
    assert.equal(mixed.get('error'), 'invalid_target');
  });

  it('RFC 8707 §2: an unregistered resource on the token request is a 400 invalid_target JSON error', async () => {
    await assertOAuthError(
      client.clientCredentialsGrant(service.config, resources(UNREGISTERED)),
      400,
      'invalid_target',
    );
    await assertOAuthError(
      codeFlow(gatehouse, web, { scope: SCOPE, resource: [RESOURCE_A.resource], tokenParams: resources(UNREGISTERED) }),
      400,
      'invalid_target',
    );
  });

  it('RFC 8707 §2.2: a token request naming a resource that was not in the authorization request is invalid_target', async () => {
    await assertOAuthError(
      codeFlow(gatehouse, web, {
        scope: SCOPE,
        resource: [RESOURCE_A.resource],
        tokenParams: resources(RESOURCE_B.resource),
      }),
      400,
      'invalid_target',
    );
    await assertOAuthError(
      codeFlow(gatehouse, web, { scope: SCOPE, tokenParams: resources(RESOURCE_A.resource) }),
      400,
      'invalid_target',
    );
  });

  it('RFC 8707 §2: a resource with a fragment, or not an absolute URI, is invalid_target', async () => {
    const withFragment = `${RESOURCE_A.resource}#section`;
    assert.equal((await authorizationError([withFragment])).get('error'), 'invalid_target');
    await assertOAuthError(
      client.clientCredentialsGrant(service.config, resources(withFragment)),
      400,
      'invalid_target',
    );
    // An empty fragment is a fragment too.
    await assertOAuthError(
      client.clientCredentialsGrant(service.config, resources(`${RESOURCE_A.resource}#`)),
      400,
      'invalid_target',
    );
    assert.equal((await authorizationError(['/relative/api'])).get('error'), 'invalid_target');
    await assertOAuthError(
      client.clientCredentialsGrant(service.config, resources('api-a.example.test')),
      400,
      'invalid_target',
    );
  });
});
