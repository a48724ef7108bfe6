/**
 * The message files (src/ui/messages/): every shipped language has exactly the keys of English
 * and, in each message, the same placeholders; values put into placeholders are escaped.
 * And the choice of language: ui_locales (OIDC Core §3.1.2.1), then Accept-Language
 * (RFC 9110 §12.5.4), else the first language offered.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedLanguage, chooseLanguage, pageLanguage } from '../../src/core/browser/page-language.js';
import { CATALOGUES, SHIPPED_LANGUAGES, Translator, placeholdersOf } from '../../src/ui/i18n.js';
import { EN } from '../../src/ui/messages/en.js';
import { html } from '../../src/ui/html.js';
import { describeScope, describeScopeIn } from '../../src/ui/scopes.js';
import { SCOPE_CLAIMS } from '../../src/core/users/user-claims.js';

describe('message files: completeness', () => {
  test('English and at least one other language are shipped', () => {
    assert.equal(SHIPPED_LANGUAGES[0], 'en');
    assert.ok(SHIPPED_LANGUAGES.length >= 2);
  });

  for (const [language, messages] of Object.entries(CATALOGUES)) {
    test(`${language}: every English key, no other key, the same placeholders, no empty text`, () => {
      assert.deepEqual(Object.keys(messages).sort(), Object.keys(EN).sort());
      for (const [key, english] of Object.entries(EN)) {
        const text = messages[key as keyof typeof EN];
        assert.ok(text.trim().length > 0, `${language} ${key} is empty`);
        assert.deepEqual(
          placeholdersOf(text).sort(),
          placeholdersOf(english).sort(),
          `${language} ${key}: the placeholders of ${JSON.stringify(english)}`,
        );
        assert.doesNotMatch(text, /[<>]/, `${language} ${key}: messages are text, not markup`);
      }
    });
  }

  test('German is a translation, not a copy: most messages differ from English', () => {
    const same = Object.entries(EN).filter(([key, text]) => CATALOGUES['de']![key as keyof typeof EN] === text);
    // Only words that are the same in both (e.g. "Code") may stay.
    assert.deepEqual(
      same.map(([key]) => key),
      ['device.code'],
    );
  });
});

describe('Translator', () => {
  test('escapes the values and the message text; SafeHtml made by the page goes in as markup', () => {
    const t = new Translator('en');
    assert.equal(
      t.t('login.heading', { client: '<script>alert(1)</script>' }).toString(),
      'Sign in to continue to &lt;script&gt;alert(1)&lt;/script&gt;',
    );
    assert.equal(
      t.t('consent.unverified_redirect', { host: html`<strong>${'a&b'}</strong>` }).toString(),
      'If you allow, you will be sent to <strong>a&amp;b</strong>.',
    );
    assert.equal(t.t('consent.unverified_text', { client: '"x"' }).toString().includes('&quot;x&quot;'), true);
    assert.throws(() => t.t('login.heading'), /needs a value for \{client\}/);
  });

  test('the language: the primary subtag of the page lang picks the catalogue, English when none matches', () => {
    assert.equal(new Translator('de-CH').language, 'de');
    assert.equal(new Translator('fr').language, 'en');
    assert.equal(new Translator(undefined).language, 'en');
    assert.equal(new Translator('de').text('login.submit'), 'Anmelden');
  });

  test('waiting times in words, per language', () => {
    const en = new Translator('en');
    const de = new Translator('de');
    assert.deepEqual(
      [1, 45, 120, 900].map((s) => en.waitingTime(s)),
      ['1 second', '45 seconds', '2 minutes', '15 minutes'],
    );
    assert.deepEqual(
      [1, 45, 900].map((s) => de.waitingTime(s)),
      ['1 Sekunde', '45 Sekunden', '15 Minuten'],
    );
  });
});

describe('scope descriptions', () => {
  test('OIDC Core §5.4: profile says exactly what it releases (name, given and family name, updated_at); no username, no picture', () => {
    assert.deepEqual(SCOPE_CLAIMS['profile'], ['name', 'given_name', 'family_name', 'updated_at']);
    const profile = describeScope('profile');
    assert.doesNotMatch(profile, /username|picture/);
    assert.match(profile, /name/);
    assert.match(profile, /given and family name/);
    assert.match(profile, /last updated/);
  });

  test('a configured description wins, per language (English, then its first language, when the page language has none)', () => {
    const configured = new Map<string, string | Record<string, string>>([
      ['notes:read', { en: 'Read your notes', de: 'Ihre Notizen lesen' }],
      ['notes:write', 'Change your notes'],
      ['notes:share', { de: 'Ihre Notizen teilen' }],
    ]);
    const de = new Translator('de');
    const en = new Translator('en');
    assert.equal(describeScopeIn('notes:read', de, configured), 'Ihre Notizen lesen');
    assert.equal(describeScopeIn('notes:read', en, configured), 'Read your notes');
    assert.equal(describeScopeIn('notes:write', de, configured), 'Change your notes');
    assert.equal(describeScopeIn('notes:share', en, configured), 'Ihre Notizen teilen');
    assert.equal(describeScopeIn('notes:delete', en, configured), 'Use the permission “notes:delete”');
    assert.equal(describeScopeIn('email', de, configured), 'Ihre E-Mail-Adresse sehen und ob sie bestätigt ist');
  });
});

describe("the pages' language", () => {
  const offered = ['en', 'de'];

  test('OIDC Core §3.1.2.1: the first ui_locales tag whose language is offered, kept as sent', () => {
    assert.equal(pageLanguage(['fr-CA', 'de-AT', 'en'], offered), 'de-AT');
    assert.equal(pageLanguage(['fr-CA', 'en-GB'], ['en']), 'en-GB');
    assert.equal(pageLanguage(['fr', 'it'], offered), undefined);
    assert.equal(pageLanguage(['de'], ['en']), undefined, 'a shipped language that is not offered is not chosen');
  });

  test('RFC 9110 §12.5.4: Accept-Language by q-value (ties in order), q=0 refuses, * takes the first offered one', () => {
    assert.equal(acceptedLanguage('de-DE,de;q=0.9,en;q=0.8', offered), 'de');
    assert.equal(acceptedLanguage('en;q=0.5, de;q=0.8', offered), 'de');
    assert.equal(acceptedLanguage('fr, en;q=0.1, de;q=0.1', offered), 'en');
    assert.equal(acceptedLanguage('fr, *;q=0.5', offered), 'en');
    assert.equal(acceptedLanguage('en;q=0, *', offered), 'de');
    assert.equal(acceptedLanguage('fr, it', offered), undefined);
    assert.equal(acceptedLanguage('de;q=2, en;q=abc', offered), undefined, 'malformed q-values are ignored');
    assert.equal(acceptedLanguage(undefined, offered), undefined);
  });

  test('ui_locales beats Accept-Language; nothing offered asked for: the first offered language (English by default)', () => {
    assert.equal(chooseLanguage(['en'], 'de', offered), 'en');
    assert.equal(chooseLanguage(['de'], 'en', offered), 'de');
    assert.equal(chooseLanguage(['fr'], 'de;q=0.5', offered), 'de');
    assert.equal(chooseLanguage(['fr'], 'it, es', offered), 'en');
    assert.equal(chooseLanguage([], 'de', ['en']), 'en');
  });
});
