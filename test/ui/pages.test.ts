import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  escapeHtml,
  html,
  raw,
  SafeHtml,
  layout,
  STYLE,
  STYLE_HASH,
  pageCsp,
  cspSourceForUrl,
  safeUrl,
} from '../../src/ui/html.js';
import { describeScope, isKnownScope } from '../../src/ui/scopes.js';
import {
  renderLoginPage,
  renderConsentPage,
  renderErrorPage,
  renderFormPostPage,
  renderLogoutConfirmPage,
  renderSignedOutPage,
  renderHomePage,
  FORM_POST_SCRIPT,
  FORM_POST_SCRIPT_HASH,
} from '../../src/ui/pages.js';

const sha256Source = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** Attributes of every `<tag ...>` start tag (values are still HTML-escaped). */
function tags(doc: string, name: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (const match of doc.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'g'))) {
    const attrs: Record<string, string> = {};
    for (const attr of match[1]!.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?/g))
      attrs[attr[1]!] = attr[2] ?? '';
    out.push(attrs);
  }
  return out;
}

function only<T>(items: T[], what: string): T {
  assert.equal(items.length, 1, `expected exactly one ${what}`);
  return items[0]!;
}

function inputNamed(doc: string, name: string): Record<string, string> {
  return only(
    tags(doc, 'input').filter((a) => a.name === name),
    `input named ${name}`,
  );
}

function styleText(doc: string): string {
  const styles = [...doc.matchAll(/<style>([\s\S]*?)<\/style>/g)];
  return only(styles, '<style> element')[1]!;
}

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)' x='",
  '`${alert(1)}`',
  '&lt;b&gt;already escaped&amp;',
  '</title></style></textarea><svg/onload=alert(1)>',
];
const BENIGN = 'plainvalue';

const login = {
  action: '/authorize/login?rid=1',
  csrfToken: 'csrf-123',
  clientName: 'Acme',
  username: 'alice',
  error: 'Wrong password',
  lang: 'en',
};
const consent = {
  action: '/authorize/consent?rid=1',
  csrfToken: 'csrf-123',
  clientName: 'Acme',
  clientId: 'acme-client',
  username: 'alice',
  scopes: ['openid', 'email'],
  lang: 'en',
};
const errorPage = {
  title: 'Invalid redirect URI',
  message: 'Not registered.',
  details: [{ label: 'Received', value: 'https://a.example/cb' }],
  lang: 'en',
};
const formPost = { redirectUri: 'https://client.example/cb', fields: { code: 'abc', state: 'xyz' } };
const logoutConfirm = {
  action: '/logout/confirm',
  csrfToken: 'csrf-123',
  username: 'alice',
  clientName: 'Acme',
  fields: { client_id: 'acme-client', state: 'xyz' },
  lang: 'en',
};

/** Every page, rendered with one field (by path) set to `value`. */
const cases: Array<{ page: string; field: string; render: (value: string) => string }> = [
  ...(['action', 'csrfToken', 'clientName', 'username', 'error', 'lang'] as const).map((field) => ({
    page: 'login',
    field,
    render: (value: string) => renderLoginPage({ ...login, [field]: value }),
  })),
  ...(['action', 'csrfToken', 'clientName', 'clientId', 'username', 'lang'] as const).map((field) => ({
    page: 'consent',
    field,
    render: (value: string) => renderConsentPage({ ...consent, [field]: value }),
  })),
  {
    page: 'consent',
    field: 'scopes[]',
    render: (value) => renderConsentPage({ ...consent, scopes: ['openid', value] }),
  },
  ...(['title', 'message', 'lang'] as const).map((field) => ({
    page: 'error',
    field,
    render: (value: string) => renderErrorPage({ ...errorPage, [field]: value }),
  })),
  {
    page: 'error',
    field: 'details.label',
    render: (value) => renderErrorPage({ ...errorPage, details: [{ label: value, value: 'v' }] }),
  },
  {
    page: 'error',
    field: 'details.value',
    render: (value) => renderErrorPage({ ...errorPage, details: [{ label: 'l', value }] }),
  },
  {
    page: 'form post',
    field: 'redirectUri',
    render: (value) => renderFormPostPage({ ...formPost, redirectUri: value }).html,
  },
  {
    page: 'form post',
    field: 'fields (name)',
    render: (value) => renderFormPostPage({ ...formPost, fields: { code: 'a', [value]: 'b' } }).html,
  },
  {
    page: 'form post',
    field: 'fields (value)',
    render: (value) => renderFormPostPage({ ...formPost, fields: { code: 'a', state: value } }).html,
  },
  ...(['action', 'csrfToken', 'username', 'clientName', 'lang'] as const).map((field) => ({
    page: 'logout confirmation',
    field,
    render: (value: string) => renderLogoutConfirmPage({ ...logoutConfirm, [field]: value }),
  })),
  {
    page: 'logout confirmation',
    field: 'fields (name)',
    render: (value) => renderLogoutConfirmPage({ ...logoutConfirm, fields: { [value]: 'b' } }),
  },
  {
    page: 'logout confirmation',
    field: 'fields (value)',
    render: (value) => renderLogoutConfirmPage({ ...logoutConfirm, fields: { state: value } }),
  },
  { page: 'signed out', field: 'lang', render: (value) => renderSignedOutPage({ lang: value }) },
];

describe('escapeHtml and html', () => {
  test('escapes & < > " \' and backtick', () => {
    assert.equal(escapeHtml(`&<>"'\``), '&amp;&lt;&gt;&quot;&#39;&#96;');
    assert.equal(escapeHtml('plain text é'), 'plain text é');
  });

  test('html escapes interpolations, keeps SafeHtml, flattens arrays, drops null/undefined/false', () => {
    const out = html`<p title="${'"x"'}">${'<b>'}${raw('<i>ok</i>')}${html`<u>${'&'}</u>`}${['<', raw('<br>')]}${null}${undefined}${false}${42}</p>`;
    assert.ok(out instanceof SafeHtml);
    assert.equal(out.toString(), '<p title="&quot;x&quot;">&lt;b&gt;<i>ok</i><u>&amp;</u>&lt;<br>42</p>');
  });

  test('SafeHtml cannot be made or forged from outside', () => {
    const Ctor = SafeHtml as unknown as new (markup: string, token?: symbol) => SafeHtml;
    assert.throws(() => new Ctor('<script>', Symbol('SafeHtml')), TypeError);
    const forged = Object.create(SafeHtml.prototype) as SafeHtml;
    assert.equal(SafeHtml.is(forged), false);
    assert.throws(() => html`${forged}`, TypeError);
    assert.throws(() => html`${{ toString: () => '<script>' } as unknown as string}`, TypeError);
  });

  test('html refuses to be called with a plain array instead of a template', () => {
    const strings = ['<script>'] as unknown as TemplateStringsArray;
    assert.throws(() => html(strings), TypeError);
  });

  test('safeUrl refuses script and data URLs, also obfuscated', () => {
    for (const url of [
      'javascript:alert(1)',
      ' JaVaScRiPt:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,x',
      'vbscript:x',
    ]) {
      assert.throws(() => safeUrl(url), TypeError, url);
    }
    assert.equal(safeUrl('/login?a=1&b=2'), '/login?a=1&b=2');
    assert.throws(() => renderLoginPage({ ...login, action: 'javascript:alert(1)' }), TypeError);
    assert.throws(() => renderFormPostPage({ ...formPost, redirectUri: 'javascript:alert(1)' }), TypeError);
  });
});

describe('hostile values are escaped in every page and every field', () => {
  for (const c of cases) {
    test(`${c.page}: ${c.field}`, () => {
      const benign = c.render(BENIGN);
      for (const value of HOSTILE) {
        const out = c.render(value);
        // Escaped output contains none of these characters, so a hostile value may add none.
        for (const char of ['<', '>', '"', "'", '`']) {
          assert.equal(out.split(char).length, benign.split(char).length, `raw ${char} from ${JSON.stringify(value)}`);
        }
        assert.ok(!out.includes(value), `raw value ${JSON.stringify(value)}`);
        assert.doesNotMatch(out, /<img|<svg\/|<script>alert/i);
        // No start tag gained an event handler attribute (escaped text "onerror=" is harmless).
        for (const match of out.matchAll(/<[a-zA-Z](?:[^>"]|"[^"]*")*>/g)) {
          assert.doesNotMatch(match[0].replace(/"[^"]*"/g, '""'), /\son[a-z]+=/i, match[0]);
        }
        if (c.field !== 'lang')
          assert.ok(out.includes(escapeHtml(value)), `escaped value shown for ${JSON.stringify(value)}`);
      }
    });
  }

  test('an invalid lang falls back to en; a valid one is used', () => {
    assert.match(renderLoginPage({ ...login, lang: '"><x' }), /<html lang="en">/);
    assert.match(renderConsentPage({ ...consent, lang: 'fr-CA' }), /<html lang="fr-CA">/);
    assert.match(renderErrorPage({ title: 't', message: 'm' }), /<html lang="en">/);
  });
});

describe('form field contract', () => {
  test('login form: csrf_token, username, password, submit', () => {
    const doc = renderLoginPage(login);
    const form = only(tags(doc, 'form'), 'form');
    assert.equal(form.method, 'post');
    assert.equal(form.action, escapeHtml(login.action));
    assert.deepEqual(
      { type: inputNamed(doc, 'csrf_token').type, value: inputNamed(doc, 'csrf_token').value },
      { type: 'hidden', value: 'csrf-123' },
    );
    const username = inputNamed(doc, 'username');
    assert.equal(username.autocomplete, 'username');
    assert.ok('required' in username);
    assert.equal(username.value, 'alice');
    const password = inputNamed(doc, 'password');
    assert.equal(password.type, 'password');
    assert.equal(password.autocomplete, 'current-password');
    assert.ok('required' in password);
    assert.ok(!('value' in password), 'a password is never echoed back');
    assert.equal(only(tags(doc, 'button'), 'button').type, 'submit');
    assert.match(doc, /Sign in to continue to Acme/);
  });

  test('login: every input except hidden has a bound label', () => {
    const doc = renderLoginPage(login);
    for (const input of tags(doc, 'input').filter((a) => a.type !== 'hidden')) {
      assert.ok(input.id, `input ${input.name} has an id`);
      assert.ok(
        tags(doc, 'label').some((l) => l.for === input.id),
        `label for ${input.id}`,
      );
    }
  });

  test('login error is shown in a role=alert box only when given', () => {
    const withError = renderLoginPage(login);
    assert.match(withError, /<div class="alert" role="alert"[^>]*>[\s\S]*Wrong password[\s\S]*?<\/div>/);
    const { error: _error, ...noError } = login;
    assert.doesNotMatch(renderLoginPage(noError), /role="alert"/);
    assert.doesNotMatch(renderLoginPage({ ...login, error: '' }), /role="alert"/);
  });

  test('WCAG 3.3.1: after a failed sign-in both fields are aria-invalid and point at the message; not before', () => {
    const failed = renderLoginPage(login);
    for (const name of ['username', 'password']) {
      assert.equal(inputNamed(failed, name)['aria-invalid'], 'true', name);
      assert.equal(inputNamed(failed, name)['aria-describedby'], 'login-error', name);
    }
    const { error: _error, ...fresh } = login;
    for (const name of ['username', 'password'])
      assert.ok(!('aria-invalid' in inputNamed(renderLoginPage(fresh), name)));
  });

  test('logout confirmation has a Cancel link that keeps the session (outside the form, no submit)', () => {
    const doc = renderLogoutConfirmPage(logoutConfirm);
    assert.ok(
      tags(doc, 'a').some((a) => a.href === '/' && /btn/.test(a.class ?? '')),
      doc,
    );
    assert.match(doc, /<a [^>]*href="\/"[^>]*>Cancel, stay signed in<\/a>/);
  });

  test('RFC 8414 §3: the issuer root page links to the metadata documents and the JWKS, and to the account page', () => {
    const doc = renderHomePage({ issuer: 'https://id.example' });
    const links = tags(doc, 'a').map((a) => a.href);
    assert.deepEqual(links, [
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
      '/jwks',
      '/account',
    ]);
    assert.match(doc, /https:\/\/id\.example\/\.well-known\/openid-configuration/);
  });

  test('login without username: empty value', () => {
    const { username: _username, ...rest } = login;
    assert.equal(inputNamed(renderLoginPage(rest), 'username').value, '');
  });

  test('logout confirmation form: POST, csrf_token, the request as hidden fields, one submit button', () => {
    const doc = renderLogoutConfirmPage(logoutConfirm);
    const form = only(tags(doc, 'form'), 'form');
    assert.equal(form.method, 'post');
    assert.equal(form.action, '/logout/confirm');
    assert.equal(inputNamed(doc, 'csrf_token').type, 'hidden');
    assert.equal(inputNamed(doc, 'csrf_token').value, 'csrf-123');
    assert.equal(inputNamed(doc, 'client_id').value, 'acme-client');
    assert.equal(inputNamed(doc, 'state').value, 'xyz');
    assert.equal(only(tags(doc, 'button'), 'button').type, 'submit');
    assert.match(doc, /<h1>Sign out of Gatehouse\?<\/h1>/);
    assert.match(doc, /Acme asked to sign you out/);
    assert.match(renderLogoutConfirmPage({ ...logoutConfirm, clientName: null }), /Do you want to sign out\?/);
    assert.match(renderSignedOutPage(), /<h1 class="center">You are signed out<\/h1>/);
  });

  test('consent form: csrf_token and decision=allow/deny submit buttons', () => {
    const doc = renderConsentPage(consent);
    const form = only(tags(doc, 'form'), 'form');
    assert.equal(form.method, 'post');
    assert.equal(form.action, escapeHtml(consent.action));
    assert.equal(inputNamed(doc, 'csrf_token').type, 'hidden');
    assert.equal(inputNamed(doc, 'csrf_token').value, 'csrf-123');
    const buttons = tags(doc, 'button');
    assert.equal(buttons.length, 2);
    for (const decision of ['allow', 'deny']) {
      const button = only(
        buttons.filter((b) => b.value === decision),
        `${decision} button`,
      );
      assert.equal(button.type, 'submit');
      assert.equal(button.name, 'decision');
    }
    assert.match(doc, /<button type="submit" name="decision" value="allow"[^>]*>Allow<\/button>/);
    assert.match(doc, /<button type="submit" name="decision" value="deny"[^>]*>Deny<\/button>/);
  });

  test('consent shows client, user, client id and scopes in plain words', () => {
    const doc = renderConsentPage({ ...consent, scopes: ['openid', 'offline_access', 'custom:scope', 'openid'] });
    assert.match(doc, /Acme wants to access your account/);
    assert.match(doc, /<strong>alice<\/strong>/);
    assert.match(doc, /acme-client/);
    const items = [...doc.matchAll(/<li>[\s\S]*?<span>([\s\S]*?)<\/span><\/li>/g)].map((m) => m[1]);
    assert.deepEqual(items, [
      'Confirm who you are (your account identifier)',
      'Stay connected when you are not using the app',
      escapeHtml(describeScope('custom:scope')),
    ]);
    assert.match(renderConsentPage({ ...consent, scopes: [] }), /not asking for access/);
  });

  test('error page details are a definition list', () => {
    const doc = renderErrorPage({
      title: 'Invalid redirect URI',
      message: 'msg',
      details: [
        { label: 'Received', value: 'https://a.example/x' },
        { label: 'Registered', value: 'https://a.example/cb\nhttps://b.example/cb' },
      ],
    });
    assert.match(doc, /<h1[^>]*>Invalid redirect URI<\/h1>/);
    assert.match(
      doc,
      /<dl class="details">\s*<dt>Received<\/dt><dd>https:\/\/a\.example\/x<\/dd>\s*<dt>Registered<\/dt><dd>https:\/\/a\.example\/cb\nhttps:\/\/b\.example\/cb<\/dd>\s*<\/dl>/,
    );
    assert.doesNotMatch(renderErrorPage({ title: 't', message: 'm' }), /<dl/);
    assert.doesNotMatch(renderErrorPage({ title: 't', message: 'm', details: [] }), /<dl/);
  });

  test('form post page posts every field as a hidden input', () => {
    const { html: doc } = renderFormPostPage({
      redirectUri: 'https://client.example/cb?x=1&y=2',
      fields: { code: 'c0de', state: 's&t', iss: 'https://as.example' },
    });
    const form = only(tags(doc, 'form'), 'form');
    assert.equal(form.method, 'post');
    assert.equal(form.action, 'https://client.example/cb?x=1&amp;y=2');
    const inputs = tags(doc, 'input');
    assert.deepEqual(
      inputs.map((i) => [i.type, i.name, i.value]),
      [
        ['hidden', 'code', 'c0de'],
        ['hidden', 'state', 's&amp;t'],
        ['hidden', 'iss', 'https://as.example'],
      ],
    );
    assert.match(doc, /<noscript>[\s\S]*<button type="submit"[^>]*>Continue<\/button>[\s\S]*<\/noscript>/);
    assert.match(doc, /Returning you to the application…/);
  });
});

describe('CSP hashes', () => {
  const pages = {
    login: renderLoginPage(login),
    consent: renderConsentPage(consent),
    error: renderErrorPage(errorPage),
    'form post': renderFormPostPage(formPost).html,
    'logout confirmation': renderLogoutConfirmPage(logoutConfirm),
    'signed out': renderSignedOutPage(),
    layout: layout({ title: 't', body: html`<p>x</p>` }),
  };

  for (const [name, doc] of Object.entries(pages)) {
    test(`${name}: STYLE_HASH matches the one <style>, no style attributes`, () => {
      const text = styleText(doc);
      assert.equal(text, STYLE);
      assert.equal(sha256Source(text), STYLE_HASH);
      assert.doesNotMatch(doc, /\sstyle=/);
      assert.match(doc, /^<!doctype html>\n<html lang="en">/);
      assert.match(doc, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    });
  }

  test('only the form post page has a script', () => {
    for (const name of ['login', 'consent', 'error', 'logout confirmation', 'signed out', 'layout'] as const)
      assert.doesNotMatch(pages[name], /<script/);
  });

  test('form post script hash matches the inline script', () => {
    const { html: doc, scriptHash } = renderFormPostPage(formPost);
    const script = only([...doc.matchAll(/<script>([\s\S]*?)<\/script>/g)], '<script>')[1]!;
    assert.equal(script, FORM_POST_SCRIPT);
    assert.equal(scriptHash, sha256Source(script));
    assert.equal(scriptHash, FORM_POST_SCRIPT_HASH);
    assert.match(scriptHash, /^'sha256-[A-Za-z0-9+/]{43}='$/);
    // The script is constant: other values give the same hash.
    assert.equal(
      renderFormPostPage({ redirectUri: 'https://other.example/', fields: { error: 'access_denied' } }).scriptHash,
      scriptHash,
    );
  });

  test('STYLE_HASH is a CSP sha256 source', () => {
    assert.match(STYLE_HASH, /^'sha256-[A-Za-z0-9+/]{43}='$/);
  });
});

describe('pageCsp', () => {
  test('default policy', () => {
    assert.equal(
      pageCsp(),
      `default-src 'none'; style-src ${STYLE_HASH}; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    );
    assert.equal(pageCsp({}), pageCsp());
    assert.equal(pageCsp({ scriptHashes: [], formAction: [] }), pageCsp());
  });

  test('with script hashes and form-action sources', () => {
    const { scriptHash } = renderFormPostPage(formPost);
    assert.equal(
      pageCsp({
        scriptHashes: [scriptHash],
        formAction: ['https://client.example', "'self'", 'https://client.example'],
      }),
      `default-src 'none'; style-src ${STYLE_HASH}; img-src 'self' data:; form-action 'self' https://client.example; frame-ancestors 'none'; base-uri 'none'; script-src ${scriptHash}`,
    );
  });

  test('refuses values that would inject directives', () => {
    assert.throws(() => pageCsp({ formAction: ["https://a.example; script-src 'unsafe-inline'"] }), TypeError);
    assert.throws(() => pageCsp({ formAction: ['https://a.example,default-src *'] }), TypeError);
    assert.throws(() => pageCsp({ formAction: [''] }), TypeError);
    assert.throws(() => pageCsp({ scriptHashes: ["'unsafe-inline'"] }), TypeError);
    assert.throws(() => pageCsp({ scriptHashes: ["'sha256-abc'; img-src *"] }), TypeError);
  });

  test('cspSourceForUrl', () => {
    assert.equal(cspSourceForUrl('https://client.example/cb?x=1'), 'https://client.example');
    assert.equal(cspSourceForUrl('http://127.0.0.1:51004/cb'), 'http://127.0.0.1:51004');
    assert.equal(cspSourceForUrl('http://[::1]:8080/cb'), 'http:');
    assert.equal(cspSourceForUrl('com.example.app:/oauth2redirect'), 'com.example.app:');
    for (const url of ['https://client.example/cb', 'com.example.app:/cb'])
      pageCsp({ formAction: [cspSourceForUrl(url)] });
  });
});

describe('describeScope', () => {
  test('known scopes in plain language', () => {
    assert.equal(describeScope('openid'), 'Confirm who you are (your account identifier)');
    assert.equal(describeScope('offline_access'), 'Stay connected when you are not using the app');
    for (const scope of ['profile', 'email', 'address', 'phone']) {
      assert.ok(isKnownScope(scope));
      assert.match(describeScope(scope), /^See your /);
    }
  });

  test('unknown scopes show their name', () => {
    assert.equal(isKnownScope('photos:read'), false);
    assert.match(describeScope('photos:read'), /photos:read/);
    assert.equal(isKnownScope('toString'), false);
    assert.match(describeScope('toString'), /toString/);
  });
});
