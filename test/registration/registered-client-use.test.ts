/**
 * What a self-registered client (RFC 7591) can do and how it is treated afterwards, on SQLite and
 * PostgreSQL: it completes a code flow with PKCE, its consent page marks it unverified (its name
 * escaped as written, the redirect host shown), it gets only the resources open to registration,
 * and the cleanup removes it once abandoned (registration.abandoned_after_seconds), while a
 * token issued to it marks it active.
 *
 * Run: node scripts/run-tests.mjs test/registration
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import type { GatehouseSettings } from '../../src/config/settings.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { cleanupPolicy } from '../../src/core/maintenance/cleanup-worker.js';
import { ACTIVITY_MARK_INTERVAL_MS } from '../../src/core/registration/client-activity.js';
import { ALICE, CONFIDENTIAL_CLIENT, STORE_TARGETS, onStoreTarget, startClockedServer } from '../helpers/server.js';
import {
  assertTokenError,
  authorizeParams,
  authorizeUrl,
  codeRequest,
  obtainCode,
  postToken,
} from '../helpers/code-flow.js';
import { decodeJwt } from 'jose';
import { UserAgent, isConsentPage, isLoginPage } from '../helpers/user-agent.js';
import { apiResource } from '../helpers/resources.js';
import { DEVICE_GRANT, requestDeviceAuthorization, startDeviceFlow } from '../helpers/device-flow.js';
import {
  PUBLIC_REGISTRATION,
  assertRegistered,
  register,
  registeredFixture,
  registrationRequest,
} from '../helpers/registration.js';

const START = Date.UTC(2026, 0, 1);
const DAY_MS = 86_400_000;
const OPEN_API = 'https://open.example/api';
const CLOSED_API = 'https://closed.example/api';

for (const target of STORE_TARGETS) {
  describe(`self-registered clients (${target.name})`, () => {
    let server: RunningGatehouse | undefined;
    const teardown = async () => {
      await server?.close();
      server = undefined;
    };
    async function start(url: string) {
      const registration: GatehouseSettings['registration'] = {
        ...DEFAULT_SETTINGS.registration,
        mode: 'open',
        allowedResources: [OPEN_API],
        abandonedAfterSeconds: 30 * 86_400,
      };
      const started = await startClockedServer(
        {
          databaseUrl: url,
          settings: { registration },
          resources: [apiResource(OPEN_API, 'Open API'), apiResource(CLOSED_API, 'Closed API')],
        },
        START,
      );
      server = started.server;
      return started;
    }
    const test = (name: string, body: (url: string) => Promise<void>) =>
      it(name, onStoreTarget(target, body, teardown));

    test('RFC 7591 §3.2.1: the registered public client completes a code flow with PKCE (RFC 7636)', async (url) => {
      const { server } = await start(url);
      const client = registeredFixture(assertRegistered(await register(server, PUBLIC_REGISTRATION)));
      const obtained = await obtainCode(server, client, { scope: 'openid profile' });
      const token = await postToken(server, codeRequest(obtained, { client_id: client.client_id }));
      assert.equal(token.status, 200, token.text);
      assert.equal(typeof token.body['access_token'], 'string');
      assert.equal(typeof token.body['id_token'], 'string');
    });

    test('RFC 7592 §2.3: after DELETE the client_id, its tokens and its registration access token no longer work', async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(await register(server, PUBLIC_REGISTRATION));
      const client = registeredFixture(info);
      const obtained = await obtainCode(server, client, { scope: 'openid offline_access' });
      const tokens = await postToken(server, codeRequest(obtained, { client_id: client.client_id }));
      assert.equal(tokens.status, 200, tokens.text);
      const deleted = await registrationRequest(info['registration_client_uri'] as string, {
        method: 'DELETE',
        token: info['registration_access_token'] as string,
      });
      assert.equal(deleted.status, 204);
      const refresh = await postToken(server, {
        grant_type: 'refresh_token',
        refresh_token: tokens.body['refresh_token'] as string,
        client_id: client.client_id,
      });
      assertTokenError(refresh, 400, 'invalid_client');
      assert.equal(
        await server.context.store.accessTokens.get(decodeJwt(tokens.body['access_token'] as string).jti!),
        undefined,
        'its access tokens are gone',
      );
    });

    test('the consent page marks a self-registered client unverified: its name escaped as written, the redirect host shown', async (url) => {
      const { server } = await start(url);
      const name = '<img src=x onerror=alert(1)> Bank & Co';
      const info = assertRegistered(
        await register(server, {
          ...PUBLIC_REGISTRATION,
          client_name: name,
          redirect_uris: ['https://phish.example/cb'],
        }),
      );
      const client = registeredFixture(info);
      const ua = new UserAgent(server.url);
      let page = await ua.navigate(authorizeUrl(server, authorizeParams(client)));
      assert.ok(isLoginPage(page));
      page = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
      assert.ok(isConsentPage(page), page.body.slice(0, 300));
      assert.match(page.body, /Unverified app\./);
      assert.match(page.body, /\(unverified\) wants to access your account/);
      assert.ok(page.body.includes('&lt;img src=x onerror=alert(1)&gt; Bank &amp; Co'));
      assert.ok(!page.body.includes('<img src=x'), 'the name is escaped');
      assert.match(page.body, /<code>phish\.example<\/code>/);
      assert.ok(!/<img\b/i.test(page.body), 'no logo from the client');
    });

    test('RFC 8628: a self-registered device client is unverified on the confirmation page and limited to open resources', async (url) => {
      const { server } = await start(url);
      const info = assertRegistered(
        await register(server, {
          client_name: 'TV <b>App</b>',
          token_endpoint_auth_method: 'none',
          grant_types: [DEVICE_GRANT],
        }),
      );
      const clientId = info['client_id'] as string;
      const closed = await requestDeviceAuthorization(server, { client_id: clientId, resource: CLOSED_API });
      assertTokenError(closed, 400, 'invalid_target');
      const device = await startDeviceFlow(server, { client_id: clientId, resource: OPEN_API });
      const agent = new UserAgent(server.url);
      let page = await agent.navigate(device.verification_uri_complete!);
      if (isLoginPage(page)) page = await agent.submit(page, { username: ALICE.username, password: ALICE.password });
      const confirm = await agent.submit(page, { user_code: device.user_code });
      assert.ok(isConsentPage(confirm), confirm.body.slice(0, 300));
      assert.match(confirm.body, /Unverified app\./);
      assert.ok(confirm.body.includes('TV &lt;b&gt;App&lt;/b&gt; (unverified)'));
    });

    test('an operator-registered client is not marked unverified', async (url) => {
      const { server } = await start(url);
      const ua = new UserAgent(server.url);
      let page = await ua.navigate(authorizeUrl(server, authorizeParams(CONFIDENTIAL_CLIENT)));
      page = await ua.submit(page, { username: ALICE.username, password: ALICE.password });
      assert.ok(isConsentPage(page));
      assert.doesNotMatch(page.body, /nverified/);
    });

    test('RFC 8707 §2: a self-registered client gets only resources of registration.allowed_resources (invalid_target otherwise)', async (url) => {
      const { server } = await start(url);
      const client = registeredFixture(assertRegistered(await register(server, PUBLIC_REGISTRATION)));
      const ua = new UserAgent(server.url);
      const closed = await ua.navigate(authorizeUrl(server, authorizeParams(client, { resource: CLOSED_API })));
      assert.equal(closed.status, 303);
      const location = new URL(closed.location!);
      assert.equal(location.searchParams.get('error'), 'invalid_target');
      assert.match(location.searchParams.get('error_description') ?? '', /allowed_resources/);
      const open = await ua.authorize(authorizeUrl(server, authorizeParams(client, { resource: OPEN_API })), ALICE);
      assert.equal(open.status, 303);
      assert.ok(new URL(open.location!).searchParams.get('code'));
    });

    test('gatehouse cleanup deletes a self-registered client unused for registration.abandoned_after_seconds; a token issued marks it active', async (url) => {
      const { server, clock } = await start(url);
      const store = server.context.store;
      const idle = registeredFixture(assertRegistered(await register(server, PUBLIC_REGISTRATION)));
      const used = registeredFixture(assertRegistered(await register(server, PUBLIC_REGISTRATION)));
      const run = () => store.cleanup.run(clock.now, cleanupPolicy(server.context.settings));

      clock.now += 20 * DAY_MS;
      const obtained = await obtainCode(server, used);
      const token = await postToken(server, codeRequest(obtained, { client_id: used.client_id }));
      assert.equal(token.status, 200, token.text);
      assert.equal((await store.registrations.get(used.client_id))?.lastActiveAt, clock.now);
      // At most one mark an hour: a second token within the hour writes nothing.
      clock.now += ACTIVITY_MARK_INTERVAL_MS / 2;
      const again = await obtainCode(server, used);
      assert.equal((await postToken(server, codeRequest(again, { client_id: used.client_id }))).status, 200);
      assert.equal((await store.registrations.get(used.client_id))?.lastActiveAt, START + 20 * DAY_MS);

      clock.now = START + 30 * DAY_MS - 1;
      let result = await run();
      assert.equal(result.status === 'done' && result.deleted.clients, 0, 'not yet abandoned');
      clock.now = START + 30 * DAY_MS;
      result = await run();
      assert.equal(result.status === 'done' && result.deleted.clients, 1);
      assert.equal(await store.clients.get(idle.client_id), undefined);
      assert.equal(await store.registrations.get(idle.client_id), undefined);
      assert.ok(await store.clients.get(used.client_id), 'the used client stays');
      // Operator-registered clients are never removed for being unused.
      clock.now += 365 * DAY_MS;
      await run();
      assert.equal(await store.clients.get(used.client_id), undefined);
      assert.ok(await store.clients.get(CONFIDENTIAL_CLIENT.client_id));
    });
  });
}
