/**
 * The `gatehouse` CLI, run as a child process from source (node --import tsx src/cli/main.ts),
 * against a temporary SQLite database.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyClientSecret, verifyPassword } from '../../src/core/secrets.js';
import { argv, assertOneLineFailure, runCli, withCliServer, withStoreAt, type CliRun } from '../helpers/cli.js';

let dir: string;
let database: string;

type Run = CliRun;

/** Runs the CLI with `args`, writing `input` to its stdin. */
function gatehouse(args: string[], input = ''): Promise<Run> {
  return runCli(args, { input });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-cli-'));
  database = `sqlite:${join(dir, 'gatehouse.db')}`;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('gatehouse clients', () => {
  let clientId = '';
  let clientSecret = '';

  test('create prints the client_id and the secret once, with a note that it cannot be shown again', async () => {
    const run = await gatehouse(argv`clients create --database ${database} --name ${'Web App'}
      --redirect-uri https://app.example.com/callback
      --redirect-uri http://localhost:3000/callback`);
    assert.equal(run.code, 0, run.stderr);
    clientId = /client_id:\s+(\S+)/.exec(run.stdout)?.[1] ?? '';
    clientSecret = /client_secret:\s+(\S+)/.exec(run.stdout)?.[1] ?? '';
    assert.match(clientId, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(Buffer.from(clientSecret, 'base64url').length, 32);
    assert.match(run.stdout, /cannot be shown again/);

    const stored = await withStoreAt(database, (store) => store.clients.get(clientId));
    assert.ok(stored);
    assert.equal(stored.clientName, 'Web App');
    assert.deepEqual(stored.redirectUris, ['https://app.example.com/callback', 'http://localhost:3000/callback']);
    assert.equal(stored.tokenEndpointAuthMethod, 'client_secret_basic');
    assert.equal(stored.requirePkce, true);
    assert.ok(stored.clientSecretHash && (await verifyClientSecret(stored.clientSecretHash, clientSecret)));
  });

  test('show and list never print the secret or its hash', async () => {
    const hash = (await withStoreAt(database, (store) => store.clients.get(clientId)))?.clientSecretHash ?? '';
    for (const args of [
      ['clients', 'show', clientId],
      ['clients', 'show', clientId, '--json'],
      ['clients', 'list'],
      ['clients', 'list', '--json'],
    ]) {
      const run = await gatehouse([...args, '--database', database]);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(run.stdout.includes(clientId), `${args.join(' ')} shows the client`);
      assert.ok(!run.stdout.includes(clientSecret), `${args.join(' ')} does not show the secret`);
      assert.ok(!run.stdout.includes(hash), `${args.join(' ')} does not show the hash`);
    }

    const show = await gatehouse(['clients', 'show', clientId, '--json', '--database', database]);
    const view = JSON.parse(show.stdout) as Record<string, unknown>;
    assert.equal(view.client_id, clientId);
    assert.equal(view.client_name, 'Web App');
    assert.equal(view.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(view.client_secret, undefined);
  });

  test('create --json --public: a public client with a private-use scheme, no secret', async () => {
    const run = await gatehouse(argv`clients create --database ${database} --json --public
      --client-id native-app --redirect-uri com.example.app:/oauth2redirect
      --scope ${'openid profile'}`);
    assert.equal(run.code, 0, run.stderr);
    const view = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(view.client_id, 'native-app');
    assert.equal(view.token_endpoint_auth_method, 'none');
    assert.equal(view.scope, 'openid profile');
    assert.equal(view.client_secret, undefined);
    assert.equal((await withStoreAt(database, (store) => store.clients.get('native-app')))?.clientSecretHash, null);
  });

  test('create --json includes the generated secret once; --grant-type and --no-require-pkce', async () => {
    const run = await gatehouse(argv`clients create --database ${database} --json
      --client-id service --grant-type client_credentials --scope api:read
      --no-require-pkce`);
    assert.equal(run.code, 0, run.stderr);
    const view = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(view.grant_types, ['client_credentials']);
    assert.deepEqual(view.response_types, []);
    assert.equal(view.require_pkce, false);
    assert.equal(typeof view.client_secret, 'string');
    assert.match(run.stderr, /cannot be shown again/);
    const stored = await withStoreAt(database, (store) => store.clients.get('service'));
    assert.ok(
      stored?.clientSecretHash && (await verifyClientSecret(stored.clientSecretHash, view.client_secret as string)),
    );

    const list = JSON.parse((await gatehouse(['clients', 'list', '--json', '--database', database])).stdout) as Array<{
      client_id: string;
    }>;
    assert.deepEqual(list.map((client) => client.client_id).sort(), [clientId, 'native-app', 'service'].sort());
  });

  test('a duplicate client_id fails with exit code 1', async () => {
    const run = await gatehouse(argv`clients create --database ${database} --public
      --client-id native-app --redirect-uri http://127.0.0.1/cb`);
    assertOneLineFailure(run, /^gatehouse: a client with client_id native-app already exists$/);
  });

  test('invalid metadata fails with exit code 1 and the RFC rule', async () => {
    assertOneLineFailure(
      await gatehouse(['clients', 'create', '--database', database, '--redirect-uri', 'com.example.app:/cb']),
      /^gatehouse: invalid client: .*RFC 8252 §7\.1/,
    );
    assertOneLineFailure(
      await gatehouse(['clients', 'create', '--database', database, '--redirect-uri', 'http://app.example.com/cb']),
      /^gatehouse: invalid client: .*loopback/,
    );
    assertOneLineFailure(
      await gatehouse(argv`clients create --database ${database} --public
      --no-require-pkce --redirect-uri http://127.0.0.1/cb`),
      /RFC 9700 §2\.1\.1/,
    );
    assertOneLineFailure(
      await gatehouse(argv`clients create --database ${database} --grant-type password
      --redirect-uri https://a.example/cb`),
      /RFC 9700 §2\.4/,
    );
  });

  test('show and delete of an unknown client fail with exit code 1', async () => {
    assertOneLineFailure(
      await gatehouse(['clients', 'show', 'nope', '--database', database]),
      /^gatehouse: no client with client_id nope$/,
    );
    assertOneLineFailure(
      await gatehouse(['clients', 'delete', 'nope', '--database', database]),
      /^gatehouse: no client with client_id nope$/,
    );
  });

  test('delete removes the client', async () => {
    const run = await gatehouse(['clients', 'delete', 'native-app', '--database', database]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Deleted client native-app/);
    assert.equal(await withStoreAt(database, (store) => store.clients.get('native-app')), undefined);
    assertOneLineFailure(await gatehouse(['clients', 'show', 'native-app', '--database', database]), /no client/);
  });
});

describe('gatehouse users', () => {
  test('create reads the password from stdin', async () => {
    const run = await gatehouse(
      argv`users create --database ${database} --username alice
      --password-stdin --email alice@example.com --name Alice`,
      'correct horse battery staple\n',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Created user alice/);
    const user = await withStoreAt(database, (store) => store.users.getByUsername('alice'));
    assert.ok(user);
    assert.equal(user.email, 'alice@example.com');
    assert.equal(user.name, 'Alice');
    assert.match(user.passwordHash, /^\$argon2id\$/);
    // The trailing newline is not part of the password.
    assert.ok(await verifyPassword(user.passwordHash, 'correct horse battery staple'));
  });

  test('a password is never taken from the command line', async () => {
    assertOneLineFailure(
      await gatehouse(['users', 'create', '--database', database, '--username', 'bob']),
      /--password-stdin/,
    );
    const run = await gatehouse(argv`users create --database ${database} --username bob
      --password hunter2`);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /unknown option '--password'/);
    assert.equal(await withStoreAt(database, (store) => store.users.getByUsername('bob')), undefined);
  });

  test('an empty password is refused', async () => {
    assertOneLineFailure(
      await gatehouse(['users', 'create', '--database', database, '--username', 'bob', '--password-stdin'], '\n'),
      /empty/,
    );
  });

  test('a duplicate username fails with exit code 1', async () => {
    const run = await gatehouse(
      ['users', 'create', '--database', database, '--username', 'alice', '--password-stdin'],
      'another password\n',
    );
    assertOneLineFailure(run, /^gatehouse: a user named alice already exists$/);
  });

  test('list shows users, never password hashes', async () => {
    const hash = (await withStoreAt(database, (store) => store.users.getByUsername('alice')))?.passwordHash ?? '';
    const text = await gatehouse(['users', 'list', '--database', database]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /alice\s+alice@example\.com\s+Alice/);
    const json = await gatehouse(['users', 'list', '--json', '--database', database]);
    const users = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    assert.equal(users.length, 1);
    assert.equal(users[0]?.username, 'alice');
    for (const run of [text, json]) {
      assert.ok(!run.stdout.includes(hash));
      assert.ok(!run.stdout.includes('argon2'));
    }
  });

  test('delete removes the user; deleting an unknown user fails', async () => {
    const run = await gatehouse(['users', 'delete', 'alice', '--database', database]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await withStoreAt(database, (store) => store.users.getByUsername('alice')), undefined);
    assertOneLineFailure(
      await gatehouse(['users', 'delete', 'alice', '--database', database]),
      /^gatehouse: no user named alice$/,
    );
  });

  test('create takes OpenID Connect Core §5.1 claims: --given-name, --family-name, --phone, --email-verified', async () => {
    const run = await gatehouse(
      argv`users create --database ${database} --username dora
      --password-stdin --json --email dora@example.com --email-verified
      --name ${'Dora Explorer'} --given-name Dora --family-name Explorer
      --phone +15550100`,
      'dora password\n',
    );
    assert.equal(run.code, 0, run.stderr);
    const user = await withStoreAt(database, (store) => store.users.getByUsername('dora'));
    assert.ok(user);
    const { updated_at: updatedAt, ...claims } = user.claims;
    assert.deepEqual(claims, {
      given_name: 'Dora',
      family_name: 'Explorer',
      phone_number: '+15550100',
      email_verified: true,
    });
    assert.equal(typeof updatedAt, 'number');
    assert.deepEqual((JSON.parse(run.stdout) as { claims: unknown }).claims, user.claims);

    // An email without --email-verified is not verified (OIDC Core §5.1 email_verified false).
    assert.equal(
      (
        await gatehouse(
          argv`users create --database ${database} --username eve
      --password-stdin --email eve@example.com`,
          'eve password\n',
        )
      ).code,
      0,
    );
    assert.equal(
      (await withStoreAt(database, (store) => store.users.getByUsername('eve')))?.claims['email_verified'],
      false,
    );

    assertOneLineFailure(
      await gatehouse(
        ['users', 'create', '--database', database, '--username', 'fay', '--password-stdin', '--phone', 'call me'],
        'pw\n',
      ),
      /^gatehouse: --phone: /,
    );
    assertOneLineFailure(
      await gatehouse(
        ['users', 'create', '--database', database, '--username', 'fay', '--password-stdin', '--email-verified'],
        'pw\n',
      ),
      /--email-verified needs --email/,
    );
    for (const username of ['dora', 'eve'])
      assert.equal((await gatehouse(['users', 'delete', username, '--database', database])).code, 0);
  });
});

describe('gatehouse: settings and errors', () => {
  test('--config names the database (relative to the config file)', async () => {
    const config = join(dir, 'gatehouse.yaml');
    await writeFile(config, 'database: sqlite:from-config.db\n');
    const created = await gatehouse([
      'clients',
      'create',
      '--config',
      config,
      '--public',
      '--client-id',
      'cfg',
      '--redirect-uri',
      'http://127.0.0.1/cb',
    ]);
    assert.equal(created.code, 0, created.stderr);
    await withStoreAt(`sqlite:${join(dir, 'from-config.db')}`, async (store) => {
      assert.ok(await store.clients.get('cfg'));
    });
    // --database takes precedence over the config file.
    const list = await gatehouse(['clients', 'list', '--json', '--config', config, '--database', database]);
    assert.ok(!list.stdout.includes('"cfg"'));
  });

  test('an invalid config file fails with one line naming the key path', async () => {
    const config = join(dir, 'bad.yaml');
    await writeFile(
      config,
      'clients:\n  - client_id: a\n    token_endpoint_auth_method: none\n    redirect_uris: [ftp://a.example/cb]\n',
    );
    assertOneLineFailure(
      await gatehouse(['clients', 'list', '--config', config]),
      /bad\.yaml: clients\[0\]\.redirect_uris\[0\]/,
    );
  });

  test('migrate creates the schema', async () => {
    const run = await gatehouse(['migrate', '--database', `sqlite:${join(dir, 'migrated.db')}`]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /up to date/);
  });

  test('start refuses a non-https issuer on a non-loopback host', async () => {
    assertOneLineFailure(
      await gatehouse(['start', '--database', database, '--issuer', 'http://example.com']),
      /^gatehouse: Gatehouse refuses to start: issuer http:\/\/example\.com is not https/,
    );
  });

  test('start takes --explain-errors auto|always|never and refuses anything else', async () => {
    assertOneLineFailure(
      await gatehouse(['start', '--database', database, '--explain-errors', 'sometimes']),
      /^gatehouse: Invalid --explain-errors: it must be one of auto, always, never, not the string "sometimes"/,
    );
  });

  test('start applies the config file, serves the issuer, and shuts down gracefully on SIGTERM', {
    timeout: 30_000,
  }, async () => {
    const config = join(dir, 'start.yaml');
    const startDatabase = `sqlite:${join(dir, 'start.db')}`;
    await writeFile(
      config,
      [
        'clients:',
        '  - client_id: fixture-app',
        '    token_endpoint_auth_method: none',
        '    redirect_uris: [http://127.0.0.1/cb]',
        'users:',
        '  - {username: carol, password: carol-password}',
      ].join('\n'),
    );
    const args = ['--config', config, '--database', startDatabase, '--port', '0', '--host', '127.0.0.1'];
    await withCliServer(args, { env: { GATEHOUSE_SECRET: 's'.repeat(32) } }, async (issuer) => {
      assert.match(issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(`${issuer}/.well-known/openid-configuration`);
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { issuer: string }).issuer, issuer);
      await withStoreAt(startDatabase, async (store) => {
        assert.ok(await store.clients.get('fixture-app'));
        assert.ok(await store.users.getByUsername('carol'));
      });
    });
  });

  test('an unknown command fails with exit code 1', async () => {
    const run = await gatehouse(['frobnicate']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /unknown command/);
  });

  test('--help exits 0', async () => {
    const run = await gatehouse(['clients', 'create', '--help']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /--redirect-uri/);
  });
});

describe('gatehouse clients create: logout metadata; gatehouse logout-deliveries', () => {
  test('--post-logout-redirect-uri (repeatable), --backchannel-logout-uri and --backchannel-logout-session-required are stored and shown', async () => {
    const run = await gatehouse(argv`clients create --database ${database} --json
      --client-id logout-app --redirect-uri https://logout.example/cb
      --post-logout-redirect-uri https://logout.example/signed-out
      --post-logout-redirect-uri https://logout.example/bye
      --backchannel-logout-uri https://logout.example/backchannel
      --backchannel-logout-session-required`);
    assert.equal(run.code, 0, run.stderr);
    const view = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(view['post_logout_redirect_uris'], [
      'https://logout.example/signed-out',
      'https://logout.example/bye',
    ]);
    assert.equal(view['backchannel_logout_uri'], 'https://logout.example/backchannel');
    assert.equal(view['backchannel_logout_session_required'], true);
    const client = await withStoreAt(database, (store) => store.clients.get('logout-app'));
    assert.deepEqual(client?.postLogoutRedirectUris, [
      'https://logout.example/signed-out',
      'https://logout.example/bye',
    ]);
    assert.equal(client?.backchannelLogoutUri, 'https://logout.example/backchannel');
    assert.equal(client?.backchannelLogoutSessionRequired, true);
    const show = await gatehouse(['clients', 'show', 'logout-app', '--database', database]);
    assert.match(
      show.stdout,
      /post_logout_redirect_uris:\s+https:\/\/logout\.example\/signed-out https:\/\/logout\.example\/bye/,
    );
    assert.match(show.stdout, /backchannel_logout_uri:\s+https:\/\/logout\.example\/backchannel/);
    assert.match(show.stdout, /backchannel_logout_session_required:\s+true/);
  });

  test('--require-par stores require_pushed_authorization_requests (RFC 9126 §6) and shows it', async () => {
    const run = await gatehouse([
      'clients',
      'create',
      '--database',
      database,
      '--json',
      '--client-id',
      'par-app',
      '--redirect-uri',
      'https://par.example/cb',
      '--require-par',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as Record<string, unknown>)['require_pushed_authorization_requests'], true);
    const client = await withStoreAt(database, (store) => store.clients.get('par-app'));
    assert.equal(client?.requirePushedAuthorizationRequests, true);
    const show = await gatehouse(['clients', 'show', 'par-app', '--database', database]);
    assert.match(show.stdout, /require_pushed_authorization_requests:\s+true/);
  });

  test('a plain-http back-channel logout URI on a public host is refused in one line', async () => {
    const run = await gatehouse(argv`clients create --database ${database}
      --redirect-uri https://x.example/cb
      --backchannel-logout-uri http://x.example/logout`);
    assertOneLineFailure(run, /backchannel_logout_uri .* must use https/);
  });

  test('logout-deliveries list: nothing queued yet; --limit must be a positive integer', async () => {
    const empty = await gatehouse(['logout-deliveries', 'list', '--database', database]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout.trim(), 'No logout deliveries.');
    const failed = await gatehouse(['logout-deliveries', 'list', '--failed', '--json', '--database', database]);
    assert.deepEqual(JSON.parse(failed.stdout), []);
    assertOneLineFailure(
      await gatehouse(['logout-deliveries', 'list', '--limit', 'x', '--database', database]),
      /--limit must be a positive integer/,
    );
  });
});
