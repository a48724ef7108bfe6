/**
 * Caches across instances: the bounded client and resource caches (TTL, LRU bound, no stale
 * value cached after an invalidation), the store's change announcements (in-process on every database, PostgreSQL
 * LISTEN/NOTIFY across processes, namespaced by schema), and the listener's reconnection, after
 * which every cache is dropped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { BoundedCache } from '../../src/core/cache/bounded-cache.js';
import { ClientCache } from '../../src/core/clients/client-cache.js';
import { ResourceCache } from '../../src/core/resources/resource-cache.js';
import { changeChannelFor } from '../../src/store/change-feed.js';
import { openStore } from '../../src/store/open-store.js';
import type { Client, ProtectedResource, Store, StoreChange } from '../../src/store/store.js';
import { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } from '../helpers/postgres.js';
import {
  makeClient as clientRecord,
  makeResource as resourceRecord,
  makeSigningKey,
} from '../helpers/store-records.js';

function makeClient(clientId: string, overrides: Partial<Client> = {}): Client {
  return clientRecord({ clientId, ...overrides });
}

function makeResource(identifier: string, overrides: Partial<ProtectedResource> = {}): ProtectedResource {
  return resourceRecord({ identifier, ...overrides });
}

/** A signing key record with `kid`, created and active at time 1. */
function signingKey(kid: string) {
  return makeSigningKey({ kid, privateJwkEncrypted: 'x', createdAt: 1, activatesAt: 1 });
}

/** A migrated SQLite store in memory for `fn`, closed afterwards. */
async function withMemoryStore(fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await openStore('sqlite::memory:');
  try {
    await store.migrate();
    await fn(store);
  } finally {
    await store.close();
  }
}

/** Records what a subscription receives. */
function recorder() {
  const changes: StoreChange[] = [];
  let resets = 0;
  const errors: unknown[] = [];
  return {
    changes,
    get resets() {
      return resets;
    },
    errors,
    listener: {
      onChange: (change: StoreChange) => changes.push(change),
      onReset: () => resets++,
      onError: (error: unknown) => errors.push(error),
    },
  };
}

/** Polls `condition` (every 20 ms, up to 10 s): for asynchronous delivery, never a timing assertion. */
async function eventually(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('BoundedCache', () => {
  it('expires entries after the TTL', () => {
    let now = 0;
    const cache = new BoundedCache<string, number>(10, 5000, () => now);
    cache.set('a', 1, cache.epoch);
    now = 4999;
    assert.equal(cache.get('a'), 1);
    now = 5000;
    assert.equal(cache.get('a'), undefined);
  });

  it('holds at most maxEntries, dropping the least recently used', () => {
    const cache = new BoundedCache<string, number>(2, 60_000);
    cache.set('a', 1, cache.epoch);
    cache.set('b', 2, cache.epoch);
    assert.equal(cache.get('a'), 1); // a is now the most recently used
    cache.set('c', 3, cache.epoch);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined);
    assert.equal(cache.get('a'), 1);
    assert.equal(cache.get('c'), 3);
  });

  it('does not cache a value loaded before an invalidation', () => {
    const cache = new BoundedCache<string, number>(10, 60_000);
    const epoch = cache.epoch;
    cache.delete('a'); // the invalidation arrives while the load is in flight
    cache.set('a', 1, epoch);
    assert.equal(cache.get('a'), undefined);
  });
});

describe('ClientCache', () => {
  it('reads a client once within the TTL, and again after an invalidation', async () => {
    let reads = 0;
    const stored = makeClient('app');
    const cache = new ClientCache(
      { clients: { get: async () => (reads++, stored) } as unknown as Store['clients'] },
      { ttlMs: 5000 },
    );
    await Promise.all([cache.get('app'), cache.get('app'), cache.get('app')]);
    await cache.get('app');
    assert.equal(reads, 1, 'concurrent and later lookups share one read');
    cache.apply({ kind: 'client', clientId: 'app' });
    await cache.get('app');
    assert.equal(reads, 2);
    cache.apply({ kind: 'signing_keys' });
    await cache.get('app');
    assert.equal(reads, 2, 'other changes leave clients cached');
    cache.clear();
    await cache.get('app');
    assert.equal(reads, 3);
  });

  it('does not cache unknown clients, so a client created elsewhere works at once', async () => {
    let stored: Client | undefined;
    const cache = new ClientCache(
      { clients: { get: async () => stored } as unknown as Store['clients'] },
      { ttlMs: 5000 },
    );
    assert.equal(await cache.get('new'), undefined);
    stored = makeClient('new');
    assert.equal((await cache.get('new'))?.clientId, 'new');
  });

  it('with a TTL of 0 reads the store every time', async () => {
    let reads = 0;
    const cache = new ClientCache(
      { clients: { get: async () => (reads++, makeClient('app')) } as unknown as Store['clients'] },
      { ttlMs: 0 },
    );
    await cache.get('app');
    await cache.get('app');
    assert.equal(reads, 2);
  });
});

describe('ResourceCache', () => {
  it('RFC 8707: reads a resource once within the TTL, again after its change is announced, and never caches an unknown one', async () => {
    let reads = 0;
    let stored: ProtectedResource | undefined = makeResource('https://api.example');
    const cache = new ResourceCache(
      { resources: { get: async () => (reads++, stored) } as unknown as Store['resources'] },
      { ttlMs: 5000 },
    );
    await Promise.all([cache.get('https://api.example'), cache.get('https://api.example')]);
    await cache.get('https://api.example');
    assert.equal(reads, 1, 'concurrent and later lookups share one read');
    cache.apply({ kind: 'client', clientId: 'https://api.example' });
    await cache.get('https://api.example');
    assert.equal(reads, 1, 'a client change with the same key leaves the resource cached');
    cache.apply({ kind: 'resource', identifier: 'https://api.example' });
    stored = undefined;
    assert.equal(
      await cache.get('https://api.example'),
      undefined,
      'a deleted resource is gone once its change is applied',
    );
    stored = makeResource('https://api.example');
    assert.equal(
      (await cache.get('https://api.example'))?.identifier,
      'https://api.example',
      'an unknown resource was not cached',
    );
  });

  it('a view reading through a transaction shares the entries, and reads its misses through the transaction only', async () => {
    let rootReads = 0;
    const cache = new ResourceCache(
      { resources: { get: async (id: string) => (rootReads++, makeResource(id)) } as unknown as Store['resources'] },
      { ttlMs: 5000 },
    );
    await cache.get('https://a.example');
    let transactionReads = 0;
    const view = cache.readingWith(async (id) => (transactionReads++, makeResource(id)));
    assert.equal((await view.get('https://a.example'))?.identifier, 'https://a.example');
    assert.equal(transactionReads, 0, 'a cached entry is served to the view');
    await view.get('https://b.example');
    assert.equal(transactionReads, 1);
    await cache.get('https://b.example');
    assert.equal(rootReads, 1, 'what the view loaded is cached for everyone');
    view.apply({ kind: 'resource', identifier: 'https://b.example' });
    await cache.get('https://b.example');
    assert.equal(rootReads, 2, 'an invalidation through the view drops the shared entry');
  });
});

describe('store change announcements on SQLite (in-process only)', () => {
  it('announces resource registrations and deletions to its own subscribers', async () => {
    await withMemoryStore(async (store) => {
      const seen = recorder();
      store.changes.subscribe(seen.listener);
      await store.resources.upsert(makeResource('https://api.example'));
      await store.resources.upsert(makeResource('https://api.example', { scopes: ['read', 'write'] }));
      assert.equal(await store.resources.delete('https://api.example'), true);
      assert.deepEqual(seen.changes, [
        { kind: 'resource', identifier: 'https://api.example' },
        { kind: 'resource', identifier: 'https://api.example' },
        { kind: 'resource', identifier: 'https://api.example' },
      ]);
    });
  });

  it('announces client and signing key changes to its own subscribers once committed', async () => {
    await withMemoryStore(async (store) => {
      assert.equal(store.changes.crossProcess, false);
      const seen = recorder();
      const stop = store.changes.subscribe(seen.listener);
      await store.clients.create(makeClient('a'));
      await store.clients.upsert(makeClient('a', { clientName: 'A' }));
      await store.clients.delete('a');
      await store.signingKeys.create(signingKey('k1'));
      await store.signingKeys.retire('k1', 2);
      assert.deepEqual(seen.changes, [
        { kind: 'client', clientId: 'a' },
        { kind: 'client', clientId: 'a' },
        { kind: 'client', clientId: 'a' },
        { kind: 'signing_keys' },
        { kind: 'signing_keys' },
      ]);
      stop();
      await store.clients.create(makeClient('b'));
      assert.equal(seen.changes.length, 5, 'nothing after unsubscribing');
    });
  });

  it('a failed change is not announced', async () => {
    await withMemoryStore(async (store) => {
      await store.clients.create(makeClient('a'));
      const seen = recorder();
      store.changes.subscribe(seen.listener);
      await assert.rejects(store.clients.create(makeClient('a')));
      assert.deepEqual(seen.changes, []);
    });
  });
});

describe('store change announcements on PostgreSQL (LISTEN/NOTIFY)', () => {
  let url: string | undefined;
  let other: string | undefined;
  let writer: Store | undefined;
  let reader: Store | undefined;

  before(async () => {
    url = await postgresTestUrl();
    other = await postgresTestUrl();
    if (!url) return;
    writer = await openStore(url);
    await writer.migrate();
    reader = await openStore(url);
  });

  after(async () => {
    await reader?.close();
    await writer?.close();
    if (url) await dropPostgresSchema(url);
    if (other) await dropPostgresSchema(other);
  });

  it('another store on the same schema hears client and key changes; the listener connects with a reset', async (t) => {
    if (!writer || !reader) return t.skip(postgresSkipMessage());
    assert.equal(reader.changes.crossProcess, true);
    const seen = recorder();
    const stop = reader.changes.subscribe(seen.listener);
    try {
      await eventually('the listener is connected', () => seen.resets >= 1);
      await writer.clients.create(makeClient('notified'));
      await writer.clients.delete('notified');
      await writer.signingKeys.create(signingKey('k-notify'));
      await eventually('three changes arrived', () => seen.changes.length >= 3);
      assert.deepEqual(seen.changes, [
        { kind: 'client', clientId: 'notified' },
        { kind: 'client', clientId: 'notified' },
        { kind: 'signing_keys' },
      ]);
    } finally {
      stop();
    }
  });

  it('a change that rolls back is never announced, and other schemas hear nothing', async (t) => {
    if (!writer || !reader || !other) return t.skip(postgresSkipMessage());
    const elsewhere = await openStore(other);
    try {
      await elsewhere.migrate();
      const seenElsewhere = recorder();
      const seen = recorder();
      elsewhere.changes.subscribe(seenElsewhere.listener);
      const stop = reader.changes.subscribe(seen.listener);
      // (The reader's listener is connected since the test before.)
      await eventually("the other schema's listener is connected", () => seenElsewhere.resets >= 1);
      await writer.clients.create(makeClient('dup'));
      await assert.rejects(writer.clients.create(makeClient('dup')), 'a duplicate fails and rolls back');
      await writer.clients.delete('dup');
      // The delete is the last change: once it has arrived, anything before it has too.
      await eventually('the delete arrived', () => seen.changes.length >= 2);
      assert.deepEqual(
        seen.changes,
        [
          { kind: 'client', clientId: 'dup' },
          { kind: 'client', clientId: 'dup' },
        ],
        'create and delete, not the failed create',
      );
      // The other schema's channel differs; a change there reaches its own listeners only (the
      // store that made it announces it itself and may hear its own NOTIFY too: harmless).
      assert.notEqual(changeChannelFor('a'), changeChannelFor('b'));
      await elsewhere.clients.create(makeClient('mine'));
      await eventually('the other schema heard its own change', () => seenElsewhere.changes.length >= 1);
      // A marker change in this schema, sent after 'mine': once the reader has it, a leak of
      // 'mine' into this schema would have arrived before it.
      await writer.clients.create(makeClient('marker'));
      await eventually('the marker arrived', () =>
        seen.changes.some((change) => change.kind === 'client' && change.clientId === 'marker'),
      );
      stop();
      assert.ok(
        !seen.changes.some((change) => change.kind === 'client' && change.clientId === 'mine'),
        'this schema heard nothing of the other',
      );
      assert.ok(
        seenElsewhere.changes.every((change) => change.kind === 'client' && change.clientId === 'mine'),
        'the other schema heard only its own change',
      );
    } finally {
      await elsewhere.close();
    }
  });

  it('reconnects by itself after the connection is killed, resetting the caches, and hears changes again', async (t) => {
    if (!writer || !reader || !url) return t.skip(postgresSkipMessage());
    const seen = recorder();
    const stop = reader.changes.subscribe(seen.listener);
    const schema = new URL(url).searchParams.get('schema')!;
    const admin = new pg.Client({ connectionString: url.replace(/\?.*$/, '') });
    await admin.connect();
    try {
      await eventually('the listener is connected', async () => {
        const { rows } = await admin.query('select pid from pg_stat_activity where application_name = $1', [
          changeChannelFor(schema),
        ]);
        return rows.length === 1;
      });
      const resetsBefore = seen.resets;
      // What a database restart or a network failure does to the connection.
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
        changeChannelFor(schema),
      ]);
      await eventually('the loss was reported', () => seen.errors.length >= 1);
      await eventually('the listener reconnected and reset', () => seen.resets > resetsBefore);
      await writer.clients.create(makeClient('after-reconnect'));
      await eventually('a change after the reconnect arrived', () =>
        seen.changes.some((c) => c.kind === 'client' && c.clientId === 'after-reconnect'),
      );
    } finally {
      stop();
      await admin.end();
    }
  });

  /**
   * Opens another store on the schema with a cache following its changes (as the server's
   * followStoreChanges wires it) and runs `body` once its listener is connected. The cache's
   * 5-minute TTL means only a notification can drop an entry during the test.
   */
  async function withCacheFollowing<C extends { apply(change: StoreChange): void; clear(): void }>(
    Cache: new (store: Store, options: { ttlMs: number }) => C,
    body: (cache: C, seen: ReturnType<typeof recorder>) => Promise<void>,
  ): Promise<void> {
    const instance = await openStore(url!);
    const cache = new Cache(instance, { ttlMs: 300_000 });
    const seen = recorder();
    const stop = instance.changes.subscribe({
      ...seen.listener,
      onChange: (change) => (cache.apply(change), seen.listener.onChange(change)),
      onReset: () => (cache.clear(), seen.listener.onReset()),
    });
    try {
      await eventually('the listener is connected', () => seen.resets >= 1);
      await body(cache, seen);
    } finally {
      stop();
      await instance.close();
    }
  }

  /**
   * `key`, read through `cache` once its creation `arrived`, is cached; after `remove` by another
   * store it is gone (with a 5-minute TTL, only the notification can have dropped it).
   */
  async function assertDropped<T>(
    cache: { get(key: string): Promise<T | undefined>; readonly size: number },
    what: string,
    key: string,
    keyOf: (record: T) => string,
    remove: () => Promise<unknown>,
  ): Promise<void> {
    const cached = await cache.get(key);
    assert.equal(cached && keyOf(cached), key);
    assert.equal(cache.size, 1, `the ${what} is cached`);
    await remove();
    await eventually(`the deleted ${what} is gone from the cache`, async () => (await cache.get(key)) === undefined);
  }

  it('a client cache following the store drops a client deleted by another store', async (t) => {
    if (!writer || !url) return t.skip(postgresSkipMessage());
    await withCacheFollowing(ClientCache, async (cache, seen) => {
      await writer!.clients.create(makeClient('cached'));
      await eventually('the create arrived', () => seen.changes.length >= 1);
      await assertDropped(
        cache,
        'client',
        'cached',
        (c) => c.clientId,
        () => writer!.clients.delete('cached'),
      );
    });
  });

  it('RFC 8707: a resource cache following the store drops a resource deleted by another store', async (t) => {
    if (!writer || !url) return t.skip(postgresSkipMessage());
    const key = 'https://cached.example';
    await withCacheFollowing(ResourceCache, async (cache, seen) => {
      await writer!.resources.upsert(makeResource(key));
      await eventually('the registration arrived', () => seen.changes.some((change) => change.kind === 'resource'));
      await assertDropped(
        cache,
        'resource',
        key,
        (r) => r.identifier,
        () => writer!.resources.delete(key),
      );
    });
  });
});
