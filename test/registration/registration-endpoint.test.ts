/**
 * Dynamic client registration, RFC 7591 §2-3 (the client registration endpoint) and RFC 7592
 * §2-3 (the client configuration endpoint), on SQLite and PostgreSQL: open and token modes, the
 * client information response, every refusal (status, `error`, a description naming the field,
 * `Cache-Control: no-store`), reading, replacing and deleting a registration, and the rails of
 * open registration (per-address limit, redirect URI cap, scopes).
 *
 * Run: node scripts/run-tests.mjs test/registration
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import type { GatehouseSettings } from '../../src/config/settings.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { createInitialAccessToken } from '../../src/core/registration/registration-access-token.js';
import { STORE_TARGETS, onStoreTarget, startClockedServer } from '../helpers/server.js';
import {
  PUBLIC_REGISTRATION,
  assertRegistered,
  assertRegistrationError,
  register,
  registrationRequest,
} from '../helpers/registration.js';

const START = Date.UTC(2026, 0, 1);

function registrationSettings(
  overrides: Partial<GatehouseSettings['registration']> = {},
): Pick<GatehouseSettings, 'registration'> {
  return { registration: { ...DEFAULT_SETTINGS.registration, mode: 'open', ...overrides } };
}

for (const target of STORE_TARGETS) {
  describe(`RFC 7591 / RFC 7592 dynamic client registration (${target.name})`, () => {
    let server: RunningGatehouse | undefined;
    const teardown = async () => {
      await server?.close();
      server = undefined;
    };
    async function start(url: string, settings: Partial<GatehouseSettings> = registrationSettings()) {
      const started = await startClockedServer({ databaseUrl: url, settings }, START);
      server = started.server;
      return started;
    }
    const test = (name: string, body: (url: string) => Promise<void>) =>
      it(name, onStoreTarget(target, body, teardown));

    test('RFC 7591 §3.2.1: a public client gets client_id, client_id_issued_at, its metadata and no secret; RFC 7592 §3: a registration access token and URI', async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(await register(server, PUBLIC_REGISTRATION));
      assert.match(String(info['client_id']), /^[A-Za-z0-9_-]{22}$/);
      assert.equal(info['client_id_issued_at'], Math.floor(START / 1000));
      assert.equal(info['client_secret'], undefined, 'RFC 7591 §3.2.1: no secret for token_endpoint_auth_method none');
      assert.equal(info['client_secret_expires_at'], undefined);
      assert.equal(info['client_name'], PUBLIC_REGISTRATION.client_name);
      assert.deepEqual(info['redirect_uris'], PUBLIC_REGISTRATION.redirect_uris);
      assert.deepEqual(info['grant_types'], ['authorization_code', 'refresh_token']);
      assert.deepEqual(info['response_types'], ['code']);
      assert.equal(info['token_endpoint_auth_method'], 'none');
      assert.equal(
        info['scope'],
        'openid profile email offline_access',
        'absent scope: every scope open to registration',
      );
      assert.match(String(info['registration_access_token']), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(info['registration_client_uri'], `${server.url}/register/${info['client_id']}`);
    });

    test('RFC 7591 §3.2.1: a confidential client gets a generated client_secret with client_secret_expires_at (0: never)', async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(
        await register(server, { redirect_uris: ['https://app.example/cb'], client_name: 'Web App' }),
      );
      assert.equal(info['token_endpoint_auth_method'], 'client_secret_basic', 'RFC 7591 §2: the default method');
      assert.match(String(info['client_secret']), /^[A-Za-z0-9_-]{43}$/);
      assert.equal(info['client_secret_expires_at'], 0);
    });

    test("RFC 7591 §2: unknown metadata is ignored; client_id and client_secret are the server's to issue", async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(
        await register(server, {
          ...PUBLIC_REGISTRATION,
          client_id: 'chosen-by-client',
          client_secret: 'chosen-secret',
          logo_uri: 'https://evil.example/logo.png',
          software_id: 'x',
          'client_name#ja-Jpan-JP': 'x',
        }),
      );
      assert.notEqual(info['client_id'], 'chosen-by-client');
      assert.equal(info['client_secret'], undefined);
      assert.equal(info['logo_uri'], undefined);
      assert.equal(info['software_id'], undefined);
    });

    test('RFC 7591 §3.2.2: invalid_redirect_uri for each refused redirect URI, naming the field', async (url) => {
      const { server } = await start(url);
      const cases: Array<[unknown, string]> = [
        [{ ...PUBLIC_REGISTRATION, redirect_uris: ['https://app.example/cb#frag'] }, 'redirect_uris[0]'],
        [{ ...PUBLIC_REGISTRATION, redirect_uris: ['http://app.example/cb'] }, 'redirect_uris[0]'],
        [{ ...PUBLIC_REGISTRATION, redirect_uris: ['https://a.example/cb', 'relative/cb'] }, 'redirect_uris[1]'],
        [{ redirect_uris: ['com.example.app:/cb'] }, 'redirect_uris[0]'],
        [{ ...PUBLIC_REGISTRATION, redirect_uris: [] }, 'redirect_uris'],
        [{ ...PUBLIC_REGISTRATION, redirect_uris: 'https://app.example/cb' }, 'redirect_uris'],
      ];
      for (const [body, field] of cases) {
        assertRegistrationError(await register(server, body), 400, 'invalid_redirect_uri', field);
      }
    });

    test('RFC 8252 §7: native apps may register a private-use scheme or loopback http; web clients https', async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(
        await register(server, {
          ...PUBLIC_REGISTRATION,
          redirect_uris: ['com.example.app:/oauth2redirect', 'http://[::1]/cb', 'https://app.example/cb'],
        }),
      );
      assert.equal((info['redirect_uris'] as string[]).length, 3);
    });

    test('RFC 7591 §3.2.2: a registration beyond registration.max_redirect_uris is invalid_redirect_uri', async (url) => {
      const { server } = await start(url, registrationSettings({ maxRedirectUris: 2 }));
      const uris = ['http://127.0.0.1/a', 'http://127.0.0.1/b', 'http://127.0.0.1/c'];
      assertRegistrationError(
        await register(server, { ...PUBLIC_REGISTRATION, redirect_uris: uris }),
        400,
        'invalid_redirect_uri',
        'redirect_uris',
      );
      assertRegistered(await register(server, { ...PUBLIC_REGISTRATION, redirect_uris: uris.slice(0, 2) }));
    });

    test('RFC 7591 §3.2.2: invalid_client_metadata for each refused field, naming it', async (url) => {
      const { server } = await start(url);
      const cases: Array<[unknown, string]> = [
        [{ ...PUBLIC_REGISTRATION, token_endpoint_auth_method: 'tls_client_auth' }, 'token_endpoint_auth_method'],
        [{ ...PUBLIC_REGISTRATION, grant_types: ['implicit'] }, 'grant_types[0]'],
        // RFC 7591 §2.1: grant and response types must agree.
        [{ ...PUBLIC_REGISTRATION, response_types: ['token'] }, 'response_types[0]'],
        [{ ...PUBLIC_REGISTRATION, grant_types: ['refresh_token'] }, 'grant_types'],
        [{ ...PUBLIC_REGISTRATION, response_types: [] }, 'response_types'],
        // Only the operator grants these.
        [{ grant_types: ['client_credentials'] }, 'grant_types[0]'],
        [{ ...PUBLIC_REGISTRATION, scope: 'openid admin' }, 'scope'],
        [{ ...PUBLIC_REGISTRATION, client_name: 42 }, 'client_name'],
        [{ ...PUBLIC_REGISTRATION, require_pkce: false }, 'require_pkce'],
        [['not', 'an', 'object'], 'client metadata'],
      ];
      for (const [body, field] of cases) {
        assertRegistrationError(await register(server, body), 400, 'invalid_client_metadata', field);
      }
    });

    test('RFC 7591 §3.1: the body must be JSON (application/json)', async (url) => {
      const { server } = await start(url);
      const endpoint = `${server.url}/register`;
      assertRegistrationError(
        await registrationRequest(endpoint, { body: '{"redirect_uris":' }),
        400,
        'invalid_client_metadata',
      );
      assertRegistrationError(
        await registrationRequest(endpoint, {
          body: 'redirect_uris=https://app.example/cb',
          contentType: 'application/x-www-form-urlencoded',
        }),
        400,
        'invalid_client_metadata',
      );
    });

    test('RFC 8414 §2: registration_endpoint in both discovery documents when registration is on', async (url) => {
      const { server } = await start(url);
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
        const metadata = (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
        assert.equal(metadata['registration_endpoint'], `${server.url}/register`, path);
      }
    });

    test('registration.mode off (the default): no /register and no registration_endpoint', async (url) => {
      const { server } = await start(url, {});
      const answer = await register(server, PUBLIC_REGISTRATION);
      assert.equal(answer.status, 404);
      const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(metadata['registration_endpoint'], undefined);
    });

    test('limits.registration_ip: registrations from one address beyond the limit get 429 with Retry-After', async (url) => {
      const limit = { freeAttempts: 2, backoffBaseMs: 60_000, lockAfter: 3, lockSeconds: 600 };
      const { server, clock } = await start(url, {
        ...registrationSettings(),
        limits: { ...DEFAULT_SETTINGS.limits, registrationIp: limit },
      });
      for (let i = 0; i < 3; i++) assertRegistered(await register(server, PUBLIC_REGISTRATION));
      const limited = await register(server, PUBLIC_REGISTRATION);
      assertRegistrationError(limited, 429, 'temporarily_unavailable');
      assert.equal(limited.headers.get('retry-after'), '600');
      clock.now += 600_000;
      assertRegistered(await register(server, PUBLIC_REGISTRATION));
    });

    test('RFC 7591 §3: in token mode a registration needs a valid initial access token (401 invalid_token otherwise)', async (url) => {
      const { server, clock } = await start(url, registrationSettings({ mode: 'token' }));
      const store = server.context.store;
      assertRegistrationError(await register(server, PUBLIC_REGISTRATION), 401, 'invalid_token');
      assertRegistrationError(await register(server, PUBLIC_REGISTRATION, 'not-a-token'), 401, 'invalid_token');

      const once = await createInitialAccessToken(store, { now: clock.now, uses: 1 });
      assertRegistered(await register(server, PUBLIC_REGISTRATION, once.token));
      assertRegistrationError(await register(server, PUBLIC_REGISTRATION, once.token), 401, 'invalid_token');

      const expiring = await createInitialAccessToken(store, { now: clock.now, expiresInSeconds: 60 });
      assertRegistered(await register(server, PUBLIC_REGISTRATION, expiring.token));
      clock.now += 60_000;
      assertRegistrationError(await register(server, PUBLIC_REGISTRATION, expiring.token), 401, 'invalid_token');

      const revoked = await createInitialAccessToken(store, { now: clock.now });
      assert.equal(await store.registrations.revokeToken(revoked.record.id, clock.now), true);
      assertRegistrationError(await register(server, PUBLIC_REGISTRATION, revoked.token), 401, 'invalid_token');
      // A refused registration does not use the token up.
      const twice = await createInitialAccessToken(store, { now: clock.now, uses: 1 });
      assertRegistrationError(
        await register(server, { ...PUBLIC_REGISTRATION, redirect_uris: ['http://x.example/'] }, twice.token),
        400,
        'invalid_redirect_uri',
      );
      assertRegistered(await register(server, PUBLIC_REGISTRATION, twice.token));
    });

    test('RFC 7592 §2.1: GET with the registration access token reads the registration; any other token is 401 invalid_token', async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(await register(server, PUBLIC_REGISTRATION));
      const other = assertRegistered(await register(server, PUBLIC_REGISTRATION));
      const uri = info['registration_client_uri'] as string;
      const token = info['registration_access_token'] as string;
      const read = assertRegistered(await registrationRequest(uri, { method: 'GET', token }), 200);
      assert.deepEqual(read, info);
      assertRegistrationError(await registrationRequest(uri, { method: 'GET' }), 401, 'invalid_token');
      assertRegistrationError(await registrationRequest(uri, { method: 'GET', token: 'wrong' }), 401, 'invalid_token');
      const otherToken = other['registration_access_token'] as string;
      assertRegistrationError(
        await registrationRequest(uri, { method: 'GET', token: otherToken }),
        401,
        'invalid_token',
      );
      assertRegistrationError(
        await registrationRequest(`${server.url}/register/nobody`, { method: 'GET', token }),
        401,
        'invalid_token',
      );
    });

    test('RFC 7592 §2.2: PUT replaces the metadata (omitted fields back to defaults) and rotates the registration access token', async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(await register(server, { ...PUBLIC_REGISTRATION, scope: 'openid email' }));
      const uri = info['registration_client_uri'] as string;
      const token = info['registration_access_token'] as string;
      const { client_name: _name, scope: _scope, ...rest } = PUBLIC_REGISTRATION as Record<string, unknown>;
      const updated = assertRegistered(
        await registrationRequest(uri, {
          method: 'PUT',
          token,
          body: { ...rest, client_id: info['client_id'], redirect_uris: ['http://127.0.0.1:9/new'] },
        }),
        200,
      );
      assert.equal(updated['client_id'], info['client_id']);
      assert.equal(updated['client_id_issued_at'], info['client_id_issued_at']);
      assert.deepEqual(updated['redirect_uris'], ['http://127.0.0.1:9/new']);
      assert.equal(updated['client_name'], undefined, 'RFC 7592 §2.2: omitted fields are deleted');
      assert.equal(updated['scope'], 'openid profile email offline_access', 'omitted scope: the default');
      const rotated = updated['registration_access_token'] as string;
      assert.notEqual(rotated, token);
      assertRegistrationError(await registrationRequest(uri, { method: 'GET', token }), 401, 'invalid_token');
      assert.deepEqual(assertRegistered(await registrationRequest(uri, { method: 'GET', token: rotated }), 200), {
        ...updated,
      });
    });

    test('RFC 7592 §2.2: PUT must carry the client_id of the URI, a client_secret only if it matches, valid metadata', async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(await register(server, { redirect_uris: ['https://app.example/cb'] }));
      const uri = info['registration_client_uri'] as string;
      const token = info['registration_access_token'] as string;
      const base = { redirect_uris: ['https://app.example/cb'] };
      const put = (body: unknown) => registrationRequest(uri, { method: 'PUT', token, body });
      assertRegistrationError(await put(base), 400, 'invalid_client_metadata', 'client_id');
      assertRegistrationError(
        await put({ ...base, client_id: 'another' }),
        400,
        'invalid_client_metadata',
        'client_id',
      );
      const withId = { ...base, client_id: info['client_id'] };
      assertRegistrationError(
        await put({ ...withId, client_secret: 'wrong' }),
        400,
        'invalid_client_metadata',
        'client_secret',
      );
      assertRegistrationError(
        await put({ ...withId, redirect_uris: ['https://app.example/#x'] }),
        400,
        'invalid_redirect_uri',
      );
      // Refusals change nothing: the token still works.
      const ok = assertRegistered(
        await put({ ...withId, client_secret: info['client_secret'], client_name: 'Renamed' }),
        200,
      );
      assert.equal(ok['client_name'], 'Renamed');
      assert.equal(ok['client_secret'], undefined, 'the secret is kept, not reissued');
      assert.equal(ok['client_secret_expires_at'], 0);
    });

    test('RFC 7592 §2.3: DELETE with the registration access token deletes the client: 204, then 401 for its token', async (url) => {
      const { server, events } = await start(url);
      const info = assertRegistered(await register(server, PUBLIC_REGISTRATION));
      const uri = info['registration_client_uri'] as string;
      const token = info['registration_access_token'] as string;
      assertRegistrationError(
        await registrationRequest(uri, { method: 'DELETE', token: 'wrong' }),
        401,
        'invalid_token',
      );
      const deleted = await registrationRequest(uri, { method: 'DELETE', token });
      assert.equal(deleted.status, 204);
      assert.equal(deleted.headers.get('cache-control'), 'no-store');
      assert.equal(await server.context.store.clients.get(info['client_id'] as string), undefined);
      assertRegistrationError(await registrationRequest(uri, { method: 'GET', token }), 401, 'invalid_token');
      // The audit trail records who changed the client: the client itself.
      const changes = events.filter((event) => event.type.startsWith('client.'));
      assert.deepEqual(
        changes.map((event) => [event.type, 'source' in event ? event.source : null]),
        [
          ['client.created', 'registration'],
          ['client.deleted', 'registration'],
        ],
      );
    });
  });
}
