/**
 * The pushed authorization request endpoint, RFC 9126 §2 (and its metadata, §5): client
 * authentication as at the token endpoint, the authorization endpoint's validation answered
 * directly to the client (§2.3), the request_uri and its lifetime (§2.2).
 *
 * Run: node scripts/run-tests.mjs test/par/pushed-authorization-endpoint
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import { sha256Base64Url } from '../../src/core/secrets.js';
import {
  CONFIDENTIAL_CLIENT,
  MACHINE_CLIENT,
  POST_CLIENT,
  PUBLIC_CLIENT,
  startTestServer,
  useTestServer,
} from '../helpers/server.js';
import { assertNoStore, assertTokenError, authorizeParams, type TokenResponse } from '../helpers/code-flow.js';
import { pushAuthorizationRequest } from '../helpers/par.js';

const BASIC = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };
const URN = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/;

let gatehouse: RunningGatehouse;
useTestServer(
  { clients: [CONFIDENTIAL_CLIENT, POST_CLIENT, PUBLIC_CLIENT, MACHINE_CLIENT], resources: [] },
  (started) => {
    gatehouse = started;
  },
);

/** Pushes `params` as the confidential client (Basic), as the endpoint's usual caller. */
function push(params: Record<string, string | undefined>): Promise<TokenResponse> {
  return pushAuthorizationRequest(gatehouse, params, { basic: BASIC });
}

/** RFC 9126 §2.2: 201, JSON, not cacheable, a URN request_uri and expires_in. */
function assertPushed(response: TokenResponse, expiresIn = 60): string {
  assert.equal(response.status, 201, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assertNoStore(response);
  assert.match(String(response.body['request_uri']), URN);
  assert.equal(response.body['expires_in'], expiresIn);
  assert.deepEqual(Object.keys(response.body).sort(), ['expires_in', 'request_uri']);
  return response.body['request_uri'] as string;
}

describe('RFC 9126 §2.2: a valid pushed request is answered 201 with a request_uri', () => {
  it('RFC 9126 §2.2: client_secret_basic client: 201, request_uri urn:ietf:params:oauth:request_uri:<256 random bits>, expires_in 60, no-store', async () => {
    assertPushed(await push(authorizeParams(CONFIDENTIAL_CLIENT)));
  });

  it('RFC 9126 §2: client_secret_post and public (none) clients authenticate as at the token endpoint', async () => {
    assertPushed(
      await pushAuthorizationRequest(gatehouse, {
        ...authorizeParams(POST_CLIENT),
        client_secret: POST_CLIENT.client_secret,
      }),
    );
    assertPushed(await pushAuthorizationRequest(gatehouse, authorizeParams(PUBLIC_CLIENT)));
  });

  it('RFC 9126 §2.2: every push gets its own request_uri', async () => {
    const uris = new Set<string>();
    for (let i = 0; i < 5; i++) uris.add(assertPushed(await push(authorizeParams(CONFIDENTIAL_CLIENT))));
    assert.equal(uris.size, 5);
  });

  it('RFC 9126 §2: client_id may be left out of the body when the client authenticates with Basic', async () => {
    assertPushed(await push(authorizeParams(CONFIDENTIAL_CLIENT, { client_id: undefined })));
  });

  it('RFC 9126 §2.2: the request is stored without the client secret, bound to the client, with its repeated parameters', async () => {
    const requestUri = assertPushed(
      await pushAuthorizationRequest(gatehouse, {
        ...authorizeParams(POST_CLIENT, { state: 'pushed-state' }),
        client_secret: POST_CLIENT.client_secret,
      }),
    );
    const used = await gatehouse.context.store.pushedRequests.consume(
      sha256Base64Url(requestUri),
      POST_CLIENT.client_id,
      Date.now(),
    );
    assert.equal(used.status, 'consumed');
    const parameters = used.status === 'consumed' ? used.request.parameters : [];
    assert.ok(!parameters.some(([name]) => name === 'client_secret'), JSON.stringify(parameters));
    assert.deepEqual(
      parameters.filter(([name]) => name === 'client_id' || name === 'state'),
      [
        ['client_id', POST_CLIENT.client_id],
        ['state', 'pushed-state'],
      ],
    );
  });

  it('RFC 9126 §2.2: expires_in is par_request_uri_ttl_seconds', async () => {
    const short = await startTestServer({ settings: { parRequestUriTtlSeconds: 15 } });
    try {
      assertPushed(await pushAuthorizationRequest(short, authorizeParams(CONFIDENTIAL_CLIENT), { basic: BASIC }), 15);
    } finally {
      await short.close();
    }
  });
});

describe('RFC 9126 §2.1, §2.3: a bad request is refused at push time, to the client, as the token endpoint refuses', () => {
  it('RFC 9126 §2.1: a request_uri inside a pushed request is 400 invalid_request', async () => {
    const response = await push(
      authorizeParams(CONFIDENTIAL_CLIENT, { request_uri: 'urn:ietf:params:oauth:request_uri:abc' }),
    );
    assertTokenError(response, 400, 'invalid_request');
    assert.match(String(response.body['error_description']), /request_uri/);
  });

  it('RFC 9126 §2.3: an unregistered redirect_uri is 400 invalid_request (no redirect: §4.1.2.1 has no code for it)', async () => {
    const response = await push(authorizeParams(CONFIDENTIAL_CLIENT, { redirect_uri: 'https://evil.example/cb' }));
    assertTokenError(response, 400, 'invalid_request');
    assert.equal(response.headers.get('location'), null);
    assert.match(String(response.body['error_description']), /redirect_uri/);
  });

  it('RFC 9126 §2.3: a redirect_uri sent twice is 400 invalid_request', async () => {
    const body = new URLSearchParams({
      ...(authorizeParams(CONFIDENTIAL_CLIENT) as Record<string, string>),
    });
    body.append('redirect_uri', CONFIDENTIAL_CLIENT.redirect_uris[0]!);
    assertTokenError(
      await pushAuthorizationRequest(gatehouse, body.toString(), { basic: BASIC }),
      400,
      'invalid_request',
    );
  });

  const refusals: Array<{ name: string; params: Record<string, string | undefined>; error: string }> = [
    {
      name: 'RFC 6749 §4.1.1: a missing response_type',
      params: { response_type: undefined },
      error: 'invalid_request',
    },
    {
      name: 'RFC 9700 §2.1.2: response_type=token',
      params: { response_type: 'token' },
      error: 'unsupported_response_type',
    },
    {
      name: 'RFC 7636 §4.4.1: a code_challenge_method other than S256',
      params: { code_challenge_method: 'plain' },
      error: 'invalid_request',
    },
    {
      name: 'RFC 8707 §2: an unregistered resource',
      params: { resource: 'https://unknown.example/api' },
      error: 'invalid_target',
    },
    { name: 'OIDC Core §3.1.2.1: an unknown prompt value', params: { prompt: 'sometimes' }, error: 'invalid_request' },
    { name: 'RFC 6749 §3.3: no allowed scope', params: { scope: 'admin' }, error: 'invalid_scope' },
    { name: 'OIDC Core §3.1.2.1: max_age not a number', params: { max_age: 'soon' }, error: 'invalid_request' },
    {
      name: 'RFC 9101 §6.2: an unsigned request object (alg none)',
      params: { request: 'eyJhbGciOiJub25lIn0.e30.' },
      error: 'invalid_request_object',
    },
  ];
  for (const refusal of refusals) {
    it(`RFC 9126 §2.3: ${refusal.name} is 400 ${refusal.error}`, async () => {
      assertTokenError(await push(authorizeParams(CONFIDENTIAL_CLIENT, refusal.params)), 400, refusal.error);
    });
  }

  it('RFC 9126 §2.3: a public client without PKCE (RFC 9700 §2.1.1) is 400 invalid_request', async () => {
    const response = await pushAuthorizationRequest(
      gatehouse,
      authorizeParams(PUBLIC_CLIENT, { code_challenge: undefined, code_challenge_method: undefined }),
    );
    assertTokenError(response, 400, 'invalid_request');
  });

  it('RFC 9126 §2.3: a client not registered for the authorization code grant is 400 unauthorized_client', async () => {
    const response = await pushAuthorizationRequest(gatehouse, authorizeParams(MACHINE_CLIENT), {
      basic: { id: MACHINE_CLIENT.client_id, secret: MACHINE_CLIENT.client_secret! },
    });
    assertTokenError(response, 400, 'unauthorized_client');
  });

  it('RFC 9126 §2: a client_id in the body other than the authenticated client is 400 invalid_request', async () => {
    assertTokenError(
      await push(authorizeParams(CONFIDENTIAL_CLIENT, { client_id: PUBLIC_CLIENT.client_id })),
      400,
      'invalid_request',
    );
  });

  it('RFC 9126 §2: a wrong Basic secret is 401 invalid_client with WWW-Authenticate: Basic, as at the token endpoint', async () => {
    const response = await pushAuthorizationRequest(gatehouse, authorizeParams(CONFIDENTIAL_CLIENT), {
      basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: 'wrong' },
    });
    assertTokenError(response, 401, 'invalid_client');
  });

  it('RFC 9126 §2: a client that does not authenticate is 400 invalid_client', async () => {
    assertTokenError(
      await pushAuthorizationRequest(gatehouse, authorizeParams(CONFIDENTIAL_CLIENT)),
      400,
      'invalid_client',
    );
  });

  it('RFC 9126 §2.3: a GET is 405 with Allow: POST', async () => {
    const response = await fetch(new URL('/par', gatehouse.url));
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST');
    assert.equal(((await response.json()) as Record<string, unknown>)['error'], 'invalid_request');
  });

  it('RFC 9126 §2: a body that is not application/x-www-form-urlencoded is 400 invalid_request', async () => {
    const response = await pushAuthorizationRequest(gatehouse, JSON.stringify(authorizeParams(CONFIDENTIAL_CLIENT)), {
      basic: BASIC,
      contentType: 'application/json',
    });
    assertTokenError(response, 400, 'invalid_request');
  });
});

describe('RFC 9126 §5: authorization server metadata', () => {
  it('RFC 9126 §5: both discovery documents publish pushed_authorization_request_endpoint and require_pushed_authorization_requests', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const metadata = (await (await fetch(new URL(path, gatehouse.url))).json()) as Record<string, unknown>;
      assert.equal(metadata['pushed_authorization_request_endpoint'], `${gatehouse.url}/par`);
      assert.equal(metadata['require_pushed_authorization_requests'], false);
    }
  });
});
