/**
 * `gatehouse demo` with the flow inspector beside it (docs/inspector.md), in Chromium: a
 * successful sign-in drawn on four lanes (front channel through the browser, back channel
 * server to server, the notes API's reports in the Resource lane), then each classic mistake the
 * demo client makes on purpose, and what the inspector says about it: the failing rule and its
 * spec section. No secret the test can see (the code in the callback URL, the client secret,
 * the password, the refresh token, any JWT) ever appears in an inspector page.
 *
 * Screenshots: test-output/screenshots/inspector-*.png (inspector-flow.png is in docs/inspector.md).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { DEMO_USER, DEMO_WEB_CLIENT_SECRET } from '../../src/demo/demo-config.js';
import type { RunningDemo } from '../../src/demo/run-demo.js';
import { assertNoSeriousAxeViolations } from '../helpers/accessibility.js';
import { launchChromium } from '../helpers/browser.js';
import { startTestDemo } from '../helpers/demo.js';

const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
/** A JWT (access or ID token): three base64url parts, the first a JSON header. */
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

describe('demo with the flow inspector (Chromium)', () => {
  let demo: RunningDemo;
  let browser: Browser;
  before(async () => {
    if (!existsSync(SCREENSHOTS)) mkdirSync(SCREENSHOTS, { recursive: true });
    demo = await startTestDemo();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await demo?.close();
  });

  it('draws the sign-in and explains each deliberate mistake, with no secret on any inspector page', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(10_000);
    const app = await context.newPage();
    const inspector = await context.newPage();
    const { urls } = demo;
    const secrets = new Set<string>([DEMO_WEB_CLIENT_SECRET, DEMO_USER.password]);
    // Every code the browser carries to the client (front channel) is a secret the inspector must hash.
    app.on('request', (request) => {
      const code = new URL(request.url()).searchParams.get('code');
      if (code !== null) secrets.add(code);
    });
    const problems: string[] = [];
    inspector.on('console', (message) => {
      const text = message.text();
      // Failed loads are reported below with their URL.
      if (
        (message.type() === 'error' && !text.startsWith('Failed to load resource')) ||
        /Content Security Policy/i.test(text)
      )
        problems.push(`[${message.type()}] ${text}`);
    });
    inspector.on('response', (response) => {
      // The authorization server has no favicon; everything else must load.
      if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico')
        problems.push(`[http ${response.status()}] ${response.url()}`);
    });
    inspector.on('pageerror', (error) => problems.push(`[pageerror] ${error.message}`));
    const shot = (page: Page, name: string) =>
      page.screenshot({ path: join(SCREENSHOTS, `inspector-${name}.png`), fullPage: true });
    const flush = () => demo.gatehouse.context.inspector!.flush();

    /** The inspector page now shown: no secret, no JWT. */
    const assertNoSecrets = async (page: Page) => {
      const content = await page.content();
      for (const secret of secrets) assert.ok(!content.includes(secret), `secret ${secret.slice(0, 6)}… shown`);
      assert.doesNotMatch(content, JWT, 'a JWT is shown');
    };
    /** Opens the newest flow of `clientId` from the live list. */
    const openNewestFlow = async (clientId: string) => {
      await flush();
      await inspector.goto(`${urls.issuer}/_gatehouse/flows`);
      await inspector.locator(`#flows tbody tr`, { hasText: clientId }).first().locator('a').click();
      await inspector.locator('#steps').waitFor();
      await assertNoSecrets(inspector);
    };
    /** Reloads the flow page until `text` shows: the notes API reports in the background. */
    const refreshFlow = async (text: RegExp) => {
      for (let attempt = 0; ; attempt += 1) {
        await flush();
        await inspector.reload();
        await inspector.locator('#steps').waitFor();
        if (text.test(await inspector.locator('#steps').innerText()) || attempt === 20) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await assertNoSecrets(inspector);
    };

    try {
      // The live list is open before anything happens: the sign-in arrives over SSE.
      await inspector.goto(`${urls.issuer}/_gatehouse/flows`);
      await inspector.locator('h1', { hasText: 'Recent flows' }).waitFor();

      await app.goto(urls.client);
      assert.equal(await app.locator('#open-inspector').getAttribute('href'), `${urls.issuer}/_gatehouse/flows`);
      await app.click('#sign-in');
      await app.locator('input[name=username]').waitFor();
      await app.fill('input[name=username]', DEMO_USER.username);
      await app.fill('input[name=password]', DEMO_USER.password);
      await app.click('button[type=submit]');
      await app.click('button[name=decision][value=allow]');
      await app.locator('h1', { hasText: 'Signed in' }).waitFor();
      // The client shows the refresh token truncated (`abcd…` and its last 10 characters): those
      // 10 random characters must not be on any inspector page.
      const refreshTail = (await app.locator('#refresh-token').innerText()).trim().split('…')[1]!;
      assert.equal(refreshTail.length, 10);
      secrets.add(refreshTail);
      await app.click('#call-api');
      await app.locator('#api-result').waitFor();

      // The live list shows the flow without a reload.
      const row = inspector.locator('#flows tbody tr', { hasText: 'demo-web' }).first();
      await row.waitFor();
      assert.match(await row.innerText(), /demo-web[\s\S]*authorization_code/);

      await openNewestFlow('demo-web');
      const lanes = await inspector.locator('#lanes').innerText();
      assert.match(lanes, /Browser[\s\S]*Client[\s\S]*Gatehouse[\s\S]*Resource/);
      const arrow = (from: string, to: string, channel: string, text: RegExp) =>
        inspector
          .locator(`.arrow[data-from=${from}][data-to=${to}][data-channel=${channel}]`, { hasText: text })
          .first()
          .waitFor();
      await arrow('browser', 'gatehouse', 'front', /GET \/authorize/);
      await arrow('browser', 'gatehouse', 'front', /POST \/interaction\/#[0-9a-f]{4}\/login/);
      await arrow('gatehouse', 'browser', 'front', /redirect → .*\/callback/);
      await arrow('client', 'gatehouse', 'back', /POST \/token/);
      await refreshFlow(/Client → Resource/);
      await arrow('client', 'resource', 'back', /Client → Resource: GET/);
      const steps = await inspector.locator('#steps').innerText();
      assert.match(steps, /PKCE: code_verifier matches the code_challenge: method S256: matched/);
      assert.match(steps, /client authentication: client_secret_basic/);
      assert.match(steps, /access token: signature, iss, aud, exp, scope/);
      assert.match(steps, /took \d+ ms/);
      assert.match(await inspector.locator('.lead').innerText(), /succeeded/);
      await shot(inspector, 'flow');

      // --- the mistakes, each explained -------------------------------------------------------
      const failures = async () => (await inspector.locator('.failure').allInnerTexts()).join('\n');

      await app.click('#mistake-expired');
      await app.locator('#steps', { hasText: 'expired token at the API' }).waitFor();
      await refreshFlow(/exp has passed/);
      assert.match(await failures(), /must reject an access token whose exp has passed[\s\S]*RFC 9068 §4/);
      assert.match(await inspector.locator('.lead').innerText(), /failed at step \d+/);

      await app.click('#mistake-audience');
      await app.locator('#steps', { hasText: 'wrong audience' }).waitFor();
      await refreshFlow(/not intended for this resource/);
      assert.match(await failures(), /not intended for this resource[\s\S]*RFC 8707 §2/);
      // Two failed steps in one flow: each explanation has an id of its own (no id twice on the
      // page), the failed state links to the first, and axe finds nothing serious.
      const failureIds = await inspector.locator('.failure').evaluateAll((nodes) => nodes.map((node) => node.id));
      assert.equal(failureIds.length, 2, 'the expired token and the wrong audience');
      const duplicates = await inspector.evaluate(() => {
        const ids = Array.from(document.querySelectorAll('[id]'), (element) => element.id);
        return ids.filter((id, index) => ids.indexOf(id) !== index);
      });
      assert.deepEqual(duplicates, [], 'no duplicate id');
      assert.equal(await inspector.locator('.lead a.state-failed').getAttribute('href'), `#${failureIds[0]}`);
      await assertNoSeriousAxeViolations(inspector, 'inspector flow with two failed steps');

      await app.click('#mistake-refresh');
      await app.locator('#steps', { hasText: 'stolen refresh token reused' }).waitFor();
      await flush();
      await inspector.goto((await app.locator('#steps a.inspect').getAttribute('href'))!);
      await inspector.locator('#steps').waitFor();
      await assertNoSecrets(inspector);
      assert.match(await failures(), /whole family of tokens is revoked[\s\S]*RFC 9700 §4\.14\.2/);
      await shot(inspector, 'refresh-reuse');

      // Signed in again (single sign-on, consent remembered), then the code of that sign-in replayed.
      await app.goto(`${urls.client}/login`);
      await app.locator('h1', { hasText: 'Signed in' }).waitFor();
      await app.click('#mistake-replay');
      await app.locator('#steps', { hasText: 'replayed code' }).waitFor();
      await flush();
      await inspector.goto((await app.locator('#steps a.inspect').getAttribute('href'))!);
      await inspector.locator('#steps').waitFor();
      await assertNoSecrets(inspector);
      assert.match(await failures(), /may be redeemed once[\s\S]*RFC 6749 §4\.1\.2/);
      await arrow('client', 'gatehouse', 'back', /POST \/token/);

      await app.click('#mistake-pkce');
      await app.locator('#steps', { hasText: 'missing PKCE' }).waitFor();
      await openNewestFlow('demo-web');
      assert.match(await failures(), /code_challenge is required[\s\S]*RFC 9700 §2\.1\.1/);
      await arrow('gatehouse', 'browser', 'front', /redirect → .*\/callback/);

      // The wrong redirect_uri stops at Gatehouse's error page, which links to its flow.
      await app.click('#mistake-redirect-uri');
      await app.locator('#inspector-link a').waitFor();
      await flush();
      await app.click('#inspector-link a');
      await app.locator('#steps').waitFor();
      await assertNoSecrets(app);
      assert.match(
        (await app.locator('.failure').allInnerTexts()).join('\n'),
        /exactly one of the client’s registered redirect URIs[\s\S]*RFC 9700 §4\.1\.3/,
      );
      assert.equal(await app.locator('.failure mark').count(), 2, 'the differing character, marked in both values');
      assert.equal(
        await app.locator('.failure a.spec').getAttribute('href'),
        'https://www.rfc-editor.org/rfc/rfc9700#section-4.1.3',
      );
      await shot(app, 'redirect-uri');

      // --- the SPA: the same story for a public client ----------------------------------------
      await app.goto(urls.spa);
      await app.locator('html[data-ready=true]').waitFor();
      assert.equal(await app.locator('#spa-open-inspector').getAttribute('href'), `${urls.issuer}/_gatehouse/flows`);
      await app.click('#spa-sign-in');
      await app.locator('button[name=decision][value=allow]').click();
      await app.locator('#spa-tokens').waitFor({ state: 'visible' });
      await openNewestFlow('demo-spa');
      await arrow('client', 'gatehouse', 'back', /POST \/token/);
      assert.match(await inspector.locator('#steps').innerText(), /client authentication: none \(public client\)/);
      assert.match(await inspector.locator('.lead').innerText(), /succeeded/);
      await shot(inspector, 'spa');

      assert.deepEqual(problems, [], 'no console errors or CSP violations on the inspector pages');
    } catch (error) {
      await shot(inspector, 'failure').catch(() => {});
      await shot(app, 'failure-app').catch(() => {});
      if (problems.length > 0) (error as Error).message += `\n${problems.join('\n')}`;
      throw error;
    } finally {
      await context.close();
    }
  });
});
