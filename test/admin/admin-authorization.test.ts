/**
 * Who may use the admin API, for every route family, on SQLite and PostgreSQL: RFC 6750 §3.1
 * refusals (no token: 401 with a Bearer challenge on every documented route; an expired token
 * and a token for another audience: 401 invalid_token; a token without the family's scope: 403
 * insufficient_scope naming it), and a user token without the admin role: 403. A user with the
 * admin role, and a client credentials token obtained by openid-client, are let in.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { ADMIN_FAMILIES, adminAudience, familyScope, type AdminFamily } from '../../src/core/admin/admin-access.js';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, STORE_TARGETS } from '../helpers/server.js';
import { dropPostgresSchema } from '../helpers/postgres.js';
import { AdminApi, AUTOMATION, BOB, NARROW, clientToken, startAdminServer, userToken } from './admin-harness.js';

/** A read route and a write route of each family. */
const ROUTES: Record<AdminFamily, { read: string; write: [string, string, unknown] }> = {
  clients: { read: '/clients', write: ['POST', '/clients', { client_id: 'x', redirect_uris: [] }] },
  users: { read: '/users', write: ['POST', '/users', { username: 'x', password: 'long enough password' }] },
  resources: { read: '/resources', write: ['POST', '/resources', { resource: 'https://x.example/' }] },
  keys: { read: '/keys', write: ['POST', '/keys', { activate_after_seconds: 600 }] },
  sessions: { read: '/sessions', write: ['DELETE', '/sessions/unknown', undefined] },
  audit: { read: '/audit-events', write: ['GET', '/audit-events', undefined] },
  registration_tokens: { read: '/registration-tokens', write: ['POST', '/registration-tokens', { uses: 1 }] },
};

/** RFC 6750 §3: the challenge's auth-params. */
function challenge(response: { headers: Headers }): string {
  const value = response.headers.get('www-authenticate');
  assert.ok(value, 'a WWW-Authenticate challenge');
  assert.match(value, /^Bearer realm="/);
  return value;
}

for (const target of STORE_TARGETS) {
  describe(`admin API authorization (${target.name})`, () => {
    let server: RunningGatehouse;
    let api: AdminApi;
    let url: string | undefined;
    let nonAdmin = '';
    let admin = '';

    before(async () => {
      url = await target.url();
      if (!url) return;
      server = await startAdminServer(url);
      api = new AdminApi(server.url);
      const bob = await server.store.users.getByUsername(BOB.username);
      await server.store.users.upsert({ ...bob!, admin: true });
      nonAdmin = await userToken(server, ALICE);
      admin = await userToken(server, BOB);
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

    live('RFC 6750 §3.1: every documented route answers 401 with a Bearer challenge without a token', async () => {
      const document = await api.openApi();
      let routes = 0;
      for (const [template, operations] of Object.entries(document.paths)) {
        for (const method of Object.keys(operations)) {
          const path = template.replace('/admin/v1', '').replace(/\{[^}]+\}/g, 'x');
          const response = await api.call(method.toUpperCase(), path, { body: method === 'get' ? undefined : {} });
          assert.equal(response.status, 401, `${method} ${template}`);
          const value = challenge(response);
          assert.doesNotMatch(value, /error=/, 'RFC 6750 §3.1: no error code when no token was sent');
          routes++;
        }
      }
      assert.ok(routes >= 30, `${routes} routes`);
    });

    for (const family of ADMIN_FAMILIES) {
      const { read, write } = ROUTES[family];

      live(`RFC 6750 §3.1 ${family}: an expired token is invalid_token (401)`, async () => {
        const token = await clientToken(server);
        const realNow = server.context.now;
        server.context.now = () => realNow() + 2 * 3600 * 1000;
        try {
          const response = await api.call('GET', read, { token });
          assert.equal(response.status, 401);
          assert.match(challenge(response), /error="invalid_token"/);
          assert.equal(response.body.error, 'invalid_token');
        } finally {
          server.context.now = realNow;
        }
      });

      live(`RFC 8707 ${family}: a token for another audience is invalid_token (401)`, async () => {
        const token = await clientToken(server, AUTOMATION, AUTOMATION.scope, null);
        const response = await api.call('GET', read, { token });
        assert.equal(response.status, 401);
        assert.match(challenge(response), /error="invalid_token"/);
      });

      live(`RFC 6750 §3.1 ${family}: a token without the family's scope is insufficient_scope (403)`, async () => {
        const other = family === 'clients' ? 'users' : 'clients';
        const token = await clientToken(server, NARROW, familyScope(other, 'write'));
        const response = await api.call('GET', read, { token });
        assert.equal(response.status, 403);
        const value = challenge(response);
        assert.match(value, /error="insufficient_scope"/);
        assert.match(value, new RegExp(`scope="${familyScope(family, 'read')} gatehouse:admin"`));
        if (family !== 'audit') {
          // The read scope does not allow changes.
          const reader = await clientToken(server, NARROW, familyScope(family, 'read'));
          assert.equal((await api.call('GET', read, { token: reader })).status, 200);
          const [method, path, body] = write;
          const refused = await api.call(method, path, { token: reader, body });
          assert.equal(refused.status, 403, `${method} ${path} with the read scope`);
          assert.match(challenge(refused), new RegExp(`scope="${familyScope(family, 'write')} gatehouse:admin"`));
        }
      });

      live(
        `${family}: a user token whose user lacks the admin role is refused (403); an admin user's is accepted`,
        async () => {
          const refused = await api.call('GET', read, { token: nonAdmin });
          assert.equal(refused.status, 403);
          assert.equal(refused.body.type, 'urn:gatehouse:problem:not-an-admin');
          assert.equal((await api.call('GET', read, { token: admin })).status, 200);
        },
      );
    }

    live('RFC 7009: a revoked token is refused at once', async () => {
      const token = await clientToken(server);
      assert.equal((await api.call('GET', '/clients', { token })).status, 200);
      const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
      await server.store.accessTokens.revoke(jti, Date.now());
      const refused = await api.call('GET', '/clients', { token });
      assert.equal(refused.status, 401);
      assert.match(challenge(refused), /error="invalid_token"/);
    });

    live('RFC 6749 §4.4: openid-client obtains an admin token by client credentials', async () => {
      const configuration = await oidc.discovery(
        new URL(server.url),
        AUTOMATION.client_id,
        undefined,
        oidc.ClientSecretBasic(AUTOMATION.client_secret!),
        { execute: [oidc.allowInsecureRequests] },
      );
      const tokens = await oidc.clientCredentialsGrant(configuration, {
        scope: 'gatehouse:admin',
        resource: adminAudience(server.context.settings.issuer),
      });
      const listed = await api.call('GET', '/users', { token: tokens.access_token });
      assert.equal(listed.status, 200);
      assert.ok(listed.body.items.some((user: { username: string }) => user.username === 'alice'));
    });

    live('RFC 9728 §3: the admin API publishes its protected resource metadata', async () => {
      const refused = await api.call('GET', '/clients');
      const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge(refused))![1]!;
      const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
      assert.equal(metadata['resource'], adminAudience(server.context.settings.issuer));
      assert.deepEqual(metadata['authorization_servers'], [server.context.settings.issuer]);
    });
  });
}
