/**
 * A walk through every page a person sees, in Chromium, each page checked by checkPage (axe-core,
 * CSP, screenshot `<prefix>-<page>.png`): the error page of a refused authorization request, the
 * login page (and with a failed sign-in), consent, the redirect back, the device verification
 * pages (code, confirmation, done), the logout confirmation, the signed-out page and the home
 * page. `acceptLanguage` is the browser's Accept-Language; `expect` gives each page's heading.
 */
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { ClientFixture, UserFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { openBrowserSession, type BrowserSession } from './browser.js';
import { startDeviceFlow } from './device-flow.js';
import { authorizeUrl, checkPage } from './page-checks.js';

export interface TourExpectations {
  lang: string;
  loginHeading: string;
  loginFailed: string;
  consentHeading: string;
  deviceHeading: string;
  deviceDone: string;
  logoutHeading: string;
  signedOutHeading: string;
  homeHeading: string;
  signIn: string;
  allow: string;
}

/** h1's text, whitespace collapsed. */
async function heading(s: BrowserSession): Promise<string> {
  return ((await s.page.locator('h1').textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

export async function pageTour(
  browser: Browser,
  gatehouse: RunningGatehouse,
  options: {
    prefix: string;
    acceptLanguage: string;
    client: ClientFixture;
    user: UserFixture;
    scope: string;
    expect: TourExpectations;
    /** Extra authorization request parameters (ui_locales, resource). */
    extra?: Record<string, string>;
    /** Run on the consent page before allowing (e.g. to read the scope descriptions). */
    onConsent?: (s: BrowserSession) => Promise<void>;
  },
): Promise<void> {
  const { prefix, expect } = options;
  const s = await openBrowserSession(browser);
  try {
    await s.context.setExtraHTTPHeaders({ 'accept-language': options.acceptLanguage });
    const client = {
      client_id: options.client.client_id,
      redirect_uri: options.client.redirect_uris![0]!,
      scope: options.scope,
    };

    // An unknown client: refused on Gatehouse's error page, never redirected (RFC 6749 §4.1.2.1).
    const refused = await s.page.goto(authorizeUrl(gatehouse.url, { ...client, client_id: 'no-such-client' }).href);
    assert.equal(refused?.status(), 400);
    await checkPage(s, `${prefix}-error`, expect.lang);

    await s.page.goto(authorizeUrl(gatehouse.url, client, options.extra).href);
    assert.equal(await heading(s), expect.loginHeading);
    await checkPage(s, `${prefix}-login`, expect.lang);

    await s.page.locator('input[name="username"]').fill(options.user.username);
    await s.page.locator('input[name="password"]').fill('not the password');
    await s.page.getByRole('button', { name: expect.signIn }).click();
    await s.page.locator('[role="alert"]').waitFor();
    assert.equal((await s.page.locator('[role="alert"]').textContent())?.trim(), expect.loginFailed);
    assert.equal(await s.page.inputValue('input[name="username"]'), options.user.username);
    await checkPage(s, `${prefix}-login-failed`, expect.lang);

    await s.page.locator('input[name="password"]').fill(options.user.password);
    await s.page.getByRole('button', { name: expect.signIn }).click();
    await s.page.locator('button[name="decision"][value="allow"]').waitFor();
    assert.equal(await heading(s), expect.consentHeading);
    await checkPage(s, `${prefix}-consent`, expect.lang);
    await options.onConsent?.(s);

    const redirect = new URL(client.redirect_uri);
    await s.page.getByRole('button', { name: expect.allow, exact: true }).click();
    await s.page.waitForURL((url) => url.origin === redirect.origin && url.pathname === redirect.pathname);
    const code = s.clientRequests.at(-1)?.url.searchParams.get('code');
    assert.ok(code, 'the client received a code');

    // RFC 8628 §3.3: signed in already, the verification page asks for the code (pre-filled).
    const flow = await startDeviceFlow(gatehouse, { scope: 'openid profile' });
    await s.page.goto(flow.verification_uri_complete);
    await s.page.locator('input[name="user_code"]').waitFor();
    assert.equal(await heading(s), expect.deviceHeading);
    await checkPage(s, `${prefix}-device-code`, expect.lang);
    await s.page.locator('button[type="submit"]').click();
    await s.page.locator('button[name="decision"][value="allow"]').waitFor();
    await checkPage(s, `${prefix}-device-confirm`, expect.lang);
    await s.page.locator('button[name="decision"][value="allow"]').click();
    await s.page.waitForFunction(() => document.querySelector('button') === null);
    assert.equal(await heading(s), expect.deviceDone);
    await checkPage(s, `${prefix}-device-done`, expect.lang);

    // RP-Initiated Logout 1.0 §2: without an id_token_hint the End-User confirms.
    await s.page.goto(new URL('logout', `${gatehouse.url}/`).href);
    assert.equal(await heading(s), expect.logoutHeading);
    await checkPage(s, `${prefix}-logout`, expect.lang);
    await s.page.locator('form button[type="submit"]').click();
    await s.page.waitForFunction(() => document.querySelector('form') === null);
    assert.equal(await heading(s), expect.signedOutHeading);
    await checkPage(s, `${prefix}-signed-out`, expect.lang);

    await s.page.goto(`${gatehouse.url}/`);
    assert.equal(await heading(s), expect.homeHeading);
    await checkPage(s, `${prefix}-home`, expect.lang);
  } finally {
    await s.close();
  }
}
