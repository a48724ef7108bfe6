/**
 * RFC 8628 device authorization grant, on SQLite and PostgreSQL: the device authorization
 * endpoint (§3.1-3.2), the verification page (§3.3, §5.4), polling the token endpoint
 * (§3.4-3.5) and the redemption of a device code exactly once. Every refusal checks status,
 * `error` and `Cache-Control: no-store`.
 *
 * Run: node scripts/run-tests.mjs test/device
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, PUBLIC_CLIENT, STORE_TARGETS, onStoreTarget, startClockedServer } from '../helpers/server.js';
import { assertNoStore, assertTokenError, postForm, postToken } from '../helpers/code-flow.js';
import { UserAgent } from '../helpers/user-agent.js';
import {
  CONFIDENTIAL_DEVICE_CLIENT,
  DEVICE_CLIENT,
  DEVICE_GRANT,
  pollToken,
  requestDeviceAuthorization,
  startDeviceFlow,
  verifyDevice,
} from '../helpers/device-flow.js';

const START = Date.UTC(2026, 0, 1);
const API = 'https://api.example.com/';
const USER_CODE = /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/;

for (const target of STORE_TARGETS) {
  describe(`RFC 8628 device authorization grant (${target.name})`, () => {
    let server: RunningGatehouse | undefined;
    const teardown = async () => {
      await server?.close();
      server = undefined;
    };
    /** A server on the target's store whose clock stands at START until moved. */
    async function start(url: string) {
      const started = await startClockedServer(
        {
          databaseUrl: url,
          clients: [DEVICE_CLIENT, CONFIDENTIAL_DEVICE_CLIENT, PUBLIC_CLIENT],
          resources: [{ resource: API, scopes: ['api'], introspection_client_ids: [] }],
        },
        START,
      );
      server = started.server;
      return started;
    }
    const test = (name: string, body: (url: string) => Promise<void>) =>
      it(name, onStoreTarget(target, body, teardown));

    test('RFC 8628 §3.2: answers the device code, a short user code, both verification URIs, expires_in and interval, not cached', async (url) => {
      const { server } = await start(url);
      const response = await requestDeviceAuthorization(server, {
        client_id: DEVICE_CLIENT.client_id,
        scope: 'openid',
      });
      assert.equal(response.status, 200, response.text);
      assertNoStore(response);
      const body = response.body;
      assert.equal(typeof body['device_code'], 'string');
      assert.ok((body['device_code'] as string).length >= 43, 'at least 256 bits');
      assert.match(body['user_code'] as string, USER_CODE, 'RFC 8628 §6.1: base-20 alphabet, 8 characters');
      assert.equal(body['verification_uri'], `${server.url}/device`);
      assert.equal(body['verification_uri_complete'], `${server.url}/device?user_code=${body['user_code']}`);
      assert.equal(body['expires_in'], 600);
      assert.equal(body['interval'], 5);
    });

    test('RFC 8628 §3.1: a confidential client authenticates as at the token endpoint', async (url) => {
      const { server } = await start(url);
      const basic = { id: CONFIDENTIAL_DEVICE_CLIENT.client_id, secret: CONFIDENTIAL_DEVICE_CLIENT.client_secret! };
      const ok = await requestDeviceAuthorization(server, {}, { basic });
      assert.equal(ok.status, 200, ok.text);
      const wrong = await requestDeviceAuthorization(server, {}, { basic: { ...basic, secret: 'wrong' } });
      assertTokenError(wrong, 401, 'invalid_client');
      const none = await requestDeviceAuthorization(server, { client_id: CONFIDENTIAL_DEVICE_CLIENT.client_id });
      assertTokenError(none, 400, 'invalid_client');
      const unknown = await requestDeviceAuthorization(server, { client_id: 'nobody' });
      assertTokenError(unknown, 400, 'invalid_client');
    });

    test('RFC 8628 §3.1: a client without the device grant is unauthorized_client', async (url) => {
      const { server } = await start(url);
      const response = await requestDeviceAuthorization(server, { client_id: PUBLIC_CLIENT.client_id });
      assertTokenError(response, 400, 'unauthorized_client');
    });

    test('RFC 8628 §3.1: scope and resource are checked as at the authorization endpoint', async (url) => {
      const { server } = await start(url);
      const scope = await requestDeviceAuthorization(server, { client_id: DEVICE_CLIENT.client_id, scope: 'admin' });
      assertTokenError(scope, 400, 'invalid_scope');
      const resource = await requestDeviceAuthorization(server, {
        client_id: DEVICE_CLIENT.client_id,
        resource: 'https://unknown.example.com/',
      });
      assertTokenError(resource, 400, 'invalid_target');
      // RFC 6749 §3.2: no parameter twice (but `resource`, RFC 8707 §2).
      const repeated = await postForm(
        server,
        '/device_authorization',
        `client_id=${DEVICE_CLIENT.client_id}&scope=openid&scope=profile`,
      );
      assertTokenError(repeated, 400, 'invalid_request');
    });

    test('RFC 8628 §3.5: authorization_pending until the user decides, slow_down (interval + 5 s, remembered) when polling too fast', async (url) => {
      const { server, clock } = await start(url);
      const flow = await startDeviceFlow(server);
      assertTokenError(await pollToken(server, flow.device_code), 400, 'authorization_pending');
      clock.now += 1000;
      assertTokenError(await pollToken(server, flow.device_code), 400, 'slow_down');
      // The interval is 10 s now: 6 s later is still too fast.
      clock.now += 6000;
      assertTokenError(await pollToken(server, flow.device_code), 400, 'slow_down');
      // 15 s now.
      clock.now += 15_000;
      assertTokenError(await pollToken(server, flow.device_code), 400, 'authorization_pending');
      clock.now += 14_000;
      assertTokenError(await pollToken(server, flow.device_code), 400, 'slow_down');
    });

    test('RFC 8628 §3.5: expired_token once expires_in has passed', async (url) => {
      const { server, clock } = await start(url);
      const flow = await startDeviceFlow(server);
      clock.now += flow.expires_in * 1000;
      assertTokenError(await pollToken(server, flow.device_code), 400, 'expired_token');
    });

    test('RFC 8628 §3.5: access_denied once the user denied', async (url) => {
      const { server, clock } = await start(url);
      const flow = await startDeviceFlow(server);
      const agent = new UserAgent(server.url);
      const done = await verifyDevice(agent, flow.verification_uri, ALICE, flow.user_code, 'deny');
      assert.equal(done.status, 200);
      assert.match(done.body, /Access denied/);
      clock.now += 5000;
      assertTokenError(await pollToken(server, flow.device_code), 400, 'access_denied');
    });

    test('RFC 8628 §3.5: tokens once the user allowed (access, refresh and ID token), and the device code is redeemed once', async (url) => {
      const { server, clock } = await start(url);
      const flow = await startDeviceFlow(server, { scope: 'openid profile offline_access', resource: API });
      const agent = new UserAgent(server.url);
      const done = await verifyDevice(agent, flow.verification_uri, ALICE, flow.user_code, 'allow');
      assert.equal(done.status, 200);
      assert.match(done.body, /Device connected/);
      clock.now += 5000;
      const tokens = await pollToken(server, flow.device_code);
      assert.equal(tokens.status, 200, tokens.text);
      assertNoStore(tokens);
      assert.equal(tokens.body['token_type'], 'Bearer');
      assert.equal(tokens.body['scope'], 'openid profile offline_access');
      assert.equal(typeof tokens.body['refresh_token'], 'string');
      const access = decodeJwt(tokens.body['access_token'] as string);
      assert.equal(access['client_id'], DEVICE_CLIENT.client_id);
      assert.deepEqual(access.aud, API);
      const idToken = decodeJwt(tokens.body['id_token'] as string);
      assert.equal(idToken.aud, DEVICE_CLIENT.client_id);
      assert.equal(idToken.sub, access.sub);
      clock.now += 5000;
      assertTokenError(await pollToken(server, flow.device_code), 400, 'invalid_grant');
      // The refresh token works as any other (RFC 6749 §6).
      const refreshed = await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.body['refresh_token'] as string,
          client_id: DEVICE_CLIENT.client_id,
        }),
      });
      assert.equal(refreshed.status, 200, await refreshed.clone().text());
    });

    test('RFC 8628 §3.4: a device code of another client, an unknown one or none is refused', async (url) => {
      const { server } = await start(url);
      const flow = await startDeviceFlow(server);
      const basic = { id: CONFIDENTIAL_DEVICE_CLIENT.client_id, secret: CONFIDENTIAL_DEVICE_CLIENT.client_secret! };
      assertTokenError(
        await postToken(server, { grant_type: DEVICE_GRANT, device_code: flow.device_code }, { basic }),
        400,
        'invalid_grant',
      );
      assertTokenError(await pollToken(server, 'not-a-device-code'), 400, 'invalid_grant');
      assertTokenError(
        await postToken(server, { grant_type: DEVICE_GRANT, client_id: DEVICE_CLIENT.client_id }),
        400,
        'invalid_request',
      );
      // A client without the grant may not poll (RFC 6749 §5.2 unauthorized_client).
      assertTokenError(
        await postToken(server, {
          grant_type: DEVICE_GRANT,
          device_code: flow.device_code,
          client_id: PUBLIC_CLIENT.client_id,
        }),
        400,
        'unauthorized_client',
      );
    });

    test('RFC 8628 §3.5 with RFC 6749 §4.1.2: 20 parallel polls of an approved device code get tokens exactly once', async (url) => {
      const { server, clock } = await start(url);
      const flow = await startDeviceFlow(server);
      await verifyDevice(new UserAgent(server.url), flow.verification_uri, ALICE, flow.user_code, 'allow');
      clock.now += 5000;
      const responses = await Promise.all(Array.from({ length: 20 }, () => pollToken(server!, flow.device_code)));
      const succeeded = responses.filter((response) => response.status === 200);
      assert.equal(succeeded.length, 1, responses.map((response) => response.text).join('\n'));
      for (const response of responses.filter((response) => response.status !== 200)) {
        assertTokenError(response, 400, 'invalid_grant');
      }
    });
  });
}
