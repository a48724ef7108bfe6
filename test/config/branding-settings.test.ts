/**
 * The branding and language settings at config load (src/config/schema/branding-settings.ts):
 * colours are CSS colours with enough contrast (WCAG 2.2 §1.4.3, §1.4.11), the logo is an image
 * source the pages' CSP allows, the languages are shipped ones, a resource's scope descriptions
 * describe its own scopes, and the stylesheet and template files are read (and checked) now,
 * relative to the config file; every problem is a ConfigError naming the key, never a 500 later.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { useTempDir } from '../helpers/temp-dir.js';
import { assertConfigError, resolveSettingsIn } from '../helpers/settings.js';

const SECRET = 'x'.repeat(32);
const TEMPLATES = fileURLToPath(new URL('../fixtures/branding-templates/', import.meta.url));
let root: string;
let counter = 0;
useTempDir('gatehouse-branding-', (created) => (root = created));

/** Settings from a config file holding `yaml` in a fresh folder; `files` are written beside it first. */
async function load(yaml: string, files: Record<string, string> = {}) {
  const cwd = join(root, `cwd-${counter++}`);
  await mkdir(cwd);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(cwd, name, '..'), { recursive: true });
    await writeFile(join(cwd, name), text);
  }
  await writeFile(join(cwd, 'gatehouse.yaml'), yaml);
  return { cwd, settings: resolveSettingsIn({ cwd, secret: SECRET }, { flags: { config: 'gatehouse.yaml' } }) };
}

describe('branding settings', () => {
  test('a full branding loads; the stylesheet and templates paths are resolved against the config file', async () => {
    const cwd = join(root, `cwd-${counter++}`);
    await mkdir(join(cwd, 'conf', 'templates'), { recursive: true });
    await copyFile(join(TEMPLATES, 'login.html'), join(cwd, 'conf', 'templates', 'login.html'));
    await writeFile(join(cwd, 'conf', 'extra.css'), '.card{border-radius:0}');
    await writeFile(
      join(cwd, 'conf', 'gatehouse.yaml'),
      [
        'branding:',
        '  product_name: Acme Login',
        '  logo_url: /static/acme.svg',
        '  colors: { primary: "#0b6e4f", accent: "rgb(11, 110, 79)", background: "#fff", text: "#222" }',
        '  stylesheet: extra.css',
        '  templates: templates',
        'languages: [de, en]',
      ].join('\n'),
    );
    const settings = await resolveSettingsIn({ cwd, secret: SECRET }, { flags: { config: 'conf/gatehouse.yaml' } });
    assert.equal(settings.branding?.productName, 'Acme Login');
    assert.equal(settings.branding?.stylesheet, join(cwd, 'conf', 'extra.css'));
    assert.equal(settings.branding?.templates, join(cwd, 'conf', 'templates'));
    assert.deepEqual(settings.branding?.colors, {
      primary: '#0b6e4f',
      accent: 'rgb(11, 110, 79)',
      background: '#fff',
      text: '#222',
    });
    assert.deepEqual(settings.languages, ['de', 'en']);
  });

  test("without branding or languages the settings say nothing, and the pages are Gatehouse's own in English", async () => {
    const settings = await load('port: 9001\n').then((r) => r.settings);
    assert.equal(settings.branding, undefined);
    assert.equal(settings.languages, undefined);
  });

  for (const [value, ok] of [
    ['"#0b6e4f"', true],
    ['"#abc"', true],
    ['"rgb(1, 2, 3)"', true],
    ['red', false],
    ['"#0b6e4f; } body { display:none"', false],
    ['"rgb(300, 0, 0)"', false],
    ['"url(https://evil.example/x)"', false],
  ] as const) {
    test(`colours: ${value} is ${ok ? 'accepted' : 'refused, naming the key'}`, async () => {
      const { settings } = await load(`branding:\n  colors:\n    primary: ${value}\n`);
      if (ok) assert.ok((await settings).branding?.colors?.primary);
      else await assertConfigError(settings, /branding\.colors\.primary.*CSS colour/s);
    });
  }

  test('WCAG 2.2 §1.4.3: text and background are set together and need 4.5:1; primary on the background needs 3:1', async () => {
    await assertConfigError(
      (await load('branding:\n  colors:\n    text: "#333"\n')).settings,
      /background and text must be set together/,
    );
    await assertConfigError(
      (await load('branding:\n  colors:\n    background: "#ffffff"\n    text: "#aaaaaa"\n')).settings,
      /contrast of 2\.\d\d:1; at least 4\.5:1/,
    );
    await assertConfigError(
      (await load('branding:\n  colors:\n    background: "#ffffff"\n    text: "#000"\n    primary: "#ffff00"\n'))
        .settings,
      /primary on background has a contrast of 1\.\d\d:1; at least 3:1/,
    );
  });

  for (const [value, ok] of [
    ['/static/logo.svg', true],
    ['data:image/png;base64,iVBORw0KGgo=', true],
    ['https://cdn.example/logo.png', false],
    ['//cdn.example/logo.png', false],
    ['javascript:alert(1)', false],
    ['data:text/html;base64,PHNjcmlwdD4=', false],
    ['"/logo.svg\\" onerror=\\"alert(1)"', false],
  ] as const) {
    test(`logo_url: ${value} is ${ok ? 'accepted' : 'refused (the CSP allows only same-origin and data: images)'}`, async () => {
      const { settings } = await load(`branding:\n  logo_url: ${value}\n`);
      if (ok) assert.ok((await settings).branding?.logoUrl);
      else await assertConfigError(settings, /branding\.logo_url.*Content-Security-Policy/s);
    });
  }

  test('languages: only shipped ones, each once', async () => {
    await assertConfigError((await load('languages: [en, fr]\n')).settings, /languages.*"fr".*shipped: en, de/s);
    await assertConfigError((await load('languages: [de, de]\n')).settings, /languages.*twice/s);
    await assertConfigError((await load('languages: []\n')).settings, /languages/);
  });

  test('a missing stylesheet or templates folder is a config-load error', async () => {
    await assertConfigError(
      (await load('branding:\n  stylesheet: missing.css\n')).settings,
      /branding\.stylesheet: cannot read .*missing\.css/,
    );
    await assertConfigError(
      (await load('branding:\n  templates: no-such-folder\n')).settings,
      /branding\.templates: cannot read the folder .*no-such-folder/,
    );
  });

  test('a broken template is a config-load error naming the file and line', async () => {
    const { settings } = await load('branding:\n  templates: tpl\n', {
      'tpl/consent.html': '<h1>{{heading}}</h1>\n<p>{{password}}</p>\n',
    });
    await assertConfigError(
      settings,
      /Invalid template .*tpl\/consent\.html \(line 2\): \{\{password\}\} is not a value of the consent page/,
    );
  });
});

describe('resources: scope_descriptions', () => {
  const resource = (descriptions: string) =>
    `resources:\n  - resource: https://notes.example.com/\n    scopes: [notes:read, notes:write]\n    scope_descriptions: ${descriptions}\n`;

  test("a text or a text per language, for the resource's own scopes", async () => {
    const settings = await (
      await load(
        resource(
          '{ "notes:read": Read your notes, "notes:write": { en: Change your notes, de: Ihre Notizen ändern } }',
        ),
      )
    ).settings;
    assert.deepEqual(settings.resources[0]!.scope_descriptions, {
      'notes:read': 'Read your notes',
      'notes:write': { en: 'Change your notes', de: 'Ihre Notizen ändern' },
    });
  });

  test('refused: a scope the resource does not list, a language that is not shipped, an empty text', async () => {
    await assertConfigError(
      (await load(resource('{ "notes:delete": Delete your notes }'))).settings,
      /resources\[0\]\.scope_descriptions\.notes:delete.*does not list/s,
    );
    await assertConfigError(
      (await load(resource('{ "notes:read": { fr: Lire vos notes } }'))).settings,
      /scope_descriptions\.notes:read\.fr.*not a language of the pages/s,
    );
    await assertConfigError(
      (await load(resource('{ "notes:read": "" }'))).settings,
      /scope_descriptions\.notes:read.*non-empty/s,
    );
  });
});
