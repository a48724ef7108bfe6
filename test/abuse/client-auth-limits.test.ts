/**
 * Brute-force limits on client authentication (RFC 6749 §2.3) at the token, revocation
 * (RFC 7009) and introspection (RFC 7662) endpoints: failures per (client_id, IP address) and per
 * IP address,
 * answered with 429, Retry-After and a JSON `temporarily_unavailable` error (see TooManyAttempts
 * in src/core/limits/attempt-limits.ts for why that code), before any client secret is hashed.
 *
 * Run: node scripts/run-tests.mjs test/abuse/client-auth-limits
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptLimit, GatehouseSettings } from '../../src/config/settings.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { clientSecretArgon2CheckCount } from '../../src/core/secrets.js';
import type { RunningGatehouse } from '../../src/server.js';
import { assertTokenError, postForm, postToken, type TokenResponse } from '../helpers/code-flow.js';
import { CONFIDENTIAL_CLIENT, POSTGRES_TARGET, STORE_TARGETS, onStoreTarget } from '../helpers/server.js';
import { LIMITS_NOW as NOW, NEVER, clockedServers } from '../helpers/clocked-servers.js';
import { registerClient } from '../../src/core/registration/client-registration.js';

/** 2 free failures, then 60 s, 120 s; the 4th failure locks for 300 s. */
const SMALL: AttemptLimit = { freeAttempts: 2, backoffBaseMs: 60_000, lockAfter: 4, lockSeconds: 300 };

const clocked = clockedServers();
const closeServers = clocked.closeServers;

/** A test server whose clock stands still at NOW until `clock.now` is moved. */
function startServer(
  overrides: Partial<GatehouseSettings['limits']>,
  databaseUrl?: string,
  extra: Partial<GatehouseSettings> = {},
) {
  return clocked.startServer(
    { limits: { ...DEFAULT_SETTINGS.limits, clientIp: NEVER, ...overrides }, ...extra },
    databaseUrl,
  );
}

const RIGHT = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };
const WRONG = { id: CONFIDENTIAL_CLIENT.client_id, secret: 'not-the-secret' };

/**
 * A token request that fails after client authentication (the code is unknown): 400 invalid_grant
 * proves authentication passed. `from`: the address, sent as X-Forwarded-For to a server that
 * trusts the proxy.
 */
function tokenRequest(
  server: RunningGatehouse,
  basic: { id: string; secret: string },
  from?: string,
): Promise<TokenResponse> {
  return postToken(
    server,
    { grant_type: 'authorization_code', code: 'no-such-code', redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0] },
    { basic, ...(from !== undefined ? { headers: { 'x-forwarded-for': from } } : {}) },
  );
}

/** A revocation or introspection request of an unknown token; its answer must be JSON. */
async function post(
  server: RunningGatehouse,
  path: '/revoke' | '/introspect',
  basic: { id: string; secret: string },
): Promise<TokenResponse> {
  const answer = await postForm(server, path, 'token=unknown-token', { basic });
  assert.doesNotThrow(() => JSON.parse(answer.text), `${path} answered ${answer.status} ${answer.text}`);
  return answer;
}

/** RFC 6585 §4 429 with Retry-After; RFC 6749 §5.2 JSON error body with no-store. */
function assertLimited(response: TokenResponse, retryAfter: number): void {
  assertTokenError(response, 429, 'temporarily_unavailable');
  assert.equal(response.headers.get('retry-after'), String(retryAfter));
  assert.match(String(response.body['error_description']), new RegExp(`retry after ${retryAfter} seconds`));
}

describe('client authentication limits (per client_id)', () => {
  it('RFC 6749 §5.2: failures are limited with 429 temporarily_unavailable and Retry-After, before any secret hashing', async () => {
    const { server, clock, events } = await startServer({ clientId: SMALL });
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    const before = clientSecretArgon2CheckCount();
    // Limited even with the right secret, and without running argon2id for it.
    assertLimited(await tokenRequest(server, RIGHT), 60);
    assertLimited(await tokenRequest(server, WRONG), 60);
    assert.equal(clientSecretArgon2CheckCount(), before, 'no argon2id for limited requests');
    clock.now = NOW + 60_000;
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    // The 4th failure locks for lock_seconds.
    assertLimited(await tokenRequest(server, RIGHT), 300);
    const lock = events.filter((event) => event.type === 'rate_limit.locked');
    assert.equal(lock.length, 1);
    assert.ok(lock[0]?.type === 'rate_limit.locked');
    assert.deepEqual(
      [lock[0].scope, lock[0].subject, lock[0].attempts, lock[0].until],
      ['client_id', RIGHT.id, 4, NOW + 60_000 + 300_000],
    );
    const refused = events.filter(
      (event) => event.type === 'token.refused' && event.error === 'temporarily_unavailable',
    );
    assert.ok(refused.length >= 1, 'a limited request is reported as token.refused');
    clock.now += 300_000;
    assertTokenError(await tokenRequest(server, RIGHT), 400, 'invalid_grant');
  });

  it('a success forgets the client’s failures', async () => {
    const { server } = await startServer({ clientId: SMALL });
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    assertTokenError(await tokenRequest(server, RIGHT), 400, 'invalid_grant');
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    assertLimited(await tokenRequest(server, WRONG), 60);
  });

  it('RFC 7009 §2.1 and RFC 7662 §2.1: revocation and introspection share the limit', async () => {
    const { server } = await startServer({ clientId: { ...SMALL, freeAttempts: 1 } });
    assert.equal((await post(server, '/revoke', WRONG)).status, 401);
    assert.equal((await post(server, '/introspect', WRONG)).status, 401);
    const before = clientSecretArgon2CheckCount();
    const revoke = await post(server, '/revoke', RIGHT);
    assertLimited(revoke, 60);
    assertLimited(await post(server, '/introspect', RIGHT), 60);
    assertLimited(await tokenRequest(server, RIGHT), 60);
    assert.equal(clientSecretArgon2CheckCount(), before);
  });

  it('an unknown client_id is limited like a known one', async () => {
    const { server } = await startServer({ clientId: { ...SMALL, freeAttempts: 0 } });
    const unknown = { id: 'no-such-client', secret: 'whatever' };
    assertTokenError(await tokenRequest(server, unknown), 401, 'invalid_client');
    assertLimited(await tokenRequest(server, unknown), 60);
    assertTokenError(await tokenRequest(server, WRONG), 401, 'invalid_client');
    assertLimited(await tokenRequest(server, WRONG), 60);
  });
});

describe('client authentication limits (per IP address)', () => {
  it('failures for many client_ids from one address are limited together', async () => {
    const { server, events } = await startServer({
      clientId: NEVER,
      clientIp: { freeAttempts: 2, backoffBaseMs: 5000, lockAfter: 10, lockSeconds: 300 },
    });
    for (let i = 0; i < 2; i++)
      assertTokenError(await tokenRequest(server, { id: `guess-${i}`, secret: 'x' }), 401, 'invalid_client');
    // A malformed Basic header names no client, but still counts for the address.
    const malformed = await postToken(
      server,
      { grant_type: 'authorization_code', code: 'x' },
      { authorization: 'Basic !!!' },
    );
    assertTokenError(malformed, 401, 'invalid_client');
    assertLimited(await tokenRequest(server, RIGHT), 5);
    assert.equal(events.filter((event) => event.type === 'rate_limit.locked').length, 0, 'backoff is not a lock');
  });
});

describe('client authentication limits across instances', () => {
  it(
    'two Gatehouse instances sharing one PostgreSQL schema enforce one lock',
    onStoreTarget(
      POSTGRES_TARGET,
      async (url) => {
        const limit = { freeAttempts: 0, backoffBaseMs: 0, lockAfter: 2, lockSeconds: 120 };
        const a = await startServer({ clientId: limit }, url);
        const b = await startServer({ clientId: limit }, url);
        assertTokenError(await tokenRequest(a.server, WRONG), 401, 'invalid_client');
        assertTokenError(await tokenRequest(b.server, WRONG), 401, 'invalid_client');
        const before = clientSecretArgon2CheckCount();
        assertLimited(await tokenRequest(a.server, RIGHT), 120);
        assertLimited(await tokenRequest(b.server, RIGHT), 120);
        assert.equal(clientSecretArgon2CheckCount(), before);
      },
      closeServers,
    ),
  );
});

const ATTACKER = '203.0.113.66';
const CLIENT_HOST = '198.51.100.20';

for (const target of STORE_TARGETS) {
  describe(`client authentication limits per (client_id, address) (${target.name})`, () => {
    it(
      'RFC 6749 §2.2: a client_id is public; wrong secrets from one address hold that address back, not the client at its own address',
      onStoreTarget(
        target,
        async (url) => {
          // The default limits, but the per-address one (tested above) out of the way.
          const { server, events } = await startServer({}, url, { trustProxy: true });
          // The defaults: 5 free failures, the 6th starts a 1 s delay.
          for (let i = 0; i < 6; i++)
            assertTokenError(await tokenRequest(server, WRONG, ATTACKER), 401, 'invalid_client');
          const before = clientSecretArgon2CheckCount();
          for (let i = 0; i < 14; i++) assertLimited(await tokenRequest(server, WRONG, ATTACKER), 1);
          // A secret a person chose (argon2id) stays behind the limit at the attacker's address.
          assertLimited(await tokenRequest(server, RIGHT, ATTACKER), 1);
          assert.equal(clientSecretArgon2CheckCount(), before, 'no argon2id for limited requests');
          // The client at its own address is not refused, not once.
          for (let i = 0; i < 10; i++)
            assertTokenError(await tokenRequest(server, RIGHT, CLIENT_HOST), 400, 'invalid_grant');
          assert.equal(events.filter((event) => event.type === 'rate_limit.locked').length, 0);
        },
        closeServers,
      ),
    );

    it(
      'RFC 6749 §2.3.1: a generated secret is always checked: the right one is never refused, even from the blocked address',
      onStoreTarget(
        target,
        async (url) => {
          const { server, clock } = await startServer({ clientId: SMALL }, url, { trustProxy: true });
          const { client, clientSecret } = await registerClient(
            {
              redirect_uris: CONFIDENTIAL_CLIENT.redirect_uris,
              token_endpoint_auth_method: 'client_secret_basic',
              grant_types: ['authorization_code'],
            },
            { generateSecret: true, now: NOW },
          );
          await server.store.clients.create(client);
          const right = { id: client.clientId, secret: clientSecret! };
          const wrong = { id: client.clientId, secret: 'not-the-secret' };
          // SMALL: 2 free failures, then 60 s, 120 s; the 4th failure locks for 300 s.
          for (let i = 0; i < 3; i++)
            assertTokenError(await tokenRequest(server, wrong, ATTACKER), 401, 'invalid_client');
          clock.now += 60_000;
          assertTokenError(await tokenRequest(server, wrong, ATTACKER), 401, 'invalid_client');
          // Locked: a wrong secret is answered 429 ...
          assertLimited(await tokenRequest(server, wrong, ATTACKER), 300);
          // ... but the right one, from the same address, is accepted every time.
          const before = clientSecretArgon2CheckCount();
          for (let i = 0; i < 5; i++)
            assertTokenError(await tokenRequest(server, right, ATTACKER), 400, 'invalid_grant');
          assertTokenError(await tokenRequest(server, right, CLIENT_HOST), 400, 'invalid_grant');
          assert.equal(clientSecretArgon2CheckCount(), before, 'a generated secret is a SHA-256 comparison');
          assertLimited(await tokenRequest(server, wrong, ATTACKER), 300);
        },
        closeServers,
      ),
    );
  });
}
