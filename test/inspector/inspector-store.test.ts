/**
 * The flow inspector's store (migration 0022: inspector_steps and inspector_links) on SQLite and
 * PostgreSQL: steps stored once per id and read back per flow in order, the newest flows
 * filtered by client and failure, links (first wins), and the cleanup of expired rows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/open-store.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { listAppliedMigrations } from '../../src/store/migrations.js';
import type { InspectorStepRecord, Store } from '../../src/store/store.js';
import { STORE_TARGETS, onStoreTarget } from '../helpers/server.js';

function step(
  overrides: Partial<InspectorStepRecord> & Pick<InspectorStepRecord, 'id' | 'flowId' | 'at'>,
): InspectorStepRecord {
  return {
    clientId: 'web-app',
    outcome: 'ok',
    data: { title: overrides.id },
    expiresAt: overrides.at + 60_000,
    ...overrides,
  };
}

describe('flow inspector store (migration 0022)', () => {
  for (const target of STORE_TARGETS) {
    let store: Store | undefined;
    it(
      `stores steps and links, filters the newest flows and deletes expired rows (${target.name})`,
      onStoreTarget(
        target,
        async (url) => {
          store = await openStore(url);
          await store.migrate();
          assert.ok(store instanceof KyselyStore);
          assert.ok((await listAppliedMigrations(store.db)).includes('0022_inspector'));
          const inspector = store.inspector;
          await inspector.insertSteps([
            step({ id: 'a2', flowId: 'A', at: 2000 }),
            step({ id: 'a1', flowId: 'A', at: 1000, data: { nested: { list: [1, 'two'] } } }),
            step({ id: 'b1', flowId: 'B', at: 3000, clientId: 'spa', outcome: 'failed' }),
            step({ id: 'c1', flowId: 'C', at: 4000, clientId: 'web-app', outcome: 'info', expiresAt: 10_000 }),
          ]);
          // The same step again (a retried write) is kept once.
          await inspector.insertSteps([step({ id: 'a1', flowId: 'A', at: 1000, data: { changed: true } })]);
          const a = await inspector.flowSteps('A');
          assert.deepEqual(
            a.map((record) => record.id),
            ['a1', 'a2'],
          );
          assert.deepEqual(a[0]!.data, { nested: { list: [1, 'two'] } });
          assert.equal(typeof a[0]!.at, 'number');

          const newest = await inspector.recentSteps({ limit: 2 });
          assert.deepEqual([...new Set(newest.map((record) => record.flowId))].sort(), ['B', 'C']);
          const failed = await inspector.recentSteps({ limit: 10, failed: true });
          assert.deepEqual(
            failed.map((record) => record.id),
            ['b1'],
          );
          const webApp = await inspector.recentSteps({ limit: 10, clientId: 'web-app' });
          assert.deepEqual(
            webApp.map((record) => record.id),
            ['a1', 'a2', 'c1'],
          );
          assert.deepEqual(
            (await inspector.recentSteps({ limit: 10, since: 3500 })).map((record) => record.id),
            ['c1'],
          );

          await inspector.link('jti:x', 'A', 50_000);
          await inspector.link('jti:x', 'B', 50_000);
          await inspector.link('code:old', 'C', 5_000);
          assert.equal(await inspector.flowOf('jti:x'), 'A');
          assert.equal(await inspector.flowOf('jti:unknown'), undefined);

          // At 20 s: c1 (10 s) and the code link (5 s) have expired.
          assert.equal(await inspector.deleteExpired(20_000), 2);
          assert.deepEqual(await inspector.flowSteps('C'), []);
          assert.equal(await inspector.flowOf('code:old'), undefined);
          assert.equal((await inspector.flowSteps('A')).length, 2);
        },
        async () => {
          await store?.close();
        },
      ),
    );
  }
});
