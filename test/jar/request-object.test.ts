/**
 * Signed request objects, RFC 9101 (JAR), at the PAR endpoint (RFC 9126 §3) and at the
 * authorization endpoint: every check of §4, §6 and §10 is sent a bad request object and answered
 * invalid_request_object (a JSON 400 at /par; at /authorize an error page while the signature has
 * not verified, a redirect to the object's redirect_uri after); only the object's parameters
 * count (§5, §6.3); require_signed_request_object per client and globally (§10.5); each object
 * is single-use, also under 20 parallel pushes, on SQLite and PostgreSQL.
 *
 * Run: node scripts/run-tests.mjs test/jar/request-object
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, CompactEncrypt } from 'jose';
import { requestUriHash } from '../../src/core/authorize/pushed-request-uri.js';
import type { ClientFixture } from '../../src/config/settings.js';
import { s256Challenge } from '../../src/core/pkce.js';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, CONFIDENTIAL_CLIENT, STORE_TARGETS, startTestServer, useTestServer } from '../helpers/server.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import {
  assertTokenError,
  authorizeParams,
  authorizeUrl,
  newVerifier,
  postToken,
  type TokenResponse,
} from '../helpers/code-flow.js';
import { assertErrorPage, assertRedirectError } from '../helpers/authorization-pages.js';
import { pushAuthorizationRequest } from '../helpers/par.js';
import { UserAgent, type PageResponse } from '../helpers/user-agent.js';
import { jarClient, requestObject, signingKey, type SigningKey } from '../helpers/request-objects.js';

const ES256 = await signingKey('ES256', 'es-1');
const RS256 = await signingKey('RS256', 'rs-1');
const PINNED_ES = await signingKey('ES256', 'pinned-es');
const PINNED_RS = await signingKey('RS256', 'pinned-rs');
const STRANGER = await signingKey('ES256', 'es-1');

const JAR_CLIENT = jarClient('jar-app', [ES256, RS256]);
const PINNED_CLIENT = jarClient('pinned-app', [PINNED_ES, PINNED_RS], { request_object_signing_alg: 'ES256' });
const REQUIRED_CLIENT = jarClient('signed-only-app', [ES256], { require_signed_request_object: true });
const CLIENTS = [JAR_CLIENT, PINNED_CLIENT, REQUIRED_CLIENT, CONFIDENTIAL_CLIENT];
const PARALLEL = 20;
const nowSeconds = () => Math.floor(Date.now() / 1000);

function basic(client: ClientFixture) {
  return { basic: { id: client.client_id, secret: client.client_secret! } };
}

/** Pushes `request` (and `extra` body parameters) as `client`, authenticated with Basic. */
function push(
  gatehouse: RunningGatehouse,
  request: string | undefined,
  client: ClientFixture = JAR_CLIENT,
  extra: Record<string, string | undefined> = {},
): Promise<TokenResponse> {
  return pushAuthorizationRequest(gatehouse, { request, ...extra }, basic(client));
}

/** GET /authorize with `params`, not following the redirect. */
async function authorize(
  gatehouse: RunningGatehouse,
  params: Record<string, string | undefined>,
): Promise<PageResponse> {
  const url = authorizeUrl(gatehouse, params);
  const response = await fetch(url, { redirect: 'manual' });
  return {
    status: response.status,
    url,
    location: response.headers.get('location'),
    headers: response.headers,
    body: await response.text(),
  };
}

/** The browser was sent on to the login page: the request was accepted. */
function assertAccepted(page: PageResponse): void {
  assert.equal(page.status, 303, page.body.slice(0, 500));
  assert.match(page.location ?? '', /^\/interaction\/[A-Za-z0-9_-]+$/);
}

/** RFC 9101 §6.3, §7: 400 invalid_request_object, no-store, with a description matching `description`. */
function assertInvalidRequestObject(response: TokenResponse, description: RegExp): void {
  assertTokenError(response, 400, 'invalid_request_object');
  assert.match(String(response.body['error_description']), description);
}

/** An HS256 request object keyed with `secret` (a symmetric alg, never accepted). */
function hmacObject(gatehouse: RunningGatehouse, secret: string): Promise<string> {
  const now = nowSeconds();
  return new SignJWT({
    ...authorizeParams(JAR_CLIENT),
    iss: JAR_CLIENT.client_id,
    aud: gatehouse.url,
    jti: 'h',
    exp: now + 60,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

/** An unsigned (alg none) request object with the valid request's claims. */
function unsignedObject(gatehouse: RunningGatehouse): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = {
    ...authorizeParams(JAR_CLIENT),
    iss: JAR_CLIENT.client_id,
    aud: gatehouse.url,
    exp: nowSeconds() + 60,
  };
  return `${encode({ alg: 'none' })}.${encode(claims)}.`;
}

describe('RFC 9101: request objects at the PAR endpoint and the authorization endpoint (sqlite)', () => {
  let gatehouse: RunningGatehouse;
  useTestServer({ clients: CLIENTS }, (started) => (gatehouse = started));
  const signed = (options: Parameters<typeof requestObject>[3] = {}, key: SigningKey = ES256, client = JAR_CLIENT) =>
    requestObject(gatehouse, client, key, options);

  describe('RFC 9126 §3, RFC 9101 §6: a valid request object is accepted', () => {
    it('RFC 9126 §3: a request object signed with a registered ES256 or RS256 key is pushed (201), and its request_uri accepted at /authorize', async () => {
      for (const key of [ES256, RS256]) {
        const response = await push(gatehouse, await signed({}, key));
        assert.equal(response.status, 201, response.text);
        assertAccepted(
          await authorize(gatehouse, {
            client_id: JAR_CLIENT.client_id,
            request_uri: response.body['request_uri'] as string,
          }),
        );
      }
    });

    it('RFC 9101 §5.1: a request object by value at /authorize is accepted, and the code flow completes with its parameters', async () => {
      const verifier = newVerifier();
      const jwt = await signed({ claims: { code_challenge: s256Challenge(verifier), state: 'signed-state' } });
      const final = await new UserAgent(gatehouse.url).authorize(
        authorizeUrl(gatehouse, { client_id: JAR_CLIENT.client_id, request: jwt }),
        ALICE,
      );
      assert.equal(final.status, 303, final.body.slice(0, 300));
      const callback = new URL(final.location!);
      assert.equal(callback.origin + callback.pathname, JAR_CLIENT.redirect_uris[0]);
      assert.equal(callback.searchParams.get('state'), 'signed-state');
      const token = await postToken(
        gatehouse,
        {
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code')!,
          redirect_uri: JAR_CLIENT.redirect_uris[0],
          code_verifier: verifier,
        },
        basic(JAR_CLIENT),
      );
      assert.equal(token.status, 200, token.text);
      assert.equal(token.body['scope'], 'openid profile');
    });

    it('RFC 9101 §6.3: only the parameters inside the request object are used; those beside it are ignored (client_id aside)', async () => {
      const jwt = await signed();
      // At /par: an outer response_type=token or a foreign redirect_uri would be refused if used.
      const pushed = await push(gatehouse, jwt, JAR_CLIENT, {
        response_type: 'token',
        redirect_uri: 'https://attacker.example/cb',
        scope: 'admin',
      });
      assert.equal(pushed.status, 201, pushed.text);
      const stored = await gatehouse.store.pushedRequests.consume(
        requestUriHash(pushed.body['request_uri'] as string),
        JAR_CLIENT.client_id,
        Date.now(),
      );
      assert.equal(stored.status, 'consumed');
      const parameters = new Map(stored.status === 'consumed' ? stored.request.parameters : []);
      assert.equal(parameters.get('response_type'), 'code');
      assert.equal(parameters.get('redirect_uri'), JAR_CLIENT.redirect_uris[0]);
      assert.equal(parameters.get('scope'), 'openid profile');
      assert.equal(parameters.has('request'), false);
      // At /authorize.
      assertAccepted(
        await authorize(gatehouse, {
          client_id: JAR_CLIENT.client_id,
          request: await signed(),
          response_type: 'token',
          redirect_uri: 'https://attacker.example/cb',
        }),
      );
    });

    it('RFC 9101 §10.5: discovery publishes request_parameter_supported, the algorithms, and require_signed_request_object false', async () => {
      const metadata = (await (await fetch(`${gatehouse.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(metadata['request_parameter_supported'], true);
      assert.deepEqual(metadata['request_object_signing_alg_values_supported'], ['RS256', 'PS256', 'ES256', 'EdDSA']);
      assert.equal(metadata['require_signed_request_object'], false);
      assert.equal(metadata['request_uri_parameter_supported'], false);
    });
  });

  describe('RFC 9101 §4, §6, §10: every bad request object is 400 invalid_request_object at /par', () => {
    const refusals: Array<{ name: string; jwt: () => Promise<string>; description: RegExp; client?: ClientFixture }> = [
      { name: 'RFC 9101 §4: not a JWT', jwt: async () => 'not-a-jwt', description: /not a signed JWT/ },
      {
        name: 'RFC 9101 §6.1: an encrypted request object (JWE)',
        jwt: async () =>
          new CompactEncrypt(new TextEncoder().encode('{}'))
            .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
            .encrypt(new Uint8Array(32)),
        description: /Encrypted request objects are not supported/,
      },
      {
        name: 'RFC 9101 §6.2, §10.1: an unsigned request object (alg none)',
        jwt: async () => unsignedObject(gatehouse),
        description: /never none/,
      },
      {
        name: 'RFC 9101 §10.1: a symmetric alg (HS256 keyed with the client secret)',
        jwt: () => hmacObject(gatehouse, JAR_CLIENT.client_secret!),
        description: /alg HS256 is not accepted/,
      },
      {
        name: 'RFC 9101 §6.2: a signature by a key the client did not register (same kid)',
        jwt: () => signed({}, STRANGER),
        description: /signature does not verify/,
      },
      {
        name: 'RFC 9101 §6.2: a request object of a client without registered keys',
        jwt: () => signed({}, ES256, CONFIDENTIAL_CLIENT),
        client: CONFIDENTIAL_CLIENT,
        description: /registered no public keys/,
      },
      {
        name: 'RFC 9101 §10.5: an alg other than the client request_object_signing_alg (RS256 with a registered RS256 key, ES256 pinned)',
        jwt: () => signed({}, PINNED_RS, PINNED_CLIENT),
        client: PINNED_CLIENT,
        description: /signs its request objects with ES256/,
      },
      {
        name: 'RFC 9101 §10.8: a typ of another kind of JWT (dpop+jwt)',
        jwt: () => signed({ header: { typ: 'dpop+jwt' } }),
        description: /typ dpop\+jwt is not/,
      },
      {
        name: 'RFC 9101 §4: iss other than the client_id',
        jwt: () => signed({ claims: { iss: 'someone-else' } }),
        description: /iss must be the client_id/,
      },
      { name: 'RFC 9101 §4: no iss', jwt: () => signed({ omit: ['iss'] }), description: /iss must be the client_id/ },
      {
        name: 'RFC 9101 §4: aud other than the issuer (the token endpoint URL)',
        jwt: () => signed({ claims: { aud: `${gatehouse.url}/token` } }),
        description: /aud must be the issuer/,
      },
      { name: 'RFC 9101 §4: no aud', jwt: () => signed({ omit: ['aud'] }), description: /aud must be the issuer/ },
      {
        name: 'RFC 9101 §6.3: a client_id claim other than the client_id parameter',
        jwt: () => signed({ claims: { client_id: PINNED_CLIENT.client_id } }),
        description: /client_id must equal/,
      },
      {
        name: 'RFC 9101 §6.3: no client_id claim',
        jwt: () => signed({ omit: ['client_id'] }),
        description: /client_id must equal/,
      },
      {
        name: 'RFC 9101 §4: a request_uri inside the request object',
        jwt: () => signed({ claims: { request_uri: 'https://client.example/r.jwt' } }),
        description: /must not contain request or request_uri/,
      },
      { name: 'RFC 9101 §4: no exp', jwt: () => signed({ omit: ['exp'] }), description: /exp is required/ },
      {
        name: 'RFC 9101 §4, RFC 7519 §4.1.4: an expired request object',
        jwt: () => signed({ claims: { exp: nowSeconds() - 120, iat: nowSeconds() - 180, nbf: nowSeconds() - 180 } }),
        description: /has expired/,
      },
      {
        name: 'RFC 9101 §10.2: exp further ahead than request_object_max_lifetime_seconds (300)',
        jwt: () => signed({ claims: { exp: nowSeconds() + 3600 } }),
        description: /more than 300 seconds ahead/,
      },
      {
        name: 'RFC 7519 §4.1.5: nbf in the future',
        jwt: () => signed({ claims: { nbf: nowSeconds() + 120 } }),
        description: /not valid yet/,
      },
      {
        name: 'RFC 7519 §4.1.6: iat in the future',
        jwt: () => signed({ claims: { iat: nowSeconds() + 120 } }),
        description: /iat is in the future/,
      },
      { name: 'RFC 7519 §4.1.7: no jti', jwt: () => signed({ omit: ['jti'] }), description: /jti must be a string/ },
      {
        name: 'RFC 9101 §6.3: a parameter that is not a string (an object as redirect_uri)',
        jwt: () => signed({ claims: { redirect_uri: { href: 'x' } } }),
        description: /claim redirect_uri is not a string/,
      },
    ];
    for (const refusal of refusals) {
      it(`${refusal.name} is 400 invalid_request_object`, async () => {
        const client = refusal.client ?? JAR_CLIENT;
        assertInvalidRequestObject(await push(gatehouse, await refusal.jwt(), client), refusal.description);
      });
    }

    it('RFC 9101 §6.3, RFC 7519 §4.1.7: a request object used a second time (same jti) is refused', async () => {
      const jwt = await signed();
      assert.equal((await push(gatehouse, jwt)).status, 201);
      assertInvalidRequestObject(await push(gatehouse, jwt), /jti was used before/);
    });

    it('RFC 9101 §6.2: a refused request object does not use up its jti (a valid copy is accepted after a refusal)', async () => {
      const jwt = await signed({ claims: { jti: 'kept-jti', aud: 'https://elsewhere.example' } });
      assertInvalidRequestObject(await push(gatehouse, jwt), /aud must be the issuer/);
      assert.equal((await push(gatehouse, await signed({ claims: { jti: 'kept-jti' } }))).status, 201);
    });
  });

  describe('RFC 9101 §6.3, §7: at /authorize, an error page until the signature verified, a redirect after', () => {
    it('RFC 9101 §6.2: a request object whose signature does not verify is an error page (invalid_request_object), never a redirect', async () => {
      for (const jwt of [await signed({}, STRANGER), unsignedObject(gatehouse), 'not-a-jwt']) {
        assertErrorPage(
          await authorize(gatehouse, { client_id: JAR_CLIENT.client_id, request: jwt }),
          400,
          'invalid_request_object',
        );
      }
    });

    it('RFC 9101 §6.3: a signed request object with a refused claim (expired) is redirected to its redirect_uri with invalid_request_object and its state', async () => {
      const jwt = await signed({ claims: { exp: nowSeconds() - 120, state: 'expired-state' } });
      const params = assertRedirectError(
        await authorize(gatehouse, { client_id: JAR_CLIENT.client_id, request: jwt, state: 'outer-state' }),
        gatehouse.url,
        JAR_CLIENT.redirect_uris[0]!,
        'invalid_request_object',
        'expired-state',
      );
      assert.match(params.get('error_description')!, /has expired/);
    });

    it('RFC 9101 §6.3: a replayed request object at /authorize is redirected with invalid_request_object', async () => {
      const jwt = await signed();
      assertAccepted(await authorize(gatehouse, { client_id: JAR_CLIENT.client_id, request: jwt }));
      assertRedirectError(
        await authorize(gatehouse, { client_id: JAR_CLIENT.client_id, request: jwt }),
        gatehouse.url,
        JAR_CLIENT.redirect_uris[0]!,
        'invalid_request_object',
        'xyz',
      );
    });

    it('RFC 9101 §5: request and request_uri together are an error page', async () => {
      assertErrorPage(
        await authorize(gatehouse, {
          client_id: JAR_CLIENT.client_id,
          request: await signed(),
          request_uri: 'https://client.example/r.jwt',
        }),
        400,
        'invalid_request_object',
      );
    });

    it('RFC 9101 §5.2: a request_uri other than a pushed request URN stays request_uri_not_supported', async () => {
      assertRedirectError(
        await authorize(gatehouse, authorizeParams(JAR_CLIENT, { request_uri: 'https://client.example/r.jwt' })),
        gatehouse.url,
        JAR_CLIENT.redirect_uris[0]!,
        'request_uri_not_supported',
        'xyz',
      );
    });
  });

  describe('RFC 9101 §10.5: require_signed_request_object', () => {
    it('RFC 9101 §10.5: a client registered with require_signed_request_object is refused invalid_request without a request object, at /authorize (redirected) and /par', async () => {
      assertRedirectError(
        await authorize(gatehouse, authorizeParams(REQUIRED_CLIENT)),
        gatehouse.url,
        REQUIRED_CLIENT.redirect_uris[0]!,
        'invalid_request',
        'xyz',
      );
      const plain = await pushAuthorizationRequest(gatehouse, authorizeParams(REQUIRED_CLIENT), basic(REQUIRED_CLIENT));
      assertTokenError(plain, 400, 'invalid_request');
      assert.match(String(plain.body['error_description']), /require_signed_request_object/);
      // Signed: accepted directly, and pushed (the pushed request_uri is then used as usual).
      assertAccepted(
        await authorize(gatehouse, {
          client_id: REQUIRED_CLIENT.client_id,
          request: await signed({}, ES256, REQUIRED_CLIENT),
        }),
      );
      const pushed = await push(gatehouse, await signed({}, ES256, REQUIRED_CLIENT), REQUIRED_CLIENT);
      assert.equal(pushed.status, 201, pushed.text);
      assertAccepted(
        await authorize(gatehouse, {
          client_id: REQUIRED_CLIENT.client_id,
          request_uri: pushed.body['request_uri'] as string,
        }),
      );
      // Other clients are not concerned.
      assertAccepted(await authorize(gatehouse, authorizeParams(JAR_CLIENT)));
    });
  });
});

describe('RFC 9101 §10.5: require_signed_request_object in the config (every client)', () => {
  let gatehouse: RunningGatehouse;
  useTestServer(
    { clients: [JAR_CLIENT, CONFIDENTIAL_CLIENT], settings: { requireSignedRequestObject: true } },
    (started) => (gatehouse = started),
  );

  it('RFC 9101 §10.5: published in discovery; a plain request is refused invalid_request, a signed one accepted', async () => {
    const metadata = (await (await fetch(`${gatehouse.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    assert.equal(metadata['require_signed_request_object'], true);
    assertRedirectError(
      await authorize(gatehouse, authorizeParams(CONFIDENTIAL_CLIENT)),
      gatehouse.url,
      CONFIDENTIAL_CLIENT.redirect_uris[0]!,
      'invalid_request',
      'xyz',
    );
    assertAccepted(
      await authorize(gatehouse, {
        client_id: JAR_CLIENT.client_id,
        request: await requestObject(gatehouse, JAR_CLIENT, ES256),
      }),
    );
  });
});

for (const target of STORE_TARGETS) {
  const twoInstances = target.name === 'postgres';
  describe(`RFC 9101 §6.3: a request object is single-use under ${PARALLEL} parallel pushes (${target.name}${twoInstances ? ', two instances' : ''})`, () => {
    let gatehouse: RunningGatehouse | undefined;
    let peer: RunningGatehouse | undefined;
    let databaseUrl: string | undefined;
    before(async () => {
      databaseUrl = await target.url();
      if (databaseUrl === undefined) return;
      gatehouse = await startTestServer({ databaseUrl, clients: CLIENTS });
      if (twoInstances) {
        // A second instance on the same database behind the same issuer, as behind a load balancer.
        peer = await startTestServer({ databaseUrl, clients: CLIENTS });
        peer.context.settings.issuer = gatehouse.context.settings.issuer;
      }
    });
    after(async () => {
      await peer?.close();
      await gatehouse?.close();
      if (databaseUrl !== undefined) await target.cleanup(databaseUrl);
    });

    it(`RFC 9101 §6.3: of ${PARALLEL} parallel pushes of one request object exactly one is accepted, the others are invalid_request_object`, async (t: TestContext) => {
      if (gatehouse === undefined) return t.skip(postgresSkipMessage());
      const jwt = await requestObject(gatehouse, JAR_CLIENT, ES256);
      const instances = [gatehouse, peer ?? gatehouse];
      const responses = await Promise.all(
        Array.from({ length: PARALLEL }, (_, index) => push(instances[index % 2]!, jwt)),
      );
      assert.equal(responses.filter((response) => response.status === 201).length, 1);
      const refused = responses.filter((response) => response.status !== 201);
      assert.equal(refused.length, PARALLEL - 1);
      for (const response of refused) assertInvalidRequestObject(response, /jti was used before/);
      const requestUri = responses.find((response) => response.status === 201)!.body['request_uri'] as string;
      assertAccepted(await authorize(gatehouse, { client_id: JAR_CLIENT.client_id, request_uri: requestUri }));
    });
  });
}
