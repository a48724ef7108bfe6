/**
 * `gatehouse keys list|rotate|retire`, run as a child process from source (node --import tsx
 * src/cli/main.ts), against a temporary SQLite database whose first keys were made the way a
 * server makes them at its first start.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KeyRing } from '../../src/core/keys/key-ring.js';
import { TEST_SECRET, startTestServer } from '../helpers/server.js';
import { assertOneLineFailure, runCli, withStoreAt, type CliRun } from '../helpers/cli.js';

const HOUR = 3_600_000;

let dir: string;
let database: string;

type Run = CliRun;

interface KeyView {
  kid: string;
  alg: string;
  state: string;
  created_at: string;
  activates_at: string;
  retired_at: string | null;
  published_until: string | null;
}

/** Runs the CLI with `args` and GATEHOUSE_SECRET set to `secret` (never a development secret file in the repository). */
function gatehouse(args: string[], secret = TEST_SECRET): Promise<Run> {
  return runCli(args, { env: { GATEHOUSE_SECRET: secret } });
}

async function list(): Promise<KeyView[]> {
  const run = await gatehouse(['keys', 'list', '--json', '--database', database]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as KeyView[];
}

const stateOf = async (kid: string): Promise<string | undefined> =>
  (await list()).find((key) => key.kid === kid)?.state;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-keys-cli-'));
  database = `sqlite:${join(dir, 'gatehouse.db')}`;
  // The keys a server creates at its first start: ES256 (default) and RS256 (ID tokens on request).
  await withStoreAt(database, async (store) => {
    await store.migrate();
    await KeyRing.open(store, TEST_SECRET, 'ES256', Date.now(), ['RS256']);
  });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gatehouse keys', () => {
  let es256 = '';
  let rs256 = '';
  let pending = '';
  let rotated = '';

  test('list shows every key with its algorithm, state and times', async () => {
    const keys = await list();
    assert.equal(keys.length, 2);
    es256 = keys.find((key) => key.alg === 'ES256')?.kid ?? '';
    rs256 = keys.find((key) => key.alg === 'RS256')?.kid ?? '';
    assert.ok(es256 && rs256);
    for (const key of keys) {
      assert.equal(key.state, 'active');
      assert.equal(key.retired_at, null);
      assert.equal(key.published_until, null);
      assert.ok(!Number.isNaN(Date.parse(key.created_at)));
      assert.ok(!Number.isNaN(Date.parse(key.activates_at)));
    }

    const table = await gatehouse(['keys', 'list', '--database', database]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^KID\s+ALG\s+STATE\s+CREATED\s+ACTIVATES\s+RETIRED\n/);
    assert.match(table.stdout, new RegExp(`${es256}\\s+ES256\\s+active\\s+\\S+\\s+\\S+\\s+-`));
    assert.match(table.stdout, new RegExp(`${rs256}\\s+RS256\\s+active`));
    assert.doesNotMatch(table.stdout, /"d"|private/i, 'no private key material');
  });

  test('rotate --activate-after 3600 creates a pending key, published now, signing in an hour', async () => {
    const run = await gatehouse(['keys', 'rotate', '--activate-after', '3600', '--database', database]);
    assert.equal(run.code, 0, run.stderr);
    pending = /Created ES256 signing key (\S+)\./.exec(run.stdout)?.[1] ?? '';
    assert.ok(pending, run.stdout);
    assert.match(run.stdout, /Published in the JWKS: now/);
    assert.match(run.stdout, /in 3600 s/);
    assert.match(run.stdout, new RegExp(`gatehouse keys retire ${es256}`), 'says how to retire the previous key');
    assert.equal(run.stderr, '');
    const key = (await list()).find((view) => view.kid === pending);
    assert.ok(key);
    assert.equal(key.state, 'pending');
    assert.equal(Date.parse(key.activates_at) - Date.parse(key.created_at), 3600_000);
    assert.equal(await stateOf(es256), 'active', 'the current key keeps signing');
  });

  test('retire refuses the only active key of an algorithm the server signs with', async () => {
    assertOneLineFailure(
      await gatehouse(['keys', 'retire', '--database', database, '--', es256]),
      new RegExp(
        `^gatehouse: refusing to retire ${es256}: it is the only active ES256 signing key; wait until the next ES256 key \\(${pending}\\) activates at `,
      ),
    );
    assertOneLineFailure(
      await gatehouse(['keys', 'retire', '--database', database, '--', rs256]),
      /refusing to retire .*only active RS256 signing key; run: gatehouse keys rotate --alg RS256/,
    );
    assert.equal(await stateOf(es256), 'active');
  });

  test('rotate --activate-after 0 signs at once (with a warning); the old key becomes previous', async () => {
    const run = await gatehouse([
      'keys',
      'rotate',
      '--alg',
      'ES256',
      '--activate-after',
      '0',
      '--json',
      '--database',
      database,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const view = JSON.parse(run.stdout) as KeyView;
    rotated = view.kid;
    assert.equal(view.alg, 'ES256');
    assert.equal(view.state, 'active');
    assert.equal(view.activates_at, view.created_at);
    assert.match(run.stderr, /^Warning: the key signs in less than 330 s/);
    assert.equal(await stateOf(rotated), 'active');
    assert.equal(await stateOf(es256), 'previous');
    assert.equal(await stateOf(pending), 'pending');
  });

  test('retire marks the key retired; it stays published until its tokens have expired', async () => {
    const run = await gatehouse(['keys', 'retire', '--database', database, '--', es256]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^Retired signing key ${es256}: it no longer signs`));
    assert.match(run.stdout, /stays in the JWKS until \S+Z, when every token it signed has expired/);
    const key = (await list()).find((view) => view.kid === es256);
    assert.ok(key?.retired_at && key.published_until);
    assert.equal(key.state, 'retired');
    // Default access token lifetime (1 h), 1 s for exp rounded up, and the 30 s in which other instances may still sign with it.
    assert.equal(Date.parse(key.published_until) - Date.parse(key.retired_at), HOUR + 31_000);

    assertOneLineFailure(
      await gatehouse(['keys', 'retire', '--database', database, '--', es256]),
      /^gatehouse: signing key \S+ is already retired \(since /,
    );
    assertOneLineFailure(
      await gatehouse(['keys', 'retire', '--database', database, '--', 'no-such-kid']),
      /^gatehouse: no signing key with kid no-such-kid$/,
    );
  });

  test('a server on the database publishes pending, active, previous and retired keys, and signs with the active one', async () => {
    const server = await startTestServer({ databaseUrl: database });
    try {
      const { keys } = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
      assert.deepEqual(new Set(keys.map((key) => key.kid)), new Set([es256, rs256, pending, rotated]));
      assert.equal(server.context.keys.active().kid, rotated);
    } finally {
      await server.close();
    }
  });

  test('a key retired longer ago than the token lifetime is expired', async () => {
    await withStoreAt(database, async (store) => {
      assert.equal(await store.signingKeys.retire(pending, Date.now() - 2 * HOUR), true);
    });
    assert.equal(await stateOf(pending), 'expired');
    const server = await startTestServer({ databaseUrl: database });
    try {
      const { keys } = (await (await fetch(`${server.url}/jwks`)).json()) as { keys: Array<{ kid: string }> };
      assert.ok(!keys.some((key) => key.kid === pending), 'an expired key is no longer published');
    } finally {
      await server.close();
    }
  });

  test('rotate with key_activation_delay_seconds from the config file, and --alg EdDSA', async () => {
    const config = join(dir, 'gatehouse.yaml');
    await writeFile(config, `database: ${database}\nkey_activation_delay_seconds: 120\n`);
    const run = await gatehouse(['keys', 'rotate', '--alg', 'EdDSA', '--json', '--config', config]);
    assert.equal(run.code, 0, run.stderr);
    const view = JSON.parse(run.stdout) as KeyView;
    assert.equal(view.alg, 'EdDSA');
    assert.equal(view.state, 'pending');
    assert.equal(Date.parse(view.activates_at) - Date.parse(view.created_at), 120_000);
    // EdDSA is not an algorithm this server signs with (signing_alg ES256): its only key may be retired.
    const retire = await gatehouse(['keys', 'retire', view.kid, '--config', config]);
    assert.equal(retire.code, 0, retire.stderr);

    await writeFile(config, `database: ${database}\nkey_activation_delay_seconds: -1\n`);
    assertOneLineFailure(
      await gatehouse(['keys', 'rotate', '--config', config]),
      /key_activation_delay_seconds must be between 0 and 2592000 \(seconds\), not -1/,
    );
  });

  test('rotate refuses a GATEHOUSE_SECRET that cannot decrypt the stored keys, and bad arguments', async () => {
    const before = (await list()).length;
    assertOneLineFailure(
      await gatehouse(['keys', 'rotate', '--database', database], 'another-secret-that-is-long-enough-0123456789'),
      /^gatehouse: GATEHOUSE_SECRET differs from the one the signing keys are stored with/,
    );
    assertOneLineFailure(
      await gatehouse(['keys', 'rotate', '--activate-after', 'soon', '--database', database]),
      /^gatehouse: --activate-after must be a whole number of seconds/,
    );
    const badAlg = await gatehouse(['keys', 'rotate', '--alg', 'HS256', '--database', database]);
    assert.notEqual(badAlg.code, 0);
    assert.match(badAlg.stderr, /HS256/);
    assert.equal((await list()).length, before, 'no key was created');
  });
});
