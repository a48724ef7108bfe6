/**
 * docs/guides/spa.md, run in Chromium: the single-page app of examples/guides/spa (index.html,
 * app.js, and config.js with the test's issuer) is served at its own origin with oidc-client-ts's
 * browser bundle; the user signs in on Gatehouse's login and consent pages, the app redeems the
 * code with PKCE alone (a public client, RFC 6749 §2.1, RFC 7636), reads UserInfo, then signs out
 * through RP-Initiated Logout. The client is the one of examples/guides/spa/gatehouse.yaml.
 * A screenshot of the signed-in app goes to test-output/screenshots/guide-spa.png.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { RunningGatehouse } from '../../src/server.js';
import { launchChromium } from '../helpers/browser.js';
import { REPO_ROOT } from '../helpers/docs.js';
import { guideSettings, startGuideServer } from '../helpers/guides.js';
import { ALICE } from '../helpers/server.js';

const CONFIG = 'examples/guides/spa/gatehouse.yaml';
const SCREENSHOTS = join(REPO_ROOT, 'test-output', 'screenshots');

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The SPA's files as a static server would serve them; config.js names the test's Gatehouse. */
function spaFiles(issuer: string): Record<string, [string, string]> {
  const files: Record<string, [string, string]> = {
    '/': ['text/html', read('examples/guides/spa/index.html')],
    '/callback': ['text/html', read('examples/guides/spa/index.html')],
    '/app.js': ['text/javascript', read('examples/guides/spa/app.js')],
    '/config.js': [
      'text/javascript',
      read('examples/guides/spa/config.js').replace("'https://auth.example.com'", JSON.stringify(issuer)),
    ],
    '/oidc-client-ts.min.js': [
      'text/javascript',
      readFileSync(
        join(REPO_ROOT, 'node_modules', 'oidc-client-ts', 'dist', 'browser', 'oidc-client-ts.min.js'),
        'utf8',
      ),
    ],
  };
  return files;
}

let gatehouse: RunningGatehouse;
let spa: Server;
let spaOrigin: string;
let browser: Browser;
before(async () => {
  let files: Record<string, [string, string]> = {};
  spa = createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://127.0.0.1').pathname];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': `${file[0]}; charset=utf-8` }).end(file[1]);
  });
  await new Promise<void>((resolve) => spa.listen(0, '127.0.0.1', resolve));
  spaOrigin = `http://127.0.0.1:${(spa.address() as AddressInfo).port}`;
  // The guide's client, its post-logout URI on the port the SPA got: unlike a redirect URI's
  // (RFC 8252 §7.3), its port is compared exactly (RP-Initiated Logout 1.0 §3).
  const { clients } = await guideSettings(CONFIG);
  gatehouse = await startGuideServer(CONFIG, {
    clients: clients.map((client) =>
      client.client_id === 'my-spa' ? { ...client, post_logout_redirect_uris: [`${spaOrigin}/`] } : client,
    ),
  });
  files = spaFiles(gatehouse.url);
  browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  spa?.closeAllConnections();
  await new Promise((resolve) => spa?.close(resolve));
  await gatehouse?.close();
});

describe('docs/guides/spa.md', () => {
  test('RFC 7636: oidc-client-ts in Chromium signs in through the login and consent pages, reads UserInfo, and signs out', async () => {
    const context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const messages: string[] = [];
    page.on('console', (message) => messages.push(message.text()));
    const userInfoCalls: string[] = [];
    page.on('request', (request) => {
      if (request.url() === `${gatehouse.url}/userinfo`) userInfoCalls.push(request.method());
    });
    try {
      assert.ok(spaOrigin.startsWith('http://127.0.0.1:'), 'config.js was rewritten');
      await page.goto(`${spaOrigin}/`);
      await page.locator('#status', { hasText: 'Signed out' }).waitFor();
      await page.locator('#sign-in').click();
      await page.waitForURL(`${gatehouse.url}/**`);
      await page.locator('input[name="username"]').fill(ALICE.username);
      await page.locator('input[name="password"]').fill(ALICE.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('button[name="decision"][value="allow"]').click();
      await page.waitForURL(`${spaOrigin}/`);
      await page
        .locator('#status', { hasText: `Signed in as ${ALICE.name} (${ALICE.email})` })
        .waitFor()
        .catch((error: Error) => {
          throw new Error(`${error.message}\nconsole: ${messages.join('\n')}`);
        });
      await page.screenshot({ path: join(SCREENSHOTS, 'guide-spa.png'), fullPage: true });
      const stored = await page.evaluate(() =>
        Object.keys(sessionStorage)
          .filter((key) => key.startsWith('oidc.user:'))
          .map((key) => sessionStorage.getItem(key)!),
      );
      assert.equal(stored.length, 1, 'the user is in sessionStorage');
      const user = JSON.parse(stored[0]!) as { token_type: string; refresh_token?: string; profile: { aud: string } };
      assert.equal(user.token_type, 'Bearer');
      assert.ok(user.refresh_token, 'offline_access gives a refresh token');
      assert.equal(user.profile.aud, 'my-spa');
      assert.ok(userInfoCalls.includes('GET'), 'OpenID Connect Core §5.3: the app read UserInfo');
      await page.locator('#sign-out').click();
      await page.waitForURL(`${spaOrigin}/`);
      await page.locator('#status', { hasText: 'Signed out' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
