/**
 * README.md is short: what Gatehouse is, the two set-up commands (one installs and runs the demo
 * on SQLite, one runs the tests), the license, and links into docs/. Every section of the
 * README that was split into docs/ still exists there.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { REPO_ROOT, allDocs } from '../helpers/docs.js';
import { useTempDir } from '../helpers/temp-dir.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

let dir = '';
useTempDir('gatehouse-readme-quick-start-', (created) => (dir = created));

/** The section under `## heading`, up to the next `## `. */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `README.md has a section ${heading}`);
  const next = README.indexOf('\n## ', start + heading.length + 4);
  return README.slice(start, next < 0 ? undefined : next);
}

describe('README.md', () => {
  test('is short (at most 120 lines)', () => {
    assert.ok(README.split('\n').length <= 120, `${README.split('\n').length} lines`);
  });

  test('"Set up" has exactly two commands: the demo on SQLite, and the tests', () => {
    const commands = [...section('Set up').matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!.trim());
    assert.deepEqual(commands, ['npm install && npx gatehouse demo', 'npm test']);
  });

  test('links the documentation index, concepts, every guide, troubleshooting and both references', () => {
    for (const page of [
      'docs/README.md',
      'docs/concepts.md',
      'docs/guides/web-app.md',
      'docs/guides/spa.md',
      'docs/guides/native-app.md',
      'docs/guides/machine-to-machine.md',
      'docs/guides/mcp.md',
      'docs/guides/protect-an-api.md',
      'docs/troubleshooting.md',
      'docs/reference/settings.md',
      'docs/reference/cli.md',
    ])
      assert.ok(README.includes(`](${page})`), page);
  });

  test('the Quick start registers an app with a command that works', async () => {
    const commands = /```sh\n([\s\S]*?)```/.exec(section('Quick start'))?.[1];
    assert.ok(commands, 'Quick start shows commands');
    const create = /^\s*npx gatehouse (clients create .*)$/m.exec(commands)?.[1];
    assert.ok(create, 'Quick start creates a client');
    const args = [...create.matchAll(/"([^"]*)"|(\S+)/g)].map((token) => token[1] ?? token[2]!);
    const database = `sqlite:${join(dir, 'gatehouse.db')}`;
    const run = await runCli([...args, '--database', database]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /client_secret/);
    assert.match(commands, /^\s*npx gatehouse start$/m);
  });

  test('"Operating Gatehouse" shows the admin API with curl commands that the tested examples of docs/operating.md run, the console, and the private listener', () => {
    const operating = section('Operating Gatehouse');
    const commands = /```sh\n([\s\S]*?)```/.exec(operating)?.[1];
    assert.ok(commands, 'the section shows commands');
    const tested = /<!-- curl-examples:start -->\n```sh\n([\s\S]*?)```/.exec(
      readFileSync(join(REPO_ROOT, 'docs', 'operating.md'), 'utf8'),
    )?.[1];
    assert.ok(tested, 'docs/operating.md has the curl examples test/admin/admin-docs.test.ts runs');
    // Every line shown here is a line of those examples, in the same order.
    let from = 0;
    for (const line of commands.trim().split('\n')) {
      const at = tested.indexOf(`${line}\n`, from);
      assert.ok(at >= 0, `not among the tested examples, in order: ${line}`);
      from = at + line.length;
    }
    for (const named of ['/admin/v1', '/console', 'admin.listen', 'gatehouse admin bootstrap'])
      assert.ok(operating.includes(named), named);
  });

  test('names the license', () => {
    assert.match(section('License'), /Apache License 2\.0 \(LICENSE\)/);
  });
});

describe('docs/: nothing of the former README was lost', () => {
  /** The sections of the README before the split, and where each heading is now when it changed. */
  const SECTIONS: Record<string, string> = {
    'How the flow works': 'How the flow works in Gatehouse',
    'Running the server': 'Running the server',
    CLI: 'CLI',
    'Config file': 'Config file',
    'The login and consent pages: a stable form contract': 'The login and consent pages: a stable form contract',
    'Signing out': 'Signing out',
    Tokens: 'Tokens',
    'High-security clients': 'High-security clients',
    'DPoP: sender-constrained tokens (RFC 9449)': 'DPoP: sender-constrained tokens (RFC 9449)',
    'Pushed authorization requests (RFC 9126)': 'Pushed authorization requests (RFC 9126)',
    'Signed request objects (JAR, RFC 9101)': 'Signed request objects (JAR, RFC 9101)',
    'Binding the authorization code to a DPoP key (`dpop_jkt`, RFC 9449 §10)':
      'Binding the authorization code to a DPoP key (`dpop_jkt`, RFC 9449 §10)',
    'FAPI 2.0': 'FAPI 2.0',
    'Clients without registration: Client ID Metadata Documents':
      'Clients without registration: Client ID Metadata Documents',
    'Devices and agents': 'Devices and agents',
    'Devices: the device authorization grant (RFC 8628)': 'Devices: the device authorization grant (RFC 8628)',
    'Token exchange (RFC 8693): an agent calling on for a user':
      'Token exchange (RFC 8693): an agent calling on for a user',
    'Clients that register themselves': 'Clients that register themselves',
    'Login with Gatehouse': 'A minimal relying party',
    'Works with': 'Works with',
    'OpenID Connect': 'OpenID Connect',
    'Signing keys and rotation': 'Signing keys and rotation',
    'Embedding Gatehouse in your app': 'Embedding Gatehouse in your app',
    'Protecting an API: `gatehouse-resource`': 'Guide: protecting an API with `gatehouse-resource`',
    'MCP servers': 'Guide: an MCP server and client',
    'The three-party demo': 'The three-party demo',
    Performance: 'Performance',
    Production: 'Production',
    'gatehouse doctor': 'gatehouse doctor',
    Operations: 'Operations',
    'Health and readiness': 'Health and readiness',
    Metrics: 'Metrics',
    Tracing: 'Tracing',
    'Shutdown and outages': 'Shutdown and outages',
    'TLS, proxies and headers': 'TLS, proxies and headers',
    Logs: 'Logs',
    'Error messages': 'Error messages',
    'Running many instances': 'Running many instances',
    Cleanup: 'Cleanup',
    'Interactions in the database': 'Interactions in the database',
    Memory: 'Memory',
    'Outbound requests': 'Outbound requests',
    'Brute-force limits': 'Brute-force limits',
    'Audit trail': 'Audit trail',
  };

  test('every section of the former README is a heading of a page of docs/', () => {
    const headings = new Set([...allDocs().matchAll(/^#{1,6} (.+)$/gm)].map((match) => match[1]!));
    for (const [before, now] of Object.entries(SECTIONS)) assert.ok(headings.has(now), `${before} (now "${now}")`);
  });
});
