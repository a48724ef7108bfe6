/**
 * docs/guides/web-app.md, run: the Express app of examples/guides/web-app/express-app.ts signs a
 * user in through Gatehouse with openid-client, and the Auth.js configuration of
 * examples/guides/web-app/auth.ts does it through @auth/core driven with Request objects, both
 * with the clients of examples/guides/web-app/gatehouse.yaml (OpenID Connect Core §3.1, RFC 7636).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Auth } from '@auth/core';
import { gatehouseAuthConfig } from '../../examples/guides/web-app/auth.js';
import { createWebApp } from '../../examples/guides/web-app/express-app.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { RunningGatehouse } from '../../src/server.js';
import { REPO_ROOT } from '../helpers/docs.js';
import { ALICE, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

let gatehouse: RunningGatehouse;
let clients: Map<string, { client_secret?: string }>;
before(async () => {
  const config = await loadConfigFile(`${REPO_ROOT}/examples/guides/web-app/gatehouse.yaml`);
  clients = new Map((config.clients ?? []).map((client) => [client.client_id, client]));
  gatehouse = await startTestServer({ clients: config.clients ?? [], users: [ALICE] });
});
after(async () => {
  await gatehouse.close();
});

describe('docs/guides/web-app.md', () => {
  test('OpenID Connect Core §3.1: the Express app with openid-client signs Alice in and reads UserInfo', async () => {
    // The app listens first, so that its base URL has its port (RFC 8252 §7.3 lets a loopback
    // redirect URI's port differ from the registered one).
    const listening = createServer();
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
    try {
      const appOrigin = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
      const app = await createWebApp({
        issuer: gatehouse.url,
        clientId: 'my-web-app',
        clientSecret: clients.get('my-web-app')!.client_secret!,
        baseUrl: appOrigin,
      });
      listening.on('request', app);
      const browser = new UserAgent(appOrigin);
      assert.match((await browser.request('/')).body, /Sign in/);
      const login = await browser.request('/login');
      assert.equal(login.status, 302);
      assert.ok(login.location!.startsWith(`${gatehouse.url}/authorize?`));
      const atGatehouse = new UserAgent(gatehouse.url);
      const back = new URL((await atGatehouse.authorize(login.location!, ALICE)).location!);
      assert.equal(back.origin + back.pathname, `${appOrigin}/callback`);
      const callback = await browser.request(`${back.pathname}${back.search}`);
      assert.equal(callback.status, 302, callback.body);
      assert.equal((await browser.request('/')).body, `Signed in as ${ALICE.name}`);
    } finally {
      listening.closeAllConnections();
      await new Promise((resolve) => listening.close(resolve));
    }
  });

  test('OpenID Connect Core §3.1: Auth.js (@auth/core) with the Gatehouse provider signs Alice in', async () => {
    const config = gatehouseAuthConfig({
      issuer: gatehouse.url,
      clientId: 'my-next-app',
      clientSecret: clients.get('my-next-app')!.client_secret!,
      secret: 'an-auth-js-secret-for-this-test-only-0123456789',
    });
    const origin = 'http://127.0.0.1:3000';
    const jar = new Map<string, string>();
    const auth = async (path: string, init: RequestInit = {}) => {
      const headers = new Headers(init.headers);
      headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
      const response = await Auth(new Request(`${origin}${path}`, { ...init, headers }), config);
      for (const cookie of response.headers.getSetCookie()) {
        const [pair] = cookie.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
      return response;
    };
    const { csrfToken } = (await (await auth('/api/auth/csrf')).json()) as { csrfToken: string };
    const signIn = await auth('/api/auth/signin/gatehouse', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrfToken, callbackUrl: `${origin}/` }),
    });
    assert.equal(signIn.status, 302);
    const authorize = signIn.headers.get('location')!;
    assert.ok(authorize.startsWith(`${gatehouse.url}/authorize?`), authorize);
    assert.equal(new URL(authorize).searchParams.get('code_challenge_method'), 'S256');
    const back = new URL((await new UserAgent(gatehouse.url).authorize(authorize, ALICE)).location!);
    assert.equal(back.pathname, '/api/auth/callback/gatehouse');
    const callback = await auth(`${back.pathname}${back.search}`);
    assert.equal(callback.status, 302);
    assert.equal(callback.headers.get('location'), `${origin}/`);
    const session = (await (await auth('/api/auth/session')).json()) as { user?: { name?: string; email?: string } };
    assert.equal(session.user?.name, ALICE.name);
    assert.equal(session.user?.email, ALICE.email);
  });
});
