/**
 * No client enumeration through client authentication errors (RFC 6749 §5.2, RFC 6819 §4.4.1.1
 * "obtain client secrets"): an unknown client, a wrong secret, a wrong authentication method
 * and missing credentials all answer the same `invalid_client` error_description, at the token,
 * revocation, introspection and pushed authorization request endpoints; which check failed goes
 * to the log.
 *
 * Status per RFC 6749 §5.2: 401 with `WWW-Authenticate: Basic` when the client used the
 * Authorization header, 400 otherwise, whose JSON body openid-client and oauth4webapi surface.
 *
 * Run: node --import tsx --test test/token/client-authentication-errors.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import { DEFAULT_SETTINGS, type ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { CONFIDENTIAL_CLIENT, POST_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';
import { assertTokenError, basicAuthorization, postForm } from '../helpers/code-flow.js';
import { interopClient } from '../helpers/interop-client.js';

/** The one description every failed client authentication answers. */
const FAILED = 'client authentication failed';

/** A failing client authentication: body parameters and, for Basic, an Authorization header. */
interface Attempt {
  name: string;
  form: Record<string, string>;
  authorization?: string;
}

const WITHOUT_BASIC: Attempt[] = [
  { name: 'unknown client, client_id only', form: { client_id: 'no-such-client' } },
  { name: 'unknown client, client_secret_post', form: { client_id: 'no-such-client', client_secret: 'whatever' } },
  {
    name: 'client_secret_basic client sending only its client_id (method none)',
    form: { client_id: CONFIDENTIAL_CLIENT.client_id },
  },
  {
    name: 'client_secret_basic client using client_secret_post with its right secret',
    form: { client_id: CONFIDENTIAL_CLIENT.client_id, client_secret: CONFIDENTIAL_CLIENT.client_secret! },
  },
  {
    name: 'public client sending a client_secret',
    form: { client_id: PUBLIC_CLIENT.client_id, client_secret: 'anything' },
  },
  {
    name: 'client_secret_post client with a wrong secret',
    form: { client_id: POST_CLIENT.client_id, client_secret: 'wrong-secret' },
  },
  { name: 'no client authentication at all', form: {} },
];

const WITH_BASIC: Attempt[] = [
  { name: 'Basic, unknown client', form: {}, authorization: basicAuthorization('no-such-client', 'whatever') },
  {
    name: 'Basic, wrong secret',
    form: {},
    authorization: basicAuthorization(CONFIDENTIAL_CLIENT.client_id, 'wrong-secret'),
  },
  {
    name: 'Basic by a client_secret_post client',
    form: {},
    authorization: basicAuthorization(POST_CLIENT.client_id, POST_CLIENT.client_secret!),
  },
  {
    name: 'Basic by a public client',
    form: {},
    authorization: basicAuthorization(PUBLIC_CLIENT.client_id, 'anything'),
  },
  { name: 'malformed Basic header', form: {}, authorization: 'Basic !!!!' },
];

/** The body of a request to each endpoint, around the client authentication under test. */
const ENDPOINTS: Array<{ path: string; form: Record<string, string> }> = [
  { path: '/token', form: { grant_type: 'refresh_token', refresh_token: 'some-refresh-token' } },
  { path: '/revoke', form: { token: 'some-token' } },
  { path: '/introspect', form: { token: 'some-token' } },
  // RFC 9126 §2: the PAR endpoint authenticates clients as the token endpoint does.
  { path: '/par', form: { response_type: 'code', scope: 'openid' } },
];

const lines: string[] = [];
let gatehouse: RunningGatehouse;
before(async () => {
  // The brute-force limits are not under test here: many failures from one address are.
  const generous = { freeAttempts: 1000, backoffBaseMs: 1000, lockAfter: 10000, lockSeconds: 300 };
  gatehouse = await startTestServer({
    clients: [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, POST_CLIENT],
    settings: { limits: { ...DEFAULT_SETTINGS.limits, clientId: generous, clientIp: generous } },
    logger: { write: (line: string) => void lines.push(line) },
  });
});
after(async () => {
  await gatehouse.close();
});

describe('RFC 6749 §5.2: client authentication failures do not tell which clients exist', () => {
  for (const endpoint of ENDPOINTS) {
    it(`RFC 6749 §5.2: ${endpoint.path}: without Basic every failure is 400 invalid_client "${FAILED}", without a challenge`, async () => {
      for (const attempt of WITHOUT_BASIC) {
        const response = await postForm(gatehouse, endpoint.path, { ...endpoint.form, ...attempt.form });
        assertTokenError(response, 400, 'invalid_client');
        assert.equal(response.body['error_description'], FAILED, `${attempt.name}: ${response.text}`);
        assert.equal(response.headers.get('www-authenticate'), null, attempt.name);
      }
    });

    it(`RFC 6749 §5.2: ${endpoint.path}: with Basic every failure is 401 invalid_client "${FAILED}" with WWW-Authenticate: Basic`, async () => {
      for (const attempt of WITH_BASIC) {
        const response = await postForm(
          gatehouse,
          endpoint.path,
          { ...endpoint.form, ...attempt.form },
          { authorization: attempt.authorization },
        );
        assertTokenError(response, 401, 'invalid_client');
        assert.equal(response.body['error_description'], FAILED, `${attempt.name}: ${response.text}`);
        assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="gatehouse"/, attempt.name);
      }
    });
  }

  it('RFC 7662 §2.1: a public client at the introspection endpoint reads the same description', async () => {
    const response = await postForm(gatehouse, '/introspect', {
      token: 'some-token',
      client_id: PUBLIC_CLIENT.client_id,
    });
    assertTokenError(response, 400, 'invalid_client');
    assert.equal(response.body['error_description'], FAILED);
  });

  it('RFC 6749 §5.2: the log line of the request (its reqId) says which check failed and for which client_id, never the secret', async () => {
    const response = await postForm(gatehouse, '/token', {
      grant_type: 'refresh_token',
      refresh_token: 'some-refresh-token',
      client_id: CONFIDENTIAL_CLIENT.client_id,
      client_secret: CONFIDENTIAL_CLIENT.client_secret!,
    });
    assert.equal(response.body['error_description'], FAILED);
    const requestId = response.headers.get('x-request-id');
    assert.ok(requestId);
    const entries = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry['reqId'] === requestId);
    const failure = entries.find((entry) => entry['msg'] === 'client authentication failed');
    assert.ok(failure, `a log line explains the failure: ${JSON.stringify(entries)}`);
    assert.equal(failure['clientId'], CONFIDENTIAL_CLIENT.client_id);
    assert.equal(
      failure['reason'],
      'client is registered for client_secret_basic authentication, not client_secret_post',
    );
    // The token.refused event (logged outside the request, and in the audit trail) carries the reason as well.
    const events = lines.map((line) => (JSON.parse(line) as { event?: { type: string; description?: string } }).event);
    assert.ok(events.some((event) => event?.type === 'token.refused' && event.description === failure['reason']));
    for (const entry of entries)
      assert.ok(!JSON.stringify(entry).includes(CONFIDENTIAL_CLIENT.client_secret!), 'no secret in the log');

    const wrongSecret = await postForm(
      gatehouse,
      '/revoke',
      { token: 'x' },
      { basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: 'a-wrong-secret' } },
    );
    const logged = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find(
        (entry) =>
          entry['reqId'] === wrongSecret.headers.get('x-request-id') && entry['msg'] === 'client authentication failed',
      );
    assert.equal(logged?.['clientId'], CONFIDENTIAL_CLIENT.client_id);
    assert.equal(logged?.['reason'], 'unknown client or wrong credentials');
    assert.ok(!lines.some((line) => line.includes('a-wrong-secret')), 'no secret in the log');
  });
});

describe('RFC 6749 §5.2: client libraries surface the error_description (a 400, not a challenge)', () => {
  /** openid-client configured as a public client (`none`) with `clientId`. */
  async function publicClientFor(clientId: string) {
    const fixture: ClientFixture = { ...PUBLIC_CLIENT, client_id: clientId, token_endpoint_auth_method: 'none' };
    return interopClient(gatehouse, fixture);
  }

  for (const [label, clientId] of [
    ['a confidential client configured as public (wrong method)', CONFIDENTIAL_CLIENT.client_id],
    ['an unknown client', 'no-such-client'],
  ] as const) {
    it(`openid-client: ${label} gets ResponseBodyError invalid_client with the description`, async () => {
      const ic = await publicClientFor(clientId);
      await assert.rejects(client.refreshTokenGrant(ic.config, 'some-refresh-token'), (error: unknown) => {
        assert.ok(error instanceof client.ResponseBodyError, `expected a ResponseBodyError, got ${String(error)}`);
        assert.equal(error.status, 400);
        assert.equal(error.error, 'invalid_client');
        assert.equal(error.error_description, FAILED);
        return true;
      });
    });

    it(`oauth4webapi: ${label} gets ResponseBodyError invalid_client with the description`, async () => {
      const issuer = new URL(gatehouse.url);
      const as = await oauth.processDiscoveryResponse(
        issuer,
        await oauth.discoveryRequest(issuer, { algorithm: 'oidc', [oauth.allowInsecureRequests]: true }),
      );
      const response = await oauth.refreshTokenGrantRequest(
        as,
        { client_id: clientId },
        oauth.None(),
        'some-refresh-token',
        {
          [oauth.allowInsecureRequests]: true,
        },
      );
      await assert.rejects(
        oauth.processRefreshTokenResponse(as, { client_id: clientId }, response),
        (error: unknown) => {
          assert.ok(error instanceof oauth.ResponseBodyError, `expected a ResponseBodyError, got ${String(error)}`);
          assert.equal(error.status, 400);
          assert.equal(error.error, 'invalid_client');
          assert.equal(error.error_description, FAILED);
          return true;
        },
      );
    });
  }

  it('openid-client: a wrong Basic secret is a 401 challenge (RFC 6749 §5.2 MUST), carrying the same description', async () => {
    const ic = await interopClient(gatehouse, { ...CONFIDENTIAL_CLIENT, client_secret: 'a-wrong-secret' });
    await assert.rejects(client.refreshTokenGrant(ic.config, 'some-refresh-token'), (error: unknown) => {
      assert.ok(
        error instanceof client.WWWAuthenticateChallengeError,
        `expected a challenge error, got ${String(error)}`,
      );
      assert.equal(error.status, 401);
      return true;
    });
    const body = (await ic.lastResponse('/token').json()) as Record<string, unknown>;
    assert.deepEqual(body, { error: 'invalid_client', error_description: FAILED });
  });
});
