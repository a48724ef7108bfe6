/**
 * The admin API, family by family, on SQLite and PostgreSQL: every response is validated
 * against the OpenAPI document (AdminApi). Conventions: RFC 9457 problem details, RFC 9110
 * §13.1.1 If-Match (RFC 6585 §3: 428 without it), cursor pagination.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { codeRequest, obtainCode, postToken } from '../helpers/code-flow.js';
import { CONFIDENTIAL_CLIENT, STORE_TARGETS } from '../helpers/server.js';
import { dropPostgresSchema } from '../helpers/postgres.js';
import type { RunningGatehouse } from '../../src/server.js';
import { AdminApi, AUTOMATION, clientToken, startAdminServer } from './admin-harness.js';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const target of STORE_TARGETS) {
  describe(`admin API families (${target.name})`, () => {
    let server: RunningGatehouse;
    let api: AdminApi;
    let token: string;
    let url: string | undefined;
    let firstSecret = '';

    before(async () => {
      url = await target.url();
      if (!url) return;
      server = await startAdminServer(url, { audit: { flushIntervalMs: 20 } });
      api = new AdminApi(server.url);
      token = await clientToken(server);
    });
    after(async () => {
      await server?.close();
      if (url && target.name === 'postgres') await dropPostgresSchema(url);
    });
    const live = (name: string, body: () => Promise<void>) =>
      it(name, async (t) => {
        if (!url) return t.skip('PostgreSQL is not available');
        await body();
      });

    live('clients: create shows the secret once; the new client gets tokens with it', async () => {
      const created = await api.call('POST', '/clients', {
        token,
        body: {
          client_id: 'reporting',
          client_name: 'Reporting job',
          grant_types: ['client_credentials'],
          redirect_uris: [],
          response_types: [],
          scope: 'reports',
        },
      });
      assert.equal(created.status, 201);
      assert.equal(created.headers.get('location'), '/admin/v1/clients/reporting');
      assert.ok(created.headers.get('etag'));
      const secret = created.body.client_secret as string;
      assert.ok(secret.length >= 43);
      firstSecret = secret;
      const issued = await postToken(
        server,
        { grant_type: 'client_credentials', scope: 'reports' },
        {
          basic: { id: 'reporting', secret },
        },
      );
      assert.equal(issued.status, 200, issued.text);
      const shown = await api.call('GET', '/clients/reporting', { token });
      assert.equal(shown.status, 200);
      assert.equal(shown.body.client_secret, undefined, 'the secret is never shown again');
      assert.equal(shown.headers.get('etag'), created.headers.get('etag'));
      const again = await api.call('POST', '/clients', {
        token,
        body: { client_id: 'reporting', grant_types: ['client_credentials'], redirect_uris: [], response_types: [] },
      });
      assert.equal(again.status, 409);
    });

    live('clients: the CLI validation refuses bad metadata with the field named (422)', async () => {
      const refused = await api.call('POST', '/clients', {
        token,
        body: { client_id: 'bad', redirect_uris: ['https://app.example/*'] },
      });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.type, 'urn:gatehouse:problem:validation-failed');
      assert.match(refused.body.errors[0].field, /^redirect_uris/);
      const malformed = await api.call('POST', '/clients', { token, body: '{not json' });
      assert.equal(malformed.status, 400);
      const wrongType = await api.call('POST', '/clients', { token, body: { redirect_uris: { a: 1 } } });
      assert.equal(wrongType.status, 400);
      assert.equal(wrongType.body.errors[0].field, 'redirect_uris');
    });

    live('clients: RFC 9110 §13.1.1 If-Match guards PATCH (428 without, 412 stale, 200 current)', async () => {
      const shown = await api.call('GET', `/clients/${CONFIDENTIAL_CLIENT.client_id}`, { token });
      const etag = shown.headers.get('etag')!;
      const change = { redirect_uris: ['https://web.example/callback'] };
      const missing = await api.call('PATCH', `/clients/${CONFIDENTIAL_CLIENT.client_id}`, { token, body: change });
      assert.equal(missing.status, 428);
      const stale = await api.call('PATCH', `/clients/${CONFIDENTIAL_CLIENT.client_id}`, {
        token,
        body: change,
        headers: { 'if-match': '"stale"' },
      });
      assert.equal(stale.status, 412);
      const updated = await api.call('PATCH', `/clients/${CONFIDENTIAL_CLIENT.client_id}`, {
        token,
        body: change,
        headers: { 'if-match': etag },
      });
      assert.equal(updated.status, 200);
      assert.deepEqual(updated.body.redirect_uris, change.redirect_uris);
      assert.notEqual(updated.headers.get('etag'), etag);
      const replay = await api.call('PATCH', `/clients/${CONFIDENTIAL_CLIENT.client_id}`, {
        token,
        body: { client_name: 'x' },
        headers: { 'if-match': etag },
      });
      assert.equal(replay.status, 412, 'the old ETag no longer matches');
    });

    live('clients: rotating the secret makes the old one fail at once', async () => {
      const rotated = await api.call('POST', '/clients/reporting/secret', { token });
      assert.equal(rotated.status, 200);
      const fresh = rotated.body.client_secret as string;
      const ok = await postToken(
        server,
        { grant_type: 'client_credentials' },
        { basic: { id: 'reporting', secret: fresh } },
      );
      assert.equal(ok.status, 200);
      const old = await postToken(
        server,
        { grant_type: 'client_credentials' },
        {
          basic: { id: 'reporting', secret: firstSecret },
        },
      );
      assert.equal(old.status, 401);
      assert.equal((await api.call('POST', '/clients/nobody/secret', { token })).status, 404);
    });

    live('clients: cursor pagination walks every client once', async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${cursor}`;
        const pageOf: { status: number; body: { items: Array<{ client_id: string }>; next_cursor: string | null } } =
          await api.call('GET', `/clients${query}`, { token });
        assert.equal(pageOf.status, 200);
        assert.ok(pageOf.body.items.length <= 2);
        ids.push(...pageOf.body.items.map((client) => client.client_id));
        cursor = pageOf.body.next_cursor;
      } while (cursor !== null);
      assert.deepEqual(ids, [...ids].sort());
      assert.ok(ids.includes('reporting') && ids.includes(AUTOMATION.client_id));
      assert.equal(new Set(ids).size, ids.length);
      const badCursor = await api.call('GET', '/clients?cursor=%%%', { token });
      assert.equal(badCursor.status, 400);
    });

    live('clients: DELETE with If-Match removes the client', async () => {
      const shown = await api.call('GET', '/clients/reporting', { token });
      const deleted = await api.call('DELETE', '/clients/reporting', {
        token,
        headers: { 'if-match': shown.headers.get('etag')! },
      });
      assert.equal(deleted.status, 204);
      assert.equal((await api.call('GET', '/clients/reporting', { token })).status, 404);
    });

    live('users: create, disable (If-Match), reset the password, delete', async () => {
      const short = await api.call('POST', '/users', { token, body: { username: 'carol', password: 'short' } });
      assert.equal(short.status, 422);
      assert.deepEqual(
        short.body.errors.map((e: { field: string }) => e.field),
        ['password'],
      );
      const created = await api.call('POST', '/users', {
        token,
        body: { username: 'carol', password: 'carol has a long password', email: 'carol@example.com' },
      });
      assert.equal(created.status, 201);
      const id = created.body.id as string;
      assert.equal(created.body.disabled, false);
      const disabled = await api.call('PATCH', `/users/${id}`, {
        token,
        body: { disabled: true },
        headers: { 'if-match': created.headers.get('etag')! },
      });
      assert.equal(disabled.status, 200);
      assert.equal(disabled.body.disabled, true);
      const listed = await api.call('GET', '/users?disabled=true', { token });
      assert.deepEqual(
        listed.body.items.map((u: { username: string }) => u.username),
        ['carol'],
      );
      const reset = await api.call('POST', `/users/${id}/password`, {
        token,
        body: { password: 'another long password' },
      });
      assert.equal(reset.status, 204);
      const sessions = await api.call('GET', `/users/${id}/sessions`, { token });
      assert.deepEqual(sessions.body, { items: [], next_cursor: null });
      const deleted = await api.call('DELETE', `/users/${id}`, { token, headers: { 'if-match': '*' } });
      assert.equal(deleted.status, 204);
      assert.equal((await api.call('GET', `/users/${id}`, { token })).status, 404);
    });

    live('resources: register, change and delete (RFC 8707 identifier in the path)', async () => {
      const created = await api.call('POST', '/resources', {
        token,
        body: { resource: 'https://api.example/v1', name: 'API', scopes: ['read'] },
      });
      assert.equal(created.status, 201);
      const path = `/resources/${encodeURIComponent('https://api.example/v1')}`;
      const shown = await api.call('GET', path, { token });
      assert.equal(shown.status, 200);
      const changed = await api.call('PATCH', path, {
        token,
        body: { scopes: ['read', 'write'] },
        headers: { 'if-match': shown.headers.get('etag')! },
      });
      assert.deepEqual(changed.body.scopes, ['read', 'write']);
      const badScope = await api.call('POST', '/resources', {
        token,
        body: { resource: 'https://api.example/v2', scopes: ['a b'] },
      });
      assert.equal(badScope.status, 422);
      const fragment = await api.call('POST', '/resources', { token, body: { resource: 'https://api.example/#x' } });
      assert.equal(fragment.status, 422);
      assert.equal((await api.call('DELETE', path, { token, headers: { 'if-match': '*' } })).status, 204);
    });

    live('keys: rotate, then retire the previous key; the last active key is refused', async () => {
      const before = await api.call('GET', '/keys', { token });
      const active = before.body.items.find(
        (key: { alg: string; state: string }) => key.alg === 'ES256' && key.state === 'active',
      );
      assert.ok(active);
      const refused = await api.call('POST', `/keys/${active.kid}/retire`, { token });
      assert.equal(refused.status, 409);
      const rotated = await api.call('POST', '/keys', { token, body: { alg: 'ES256', activate_after_seconds: 0 } });
      assert.equal(rotated.status, 201);
      const retired = await api.call('POST', `/keys/${active.kid}/retire`, { token });
      assert.equal(retired.status, 200);
      assert.equal(retired.body.state, 'retired');
      assert.equal((await api.call('POST', '/keys/no-such-kid/retire', { token })).status, 404);
    });

    live('sessions and grants: list, revoke the refresh family, withdraw consent, end the session', async () => {
      const obtained = await obtainCode(server, CONFIDENTIAL_CLIENT, {
        scope: 'openid offline_access',
        redirectUri: 'https://web.example/callback',
      });
      const tokens = await postToken(server, codeRequest(obtained), {
        basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! },
      });
      assert.equal(tokens.status, 200, tokens.text);
      const alice = (await api.call('GET', '/users?username=alice', { token })).body.items[0];
      const sessions = await api.call('GET', `/sessions?user_id=${alice.id}`, { token });
      assert.equal(sessions.body.items.length, 1);
      const grants = await api.call('GET', `/grants?user_id=${alice.id}&revoked=false`, { token });
      assert.equal(grants.body.items.length, 1);
      const grantId = grants.body.items[0].id as string;

      assert.equal((await api.call('DELETE', `/refresh-token-families/${grantId}`, { token })).status, 204);
      const refreshed = await postToken(
        server,
        { grant_type: 'refresh_token', refresh_token: tokens.body['refresh_token'] as string },
        { basic: { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! } },
      );
      assert.equal(refreshed.status, 400);
      assert.equal(refreshed.body['error'], 'invalid_grant');

      const consents = await api.call('GET', `/consents?user_id=${alice.id}`, { token });
      assert.equal(consents.body.items[0].client_id, CONFIDENTIAL_CLIENT.client_id);
      const withdrawn = await api.call('DELETE', `/consents/${alice.id}/${CONFIDENTIAL_CLIENT.client_id}`, { token });
      assert.equal(withdrawn.status, 204);
      assert.equal((await api.call('GET', `/consents?user_id=${alice.id}`, { token })).body.items.length, 0);

      const sid = sessions.body.items[0].sid as string;
      assert.equal((await api.call('DELETE', `/sessions/${sid}`, { token })).status, 204);
      assert.equal((await api.call('GET', `/sessions/${sid}`, { token })).status, 404);
      assert.equal((await api.call('DELETE', `/grants/${grantId}`, { token })).status, 204);
      assert.equal((await api.call('DELETE', '/grants/nope', { token })).status, 404);
    });

    live(
      'sessions and grants: keyset pages read from the store walk every live session and grant once, in key order',
      async () => {
        const { store } = server.context;
        const user = await store.users.getByUsername('alice');
        assert.ok(user);
        const now = Date.now();
        for (let i = 0; i < 5; i++) {
          await store.sessions.create({
            idHash: `page-test-session-${i}`,
            sid: `page-test-sid-${i}`,
            userId: user.id,
            authTime: now,
            createdAt: now,
            expiresAt: now + 3_600_000,
          });
          await store.grants.create({
            id: `page-test-grant-${i}`,
            flowId: `page-test-flow-${i}`,
            clientId: CONFIDENTIAL_CLIENT.client_id,
            userId: user.id,
            scope: ['openid'],
            sid: `page-test-sid-${i}`,
            createdAt: now,
            revokedAt: null,
          });
        }
        const walk = async (path: string, key: string): Promise<string[]> => {
          const keys: string[] = [];
          let cursor: string | null = null;
          do {
            const separator = path.includes('?') ? '&' : '?';
            const query: string = `${path}${separator}limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
            const pageOf = await api.call('GET', query, { token });
            assert.equal(pageOf.status, 200);
            assert.ok(pageOf.body.items.length <= 2);
            keys.push(...pageOf.body.items.map((item: Record<string, string>) => item[key]!));
            cursor = pageOf.body.next_cursor;
          } while (cursor !== null);
          return keys;
        };
        const sids = await walk(`/sessions?user_id=${user.id}`, 'sid');
        const all = (await store.sessions.list({ userId: user.id }, Date.now())).map((session) => session.sid);
        assert.deepEqual(sids, all, 'the same sessions, in the order the store sorts them');
        assert.equal(new Set(sids).size, sids.length);
        for (let i = 0; i < 5; i++) assert.ok(sids.includes(`page-test-sid-${i}`));

        const grantIds = await walk(`/grants?user_id=${user.id}`, 'id');
        const allGrants = (await store.grants.list({ userId: user.id })).map((grant) => grant.id);
        assert.deepEqual(grantIds, allGrants);
        assert.equal(new Set(grantIds).size, grantIds.length);
        for (let i = 0; i < 5; i++) assert.ok(grantIds.includes(`page-test-grant-${i}`));
        assert.equal((await api.call('GET', '/grants?cursor=%%%', { token })).status, 400);
      },
    );

    live('audit: the trail names the acting client of every change, filtered and paged', async () => {
      const events = await waitFor('the audit events', async () => {
        const found = await api.call('GET', '/audit-events?type=client.created,client.deleted&limit=1', { token });
        return found.body.items.length > 0 && found.body.next_cursor !== null ? found : undefined;
      });
      assert.equal(events.body.items[0].details.source, 'admin_api');
      assert.equal(events.body.items[0].details.actor.clientId, AUTOMATION.client_id);
      const next = await api.call(
        'GET',
        `/audit-events?type=client.created,client.deleted&limit=1&cursor=${events.body.next_cursor}`,
        {
          token,
        },
      );
      assert.equal(next.status, 200);
      assert.notEqual(next.body.items[0].id, events.body.items[0].id);
      const badSince = await api.call('GET', '/audit-events?since=yesterday', { token });
      assert.equal(badSince.status, 400);
    });

    live('registration tokens: created (shown once), listed, revoked', async () => {
      const created = await api.call('POST', '/registration-tokens', { token, body: { uses: 1 } });
      assert.equal(created.status, 201);
      assert.ok(created.body.token);
      const listed = await api.call('GET', '/registration-tokens', { token });
      assert.ok(
        listed.body.items.some((item: { id: string; token?: string }) => item.id === created.body.id && !item.token),
      );
      assert.equal((await api.call('DELETE', `/registration-tokens/${created.body.id}`, { token })).status, 204);
      assert.equal((await api.call('DELETE', `/registration-tokens/${created.body.id}`, { token })).status, 404);
    });
  });
}
