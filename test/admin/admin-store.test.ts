/**
 * The store queries the admin API added, on SQLite and PostgreSQL: live sessions by user and by
 * sid, grants and consents by user and client, forgetting a consent, the audit trail's cursor,
 * and the user admin role (migration 0020).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/open-store.js';
import { STORE_TARGETS, onStoreTarget } from '../helpers/server.js';
import { MINUTE, NOW, makeAuditEvent, makeClient, makeGrant, makeSession, makeUser } from '../helpers/store-records.js';

for (const target of STORE_TARGETS) {
  describe(`admin store queries (${target.name})`, () => {
    it(
      'lists live sessions, grants and consents with their filters; forgets a consent; pages the audit trail',
      onStoreTarget(target, async (url) => {
        const store = await openStore(url);
        try {
          await store.migrate();
          const client = makeClient();
          await store.clients.create(client);
          const alice = makeUser({ admin: true });
          const bob = makeUser();
          await store.users.create(alice);
          await store.users.create(bob);
          assert.equal((await store.users.getById(alice.id))?.admin, true);
          assert.equal((await store.users.getById(bob.id))?.admin, undefined);

          const live = makeSession(alice.id, { expiresAt: NOW + 60 * MINUTE });
          const expired = makeSession(alice.id, { expiresAt: NOW - MINUTE });
          const bobs = makeSession(bob.id, { expiresAt: NOW + 60 * MINUTE });
          for (const session of [live, expired, bobs]) await store.sessions.create(session);
          assert.deepEqual(
            (await store.sessions.list({ userId: alice.id }, NOW)).map((s) => s.sid),
            [live.sid],
          );
          assert.equal((await store.sessions.list({}, NOW)).length, 2);
          assert.equal((await store.sessions.getBySid(live.sid, NOW))?.userId, alice.id);
          assert.equal(await store.sessions.getBySid(expired.sid, NOW), undefined);

          const kept = makeGrant(client.clientId, alice.id);
          const revoked = makeGrant(client.clientId, alice.id);
          const other = makeGrant(client.clientId, bob.id);
          for (const grant of [kept, revoked, other]) await store.grants.create(grant);
          await store.grants.revoke(revoked.id, NOW);
          assert.deepEqual(
            (await store.grants.list({ userId: alice.id, revoked: false })).map((g) => g.id),
            [kept.id],
          );
          assert.deepEqual(
            (await store.grants.list({ userId: alice.id, revoked: true })).map((g) => g.id),
            [revoked.id],
          );
          assert.equal((await store.grants.list({ clientId: client.clientId })).length, 3);

          await store.consents.grant({
            userId: alice.id,
            clientId: client.clientId,
            scopes: ['openid'],
            grantedAt: NOW,
          });
          await store.consents.grant({ userId: bob.id, clientId: client.clientId, scopes: ['openid'], grantedAt: NOW });
          assert.equal((await store.consents.list({ clientId: client.clientId })).length, 2);
          assert.equal(await store.consents.delete(alice.id, client.clientId), true);
          assert.equal(await store.consents.delete(alice.id, client.clientId), false);
          assert.deepEqual(
            (await store.consents.list({})).map((c) => c.userId),
            [bob.id],
          );

          await store.audit.insert([1, 2, 3].map((i) => makeAuditEvent(NOW + i * MINUTE, 'client.updated')));
          const first = await store.audit.list({ types: ['client.updated'], limit: 2 });
          assert.equal(first.length, 2);
          const last = first.at(-1)!;
          const rest = await store.audit.list({
            types: ['client.updated'],
            limit: 2,
            before: { at: last.at, id: last.id! },
          });
          assert.deepEqual(
            rest.map((event) => event.at),
            [NOW + MINUTE],
          );
        } finally {
          await store.close();
        }
      }),
    );
  });
}
