/**
 * The console of a Gatehouse embedded in an app under the issuer's path (src/embed.ts): its
 * pages, redirect URI, forms and the in-process token request all live below `/auth`, and an
 * administrator signs in and makes a change through the app's own HTTP server.
 *
 * Run: node scripts/run-tests.mjs test/console/console-embedded
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createGatehouse } from '../../src/index.js';
import { freePort } from '../helpers/installed-server.js';
import { ALICE, TEST_SECRET } from '../helpers/server.js';
import { UserAgent, isLoginPage } from '../helpers/user-agent.js';
import { csrfOf, headingOf } from './console-harness.js';

describe('the console of an embedded Gatehouse', () => {
  it("is served under the issuer's path: sign-in, callback, pages and forms below /auth", async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}/auth`;
    const gatehouse = await createGatehouse({
      config: { issuer, database: 'sqlite::memory:', clients: [], users: [ALICE] },
      secret: TEST_SECRET,
    });
    const alice = await gatehouse.store.users.getByUsername(ALICE.username);
    await gatehouse.store.users.upsert({ ...alice!, admin: true });
    const server: Server = createServer(gatehouse.handler);
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    try {
      const ua = new UserAgent(`http://127.0.0.1:${port}`);
      const start = await ua.request('/auth/console/users');
      assert.equal(start.status, 303);
      const authorize = new URL(start.location!, issuer);
      assert.equal(authorize.pathname, '/auth/authorize');
      assert.equal(authorize.searchParams.get('redirect_uri'), `${issuer}/console/callback`);
      const login = await ua.navigate(authorize.href);
      assert.ok(isLoginPage(login));
      const users = await ua.submit(login, { username: ALICE.username, password: ALICE.password });
      assert.equal(users.url, `http://127.0.0.1:${port}/auth/console/users`);
      assert.equal(headingOf(users), 'Users');
      assert.match(users.body, /href="\/auth\/console\/keys"/);
      const created = await ua.request('/auth/console/users', {
        form: { csrf_token: csrfOf(users), username: 'dora', password: 'dora has a long password' },
      });
      assert.equal(created.status, 303);
      assert.match(created.location!, /^\/auth\/console\/users\/[\w-]+\?done=created$/);
      assert.ok(await gatehouse.store.users.getByUsername('dora'));
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
      await gatehouse.close();
    }
  });
});
