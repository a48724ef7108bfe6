/**
 * The login and consent pages in a real browser: Debian's Chromium driven by playwright-core,
 * against a running Gatehouse, with openid-client as the relying party. The client's origin
 * (http://127.0.0.1:9000) is intercepted (see ../helpers/browser.ts), so the tests see exactly
 * what the browser delivers to the client: the redirect URL, or the form_post body.
 *
 * These tests check what only a browser can: the documented form contract works when a person
 * fills it in, redirects and the form_post auto-submit really happen under the pages' strict
 * Content-Security-Policy (no violation is reported), and the pages refuse to be framed.
 *
 * Full-page screenshots of the login page (with and without the error) and the consent page are
 * saved to test-output/screenshots/ for review.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from 'openid-client';
import type { Browser, Page } from 'playwright-core';
import type { ClientFixture, UserFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { describeScope } from '../../src/ui/scopes.js';
import {
  CLIENT_ORIGIN,
  launchChromium,
  openBrowserSession,
  type BrowserSession,
  type BrowserSessionOptions,
  type ClientRequest,
  type CspReport,
} from '../helpers/browser.js';
import { ALICE, CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';
import { authorizationRequest as buildAuthorizationRequest, discoverAs } from '../helpers/interop-client.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
const SCOPES = ['openid', 'profile', 'email'];
const LOGIN_ERROR = 'Incorrect username or password.';
/** One user per flow: consent is remembered per user and client, and each flow must see the consent page. */
const BOB: UserFixture = {
  username: 'bob',
  password: 'bob password that is long enough',
  email: 'bob@example.com',
  name: 'Bob Example',
};
const CAROL: UserFixture = {
  username: 'carol',
  password: 'carol password that is long enough',
  email: 'carol@example.com',
  name: 'Carol Example',
};
const DAVE: UserFixture = {
  username: 'dave',
  password: 'dave password that is long enough',
  email: 'dave@example.com',
  name: 'Dave Example',
};

describe('login and consent pages in Chromium (playwright-core)', () => {
  let gatehouse: RunningGatehouse;
  let browser: Browser;
  let confidential: client.Configuration;
  let spa: client.Configuration;
  /** Every CSP report of every Gatehouse flow in this file (tests 1–4), for "none across the flows". */
  const flowCspReports: CspReport[] = [];
  let flowPagesChecked = 0;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [gatehouse, browser] = await Promise.all([startTestServer({ users: [ALICE, BOB, CAROL, DAVE] }), launchChromium()]);
    [confidential, spa] = await Promise.all([discover(CONFIDENTIAL_CLIENT), discover(PUBLIC_CLIENT)]);
  });
  after(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  function discover(fixture: ClientFixture): Promise<client.Configuration> {
    return discoverAs(gatehouse, fixture);
  }

  /** An authorization request with PKCE S256, state and nonce, built by openid-client. */
  function authorizationRequest(config: client.Configuration, redirectUri: string, extra: Record<string, string> = {}) {
    return buildAuthorizationRequest(config, redirectUri, SCOPES.join(' '), extra);
  }

  /** A fresh context; its CSP reports go to `flowCspReports` unless `options` says otherwise. */
  async function session(
    t: TestContext,
    options: BrowserSessionOptions = { cspSink: flowCspReports },
  ): Promise<BrowserSession> {
    const opened = await openBrowserSession(browser, options);
    t.after(() => opened.close());
    return opened;
  }

  function issuer(): string {
    return confidential.serverMetadata().issuer;
  }

  /** Opens the authorization URL and checks that the browser shows Gatehouse's login page. */
  async function openLoginPage(page: Page, url: URL, clientName: string): Promise<void> {
    const response = await page.goto(url.href);
    assert.ok(response, 'the browser got a response');
    assert.equal(response.status(), 200);
    assert.equal(new URL(page.url()).origin, new URL(gatehouse.url).origin, 'the login page is served by Gatehouse');
    const headers = response.headers();
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(headers['x-frame-options'], 'DENY');
    await assertLoginPage(page, clientName);
    flowPagesChecked++;
  }

  async function assertLoginPage(page: Page, clientName: string): Promise<void> {
    assert.equal(await page.title(), `Sign in · ${clientName}`);
    assert.equal((await page.locator('h1').textContent())?.trim(), `Sign in to continue to ${clientName}`);
    assert.ok(await page.locator('input[name="username"]').isVisible(), 'the username field is visible');
    assert.ok(
      await page.locator('input[name="password"][type="password"]').isVisible(),
      'the password field is visible',
    );
    assert.equal(await page.locator('input[type="hidden"][name="csrf_token"]').count(), 1);
    assert.ok(await page.getByRole('button', { name: 'Sign in' }).isVisible());
  }

  /** Fills the documented login fields and submits; resolves once the next page is shown. */
  async function signIn(page: Page, username: string, password: string, expect: 'consent' | 'error'): Promise<void> {
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    if (expect === 'consent') await page.locator('button[name="decision"][value="allow"]').waitFor();
    else await page.locator('[role="alert"]').waitFor();
    flowPagesChecked++;
  }

  async function assertConsentPage(page: Page, clientName: string, user: UserFixture): Promise<void> {
    assert.equal(await page.title(), `Allow access · ${clientName}`);
    assert.equal((await page.locator('h1').textContent())?.trim(), `${clientName} wants to access your account`);
    assert.match((await page.locator('.account').textContent()) ?? '', new RegExp(`Signed in as\\s*${user.name}`));
    // The scopes in plain words, one item each, never the raw scope names.
    const items = (await page.locator('ul.scopes li').allTextContents()).map((text) => text.trim());
    assert.deepEqual(items, SCOPES.map(describeScope));
    for (const item of items)
      assert.doesNotMatch(item, /^Use the permission/, 'every requested scope has a plain-language description');
    assert.ok(await page.locator('button[name="decision"][value="allow"]').isVisible());
    assert.ok(await page.locator('button[name="decision"][value="deny"]').isVisible());
    assert.equal(await page.locator('input[type="hidden"][name="csrf_token"]').count(), 1);
  }

  /** Clicks Allow or Deny and waits until the browser is at the client's redirect URI. */
  async function decide(s: BrowserSession, decision: 'allow' | 'deny', redirectUri: string) {
    const target = new URL(redirectUri);
    const before = s.clientRequests.length;
    await s.page.locator(`button[name="decision"][value="${decision}"]`).click();
    await s.page.waitForURL((url) => url.origin === target.origin && url.pathname === target.pathname);
    assert.equal(await s.page.locator('#callback').textContent(), 'Callback received');
    const requests = s.clientRequests.slice(before);
    assert.equal(
      requests.length,
      1,
      `exactly one request reached the client: ${requests.map((r) => `${r.method} ${r.url.href}`).join(', ')}`,
    );
    return requests[0]!;
  }

  /** RFC 6749 §4.1.2 / RFC 9207 §2: the client got a GET at its redirect URI with `state` and `iss` in the query; returns the query. */
  function redirectQuery(callback: ClientRequest, redirectUri: string, state: string): URLSearchParams {
    assert.equal(callback.method, 'GET');
    assert.equal(`${callback.url.origin}${callback.url.pathname}`, redirectUri);
    const params = callback.url.searchParams;
    assert.equal(params.get('state'), state);
    assert.equal(params.get('iss'), issuer());
    return params;
  }

  function assertNoCsp(s: BrowserSession): void {
    assert.deepEqual(s.cspReports, [], `CSP reports:\n${s.cspReports.map((r) => r.text).join('\n')}`);
  }

  it('RFC 6749 §4.1.1–4.1.2, RFC 7636, RFC 9207: a person signs in and allows in Chromium; the client gets code, state and iss, and exchanges the code', async (t) => {
    const s = await session(t);
    const { page } = s;
    const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
    const clientName = CONFIDENTIAL_CLIENT.client_name!;
    const request = await authorizationRequest(confidential, redirectUri);

    await openLoginPage(page, request.url, clientName);
    await page.screenshot({ path: join(SCREENSHOTS, 'login.png'), fullPage: true });

    // A wrong password: the same login page again, with a visible error, still no session.
    await signIn(page, ALICE.username, 'not the password', 'error');
    const alert = page.locator('[role="alert"]');
    assert.ok(await alert.isVisible(), 'the error message is visible');
    assert.equal((await alert.textContent())?.trim(), LOGIN_ERROR);
    await assertLoginPage(page, clientName);
    assert.equal(
      await page.locator('input[name="password"]').inputValue(),
      '',
      'the wrong password is not echoed back',
    );
    assert.equal(s.clientRequests.length, 0, 'nothing was sent to the client');
    await page.screenshot({ path: join(SCREENSHOTS, 'login-error.png'), fullPage: true });

    await signIn(page, ALICE.username, ALICE.password, 'consent');
    await assertConsentPage(page, clientName, ALICE);
    await page.screenshot({ path: join(SCREENSHOTS, 'consent.png'), fullPage: true });

    const callback = await decide(s, 'allow', redirectUri);
    const params = redirectQuery(callback, redirectUri, request.state);
    assert.ok(params.get('code'), 'the redirect carries a code');
    assert.equal(params.get('error'), null);

    const tokens = await client.authorizationCodeGrant(confidential, callback.url, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    assert.ok(tokens.access_token);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.id_token);
    const claims = tokens.claims();
    assert.ok(claims);
    assert.equal(claims.nonce, request.nonce);
    assert.equal(claims.aud, CONFIDENTIAL_CLIENT.client_id);
    assert.deepEqual(new Set(tokens.scope?.split(' ')), new Set(SCOPES));
    assertNoCsp(s);
  });

  it('OAuth 2.0 Form Post Response Mode: Chromium auto-submits code, state and iss to the redirect URI (the inline script passes the CSP)', async (t) => {
    const s = await session(t);
    const { page } = s;
    const redirectUri = PUBLIC_CLIENT.redirect_uris[0]!;
    const clientName = PUBLIC_CLIENT.client_name!;
    const request = await authorizationRequest(spa, redirectUri, { response_mode: 'form_post' });

    await openLoginPage(page, request.url, clientName);
    await signIn(page, BOB.username, BOB.password, 'consent');
    await assertConsentPage(page, clientName, BOB);

    const formPostPage = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/consent'),
    );
    const callback = await decide(s, 'allow', redirectUri);
    // The consent POST was answered by the auto-submitting page (not a redirect), whose CSP
    // allows exactly its script by hash and the client's origin as form action.
    const served = await formPostPage;
    assert.equal(served.status(), 200);
    const csp = served.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.match(csp, new RegExp(`form-action [^;]*${CLIENT_ORIGIN.replace(/[.]/g, '\\.')}`));
    flowPagesChecked++;

    // Nobody clicked anything on that page: the POST happened because the script ran.
    assert.equal(callback.method, 'POST');
    assert.equal(callback.url.href, redirectUri);
    assert.match(callback.contentType ?? '', /^application\/x-www-form-urlencoded/);
    const body = new URLSearchParams(callback.body ?? '');
    assert.ok(body.get('code'), 'the POST body carries a code');
    assert.equal(body.get('state'), request.state);
    assert.equal(body.get('iss'), issuer());
    assert.equal(callback.url.search, '', 'nothing in the query string');

    // openid-client reads a form_post response from the incoming request; a public client
    // authenticates the exchange with its PKCE verifier alone.
    const incoming = new Request(redirectUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: callback.body ?? '',
    });
    const tokens = await client.authorizationCodeGrant(spa, incoming, {
      pkceCodeVerifier: request.verifier,
      expectedState: request.state,
      expectedNonce: request.nonce,
    });
    assert.ok(tokens.access_token);
    assert.equal(tokens.claims()?.aud, PUBLIC_CLIENT.client_id);
    assertNoCsp(s);
  });

  it('RFC 6749 §4.1.2.1: clicking Deny sends the browser to the redirect URI with error=access_denied and the state', async (t) => {
    const s = await session(t);
    const { page } = s;
    const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
    const request = await authorizationRequest(confidential, redirectUri);

    await openLoginPage(page, request.url, CONFIDENTIAL_CLIENT.client_name!);
    await signIn(page, CAROL.username, CAROL.password, 'consent');
    await assertConsentPage(page, CONFIDENTIAL_CLIENT.client_name!, CAROL);

    const params = redirectQuery(await decide(s, 'deny', redirectUri), redirectUri, request.state);
    assert.equal(params.get('error'), 'access_denied');
    assert.equal(params.get('code'), null, 'no code after Deny');
    assertNoCsp(s);
  });

  it('CSP Level 3: no Content Security Policy violation on any page of the flows (login, login error, consent, redirect, form_post)', async (t) => {
    // The detector is not deaf: a page with an inline script under `script-src 'none'` is reported.
    const control = await session(t, {
      clientPages: {
        '/csp-control.html':
          '<!doctype html><meta http-equiv="Content-Security-Policy" content="script-src \'none\'"><script>1</script><p>control</p>',
      },
    });
    const reported = control.page.waitForEvent('console', (m) => /Content Security Policy/.test(m.text()));
    await control.page.goto(`${CLIENT_ORIGIN}/csp-control.html`);
    await reported;
    assert.ok(
      control.cspReports.some((r) => r.source === 'console'),
      'the console message was recorded',
    );
    // The violation event reaches Node through an exposed binding, asynchronously.
    for (let i = 0; i < 50 && !control.cspReports.some((r) => r.source === 'event'); i++)
      await control.page.waitForTimeout(20);
    assert.ok(
      control.cspReports.some((r) => r.source === 'event'),
      `the securitypolicyviolation event was recorded: ${JSON.stringify(control.cspReports)}`,
    );

    // Every kind of Gatehouse page in one flow: login, login with error, consent, form_post.
    const s = await session(t);
    const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
    const request = await authorizationRequest(confidential, redirectUri, { response_mode: 'form_post' });
    await openLoginPage(s.page, request.url, CONFIDENTIAL_CLIENT.client_name!);
    await signIn(s.page, DAVE.username, 'not the password', 'error');
    await signIn(s.page, DAVE.username, DAVE.password, 'consent');
    const callback = await decide(s, 'allow', redirectUri);
    assert.equal(callback.method, 'POST');
    flowPagesChecked++;

    // …and every page of the tests before this one.
    assert.ok(flowPagesChecked >= 4, `pages checked: ${flowPagesChecked}`);
    assert.deepEqual(
      flowCspReports,
      [],
      `Content Security Policy reports across the flows:\n${flowCspReports.map((r) => `${r.source} on ${r.pageUrl}: ${r.text}`).join('\n')}`,
    );
  });

  it('RFC 9700 §4.16 (clickjacking): a page on another origin cannot frame the login page (frame-ancestors / X-Frame-Options)', async (t) => {
    const request = await authorizationRequest(confidential, CONFIDENTIAL_CLIENT.redirect_uris[0]!);
    const framing = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Attacker</title></head><body>
<iframe id="gatehouse" src="${request.url.href.replace(/&/g, '&amp;')}" width="600" height="400"></iframe>
<iframe id="control" src="/control.html" width="600" height="200"></iframe>
</body></html>`;
    const control =
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Control</title></head><body><form><input name="password" type="password"></form></body></html>';
    // Not in flowCspReports: the refusal to frame is itself a (wanted) CSP console message.
    // Local Network Access is granted so that Chromium does not block the frame's request to
    // the loopback Gatehouse before it is even sent (the test then would prove nothing).
    const s = await session(t, {
      clientPages: { '/frame.html': framing, '/control.html': control },
      permissions: ['local-network-access'],
    });
    const { page } = s;

    const loginResponse = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/interaction/'));
    const refusal = page.waitForEvent('console', (m) => /frame-ancestors|X-Frame-Options/.test(m.text()));
    await page.goto(`${CLIENT_ORIGIN}/frame.html`);

    // Gatehouse did serve the login page into the frame, with the anti-framing headers…
    const served = await loginResponse;
    assert.equal(served.status(), 200);
    assert.match(served.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(served.headers()['x-frame-options'], 'DENY');
    // …and Chromium refused to render it.
    const message = await refusal;
    // Chromium 156: "Framing 'http://127.0.0.1:PORT/' violates the following Content Security
    // Policy directive: "frame-ancestors 'none'". The request has been blocked." (older versions
    // said "Refused to frame ..."; X-Frame-Options alone would say "Refused to display ...").
    assert.ok(message.text().includes(new URL(gatehouse.url).origin), message.text());
    assert.match(
      message.text(),
      /(frame-ancestors 'none'|X-Frame-Options)[\s\S]*(blocked|Refused)|Refused to (frame|display)/,
    );

    const frameOf = async (selector: string) => {
      const frame = await (await page.$(selector))?.contentFrame();
      assert.ok(frame, `${selector} has a frame`);
      return frame;
    };
    const gatehouseFrame = await frameOf('#gatehouse');
    const controlFrame = await frameOf('#control');
    // The control frame (same technique, no anti-framing headers) shows its password field;
    // the framed login page shows nothing of Gatehouse's.
    assert.equal(await controlFrame.locator('input[name="password"]').count(), 1);
    assert.notEqual(
      new URL(gatehouseFrame.url()).origin,
      new URL(gatehouse.url).origin,
      `framed document: ${gatehouseFrame.url()}`,
    );
    assert.equal(await gatehouseFrame.locator('input[name="password"]').count(), 0, 'no login form in the frame');
    assert.equal(await gatehouseFrame.locator('input[name="csrf_token"]').count(), 0);
    assert.equal(s.clientRequests.filter((r) => r.url.pathname === '/callback').length, 0);
  });
});
