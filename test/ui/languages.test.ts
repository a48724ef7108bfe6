/**
 * The language of the pages over HTTP: OIDC Core §3.1.2.1 `ui_locales` beats the browser's
 * Accept-Language (RFC 9110 §12.5.4), the language holds from login to consent (it is kept with
 * the interaction), unsupported tags fall back to English, and both discovery documents list the
 * offered languages in `ui_locales_supported` (OpenID Connect Discovery 1.0 §3, RFC 8414 §2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningGatehouse } from '../../src/server.js';
import { PAGE_LANGUAGES_DEFAULT } from '../../src/core/browser/page-language.js';
import { SHIPPED_LANGUAGES } from '../../src/ui/i18n.js';
import { authorizeUrl } from '../helpers/page-checks.js';
import { ALICE, CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent, isConsentPage, isLoginPage, type PageResponse } from '../helpers/user-agent.js';

const client = {
  client_id: CONFIDENTIAL_CLIENT.client_id,
  redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0]!,
  scope: 'openid profile',
};
const lang = (page: PageResponse) => /<html lang="([^"]*)"/.exec(page.body)?.[1];
const h1 = (page: PageResponse) => /<h1[^>]*>([^<]*)<\/h1>/.exec(page.body)?.[1];

describe('languages by default', () => {
  it('every shipped language is offered: discovery lists [en, de] and Accept-Language: de gets German pages', async () => {
    assert.deepEqual([...PAGE_LANGUAGES_DEFAULT], [...SHIPPED_LANGUAGES]);
    const gatehouse = await startTestServer();
    try {
      const metadata = (await (await fetch(`${gatehouse.url}/.well-known/openid-configuration`)).json()) as {
        ui_locales_supported: string[];
      };
      assert.deepEqual(metadata.ui_locales_supported, ['en', 'de']);
      const ua = new UserAgent(gatehouse.url);
      ua.extraHeaders['accept-language'] = 'de-DE,de;q=0.9,en;q=0.5';
      const login = await ua.navigate(authorizeUrl(gatehouse.url, client).href);
      assert.equal(lang(login), 'de');
      assert.equal(h1(login), 'Melden Sie sich an, um mit Example Web App fortzufahren');
      const english = await new UserAgent(gatehouse.url).navigate(authorizeUrl(gatehouse.url, client).href);
      assert.equal(lang(english), 'en', 'no Accept-Language: the first language, English');
    } finally {
      await gatehouse.close();
    }
  });
});

describe('languages: ui_locales, Accept-Language, discovery', () => {
  let gatehouse: RunningGatehouse;
  before(async () => {
    gatehouse = await startTestServer({ settings: { languages: ['en', 'de'] } });
  });
  after(async () => {
    await gatehouse?.close();
  });

  function agent(acceptLanguage?: string): UserAgent {
    const ua = new UserAgent(gatehouse.url);
    if (acceptLanguage !== undefined) ua.extraHeaders['accept-language'] = acceptLanguage;
    return ua;
  }

  it('OpenID Connect Discovery 1.0 §3 / RFC 8414 §2: both metadata documents list ui_locales_supported [en, de]', async () => {
    for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      const metadata = (await (await fetch(`${gatehouse.url}${path}`)).json()) as { ui_locales_supported: string[] };
      assert.deepEqual(metadata.ui_locales_supported, ['en', 'de'], path);
    }
  });

  it('OIDC Core §3.1.2.1: ui_locales=de beats Accept-Language: en, on the login page and, after signing in, on consent', async () => {
    const ua = agent('en-US,en;q=0.9');
    const login = await ua.navigate(authorizeUrl(gatehouse.url, client, { ui_locales: 'fr-CA de-AT en' }).href);
    assert.ok(isLoginPage(login));
    assert.equal(lang(login), 'de-AT');
    assert.equal(h1(login), 'Melden Sie sich an, um mit Example Web App fortzufahren');
    // The language is the interaction's: a different Accept-Language on the next request changes nothing.
    ua.extraHeaders['accept-language'] = 'en';
    const consent = await ua.submit(login, { username: ALICE.username, password: ALICE.password });
    assert.ok(isConsentPage(consent));
    assert.equal(lang(consent), 'de-AT');
    assert.equal(h1(consent), 'Example Web App möchte auf Ihr Konto zugreifen');
  });

  it("OAuth 2.0 Form Post Response Mode: the auto-submitting page after consent keeps the interaction's ui_locales", async () => {
    const ua = agent('en');
    const login = await ua.navigate(
      authorizeUrl(gatehouse.url, client, { ui_locales: 'de', response_mode: 'form_post', prompt: 'consent' }).href,
    );
    const consent = await ua.submit(login, { username: ALICE.username, password: ALICE.password });
    assert.ok(isConsentPage(consent));
    const formPost = await ua.submit(consent, { decision: 'allow' });
    assert.equal(formPost.status, 200);
    assert.match(formPost.body, /name="code"/);
    assert.equal(lang(formPost), 'de');
    assert.match(formPost.body, /Sie werden zur Anwendung zurückgeleitet …/);
  });

  it('OIDC Core §3.1.2.1: ui_locales=en beats Accept-Language: de', async () => {
    const login = await agent('de').navigate(authorizeUrl(gatehouse.url, client, { ui_locales: 'en-GB' }).href);
    assert.equal(lang(login), 'en-GB');
    assert.equal(h1(login), 'Sign in to continue to Example Web App');
  });

  it('RFC 9110 §12.5.4: without ui_locales (or with none offered), Accept-Language chooses', async () => {
    const login = await agent('fr, de;q=0.7, en;q=0.5').navigate(
      authorizeUrl(gatehouse.url, client, { ui_locales: 'fr it' }).href,
    );
    assert.equal(lang(login), 'de');
    assert.match(login.body, /Geben Sie Ihren Benutzernamen und Ihr Passwort ein\./);
  });

  it('RFC 8628 §3.3: the device verification sign-in follows Accept-Language (the device flow has no ui_locales)', async () => {
    const german = await agent('de-DE').navigate('/device');
    assert.ok(isLoginPage(german));
    assert.equal(lang(german), 'de');
    assert.equal(h1(german), 'Melden Sie sich an, um mit Ihrem Gerät fortzufahren');
    assert.match(german.body, /<title>Anmelden · Ihr Gerät<\/title>/);
    const english = await agent('en').navigate('/device');
    assert.equal(h1(english), 'Sign in to continue to your device');
    assert.match(english.body, /<title>Sign in · your device<\/title>/);
  });

  it('unsupported tags everywhere fall back to English', async () => {
    const login = await agent('fr-FR, it;q=0.5').navigate(
      authorizeUrl(gatehouse.url, client, { ui_locales: 'ja' }).href,
    );
    assert.equal(lang(login), 'en');
    assert.equal(h1(login), 'Sign in to continue to Example Web App');
    const home = await agent('es').request('/');
    assert.equal(lang(home), 'en');
  });

  it('RP-Initiated Logout §2: the confirmation page follows ui_locales, and the signed-out page keeps it', async () => {
    const ua = agent('en');
    await ua.authorize(authorizeUrl(gatehouse.url, client).href, ALICE);
    const confirm = await ua.request('/logout?ui_locales=de');
    assert.equal(lang(confirm), 'de');
    assert.match(confirm.body, /Möchten Sie sich abmelden\?/);
    assert.match(confirm.body, /Abbrechen, angemeldet bleiben/);
    // The form carries ui_locales as a hidden field (UserAgent.submit sends only csrf_token of its own).
    assert.match(confirm.body, /<input type="hidden" name="ui_locales" value="de">/);
    const done = await ua.submit(confirm, { ui_locales: 'de' });
    assert.equal(done.status, 200);
    assert.equal(lang(done), 'de');
    assert.match(done.body, /Sie sind abgemeldet/);
  });

  it('error pages follow Accept-Language (the page chrome; protocol details stay as the server states them)', async () => {
    const page = await agent('de').request(`/interaction/${'x'.repeat(20)}`);
    assert.equal(page.status, 400);
    assert.equal(lang(page), 'de');
    assert.match(page.body, /<title>Es kann nicht fortgefahren werden<\/title>/);
  });
});
