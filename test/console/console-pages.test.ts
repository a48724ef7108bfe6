/**
 * The web console over HTTP (docs/operating.md, Console), on SQLite and PostgreSQL: signing in
 * through Gatehouse's own authorization code flow with PKCE (RFC 7636 S256, RFC 8707 resource),
 * the refusals (signed out: to sign-in; not an administrator: 403; a form without the console
 * session's CSRF token: 403 and nothing changed), and every page and change, each checked in the
 * store and in the audit trail (source `console`, actor the signed-in user).
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CONSOLE_CLIENT_ID, consoleRedirectUri } from '../../src/core/console/console-client.js';
import { decodeJwt } from 'jose';
import { adminAudience } from '../../src/core/admin/admin-access.js';
import { openConsoleState } from '../../src/core/console/console-session.js';
import { verifyClientSecret, verifyPassword } from '../../src/core/secrets.js';
import type { RunningGatehouse } from '../../src/server.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import { STORE_TARGETS } from '../helpers/server.js';
import { UserAgent, isLoginPage, type PageResponse } from '../helpers/user-agent.js';
import { ALICE, BOB, csrfOf, headingOf, post, signInToConsole, startConsoleServer } from './console-harness.js';

/** The text of an element's content, without tags (entities decoded). */
function text(body: string): string {
  return body
    .replace(/<head>[\s\S]*<\/head>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

for (const target of STORE_TARGETS) {
  describe(`the web console over HTTP (${target.name})`, () => {
    let gatehouse: RunningGatehouse | undefined;
    let url: string | undefined;
    let agent: UserAgent;
    let dashboard: PageResponse;

    before(async () => {
      url = await target.url();
      if (!url) return;
      gatehouse = await startConsoleServer(url);
      ({ agent, page: dashboard } = await signInToConsole(gatehouse, ALICE));
    });
    after(async () => {
      await gatehouse?.close();
      if (url) await target.cleanup(url);
    });

    /** The server, or a skip when this store is not available. */
    function server(t: TestContext): RunningGatehouse | undefined {
      if (!gatehouse) t.skip(postgresSkipMessage());
      return gatehouse;
    }

    const lastEvent = async (g: RunningGatehouse, type: string) => {
      await g.audit.flush();
      return (await g.context.store.audit.list({ limit: 1, types: [type] }))[0];
    };

    it('signed out: /console redirects to the authorization endpoint with the console client, PKCE S256 and the admin API resource; the cookie is HttpOnly and SameSite=Lax', async (t) => {
      const g = server(t);
      if (!g) return;
      const response = await new UserAgent(g.url).request(`${g.url}/console/clients?q=x`);
      assert.equal(response.status, 303);
      const location = new URL(response.location!, g.url);
      assert.equal(location.pathname, '/authorize');
      assert.equal(location.searchParams.get('client_id'), CONSOLE_CLIENT_ID);
      assert.equal(location.searchParams.get('redirect_uri'), consoleRedirectUri(g.context.settings.issuer));
      assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
      assert.equal(location.searchParams.get('resource'), adminAudience(g.context.settings.issuer));
      assert.equal(location.searchParams.get('scope'), 'openid gatehouse:admin');
      const cookie = response.headers.get('set-cookie')!;
      assert.match(cookie, /^gh_console=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
      // The built-in client exists now: public, its one redirect URI.
      const client = await g.context.store.clients.get(CONSOLE_CLIENT_ID);
      assert.equal(client?.tokenEndpointAuthMethod, 'none');
      assert.deepEqual(client?.redirectUris, [consoleRedirectUri(g.context.settings.issuer)]);
    });

    it('an administrator signs in without a consent page and comes back to the page they asked for', async (t) => {
      const g = server(t);
      if (!g) return;
      assert.equal(dashboard.status, 200);
      assert.equal(dashboard.url, `${g.url}/console`);
      assert.equal(headingOf(dashboard), 'Overview');
      assert.match(text(dashboard.body), /Signed in as alice/);
      const { page } = await signInToConsole(g, ALICE, '/console/audit?type=login.failed');
      assert.equal(page.url, `${g.url}/console/audit?type=login.failed`);
      assert.equal(headingOf(page), 'Audit log');
      assert.match(page.headers.get('content-security-policy')!, /default-src 'none'/);
    });

    it('a user without the admin role gets the 403 page, and no console session', async (t) => {
      const g = server(t);
      if (!g) return;
      const { agent: bob, page } = await signInToConsole(g, BOB);
      assert.equal(page.status, 403);
      assert.equal(headingOf(page), 'Not an administrator');
      assert.equal(bob.cookie('gh_console'), '');
      // The next visit starts a sign-in again (silent: the single sign-on session lasts), and is refused again.
      const again = await bob.navigate(`${g.url}/console/users`);
      assert.equal(again.status, 403);
    });

    it('a sign-in callback that this browser did not start is refused', async (t) => {
      const g = server(t);
      if (!g) return;
      const response = await new UserAgent(g.url).request(`${g.url}/console/callback?code=x&state=y`);
      assert.equal(response.status, 400);
      assert.equal(headingOf(response), 'Sign-in did not complete');
    });

    it('CSRF: a POST without the console session token, or with another, is refused with 403 and changes nothing', async (t) => {
      const g = server(t);
      if (!g) return;
      const before = (await g.context.store.clients.list()).length;
      for (const csrf of [undefined, 'not-the-token']) {
        const response = await agent.request(`${g.url}/console/clients`, {
          form: { ...(csrf !== undefined ? { csrf_token: csrf } : {}), client_name: 'Forged', scope: 'openid' },
        });
        assert.equal(response.status, 403);
      }
      // Another console session's token is not this one's either.
      const other = await signInToConsole(g, ALICE);
      const response = await agent.request(`${g.url}/console/clients`, {
        form: { csrf_token: csrfOf(other.page), client_name: 'Forged', scope: 'openid' },
      });
      assert.equal(response.status, 403);
      assert.equal((await g.context.store.clients.list()).length, before);
    });

    it('a tampered console cookie, or a revoked access token, sends the browser through sign-in again', async (t) => {
      const g = server(t);
      if (!g) return;
      const { agent: mine } = await signInToConsole(g, ALICE);
      const sealed = mine.cookie('gh_console')!;
      // One bit of the ciphertext flipped (rewriting the last base64url characters could leave
      // the bytes unchanged: they may carry only padding bits, or already be the new ones).
      const tampered = Buffer.from(sealed, 'base64url');
      tampered[20] = tampered[20]! ^ 1;
      mine.setCookie('gh_console', tampered.toString('base64url'));
      let response = await mine.request(`${g.url}/console/keys`);
      assert.equal(response.status, 303);
      assert.match(response.location!, /\/authorize\?/);

      const { agent: revoked } = await signInToConsole(g, ALICE);
      assert.equal((await revoked.request(`${g.url}/console/keys`)).status, 200);
      // RFC 7009: the console's token revoked with its grant (as the admin API's token check reads it).
      const events = await g.context.store.grants.list({ clientId: CONSOLE_CLIENT_ID, revoked: false });
      for (const grant of events) await g.context.store.grants.revoke(grant.id, g.context.now());
      response = await revoked.request(`${g.url}/console/keys`);
      assert.equal(response.status, 303);
      assert.match(response.location!, /\/authorize\?/);
    });

    it('signing out revokes the access token, clears the console cookie and leads to the logout page of the single sign-on session', async (t) => {
      const g = server(t);
      if (!g) return;
      const { agent: mine, page } = await signInToConsole(g, ALICE);
      const session = openConsoleState(g.context.settings.secret, mine.cookie('gh_console'), Date.now());
      assert.equal(session?.kind, 'session');
      const { jti } = decodeJwt(session.kind === 'session' ? session.accessToken : '');
      const response = await mine.request(`${g.url}/console/sign-out`, { form: { csrf_token: csrfOf(page) } });
      // RFC 7009: the console's access token is revoked at sign-out.
      assert.notEqual((await g.context.store.accessTokens.get(jti!))?.revokedAt, null);
      assert.equal(response.status, 303);
      assert.equal(response.location, '/logout');
      assert.match(response.headers.get('set-cookie')!, /^gh_console=; .*Max-Age=0/);
      const again = await mine.request(`${g.url}/console`);
      assert.equal(again.status, 303);
      assert.match(again.location!, /\/authorize\?/);
    });

    it('signed out: a POST changes nothing and is sent to sign in, to come back to its section', async (t) => {
      const g = server(t);
      if (!g) return;
      const before = (await g.context.store.clients.list()).length;
      const stranger = new UserAgent(g.url);
      const response = await stranger.request(`${g.url}/console/clients`, {
        form: { client_name: 'Nobody', scope: 'openid' },
      });
      assert.equal(response.status, 303);
      assert.match(response.location!, /\/authorize\?/);
      assert.equal((await g.context.store.clients.list()).length, before);
      const page = await stranger.submit(await stranger.navigate(new URL(response.location!, g.url).href), {
        username: ALICE.username,
        password: ALICE.password,
      });
      assert.equal(page.url, `${g.url}/console/clients`);
    });

    it("lists page with the admin API's cursors: 25 a page, then a Next page link", async (t) => {
      const g = server(t);
      if (!g) return;
      const template = (await g.context.store.users.getByUsername(BOB.username))!;
      for (let i = 0; i < 30; i++)
        await g.context.store.users.create({
          ...template,
          id: `paged-${i}`,
          username: `paged-${String(i).padStart(2, '0')}`,
        });
      const first = await agent.navigate(`${g.url}/console/users?q=paged-`);
      assert.equal([...first.body.matchAll(/>paged-\d\d</g)].length, 25);
      const next = /<a href="([^"]+)" rel="next">Next page<\/a>/.exec(first.body)?.[1];
      assert.ok(next);
      const second = await agent.navigate(new URL(next.replace(/&amp;/g, '&'), g.url).href);
      assert.deepEqual(
        [...second.body.matchAll(/>(paged-\d\d)</g)].map((match) => match[1]),
        ['paged-25', 'paged-26', 'paged-27', 'paged-28', 'paged-29'],
      );
      assert.doesNotMatch(second.body, /rel="next"/);
    });

    it('every page answers 200 with its heading and the navigation', async (t) => {
      const g = server(t);
      if (!g) return;
      const alice = await g.context.store.users.getByUsername(ALICE.username);
      const pages: Array<[string, string]> = [
        ['/console', 'Overview'],
        ['/console/clients', 'Clients'],
        ['/console/clients/new', 'New client'],
        [`/console/clients/${CONSOLE_CLIENT_ID}`, `Client ${CONSOLE_CLIENT_ID}`],
        ['/console/users', 'Users'],
        ['/console/users/new', 'New user'],
        [`/console/users/${alice!.id}`, 'alice'],
        ['/console/resources', 'Protected resources'],
        ['/console/resources/new', 'New resource'],
        ['/console/keys', 'Signing keys'],
        ['/console/sessions', 'Sessions and grants'],
        ['/console/audit', 'Audit log'],
      ];
      for (const [path, heading] of pages) {
        const page = await agent.navigate(`${g.url}${path}`);
        assert.equal(page.status, 200, path);
        assert.equal(headingOf(page), heading, path);
        assert.match(page.body, /<nav aria-label="Console sections">/, path);
        assert.equal(page.headers.get('cache-control'), 'no-store', path);
      }
      const missing = await agent.navigate(`${g.url}/console/clients/no-such-client`);
      assert.equal(missing.status, 404);
      // Every page text is in each shipped language (RFC 9110 §12.5.4 Accept-Language).
      agent.extraHeaders['accept-language'] = 'de';
      try {
        const german = await agent.navigate(`${g.url}/console/keys`);
        assert.equal(headingOf(german), 'Signaturschlüssel');
        assert.match(german.body, /<html lang="de">/);
      } finally {
        delete agent.extraHeaders['accept-language'];
      }
    });

    it('clients: create (the secret shown once), search, edit, rotate the secret, delete after a confirmation page', async (t) => {
      const g = server(t);
      if (!g) return;
      const form = await agent.navigate(`${g.url}/console/clients/new`);
      const created = await post(agent, form, '/console/clients', {
        client_id: 'console-made',
        client_name: 'Made in the console',
        client_type: 'confidential',
        redirect_uris: 'https://app.example/cb\r\nhttps://app.example/cb2',
        grant_authorization_code: '1',
        grant_refresh_token: '1',
        scope: 'openid profile',
      });
      assert.equal(created.status, 201);
      assert.equal(headingOf(created), 'Client created');
      const secret = /<dd id="client-secret">([^<]+)<\/dd>/.exec(created.body)![1]!;
      let stored = await g.context.store.clients.get('console-made');
      assert.deepEqual(stored?.redirectUris, ['https://app.example/cb', 'https://app.example/cb2']);
      assert.equal(await verifyClientSecret(stored!.clientSecretHash!, secret), true);
      const event = await lastEvent(g, 'client.created');
      const alice = await g.context.store.users.getByUsername(ALICE.username);
      assert.equal(event?.details['source'], 'console');
      assert.deepEqual(event?.details['actor'], { clientId: CONSOLE_CLIENT_ID, userId: alice!.id });

      const refused = await post(agent, form, '/console/clients', {
        client_name: 'Bad',
        redirect_uris: 'not a url',
        grant_authorization_code: '1',
        scope: 'openid',
      });
      assert.equal(refused.status, 400);
      assert.match(text(refused.body), /The change was refused: redirect_uris/);

      const search = await agent.navigate(`${g.url}/console/clients?q=made+in`);
      assert.match(search.body, /console-made/);
      assert.doesNotMatch(search.body, /<code>gatehouse-console<\/code>/);

      const edit = await agent.navigate(`${g.url}/console/clients/console-made`);
      const saved = await post(agent, edit, '/console/clients/console-made', {
        client_name: 'Renamed',
        redirect_uris: 'https://app.example/cb',
        grant_authorization_code: '1',
        scope: 'openid',
      });
      assert.equal(saved.status, 200);
      assert.match(saved.body, /role="status">Saved\./);
      stored = await g.context.store.clients.get('console-made');
      assert.equal(stored?.clientName, 'Renamed');
      assert.deepEqual(stored?.grantTypes, ['authorization_code']);

      const rotated = await post(agent, saved, '/console/clients/console-made/secret');
      assert.equal(rotated.status, 200);
      assert.equal(headingOf(rotated), 'Secret rotated');
      const newSecret = /<dd id="client-secret">([^<]+)<\/dd>/.exec(rotated.body)![1]!;
      stored = await g.context.store.clients.get('console-made');
      assert.equal(await verifyClientSecret(stored!.clientSecretHash!, secret), false);
      assert.equal(await verifyClientSecret(stored!.clientSecretHash!, newSecret), true);

      const confirm = await agent.navigate(`${g.url}/console/clients/console-made/delete`);
      assert.equal(headingOf(confirm), 'Delete Renamed?');
      assert.ok(await g.context.store.clients.get('console-made'), 'the confirmation page deletes nothing');
      const deleted = await post(agent, confirm, '/console/clients/console-made/delete');
      assert.equal(deleted.url, `${g.url}/console/clients?done=deleted`);
      assert.equal(await g.context.store.clients.get('console-made'), undefined);
    });

    it('users: create, disable and enable, make administrator, reset the password', async (t) => {
      const g = server(t);
      if (!g) return;
      const form = await agent.navigate(`${g.url}/console/users/new`);
      const short = await post(agent, form, '/console/users', { username: 'carol', password: 'short' });
      assert.equal(short.status, 400);
      assert.match(text(short.body), /password/);
      const created = await post(agent, form, '/console/users', {
        username: 'carol',
        password: 'carol has a long password',
        name: 'Carol',
        email: 'carol@example.com',
      });
      assert.equal(created.status, 200);
      assert.equal(headingOf(created), 'carol');
      const carol = (await g.context.store.users.getByUsername('carol'))!;
      const self = `/console/users/${carol.id}`;
      let page = await post(agent, created, `${self}/disabled`, { disabled: '1' });
      assert.notEqual((await g.context.store.users.getById(carol.id))?.disabledAt, undefined);
      assert.match(text(page.body), /Disabled/);
      page = await post(agent, page, `${self}/disabled`, { disabled: '0' });
      assert.equal((await g.context.store.users.getById(carol.id))?.disabledAt, undefined);
      page = await post(agent, page, `${self}/admin`, { admin: '1' });
      assert.equal((await g.context.store.users.getById(carol.id))?.admin, true);
      page = await post(agent, page, `${self}/password`, { password: 'a new password for carol' });
      assert.match(page.body, /The password was reset\./);
      assert.equal(
        await verifyPassword((await g.context.store.users.getById(carol.id))!.passwordHash, 'a new password for carol'),
        true,
      );
      const list = await agent.navigate(`${g.url}/console/users?q=carol%40`);
      assert.match(list.body, /carol@example\.com/);
      assert.doesNotMatch(list.body, /bob@example\.com/);
    });

    it('an administrator can neither take the admin role from themselves nor disable themselves', async (t) => {
      const g = server(t);
      if (!g) return;
      const alice = (await g.context.store.users.getByUsername(ALICE.username))!;
      const page = await agent.navigate(`${g.url}/console/users/${alice.id}`);
      assert.doesNotMatch(page.body, /Remove administrator role/);
      assert.doesNotMatch(page.body, /Disable sign-in/);
      await post(agent, page, `/console/users/${alice.id}/admin`, { admin: '0' });
      await post(agent, page, `/console/users/${alice.id}/disabled`, { disabled: '1' });
      const after = await g.context.store.users.getById(alice.id);
      assert.equal(after?.admin, true);
      assert.equal(after?.disabledAt, undefined);
    });

    it('editing a client keeps the grant types the form does not offer', async (t) => {
      const g = server(t);
      if (!g) return;
      const form = await agent.navigate(`${g.url}/console/clients/new`);
      await post(agent, form, '/console/clients', {
        client_id: 'device-app',
        client_type: 'public',
        grant_authorization_code: '1',
        redirect_uris: 'https://device.example/cb',
        scope: 'openid',
      });
      const client = (await g.context.store.clients.get('device-app'))!;
      await g.context.store.clients.upsert({
        ...client,
        grantTypes: [...client.grantTypes, 'urn:ietf:params:oauth:grant-type:device_code'],
      });
      const edit = await agent.navigate(`${g.url}/console/clients/device-app`);
      const saved = await post(agent, edit, '/console/clients/device-app', {
        client_name: 'Device app',
        redirect_uris: 'https://device.example/cb',
        grant_authorization_code: '1',
        scope: 'openid',
      });
      assert.equal(saved.status, 200, saved.body.slice(0, 200));
      assert.deepEqual((await g.context.store.clients.get('device-app'))?.grantTypes, [
        'authorization_code',
        'urn:ietf:params:oauth:grant-type:device_code',
      ]);
    });

    it('resources: create, edit, delete after a confirmation page', async (t) => {
      const g = server(t);
      if (!g) return;
      const form = await agent.navigate(`${g.url}/console/resources/new`);
      const created = await post(agent, form, '/console/resources', {
        resource: 'https://api.example/notes',
        name: 'Notes',
        scopes: 'notes:read notes:write',
        introspection_client_ids: '',
      });
      assert.equal(created.status, 200, text(created.body));
      assert.deepEqual((await g.context.store.resources.get('https://api.example/notes'))?.scopes, [
        'notes:read',
        'notes:write',
      ]);
      const taken = await post(agent, form, '/console/resources', {
        resource: 'https://api.example/notes',
        scopes: '',
      });
      assert.equal(taken.status, 400);
      const self = `/console/resources/${encodeURIComponent('https://api.example/notes')}`;
      const saved = await post(agent, created, self, {
        name: 'Notes API',
        scopes: 'notes:read',
        introspection_client_ids: 'web-app',
      });
      assert.equal(saved.status, 200);
      const stored = await g.context.store.resources.get('https://api.example/notes');
      assert.equal(stored?.name, 'Notes API');
      assert.deepEqual(stored?.introspectionClientIds, ['web-app']);
      const confirm = await agent.navigate(`${g.url}${self}/delete`);
      assert.equal(confirm.status, 200);
      await post(agent, confirm, `${self}/delete`);
      assert.equal(await g.context.store.resources.get('https://api.example/notes'), undefined);
    });

    it('keys: rotate, then retire the new key; retiring the last active key is refused with the reason', async (t) => {
      const g = server(t);
      if (!g) return;
      const page = await agent.navigate(`${g.url}/console/keys`);
      const before = await g.context.store.signingKeys.list();
      const rotated = await post(agent, page, '/console/keys', { alg: g.context.settings.signingAlg });
      assert.match(rotated.body, /A new key was created\./);
      const after = await g.context.store.signingKeys.list();
      assert.equal(after.length, before.length + 1);
      const added = after.find((key) => !before.some((old) => old.kid === key.kid))!;
      const retired = await post(agent, rotated, `/console/keys/${added.kid}/retire`);
      assert.match(retired.body, /The key was retired\./);
      assert.notEqual((await g.context.store.signingKeys.get(added.kid))?.retiredAt, null);
      const active = (await g.context.store.signingKeys.list()).filter(
        (key) => key.retiredAt === null && key.alg === g.context.settings.signingAlg,
      );
      assert.equal(active.length, 1);
      const refused = await post(agent, retired, `/console/keys/${active[0]!.kid}/retire`);
      assert.equal(refused.status, 409);
      assert.match(text(refused.body), /The change was refused/);
    });

    it('sessions and grants: revoking a session ends it; revoking a grant revokes it', async (t) => {
      const g = server(t);
      if (!g) return;
      // Bob signs in somewhere (his console visit is refused, but his single sign-on session exists).
      await signInToConsole(g, BOB);
      const bob = (await g.context.store.users.getByUsername(BOB.username))!;
      const [session] = await g.context.store.sessions.list({ userId: bob.id }, g.context.now());
      assert.ok(session);
      const page = await agent.navigate(`${g.url}/console/sessions`);
      assert.match(page.body, new RegExp(`Revoke the session of bob \\(${session.sid}\\)`));
      const done = await post(agent, page, `/console/sessions/${session.sid}/revoke`);
      assert.match(done.body, /Revoked\./);
      assert.equal(await g.context.store.sessions.getBySid(session.sid, g.context.now()), undefined);
      assert.equal((await lastEvent(g, 'session.revoked'))?.details['source'], 'console');

      const [grant] = await g.context.store.grants.list({ userId: bob.id, revoked: false });
      assert.ok(grant, "bob's grant of the console client");
      await post(agent, done, `/console/grants/${grant.id}/revoke`);
      assert.notEqual((await g.context.store.grants.get(grant.id))?.revokedAt, null);
    });

    it('the audit log filters by type, client, user and time; the dashboard lists recent failures', async (t) => {
      const g = server(t);
      if (!g) return;
      // A failed sign-in: a recent failure.
      const stranger = new UserAgent(g.url);
      const login = await stranger.navigate(`${g.url}/console`);
      assert.ok(isLoginPage(login));
      await stranger.submit(login, { username: 'bob', password: 'wrong password!' });
      await g.audit.flush();
      const overview = await agent.navigate(`${g.url}/console`);
      assert.match(text(overview.body), /login\.failed/, text(overview.body));
      const byType = await agent.navigate(`${g.url}/console/audit?type=client.created`);
      assert.match(byType.body, /<code class="nowrap">client\.created<\/code>/);
      assert.doesNotMatch(byType.body, /<code class="nowrap">login\.failed<\/code>/);
      const byUser = await agent.navigate(`${g.url}/console/audit?user=bob&type=login.failed`);
      assert.match(byUser.body, /<code class="nowrap">login\.failed<\/code>/);
      const byClient = await agent.navigate(`${g.url}/console/audit?client_id=no-such-client`);
      assert.match(byClient.body, /Nothing to show\./);
      const future = await agent.navigate(`${g.url}/console/audit?since=2999-01-01T00:00`);
      assert.match(future.body, /Nothing to show\./);
      const bad = await agent.navigate(`${g.url}/console/audit?since=yesterday`);
      assert.equal(bad.status, 400);
      assert.match(text(bad.body), /since must be an RFC 3339 date-time/);
    });
  });
}
