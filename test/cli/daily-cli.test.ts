/**
 * The CLI for daily use: users update / set-password, clients update, the password and redirect
 * URI rules they share with the config file and dynamic registration, deleting a client a
 * resource names, one `(default: …)` per option, and the explained start-up failures.
 * The commands that change state run on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { formatTime } from '../../src/cli/output.js';
import { validateClientMetadata } from '../../src/core/registration/client-metadata.js';
import { ClientMetadataError } from '../../src/core/errors.js';
import { verifyClientSecret, verifyPassword } from '../../src/core/secrets.js';
import { MIN_PASSWORD_LENGTH } from '../../src/core/users/password-policy.js';
import { argv, assertOneLineFailure, runCli, withStoreAt } from '../helpers/cli.js';
import { authorizeUrl, obtainCode } from '../helpers/code-flow.js';
import { ALICE, CONFIDENTIAL_CLIENT, POSTGRES_TARGET, startTestServer, TEST_SECRET } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-daily-cli-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The databases the CLI and a server share: a SQLite file, and PostgreSQL in a schema of its own. */
const TARGETS = [
  {
    name: 'sqlite',
    url: async () => `sqlite:${join(dir, `daily-${Math.random().toString(36).slice(2)}.db`)}`,
    cleanup: async () => {},
  },
  POSTGRES_TARGET,
];

for (const target of TARGETS) {
  describe(`users update and set-password (${target.name})`, () => {
    test('NIST SP 800-63B §3.1.1.2 / OIDC Core §5.1: update, disable and set-password; a disabled user gets the wrong-password page', async (t) => {
      const database = await target.url();
      if (!database) return t.skip('PostgreSQL not reachable');
      const server = await startTestServer({ databaseUrl: database, clients: [CONFIDENTIAL_CLIENT], users: [ALICE] });
      try {
        const update = await runCli(argv`users update alice --database ${database} --name ${'Alice A'}
          --email alice@new.example --json`);
        assert.equal(update.code, 0, update.stderr);
        const view = JSON.parse(update.stdout) as Record<string, unknown>;
        assert.equal(view['name'], 'Alice A');
        assert.equal(view['email'], 'alice@new.example');
        assert.equal((view['claims'] as Record<string, unknown>)['email_verified'], false);
        assert.equal(view['disabled_at'], null);

        const disable = await runCli(argv`users update alice --database ${database} --disable`);
        assert.equal(disable.code, 0, disable.stderr);
        assert.match(disable.stdout, /can no longer sign in/);
        assert.match(disable.stdout, /Nothing was revoked/);
        const stored = await withStoreAt(database, (store) => store.users.getByUsername('alice'));
        assert.equal(typeof stored?.disabledAt, 'number');

        // The right password of a disabled user: the same page as a wrong password (no enumeration).
        const ua = new UserAgent(server.url);
        const page = await ua.authorize(
          authorizeUrl(server, {
            response_type: 'code',
            client_id: CONFIDENTIAL_CLIENT.client_id,
            redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0],
            scope: 'openid',
            state: 'disabled',
            code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
            code_challenge_method: 'S256',
          }),
          ALICE,
        );
        assert.notEqual(page.status, 303);
        assert.match(page.body, /Incorrect username or password/);

        assert.equal((await runCli(argv`users update alice --database ${database} --enable`)).code, 0);
        await obtainCode(server, CONFIDENTIAL_CLIENT);

        const short = 'x'.repeat(MIN_PASSWORD_LENGTH - 1);
        assertOneLineFailure(
          await runCli(argv`users set-password alice --database ${database} --password-stdin`, { input: `${short}\n` }),
          /at least 8 .*NIST SP 800-63B §3\.1\.1\.2/,
        );
        const set = await runCli(argv`users set-password alice --database ${database} --password-stdin`, {
          input: 'a new long passphrase\n',
        });
        assert.equal(set.code, 0, set.stderr);
        const after = await withStoreAt(database, (store) => store.users.getByUsername('alice'));
        assert.ok(after && (await verifyPassword(after.passwordHash, 'a new long passphrase')));
        assert.ok(!(await verifyPassword(after.passwordHash, ALICE.password)));
      } finally {
        await server.close();
        await target.cleanup(database);
      }
    });
  });

  describe(`clients update and delete (${target.name})`, () => {
    test('RFC 7591 §2 / RFC 9700 §4.1.3: update keeps the secret, validates like create and refuses a * redirect URI', async (t) => {
      const database = await target.url();
      if (!database) return t.skip('PostgreSQL not reachable');
      try {
        const created = await runCli(argv`clients create --database ${database} --client-id web --json
          --redirect-uri https://app.example/cb`);
        assert.equal(created.code, 0, created.stderr);
        const secret = (JSON.parse(created.stdout) as { client_secret: string }).client_secret;

        const update = await runCli(argv`clients update web --database ${database} --name ${'Web App'}
          --redirect-uri https://app.example/new --scope ${'openid email'} --json`);
        assert.equal(update.code, 0, update.stderr);
        const stored = await withStoreAt(database, (store) => store.clients.get('web'));
        assert.equal(stored?.clientName, 'Web App');
        assert.deepEqual(stored?.redirectUris, ['https://app.example/new']);
        assert.equal(stored?.scope, 'openid email');
        assert.ok(stored?.clientSecretHash && (await verifyClientSecret(stored.clientSecretHash, secret)));

        const audit = await runCli(argv`audit --database ${database} --type client.updated --json`);
        assert.equal((JSON.parse(audit.stdout) as unknown[]).length, 1, audit.stdout);

        assertOneLineFailure(
          await runCli(argv`clients update web --database ${database} --redirect-uri ${'https://*.app.example/cb'}`),
          /invalid client: .*matched exactly.*RFC 9700 §4\.1\.3/,
        );
        assertOneLineFailure(
          await runCli(argv`clients update web --database ${database} --redirect-uri ${'https://app.example/cb#x'}`),
          /fragment/,
        );
        assertOneLineFailure(await runCli(argv`clients update web --database ${database}`), /nothing to update/);
        assertOneLineFailure(await runCli(argv`clients update nope --database ${database} --name x`), /no client/);
      } finally {
        await target.cleanup(database);
      }
    });

    test('deleting the introspection client of a resource is refused naming it; --force removes it there too', async (t) => {
      const database = await target.url();
      if (!database) return t.skip('PostgreSQL not reachable');
      try {
        await runCli(
          argv`clients create --database ${database} --client-id api-introspector --grant-type client_credentials`,
        );
        const resource = await runCli(argv`resources create https://api.example/ --database ${database}
          --introspection-client api-introspector`);
        assert.equal(resource.code, 0, resource.stderr);
        assertOneLineFailure(
          await runCli(argv`clients delete api-introspector --database ${database}`),
          /introspection client of resource https:\/\/api\.example\/.*--force/,
        );
        assert.ok(await withStoreAt(database, (store) => store.clients.get('api-introspector')));
        const forced = await runCli(argv`clients delete api-introspector --database ${database} --force`);
        assert.equal(forced.code, 0, forced.stderr);
        assert.match(forced.stdout, /Removed it as introspection client from resource https:\/\/api\.example\//);
        const after = await withStoreAt(database, (store) => store.resources.get('https://api.example/'));
        assert.deepEqual(after?.introspectionClientIds, []);
      } finally {
        await target.cleanup(database);
      }
    });
  });
}

describe('password and redirect URI rules', () => {
  test('NIST SP 800-63B §3.1.1.2: users create refuses a password shorter than 8 characters', async () => {
    const database = `sqlite:${join(dir, 'short.db')}`;
    assertOneLineFailure(
      await runCli(argv`users create --database ${database} --username bob --password-stdin`, { input: 'seven77\n' }),
      /7 characters long; a password needs at least 8/,
    );
    // Characters, not bytes: eight non-ASCII characters are enough.
    const run = await runCli(argv`users create --database ${database} --username bob --password-stdin`, {
      input: 'ééééüüüü\n',
    });
    assert.equal(run.code, 0, run.stderr);
  });

  test('clients create --secret-stdin: a chosen client secret needs 32 characters (CLI only; config fixtures may be short)', async () => {
    const database = `sqlite:${join(dir, 'secret.db')}`;
    assertOneLineFailure(
      await runCli(argv`clients create --database ${database} --secret-stdin --redirect-uri https://a.example/cb`, {
        input: `${'s'.repeat(31)}\n`,
      }),
      /31 characters long; a chosen client secret needs at least 32/,
    );
    const secret = 's'.repeat(32);
    const run = await runCli(
      argv`clients create --database ${database} --client-id chosen --secret-stdin --redirect-uri https://a.example/cb`,
      { input: `${secret}\n` },
    );
    assert.equal(run.code, 0, run.stderr);
    const stored = await withStoreAt(database, (store) => store.clients.get('chosen'));
    assert.ok(stored?.clientSecretHash && (await verifyClientSecret(stored.clientSecretHash, secret)));
  });

  test('NIST SP 800-63B §3.1.1.2: start refuses a config-file user with a short password', async () => {
    const config = join(dir, 'short-password.yaml');
    await writeFile(config, 'users:\n  - {username: carol, password: pw}\n');
    const run = await runCli(argv`start --config ${config} --database ${`sqlite:${join(dir, 'cfg.db')}`} --port 0`, {
      env: { GATEHOUSE_SECRET: TEST_SECRET },
    });
    assertOneLineFailure(run, /users\[0\]\.password: is 2 characters long/);
  });

  test('RFC 9700 §4.1.3: the shared client metadata validation refuses a * in a redirect URI', () => {
    for (const uri of ['https://*.example.com/cb', 'https://app.example.com/*']) {
      assert.throws(
        () => validateClientMetadata({ redirect_uris: [uri] }),
        (error: unknown) => error instanceof ClientMetadataError && /matched exactly/.test(error.message),
      );
    }
  });
});

describe('help and output', () => {
  /** Every command of the program, with its path. */
  function commands(command: Command, path: string[] = []): Array<[string, Command]> {
    return command.commands.flatMap((sub) => [
      [[...path, sub.name()].join(' '), sub] as [string, Command],
      ...commands(sub, [...path, sub.name()]),
    ]);
  }

  test('every option of every command names its default at most once, and never an empty list', () => {
    const all = commands(buildProgram());
    assert.ok(all.some(([name]) => name === 'users set-password'));
    for (const [name, command] of all) {
      const help = command.helpInformation();
      for (const option of command.options) {
        const text = command.createHelp().optionDescription(option);
        assert.ok((text.match(/default/g) ?? []).length <= 1, `${name} ${option.flags}: ${text}`);
        assert.doesNotMatch(text, /\(default: \[\]\)/, `${name} ${option.flags}`);
      }
      assert.doesNotMatch(help, /\(default: \[\]\)/, name);
    }
  });

  test('one time format: ISO 8601 in UTC', () => {
    assert.equal(formatTime(Date.UTC(2026, 11, 4, 21, 34)), '2026-12-04T21:34:00.000Z');
    assert.equal(formatTime(null), null);
  });

  test('an unreachable database and a port in use are explained, not an unexpected error', async () => {
    const port = await new Promise<number>((resolvePort) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
      });
    });
    for (const args of [['users', 'list'], ['migrate'], ['clients', 'update', 'x', '--name', 'y']]) {
      assertOneLineFailure(
        await runCli([...args, '--database', `postgres://u:secret@127.0.0.1:${port}/none`]),
        /cannot open the database postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/none .*ECONNREFUSED.*--database/,
      );
    }
    assertOneLineFailure(
      await runCli(['users', 'list', '--database', `sqlite:${join(dir, 'missing', 'dir', 'x.db')}`]),
      /cannot open the database .*directory/,
    );

    const busy = createServer();
    await new Promise<void>((resolveListen) => busy.listen(0, '127.0.0.1', resolveListen));
    const address = busy.address();
    const busyPort = typeof address === 'object' && address ? address.port : 0;
    try {
      const run = await runCli(
        argv`start --host 127.0.0.1 --port ${String(busyPort)} --database ${`sqlite:${join(dir, 'busy.db')}`}`,
        { env: { GATEHOUSE_SECRET: TEST_SECRET } },
      );
      assertOneLineFailure(run, new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is in use.*--port`));
    } finally {
      busy.close();
    }
  });
});
