/**
 * Branded pages in Chromium: (b) a server with a product name, a logo (a data: image), colours
 * and an extra stylesheet, walked through every page (../helpers/page-tour.ts: axe-core, no CSP
 * violation, screenshots test-output/screenshots/branded-*.png); the scope descriptions of a
 * protected resource on its consent page, per language, with the fallback; and template
 * overrides that render the operator's markup, escape a hostile client name, and keep the
 * stable form contract, the CSP and the axe checks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import type { ClientFixture, ResourceFixture, UserFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { launchChromium, openBrowserSession } from '../helpers/browser.js';
import { DEVICE_CLIENT } from '../helpers/device-flow.js';
import { authorizeUrl, checkPage } from '../helpers/page-checks.js';
import { pageTour } from '../helpers/page-tour.js';
import { CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';

const TEMPLATES = fileURLToPath(new URL('../fixtures/branding-templates/', import.meta.url));
const LOGO = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b6e4f"/><path d="M8 22V10l8 8 8-8v12" fill="none" stroke="#fff" stroke-width="3"/></svg>',
).toString('base64')}`;
const NOTES: ResourceFixture = {
  resource: 'https://notes.example.com/',
  name: 'Notes API',
  scopes: ['notes:read', 'notes:write', 'notes:share'],
  introspection_client_ids: [],
  scope_descriptions: {
    'notes:read': { en: 'Read your notes', de: 'Ihre Notizen lesen' },
    'notes:write': 'Create and change your notes',
  },
};
const NOTES_CLIENT: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  scope: 'openid profile email notes:read notes:write notes:share',
};
const user = (name: string): UserFixture => ({
  username: name,
  password: `${name} password that is long enough`,
  name,
});

describe('branded pages in Chromium: name, logo, colours, stylesheet; scope descriptions; template overrides', () => {
  let browser: Browser;
  let branded: RunningGatehouse;
  let templated: RunningGatehouse;
  const stylesheetDir = mkdtempSync(join(tmpdir(), 'gatehouse-branding-'));
  const stylesheet = join(stylesheetDir, 'extra.css');
  writeFileSync(stylesheet, '.card{border-width:3px}\n.brand span{letter-spacing:.05em}\n');

  const hostileClient: ClientFixture = {
    ...CONFIDENTIAL_CLIENT,
    client_name: '<script>alert(1)</script> "Corp" & Co',
  };

  before(async () => {
    [browser, branded, templated] = await Promise.all([
      launchChromium(),
      startTestServer({
        clients: [NOTES_CLIENT, DEVICE_CLIENT],
        users: [user('bea'), user('bert'), user('bruno')],
        resources: [NOTES],
        settings: {
          languages: ['en', 'de'],
          branding: {
            productName: 'Northwind ID',
            logoUrl: LOGO,
            colors: { primary: '#0b6e4f', accent: '#0b6e4f', background: '#fffdf5', text: '#1f2328' },
            stylesheet,
          },
        },
      }),
      startTestServer({
        clients: [hostileClient],
        users: [user('tess')],
        settings: { branding: { productName: 'Templated ID', templates: TEMPLATES } },
      }),
    ]);
  });
  after(async () => {
    await browser?.close();
    await Promise.all([branded?.close(), templated?.close()]);
  });

  it('(b) every page, branded: the name and logo in the header, the colours and the extra stylesheet applied', async () => {
    await pageTour(browser, branded, {
      prefix: 'branded',
      acceptLanguage: 'en',
      client: NOTES_CLIENT,
      scope: 'openid profile email',
      user: user('bea'),
      expect: {
        lang: 'en',
        loginHeading: 'Sign in to continue to Example Web App',
        loginFailed: 'Incorrect username or password.',
        consentHeading: 'Example Web App wants to access your account',
        deviceHeading: 'Connect a device',
        deviceDone: 'Device connected',
        logoutHeading: 'Sign out of Northwind ID?',
        signedOutHeading: 'You are signed out',
        homeHeading: 'Northwind ID',
        signIn: 'Sign in',
        allow: 'Allow',
      },
      onConsent: async (s) => {
        const page = s.page;
        assert.equal((await page.locator('header.brand span').textContent())?.trim(), 'Northwind ID');
        const logo = page.locator('header.brand img');
        assert.equal(await logo.getAttribute('alt'), '', 'the logo is decorative: the name beside it says it');
        assert.ok(await logo.evaluate((img) => (img as HTMLImageElement).naturalWidth > 0), 'the logo loaded');
        const style = await page.evaluate(() => {
          const button = getComputedStyle(document.querySelector('.btn-primary')!);
          const card = getComputedStyle(document.querySelector('.card')!);
          return {
            button: button.backgroundColor,
            onButton: button.color,
            card: card.backgroundColor,
            border: card.borderTopWidth,
          };
        });
        assert.deepEqual(style, {
          button: 'rgb(11, 110, 79)',
          onButton: 'rgb(255, 255, 255)',
          card: 'rgb(255, 253, 245)',
          border: '3px',
        });
      },
    });
  });

  it('the theme stylesheet is served at /branding/theme.css and allowed by its exact URL in style-src', async () => {
    const css = await fetch(`${branded.url}/branding/theme.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    const text = await css.text();
    assert.match(text, /--primary:#0b6e4f/);
    assert.match(text, /\.card\{border-width:3px\}/);
    const home = await fetch(`${branded.url}/`);
    assert.match(
      home.headers.get('content-security-policy') ?? '',
      new RegExp(`style-src 'sha256-[^ ;]+' ${branded.url.replace(/[.]/g, '\\.')}/branding/theme\\.css;`),
    );
    // Without a theme there is nothing to serve, and the CSP stays as it was.
    assert.equal((await fetch(`${templated.url}/branding/theme.css`)).status, 404);
    assert.doesNotMatch((await fetch(`${templated.url}/`)).headers.get('content-security-policy') ?? '', /theme/);
  });

  for (const [language, acceptLanguage, expected] of [
    ['en', 'en', ['Read your notes', 'Create and change your notes', 'Use the permission “notes:share”']],
    ['de', 'de', ['Ihre Notizen lesen', 'Create and change your notes', 'Die Berechtigung „notes:share“ verwenden']],
  ] as const) {
    it(`consent (${language}): a resource's scopes are described from its config (scope_descriptions, per language or one text), else named (fallback)`, async () => {
      const s = await openBrowserSession(browser);
      try {
        await s.context.setExtraHTTPHeaders({ 'accept-language': acceptLanguage });
        const client = {
          client_id: NOTES_CLIENT.client_id,
          redirect_uri: NOTES_CLIENT.redirect_uris![0]!,
          scope: 'notes:read notes:write notes:share',
        };
        await s.page.goto(authorizeUrl(branded.url, client, { resource: NOTES.resource }).href);
        const who = user(language === 'en' ? 'bert' : 'bruno');
        await s.page.locator('input[name="username"]').fill(who.username);
        await s.page.locator('input[name="password"]').fill(who.password);
        await s.page.locator('button[type="submit"]').click();
        await s.page.locator('button[name="decision"][value="allow"]').waitFor();
        const items = (await s.page.locator('ul.scopes li').allTextContents()).map((text) => text.trim());
        assert.deepEqual(items, expected);
        await checkPage(s, `branded-consent-resource-${language}`, language);
      } finally {
        await s.close();
      }
    });
  }

  it('template overrides: the custom markup is rendered, a hostile client name is escaped, the form contract, CSP and axe hold', async () => {
    const s = await openBrowserSession(browser);
    const dialogs: string[] = [];
    s.page.on('dialog', async (dialog) => {
      dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    try {
      const client = {
        client_id: hostileClient.client_id,
        redirect_uri: hostileClient.redirect_uris![0]!,
        scope: 'openid profile',
      };
      await s.page.goto(authorizeUrl(templated.url, client).href);
      assert.equal(
        (await s.page.locator('#custom-login').textContent())?.trim(),
        'Welcome to Templated ID. Enter your username and password.',
      );
      assert.equal(await s.page.locator('#client-name').textContent(), hostileClient.client_name);
      assert.equal(await s.page.locator('#client-name').getAttribute('title'), hostileClient.client_name);
      assert.equal(await s.page.locator('script').count(), 0, 'the client name made no element');
      assert.equal(await s.page.locator('header.brand span').textContent(), 'Templated ID');
      await checkPage(s, 'template-login', 'en');

      await s.page.locator('input[name="username"]').fill('tess');
      await s.page.locator('input[name="password"]').fill(user('tess').password);
      await s.page.locator('button[type="submit"]').click();
      await s.page.locator('#custom-consent').waitFor();
      assert.match(
        (await s.page.locator('h1').textContent()) ?? '',
        /<script>alert\(1\)<\/script> "Corp" & Co wants to access your account/,
      );
      assert.equal(await s.page.locator('ul.scopes li').count(), 2);
      await checkPage(s, 'template-consent', 'en');

      const redirect = new URL(client.redirect_uri);
      await s.page.locator('button[name="decision"][value="allow"]').click();
      await s.page.waitForURL((url) => url.origin === redirect.origin && url.pathname === redirect.pathname);
      assert.ok(
        s.clientRequests.at(-1)?.url.searchParams.get('code'),
        'the stable form contract still completes the flow',
      );
      assert.deepEqual(dialogs, [], 'no script ran');
      assert.deepEqual(s.cspReports, []);

      // A page without a template (the logout confirmation) keeps the built-in markup.
      await s.page.goto(`${templated.url}/logout`);
      assert.equal((await s.page.locator('h1').textContent())?.trim(), 'Sign out of Templated ID?');
      await checkPage(s, 'template-logout-built-in', 'en');
    } finally {
      await s.close();
    }
  });
});
