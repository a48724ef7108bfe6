/**
 * The pages in every shipped language, in Chromium (playwright-core): each page of the tour
 * (../helpers/page-tour.ts) passes axe-core (no serious or critical violation), makes no Content
 * Security Policy violation, and is kept as a screenshot (test-output/screenshots/i18n-*.png).
 * The language comes from the browser's Accept-Language (RFC 9110 §12.5.4); the default server
 * (no `languages` setting) is shown in English whatever the browser asks for.
 */
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { UserFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { launchChromium } from '../helpers/browser.js';
import { DEVICE_CLIENT } from '../helpers/device-flow.js';
import { pageTour, type TourExpectations } from '../helpers/page-tour.js';
import { CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';

const user = (name: string): UserFixture => ({
  username: name,
  password: `${name} password that is long enough`,
  name: `${name[0]!.toUpperCase()}${name.slice(1)} Example`,
});
const USERS = { en: user('erin'), de: user('dora'), default: user('dana') };

const ENGLISH: TourExpectations = {
  lang: 'en',
  loginHeading: 'Sign in to continue to Example Web App',
  loginFailed: 'Incorrect username or password.',
  consentHeading: 'Example Web App wants to access your account',
  deviceHeading: 'Connect a device',
  deviceDone: 'Device connected',
  logoutHeading: 'Sign out of Gatehouse?',
  signedOutHeading: 'You are signed out',
  homeHeading: 'Gatehouse',
  signIn: 'Sign in',
  allow: 'Allow',
};

// Written out, not read from the catalogue: the test checks that the pages really are German.
const GERMAN: TourExpectations = {
  lang: 'de',
  loginHeading: 'Melden Sie sich an, um mit Example Web App fortzufahren',
  loginFailed: 'Benutzername oder Passwort ist falsch.',
  consentHeading: 'Example Web App möchte auf Ihr Konto zugreifen',
  deviceHeading: 'Gerät verbinden',
  deviceDone: 'Gerät verbunden',
  logoutHeading: 'Von Gatehouse abmelden?',
  signedOutHeading: 'Sie sind abgemeldet',
  homeHeading: 'Gatehouse',
  signIn: 'Anmelden',
  allow: 'Erlauben',
};

describe('the pages in every shipped language, in Chromium: axe-core, CSP, screenshots', () => {
  let browser: Browser;
  let both: RunningGatehouse;
  let defaults: RunningGatehouse;

  before(async () => {
    const clients = [CONFIDENTIAL_CLIENT, DEVICE_CLIENT];
    [browser, both, defaults] = await Promise.all([
      launchChromium(),
      startTestServer({ clients, users: [USERS.en, USERS.de], settings: { languages: ['en', 'de'] } }),
      startTestServer({ clients, users: [USERS.default], settings: { languages: ['en'] } }),
    ]);
  });
  after(async () => {
    await browser?.close();
    await Promise.all([both?.close(), defaults?.close()]);
  });

  const common = { client: CONFIDENTIAL_CLIENT, scope: 'openid profile email' };

  it('(a) an English-only server (languages: [en]): English pages, also for a browser that prefers German', async () => {
    await pageTour(browser, defaults, {
      ...common,
      prefix: 'default',
      acceptLanguage: 'de-DE,de;q=0.9',
      user: USERS.default,
      expect: ENGLISH,
    });
  });

  it('(c) English, chosen by Accept-Language: en-US', async () => {
    await pageTour(browser, both, {
      ...common,
      prefix: 'i18n-en',
      acceptLanguage: 'en-US,en;q=0.9',
      user: USERS.en,
      expect: ENGLISH,
    });
  });

  it('(c) German, chosen by Accept-Language: fr;q=0.9, de-CH;q=0.95 (RFC 9110 §12.5.4: highest q-value, de-CH falls back to de)', async () => {
    await pageTour(browser, both, {
      ...common,
      prefix: 'i18n-de',
      acceptLanguage: 'fr;q=0.9, de-CH;q=0.95',
      user: USERS.de,
      expect: GERMAN,
    });
  });
});
