/**
 * The account page of a Gatehouse embedded with the app's own user table (src/embed.ts): under
 * the issuer's path (`/auth/account`), its password form calls the app's `changePassword` when
 * the app gives one, and is replaced by a note when it does not (the passwords live in the app).
 *
 * Run: node scripts/run-tests.mjs test/account/account-embedded
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createGatehouse, type ExternalUser, type ExternalUsers, type Gatehouse } from '../../src/index.js';
import { freePort } from '../helpers/installed-server.js';
import { TEST_SECRET } from '../helpers/server.js';
import { decodeEntities, hiddenInput, isLoginPage, UserAgent } from '../helpers/user-agent.js';

const BOB: ExternalUser = { id: 'app-user-7', username: 'bob', name: 'Bob Builder' };

async function embedded(users: ExternalUsers, fn: (origin: string) => Promise<void>): Promise<void> {
  const port = await freePort();
  const gatehouse: Gatehouse = await createGatehouse({
    config: { issuer: `http://127.0.0.1:${port}/auth`, database: 'sqlite::memory:', clients: [], users: [] },
    secret: TEST_SECRET,
    users,
  });
  const server: Server = createServer(gatehouse.handler);
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  try {
    await fn(`http://127.0.0.1:${port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await gatehouse.close();
  }
}

function appUsers(passwords: Map<string, string>, withChange: boolean): ExternalUsers {
  return {
    findByUsername: (username) => (username === BOB.username ? BOB : undefined),
    findById: (id) => (id === BOB.id ? BOB : undefined),
    verifyPassword: (user, password) => passwords.get(user.id) === password,
    ...(withChange
      ? { changePassword: (user: ExternalUser, password: string) => void passwords.set(user.id, password) }
      : {}),
  };
}

describe("the account page of an embedded Gatehouse with the app's own users", () => {
  it("is served under the issuer's path, and the password form changes the password through the app's changePassword", async () => {
    const passwords = new Map([[BOB.id, 'bobs own password']]);
    await embedded(appUsers(passwords, true), async (origin) => {
      const ua = new UserAgent(origin);
      const login = await ua.navigate('/auth/account');
      assert.ok(isLoginPage(login));
      assert.match(login.body, /action="\/auth\/account\/login"/);
      const page = await ua.submit(login, { username: 'bob', password: 'bobs own password' });
      assert.match(page.body, /Bob Builder/);
      const action = /<form method="post" action="([^"]+\/password)"/.exec(page.body)?.[1];
      assert.equal(action, '/auth/account/password');
      const changed = await ua.request(decodeEntities(action!), {
        form: {
          csrf_token: hiddenInput(page.body, 'csrf_token')!,
          current_password: 'bobs own password',
          new_password: 'a new app password',
          confirm_password: 'a new app password',
        },
      });
      assert.equal(changed.status, 303);
      assert.equal(changed.location, '/auth/account?done=password-changed');
      assert.equal(passwords.get(BOB.id), 'a new app password');
    });
  });

  it("without the app's changePassword, the page offers no password form and says where the password is managed", async () => {
    await embedded(appUsers(new Map([[BOB.id, 'bobs own password']]), false), async (origin) => {
      const ua = new UserAgent(origin);
      const page = await ua.submit(await ua.navigate('/auth/account'), {
        username: 'bob',
        password: 'bobs own password',
      });
      assert.match(page.body, /Your password is managed by the application/);
      assert.doesNotMatch(page.body, /name="current_password"/);
    });
  });
});
