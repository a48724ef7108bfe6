/**
 * DPoP at the token endpoint, RFC 9449, on SQLite and PostgreSQL:
 * - real clients: oauth4webapi (client credentials, with the server-nonce retry of §8) and
 *   openid-client (code flow of a public client, whose refresh tokens are bound to the key, §5);
 * - every check of §4.3 with a hand-made proof, each refused with 400 invalid_dpop_proof and
 *   `Cache-Control: no-store`;
 * - single use of a proof (§11.1) under 20 parallel requests, and across two instances on
 *   PostgreSQL;
 * - `dpop_bound_access_tokens` (§5.2), introspection `cnf` (§6.2), discovery (§5.1).
 *
 * Run: node --import tsx --test test/dpop/dpop-token-endpoint.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, SignJWT, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import * as client from 'openid-client';
import type { ClientFixture } from '../../src/config/settings.js';
import { currentDpopNonce, DPOP_NONCE_WINDOW_MS } from '../../src/core/dpop/dpop-nonce.js';
import type { RunningGatehouse } from '../../src/server.js';
import { assertNoStore, basicAuthorization } from '../helpers/code-flow.js';
import { codeFlow, decodeAccessToken, interopClient, startServerOn } from '../helpers/interop-client.js';
import { dpopProof, proofKey, type ProofKey } from '../helpers/dpop-proofs.js';
import {
  ALICE,
  MACHINE_CLIENT,
  POSTGRES_TARGET,
  PUBLIC_CLIENT,
  STORE_TARGETS,
  TEST_SECRET,
  startTestServer,
  type TestServerOptions,
} from '../helpers/server.js';

/** A client that must send a proof with every token request (RFC 9449 §5.2). */
const BOUND_CLIENT: ClientFixture = {
  ...MACHINE_CLIENT,
  client_id: 'bound-machine',
  client_secret: 'bound-machine-secret-long-enough',
  dpop_bound_access_tokens: true,
};

const CLIENTS = [MACHINE_CLIENT, BOUND_CLIENT, PUBLIC_CLIENT];

/** A DPoP proof (RFC 9449 §4.2) for POST /token of `gatehouse`, with every part overridable. */
function proof(
  gatehouse: RunningGatehouse,
  key: ProofKey,
  claims: JWTPayload = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return dpopProof(`${gatehouse.url}/token`, key, claims, header);
}

/** A client credentials request of `who` with `dpop` as its DPoP header (none when undefined). */
async function tokenRequest(
  gatehouse: RunningGatehouse,
  dpop: string | undefined,
  who: ClientFixture = MACHINE_CLIENT,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basicAuthorization(who.client_id!, who.client_secret!),
  };
  if (dpop !== undefined) headers['dpop'] = dpop;
  const response = await fetch(`${gatehouse.url}/token`, {
    method: 'POST',
    headers,
    body: 'grant_type=client_credentials&scope=api',
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

function assertRefused(response: Awaited<ReturnType<typeof tokenRequest>>, error: string, description?: RegExp): void {
  assert.equal(response.status, 400, JSON.stringify(response.body));
  assert.equal(response.body['error'], error, JSON.stringify(response.body));
  assertNoStore(response);
  if (description) assert.match(response.body['error_description'] as string, description);
}

/** oauth4webapi's view of `gatehouse`: discovery, the client, its authentication. */
async function oauth4(gatehouse: RunningGatehouse, fixture: ClientFixture) {
  const issuer = new URL(gatehouse.url);
  const as = await oauth.processDiscoveryResponse(
    issuer,
    await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }),
  );
  const c: oauth.Client = { client_id: fixture.client_id! };
  return { as, client: c, auth: oauth.ClientSecretBasic(fixture.client_secret!) };
}

for (const target of STORE_TARGETS) {
  describe(`RFC 9449: DPoP at the token endpoint on ${target.name}`, () => {
    const stops: Array<() => Promise<void>> = [];
    async function start(options: TestServerOptions = {}): Promise<RunningGatehouse> {
      const server = await startServerOn(target, { clients: CLIENTS, users: [ALICE], ...options });
      stops.push(server.stop);
      return server.gatehouse;
    }
    after(async () => {
      for (const stop of stops) await stop();
    });

    let gatehouse: RunningGatehouse;
    before(async () => {
      gatehouse = await start();
    });

    it('RFC 9449 §5, §6.1: oauth4webapi gets a DPoP-bound access token (token_type DPoP, cnf.jkt of its key)', async () => {
      const { as, client: c, auth } = await oauth4(gatehouse, MACHINE_CLIENT);
      const keyPair = await oauth.generateKeyPair('ES256');
      const DPoP = oauth.DPoP(c, keyPair);
      const response = await oauth.clientCredentialsGrantRequest(as, c, auth, new URLSearchParams({ scope: 'api' }), {
        DPoP,
        [oauth.allowInsecureRequests]: true,
      });
      const result = await oauth.processClientCredentialsResponse(as, c, response);
      assert.equal(result.token_type, 'dpop');
      const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey));
      assert.deepEqual(decodeAccessToken(result.access_token)['cnf'], { jkt });
    });

    it('RFC 9449 §6.2 + RFC 7662 §2.2: introspection of a bound token gives token_type DPoP and cnf.jkt', async () => {
      const key = await proofKey();
      const issued = await tokenRequest(gatehouse, await proof(gatehouse, key));
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.equal(issued.body['token_type'], 'DPoP');
      const response = await fetch(`${gatehouse.url}/introspect`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuthorization(MACHINE_CLIENT.client_id!, MACHINE_CLIENT.client_secret!),
        },
        body: new URLSearchParams({ token: issued.body['access_token'] as string }),
      });
      const introspected = (await response.json()) as Record<string, unknown>;
      assert.equal(introspected['active'], true);
      assert.equal(introspected['token_type'], 'DPoP');
      assert.deepEqual(introspected['cnf'], { jkt: key.jkt });
    });

    it('RFC 6750: without a DPoP header the token stays a bearer token (no cnf)', async () => {
      const issued = await tokenRequest(gatehouse, undefined);
      assert.equal(issued.status, 200);
      assert.equal(issued.body['token_type'], 'Bearer');
      assert.equal(decodeAccessToken(issued.body['access_token'] as string)['cnf'], undefined);
    });

    it('RFC 9449 §5.2: a client with dpop_bound_access_tokens must send a proof (invalid_dpop_proof), and gets bound tokens with one', async () => {
      assertRefused(
        await tokenRequest(gatehouse, undefined, BOUND_CLIENT),
        'invalid_dpop_proof',
        /must send a DPoP proof/,
      );
      const key = await proofKey();
      const issued = await tokenRequest(gatehouse, await proof(gatehouse, key), BOUND_CLIENT);
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      assert.deepEqual(decodeAccessToken(issued.body['access_token'] as string)['cnf'], { jkt: key.jkt });
    });

    it('RFC 9449 §5: a public client’s refresh tokens are bound to its key; a refresh without it, or with another key, is invalid_grant', async () => {
      const ic = await interopClient(gatehouse, PUBLIC_CLIENT);
      const { config } = ic;
      const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
      const tokens = await codeFlow(gatehouse, ic, { scope: 'openid offline_access', dpop: DPoP });
      assert.equal(tokens.token_type, 'dpop');
      const record = await gatehouse.store.refreshTokens.get(
        (await import('../../src/core/secrets.js')).storedTokenKey(tokens.refresh_token!),
      );
      assert.ok(record?.dpopJkt, 'the refresh token is bound');
      // The same key refreshes, and the successor stays bound to it.
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
      assert.equal(refreshed.token_type, 'dpop');
      assert.deepEqual(decodeAccessToken(refreshed.access_token)['cnf'], { jkt: record.dpopJkt });
      // Without a proof, or with another key: invalid_grant (and nothing rotates).
      for (const other of [undefined, client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'))]) {
        await assert.rejects(
          client.refreshTokenGrant(config, refreshed.refresh_token!, undefined, other ? { DPoP: other } : {}),
          (error: client.ResponseBodyError) => {
            assert.equal(error.error, 'invalid_grant');
            assert.match(error.error_description!, /bound to (a|another) DPoP key/);
            return true;
          },
        );
      }
      await client.refreshTokenGrant(config, refreshed.refresh_token!, undefined, { DPoP });
    });

    describe('RFC 9449 §4.3: each check refuses the proof with invalid_dpop_proof', () => {
      const nowSeconds = () => Math.floor(Date.now() / 1000);
      const cases: Array<[string, (key: ProofKey) => Promise<string>, RegExp]> = [
        [
          '§4.3 (1): two DPoP headers',
          async (key) => `${await proof(gatehouse, key)}, ${await proof(gatehouse, key)}`,
          /more than one/,
        ],
        ['§4.3 (2): a value that is not a JWT', async () => 'not-a-jwt', /not a JWT/],
        ['§4.3 (4): typ other than dpop+jwt', (key) => proof(gatehouse, key, {}, { typ: 'JWT' }), /typ/],
        [
          '§4.3 (5): alg none',
          async (key) => {
            const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
            return `${encode({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk })}.${encode({ jti: 'x', htm: 'POST', htu: `${gatehouse.url}/token`, iat: nowSeconds() })}.`;
          },
          /not a JWT|alg/,
        ],
        [
          '§4.3 (5): a symmetric alg (HS256)',
          async (key) => {
            const secret = new TextEncoder().encode('0123456789abcdef0123456789abcdef');
            return new SignJWT({ jti: randomUUID(), htm: 'POST', htu: `${gatehouse.url}/token`, iat: nowSeconds() })
              .setProtectedHeader({ typ: 'dpop+jwt', alg: 'HS256', jwk: key.jwk } as never)
              .sign(secret);
          },
          /alg must be one of/,
        ],
        ['§4.3 (3): no jwk in the header', (key) => proof(gatehouse, key, {}, { jwk: undefined }), /no jwk/],
        [
          '§4.3 (7): a private key in jwk',
          async (key) => proof(gatehouse, key, {}, { jwk: await exportJWK(key.privateKey) }),
          /public key/,
        ],
        [
          '§4.3 (6): a signature by another key than jwk',
          async (key) => proof(gatehouse, { ...key, privateKey: (await proofKey()).privateKey }),
          /signature/,
        ],
        ['§4.3 (3): no jti', (key) => proof(gatehouse, key, { jti: undefined }), /jti/],
        ['§4.3 (3): no iat', (key) => proof(gatehouse, key, { iat: undefined }), /htm, htu and iat/],
        ['§4.3 (8): htm GET for a POST', (key) => proof(gatehouse, key, { htm: 'GET' }), /htm must be POST/],
        [
          '§4.3 (9): htu of another endpoint',
          (key) => proof(gatehouse, key, { htu: `${gatehouse.url}/introspect` }),
          /htu/,
        ],
        [
          '§4.3 (9): htu of another host',
          (key) => proof(gatehouse, key, { htu: 'https://elsewhere.example/token' }),
          /htu/,
        ],
        [
          '§4.3 (11): iat older than the proof lifetime',
          (key) => proof(gatehouse, key, { iat: nowSeconds() - 120 }),
          /iat/,
        ],
        ['§4.3 (11): iat in the future', (key) => proof(gatehouse, key, { iat: nowSeconds() + 120 }), /iat/],
      ];
      for (const [name, make, description] of cases) {
        it(`RFC 9449 ${name}`, async () => {
          assertRefused(await tokenRequest(gatehouse, await make(await proofKey())), 'invalid_dpop_proof', description);
        });
      }

      it('RFC 9449 §4.3 (9): htu is compared after normalisation (case of scheme and host, default port), query ignored', async () => {
        const key = await proofKey();
        const url = new URL(`${gatehouse.url}/token`);
        const htu = `HTTP://${url.hostname.toUpperCase()}:${url.port}/token?x=1`;
        assert.equal((await tokenRequest(gatehouse, await proof(gatehouse, key, { htu }))).status, 200);
      });
    });

    it('RFC 9449 §11.1: a proof is used once: 20 parallel requests with one proof, exactly one token', async () => {
      const key = await proofKey();
      const dpop = await proof(gatehouse, key);
      const results = await Promise.all(Array.from({ length: 20 }, () => tokenRequest(gatehouse, dpop)));
      assert.equal(results.filter((result) => result.status === 200).length, 1);
      for (const refused of results.filter((result) => result.status !== 200)) {
        assertRefused(refused, 'invalid_dpop_proof', /already used/);
      }
    });

    it('RFC 9449 §5.1: discovery lists dpop_signing_alg_values_supported (asymmetric only)', async () => {
      const metadata = (await (await fetch(`${gatehouse.url}/.well-known/oauth-authorization-server`)).json()) as {
        dpop_signing_alg_values_supported: string[];
      };
      assert.ok(metadata.dpop_signing_alg_values_supported.includes('ES256'));
      assert.ok(!metadata.dpop_signing_alg_values_supported.some((alg) => alg === 'none' || alg.startsWith('HS')));
    });

    describe('RFC 9449 §8: server nonces (dpop_nonce_required)', () => {
      let nonced: RunningGatehouse;
      before(async () => {
        nonced = await start({ settings: { dpopNonceRequired: true } });
      });

      it('RFC 9449 §8.1: a proof without a nonce is use_dpop_nonce with a DPoP-Nonce header; with it, a token', async () => {
        const key = await proofKey();
        const first = await tokenRequest(nonced, await proof(nonced, key));
        assertRefused(first, 'use_dpop_nonce');
        const nonce = first.headers.get('dpop-nonce');
        assert.ok(nonce, 'DPoP-Nonce header');
        const second = await tokenRequest(nonced, await proof(nonced, key, { nonce }));
        assert.equal(second.status, 200, JSON.stringify(second.body));
        assert.ok(second.headers.get('dpop-nonce'), 'RFC 9449 §8.2: a fresh nonce with the answer');
      });

      it('RFC 9449 §8: a nonce from two windows ago is stale: use_dpop_nonce', async () => {
        const stale = currentDpopNonce(TEST_SECRET, Date.now() - 2 * DPOP_NONCE_WINDOW_MS);
        const response = await tokenRequest(nonced, await proof(nonced, await proofKey(), { nonce: stale }));
        assertRefused(response, 'use_dpop_nonce', /stale/);
      });

      it('RFC 9449 §8: oauth4webapi retries with the nonce it was given (isDPoPNonceError) and gets a bound token', async () => {
        const { as, client: c, auth } = await oauth4(nonced, MACHINE_CLIENT);
        const DPoP = oauth.DPoP(c, await oauth.generateKeyPair('ES256'));
        const request = () =>
          oauth.clientCredentialsGrantRequest(as, c, auth, new URLSearchParams({ scope: 'api' }), {
            DPoP,
            [oauth.allowInsecureRequests]: true,
          });
        let result: Awaited<ReturnType<typeof oauth.processClientCredentialsResponse>>;
        try {
          result = await oauth.processClientCredentialsResponse(as, c, await request());
          assert.fail('the first request has no nonce');
        } catch (error) {
          assert.ok(oauth.isDPoPNonceError(error), String(error));
          result = await oauth.processClientCredentialsResponse(as, c, await request());
        }
        assert.equal(result.token_type, 'dpop');
      });
    });
  });
}

describe('RFC 9449 §11.1: a proof replayed at another instance (PostgreSQL, two instances)', () => {
  it('20 parallel requests with one proof, spread over two instances: exactly one token', async (t) => {
    const databaseUrl = await POSTGRES_TARGET.url();
    if (databaseUrl === undefined) return t.skip('PostgreSQL is not available');
    const first = await startTestServer({ clients: CLIENTS, databaseUrl });
    const second = await startTestServer({ clients: CLIENTS, databaseUrl });
    try {
      const key = await proofKey();
      // Both instances publish the same token endpoint (one issuer behind a load balancer).
      const htu = `${first.url}/token`;
      const dpop = await proof(first, key, { htu });
      second.context.settings = { ...second.context.settings, issuer: first.context.settings.issuer };
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) => tokenRequest(index % 2 === 0 ? first : second, dpop)),
      );
      assert.equal(
        results.filter((result) => result.status === 200).length,
        1,
        JSON.stringify(results.map((r) => r.body)),
      );
    } finally {
      await second.close();
      await first.close();
      await POSTGRES_TARGET.cleanup(databaseUrl);
    }
  });
});
