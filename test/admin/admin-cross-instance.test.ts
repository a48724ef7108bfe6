/**
 * Two instances on one PostgreSQL database act as one server: a change made through the admin
 * API of the first is seen by the second at once, through the store's change notifications
 * (LISTEN/NOTIFY), not after its cache TTL, which is set far beyond the waits here.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import { authorizeParams, authorizeUrl, postToken } from '../helpers/code-flow.js';
import { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } from '../helpers/postgres.js';
import { ALICE, CONFIDENTIAL_CLIENT } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';
import { AdminApi, AUTOMATION, NARROW, clientToken, startAdminServer } from './admin-harness.js';

/** Polls `probe` for at most one second: well under the 300 s cache TTL, so only a notification explains success. */
async function within1s(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 1000;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`the second instance did not see ${what} within 1 s`);
}

describe('admin API across instances (PostgreSQL)', () => {
  let url: string | undefined;
  let first: RunningGatehouse;
  let second: RunningGatehouse;
  let api: AdminApi;
  let token: string;

  before(async () => {
    url = await postgresTestUrl();
    if (!url) return;
    const settings = { clientCacheTtlSeconds: 300 };
    first = await startAdminServer(url, { settings });
    // Same issuer and secret: the second serves the same server (a load balancer's view).
    second = await startAdminServer(url, { settings: { ...settings, issuer: first.context.settings.issuer } });
    second.context.settings.issuer = first.context.settings.issuer;
    api = new AdminApi(first.url);
    token = await clientToken(first);
  });
  after(async () => {
    await second?.close();
    await first?.close();
    if (url) await dropPostgresSchema(url);
  });

  it("a client's new redirect URI is accepted by the second instance at once", async (t) => {
    if (!url) return t.skip(postgresSkipMessage());
    const newUri = 'http://127.0.0.1:9000/new-callback';
    const attempt = async () => {
      const response = await new UserAgent(second.url).request(
        authorizeUrl(second, authorizeParams(CONFIDENTIAL_CLIENT, { redirect_uri: newUri })),
      );
      // RFC 6749 §3.1.2.4: an unregistered redirect URI is refused on an error page; a valid
      // request goes on to the sign-in interaction.
      return response.status === 303 && new URL(response.location!, second.url).pathname.startsWith('/interaction');
    };
    // The second instance caches the client as it is now: the new URI is refused.
    assert.equal(await attempt(), false);
    const shown = await api.call('GET', `/clients/${CONFIDENTIAL_CLIENT.client_id}`, { token });
    const updated = await api.call('PATCH', `/clients/${CONFIDENTIAL_CLIENT.client_id}`, {
      token,
      body: { redirect_uris: [...CONFIDENTIAL_CLIENT.redirect_uris, newUri] },
      headers: { 'if-match': shown.headers.get('etag')! },
    });
    assert.equal(updated.status, 200);
    await within1s('the new redirect URI', attempt);
  });

  it('a deleted client cannot get tokens from the second instance at once', async (t) => {
    if (!url) return t.skip(postgresSkipMessage());
    const attempt = () =>
      postToken(
        second,
        { grant_type: 'client_credentials' },
        { basic: { id: NARROW.client_id, secret: NARROW.client_secret! } },
      );
    assert.equal((await attempt()).status, 200, 'cached on the second instance');
    const deleted = await api.call('DELETE', `/clients/${NARROW.client_id}`, { token, headers: { 'if-match': '*' } });
    assert.equal(deleted.status, 204);
    await within1s('the deletion', async () => (await attempt()).status === 401);
  });

  it('a disabled user cannot sign in on the second instance at once', async (t) => {
    if (!url) return t.skip(postgresSkipMessage());
    const alice = (await api.call('GET', '/users?username=alice', { token })).body.items[0];
    const shown = await api.call('GET', `/users/${alice.id}`, { token });
    const disabled = await api.call('PATCH', `/users/${alice.id}`, {
      token,
      body: { disabled: true },
      headers: { 'if-match': shown.headers.get('etag')! },
    });
    assert.equal(disabled.status, 200);
    const final = await new UserAgent(second.url).authorize(
      authorizeUrl(second, authorizeParams(CONFIDENTIAL_CLIENT)),
      ALICE,
    );
    assert.notEqual(final.status, 303, 'no code for a disabled user');
  });

  it('a client created on the first instance is managed through the second', async (t) => {
    if (!url) return t.skip(postgresSkipMessage());
    const secondApi = new AdminApi(second.url);
    const created = await api.call('POST', '/clients', {
      token,
      body: { client_id: 'shared', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
    });
    assert.equal(created.status, 201);
    const onSecond = await secondApi.call('GET', '/clients/shared', { token: await clientToken(second, AUTOMATION) });
    assert.equal(onSecond.status, 200);
    assert.equal(onSecond.headers.get('etag'), created.headers.get('etag'));
  });
});
