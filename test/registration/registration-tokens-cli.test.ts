/**
 * `gatehouse registration-tokens create|list|revoke`: RFC 7591 §3 initial access tokens for
 * `registration.mode: token`, run as child processes from source against a temporary SQLite
 * database, and used at a server on that database.
 *
 * Run: node scripts/run-tests.mjs test/registration
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { sha256Base64Url } from '../../src/core/secrets.js';
import { startTestServer } from '../helpers/server.js';
import { assertOneLineFailure, runCli, withStoreAt } from '../helpers/cli.js';
import { PUBLIC_REGISTRATION, assertRegistered, assertRegistrationError, register } from '../helpers/registration.js';

let dir: string;
let database: string;

const gatehouse = (args: string[]) => runCli([...args, '--database', database]);

async function listTokens(): Promise<Array<Record<string, unknown>>> {
  const run = await gatehouse(['registration-tokens', 'list', '--json']);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as Array<Record<string, unknown>>;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-registration-tokens-'));
  database = `sqlite:${join(dir, 'gatehouse.db')}`;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gatehouse registration-tokens', () => {
  test('RFC 7591 §3: create prints a token once (stored hashed) that authorizes --uses registrations at a token-mode server', async () => {
    const created = await gatehouse(['registration-tokens', 'create', '--uses', '1', '--expires-in', '3600']);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.split('\n')[1]!;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.match(created.stdout, /shown only now/);
    const stored = await withStoreAt(database, (store) => store.registrations.listTokens());
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.tokenHash, sha256Base64Url(token), 'only the hash is stored');

    const server = await startTestServer({
      databaseUrl: database,
      settings: { registration: { ...DEFAULT_SETTINGS.registration, mode: 'token' } },
    });
    try {
      assertRegistered(await register(server, PUBLIC_REGISTRATION, token));
      assertRegistrationError(await register(server, PUBLIC_REGISTRATION, token), 401, 'invalid_token');
    } finally {
      await server.close();
    }
    const [row] = await listTokens();
    assert.equal(row!['uses_left'], 0);
    assert.equal(row!['usable'], false);
    assert.ok(!JSON.stringify(row).includes(token), 'the listing never shows the token');
  });

  test('list shows each token with its state; revoke revokes it once', async () => {
    const created = await gatehouse(['registration-tokens', 'create', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const json = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.equal(json['expires_at'], null);
    assert.equal(json['uses_left'], null);
    const id = json['id'] as string;
    assert.equal((await listTokens()).find((row) => row['id'] === id)?.['usable'], true);
    const text = await gatehouse(['registration-tokens', 'list']);
    assert.match(text.stdout, new RegExp(`^${id}\\s.*never\\s+unlimited\\s+usable$`, 'm'));

    const revoked = await gatehouse(['registration-tokens', 'revoke', id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /Revoked registration token/);
    const row = (await listTokens()).find((candidate) => candidate['id'] === id)!;
    assert.equal(row['usable'], false);
    assert.match(String(row['revoked_at']), /^\d{4}-/);
    assertOneLineFailure(await gatehouse(['registration-tokens', 'revoke', id]), /no unrevoked registration token/);
  });

  test('create refuses a --uses or --expires-in that is not a positive integer', async () => {
    assertOneLineFailure(
      await gatehouse(['registration-tokens', 'create', '--uses', '0']),
      /--uses must be an integer/,
    );
    assertOneLineFailure(
      await gatehouse(['registration-tokens', 'create', '--expires-in', 'soon']),
      /--expires-in must be an integer/,
    );
  });
});
