/**
 * The web console in Chromium (playwright-core): an administrator signs in through Gatehouse's
 * own code flow, creates a client and then uses it (openid-client as its back end: authorization
 * code with PKCE, a real token), rotates a signing key and revokes another user's session, by
 * mouse and by keyboard. Every console page is checked with axe-core (no serious or critical
 * violation), for CSP violations, and for sideways scrolling at 390 px; screenshots at desktop
 * (1280x800) and mobile (390x844) width go to test-output/screenshots/console-*.png.
 *
 * Run: node scripts/run-tests.mjs test/console/console-browser
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.js';
import { assertNoSeriousAxeViolations } from '../helpers/accessibility.js';
import { CLIENT_ORIGIN, launchChromium, openBrowserSession } from '../helpers/browser.js';
import { authorizationRequest, discoverAs } from '../helpers/interop-client.js';
import { ALICE, BOB, startConsoleServer } from './console-harness.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const DESKTOP = { width: 1280, height: 800 };
const MOBILE = { width: 390, height: 844 };

/** axe, the CSP and no sideways scrolling at both widths, with a screenshot of each. */
async function checkPage(page: Page, name: string): Promise<void> {
  for (const [width, viewport] of [
    ['desktop', DESKTOP],
    ['mobile', MOBILE],
  ] as const) {
    await page.setViewportSize(viewport);
    await assertNoSeriousAxeViolations(page, `the console's ${name} page (${width})`);
    assert.ok(
      await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
      `the console's ${name} page scrolls sideways at ${viewport.width} px`,
    );
    await page.screenshot({ path: join(SCREENSHOTS, `console-${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}

async function signIn(page: Page, user: { username: string; password: string }): Promise<void> {
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the web console in Chromium', () => {
  let gatehouse: RunningGatehouse;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [gatehouse, browser] = await Promise.all([startConsoleServer('sqlite::memory:'), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  it('an administrator signs in, creates a client that then completes a code flow, rotates a signing key and revokes a session; every page axe-clean at desktop and mobile width', async () => {
    // Bob is signed in somewhere: the session to revoke.
    const bobs = await openBrowserSession(browser);
    const session = await openBrowserSession(browser);
    try {
      await bobs.page.goto(`${gatehouse.url}/account`);
      await signIn(bobs.page, BOB);
      await bobs.page.getByRole('heading', { name: 'Your account' }).waitFor();

      const { page } = session;
      await page.goto(`${gatehouse.url}/console`);
      await signIn(page, ALICE);
      // No consent page: the console is a first-party client.
      await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
      assert.equal(page.url(), `${gatehouse.url}/console`);
      await checkPage(page, 'dashboard');

      // Create a client (by the form's labels), and read its secret, shown once.
      await page.getByRole('navigation', { name: 'Console sections' }).getByRole('link', { name: 'Clients' }).click();
      await page.getByRole('link', { name: 'New client' }).click();
      await checkPage(page, 'client-new');
      await page.getByLabel('Client ID').fill('chromium-app');
      await page.getByLabel('Name').fill('Chromium App');
      await page.getByLabel('Redirect URIs').fill(`${CLIENT_ORIGIN}/callback`);
      await page.getByLabel('Scopes').fill('openid profile');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { name: 'Client created' }).waitFor();
      const secret = (await page.locator('#client-secret').textContent())?.trim() ?? '';
      await checkPage(page, 'client-secret');

      // The new client in a real code flow, with openid-client as its back end.
      const config = await discoverAs(gatehouse, {
        client_id: 'chromium-app',
        client_secret: secret,
        redirect_uris: [`${CLIENT_ORIGIN}/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'openid profile',
        require_pkce: true,
      });
      const request = await authorizationRequest(config, `${CLIENT_ORIGIN}/callback`, 'openid profile');
      const flow = await openBrowserSession(browser);
      try {
        await flow.page.goto(request.url.href);
        await signIn(flow.page, ALICE);
        await flow.page.getByRole('button', { name: 'Allow' }).click();
        await flow.page.waitForURL(`${CLIENT_ORIGIN}/callback**`);
        const tokens = await client.authorizationCodeGrant(config, new URL(flow.page.url()), {
          pkceCodeVerifier: request.verifier,
          expectedState: request.state,
          expectedNonce: request.nonce,
        });
        assert.ok(tokens.access_token);
        assert.equal(tokens.claims()?.['aud'], 'chromium-app');
      } finally {
        await flow.close();
      }

      await page.getByRole('link', { name: 'I have stored the secret' }).click();
      await page.getByRole('heading', { name: 'Client chromium-app' }).waitFor();
      await checkPage(page, 'client-edit');
      await page.getByRole('link', { name: 'Delete this client' }).click();
      await page.getByRole('heading', { name: 'Delete Chromium App?' }).waitFor();
      await checkPage(page, 'client-delete');
      await page.getByRole('link', { name: 'Cancel' }).click();
      await page.goto(`${gatehouse.url}/console/clients`);
      await checkPage(page, 'clients');

      // Rotate a signing key.
      const before = (await gatehouse.context.store.signingKeys.list()).length;
      await page.getByRole('link', { name: 'Signing keys' }).click();
      await page.getByRole('button', { name: `Rotate ${gatehouse.context.settings.signingAlg} key` }).click();
      await page.getByRole('status').filter({ hasText: 'A new key was created.' }).waitFor();
      assert.equal((await gatehouse.context.store.signingKeys.list()).length, before + 1);
      await checkPage(page, 'keys');

      // Revoke Bob's session, by keyboard: the button is focusable and works with Enter.
      const bob = (await gatehouse.context.store.users.getByUsername(BOB.username))!;
      const [bobSession] = await gatehouse.context.store.sessions.list({ userId: bob.id }, Date.now());
      assert.ok(bobSession);
      await page.getByRole('link', { name: 'Sessions and grants' }).click();
      await checkPage(page, 'sessions');
      const revoke = page.getByRole('button', { name: `Revoke the session of bob (${bobSession.sid})` });
      await revoke.focus();
      assert.ok(await revoke.evaluate((element) => element.matches(':focus-visible')), 'keyboard focus is visible');
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'Revoked.' }).waitFor();
      assert.equal(await gatehouse.context.store.sessions.getBySid(bobSession.sid, Date.now()), undefined);

      // The other pages.
      const alice = (await gatehouse.context.store.users.getByUsername(ALICE.username))!;
      for (const [name, path] of [
        ['users', '/console/users'],
        ['user-new', '/console/users/new'],
        ['user', `/console/users/${alice.id}`],
        ['resources', '/console/resources'],
        ['resource-new', '/console/resources/new'],
        ['audit', '/console/audit?type=client.created,key.rotated,session.revoked'],
      ] as const) {
        await page.goto(`${gatehouse.url}${path}`);
        await checkPage(page, name);
      }
      assert.match((await page.locator('table').textContent()) ?? '', /session\.revoked/);
      assert.deepEqual(session.cspReports, [], 'no Content-Security-Policy violation');
    } finally {
      await session.close();
      await bobs.close();
    }
  });

  it('a user without the admin role sees the 403 page, axe-clean', async () => {
    const session = await openBrowserSession(browser);
    try {
      const { page } = session;
      const response = page.waitForResponse((answer) => answer.url().includes('/console/callback'));
      await page.goto(`${gatehouse.url}/console`);
      await signIn(page, BOB);
      assert.equal((await response).status(), 403);
      await page.getByRole('heading', { name: 'Not an administrator' }).waitFor();
      await checkPage(page, 'forbidden');
      assert.deepEqual(session.cspReports, [], 'no Content-Security-Policy violation');
    } finally {
      await session.close();
    }
  });
});
