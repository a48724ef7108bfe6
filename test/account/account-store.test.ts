/**
 * The store's side of the account page, on SQLite and PostgreSQL: a user's sessions with their
 * browser and last use (migration 0024), the applications the user authorized, and taking one
 * back in one transaction (grants and access tokens revoked, consent deleted, logout queued).
 *
 * Run: node scripts/run-tests.mjs test/account/account-store
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import { listSessions } from '../../src/core/account/account-sessions.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { migrate, migrations } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/open-store.js';
import type { LogoutDelivery, Store } from '../../src/store/store.js';
import { onStoreTarget, STORE_TARGETS } from '../helpers/server.js';
import {
  makeClient,
  makeGrant,
  makeRefreshToken,
  makeSession,
  makeToken,
  makeUser,
  MINUTE,
  NOW,
  uid,
} from '../helpers/store-records.js';

function delivery(clientId: string): LogoutDelivery {
  return {
    id: uid('delivery'),
    clientId,
    uri: 'https://client.example/logout',
    logoutToken: 'header.payload.signature',
    attempts: 0,
    nextAttemptAt: NOW,
    lastError: null,
    deliveredAt: null,
    createdAt: NOW,
  };
}

async function withStore(url: string, fn: (store: Store) => Promise<void>): Promise<void> {
  const store = await openStore(url);
  try {
    await store.migrate();
    await fn(store);
  } finally {
    await store.close();
  }
}

for (const target of STORE_TARGETS) {
  describe(`account store (${target.name})`, () => {
    it(
      'lists the live sessions of one user, the most recently used first, with browser and last use',
      onStoreTarget(target, (url) =>
        withStore(url, async (store) => {
          const alice = makeUser();
          const bob = makeUser();
          await store.users.create(alice);
          await store.users.create(bob);
          const older = makeSession(alice.id, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' });
          const newer = makeSession(alice.id, { createdAt: NOW });
          const expired = makeSession(alice.id, { expiresAt: NOW - 1 });
          for (const session of [older, newer, expired, makeSession(bob.id)]) await store.sessions.create(session);

          // The account page's list (src/core/account/account-sessions.ts) over store.sessions.list.
          const context = { store, now: () => NOW };
          let listed = await listSessions(newer, context);
          assert.deepEqual(
            listed.map((session) => session.sid),
            [newer.sid, older.sid],
          );
          assert.deepEqual(listed[1]!.device, { browser: 'Firefox', system: 'Linux' });
          assert.equal(listed[1]!.lastSeenAt, older.createdAt, 'never seen since sign-in: its creation');
          const stored = await store.sessions.list({ userId: alice.id }, NOW);
          assert.equal(stored.find((session) => session.idHash === older.idHash)?.userAgent, older.userAgent);
          assert.equal(stored.find((session) => session.idHash === older.idHash)?.lastSeenAt, undefined);

          await store.sessions.touch(older.idHash, NOW + MINUTE);
          listed = await listSessions(newer, context);
          assert.deepEqual(
            listed.map((session) => [session.sid, session.lastSeenAt, session.current]),
            [
              [older.sid, NOW + MINUTE, false],
              [newer.sid, newer.createdAt, true],
            ],
          );
        }),
      ),
    );

    it(
      'lists the applications a user authorized: consented and granted scopes, since when, last token',
      onStoreTarget(target, (url) =>
        withStore(url, async (store) => {
          const user = makeUser();
          const web = makeClient();
          const cli = makeClient();
          const revoked = makeClient();
          await store.users.create(user);
          for (const client of [web, cli, revoked]) await store.clients.create(client);
          await store.consents.grant({
            userId: user.id,
            clientId: web.clientId,
            scopes: ['openid'],
            grantedAt: NOW - 10 * MINUTE,
          });
          const webGrant = makeGrant(web.clientId, user.id, {
            scope: ['openid', 'offline_access'],
            createdAt: NOW - 9 * MINUTE,
            sid: null,
          });
          const cliGrant = makeGrant(cli.clientId, user.id, {
            scope: ['profile'],
            createdAt: NOW - 5 * MINUTE,
            sid: 'sid-1',
          });
          const gone = makeGrant(revoked.clientId, user.id, { revokedAt: NOW - MINUTE });
          for (const grant of [webGrant, cliGrant, gone]) await store.grants.create(grant);
          await store.accessTokens.create(makeToken(web.clientId, webGrant, { createdAt: NOW - 8 * MINUTE }));
          await store.refreshTokens.create(makeRefreshToken(webGrant, { createdAt: NOW - 2 * MINUTE }));

          const apps = await store.account.connectedApps(user.id);
          assert.deepEqual(apps, [
            {
              clientId: web.clientId,
              scopes: ['openid', 'offline_access'],
              since: NOW - 10 * MINUTE,
              lastUsedAt: NOW - 2 * MINUTE,
              sids: [],
            },
            { clientId: cli.clientId, scopes: ['profile'], since: NOW - 5 * MINUTE, lastUsedAt: null, sids: ['sid-1'] },
          ]);
          assert.deepEqual(await store.account.connectedApps(makeUser().id), []);
        }),
      ),
    );

    it(
      'RFC 7009 §2.1: revoking an application revokes its grants and their access tokens, deletes the consent and queues the logout, at once',
      onStoreTarget(target, (url) =>
        withStore(url, async (store) => {
          const user = makeUser();
          const client = makeClient();
          const other = makeClient();
          await store.users.create(user);
          await store.clients.create(client);
          await store.clients.create(other);
          await store.consents.grant({
            userId: user.id,
            clientId: client.clientId,
            scopes: ['openid'],
            grantedAt: NOW,
          });
          const grants = [makeGrant(client.clientId, user.id), makeGrant(client.clientId, user.id)];
          const untouched = makeGrant(other.clientId, user.id);
          for (const grant of [...grants, untouched]) await store.grants.create(grant);
          const token = makeToken(client.clientId, grants[0]!);
          const otherToken = makeToken(other.clientId, untouched);
          await store.accessTokens.create(token);
          await store.accessTokens.create(otherToken);
          const queued = delivery(client.clientId);

          const revoked = await store.account.revokeApp(user.id, client.clientId, NOW + MINUTE, [queued]);
          assert.equal(revoked.consent, true);
          assert.deepEqual(revoked.grantIds.sort(), grants.map((grant) => grant.id).sort());
          for (const grant of grants) assert.equal((await store.grants.get(grant.id))?.revokedAt, NOW + MINUTE);
          assert.equal((await store.grants.get(untouched.id))?.revokedAt, null);
          assert.equal((await store.accessTokens.get(token.jti))?.revokedAt, NOW + MINUTE);
          assert.equal((await store.accessTokens.get(otherToken.jti))?.revokedAt, null);
          assert.equal(await store.consents.get(user.id, client.clientId), undefined);
          assert.equal((await store.logoutDeliveries.get(queued.id))?.clientId, client.clientId);
          assert.deepEqual(
            (await store.account.connectedApps(user.id)).map((app) => app.clientId),
            [other.clientId],
          );

          // Nothing left to take back: nothing revoked again, nothing queued.
          const again = delivery(client.clientId);
          assert.deepEqual(await store.account.revokeApp(user.id, client.clientId, NOW + 2 * MINUTE, [again]), {
            consent: false,
            grantIds: [],
          });
          assert.equal(await store.logoutDeliveries.get(again.id), undefined);
          assert.equal((await store.grants.get(grants[0]!.id))?.revokedAt, NOW + MINUTE);
        }),
      ),
    );

    it(
      '0024 upgrades a 0019 database in place: existing sessions keep working, with no browser or last use',
      onStoreTarget(target, async (url) => {
        const store = await openStore(url);
        try {
          assert.ok(store instanceof KyselyStore);
          await migrate(
            store.db,
            store.dialect,
            migrations.filter((m) => m.name < '0024'),
          );
          const user = makeUser();
          await store.users.create(user);
          await (store.db as Kysely<any>)
            .insertInto('sessions')
            .values({
              id_hash: 'legacy-hash',
              sid: 'legacy-sid',
              user_id: user.id,
              auth_time: NOW,
              created_at: NOW,
              expires_at: NOW + 60 * MINUTE,
            })
            .execute();
          await store.migrate();
          const [session] = await store.sessions.list({ userId: user.id }, NOW);
          assert.equal(session?.sid, 'legacy-sid');
          assert.equal(session?.userAgent, undefined);
          assert.equal(session?.lastSeenAt, undefined);
          await store.sessions.touch('legacy-hash', NOW + MINUTE);
          assert.equal((await store.sessions.get('legacy-hash', NOW))?.lastSeenAt, NOW + MINUTE);
        } finally {
          await store.close();
        }
      }),
    );
  });
}
