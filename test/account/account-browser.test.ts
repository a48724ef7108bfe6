/**
 * The account page in Chromium (playwright-core): a person signs in to an application with
 * openid-client as its back end, opens `/account`, sees the application and removes its access;
 * the application's refresh token then fails (RFC 7009 §2.1, RFC 6749 §10.4). The page is
 * checked with axe-core (no serious or critical violation) and for CSP violations, at desktop
 * and mobile width; screenshots go to test-output/screenshots/account-*.png.
 *
 * Run: node scripts/run-tests.mjs test/account/account-browser
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.js';
import { assertNoSeriousAxeViolations } from '../helpers/accessibility.js';
import { launchChromium, openBrowserSession } from '../helpers/browser.js';
import { assertOAuthError, authorizationRequest, discoverAs } from '../helpers/interop-client.js';
import { ALICE, CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const DESKTOP = { width: 1280, height: 900 };
const MOBILE = { width: 390, height: 844 };

describe('the account page in Chromium', () => {
  let gatehouse: RunningGatehouse;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [gatehouse, browser] = await Promise.all([
      startTestServer({ clients: [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT] }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  it('RFC 7009 §2.1: a person removes an application on /account and its refresh token then fails; axe and CSP clean at desktop and mobile width', async () => {
    const session = await openBrowserSession(browser);
    try {
      const { page } = session;
      const config = await discoverAs(gatehouse, CONFIDENTIAL_CLIENT);
      const request = await authorizationRequest(
        config,
        CONFIDENTIAL_CLIENT.redirect_uris[0]!,
        'openid profile offline_access',
      );
      await page.goto(request.url.href);
      await page.getByLabel('Username').fill(ALICE.username);
      await page.getByLabel('Password').fill(ALICE.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL(`${CONFIDENTIAL_CLIENT.redirect_uris[0]}**`);
      const tokens = await client.authorizationCodeGrant(config, new URL(page.url()), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      assert.ok(tokens.refresh_token);

      await page.goto(`${gatehouse.url}/account`);
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
      const apps = page.getByRole('list', { name: 'Applications with access' });
      assert.match(await apps.innerText(), /Example Web App/);
      for (const [name, viewport] of [
        ['desktop', DESKTOP],
        ['mobile', MOBILE],
      ] as const) {
        await page.setViewportSize(viewport);
        await assertNoSeriousAxeViolations(page, `the account page (${name})`);
        // Nothing wider than the viewport: no sideways scrolling at 390 px.
        assert.ok(
          await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
          `the account page scrolls sideways at ${viewport.width} px`,
        );
        await page.screenshot({ path: join(SCREENSHOTS, `account-${name}.png`), fullPage: true });
      }

      // Keyboard: the removal button is reachable and works with Enter.
      const remove = page.getByRole('button', { name: 'Remove access for Example Web App' });
      await remove.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('status').filter({ hasText: 'Access removed' }).waitFor();
      assert.equal(await page.getByRole('list', { name: 'Applications with access' }).count(), 0);
      await page.setViewportSize(DESKTOP);
      await assertNoSeriousAxeViolations(page, 'the account page after removing access');
      await page.screenshot({ path: join(SCREENSHOTS, 'account-removed.png'), fullPage: true });

      await assertOAuthError(client.refreshTokenGrant(config, tokens.refresh_token!), 400, 'invalid_grant');
      assert.deepEqual(session.cspReports, [], 'no Content-Security-Policy violation');
    } finally {
      await session.close();
    }
  });

  it('the sign-in form of /account is axe-clean, and the password form marks a wrong current password', async () => {
    const session = await openBrowserSession(browser);
    try {
      const { page } = session;
      await page.goto(`${gatehouse.url}/account`);
      await assertNoSeriousAxeViolations(page, 'the account sign-in page');
      await page.getByLabel('Username').fill(ALICE.username);
      await page.getByLabel('Password').fill(ALICE.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Your account' }).waitFor();
      await page.getByLabel('Current password').fill('not my password');
      await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
      await page.getByLabel('New password again').fill('a brand new passphrase');
      await page.getByRole('button', { name: 'Change password' }).click();
      await page.getByRole('alert').filter({ hasText: 'The current password is not correct.' }).waitFor();
      assert.equal(await page.getByLabel('Current password').getAttribute('aria-invalid'), 'true');
      await page.setViewportSize(MOBILE);
      await assertNoSeriousAxeViolations(page, 'the account page with a password error');
      await page.screenshot({ path: join(SCREENSHOTS, 'account-password-error-mobile.png'), fullPage: true });
      assert.deepEqual(session.cspReports, [], 'no Content-Security-Policy violation');
    } finally {
      await session.close();
    }
  });
});
