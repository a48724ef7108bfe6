/**
 * docs/troubleshooting.md has one entry per error Gatehouse emits, enumerated from the source:
 * every error class of src/core/errors.ts and src/resource/bearer-errors.ts, every OAuth `error`
 * code they carry (RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 7591 §3.2.2, RFC 8628 §3.5,
 * RFC 8707, RFC 9101, RFC 9126, RFC 9449, OpenID Connect Core §3.1.2.6), the codes the HTTP layer
 * writes itself, and the title of every error page.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import * as coreErrors from '../../src/core/errors.js';
import * as bearerErrors from '../../src/resource/bearer-errors.js';
import { EN, type MessageKey } from '../../src/ui/messages/en.js';
import { REPO_ROOT, readDoc } from '../helpers/docs.js';

const PAGE = readDoc('troubleshooting.md');
const source = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(REPO_ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The exported error classes of a module (every export that is a subclass of Error). */
function errorClasses(module: Record<string, unknown>): string[] {
  return Object.entries(module)
    .filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error)
    .map(([name]) => name);
}

/** Every OAuth `error` code the source emits. */
function errorCodes(): Set<string> {
  const codes = new Set<string>();
  const errors = source('src/core/errors.ts');
  for (const pattern of [/oauthError\('(\w+)'/g, /readonly error = '(\w+)'/g, /label: 'error', value: '(\w+)'/g])
    for (const match of errors.matchAll(pattern)) codes.add(match[1]!);
  const bearerUnion = /type BearerErrorCode =([^;]+);/.exec(source('src/resource/bearer-errors.ts'))?.[1];
  assert.ok(bearerUnion, 'src/resource/bearer-errors.ts declares BearerErrorCode');
  for (const match of bearerUnion.matchAll(/'(\w+)'/g)) codes.add(match[1]!);
  // Codes the HTTP layer and the resource middleware write as JSON themselves.
  for (const file of [...sourceFiles('src/http'), ...sourceFiles('src/resource')])
    for (const match of source(file).matchAll(/\berror: '(\w+)'/g)) codes.add(match[1]!);
  return codes;
}

/** The title of every error page: the UnsafeAuthorizationRequest titles and error-responses.ts's own. */
function pageTitles(): Set<string> {
  const titles = new Set<string>();
  for (const file of sourceFiles('src/core'))
    for (const match of source(file).matchAll(/new UnsafeAuthorizationRequest\(\s*'([^']+)'/g)) titles.add(match[1]!);
  for (const match of source('src/core/errors.ts').matchAll(/super\(\s*'([^']+)',\s*detail/g)) titles.add(match[1]!);
  // The pages' part of error-responses.ts: the admin API's problem details (after its marker) are JSON, not pages.
  const pages = source('src/http/error-responses.ts').split('// --- The admin API')[0]!;
  for (const match of pages.matchAll(/title: '([^']+)'/g)) titles.add(match[1]!);
  // Titles from the message files (src/ui/messages/): the English text is the entry's name.
  for (const match of pages.matchAll(/title: t\.text\('([\w.]+)'\)/g)) titles.add(EN[match[1] as MessageKey]);
  return titles;
}

/** The entry under `heading` (up to the next heading of level 2 or 3). */
function entry(heading: string): string {
  const start = PAGE.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `docs/troubleshooting.md has the entry ${heading}`);
  const rest = PAGE.slice(start + heading.length + 2);
  const next = rest.search(/^#{2,3} /m);
  return next < 0 ? rest : rest.slice(0, next);
}

describe('docs/troubleshooting.md: one entry per error Gatehouse emits', () => {
  test('the enumeration finds the codes of RFC 6749 §5.2, RFC 6750 §3.1, RFC 7591 §3.2.2 and RFC 8628 §3.5', () => {
    const codes = errorCodes();
    for (const code of [
      'invalid_request',
      'invalid_client',
      'invalid_grant',
      'unauthorized_client',
      'unsupported_grant_type',
      'invalid_scope',
      'invalid_token',
      'insufficient_scope',
      'invalid_redirect_uri',
      'invalid_client_metadata',
      'authorization_pending',
      'slow_down',
      'expired_token',
    ])
      assert.ok(codes.has(code), code);
  });

  test('every OAuth error code has an entry saying what it means, its causes, and the fix for the client developer and the operator', () => {
    for (const code of errorCodes()) {
      const text = entry(`### \`${code}\``);
      for (const part of ['**Means:**', '**Common causes:**', '**Client developer:**', '**Operator:**'])
        assert.ok(text.includes(part), `${code}: ${part}`);
    }
  });

  test('every error page has an entry under its title', () => {
    const titles = pageTitles();
    assert.ok(titles.has('Unknown application') && titles.has('Cannot continue'), 'the enumeration finds page titles');
    for (const title of titles) assert.ok(entry(`### Page: "${title}"`).trim().length > 0, title);
  });

  test('every error class of src/core/errors.ts and src/resource/bearer-errors.ts is named', () => {
    const classes = [...errorClasses(coreErrors), ...errorClasses(bearerErrors)];
    assert.ok(classes.includes('InvalidGrant') && classes.includes('BearerError'));
    const abstract = new Set(['OAuthError']);
    for (const name of classes) if (!abstract.has(name)) assert.ok(PAGE.includes(`\`${name}\``), name);
  });
});
