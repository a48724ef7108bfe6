/**
 * Documentation-driven: every config file key is documented (README.md or docs/), the config
 * examples (docs/configuration.md and the clients of docs/works-with.md) load as shown, the
 * "Works with" table lists the libraries, the settings table of docs/reference/settings.md is the
 * generated one, and the rule of docs/tokens.md on client authentication methods is what the
 * server does.
 *
 * Run: node --import tsx --test test/config/readme-config.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TOP_LEVEL_KEYS, USER_KEYS, loadConfigFile } from '../../src/config/load-config.js';
import { CLIENT_METADATA_FIELDS } from '../../src/core/registration/client-metadata.js';
import { SETTINGS_TABLE_END, SETTINGS_TABLE_START, settingsTable } from '../../src/config/settings-table.js';
import { SETTINGS } from '../../src/config/settings-schema.js';
import { basicAuthorization } from '../helpers/code-flow.js';
import { CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { allDocs, readDoc } from '../helpers/docs.js';

let dir: string;
let docs: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-readme-'));
  docs = allDocs();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A page of docs/, checked to start with its title `# heading`. */
function section(page: string, heading: string): string {
  const text = readDoc(page);
  assert.ok(text.startsWith(`${heading}\n`), `docs/${page} is the page ${heading}`);
  return text;
}

/** The first YAML example of a page of docs/, loaded as a config file. */
async function loadYamlOf(page: string, heading: string) {
  const example = /```yaml\n([\s\S]*?)```/.exec(section(page, heading))?.[1];
  assert.ok(example, `${heading} has a YAML example`);
  const path = join(dir, `${heading.replace(/\W+/g, '-')}.yaml`);
  await writeFile(path, example);
  return loadConfigFile(path);
}

describe('docs: config file keys', () => {
  test('every config file key (top level, client metadata, user) is documented in README.md or docs/', () => {
    for (const key of [...TOP_LEVEL_KEYS, ...CLIENT_METADATA_FIELDS, ...USER_KEYS]) {
      const documented =
        docs.includes(`\`${key}\``) || docs.includes(`\`${key}: `) || new RegExp(`^\\s*(- )?${key}:`, 'm').test(docs);
      assert.ok(documented, `the documentation names the config key ${key}`);
    }
  });

  test('the "Config file" example shows the new keys, and they load as shown', async () => {
    const config = await loadYamlOf('configuration.md', '# Config file');
    assert.equal(config.audit_retention_days, 90);
    assert.equal(config.id_token_signed_response_alg_default, 'RS256');
    assert.equal(config.id_token_claims_default, true);
    const web = config.clients?.find((client) => client.client_id === 'web-app');
    assert.equal(web?.require_pkce, true);
    assert.equal(web?.id_token_claims, true);
    assert.equal(web?.id_token_signed_response_alg, 'RS256');
    assert.deepEqual(web?.response_types, ['code']);
  });
});

describe('docs/reference/settings.md: settings table', () => {
  test('the settings table is the one the schema generates (run: node --import tsx scripts/settings-table.ts --write)', () => {
    const reference = readDoc('reference/settings.md');
    const start = reference.indexOf(SETTINGS_TABLE_START);
    const end = reference.indexOf(SETTINGS_TABLE_END);
    assert.ok(start >= 0 && end > start, 'docs/reference/settings.md has the settings table markers');
    assert.equal(reference.slice(start, end + SETTINGS_TABLE_END.length), settingsTable());
  });

  test('every setting of the schema has a row, a doc line and its config key; flags and variables are named in their row', () => {
    const table = settingsTable();
    for (const { key, meta } of SETTINGS) {
      const row = table.split('\n').find((line) => line.includes(`| \`${key}\` |`));
      assert.ok(row, `a row for ${key}`);
      assert.ok(meta.doc.length > 0, `${key} has a doc line`);
      if (meta.env) assert.ok(row.includes(`\`${meta.env}\``), `${key}: ${meta.env}`);
      if (meta.flag) assert.ok(row.includes(`\`${/--[a-z-]+/.exec(meta.flag)![0]}\``), `${key}: ${meta.flag}`);
    }
  });
});

describe('docs/high-security-clients.md', () => {
  test('RFC 7523 §2.2: its config example loads as shown: a private_key_jwt client with jwks and no client_secret, a client_secret_jwt client', async () => {
    const config = await loadYamlOf('high-security-clients.md', '# High-security clients');
    const clients = new Map((config.clients ?? []).map((client) => [client.client_id, client]));
    assert.equal(clients.get('payments-service')?.token_endpoint_auth_method, 'private_key_jwt');
    assert.equal(clients.get('payments-service')?.client_secret, undefined);
    assert.equal(clients.get('legacy-portal')?.token_endpoint_auth_method, 'client_secret_jwt');
  });
});

describe('docs/works-with.md', () => {
  const LIBRARIES = [
    'Apache mod_auth_openidc',
    'Python authlib',
    'Python requests-oauthlib',
    'oidc-client-ts',
    'passport-openidconnect',
    "openid-client's Passport strategy",
    'Auth.js',
    'express-openid-connect',
  ];

  test('the table has a row for each library with the settings it needs', () => {
    const rows = section('works-with.md', '# Works with')
      .split('\n')
      .filter((line) => line.startsWith('| '));
    for (const library of LIBRARIES)
      assert.ok(
        rows.some((row) => row.startsWith(`| ${library}`)),
        `a row for ${library}`,
      );
    const row = (library: string) => rows.find((line) => line.startsWith(`| ${library}`))!;
    assert.match(row('Apache mod_auth_openidc'), /`OIDCPKCEMethod S256`/);
    assert.match(row('passport-openidconnect'), /`require_pkce: false`/);
    assert.match(row('passport-openidconnect'), /`client_secret_post`/);
    assert.match(row('oidc-client-ts'), /`token_endpoint_auth_method: none`/);
  });

  test('RFC 9700 §2.1.1: its clients load as shown: require_pkce: false and client_secret_post for passport-openidconnect, a public client for oidc-client-ts', async () => {
    const config = await loadYamlOf('works-with.md', '# Works with');
    const clients = new Map((config.clients ?? []).map((client) => [client.client_id, client]));
    assert.equal(clients.size, 8);
    const passport = clients.get('passport-openidconnect');
    assert.equal(passport?.require_pkce, false);
    assert.equal(passport?.token_endpoint_auth_method, 'client_secret_post');
    assert.equal(clients.get('spa')?.token_endpoint_auth_method, 'none');
    assert.equal(clients.get('spa')?.require_pkce, true);
    for (const id of [
      'apache',
      'authlib',
      'requests-oauthlib',
      'openid-client-passport',
      'authjs',
      'express-openid-connect',
    ]) {
      assert.equal(clients.get(id)?.token_endpoint_auth_method, 'client_secret_basic', id);
      assert.equal(clients.get(id)?.require_pkce, true, id);
    }
  });
});

describe('docs/tokens.md: client authentication', () => {
  test('RFC 6749 §2.3.1: the documentation says only the registered method is accepted, and a client_secret_basic client sending client_secret_post gets invalid_client (400: it did not use Basic, §5.2)', async () => {
    assert.match(
      section('tokens.md', '# Tokens'),
      /with the method it registered \(`token_endpoint_auth_method`, default\s+`client_secret_basic`\) and with no other/,
    );
    const gatehouse = await startTestServer();
    try {
      const post = await fetch(`${gatehouse.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: 'x',
          client_id: CONFIDENTIAL_CLIENT.client_id,
          client_secret: CONFIDENTIAL_CLIENT.client_secret!,
        }),
      });
      assert.equal(post.status, 400);
      assert.equal(post.headers.get('www-authenticate'), null);
      assert.equal(((await post.json()) as { error: string }).error, 'invalid_client');
      const basic = await fetch(`${gatehouse.url}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: basicAuthorization(CONFIDENTIAL_CLIENT.client_id, CONFIDENTIAL_CLIENT.client_secret!),
        },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'x' }),
      });
      assert.equal(
        ((await basic.json()) as { error: string }).error,
        'invalid_grant',
        'the registered method authenticates',
      );
    } finally {
      await gatehouse.close();
    }
  });
});
