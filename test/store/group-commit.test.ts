/**
 * SQLite's group commit (src/store/group-commit.ts): the writes of concurrent requests share one
 * transaction and one COMMIT, and each still succeeds or fails on its own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { makeClient, makeGrant, makeToken, makeUser } from '../helpers/store-records.js';

describe('SQLite group commit', () => {
  let dir: string;
  let store: Store;
  let clientId: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-group-commit-'));
    store = await openStore(`sqlite:${join(dir, 'gatehouse.db')}`);
    await store.migrate();
    const client = makeClient();
    await store.clients.create(client);
    clientId = client.clientId;
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('concurrent writes all commit, and a failing one (a duplicate key) fails alone', async () => {
    const tokens = Array.from({ length: 20 }, () => makeToken(clientId, null));
    const duplicate = tokens[7]!;
    // A transaction still open when the writes arrive: they meet, so they are grouped (one at a
    // time, a unit commits alone).
    const open = store.transaction(() => new Promise((resolve) => setTimeout(resolve, 20)));
    const results = await Promise.allSettled([
      ...tokens.map((token) => store.accessTokens.create(token)),
      store.accessTokens.create(duplicate),
    ]);
    await open;
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 20);
    const [failed] = results.filter((result) => result.status === 'rejected');
    assert.match(String((failed as PromiseRejectedResult).reason), /UNIQUE/);
    for (const token of tokens) assert.deepEqual(await store.accessTokens.get(token.jti), token);
  });

  it('a transaction that rejects rolls back only its own writes; the others of its group commit', async () => {
    const user = makeUser();
    await store.users.create(user);
    const kept = Array.from({ length: 5 }, () => makeToken(clientId, null));
    const rolledBack = makeToken(clientId, null);
    const grant = makeGrant(clientId, user.id);
    const results = await Promise.allSettled([
      ...kept.map((token) => store.transaction(async (tx) => tx.accessTokens.create(token))),
      store.transaction(async (tx) => {
        await tx.grants.create(grant);
        await tx.accessTokens.create(rolledBack);
        throw new Error('rolled back on purpose');
      }),
    ]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
    );
    for (const token of kept) assert.ok(await store.accessTokens.get(token.jti));
    assert.equal(await store.accessTokens.get(rolledBack.jti), undefined);
    assert.equal(await store.grants.get(grant.id), undefined);
  });

  it('a read made while a group is open is answered after its COMMIT: with what the group committed, never what it rolled back', async () => {
    const doomed = makeToken(clientId, null);
    const kept = makeToken(clientId, null);
    const writes = Promise.allSettled([
      // Written, then rolled back 15 ms later: a read in between must not see it.
      store.transaction(async (tx) => {
        await tx.accessTokens.create(doomed);
        await new Promise((resolve) => setTimeout(resolve, 15));
        throw new Error('rolled back on purpose');
      }),
      // The next unit of the same group.
      store.accessTokens.create(kept),
    ]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const [doomedRead, keptRead] = await Promise.all([
      store.accessTokens.get(doomed.jti),
      store.accessTokens.get(kept.jti),
    ]);
    assert.equal(doomedRead, undefined);
    assert.deepEqual(keptRead, kept);
    assert.deepEqual(
      (await writes).map((result) => result.status),
      ['rejected', 'fulfilled'],
    );
  });

  it('the reads made while a group is open run right after its COMMIT, together in one read transaction', async () => {
    const stored = Array.from({ length: 3 }, () => makeToken(clientId, null));
    for (const token of stored) await store.accessTokens.create(token);
    // Every statement better-sqlite3 runs, in order (all statements share one prototype).
    const probe = new Database(':memory:');
    const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
    probe.close();
    const ran: string[] = [];
    const originals = { run: proto['run']!, all: proto['all']! };
    for (const method of ['run', 'all'] as const) {
      proto[method] = function (this: { source: string }, ...args: unknown[]) {
        ran.push(this.source.split(' ')[0]!.toLowerCase());
        return originals[method].apply(this, args);
      };
    }
    let reads: Array<unknown>;
    try {
      // A unit that keeps its group open for 15 ms; the reads are made meanwhile.
      const write = store.transaction(async (tx) => {
        await tx.accessTokens.create(makeToken(clientId, null));
        await new Promise((resolve) => setTimeout(resolve, 15));
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
      const reading = Promise.all(stored.map((token) => store.accessTokens.get(token.jti)));
      await write;
      reads = await reading;
    } finally {
      Object.assign(proto, originals);
    }
    assert.deepEqual(reads, stored);
    const committed = ran.indexOf('commit');
    assert.deepEqual(ran.slice(committed, committed + 6), ['commit', 'begin', 'select', 'select', 'select', 'commit']);
  });

  it('a write is answered only once it is committed: another connection to the file sees it then', async () => {
    // Written while this store is the file's only connection in the process (a group that commits
    // at the end of the event loop's turn), read through a second connection opened afterwards.
    const token = makeToken(clientId, null);
    await store.accessTokens.create(token);
    const other = await openStore(`sqlite:${join(dir, 'gatehouse.db')}`);
    try {
      assert.deepEqual(await other.accessTokens.get(token.jti), token);
    } finally {
      await other.close();
    }
  });
});
