/**
 * `gatehouse admin bootstrap` and the admin role (migration 0020), on SQLite and PostgreSQL:
 * the first admin client is created with its secret printed once and gets admin tokens; `--user`
 * gives a user the role, which a restart applying the config file keeps.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { argv, assertOneLineFailure, runCli } from '../helpers/cli.js';
import { ALICE, POSTGRES_TARGET, TEST_SECRET } from '../helpers/server.js';
import { AdminApi, AUTOMATION, clientToken, startAdminServer, userToken } from './admin-harness.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-admin-bootstrap-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TARGETS = [
  {
    name: 'sqlite',
    url: async () => `sqlite:${join(dir, `admin-${Math.random().toString(36).slice(2)}.db`)}`,
    cleanup: async () => {},
  },
  POSTGRES_TARGET,
];

for (const target of TARGETS) {
  describe(`admin bootstrap (${target.name})`, () => {
    it('creates the first admin client, whose client credentials token the admin API accepts', async (t) => {
      const database = await target.url();
      if (!database) return t.skip('PostgreSQL not reachable');
      let server = await startAdminServer(database);
      try {
        const issuer = server.context.settings.issuer;
        const env = { GATEHOUSE_ISSUER: issuer, GATEHOUSE_SECRET: TEST_SECRET };
        const run = await runCli(argv`admin bootstrap --database ${database} --json`, { env });
        assert.equal(run.code, 0, run.stderr);
        const printed = JSON.parse(run.stdout) as Record<string, string>;
        assert.equal(printed['client_id'], 'gatehouse-admin');
        assert.equal(printed['resource'], `${issuer}/admin/v1`);
        assert.match(run.stderr, /cannot be shown again/);
        const token = await clientToken(server, {
          ...AUTOMATION,
          client_id: printed['client_id']!,
          client_secret: printed['client_secret']!,
        });
        const api = new AdminApi(server.url);
        assert.equal((await api.call('GET', '/clients', { token })).status, 200);
        const audit = await runCli(argv`audit --database ${database} --type client.created --json`, { env });
        assert.match(audit.stdout, /gatehouse-admin/);

        const twice = await runCli(argv`admin bootstrap --database ${database}`, { env });
        assertOneLineFailure(twice, /a client with client_id gatehouse-admin already exists/);

        // --user: alice's own token is refused until she holds the admin role.
        assert.equal((await api.call('GET', '/users', { token: await userToken(server, ALICE) })).status, 403);
        const unknown = await runCli(argv`admin bootstrap --database ${database} --user nobody`, { env });
        assertOneLineFailure(unknown, /no user named nobody/);
        const promoted = await runCli(argv`admin bootstrap --database ${database} --user alice`, { env });
        assert.equal(promoted.code, 0, promoted.stderr);
        assert.equal((await api.call('GET', '/users', { token: await userToken(server, ALICE) })).status, 200);

        // Migration 0020: the role is stored, and a restart applying the config file keeps it.
        await server.close();
        server = await startAdminServer(database);
        const store = await openStore(database);
        try {
          assert.equal((await store.users.getByUsername('alice'))?.admin, true);
          assert.equal((await store.users.getByUsername('bob'))?.admin, undefined);
        } finally {
          await store.close();
        }
        const again = new AdminApi(server.url);
        assert.equal((await again.call('GET', '/users', { token: await userToken(server, ALICE) })).status, 200);
      } finally {
        await server.close();
        await target.cleanup(database);
      }
    });
  });
}
