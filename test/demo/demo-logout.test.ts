/**
 * The demo finishes the story (issue 18 §4), in Debian's Chromium (playwright-core):
 *
 * - the confidential web client shows UserInfo after signing in (OpenID Connect Core §5.3);
 * - signing out at Gatehouse signs the web client out too: Gatehouse POSTs a logout token to the
 *   client's backchannel_logout_uri (Back-Channel Logout 1.0 §2.5), which drops the session;
 * - the client's Sign out button goes through Gatehouse's end_session_endpoint and comes back to
 *   its post_logout_redirect_uri (RP-Initiated Logout 1.0 §2, §3);
 * - the SPA's lead text follows its state after "Forget tokens", and its Sign out button goes
 *   through end_session too (signing the web client out by the back channel);
 * - at a 390 px wide viewport, no button's text wraps.
 *
 * The back-channel endpoint also refuses what §2.6 says to refuse.
 * Screenshots: test-output/screenshots/demo-logout-*.png.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT, generateKeyPair } from 'jose';
import type { Browser, Locator, Page } from 'playwright-core';
import { DEMO_USER, DEMO_WEB_CLIENT_ID } from '../../src/demo/demo-config.js';
import type { RunningDemo } from '../../src/demo/run-demo.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestDemo } from '../helpers/demo.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));

/**
 * After a click on a sign-in button: signs in at Gatehouse's pages (password only when asked)
 * and consents (only when asked), until `done` shows at the client. With a single sign-on
 * session and consent already given, Gatehouse sends the browser straight back.
 */
async function signInAtGatehouse(page: Page, demo: RunningDemo, done: Locator): Promise<void> {
  const atIssuer = page
    .waitForURL((url) => url.origin === demo.urls.issuer)
    .then(() => true)
    .catch(() => false);
  const finished = done
    .waitFor()
    .then(() => false)
    .catch(() => false);
  if (await Promise.race([atIssuer, finished])) {
    if ((await page.locator('input[name=password]').count()) > 0) {
      await page.fill('input[name=username]', DEMO_USER.username);
      await page.fill('input[name=password]', DEMO_USER.password);
      await page.click('button[type=submit]');
    }
    const consent = page.locator('button[name=decision][value=allow]');
    // The loser of each race times out later: caught, so that it is not an unhandled rejection.
    const asked = await Promise.race([
      consent
        .waitFor()
        .then(() => true)
        .catch(() => false),
      done
        .waitFor()
        .then(() => false)
        .catch(() => false),
    ]);
    if (asked) await consent.click();
  }
  await done.waitFor();
}

/** Waits (reloading) until the web client's home page shows this browser signed out: back-channel logout is asynchronous. */
async function webClientSignedOut(page: Page, client: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await page.goto(client);
    if ((await page.locator('h1', { hasText: 'A confidential web client' }).count()) > 0) return;
    assert.ok(Date.now() < deadline, 'the web client is still signed in 15 s after the logout at Gatehouse');
    await page.waitForTimeout(200);
  }
}

/** The texts of the visible `.actions .btn` elements that take more than one line box (or overflow). */
async function wrappedButtons(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.actions .btn'))
      .filter((button) => button.offsetParent !== null)
      .filter((button) => {
        const range = document.createRange();
        range.selectNodeContents(button);
        const lines = new Set(Array.from(range.getClientRects()).map((rect) => Math.round(rect.top)));
        return lines.size !== 1 || button.scrollWidth > button.clientWidth;
      })
      .map((button) => button.textContent ?? ''),
  );
}

describe('gatehouse demo: the story ends with signing out', () => {
  let demo: RunningDemo;
  let browser: Browser;

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [demo, browser] = await Promise.all([startTestDemo(), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('in Chromium: the web client shows UserInfo; signing out at Gatehouse signs it out by back-channel logout (Back-Channel Logout 1.0 §2.5-2.7); its Sign out button goes through end_session and comes back (RP-Initiated Logout 1.0 §3); the SPA lead follows its state; no button wraps at 390 px', {
    timeout: 120_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`[pageerror] ${error.message}`));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) problems.push(`[csp] ${message.text()}`);
    });
    const shot = (name: string) =>
      page.screenshot({ path: join(SCREENSHOTS, `demo-logout-${name}.png`), fullPage: true });
    const { urls } = demo;
    const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();
    const narrow = async (name: string) => {
      await page.setViewportSize({ width: 390, height: 844 });
      assert.deepEqual(await wrappedButtons(page), [], `at 390 px, every button's text is on one line (${name})`);
      const pageWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(pageWidth <= 390, `at 390 px, nothing overflows sideways (${name}: ${pageWidth} px)`);
      await shot(`390-${name}`);
      await page.setViewportSize({ width: 1100, height: 900 });
    };

    try {
      await page.goto(urls.client);
      await narrow('web-home');
      await page.click('#sign-in');
      await signInAtGatehouse(page, demo, page.locator('h1', { hasText: 'Signed in' }));

      // OpenID Connect Core §5.3: UserInfo, fetched by the client's server and shown.
      const userinfo = JSON.parse(await text('#userinfo-json')) as Record<string, unknown>;
      const subject = await text('#subject');
      assert.equal(userinfo['sub'], subject);
      assert.equal(userinfo['name'], DEMO_USER.name);
      assert.equal(userinfo['email'], DEMO_USER.email);
      assert.match(await text('#steps'), /UserInfo/);
      const accessClaims = JSON.parse(await text('#access-token-claims')) as Record<string, unknown>;
      assert.equal(accessClaims['aud'], urls.resource, 'RFC 8707: the shown access token is still for the notes API');
      await shot('01-web-userinfo');
      await narrow('web-signed-in');
      // The API and refresh still work with the token for the notes API.
      await page.click('#call-api');
      assert.match(await text('#api-result'), /200 OK/);

      // Sign out at Gatehouse itself (no id_token_hint: Gatehouse asks to confirm).
      const discovery = (await (await fetch(`${urls.issuer}/.well-known/openid-configuration`)).json()) as Record<
        string,
        string
      >;
      await page.goto(discovery['end_session_endpoint']!);
      await page.locator('h1', { hasText: 'Sign out of Gatehouse?' }).waitFor();
      await page.click('button[type=submit]');
      await page.locator('h1', { hasText: 'You are signed out' }).waitFor();

      // Back-Channel Logout 1.0: the client's server hears of it and drops this browser's tokens.
      await webClientSignedOut(page, urls.client);
      const steps = await text('#steps');
      assert.match(steps, /logout token/);
      assert.match(steps, /Your browser was not involved/);
      await shot('02-web-signed-out-by-back-channel');
      // The demo's inspector draws the delivery in the logout's flow: Gatehouse → Client, back channel.
      const inspector = demo.gatehouse.context.inspector!;
      await inspector.flush();
      let delivery: string | undefined;
      for (const flow of await inspector.recent({ limit: 20 })) {
        const flowPage = await (await fetch(`${urls.issuer}/_gatehouse/flows/${flow.flowId}`)).text();
        if (flowPage.includes('(back-channel logout)')) delivery = flowPage;
      }
      assert.ok(delivery !== undefined, 'a flow shows the back-channel logout delivery');
      assert.match(
        delivery,
        /data-channel="back" data-from="gatehouse" data-to="client" data-kind="request"><span class="channel">back channel<\/span>Gatehouse → Client: POST http:\/\/localhost:\d+\/backchannel-logout \(back-channel logout\)/,
      );
      assert.match(delivery, /Client → Gatehouse: HTTP 200: delivered/);
      assert.match(delivery, /POST \/logout\/confirm/, 'in the flow of the logout');

      // Signing in again needs the password: the single sign-on session is gone.
      await page.click('#sign-in');
      await page.waitForURL((url) => url.origin === urls.issuer);
      await page.locator('input[name=password]').waitFor();
      await signInAtGatehouse(page, demo, page.locator('h1', { hasText: 'Signed in' }));

      // The SPA: its lead text follows its state.
      await page.goto(urls.spa);
      await page.locator('html[data-ready=true]').waitFor();
      const signedOutLead = await text('#spa-lead');
      assert.doesNotMatch(signedOutLead, /ID token says/);
      await narrow('spa-home');
      await page.click('#spa-sign-in');
      await signInAtGatehouse(page, demo, page.locator('#spa-tokens:visible'));
      assert.match(await text('#spa-lead'), /The ID token says who you are/);
      await narrow('spa-signed-in');
      await page.click('#spa-sign-out');
      await page.locator('#spa-signed-out').waitFor({ state: 'visible' });
      assert.equal(await text('#spa-lead'), signedOutLead, 'the lead is back to the signed-out text');
      assert.equal(await page.locator('#spa-lead code').count(), 1, 'with its markup');
      assert.equal(await text('#spa-title'), 'A public client in your browser');
      await shot('03-spa-tokens-forgotten');

      // The SPA's Sign out button: RP-Initiated Logout from the browser, back at /spa/ with the state.
      await page.click('#spa-sign-in');
      await signInAtGatehouse(page, demo, page.locator('#spa-tokens:visible'));
      await page.click('#spa-sign-out-everywhere');
      await page.waitForURL(urls.spa);
      await page.locator('#spa-steps', { hasText: 'end_session_endpoint' }).waitFor();
      assert.equal(await page.locator('#spa-tokens').isVisible(), false);
      assert.match(await text('#spa-steps'), new RegExp(`post_logout_redirect_uri=${urls.spa}`));
      await shot('04-spa-signed-out');
      // The Gatehouse session ended, so the web client (signed in by it) was signed out by the back channel.
      await webClientSignedOut(page, urls.client);

      // The web client's Sign out button: through Gatehouse's end_session_endpoint and back.
      await page.click('#sign-in');
      await signInAtGatehouse(page, demo, page.locator('h1', { hasText: 'Signed in' }));
      await page.click('#sign-out');
      await page.waitForURL(`${urls.client}/`);
      await page.locator('h1', { hasText: 'A confidential web client' }).waitFor();
      const logoutSteps = await text('#steps');
      assert.match(logoutSteps, /end_session_endpoint/);
      assert.match(logoutSteps, new RegExp(`post_logout_redirect_uri=${urls.webPostLogoutRedirectUri}`));
      await shot('05-web-signed-out-by-button');
      // Gatehouse's session ended too: signing in asks for the password again.
      await page.click('#sign-in');
      await page.waitForURL((url) => url.origin === urls.issuer);
      await page.locator('input[name=password]').waitFor();

      assert.deepEqual(problems, [], 'no page errors or CSP violations');
    } catch (error) {
      await shot('failure').catch(() => {});
      if (problems.length > 0) (error as Error).message += `\nbrowser:\n${problems.join('\n')}`;
      throw error;
    } finally {
      await context.close();
    }
  });

  it('Back-Channel Logout 1.0 §2.6, §2.8: the client refuses a missing logout_token and one not signed by the issuer (400 invalid_request)', async () => {
    const post = (body: string) =>
      fetch(demo.urls.webBackchannelLogoutUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    const missing = await post('');
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as Record<string, unknown>)['error'], 'invalid_request');

    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({
      sid: 'some-session',
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'logout+jwt' })
      .setIssuer(demo.urls.issuer)
      .setAudience(DEMO_WEB_CLIENT_ID)
      .setIssuedAt()
      .setJti('forged')
      .setExpirationTime('2m')
      .sign(privateKey);
    const refused = await post(`logout_token=${forged}`);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('cache-control'), 'no-store');
    const body = (await refused.json()) as Record<string, unknown>;
    assert.equal(body['error'], 'invalid_request');
    assert.match(String(body['error_description']), /not valid/);
  });
});
