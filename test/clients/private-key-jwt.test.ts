/**
 * Client authentication with JWT assertions: RFC 7523 §2.2 and §3 (the JWT Bearer profile of
 * RFC 7521 §4.2), OpenID Connect Core §9 `private_key_jwt` and `client_secret_jwt`. Every check
 * is sent a bad assertion and answered invalid_client (or invalid_request for a malformed
 * request), at the token endpoint and at introspection and revocation.
 *
 * Run: node scripts/run-tests.mjs test/clients/private-key-jwt
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { DEFAULT_SETTINGS, type ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { JWT_BEARER_CLIENT_ASSERTION_TYPE } from '../../src/core/clients/client-assertion.js';
import { JWKS_REFETCH_INTERVAL_MS } from '../../src/core/clients/client-jwks.js';
import { ENDPOINT_PATHS } from '../../src/core/context.js';
import {
  CONFIDENTIAL_CLIENT,
  STORE_TARGETS,
  onStoreTarget,
  startClockedServer,
  startTestServer,
} from '../helpers/server.js';
import { assertTokenError, postToken, type TokenResponse } from '../helpers/code-flow.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const seconds = (ms: number) => Math.floor(ms / 1000);

interface KeyPair {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function keyPair(alg: string, kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid } };
}

const machine = (clientId: string, overrides: Partial<ClientFixture>): ClientFixture => ({
  client_id: clientId,
  redirect_uris: [],
  grant_types: ['client_credentials'],
  response_types: [],
  token_endpoint_auth_method: 'private_key_jwt',
  scope: 'api',
  require_pkce: true,
  ...overrides,
});

/** These tests fail on purpose, many times over: the brute-force limits must not get in the way. */
const generous = { freeAttempts: 1000, backoffBaseMs: 1, lockAfter: 10_000, lockSeconds: 1 };
const LIMITS = { limits: { ...DEFAULT_SETTINGS.limits, clientId: generous, clientIp: generous } };

const HMAC_SECRET = 'a-client-secret-for-hs256-that-is-long-enough-0123456789';

interface AssertionOptions {
  alg?: string;
  kid?: string | null;
  claims?: Record<string, unknown>;
  /** Claims left out. */
  omit?: string[];
  now?: number;
}

/** A client assertion as RFC 7523 §3 wants it, with `options` changing one thing at a time. */
async function assertion(
  key: CryptoKey | Uint8Array,
  clientId: string,
  audience: string,
  options: AssertionOptions = {},
): Promise<string> {
  const now = seconds(options.now ?? NOW);
  const claims: Record<string, unknown> = {
    iss: clientId,
    sub: clientId,
    aud: audience,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
    ...options.claims,
  };
  for (const name of options.omit ?? []) delete claims[name];
  const header: Record<string, unknown> = { alg: options.alg ?? 'ES256' };
  if (options.kid !== null && options.kid !== undefined) header['kid'] = options.kid;
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key);
}

function clientCredentials(jwt: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER_CLIENT_ASSERTION_TYPE,
    client_assertion: jwt,
    ...extra,
  };
}

/** invalid_client (400: no Basic challenge, RFC 6749 §5.2) with no-store, and the description when given. */
function assertInvalidClient(response: TokenResponse, description?: RegExp): void {
  assertTokenError(response, 400, 'invalid_client');
  if (description) assert.match(String(response.body['error_description']), description);
}

/** A JWK Set served over HTTP on 127.0.0.1 (allowed by outbound_allow_private_addresses), counting requests. */
function jwksServer(initial: { keys: JWK[] }, cacheControl = 'max-age=600') {
  const state = { jwks: initial, requests: 0, server: undefined as Server | undefined, url: '' };
  state.server = createServer((_request, response) => {
    state.requests++;
    response.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': cacheControl });
    response.end(JSON.stringify(state.jwks));
  });
  return {
    state,
    async start() {
      await new Promise<void>((resolve) => state.server!.listen(0, '127.0.0.1', resolve));
      state.url = `http://127.0.0.1:${(state.server!.address() as AddressInfo).port}/jwks.json`;
      return state.url;
    },
    close: () => new Promise<void>((resolve) => state.server!.close(() => resolve())),
  };
}

describe('RFC 7523 §2.2: private_key_jwt and client_secret_jwt client authentication', () => {
  let gatehouse: RunningGatehouse;
  let clock: { now: number };
  let issuer: string;
  let es256: KeyPair;
  let rsa: KeyPair;
  let ed25519: KeyPair;
  let stranger: KeyPair;
  let rotated: KeyPair;
  const uriServer = jwksServer({ keys: [] });

  before(async () => {
    [es256, rsa, ed25519, stranger, rotated] = await Promise.all([
      keyPair('ES256', 'es-1'),
      keyPair('PS256', 'rsa-1'),
      keyPair('EdDSA', 'ed-1'),
      keyPair('ES256', 'es-1'),
      keyPair('ES256', 'es-2'),
    ]);
    uriServer.state.jwks = { keys: [es256.publicJwk] };
    const jwksUri = await uriServer.start();
    ({ server: gatehouse, clock } = await startClockedServer(
      {
        clients: [
          CONFIDENTIAL_CLIENT,
          machine('pkj', { jwks: { keys: [es256.publicJwk, rsa.publicJwk, ed25519.publicJwk] } }),
          machine('pkj-ps256', { jwks: { keys: [rsa.publicJwk] }, token_endpoint_auth_signing_alg: 'PS256' }),
          machine('pkj-uri', { jwks_uri: jwksUri }),
          machine('hs', { token_endpoint_auth_method: 'client_secret_jwt', client_secret: HMAC_SECRET }),
        ],
        settings: { outboundAllowPrivateAddresses: true, ...LIMITS },
      },
      NOW,
    ));
    issuer = gatehouse.context.settings.issuer;
  });
  after(async () => {
    await gatehouse?.close();
    await uriServer.close();
  });

  const token = (form: Record<string, string>) => postToken(gatehouse, form);
  const hmacKey = () => new TextEncoder().encode(HMAC_SECRET);

  describe('accepted assertions', () => {
    for (const [name, alg, pick] of [
      ['ES256', 'ES256', () => es256],
      ['PS256', 'PS256', () => rsa],
      ['EdDSA', 'EdDSA', () => ed25519],
    ] as const) {
      it(`RFC 7523 §2.2: a client_credentials token for an assertion signed with ${name}`, async () => {
        const key = pick();
        const response = await token(
          clientCredentials(await assertion(key.privateKey, 'pkj', issuer, { alg, kid: key.publicJwk.kid as string })),
        );
        assert.equal(response.status, 200, response.text);
        assert.equal(typeof response.body['access_token'], 'string');
      });
    }

    it('RFC 7523 §3 item 3: aud may be the issuer, the token endpoint URL, or an array naming one of them', async () => {
      for (const aud of [issuer, issuer + ENDPOINT_PATHS.token, ['https://elsewhere.example', issuer]]) {
        const jwt = await assertion(es256.privateKey, 'pkj', issuer, { kid: 'es-1', claims: { aud } });
        const response = await token(clientCredentials(jwt));
        assert.equal(response.status, 200, `${JSON.stringify(aud)}: ${response.text}`);
      }
    });

    it('RFC 7521 §4.2: client_id may be sent too when it names the same client', async () => {
      const jwt = await assertion(es256.privateKey, 'pkj', issuer, { kid: 'es-1' });
      assert.equal((await token(clientCredentials(jwt, { client_id: 'pkj' }))).status, 200);
    });

    it('RFC 7523 §2.2: a key without kid in the assertion is found by its algorithm', async () => {
      const jwt = await assertion(ed25519.privateKey, 'pkj', issuer, { alg: 'EdDSA', kid: null });
      assert.equal((await token(clientCredentials(jwt))).status, 200);
    });

    it('OpenID Connect Core §9: client_secret_jwt with an HS256 assertion keyed by the client secret', async () => {
      const jwt = await assertion(hmacKey(), 'hs', issuer, { alg: 'HS256' });
      const response = await token(clientCredentials(jwt));
      assert.equal(response.status, 200, response.text);
    });

    it('RFC 7523 §2.2: works at introspection (RFC 7662) and revocation (RFC 7009), aud the endpoint URL', async () => {
      const issued = await token(clientCredentials(await assertion(es256.privateKey, 'pkj', issuer, { kid: 'es-1' })));
      const accessToken = String(issued.body['access_token']);
      for (const path of [ENDPOINT_PATHS.introspection, ENDPOINT_PATHS.revocation]) {
        const jwt = await assertion(es256.privateKey, 'pkj', issuer, { kid: 'es-1', claims: { aud: issuer + path } });
        const response = await fetch(gatehouse.url + path, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            token: accessToken,
            client_assertion_type: JWT_BEARER_CLIENT_ASSERTION_TYPE,
            client_assertion: jwt,
          }),
        });
        assert.equal(response.status, 200, `${path}: ${await response.text()}`);
      }
      // The introspection URL is not an audience at the token endpoint.
      const wrongAud = await assertion(es256.privateKey, 'pkj', issuer, {
        kid: 'es-1',
        claims: { aud: issuer + ENDPOINT_PATHS.introspection },
      });
      assertInvalidClient(await token(clientCredentials(wrongAud)), /aud/);
    });
  });

  describe('refused assertions', () => {
    const es = (options: AssertionOptions = {}) =>
      assertion(es256.privateKey, 'pkj', issuer, { kid: 'es-1', ...options });

    it('RFC 7521 §4.2: client_assertion without client_assertion_type is invalid_request', async () => {
      const response = await token({ grant_type: 'client_credentials', client_assertion: await es() });
      assertTokenError(response, 400, 'invalid_request');
    });

    it('RFC 7521 §4.2: client_assertion_type without client_assertion is invalid_request', async () => {
      const response = await token({
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_CLIENT_ASSERTION_TYPE,
      });
      assertTokenError(response, 400, 'invalid_request');
    });

    it('RFC 7523 §2.2: another client_assertion_type is refused', async () => {
      const response = await token({
        ...clientCredentials(await es()),
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      });
      assertInvalidClient(response, /client_assertion_type/);
    });

    it('RFC 6749 §2.3: an assertion together with a client secret is invalid_request', async () => {
      const response = await token({ ...clientCredentials(await es()), client_secret: 'x' });
      assertTokenError(response, 400, 'invalid_request');
    });

    it('RFC 7523 §2.2: a client_assertion that is not a JWT is refused', async () => {
      assertInvalidClient(await token(clientCredentials('not-a-jwt')), /not a signed JWT/);
    });

    it('RFC 7523 §3 item 1: iss other than the client_id is refused', async () => {
      assertInvalidClient(await token(clientCredentials(await es({ claims: { iss: 'someone-else' } }))), /iss/);
    });

    it('RFC 7523 §3 item 2: sub other than the client_id (of another client) is refused', async () => {
      const jwt = await es({ claims: { sub: 'hs', iss: 'hs' } });
      assertInvalidClient(await token(clientCredentials(jwt)));
    });

    it('RFC 7523 §3 item 2: a missing sub is refused', async () => {
      assertInvalidClient(await token(clientCredentials(await es({ omit: ['sub'] }))), /sub/);
    });

    it('RFC 7521 §4.2: a client_id parameter naming another client is refused', async () => {
      const response = await token(clientCredentials(await es(), { client_id: 'hs' }));
      assertInvalidClient(response, /client_id/);
    });

    it('RFC 7523 §3 item 3: aud of another server is refused', async () => {
      assertInvalidClient(
        await token(clientCredentials(await es({ claims: { aud: 'https://other.example' } }))),
        /aud/,
      );
    });

    it('RFC 7523 §3 item 3: a missing aud is refused', async () => {
      assertInvalidClient(await token(clientCredentials(await es({ omit: ['aud'] }))), /aud/);
    });

    it('RFC 7523 §3 item 4: a missing exp is refused', async () => {
      assertInvalidClient(await token(clientCredentials(await es({ omit: ['exp'] }))), /exp/);
    });

    it('RFC 7523 §3 item 4: an expired assertion is refused', async () => {
      const jwt = await es({ claims: { iat: seconds(NOW) - 600, exp: seconds(NOW) - 120 } });
      assertInvalidClient(await token(clientCredentials(jwt)), /expired/);
    });

    it('RFC 7523 §3 item 4: an exp further ahead than client_assertion_max_lifetime_seconds is refused', async () => {
      const max = gatehouse.context.settings.clientAssertionMaxLifetimeSeconds;
      const jwt = await es({ claims: { exp: seconds(NOW) + max + 3600 } });
      assertInvalidClient(await token(clientCredentials(jwt)), /exp is more than/);
    });

    it('RFC 7523 §3 item 5: an assertion not yet valid (nbf in the future) is refused', async () => {
      assertInvalidClient(await token(clientCredentials(await es({ claims: { nbf: seconds(NOW) + 600 } }))), /nbf/);
    });

    it('RFC 7523 §3 item 6: iat in the future is refused', async () => {
      assertInvalidClient(await token(clientCredentials(await es({ claims: { iat: seconds(NOW) + 600 } }))), /iat/);
    });

    it('RFC 7523 §3 item 7: a missing jti is refused', async () => {
      assertInvalidClient(await token(clientCredentials(await es({ omit: ['jti'] }))), /jti/);
    });

    it('RFC 7523 §3 item 7: a replayed assertion (same jti) is refused', async () => {
      const jwt = await es();
      assert.equal((await token(clientCredentials(jwt))).status, 200);
      assertInvalidClient(await token(clientCredentials(jwt)), /jti was used before/);
      // A new assertion with the same jti is a replay too.
      const { jti } = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string };
      assertInvalidClient(await token(clientCredentials(await es({ claims: { jti } }))), /jti was used before/);
    });

    it('RFC 7515 §4.1.1, RFC 8725 §3.1: alg none is refused', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
      const now = seconds(NOW);
      const payload = Buffer.from(
        JSON.stringify({ iss: 'pkj', sub: 'pkj', aud: issuer, jti: randomUUID(), exp: now + 60 }),
      ).toString('base64url');
      assertInvalidClient(await token(clientCredentials(`${header}.${payload}.`)), /alg/);
    });

    it('RFC 8725 §2.1: an HMAC assertion for a private_key_jwt client (public key as HMAC secret) is refused', async () => {
      const publicKeyAsSecret = new TextEncoder().encode(JSON.stringify(es256.publicJwk));
      const jwt = await assertion(publicKeyAsSecret, 'pkj', issuer, { alg: 'HS256' });
      assertInvalidClient(await token(clientCredentials(jwt)));
    });

    it('OpenID Connect Core §9: an asymmetric assertion for a client_secret_jwt client is refused', async () => {
      const jwt = await assertion(es256.privateKey, 'hs', issuer, { kid: 'es-1' });
      assertInvalidClient(await token(clientCredentials(jwt)));
    });

    it('OpenID Connect Core §9: an HS256 assertion keyed with a wrong secret is refused', async () => {
      const jwt = await assertion(new TextEncoder().encode(`${HMAC_SECRET}-wrong`), 'hs', issuer, { alg: 'HS256' });
      assertInvalidClient(await token(clientCredentials(jwt)));
    });

    it('RFC 7523 §3 item 9: an assertion signed by a key the client did not register is refused', async () => {
      const jwt = await assertion(stranger.privateKey, 'pkj', issuer, { kid: 'es-1' });
      assertInvalidClient(await token(clientCredentials(jwt)));
    });

    it('OpenID Connect Dynamic Client Registration §2: an alg other than the token_endpoint_auth_signing_alg is refused', async () => {
      const jwt = await assertion(rsa.privateKey, 'pkj-ps256', issuer, { alg: 'PS256', kid: 'rsa-1' });
      assert.equal((await token(clientCredentials(jwt))).status, 200);
      // The same RSA key, used with RS256.
      const sameKeyForRs256 = await importJWK(await exportJWK(rsa.privateKey), 'RS256');
      const rs256 = await assertion(sameKeyForRs256 as CryptoKey, 'pkj-ps256', issuer, { alg: 'RS256', kid: 'rsa-1' });
      assertInvalidClient(await token(clientCredentials(rs256)), /PS256/);
    });

    it('RFC 6749 §2.3: a client registered for client_secret_basic cannot use an assertion', async () => {
      const jwt = await assertion(es256.privateKey, CONFIDENTIAL_CLIENT.client_id, issuer, { kid: 'es-1' });
      assertInvalidClient(await token(clientCredentials(jwt)));
    });

    it('RFC 6749 §2.3: a private_key_jwt client cannot authenticate with client_secret_post', async () => {
      const response = await token({ grant_type: 'client_credentials', client_id: 'pkj', client_secret: 'guess' });
      assertInvalidClient(response);
    });

    it('RFC 8414 §2: discovery names both methods and only the allowed algorithms', async () => {
      const metadata = (await (await fetch(`${gatehouse.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        string[]
      >;
      for (const field of ['token_endpoint_auth_methods_supported', 'introspection_endpoint_auth_methods_supported']) {
        assert.ok(metadata[field]?.includes('private_key_jwt'), field);
        assert.ok(metadata[field]?.includes('client_secret_jwt'), field);
      }
      assert.deepEqual(metadata['token_endpoint_auth_signing_alg_values_supported'], [
        'RS256',
        'PS256',
        'ES256',
        'EdDSA',
        'HS256',
      ]);
    });
  });

  describe('jwks_uri', () => {
    it('RFC 7591 §2: keys are fetched from jwks_uri once and cached', async () => {
      const before = uriServer.state.requests;
      for (let index = 0; index < 3; index++) {
        const jwt = await assertion(es256.privateKey, 'pkj-uri', issuer, { kid: 'es-1', now: clock.now });
        const response = await token(clientCredentials(jwt));
        assert.equal(response.status, 200, response.text);
      }
      assert.ok(uriServer.state.requests - before <= 1, `${uriServer.state.requests - before} fetches`);
    });

    it('RFC 7523 §2.2: an unknown kid fetches jwks_uri again once (key rotation), at most once per interval', async () => {
      // Warm the cache, then rotate the client's key.
      await token(
        clientCredentials(await assertion(es256.privateKey, 'pkj-uri', issuer, { kid: 'es-1', now: clock.now })),
      );
      clock.now += JWKS_REFETCH_INTERVAL_MS;
      uriServer.state.jwks = { keys: [rotated.publicJwk] };
      const before = uriServer.state.requests;
      const rotatedJwt = await assertion(rotated.privateKey, 'pkj-uri', issuer, { kid: 'es-2', now: clock.now });
      const response = await token(clientCredentials(rotatedJwt));
      assert.equal(response.status, 200, response.text);
      assert.equal(uriServer.state.requests - before, 1, 'one refetch for the new kid');

      // Made-up kids right after do not make the server fetch again (rate-limited).
      for (const kid of ['made-up-1', 'made-up-2', 'made-up-3']) {
        const jwt = await assertion(stranger.privateKey, 'pkj-uri', issuer, { kid, now: clock.now });
        assertInvalidClient(await token(clientCredentials(jwt)));
      }
      assert.equal(uriServer.state.requests - before, 1, 'no fetch per unknown kid');
      uriServer.state.jwks = { keys: [es256.publicJwk] };
      clock.now += JWKS_REFETCH_INTERVAL_MS;
    });

    it('RFC 7591 §2: a jwks_uri answering with private keys is refused', async () => {
      const server = jwksServer({ keys: [{ ...es256.publicJwk, d: 'AAAA' }] });
      const uri = await server.start();
      const other = await startTestServer({
        clients: [machine('pkj-bad-uri', { jwks_uri: uri })],
        settings: { outboundAllowPrivateAddresses: true },
      });
      try {
        const jwt = await assertion(es256.privateKey, 'pkj-bad-uri', other.context.settings.issuer, {
          kid: 'es-1',
          now: Date.now(),
        });
        const response = await postToken(other, clientCredentials(jwt));
        assertInvalidClient(response);
      } finally {
        await other.close();
        await server.close();
      }
    });

    it('OWASP SSRF: without outbound_allow_private_addresses a loopback jwks_uri is never fetched', async () => {
      const server = jwksServer({ keys: [es256.publicJwk] });
      const uri = (await server.start()).replace('127.0.0.1', 'localhost');
      const other = await startTestServer({ clients: [machine('pkj-private', { jwks_uri: uri })] });
      try {
        const jwt = await assertion(es256.privateKey, 'pkj-private', other.context.settings.issuer, {
          kid: 'es-1',
          now: Date.now(),
        });
        assertInvalidClient(await postToken(other, clientCredentials(jwt)));
        assert.equal(server.state.requests, 0);
      } finally {
        await other.close();
        await server.close();
      }
    });
  });
});

describe('RFC 7523 §3 item 7: one assertion, 20 parallel token requests: exactly one succeeds', () => {
  for (const target of STORE_TARGETS) {
    it(
      `on ${target.name}${target.name === 'postgres' ? ' with two Gatehouse instances' : ''}`,
      onStoreTarget(target, async (databaseUrl) => {
        const key = await keyPair('ES256', 'k');
        const clients = [machine('parallel', { jwks: { keys: [key.publicJwk] } })];
        const a = await startTestServer({ databaseUrl, clients, settings: LIMITS });
        const b = target.name === 'postgres' ? await startTestServer({ databaseUrl, clients, settings: LIMITS }) : a;
        try {
          // Two instances behind one issuer identifier, as behind a load balancer.
          b.context.settings.issuer = a.context.settings.issuer;
          const jwt = await assertion(key.privateKey, 'parallel', a.context.settings.issuer, {
            kid: 'k',
            now: Date.now(),
          });
          const responses = await Promise.all(
            Array.from({ length: 20 }, (_, index) => postToken(index % 2 === 0 ? a : b, clientCredentials(jwt))),
          );
          assert.equal(responses.filter((response) => response.status === 200).length, 1);
          for (const response of responses.filter((response) => response.status !== 200)) {
            assertInvalidClient(response, /jti was used before/);
          }
        } finally {
          if (b !== a) await b.close();
          await a.close();
        }
      }),
    );
  }
});
