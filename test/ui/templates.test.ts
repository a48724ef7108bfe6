/**
 * Template overrides (src/ui/templates.ts): values are escaped, only the documented values of a
 * page may be used, a value inside a tag must be in a double-quoted attribute (URL attributes
 * take URL values only), nothing the CSP would block is accepted, and the forms keep the stable
 * form contract. Every problem is a ConfigError naming the file and line, found when the
 * templates are loaded: at config load, and when a server starts with them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/schema/config-error.js';
import { compileTemplate, loadTemplates, type TemplatePage } from '../../src/ui/templates.js';
import { html } from '../../src/ui/html.js';
import { startTestServer } from '../helpers/server.js';

const LOGIN_FORM = `<form method="post" action="{{action}}">{{hidden_fields}}
<input name="username" value="{{username}}"><input name="password" type="password"><button>{{submit_label}}</button></form>`;

function refused(page: TemplatePage, text: string, message: RegExp): void {
  assert.throws(
    () => compileTemplate(page, text, `/t/${page}.html`),
    (error: unknown) => error instanceof ConfigError && message.test(error.message),
    text,
  );
}

describe('template overrides', () => {
  test("values are HTML-escaped in text and in quoted attributes; Gatehouse's markup values go in as markup", () => {
    const template = compileTemplate(
      'login',
      `<p title="{{client_name}}">{{client_name}}</p>${LOGIN_FORM}`,
      '/t/login.html',
    );
    const out = template
      .render({
        client_name: '<script>alert(1)</script>"\'',
        action: '/interaction/x/login',
        hidden_fields: html`<input type="hidden" name="csrf_token" value="${'c"1'}">`,
        username: '" autofocus onfocus="alert(1)',
        submit_label: 'Sign in',
      })
      .toString();
    assert.match(out, /<p title="&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;">&lt;script&gt;/);
    assert.match(out, /<input type="hidden" name="csrf_token" value="c&quot;1">/);
    assert.match(out, /value="&quot; autofocus onfocus=&quot;alert\(1\)"/);
    assert.doesNotMatch(out, /<script>/);
  });

  test('only the documented values of the page', () => {
    refused(
      'login',
      `{{client_secret}}${LOGIN_FORM}`,
      /line 1\): \{\{client_secret\}\} is not a value of the login page/,
    );
    refused('home', '<p>{{username}}</p>', /\{\{username\}\} is not a value of the home page/);
    refused('home', '<p>{{ heading }</p>', /unbalanced/);
  });

  test('a value inside a tag must be in a double-quoted attribute; URL attributes take URL values only; markup values never in a tag', () => {
    refused('login', `<p title={{client_name}}>x</p>${LOGIN_FORM}`, /double-quoted attribute value/);
    refused('login', `<p title='{{client_name}}'>x</p>${LOGIN_FORM}`, /double-quoted attribute value/);
    refused('login', `<a href="{{client_name}}">x</a>${LOGIN_FORM}`, /not a URL value and cannot be used in href=/);
    refused('error', '<p title="{{details}}">x</p>', /markup and cannot be used inside a tag/);
    compileTemplate(
      'logout',
      '<form action="{{action}}">{{hidden_fields}}</form><a href="{{cancel_url}}">x</a>',
      '/t/logout.html',
    );
  });

  test('nothing the CSP would block: script, style, style attributes, event handlers', () => {
    refused('home', '<script>alert(1)</script>', /"<script" is not allowed/);
    refused('home', '<style>p{}</style>', /"<style" is not allowed/);
    refused('home', '<p\nstyle="color:red">x</p>', /line 2\).*"style=" is not allowed/s);
    refused('home', '<img src="/x.png" onerror="alert(1)">', /"onerror=" is not allowed/);
  });

  test('the stable form contract: the form posts to {{action}} with {{hidden_fields}} and the documented fields', () => {
    refused('login', LOGIN_FORM.replace('{{hidden_fields}}', ''), /must use \{\{hidden_fields\}\}/);
    refused('login', LOGIN_FORM.replace('action="{{action}}"', 'action="/elsewhere"'), /must use \{\{action\}\}/);
    refused('login', LOGIN_FORM.replace('name="password"', 'name="pass"'), /name="password"/);
    const consent =
      '<form action="{{action}}">{{hidden_fields}}<button name="decision" value="allow">a</button></form>';
    refused('consent', consent, /value="deny"/);
    refused('device-code', '<form action="{{action}}">{{hidden_fields}}</form>', /name="user_code"/);
  });

  test('a folder: one file per known page; another file name is refused (it would silently change nothing)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-templates-'));
    writeFileSync(join(folder, 'home.html'), '<h1>{{heading}}</h1>');
    assert.deepEqual(Object.keys(loadTemplates(folder)), ['home']);
    writeFileSync(join(folder, 'logon.html'), '<h1>x</h1>');
    assert.throws(
      () => loadTemplates(folder),
      /logon\.html is not a page template \(expected one of: login\.html, consent\.html/,
    );
  });

  test('settings given to the server directly (not through a config file) are held to the same branding rules', async () => {
    await assert.rejects(
      startTestServer({ settings: { branding: { logoUrl: 'javascript:alert(1)' } } }),
      (error: unknown) => error instanceof ConfigError && /branding\.logo_url/.test(error.message),
    );
    await assert.rejects(
      startTestServer({ settings: { branding: { colors: { primary: 'red;}' } } } }),
      (error: unknown) => error instanceof ConfigError && /branding\.colors\.primary/.test(error.message),
    );
  });

  test('a server with a broken template does not start (no 500 at request time)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'gatehouse-templates-'));
    writeFileSync(join(folder, 'login.html'), '<h1>{{heading}}</h1>');
    await assert.rejects(
      startTestServer({ settings: { branding: { templates: folder } } }),
      (error: unknown) => error instanceof ConfigError && /login\.html.*\{\{action\}\}/.test(error.message),
    );
  });
});
