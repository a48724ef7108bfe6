/**
 * `--json` on every listing command of the `gatehouse` CLI: the rows as a JSON array on stdout,
 * with the fields the text table shows (and never a secret, a hash or a token). Run as child
 * processes from source (node --import tsx src/cli/main.ts) against a temporary SQLite database.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { KeyRing } from '../../src/core/keys/key-ring.js';
import { TEST_SECRET } from '../helpers/server.js';
import { argv, runCli, withStoreAt } from '../helpers/cli.js';

let dir: string;
let database: string;

const CLIENT_ID = 'json-app';
const LOGOUT_TOKEN = 'eyJhbGciOiJFUzI1NiJ9.logout-token-of-the-json-test.c2ln';
let clientSecret = '';

async function gatehouse(args: string[], input = ''): Promise<string> {
  const run = await runCli([...args, '--database', database], { input, env: { GATEHOUSE_SECRET: TEST_SECRET } });
  assert.equal(run.code, 0, `${args.join(' ')}: ${run.stderr}`);
  return run.stdout;
}

/** Runs a listing with and without `--json`: the parsed JSON array and the text output. */
async function listing(args: string[]): Promise<{ rows: Array<Record<string, unknown>>; text: string }> {
  const json = await gatehouse([...args, '--json']);
  const rows = JSON.parse(json) as unknown;
  assert.ok(Array.isArray(rows), `${args.join(' ')} --json prints a JSON array`);
  return { rows: rows as Array<Record<string, unknown>>, text: await gatehouse(args) };
}

/**
 * A listing of exactly one row whose fields, sorted, are `fields` (space-separated): the row, all
 * rows and the text output.
 */
async function onlyRow(
  args: string[],
  fields: string,
): Promise<{ row: Record<string, unknown>; rows: Array<Record<string, unknown>>; text: string }> {
  const { rows, text } = await listing(args);
  assert.equal(rows.length, 1);
  const row = rows[0]!;
  assert.deepEqual(Object.keys(row).sort(), fields.split(' '));
  return { row, rows, text };
}

/** The text table has a line with every one of `cells` (the same values as the JSON row). */
function assertTableRow(text: string, cells: string[]): void {
  const line = text.split('\n').find((candidate) => candidate.includes(cells[0]!));
  assert.ok(line, `a table line with ${cells[0]} in:\n${text}`);
  for (const cell of cells) assert.ok(line.includes(cell), `${JSON.stringify(cell)} in ${JSON.stringify(line)}`);
}

/** Every command of the program, with its path (`clients list`). */
function commands(command: Command, path: string[] = []): Array<{ path: string; command: Command }> {
  return command.commands.flatMap((sub) => [
    { path: [...path, sub.name()].join(' '), command: sub },
    ...commands(sub, [...path, sub.name()]),
  ]);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-json-'));
  database = `sqlite:${join(dir, 'gatehouse.db')}`;
  const created = JSON.parse(
    await gatehouse(argv`clients create --json --client-id ${CLIENT_ID} --name ${'JSON App'}
      --redirect-uri https://json.example/cb`),
  ) as { client_secret: string };
  clientSecret = created.client_secret;
  await gatehouse(
    ['users', 'create', '--username', 'jess', '--email', 'jess@example.com', '--name', 'Jess', '--password-stdin'],
    'correct horse\n',
  );
  await gatehouse(argv`resources create https://api.json.example/ --name ${'JSON API'} --scope notes:read
    --introspection-client ${CLIENT_ID}`);
  await withStoreAt(database, async (store) => {
    // The keys a server creates at its first start.
    await KeyRing.open(store, TEST_SECRET, 'ES256', Date.now());
    // One queued Back-Channel Logout delivery: the session of jess ends.
    const user = (await store.users.getByUsername('jess'))!;
    const now = Date.now();
    await store.sessions.create({
      idHash: 'json-test-session',
      sid: randomUUID(),
      userId: user.id,
      authTime: now,
      createdAt: now,
      expiresAt: now + 3_600_000,
    });
    const delivery = {
      id: randomUUID(),
      clientId: CLIENT_ID,
      uri: 'https://json.example/logout',
      logoutToken: LOGOUT_TOKEN,
      attempts: 0,
      nextAttemptAt: now,
      lastError: null,
      deliveredAt: null,
      createdAt: now,
    };
    assert.equal(await store.logout.endSession('json-test-session', [delivery]), true);
  });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gatehouse --json on every listing command', () => {
  test('every listing command (list subcommands and audit) declares --json', () => {
    const listings = commands(buildProgram()).filter(
      ({ command }) => command.name() === 'list' || command.name() === 'audit',
    );
    assert.deepEqual(listings.map(({ path }) => path).sort(), [
      'audit',
      'clients list',
      'keys list',
      'logout-deliveries list',
      'registration-tokens list',
      'resources list',
      'users list',
    ]);
    for (const { path, command } of listings) {
      assert.ok(
        command.options.some((option) => option.long === '--json'),
        `${path} has --json`,
      );
    }
  });

  test('RFC 7591 §2: clients list --json prints the client metadata of each client, never the secret or its hash', async () => {
    const { rows, text } = await listing(['clients', 'list']);
    assert.equal(rows.length, 1);
    const client = rows[0]!;
    // The table's columns: CLIENT_ID, TYPE, NAME, GRANT_TYPES, REDIRECT_URIS.
    assert.equal(client['client_id'], CLIENT_ID);
    assert.equal(client['client_type'], 'confidential');
    assert.equal(client['client_name'], 'JSON App');
    assert.deepEqual(client['grant_types'], ['authorization_code', 'refresh_token']);
    assert.deepEqual(client['redirect_uris'], ['https://json.example/cb']);
    assertTableRow(text, [
      CLIENT_ID,
      'confidential',
      'JSON App',
      'authorization_code,refresh_token',
      'https://json.example/cb',
    ]);
    assert.ok(!('client_secret' in client));
    const hash = (await withStoreAt(database, (store) => store.clients.get(CLIENT_ID)))!.clientSecretHash!;
    for (const output of [JSON.stringify(rows), text]) {
      assert.ok(!output.includes(clientSecret) && !output.includes(hash), 'no secret, no hash');
    }
  });

  test('OpenID Connect Core §5.1: users list --json prints id, username, email, name, claims, created_at and disabled_at, never the password hash', async () => {
    const {
      row: user,
      rows,
      text,
    } = await onlyRow(['users', 'list'], 'claims created_at disabled_at email id name username');
    assert.equal(user['disabled_at'], null);
    assert.equal(user['username'], 'jess');
    assert.equal(user['email'], 'jess@example.com');
    assert.equal(user['name'], 'Jess');
    assert.match(String(user['created_at']), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    assertTableRow(text, ['jess', 'jess@example.com', 'Jess', String(user['created_at']), String(user['id'])]);
    const hash = (await withStoreAt(database, (store) => store.users.getByUsername('jess')))!.passwordHash;
    assert.ok(!JSON.stringify(rows).includes(hash) && !JSON.stringify(rows).includes('argon2'));
  });

  test('RFC 8707: resources list --json prints resource, name, scopes, introspection_client_ids and created_at', async () => {
    const { row: resource, text } = await onlyRow(
      ['resources', 'list'],
      'created_at introspection_client_ids name resource scopes',
    );
    assert.equal(resource['resource'], 'https://api.json.example/');
    assert.equal(resource['name'], 'JSON API');
    assert.deepEqual(resource['scopes'], ['notes:read']);
    assert.deepEqual(resource['introspection_client_ids'], [CLIENT_ID]);
    assertTableRow(text, ['https://api.json.example/', 'JSON API', 'notes:read', CLIENT_ID]);
  });

  test('OpenID Connect Core §10.1.1: keys list --json prints kid, alg, state and times of each key, never key material', async () => {
    const {
      row: key,
      rows,
      text,
    } = await onlyRow(['keys', 'list'], 'activates_at alg created_at kid published_until retired_at state');
    assert.equal(key['alg'], 'ES256');
    assert.equal(key['state'], 'active');
    assert.equal(key['retired_at'], null);
    assertTableRow(text, [
      String(key['kid']),
      'ES256',
      'active',
      String(key['created_at']),
      String(key['activates_at']),
    ]);
    const stored = (await withStoreAt(database, (store) => store.signingKeys.list()))[0]!;
    for (const output of [JSON.stringify(rows), text])
      assert.ok(!output.includes(stored.privateJwkEncrypted), 'no private key');
  });

  test('OpenID Connect Back-Channel Logout 1.0: logout-deliveries list --json prints each delivery and its status, never the logout token', async () => {
    const {
      row: delivery,
      rows,
      text,
    } = await onlyRow(
      ['logout-deliveries', 'list'],
      'attempts client_id created_at delivered_at id last_error next_attempt_at status uri',
    );
    assert.equal(delivery['client_id'], CLIENT_ID);
    assert.equal(delivery['uri'], 'https://json.example/logout');
    assert.equal(delivery['status'], 'pending');
    assert.equal(delivery['attempts'], 0);
    assertTableRow(text, [String(delivery['created_at']), CLIENT_ID, 'pending', 'https://json.example/logout']);
    for (const output of [JSON.stringify(rows), text]) assert.ok(!output.includes(LOGOUT_TOKEN), 'no logout token');
  });

  test('OWASP Logging Cheat Sheet: audit --json prints each event with its time, type, client, user, ip and details', async () => {
    const { row: event, text } = await onlyRow(
      ['audit', '--client', CLIENT_ID, '--type', 'client.created'],
      'at client_id details flow_id id ip type user_id username',
    );
    assert.equal(event['type'], 'client.created');
    assert.equal(event['client_id'], CLIENT_ID);
    assertTableRow(text, [String(event['at']), 'client.created', CLIENT_ID]);
  });
});
