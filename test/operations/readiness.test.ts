/**
 * The readiness probe behind /readyz: one database ping at a time, answers reused for a second,
 * and a ping that hangs counts as unreachable once the time limit passes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReadinessProbe } from '../../src/operations/readiness.js';
import type { Store } from '../../src/store/store.js';
import { startTestServer } from '../helpers/server.js';

function countingStore(ping: () => Promise<void>): { store: Store; pings: () => number } {
  let pings = 0;
  const store = {
    ping: () => {
      pings++;
      return ping();
    },
  } as unknown as Store;
  return { store, pings: () => pings };
}

describe('readiness probe', () => {
  it('concurrent checks share one ping, and an answer is reused within the cache time', async () => {
    const { store, pings } = countingStore(async () => {});
    const probe = new ReadinessProbe(store, { cacheMs: 1000 });
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => probe.check(now)));
    assert.ok(results.every((result) => result.ready));
    assert.equal(pings(), 1);
    await probe.check(now + 500);
    assert.equal(pings(), 1, 'cached');
    await probe.check(now + 5000);
    assert.equal(pings(), 2, 'checked again once the answer is older than the cache time');
  });

  it('a ping that never answers makes the instance not ready after the time limit', async () => {
    const { store } = countingStore(() => new Promise<void>(() => {}));
    const probe = new ReadinessProbe(store, { timeoutMs: 50 });
    const result = await probe.check();
    assert.equal(result.ready, false);
    assert.match(String((result.error as Error).message), /did not answer within 50 ms/);
  });

  it('/readyz answers 200 with JSON and no-store while the database answers; /healthz 200', async () => {
    const gatehouse = await startTestServer();
    try {
      const ready = await fetch(`${gatehouse.url}/readyz`);
      assert.equal(ready.status, 200);
      assert.equal(ready.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await ready.json(), { status: 'ok', database: 'ok' });
      assert.equal((await fetch(`${gatehouse.url}/healthz`)).status, 200);
    } finally {
      await gatehouse.close();
    }
  });
});
