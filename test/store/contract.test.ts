/**
 * The Store contract: one suite, run against every backend (SQLite in memory, SQLite in a WAL
 * file, PostgreSQL). Anything the server relies on about the store belongs here, so that both
 * backends are held to exactly the same behaviour.
 *
 * Run: node --import tsx --test test/store/contract.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { sql, type Kysely } from 'kysely';
import type {
  AccessTokenRecord,
  AuditEvent,
  CleanupPolicy,
  Client,
  ClientRegistration,
  InitialAccessToken,
  DeviceCode,
  Grant,
  Interaction,
  LogoutDelivery,
  ProtectedResource,
  RateLimitHitResult,
  RateLimitPolicy,
  RefreshTokenRecord,
  RotateRefreshTokenResult,
  SigningKeyRecord,
  Store,
  StoreChange,
  User,
} from '../../src/store/store.js';
import { KyselyStore } from '../../src/store/kysely-store.js';
import { CLEANUP_TABLES } from '../../src/store/repositories/expired-rows.js';
import type { Database } from '../../src/store/schema.js';
import { listAppliedMigrations, migrate, migrations } from '../../src/store/migrations.js';
import { openStore, postgresConnectionString } from '../../src/store/open-store.js';
import { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } from '../helpers/postgres.js';
import {
  DAY,
  MINUTE,
  NOW,
  makeClient,
  makeCode,
  makeDeviceCode,
  makeGrant,
  makeAuditEvent,
  makeInteraction,
  makePushedRequest,
  makeRefreshToken,
  makeResource,
  makeSession,
  makeSigningKey,
  makeSuccessor,
  makeToken,
  makeUser,
  uid,
} from '../helpers/store-records.js';

/** An empty database that stores can be opened on. */
interface TestDatabase {
  /** Opens a new store, with its own connection(s), on this database. */
  open(): Promise<Store>;
  /** Deletes the database; every store opened on it must be closed first. */
  destroy(): Promise<void>;
}

interface ContractTarget {
  createDatabase(): Promise<TestDatabase>;
  /** Whether separately opened stores on one TestDatabase share its data (not `:memory:`). */
  shared: boolean;
  /**
   * Whether multi-statement transactions of separate stores can interleave in one process.
   * Not on SQLite: better-sqlite3 waits for a lock synchronously, blocking the event loop
   * that the lock holder needs to finish, so the waiter times out with SQLITE_BUSY. Separate
   * processes (the real multi-instance setup) do not have this problem; single-statement
   * operations (code and interaction consumption) are unaffected and tested across stores.
   */
  interleavedTransactions: boolean;
  /** A reason to skip the whole suite, e.g. PostgreSQL unreachable. */
  skip?: string;
}

// --- Fixtures -------------------------------------------------------------------------------

/** A new client, stored. */
async function storedClient(store: Store, overrides: Partial<Client> = {}): Promise<Client> {
  const client = makeClient(overrides);
  await store.clients.create(client);
  return client;
}

/** A new user, stored. */
async function storedUser(store: Store, overrides: Partial<User> = {}): Promise<User> {
  const user = makeUser(overrides);
  await store.users.create(user);
  return user;
}

/** A client, a user and a grant between them, stored: what codes and tokens hang off. */
async function seedGrant(store: Store): Promise<{ client: Client; user: User; grant: Grant }> {
  const client = await storedClient(store);
  const user = await storedUser(store);
  const grant = makeGrant(client.clientId, user.id);
  await store.grants.create(grant);
  return { client, user, grant };
}

/** A refresh token row as migrations 0002 to 0027 stored it: every family term on every token. */
function legacyRefreshTokenRow(token: RefreshTokenRecord): Record<string, unknown> {
  return {
    token_hash: token.tokenHash,
    grant_id: token.grantId,
    flow_id: token.flowId,
    client_id: token.clientId,
    user_id: token.userId,
    scope: JSON.stringify(token.scope),
    resources: JSON.stringify(token.resources),
    auth_time: token.authTime,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    family_expires_at: token.familyExpiresAt,
    rotated_at: token.rotatedAt,
    successor_hash: token.successorHash,
    successor_encrypted: token.successorEncrypted,
    dpop_jkt: token.dpopJkt ?? null,
  };
}

/** A grant (seedGrant) and one access token of it, stored. */
async function seedAccessToken(store: Store): Promise<{ client: Client; grant: Grant; token: AccessTokenRecord }> {
  const { client, grant } = await seedGrant(store);
  const token = makeToken(client.clientId, grant);
  await store.accessTokens.create(token);
  return { client, grant, token };
}

/** A grant (seedGrant) and one refresh token of it, stored. */
async function seedRefreshToken(store: Store): Promise<{ grant: Grant; token: RefreshTokenRecord }> {
  const { grant } = await seedGrant(store);
  const token = makeRefreshToken(grant);
  await store.refreshTokens.create(token);
  return { grant, token };
}

/**
 * A client, a user and a grant as rows of the 0001 schema, for upgrade tests: the store's own
 * methods write columns that later migrations added.
 */
async function seedLegacyGrant(db: Kysely<any>): Promise<{ client: Client; user: User; grant: Grant }> {
  const client = makeClient();
  const user = makeUser({ claims: {} });
  const grant = makeGrant(client.clientId, user.id, { sid: null });
  await db
    .insertInto('clients')
    .values({
      client_id: client.clientId,
      client_secret_hash: client.clientSecretHash,
      client_name: client.clientName,
      redirect_uris: JSON.stringify(client.redirectUris),
      grant_types: JSON.stringify(client.grantTypes),
      response_types: JSON.stringify(client.responseTypes),
      token_endpoint_auth_method: client.tokenEndpointAuthMethod,
      scope: client.scope,
      require_pkce: 1,
      created_at: client.createdAt,
    })
    .execute();
  await db
    .insertInto('users')
    .values({
      id: user.id,
      username: user.username,
      password_hash: user.passwordHash,
      email: user.email,
      name: user.name,
      created_at: user.createdAt,
    })
    .execute();
  await db
    .insertInto('grants')
    .values({
      id: grant.id,
      flow_id: grant.flowId,
      client_id: grant.clientId,
      user_id: grant.userId,
      scope: JSON.stringify(grant.scope),
      created_at: grant.createdAt,
      revoked_at: null,
    })
    .execute();
  return { client, user, grant };
}

function count<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  return items.filter(predicate).length;
}

/** Opens a store (not migrated) on a fresh database and passes it to `fn`, cleaning up afterwards. */
async function withFreshStore(target: ContractTarget, fn: (s: Store) => Promise<void>): Promise<void> {
  const fresh = await target.createDatabase();
  const s = await fresh.open();
  try {
    await fn(s);
  } finally {
    await s.close();
    await fresh.destroy();
  }
}

/** A migrated store on a fresh database for the tests of the enclosing suite, handed to `opened`; closed and deleted after them. */
function storeForSuite(target: ContractTarget, opened: (store: Store) => void): void {
  let database: TestDatabase | undefined;
  let store: Store | undefined;
  before(async () => {
    database = await target.createDatabase();
    store = await database.open();
    await store.migrate();
    opened(store);
  });
  after(async () => {
    await store?.close();
    await database?.destroy();
  });
}

/** A record created (by `create`) before the tests of the enclosing suite; the returned function reads it. */
function storedBefore<T>(create: () => Promise<T>): () => T {
  let value: T | undefined;
  before(async () => {
    value = await create();
  });
  return () => {
    assert.ok(value !== undefined, 'created before the tests');
    return value;
  };
}

/** Runs `work` in a transaction of `store` that then fails, so that it rolls back. */
async function rolledBack(store: Store, work: (transactional: Store) => Promise<unknown>): Promise<void> {
  await assert.rejects(
    store.transaction(async (transactional) => {
      await work(transactional);
      throw new Error('roll back');
    }),
    /roll back/,
  );
}

/** Upserts `record`, then `changed` twice (idempotent), reading each back by `key` from `repository`. */
async function assertUpsertReplaces<T>(
  repository: { upsert(record: T): Promise<unknown>; get(key: string): Promise<T | undefined> },
  key: string,
  record: T,
  changed: T,
): Promise<void> {
  await repository.upsert(record);
  assert.deepEqual(await repository.get(key), record);
  await repository.upsert(changed);
  await repository.upsert(changed);
  assert.deepEqual(await repository.get(key), changed);
}

/**
 * Adds `b`, then `a` (keys under one fresh `prefix`, a's first) through `repository[add]`, and lists:
 * the two come in key order. Returns the list.
 */
async function listedInKeyOrder<T, A extends 'create' | 'upsert'>(
  prefix: string,
  [a, b]: [T, T],
  repository: { list(): Promise<T[]> } & Record<A, (record: T) => Promise<unknown>>,
  add: A,
  keyOf: (record: T) => string,
): Promise<T[]> {
  await repository[add](b);
  await repository[add](a);
  const listed = await repository.list();
  assert.deepEqual(
    listed.filter((record) => keyOf(record).startsWith(prefix)),
    [a, b],
  );
  return listed;
}

/** Deletes a stored record: true, then it is gone, and deleting it again is false. */
async function assertDeleteReports(remove: () => Promise<boolean>, read: () => Promise<unknown>): Promise<void> {
  assert.equal(await remove(), true);
  assert.equal(await read(), undefined);
  assert.equal(await remove(), false);
}

/** A record that expires at `expiresAt`: read just before, it is there; read at `expiresAt`, it is not. */
async function assertReadableUntil<T>(
  read: (now: number) => Promise<T | undefined>,
  record: T,
  expiresAt: number,
): Promise<void> {
  assert.deepEqual(await read(expiresAt - 1), record);
  assert.equal(await read(expiresAt), undefined);
}

/** Stores `interaction` as an earlier version wrote it: with `request` as its request JSON. */
async function insertInteractionRow(store: Store, interaction: Interaction, request: object): Promise<void> {
  assert.ok(store instanceof KyselyStore);
  await store.db
    .insertInto('interactions')
    .values({
      id: interaction.id,
      flow_id: interaction.flowId,
      client_id: interaction.clientId,
      request: JSON.stringify(request),
      browser_binding_hash: interaction.browserBindingHash,
      csrf_token: interaction.csrfToken,
      created_at: interaction.createdAt,
      expires_at: interaction.expiresAt,
    })
    .execute();
}

/** Opens two stores on one fresh database and passes them to `fn`, cleaning up afterwards. */
async function withTwoStores(target: ContractTarget, fn: (a: Store, b: Store) => Promise<void>): Promise<void> {
  const database = await target.createDatabase();
  const a = await database.open();
  let b: Store | undefined;
  try {
    await a.migrate();
    b = await database.open();
    await fn(a, b);
  } finally {
    await b?.close();
    await a.close();
    await database.destroy();
  }
}

// --- The contract ---------------------------------------------------------------------------

function defineContract(name: string, target: ContractTarget): void {
  const needsShared = target.shared ? false : 'needs two stores sharing one database';
  const needsInterleaved = target.interleavedTransactions
    ? false
    : 'needs interleaved multi-statement transactions across connections';

  describe(`Store contract: ${name}`, { skip: target.skip ?? false }, () => {
    let store: Store;
    storeForSuite(target, (opened) => (store = opened));

    describe('migrate', () => {
      it('records every migration and is idempotent', async () => {
        await store.migrate();
        await store.migrate();
        assert.ok(store instanceof KyselyStore);
        assert.deepEqual(await listAppliedMigrations(store.db), migrations.map((m) => m.name).sort());
      });

      it('applies each migration once under concurrent callers of one store', async () => {
        await withFreshStore(target, async (s) => {
          await Promise.all([s.migrate(), s.migrate(), s.migrate()]);
          assert.ok(s instanceof KyselyStore);
          assert.equal((await listAppliedMigrations(s.db)).length, migrations.length);
        });
      });

      it('applies each migration once under concurrent callers of separate stores', {
        skip: needsShared || needsInterleaved,
      }, async () => {
        const fresh = await target.createDatabase();
        const stores = await Promise.all([fresh.open(), fresh.open(), fresh.open()]);
        try {
          await Promise.all(stores.map((s) => s.migrate()));
          const first = stores[0];
          assert.ok(first instanceof KyselyStore);
          assert.equal((await listAppliedMigrations(first.db)).length, migrations.length);
          // The schema works from every store.
          await stores[1]!.clients.create(makeClient());
        } finally {
          await Promise.all(stores.map((s) => s.close()));
          await fresh.destroy();
        }
      });

      it('0002 upgrades a 0001 database, giving existing codes no resources', async () => {
        await withFreshStore(target, async (s) => {
          assert.ok(s instanceof KyselyStore);
          const initial = migrations.filter((m) => m.name === '0001_initial_schema');
          assert.equal(initial.length, 1);
          await migrate(s.db, s.dialect, initial);
          const { grant } = await seedLegacyGrant(s.db);
          const code = makeCode(grant, { resources: [] });
          // A row shaped for 0001's schema, which the current typings no longer describe.
          const legacyRow = {
            code_hash: code.codeHash,
            grant_id: code.grantId,
            flow_id: code.flowId,
            client_id: code.clientId,
            user_id: code.userId,
            redirect_uri: code.redirectUri,
            redirect_uri_provided: 0,
            scope: JSON.stringify(code.scope),
            code_challenge: code.codeChallenge,
            code_challenge_method: code.codeChallengeMethod,
            nonce: code.nonce,
            auth_time: code.authTime,
            created_at: code.createdAt,
            expires_at: code.expiresAt,
            consumed_at: code.consumedAt,
          };
          await (s.db as Kysely<any>).insertInto('authorization_codes').values(legacyRow).execute();

          await s.migrate();
          assert.deepEqual(await listAppliedMigrations(s.db), migrations.map((m) => m.name).sort());
          assert.deepEqual(await s.codes.consume(code.codeHash, NOW), {
            status: 'consumed',
            code: { ...code, consumedAt: NOW },
          });
          await s.resources.upsert(makeResource());
          await s.refreshTokens.create(makeRefreshToken(grant));
        });
      });

      it('0027 upgrades a 0024 database in place: refresh tokens lose the plain expires_at index, and the cleanup still finds idle-expired unrotated ones by the partial index (RFC 9700 §4.14.2: rotated ones stay)', async () => {
        await withFreshStore(target, async (s) => {
          assert.ok(s instanceof KyselyStore);
          await migrate(
            s.db,
            s.dialect,
            migrations.filter((m) => m.name < '0027'),
          );
          const indexNames = async (): Promise<string[]> => {
            const query =
              s.dialect === 'postgres'
                ? sql<{
                    name: string;
                  }>`select indexname as name from pg_indexes where tablename = 'refresh_tokens' and schemaname = current_schema()`
                : sql<{
                    name: string;
                  }>`select name from sqlite_master where type = 'index' and tbl_name = 'refresh_tokens'`;
            return (await query.execute(s.db)).rows.map((row) => row.name).sort();
          };
          assert.ok((await indexNames()).includes('refresh_tokens_expires_at_idx'));
          const { grant } = await seedGrant(s);
          const idle = makeRefreshToken(grant, { expiresAt: NOW - 2 * MINUTE, familyExpiresAt: NOW + DAY });
          const rotated = makeRefreshToken(grant, {
            expiresAt: NOW - 2 * MINUTE,
            familyExpiresAt: NOW + DAY,
            rotatedAt: NOW - 3 * MINUTE,
          });
          const live = makeRefreshToken(grant, { expiresAt: NOW + MINUTE, familyExpiresAt: NOW + DAY });
          // Rows shaped for the schema before 0028, which the current repository no longer writes.
          for (const token of [idle, rotated, live])
            await (s.db as Kysely<any>).insertInto('refresh_tokens').values(legacyRefreshTokenRow(token)).execute();

          await s.migrate();
          const after = await indexNames();
          assert.ok(!after.includes('refresh_tokens_expires_at_idx'), after.join(', '));
          assert.ok(after.includes('refresh_tokens_unrotated_expires_at_idx'));
          if (s.dialect === 'sqlite') {
            // The cleanup's scan of unrotated tokens by expiry (src/store/repositories/expired-rows.ts).
            const plan = await sql<{ detail: string }>`explain query plan
              select token_hash from refresh_tokens where rotated_at is null and expires_at <= ${NOW}
              order by expires_at limit 2`.execute(s.db);
            assert.ok(
              plan.rows.some((row) => row.detail.includes('refresh_tokens_unrotated_expires_at_idx')),
              JSON.stringify(plan.rows),
            );
          }
          await s.cleanup.run(NOW, {
            consumedCodeRetentionMs: DAY,
            refreshTokenGraceMs: MINUTE,
            logoutDeliveryRetentionMs: DAY,
            grantMinAgeMs: MINUTE,
            batchSize: 10,
          });
          assert.equal(await s.refreshTokens.get(idle.tokenHash), undefined);
          assert.ok(await s.refreshTokens.get(rotated.tokenHash), 'a rotated token stays for reuse detection');
          assert.ok(await s.refreshTokens.get(live.tokenHash));
        });
      });

      it('0028 upgrades a 0027 database in place: each refresh token family’s terms move to its grant, every token reads back equal and still rotates (RFC 9700 §4.14.2), deleting a client or user still deletes its tokens through the grant, and the cleanup finds expired families by index', async () => {
        await withFreshStore(target, async (s) => {
          assert.ok(s instanceof KyselyStore);
          await migrate(
            s.db,
            s.dialect,
            migrations.filter((m) => m.name < '0028'),
          );
          const { client, user, grant } = await seedGrant(s);
          // A family rotated once, bound to a DPoP key (RFC 9449 §5): the rotated token and its successor.
          const started = makeRefreshToken(grant, {
            resources: ['https://api.example', 'https://files.example/v1'],
            dpopJkt: 'jkt-thumbprint',
            createdAt: NOW - 2 * MINUTE,
          });
          const second = makeSuccessor(started, NOW - MINUTE);
          const first = {
            ...started,
            rotatedAt: NOW - MINUTE,
            successorHash: second.tokenHash,
            successorEncrypted: 'jwe-1',
          };
          // A family without user, sign-in time, scope or resources, of another grant of the client.
          const bareGrant = makeGrant(client.clientId, null, { scope: [] });
          await s.grants.create(bareGrant);
          const bare = makeRefreshToken(bareGrant, { authTime: null, resources: [] });
          // A family past its absolute expiry: a rotated member and its unrotated latest token.
          const deadGrant = makeGrant(client.clientId, user.id);
          await s.grants.create(deadGrant);
          const deadRotated = makeRefreshToken(deadGrant, {
            expiresAt: NOW - 2 * DAY,
            familyExpiresAt: NOW - 1,
            rotatedAt: NOW - 3 * DAY,
          });
          const deadLatest = makeRefreshToken(deadGrant, { expiresAt: NOW - 1, familyExpiresAt: NOW - 1 });
          // A grant that started no family.
          const plainGrant = makeGrant(client.clientId, user.id);
          await s.grants.create(plainGrant);
          const tokens = [first, second, bare, deadRotated, deadLatest];
          for (const token of tokens)
            await (s.db as Kysely<any>).insertInto('refresh_tokens').values(legacyRefreshTokenRow(token)).execute();

          await s.migrate();
          assert.ok((await listAppliedMigrations(s.db)).includes('0028_grant_is_the_family'));
          const columns =
            s.dialect === 'postgres'
              ? sql<{
                  name: string;
                }>`select column_name as name from information_schema.columns where table_name = 'refresh_tokens' and table_schema = current_schema()`
              : sql<{ name: string }>`select name from pragma_table_info('refresh_tokens')`;
          assert.deepEqual((await columns.execute(s.db)).rows.map((row) => row.name).sort(), [
            'created_at',
            'dpop_jkt',
            'expires_at',
            'family_expires_at',
            'grant_id',
            'rotated_at',
            'successor_encrypted',
            'successor_hash',
            'token_hash',
          ]);
          const indexes =
            s.dialect === 'postgres'
              ? sql<{
                  name: string;
                }>`select indexname as name from pg_indexes where tablename = 'refresh_tokens' and schemaname = current_schema()`
              : sql<{
                  name: string;
                }>`select name from sqlite_master where type = 'index' and tbl_name = 'refresh_tokens'`;
          // The primary key's index, and three more: 4 B-trees per token written, 3 per unrotated one.
          assert.deepEqual(
            (await indexes.execute(s.db)).rows
              .map((row) => row.name)
              .filter((name) => !/^sqlite_autoindex_|_pkey$/.test(name))
              .sort(),
            [
              'refresh_tokens_grant_id_idx',
              'refresh_tokens_rotated_family_expires_at_idx',
              'refresh_tokens_unrotated_expires_at_idx',
            ],
          );

          for (const token of tokens) assert.deepEqual(await s.refreshTokens.get(token.tokenHash), token);
          assert.deepEqual(await s.refreshTokens.listByGrant(grant.id), [first, second]);
          assert.deepEqual(await s.grants.get(plainGrant.id), plainGrant);

          // Rotation goes on where it was; the rotated token is still told apart (reuse detection).
          const third = makeSuccessor(second, NOW);
          assert.deepEqual(await s.refreshTokens.rotate(second.tokenHash, third, 'jwe-2', NOW), {
            status: 'rotated',
            token: { ...second, rotatedAt: NOW, successorHash: third.tokenHash, successorEncrypted: 'jwe-2' },
          });
          assert.deepEqual(await s.refreshTokens.get(third.tokenHash), third);
          assert.deepEqual(await s.refreshTokens.rotate(first.tokenHash, makeSuccessor(first, NOW), 'jwe-3', NOW), {
            status: 'already_rotated',
            token: first,
          });
          const bareNext = makeSuccessor(bare, NOW);
          assert.equal((await s.refreshTokens.rotate(bare.tokenHash, bareNext, 'jwe-4', NOW)).status, 'rotated');
          assert.deepEqual(await s.refreshTokens.get(bareNext.tokenHash), bareNext);

          // A family started after the upgrade, from a grant issued with its code.
          const newGrant = makeGrant(client.clientId, user.id);
          const code = makeCode(newGrant);
          await s.codes.issue(newGrant, code);
          const fresh = makeRefreshToken(newGrant, { resources: code.resources, authTime: code.authTime });
          await s.refreshTokens.create(fresh);
          assert.deepEqual(await s.refreshTokens.get(fresh.tokenHash), fresh);

          if (s.dialect === 'sqlite') {
            // The cleanup's scan of rotated tokens by their family's expiry (src/store/repositories/expired-rows.ts).
            const plan = await sql<{ detail: string }>`explain query plan
              select token_hash from refresh_tokens where rotated_at is not null and family_expires_at <= ${NOW}
              order by family_expires_at limit 2`.execute(s.db);
            assert.ok(
              plan.rows.some((row) => row.detail.includes('refresh_tokens_rotated_family_expires_at_idx')),
              JSON.stringify(plan.rows),
            );
            // ... and of unrotated ones past their idle expiry or their family's.
            const unrotated = await sql<{ detail: string }>`explain query plan
              select token_hash from refresh_tokens where rotated_at is null and expires_at <= ${NOW}
              and (expires_at <= ${NOW - MINUTE} or family_expires_at <= ${NOW}) order by expires_at limit 2`.execute(
              s.db,
            );
            assert.ok(
              unrotated.rows.some((row) => row.detail.includes('refresh_tokens_unrotated_expires_at_idx')),
              JSON.stringify(unrotated.rows),
            );
          }
          await s.cleanup.run(NOW, {
            consumedCodeRetentionMs: DAY,
            refreshTokenGraceMs: MINUTE,
            logoutDeliveryRetentionMs: DAY,
            grantMinAgeMs: MINUTE,
            batchSize: 10,
          });
          assert.equal(await s.refreshTokens.get(deadRotated.tokenHash), undefined);
          assert.equal(await s.refreshTokens.get(deadLatest.tokenHash), undefined);
          assert.ok(await s.refreshTokens.get(first.tokenHash), 'a rotated token of a live family stays');

          // The tokens' own references to clients and users are gone; the grant's cascade instead.
          assert.equal(await s.users.delete(user.username), true);
          for (const token of [first, second, third, fresh])
            assert.equal(await s.refreshTokens.get(token.tokenHash), undefined);
          assert.deepEqual(await s.refreshTokens.get(bareNext.tokenHash), bareNext);
          assert.equal(await s.clients.delete(client.clientId), true);
          assert.equal(await s.refreshTokens.get(bareNext.tokenHash), undefined);
          assert.deepEqual(await s.refreshTokens.listByGrant(bareGrant.id), []);
        });
      });

      it('0003 upgrades a 0002 database: users get no claims, sessions a unique sid each, clients the default ID token alg', async () => {
        await withFreshStore(target, async (s) => {
          assert.ok(s instanceof KyselyStore);
          const before0003 = migrations.filter((m) => m.name < '0003');
          assert.deepEqual(
            before0003.map((m) => m.name),
            ['0001_initial_schema', '0002_refresh_tokens_and_resources'],
          );
          await migrate(s.db, s.dialect, before0003);
          const { client, user, grant } = await seedLegacyGrant(s.db);
          const sessionRows = [uid('session-hash'), uid('session-hash')].map((idHash) => ({
            id_hash: idHash,
            user_id: user.id,
            auth_time: NOW - MINUTE,
            created_at: NOW - MINUTE,
            expires_at: NOW + 60 * MINUTE,
          }));
          await (s.db as Kysely<any>).insertInto('sessions').values(sessionRows).execute();

          await s.migrate();
          assert.ok((await listAppliedMigrations(s.db)).includes('0003_user_claims_and_session_ids'));
          assert.deepEqual((await s.users.getById(user.id))?.claims, {});
          assert.equal((await s.clients.get(client.clientId))?.idTokenSignedResponseAlg, null);
          assert.equal((await s.grants.get(grant.id))?.sid, null);
          const sids = await Promise.all(sessionRows.map(async (row) => (await s.sessions.get(row.id_hash, NOW))?.sid));
          for (const sid of sids) assert.match(sid ?? '', /^[A-Za-z0-9_-]{22}$/);
          assert.notEqual(sids[0], sids[1]);
          // Nobody was signed out, and new sessions are stored with their sid.
          const session = makeSession(user.id);
          await s.sessions.create(session);
          assert.deepEqual(await s.sessions.get(session.idHash, NOW), session);
        });
      });

      it('reports its dialect', () => {
        assert.ok(store.dialect === 'sqlite' || store.dialect === 'postgres');
      });
    });

    describe('clients', () => {
      it('round-trips the token exchange policy (token_exchange_resources)', async () => {
        const agent = makeClient({
          grantTypes: ['urn:ietf:params:oauth:grant-type:token-exchange'],
          tokenExchangeResources: ['https://calendar.example/', 'https://notes.example/'],
        });
        await store.clients.create(agent);
        assert.deepEqual(await store.clients.get(agent.clientId), agent);
      });

      it('round-trips the request object metadata (RFC 9101 §10.5, migration 0016)', async () => {
        const signer = makeClient({ requestObjectSigningAlg: 'ES256', requireSignedRequestObject: true });
        await store.clients.create(signer);
        assert.deepEqual(await store.clients.get(signer.clientId), signer);
      });

      it('round-trips confidential and public clients', async () => {
        const confidential = makeClient();
        const publicClient = makeClient({
          clientSecretHash: null,
          clientName: null,
          tokenEndpointAuthMethod: 'none',
          requirePkce: false,
          redirectUris: [],
          scope: '',
        });
        await store.clients.create(confidential);
        await store.clients.create(publicClient);
        assert.deepEqual(await store.clients.get(confidential.clientId), confidential);
        assert.deepEqual(await store.clients.get(publicClient.clientId), publicClient);
      });

      it('round-trips id_token_signed_response_alg (OpenID Connect Registration §2)', async () => {
        const client = makeClient({ idTokenSignedResponseAlg: 'RS256' });
        await store.clients.create(client);
        assert.deepEqual(await store.clients.get(client.clientId), client);
        await store.clients.upsert({ ...client, idTokenSignedResponseAlg: null });
        assert.equal((await store.clients.get(client.clientId))?.idTokenSignedResponseAlg, null);
      });

      it('OIDC Core §5.4: round-trips id_token_claims (true, false, absent: the server default)', async () => {
        for (const idTokenClaims of [true, false]) {
          const client = makeClient({ idTokenClaims });
          await store.clients.create(client);
          assert.deepEqual(await store.clients.get(client.clientId), client);
        }
        const client = makeClient({ idTokenClaims: true });
        await store.clients.create(client);
        const { idTokenClaims: _dropped, ...withoutSetting } = client;
        await store.clients.upsert(withoutSetting);
        const back = await store.clients.get(client.clientId);
        assert.equal(back?.idTokenClaims, undefined);
        assert.deepEqual(back, withoutSetting);
      });

      it('draft-ietf-oauth-client-id-metadata-document: round-trips metadataDocument (true; absent for a registered client, also after an upsert)', async () => {
        const client = makeClient({ clientId: `https://app.example/${uid('doc')}.json`, metadataDocument: true });
        await store.clients.create(client);
        assert.deepEqual(await store.clients.get(client.clientId), client);
        const { metadataDocument: _flag, ...registered } = client;
        await store.clients.upsert(registered);
        const back = await store.clients.get(client.clientId);
        assert.equal(back?.metadataDocument, undefined);
        assert.deepEqual(back, registered);
      });

      it('returns undefined for an unknown client', async () => {
        assert.equal(await store.clients.get(uid('missing')), undefined);
      });

      it('rejects creating a duplicate clientId', async () => {
        const client = await storedClient(store);
        await assert.rejects(store.clients.create({ ...client, clientName: 'Other' }));
        assert.deepEqual(await store.clients.get(client.clientId), client);
      });

      it('upsert inserts, then replaces, idempotently', async () => {
        const client = makeClient();
        const changed: Client = {
          ...client,
          clientSecretHash: null,
          clientName: 'Renamed',
          redirectUris: ['https://new.example/cb'],
          grantTypes: ['authorization_code'],
          tokenEndpointAuthMethod: 'none',
          scope: 'openid',
          requirePkce: false,
          createdAt: NOW + 1,
        };
        await assertUpsertReplaces(store.clients, client.clientId, client, changed);
      });

      it('lists clients ordered by clientId', async () => {
        const prefix = uid('list');
        const pair: [Client, Client] = [
          makeClient({ clientId: `${prefix}-a` }),
          makeClient({ clientId: `${prefix}-b` }),
        ];
        const listed = await listedInKeyOrder(prefix, pair, store.clients, 'create', (c) => c.clientId);
        const ids = listed.map((c) => c.clientId);
        assert.deepEqual(ids, [...ids].sort(compareCodeUnits));
      });

      it('delete reports whether it deleted', async () => {
        const client = await storedClient(store);
        await assertDeleteReports(
          () => store.clients.delete(client.clientId),
          () => store.clients.get(client.clientId),
        );
      });

      it('delete removes what belongs to the client', async () => {
        const { client, user, grant } = await seedGrant(store);
        const token = makeToken(client.clientId, grant);
        const code = makeCode(grant);
        const interaction = makeInteraction(client.clientId);
        const refreshToken = makeRefreshToken(grant);
        await store.accessTokens.create(token);
        await store.refreshTokens.create(refreshToken);
        await store.codes.create(code);
        await store.interactions.create(interaction);
        await store.consents.grant({
          userId: user.id,
          clientId: client.clientId,
          scopes: ['openid'],
          grantedAt: NOW,
        });

        assert.equal(await store.clients.delete(client.clientId), true);
        assert.equal(await store.grants.get(grant.id), undefined);
        assert.equal(await store.accessTokens.get(token.jti), undefined);
        assert.equal(await store.refreshTokens.get(refreshToken.tokenHash), undefined);
        assert.deepEqual(await store.codes.consume(code.codeHash, NOW), { status: 'not_found' });
        assert.equal(await store.interactions.get(interaction.id, NOW), undefined);
        assert.equal(await store.consents.get(user.id, client.clientId), undefined);
        assert.ok(await store.users.getById(user.id), 'the user stays');
      });
    });

    describe('users', () => {
      it('round-trips by id and by username', async () => {
        const user = makeUser();
        const bare = makeUser({ email: null, name: null });
        await store.users.create(user);
        await store.users.create(bare);
        assert.deepEqual(await store.users.getById(user.id), user);
        assert.deepEqual(await store.users.getByUsername(user.username), user);
        assert.deepEqual(await store.users.getById(bare.id), bare);
      });

      it('round-trips OIDC Core §5.1 claims, and upsert replaces them', async () => {
        const user = await storedUser(store);
        assert.deepEqual((await store.users.getById(user.id))?.claims, user.claims);
        const replaced = await store.users.upsert({ ...user, claims: { given_name: 'Al' } });
        assert.deepEqual(replaced.claims, { given_name: 'Al' });
        assert.deepEqual((await store.users.getByUsername(user.username))?.claims, { given_name: 'Al' });
      });

      it('returns undefined for unknown users', async () => {
        assert.equal(await store.users.getById(uid('missing')), undefined);
        assert.equal(await store.users.getByUsername(uid('missing')), undefined);
      });

      it('rejects a duplicate username', async () => {
        const user = await storedUser(store);
        await assert.rejects(store.users.create(makeUser({ username: user.username })));
      });

      it('upsert inserts a new user and returns it', async () => {
        const user = makeUser();
        assert.deepEqual(await store.users.upsert(user), user);
        assert.deepEqual(await store.users.getByUsername(user.username), user);
      });

      it('upsert of an existing username keeps its id and replaces the rest', async () => {
        const original = await storedUser(store);
        const replacement = makeUser({
          username: original.username,
          passwordHash: '$argon2id$new',
          email: null,
          name: 'Alice Liddell',
          createdAt: NOW + 5,
        });
        const expected: User = { ...replacement, id: original.id };

        assert.deepEqual(await store.users.upsert(replacement), expected);
        assert.deepEqual(await store.users.upsert(replacement), expected, 'idempotent');
        assert.deepEqual(await store.users.getByUsername(original.username), expected);
        assert.equal(await store.users.getById(replacement.id), undefined);
      });

      it('concurrent upserts of one username create one user', async () => {
        const username = uid('concurrent');
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.users.upsert(makeUser({ username, name: `n${i}` }))),
        );
        assert.equal(new Set(results.map((u) => u.id)).size, 1);
        assert.equal(
          count(await store.users.list(), (u) => u.username === username),
          1,
        );
      });

      it('lists users ordered by username', async () => {
        const prefix = uid('list');
        const pair: [User, User] = [makeUser({ username: `${prefix}-a` }), makeUser({ username: `${prefix}-b` })];
        await listedInKeyOrder(prefix, pair, store.users, 'create', (u) => u.username);
      });

      it('delete by username reports whether it deleted and ends sessions', async () => {
        const user = await storedUser(store);
        const session = makeSession(user.id);
        await store.sessions.create(session);

        assert.equal(await store.users.delete(user.username), true);
        assert.equal(await store.users.getById(user.id), undefined);
        assert.equal(await store.sessions.get(session.idHash, NOW), undefined);
        assert.equal(await store.users.delete(user.username), false);
      });

      it('delete removes the user’s grants and refresh tokens', async () => {
        const { client, user, grant } = await seedGrant(store);
        const refreshToken = makeRefreshToken(grant);
        await store.refreshTokens.create(refreshToken);
        assert.equal(await store.users.delete(user.username), true);
        assert.equal(await store.grants.get(grant.id), undefined);
        assert.equal(await store.refreshTokens.get(refreshToken.tokenHash), undefined);
        assert.ok(await store.clients.get(client.clientId), 'the client stays');
      });
    });

    describe('sessions', () => {
      const user = storedBefore(() => storedUser(store));

      it('round-trips a session', async () => {
        const session = makeSession(user().id);
        await store.sessions.create(session);
        assert.deepEqual(await store.sessions.get(session.idHash, NOW), session);
      });

      it('returns a session only while it has not expired', async () => {
        const session = makeSession(user().id, { expiresAt: NOW + MINUTE });
        await store.sessions.create(session);
        await assertReadableUntil((now) => store.sessions.get(session.idHash, now), session, NOW + MINUTE);
        assert.equal(await store.sessions.get(session.idHash, NOW + 2 * MINUTE), undefined);
      });

      it('getWithConsent reads the live session with its user’s consent to one client, and only that client’s', async () => {
        const session = makeSession(user().id, { expiresAt: NOW + MINUTE });
        await store.sessions.create(session);
        const consented = await storedClient(store);
        const other = await storedClient(store);
        const consent = {
          userId: user().id,
          clientId: consented.clientId,
          scopes: ['openid', 'email'],
          grantedAt: NOW,
        };
        await store.consents.grant(consent);
        // Another user's consent to the other client must not be taken for this user's.
        const stranger = await storedUser(store);
        await store.consents.grant({ ...consent, userId: stranger.id, clientId: other.clientId });
        assert.deepEqual(await store.sessions.getWithConsent(session.idHash, NOW, consented.clientId), {
          session,
          consent,
        });
        assert.deepEqual(await store.sessions.getWithConsent(session.idHash, NOW, other.clientId), {
          session,
          consent: undefined,
        });
        assert.equal(
          await store.sessions.getWithConsent(session.idHash, NOW + 2 * MINUTE, consented.clientId),
          undefined,
        );
        assert.equal(await store.sessions.getWithConsent(uid('missing'), NOW, consented.clientId), undefined);
      });

      it('keeps each session’s public sid, and refuses a second session with the same sid', async () => {
        const session = makeSession(user().id);
        await store.sessions.create(session);
        assert.equal((await store.sessions.get(session.idHash, NOW))?.sid, session.sid);
        await assert.rejects(store.sessions.create(makeSession(user().id, { sid: session.sid })));
      });

      it('returns undefined for an unknown session', async () => {
        assert.equal(await store.sessions.get(uid('missing'), NOW), undefined);
      });

      it('delete removes the session and tolerates unknown ids', async () => {
        const session = makeSession(user().id);
        await store.sessions.create(session);
        await store.sessions.delete(session.idHash);
        assert.equal(await store.sessions.get(session.idHash, NOW), undefined);
        await store.sessions.delete(session.idHash);
      });
    });

    describe('interactions', () => {
      const client = storedBefore(() => storedClient(store));

      it('round-trips an interaction with its request', async () => {
        const interaction = makeInteraction(client().clientId);
        const formPost = makeInteraction(client().clientId, {
          request: {
            clientId: client().clientId,
            redirectUri: 'https://app.example/cb?x=1',
            redirectUriProvided: false,
            scope: [],
            state: null,
            responseMode: 'form_post',
            codeChallenge: null,
            codeChallengeMethod: null,
            nonce: 'nonce "quoted" ünïcödé',
            prompt: ['login', 'consent'],
            loginHint: 'alice@example.com',
            maxAge: 0,
            idTokenHintSub: 'user-1',
            uiLocales: ['en-GB', 'fr'],
            resources: ['https://api.example', 'https://files.example/v1?tenant=a'],
          },
        });
        await store.interactions.create(interaction);
        await store.interactions.create(formPost);
        assert.deepEqual(await store.interactions.get(interaction.id, NOW), interaction);
        assert.deepEqual(await store.interactions.get(formPost.id, NOW), formPost);
      });

      it('reads a request stored without resources (before RFC 8707 support) as having none', async () => {
        const interaction = makeInteraction(client().clientId);
        const { resources: _omitted, ...legacyRequest } = interaction.request;
        await insertInteractionRow(store, interaction, legacyRequest);
        assert.deepEqual(await store.interactions.get(interaction.id, NOW), interaction);
      });

      it('reads a request stored without max_age, id_token_hint and ui_locales (before OIDC Core §3.1.2.1 support) as having none', async () => {
        const interaction = makeInteraction(client().clientId);
        const { maxAge: _a, idTokenHintSub: _b, uiLocales: _c, ...legacyRequest } = interaction.request;
        await insertInteractionRow(store, interaction, legacyRequest);
        assert.deepEqual(await store.interactions.get(interaction.id, NOW), interaction);
      });

      it('returns an interaction only while it has not expired', async () => {
        const interaction = makeInteraction(client().clientId, { expiresAt: NOW + MINUTE });
        await store.interactions.create(interaction);
        await assertReadableUntil((now) => store.interactions.get(interaction.id, now), interaction, NOW + MINUTE);
      });

      it('keeps the username of a failed sign-in on its interaction only, the latest one winning', async () => {
        const interaction = makeInteraction(client().clientId);
        const other = makeInteraction(client().clientId);
        await store.interactions.create(interaction);
        await store.interactions.create(other);
        assert.equal((await store.interactions.get(interaction.id, NOW))?.typedUsername, undefined);
        await store.interactions.noteTypedUsername(interaction.id, 'alice');
        await store.interactions.noteTypedUsername(interaction.id, 'alice.typo');
        assert.deepEqual(await store.interactions.get(interaction.id, NOW), {
          ...interaction,
          typedUsername: 'alice.typo',
        });
        assert.equal((await store.interactions.get(other.id, NOW))?.typedUsername, undefined);
      });

      it('consume succeeds once, then the interaction is gone', async () => {
        const interaction = makeInteraction(client().clientId);
        await store.interactions.create(interaction);
        assert.equal(await store.interactions.consume(interaction.id), true);
        assert.equal(await store.interactions.consume(interaction.id), false);
        assert.equal(await store.interactions.get(interaction.id, NOW), undefined);
        assert.equal(await store.interactions.consume(uid('missing')), false);
      });

      it('20 concurrent consumes yield exactly one true', async () => {
        const interaction = makeInteraction(client().clientId);
        await store.interactions.create(interaction);
        const results = await Promise.all(Array.from({ length: 20 }, () => store.interactions.consume(interaction.id)));
        assert.equal(
          count(results, (r) => r),
          1,
        );
      });

      it('20 concurrent consumes through two stores yield exactly one true', { skip: needsShared }, async () => {
        await withTwoStores(target, async (a, b) => {
          const c = await storedClient(a);
          const interaction = makeInteraction(c.clientId);
          await a.interactions.create(interaction);
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).interactions.consume(interaction.id)),
          );
          assert.equal(
            count(results, (r) => r),
            1,
          );
        });
      });
    });

    describe('pushed authorization requests (RFC 9126)', () => {
      const client = storedBefore(() => storedClient(store));

      it('RFC 9126 §4: consume returns the pushed parameters once (repeated names kept), then replayed', async () => {
        const pushed = makePushedRequest(client().clientId);
        await store.pushedRequests.create(pushed);
        assert.deepEqual(await store.pushedRequests.consume(pushed.requestUriHash, pushed.clientId, NOW), {
          status: 'consumed',
          request: { ...pushed, consumedAt: NOW },
        });
        const again = await store.pushedRequests.consume(pushed.requestUriHash, pushed.clientId, NOW + 1);
        assert.equal(again.status, 'replayed');
        assert.deepEqual(await store.pushedRequests.consume(uid('missing'), pushed.clientId, NOW), {
          status: 'not_found',
        });
      });

      it('RFC 9126 §4: an expired request is refused as expired and left unconsumed', async () => {
        const pushed = makePushedRequest(client().clientId, { expiresAt: NOW + MINUTE });
        await store.pushedRequests.create(pushed);
        const late = await store.pushedRequests.consume(pushed.requestUriHash, pushed.clientId, NOW + MINUTE);
        assert.deepEqual(late, { status: 'expired', request: pushed });
        assert.equal(
          (await store.pushedRequests.consume(pushed.requestUriHash, pushed.clientId, NOW + MINUTE - 1)).status,
          'consumed',
        );
      });

      it('RFC 9126 §2.2: another client cannot consume it, and its attempt leaves it usable by its own', async () => {
        const other = await storedClient(store);
        const pushed = makePushedRequest(client().clientId);
        await store.pushedRequests.create(pushed);
        assert.deepEqual(await store.pushedRequests.consume(pushed.requestUriHash, other.clientId, NOW), {
          status: 'other_client',
          request: pushed,
        });
        assert.equal(
          (await store.pushedRequests.consume(pushed.requestUriHash, pushed.clientId, NOW)).status,
          'consumed',
        );
      });

      it('a pushed request is deleted with its client', async () => {
        const own = await storedClient(store);
        const pushed = makePushedRequest(own.clientId);
        await store.pushedRequests.create(pushed);
        await store.clients.delete(own.clientId);
        assert.equal(
          (await store.pushedRequests.consume(pushed.requestUriHash, own.clientId, NOW)).status,
          'not_found',
        );
      });

      it('RFC 9126 §4: 20 concurrent consumes yield exactly one consumed, the others replayed', async () => {
        const pushed = makePushedRequest(client().clientId);
        await store.pushedRequests.create(pushed);
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.pushedRequests.consume(pushed.requestUriHash, pushed.clientId, NOW)),
        );
        assert.equal(
          count(results, (r) => r.status === 'consumed'),
          1,
        );
        assert.equal(
          count(results, (r) => r.status === 'replayed'),
          19,
        );
      });

      it('RFC 9126 §4: 20 concurrent consumes through two stores yield exactly one consumed', {
        skip: needsShared,
      }, async () => {
        await withTwoStores(target, async (a, b) => {
          const c = await storedClient(a);
          const pushed = makePushedRequest(c.clientId);
          await a.pushedRequests.create(pushed);
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              (i % 2 === 0 ? a : b).pushedRequests.consume(pushed.requestUriHash, c.clientId, NOW),
            ),
          );
          assert.equal(
            count(results, (r) => r.status === 'consumed'),
            1,
          );
        });
      });
    });

    describe('dynamic client registrations (RFC 7591, RFC 7592)', () => {
      const registrationOf = (clientId: string, overrides: Partial<ClientRegistration> = {}): ClientRegistration => ({
        clientId,
        accessTokenHash: uid('rat-hash'),
        createdAt: NOW,
        lastActiveAt: NOW,
        ...overrides,
      });
      const tokenOf = (overrides: Partial<InitialAccessToken> = {}): InitialAccessToken => ({
        id: uid('iat'),
        tokenHash: uid('iat-hash'),
        createdAt: NOW,
        expiresAt: null,
        usesLeft: null,
        revokedAt: null,
        ...overrides,
      });

      it('a registration is kept with its client (registration_kind dynamic), rotated, and deleted with it', async () => {
        const client = await storedClient(store, { registrationKind: 'dynamic' });
        assert.equal((await store.clients.get(client.clientId))?.registrationKind, 'dynamic');
        const registration = registrationOf(client.clientId);
        await store.registrations.create(registration);
        assert.deepEqual(await store.registrations.get(client.clientId), registration);
        assert.equal(await store.registrations.rotateAccessToken(client.clientId, 'new-hash'), true);
        assert.equal((await store.registrations.get(client.clientId))?.accessTokenHash, 'new-hash');
        assert.equal(await store.registrations.rotateAccessToken(uid('missing'), 'x'), false);
        await store.clients.delete(client.clientId);
        assert.equal(await store.registrations.get(client.clientId), undefined);
      });

      it('touch marks the client active only when its last mark is at least the interval old', async () => {
        const client = await storedClient(store, { registrationKind: 'dynamic' });
        await store.registrations.create(registrationOf(client.clientId));
        await store.registrations.touch(client.clientId, NOW + MINUTE, 2 * MINUTE);
        assert.equal((await store.registrations.get(client.clientId))?.lastActiveAt, NOW, 'too soon');
        await store.registrations.touch(client.clientId, NOW + 2 * MINUTE, 2 * MINUTE);
        assert.equal((await store.registrations.get(client.clientId))?.lastActiveAt, NOW + 2 * MINUTE);
      });

      it('RFC 7591 §3: an initial access token is used while unrevoked, unexpired and with uses left', async () => {
        const limited = tokenOf({ usesLeft: 2, expiresAt: NOW + MINUTE });
        await store.registrations.createToken(limited);
        assert.deepEqual(await store.registrations.getToken(limited.tokenHash), limited);
        assert.equal(await store.registrations.useToken(limited.tokenHash, NOW), true);
        assert.equal(await store.registrations.useToken(limited.tokenHash, NOW + MINUTE), false, 'expired');
        assert.equal(await store.registrations.useToken(limited.tokenHash, NOW), true);
        assert.equal(await store.registrations.useToken(limited.tokenHash, NOW), false, 'used up');
        assert.equal((await store.registrations.getToken(limited.tokenHash))?.usesLeft, 0);

        const unlimited = tokenOf();
        await store.registrations.createToken(unlimited);
        for (let i = 0; i < 3; i++) assert.equal(await store.registrations.useToken(unlimited.tokenHash, NOW), true);
        assert.equal((await store.registrations.getToken(unlimited.tokenHash))?.usesLeft, null);
        assert.equal(await store.registrations.revokeToken(unlimited.id, NOW), true);
        assert.equal(await store.registrations.revokeToken(unlimited.id, NOW), false, 'revoked before');
        assert.equal(await store.registrations.useToken(unlimited.tokenHash, NOW), false, 'revoked');
        assert.ok((await store.registrations.listTokens()).some((token) => token.id === unlimited.id));
        assert.equal(await store.registrations.useToken(uid('unknown'), NOW), false);
      });

      it('RFC 7591 §3: 10 concurrent uses of a token with one use left: exactly one succeeds', async () => {
        const once = tokenOf({ usesLeft: 1 });
        await store.registrations.createToken(once);
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.registrations.useToken(once.tokenHash, NOW)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });
    });

    describe('consents', () => {
      const user = storedBefore(() => storedUser(store));

      it('returns undefined before any consent', async () => {
        assert.equal(await store.consents.get(user().id, uid('other-client')), undefined);
      });

      it('round-trips a consent', async () => {
        const other = await storedClient(store);
        const consent = { userId: user().id, clientId: other.clientId, scopes: ['openid', 'email'], grantedAt: NOW };
        await store.consents.grant(consent);
        assert.deepEqual(await store.consents.get(user().id, other.clientId), consent);
      });

      it('merges scopes with the earlier consent, without duplicates', async () => {
        const c = await storedClient(store);
        await store.consents.grant({
          userId: user().id,
          clientId: c.clientId,
          scopes: ['openid', 'profile'],
          grantedAt: NOW,
        });
        await store.consents.grant({
          userId: user().id,
          clientId: c.clientId,
          scopes: ['email', 'openid'],
          grantedAt: NOW + 1,
        });
        await store.consents.grant({ userId: user().id, clientId: c.clientId, scopes: [], grantedAt: NOW + 2 });
        assert.deepEqual(await store.consents.get(user().id, c.clientId), {
          userId: user().id,
          clientId: c.clientId,
          scopes: ['openid', 'profile', 'email'],
          grantedAt: NOW + 2,
        });
      });

      it('keeps consents of different clients apart', async () => {
        const c1 = makeClient();
        const c2 = makeClient();
        await store.clients.create(c1);
        await store.clients.create(c2);
        await store.consents.grant({ userId: user().id, clientId: c1.clientId, scopes: ['a'], grantedAt: NOW });
        await store.consents.grant({ userId: user().id, clientId: c2.clientId, scopes: ['b'], grantedAt: NOW });
        assert.deepEqual((await store.consents.get(user().id, c1.clientId))?.scopes, ['a']);
        assert.deepEqual((await store.consents.get(user().id, c2.clientId))?.scopes, ['b']);
      });

      it('concurrent grants lose no scope', async () => {
        const c = await storedClient(store);
        const scopes = Array.from({ length: 10 }, (_, i) => `scope${i}`);
        await Promise.all(
          scopes.map((scope) =>
            store.consents.grant({ userId: user().id, clientId: c.clientId, scopes: [scope], grantedAt: NOW }),
          ),
        );
        const stored = await store.consents.get(user().id, c.clientId);
        assert.deepEqual([...(stored?.scopes ?? [])].sort(), [...scopes].sort());
      });

      it('concurrent grants through two stores lose no scope', { skip: needsShared || needsInterleaved }, async () => {
        await withTwoStores(target, async (a, b) => {
          const c = makeClient();
          const u = makeUser();
          await a.clients.create(c);
          await a.users.create(u);
          const scopes = Array.from({ length: 20 }, (_, i) => `scope${i}`);
          await Promise.all(
            scopes.map((scope, i) =>
              (i % 2 === 0 ? a : b).consents.grant({
                userId: u.id,
                clientId: c.clientId,
                scopes: [scope],
                grantedAt: NOW,
              }),
            ),
          );
          const stored = await b.consents.get(u.id, c.clientId);
          assert.deepEqual([...(stored?.scopes ?? [])].sort(), [...scopes].sort());
        });
      });
    });

    describe('grants', () => {
      it('round-trips grants with and without a user', async () => {
        const { client, grant } = await seedGrant(store);
        assert.deepEqual(await store.grants.get(grant.id), grant);
        const clientOnly: Grant = { ...grant, id: uid('grant'), userId: null, scope: [], sid: null };
        await store.grants.create(clientOnly);
        assert.deepEqual(await store.grants.get(clientOnly.id), clientOnly);
        assert.equal(clientOnly.clientId, client.clientId);
      });

      it('returns undefined for an unknown grant', async () => {
        assert.equal(await store.grants.get(uid('missing')), undefined);
      });

      it('revoke marks the grant and all its access tokens revoked, and nothing else', async () => {
        const { client, grant } = await seedGrant(store);
        const otherGrant: Grant = { ...grant, id: uid('grant') };
        await store.grants.create(otherGrant);
        const t1 = makeToken(client.clientId, grant);
        const t2 = makeToken(client.clientId, grant, { createdAt: NOW + 1 });
        const earlier = makeToken(client.clientId, grant, { createdAt: NOW + 2, revokedAt: NOW - 5 });
        const unrelated = makeToken(client.clientId, otherGrant);
        const noGrant = makeToken(client.clientId, null);
        for (const t of [t1, t2, earlier, unrelated, noGrant]) await store.accessTokens.create(t);

        await store.grants.revoke(grant.id, NOW + 100);

        assert.equal((await store.grants.get(grant.id))?.revokedAt, NOW + 100);
        assert.deepEqual(
          (await store.accessTokens.listByGrant(grant.id)).map((t) => [t.jti, t.revokedAt]),
          [
            [t1.jti, NOW + 100],
            [t2.jti, NOW + 100],
            [earlier.jti, NOW - 5],
          ],
        );
        assert.equal((await store.grants.get(otherGrant.id))?.revokedAt, null);
        assert.equal((await store.accessTokens.get(unrelated.jti))?.revokedAt, null);
        assert.equal((await store.accessTokens.get(noGrant.jti))?.revokedAt, null);
      });

      it('revoke is idempotent and keeps the first revocation time', async () => {
        const { grant, token } = await seedAccessToken(store);
        await store.grants.revoke(grant.id, NOW + 1);
        await store.grants.revoke(grant.id, NOW + 2);
        assert.equal((await store.grants.get(grant.id))?.revokedAt, NOW + 1);
        assert.equal((await store.accessTokens.get(token.jti))?.revokedAt, NOW + 1);
      });

      it('revoke leaves the refresh token family in place, under the revoked grant', async () => {
        const { client, grant } = await seedGrant(store);
        const refreshToken = makeRefreshToken(grant);
        const token = makeToken(client.clientId, grant);
        await store.refreshTokens.create(refreshToken);
        await store.accessTokens.create(token);
        await store.grants.revoke(grant.id, NOW + 3);
        // The family is revoked through its grant: callers check grant.revokedAt.
        assert.deepEqual(await store.refreshTokens.get(refreshToken.tokenHash), refreshToken);
        assert.equal((await store.grants.get(refreshToken.grantId))?.revokedAt, NOW + 3);
        assert.equal((await store.accessTokens.get(token.jti))?.revokedAt, NOW + 3);
      });

      it('revoke of an unknown grant does nothing', async () => {
        await store.grants.revoke(uid('missing'), NOW);
      });
    });

    describe('transactions', () => {
      it('a write made outside an open transaction is its own: it stays when the transaction rolls back', async () => {
        const { client, grant } = await seedGrant(store);
        const insideToken = makeToken(client.clientId, grant);
        const outsideToken = makeToken(client.clientId, grant);
        let outsideWrite: Promise<void> | undefined;
        await rolledBack(store, async (transactional) => {
          await transactional.accessTokens.create(insideToken);
          // Another request writes while this transaction is open (between statements).
          outsideWrite = store.accessTokens.create(outsideToken);
          await new Promise((resolve) => setTimeout(resolve, 20));
        });
        await outsideWrite;
        assert.equal(
          await store.accessTokens.get(insideToken.jti),
          undefined,
          "the transaction's write was rolled back",
        );
        assert.deepEqual(
          await store.accessTokens.get(outsideToken.jti),
          outsideToken,
          'the other write was not part of it',
        );
      });

      it('an authorization (grant and code) issued while another transaction is open is not rolled back with it', async () => {
        const { client, grant } = await seedGrant(store);
        const second: Grant = { ...grant, id: uid('grant'), flowId: uid('flow') };
        const code = makeCode(second);
        let issued: Promise<void> | undefined;
        await rolledBack(store, async (transactional) => {
          await transactional.accessTokens.create(makeToken(client.clientId, grant));
          issued = store.codes.issue(second, code);
          await new Promise((resolve) => setTimeout(resolve, 20));
        });
        await issued;
        assert.deepEqual(await store.grants.get(second.id), second);
        assert.equal((await store.codes.consume(code.codeHash, NOW + 5)).status, 'consumed');
      });

      it('reads outside an open transaction do not see its uncommitted writes', async () => {
        const { client, grant } = await seedGrant(store);
        const token = makeToken(client.clientId, grant);
        let seenOutside: AccessTokenRecord | undefined | 'unset' = 'unset';
        await store.transaction(async (transactional) => {
          await transactional.accessTokens.create(token);
          const read = store.accessTokens.get(token.jti).then((found) => (seenOutside = found));
          await new Promise((resolve) => setTimeout(resolve, 20));
          // On PostgreSQL the read has answered (nothing yet); on SQLite it waits for the commit.
          if (seenOutside !== 'unset') assert.equal(seenOutside, undefined);
          void read;
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
        assert.notEqual(seenOutside, 'unset');
      });
    });

    describe('writes inside a transaction', () => {
      // A database of its own: these tests leave signing keys behind, which others list.
      let store: Store;
      storeForSuite(target, (opened) => (store = opened));

      const limitPolicy: RateLimitPolicy = { forgetAfterMs: MINUTE, blockMs: (attempts) => (attempts >= 1 ? 1000 : 0) };

      /** Rows written before the transaction, which its writes change. */
      async function prepare() {
        const { client, user, grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        const refreshToken = makeRefreshToken(grant);
        await store.refreshTokens.create(refreshToken);
        const endedSession = makeSession(user.id);
        await store.sessions.create(endedSession);
        const queuedSession = makeSession(user.id);
        await store.sessions.create(queuedSession);
        const queuedDelivery: LogoutDelivery = {
          id: uid('delivery'),
          clientId: client.clientId,
          uri: 'https://app.example/backchannel-logout',
          logoutToken: 'h.p.s',
          attempts: 0,
          nextAttemptAt: NOW,
          lastError: null,
          deliveredAt: null,
          createdAt: NOW,
        };
        assert.equal(await store.logout.endSession(queuedSession.idHash, [queuedDelivery]), true);
        const newGrant: Grant = { ...grant, id: uid('grant'), flowId: uid('flow') };
        const revokedGrant: Grant = { ...grant, id: uid('grant'), flowId: uid('flow') };
        return {
          client,
          user,
          grant,
          code,
          refreshToken,
          endedSession,
          queuedDelivery,
          newClient: makeClient(),
          newUser: makeUser(),
          newResource: makeResource(),
          newSession: makeSession(user.id),
          newInteraction: makeInteraction(client.clientId),
          newGrant,
          newCode: makeCode(newGrant),
          revokedGrant,
          newToken: makeToken(client.clientId, grant),
          newRefreshToken: makeRefreshToken(grant),
          successor: makeSuccessor(refreshToken, NOW + 1),
          newKey: makeSigningKey(),
          newDelivery: { ...queuedDelivery, id: uid('delivery') },
          limitKey: uid('limit'),
          auditType: uid('audit-type'),
        };
      }
      type Prepared = Awaited<ReturnType<typeof prepare>>;

      /** One write (at least) to every repository, through the transaction's store. */
      async function writeEverything(s: Store, p: Prepared): Promise<void> {
        await s.clients.create(p.newClient);
        await s.users.create(p.newUser);
        await s.resources.upsert(p.newResource);
        await s.sessions.create(p.newSession);
        await s.interactions.create(p.newInteraction);
        await s.consents.grant({ userId: p.user.id, clientId: p.client.clientId, scopes: ['openid'], grantedAt: NOW });
        await s.codes.issue(p.newGrant, p.newCode);
        await s.grants.create(p.revokedGrant);
        await s.grants.revoke(p.revokedGrant.id, NOW + 1);
        assert.equal((await s.codes.consume(p.code.codeHash, NOW + 1)).status, 'consumed');
        await s.accessTokens.create(p.newToken);
        await s.refreshTokens.create(p.newRefreshToken);
        assert.equal(
          (await s.refreshTokens.rotate(p.refreshToken.tokenHash, p.successor, 'encrypted', NOW + 1)).status,
          'rotated',
        );
        await s.signingKeys.create(p.newKey);
        assert.equal(await s.logout.endSession(p.endedSession.idHash, [p.newDelivery]), true);
        assert.ok(await s.logoutDeliveries.claim(p.queuedDelivery.id, NOW, NOW + MINUTE));
        assert.ok(
          (await s.rateLimits.hit([{ key: p.limitKey, policy: limitPolicy }], NOW, { unlessBlocked: true })).counted,
        );
        await s.audit.insert([makeAuditEvent(NOW, p.auditType)]);
      }

      /** Which of the writes are visible outside (true: written). */
      async function seen(p: Prepared): Promise<Record<string, boolean>> {
        return {
          client: (await store.clients.get(p.newClient.clientId)) !== undefined,
          user: (await store.users.getById(p.newUser.id)) !== undefined,
          resource: (await store.resources.get(p.newResource.identifier)) !== undefined,
          session: (await store.sessions.get(p.newSession.idHash, NOW)) !== undefined,
          interaction: (await store.interactions.get(p.newInteraction.id, NOW)) !== undefined,
          consent: (await store.consents.get(p.user.id, p.client.clientId)) !== undefined,
          grantAndCode:
            (await store.grants.get(p.newGrant.id)) !== undefined &&
            (await store.codes.get(p.newCode.codeHash)) !== undefined,
          revokedGrant: (await store.grants.get(p.revokedGrant.id))?.revokedAt === NOW + 1,
          consumedCode: (await store.codes.get(p.code.codeHash))?.consumedAt === NOW + 1,
          accessToken: (await store.accessTokens.get(p.newToken.jti)) !== undefined,
          refreshToken: (await store.refreshTokens.get(p.newRefreshToken.tokenHash)) !== undefined,
          rotation:
            (await store.refreshTokens.get(p.refreshToken.tokenHash))?.rotatedAt === NOW + 1 &&
            (await store.refreshTokens.get(p.successor.tokenHash)) !== undefined,
          signingKey: (await store.signingKeys.get(p.newKey.kid)) !== undefined,
          endedSession:
            (await store.sessions.get(p.endedSession.idHash, NOW)) === undefined &&
            (await store.logoutDeliveries.get(p.newDelivery.id)) !== undefined,
          claimedDelivery: (await store.logoutDeliveries.get(p.queuedDelivery.id))?.attempts === 1,
          rateLimit: (await store.rateLimits.get([p.limitKey], NOW)).length === 1,
          audit: (await store.audit.list({ types: [p.auditType], limit: 10 })).length === 1,
        };
      }

      const every = (value: boolean, keys: Record<string, boolean>) =>
        Object.fromEntries(Object.keys(keys).map((key) => [key, value]));

      it('a write to every repository commits with the transaction', async () => {
        const p = await prepare();
        await store.transaction((transactional) => writeEverything(transactional, p));
        const written = await seen(p);
        assert.deepEqual(written, every(true, written));
      });

      it('a write to every repository rolls back with the transaction', async () => {
        const p = await prepare();
        await rolledBack(store, async (transactional) => {
          await writeEverything(transactional, p);
        });
        const written = await seen(p);
        assert.deepEqual(written, every(false, written));
      });

      it('a nested transaction joins the enclosing one', async () => {
        const p = await prepare();
        await rolledBack(store, async (transactional) => {
          await transactional.transaction((nested) => nested.accessTokens.create(p.newToken));
        });
        assert.equal(await store.accessTokens.get(p.newToken.jti), undefined);
      });

      it('a rate-limit hit refused inside a transaction counts nothing, and the transaction goes on', async () => {
        const blocked = uid('limit');
        const other = uid('limit');
        await store.transaction(async (transactional) => {
          assert.ok(
            (await transactional.rateLimits.hit([{ key: blocked, policy: limitPolicy }], NOW, { unlessBlocked: true }))
              .counted,
          );
          // Keys are taken in sorted order: `other` is counted before the refusal or not, at random;
          // either way nothing of the refused hit stays.
          const refused = await transactional.rateLimits.hit(
            [
              { key: other, policy: limitPolicy },
              { key: blocked, policy: limitPolicy },
            ],
            NOW + 1,
            { unlessBlocked: true },
          );
          assert.deepEqual(refused, { counted: false, blockedUntil: NOW + 1000 });
          await transactional.rateLimits.release(blocked, limitPolicy, NOW + 2);
        });
        assert.deepEqual(await store.rateLimits.get([blocked, other], NOW + 2), [
          { key: blocked, attempts: 0, blockedUntil: 0 },
        ]);
      });

      it('changes to cached data made in a transaction are announced after its commit, never after a rollback', async () => {
        const heard: StoreChange[] = [];
        const unsubscribe = store.changes.subscribe({ onChange: (change) => heard.push(change), onReset: () => {} });
        try {
          const committed = makeClient();
          const key = makeSigningKey();
          const resource = makeResource();
          const of = (clientId: string) =>
            heard.filter((change) => change.kind === 'client' && change.clientId === clientId).length;
          await store.transaction(async (transactional) => {
            await transactional.clients.create(committed);
            await transactional.signingKeys.create(key);
            await transactional.resources.upsert(resource);
            await new Promise((resolve) => setTimeout(resolve, 20));
            assert.equal(of(committed.clientId), 0, 'not announced before the commit');
          });
          assert.ok(of(committed.clientId) >= 1, 'announced once committed');
          assert.ok(heard.some((change) => change.kind === 'signing_keys'));
          assert.ok(heard.some((change) => change.kind === 'resource' && change.identifier === resource.identifier));

          const notCommitted = makeClient();
          await rolledBack(store, async (transactional) => {
            await transactional.clients.create(notCommitted);
          });
          await new Promise((resolve) => setTimeout(resolve, 200));
          assert.equal(of(notCommitted.clientId), 0, 'a rolled back change is never announced');
        } finally {
          unsubscribe();
        }
      });
    });

    describe('authorization codes', () => {
      it('issue records the grant and its code together', async () => {
        const { grant } = await seedGrant(store);
        const second: Grant = { ...grant, id: uid('grant'), flowId: uid('flow') };
        const code = makeCode(second);
        await store.codes.issue(second, code);
        assert.deepEqual(await store.grants.get(second.id), second);
        assert.deepEqual(await store.codes.consume(code.codeHash, NOW + 5), {
          status: 'consumed',
          code: { ...code, consumedAt: NOW + 5 },
        });
      });

      it('issue is all or nothing: when the code cannot be stored, neither is the grant', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        const second: Grant = { ...grant, id: uid('grant'), flowId: uid('flow') };
        // The same code hash again: the code insert fails after the grant insert.
        await assert.rejects(store.codes.issue(second, { ...code, grantId: second.id }));
        assert.equal(await store.grants.get(second.id), undefined);
      });

      it("getForRedemption reads the code with its grant's session id (OIDC Core §2 sid), undefined for an unknown code", async () => {
        const { grant } = await seedGrant(store);
        const withSid: Grant = { ...grant, id: uid('grant'), flowId: uid('flow'), sid: 'sid-of-the-session' };
        const code = makeCode(withSid);
        await store.codes.issue(withSid, code);
        assert.deepEqual(await store.codes.getForRedemption(code.codeHash), { code, sid: 'sid-of-the-session' });
        assert.equal(await store.codes.getForRedemption(uid('code-hash')), undefined);
      });

      it('RFC 6749 §4.1.2, §5.1: redeem consumes the code and stores its tokens in one step; a second redeem is a replay that stores nothing', async () => {
        const { client, grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        const accessToken = makeToken(client.clientId, grant);
        const refreshToken = makeRefreshToken(grant);
        assert.deepEqual(await store.codes.redeem(code.codeHash, NOW + 5, { accessToken, refreshToken }), {
          status: 'redeemed',
          grantRevokedAt: null,
        });
        assert.deepEqual(await store.codes.get(code.codeHash), { ...code, consumedAt: NOW + 5 });
        assert.deepEqual(await store.accessTokens.get(accessToken.jti), accessToken);
        assert.deepEqual(await store.refreshTokens.get(refreshToken.tokenHash), refreshToken);

        const again = { accessToken: makeToken(client.clientId, grant), refreshToken: makeRefreshToken(grant) };
        assert.deepEqual(await store.codes.redeem(code.codeHash, NOW + 6, again), {
          status: 'replayed',
          code: { ...code, consumedAt: NOW + 5 },
        });
        assert.equal(await store.accessTokens.get(again.accessToken.jti), undefined);
        assert.equal(await store.refreshTokens.get(again.refreshToken.tokenHash), undefined);
      });

      it('redeem without a refresh token; an unknown code is not_found and stores nothing', async () => {
        const { client, grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        const accessToken = makeToken(client.clientId, grant);
        assert.equal(
          (await store.codes.redeem(code.codeHash, NOW, { accessToken, refreshToken: null })).status,
          'redeemed',
        );
        assert.deepEqual(await store.accessTokens.listByGrant(grant.id), [accessToken]);
        assert.deepEqual(await store.refreshTokens.listByGrant(grant.id), []);

        const stray = makeToken(client.clientId, grant);
        assert.deepEqual(await store.codes.redeem(uid('code-hash'), NOW, { accessToken: stray, refreshToken: null }), {
          status: 'not_found',
        });
        assert.equal(await store.accessTokens.get(stray.jti), undefined);
      });

      it('redeem reports a grant revoked before it (the caller revokes the tokens it stored)', async () => {
        const { client, grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        await store.grants.revoke(grant.id, NOW - 1);
        const accessToken = makeToken(client.clientId, grant);
        assert.deepEqual(await store.codes.redeem(code.codeHash, NOW, { accessToken, refreshToken: null }), {
          status: 'redeemed',
          grantRevokedAt: NOW - 1,
        });
      });

      it('of concurrent redeems of one code exactly one wins; the others are replays (RFC 6749 §4.1.2)', async () => {
        const { client, grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        const attempts = Array.from({ length: 8 }, () => ({
          accessToken: makeToken(client.clientId, grant),
          refreshToken: makeRefreshToken(grant),
        }));
        const results = await Promise.all(attempts.map((issued) => store.codes.redeem(code.codeHash, NOW, issued)));
        assert.equal(results.filter((result) => result.status === 'redeemed').length, 1);
        assert.equal(results.filter((result) => result.status === 'replayed').length, 7);
        assert.equal((await store.accessTokens.listByGrant(grant.id)).length, 1);
        assert.equal((await store.refreshTokens.listByGrant(grant.id)).length, 1);
      });

      it('consume returns the stored code, marked consumed at `now`', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        assert.deepEqual(await store.codes.consume(code.codeHash, NOW + 5), {
          status: 'consumed',
          code: { ...code, consumedAt: NOW + 5 },
        });
      });

      it('round-trips codes with null PKCE and nonce', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant, {
          codeChallenge: null,
          codeChallengeMethod: null,
          nonce: null,
          redirectUriProvided: true,
          scope: [],
          resources: [],
        });
        await store.codes.create(code);
        assert.deepEqual(await store.codes.consume(code.codeHash, NOW), {
          status: 'consumed',
          code: { ...code, consumedAt: NOW },
        });
      });

      it('round-trips the DPoP key a code is bound to (RFC 9449 §10 dpop_jkt, migration 0016)', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant, { dpopJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' });
        await store.codes.create(code);
        assert.deepEqual(await store.codes.get(code.codeHash), code);
        assert.deepEqual(await store.codes.consume(code.codeHash, NOW), {
          status: 'consumed',
          code: { ...code, consumedAt: NOW },
        });
      });

      it('a second consume is a replay that keeps the first consumption time', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        await store.codes.consume(code.codeHash, NOW + 1);
        assert.deepEqual(await store.codes.consume(code.codeHash, NOW + 2), {
          status: 'replayed',
          code: { ...code, consumedAt: NOW + 1 },
        });
      });

      it('get reads a code without consuming it, before and after consume, and undefined for an unknown hash', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant, { expiresAt: NOW - 1 });
        await store.codes.create(code);
        assert.deepEqual(await store.codes.get(code.codeHash), code);
        assert.deepEqual(await store.codes.get(code.codeHash), code);
        assert.deepEqual(await store.codes.consume(code.codeHash, NOW + 3), {
          status: 'consumed',
          code: { ...code, consumedAt: NOW + 3 },
        });
        assert.deepEqual(await store.codes.get(code.codeHash), { ...code, consumedAt: NOW + 3 });
        assert.equal(await store.codes.get(uid('missing')), undefined);
      });

      it('consume of an unknown code is not_found', async () => {
        assert.deepEqual(await store.codes.consume(uid('missing'), NOW), { status: 'not_found' });
      });

      it('an expired code is still consumed and returned (the caller judges expiry)', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant, { expiresAt: NOW - 1 });
        await store.codes.create(code);
        const result = await store.codes.consume(code.codeHash, NOW);
        assert.equal(result.status, 'consumed');
        assert.equal(result.status === 'consumed' && result.code.expiresAt, NOW - 1);
      });

      it('rejects a duplicate code hash', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        await assert.rejects(store.codes.create(code));
      });

      it('20 concurrent consumes yield one consumed and 19 replayed', async () => {
        const { grant } = await seedGrant(store);
        const code = makeCode(grant);
        await store.codes.create(code);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.codes.consume(code.codeHash, NOW + i)),
        );
        assertOneConsumed(results);
      });

      it('20 concurrent consumes through two stores yield one consumed and 19 replayed', {
        skip: needsShared,
      }, async () => {
        await withTwoStores(target, async (a, b) => {
          const { grant } = await seedGrant(a);
          const code = makeCode(grant);
          await a.codes.create(code);
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).codes.consume(code.codeHash, NOW + i)),
          );
          assertOneConsumed(results);
        });
      });
    });

    describe('device codes (RFC 8628)', () => {
      /** A stored client and user, and a pending device code of the client, stored. */
      async function seedDeviceCode(s: Store, overrides: Parameters<typeof makeDeviceCode>[1] = {}) {
        const client = await storedClient(s);
        const user = await storedUser(s);
        const code = makeDeviceCode(client.clientId, overrides);
        assert.equal(await s.deviceCodes.create(code, NOW), true);
        return { client, user, code };
      }

      /** Records the approval of `code` by `user`. */
      const approve = (s: Store, code: DeviceCode, user: User) =>
        s.deviceCodes.decide(
          code.userCodeHash,
          { status: 'approved', userId: user.id, sid: 'sid', authTime: NOW },
          NOW,
        );

      it('round-trips a device code, found by its user code while pending and unexpired', async () => {
        const { code } = await seedDeviceCode(store);
        assert.deepEqual(await store.deviceCodes.get(code.deviceCodeHash), code);
        assert.deepEqual(await store.deviceCodes.findPending(code.userCodeHash, NOW), code);
        assert.equal(await store.deviceCodes.findPending(code.userCodeHash, code.expiresAt), undefined);
        assert.equal(await store.deviceCodes.get(uid('missing')), undefined);
      });

      it('create refuses a user code held by a live device code, and replaces an expired one', async () => {
        const { client, code } = await seedDeviceCode(store);
        const clash = makeDeviceCode(client.clientId, { userCodeHash: code.userCodeHash });
        assert.equal(await store.deviceCodes.create(clash, NOW), false);
        assert.equal(await store.deviceCodes.get(clash.deviceCodeHash), undefined);
        assert.equal(await store.deviceCodes.create(clash, code.expiresAt), true);
        assert.deepEqual(await store.deviceCodes.get(clash.deviceCodeHash), clash);
        assert.equal(await store.deviceCodes.get(code.deviceCodeHash), undefined);
      });

      it('decide records the decision once; a second decision, an expired or unknown code get undefined', async () => {
        const { user, code } = await seedDeviceCode(store);
        const approved = await store.deviceCodes.decide(
          code.userCodeHash,
          { status: 'approved', userId: user.id, sid: 'sid-1', authTime: NOW - MINUTE },
          NOW,
        );
        assert.deepEqual(approved, {
          ...code,
          status: 'approved',
          userId: user.id,
          sid: 'sid-1',
          authTime: NOW - MINUTE,
        });
        assert.equal(
          await store.deviceCodes.decide(code.userCodeHash, { status: 'denied', userId: user.id }, NOW),
          undefined,
        );
        assert.equal(await store.deviceCodes.findPending(code.userCodeHash, NOW), undefined);
        const { code: late } = await seedDeviceCode(store);
        assert.equal(
          await store.deviceCodes.decide(late.userCodeHash, { status: 'denied', userId: user.id }, late.expiresAt),
          undefined,
        );
        const denied = await store.deviceCodes.decide(late.userCodeHash, { status: 'denied', userId: user.id }, NOW);
        assert.equal(denied?.status, 'denied');
        assert.equal(denied?.sid, null);
      });

      it('20 concurrent decisions on one user code: exactly one is recorded', async () => {
        const { user, code } = await seedDeviceCode(store);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            store.deviceCodes.decide(
              code.userCodeHash,
              i % 2 === 0
                ? { status: 'approved', userId: user.id, sid: 'sid', authTime: NOW }
                : { status: 'denied', userId: user.id },
              NOW,
            ),
          ),
        );
        assert.equal(
          count(results, (r) => r !== undefined),
          1,
        );
      });

      it('poll: slow_down raises the interval by the given seconds while pending and polled within the interval', async () => {
        const { user, code } = await seedDeviceCode(store);
        assert.equal(await store.deviceCodes.poll(code.deviceCodeHash, NOW, 5), 'ok');
        assert.equal(await store.deviceCodes.poll(code.deviceCodeHash, NOW + 4_999, 5), 'slow_down');
        assert.equal((await store.deviceCodes.get(code.deviceCodeHash))?.intervalSeconds, 10);
        assert.equal(await store.deviceCodes.poll(code.deviceCodeHash, NOW + 4_999 + 10_000, 5), 'ok');
        assert.equal((await store.deviceCodes.get(code.deviceCodeHash))?.lastPolledAt, NOW + 14_999);
        await store.deviceCodes.decide(code.userCodeHash, { status: 'denied', userId: user.id }, NOW);
        assert.equal(
          await store.deviceCodes.poll(code.deviceCodeHash, NOW + 15_000, 5),
          'ok',
          'decided: never slow_down',
        );
      });

      it('consume: an approved code once (used afterwards), a pending or unknown one not at all', async () => {
        const { user, code } = await seedDeviceCode(store);
        assert.deepEqual(await store.deviceCodes.consume(code.deviceCodeHash, NOW), { status: 'not_found' });
        await approve(store, code, user);
        const first = await store.deviceCodes.consume(code.deviceCodeHash, NOW + 1);
        assert.equal(first.status, 'consumed');
        assert.equal(first.status === 'consumed' && first.code.consumedAt, NOW + 1);
        const second = await store.deviceCodes.consume(code.deviceCodeHash, NOW + 2);
        assert.equal(second.status, 'used');
        assert.equal(second.status === 'used' && second.code.consumedAt, NOW + 1);
        assert.deepEqual(await store.deviceCodes.consume(uid('missing'), NOW), { status: 'not_found' });
      });

      it('20 concurrent consumes of an approved code: one consumed, 19 used', async () => {
        const { user, code } = await seedDeviceCode(store);
        await approve(store, code, user);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => store.deviceCodes.consume(code.deviceCodeHash, NOW + i)),
        );
        assert.equal(
          count(results, (r) => r.status === 'consumed'),
          1,
        );
        assert.equal(
          count(results, (r) => r.status === 'used'),
          19,
        );
      });

      it('20 concurrent consumes through two stores: one consumed', { skip: needsShared }, async () => {
        await withTwoStores(target, async (a, b) => {
          const { user, code } = await seedDeviceCode(a);
          await approve(a, code, user);
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              (i % 2 === 0 ? a : b).deviceCodes.consume(code.deviceCodeHash, NOW + i),
            ),
          );
          assert.equal(
            count(results, (r) => r.status === 'consumed'),
            1,
          );
        });
      });

      it('a device code goes with its client', async () => {
        const { client, code } = await seedDeviceCode(store);
        await store.clients.delete(client.clientId);
        assert.equal(await store.deviceCodes.get(code.deviceCodeHash), undefined);
      });

      it('cleanup removes expired device codes (pending, decided or redeemed) and keeps live ones', async () => {
        await withFreshStore(target, async (s) => {
          await s.migrate();
          const { client, code: live } = await seedDeviceCode(s);
          const expired = [
            makeDeviceCode(client.clientId, { expiresAt: NOW - 1 }),
            makeDeviceCode(client.clientId, { expiresAt: NOW - MINUTE, status: 'denied' }),
            makeDeviceCode(client.clientId, { expiresAt: NOW, status: 'approved', consumedAt: NOW - MINUTE }),
          ];
          for (const code of expired) assert.equal(await s.deviceCodes.create(code, NOW - 2 * MINUTE), true);
          const result = await s.cleanup.run(NOW, {
            consumedCodeRetentionMs: DAY,
            refreshTokenGraceMs: 0,
            logoutDeliveryRetentionMs: DAY,
            grantMinAgeMs: MINUTE,
            batchSize: 2,
          });
          assert.equal(result.status === 'done' ? result.deleted.device_codes : -1, 3);
          assert.deepEqual(await s.deviceCodes.get(live.deviceCodeHash), live);
          for (const code of expired) assert.equal(await s.deviceCodes.get(code.deviceCodeHash), undefined);
        });
      });
    });

    describe('access tokens', () => {
      it('round-trips tokens with and without a grant', async () => {
        const { client, grant } = await seedGrant(store);
        const withGrant = makeToken(client.clientId, grant, { audience: ['a', 'b'] });
        const clientCredentials = makeToken(client.clientId, null, { audience: [], scope: [] });
        await store.accessTokens.create(withGrant);
        await store.accessTokens.create(clientCredentials);
        assert.deepEqual(await store.accessTokens.get(withGrant.jti), withGrant);
        assert.deepEqual(await store.accessTokens.get(clientCredentials.jti), clientCredentials);
      });

      it('returns undefined for an unknown jti', async () => {
        assert.equal(await store.accessTokens.get(uid('missing')), undefined);
      });

      it('round-trips the actor chain of an exchanged token (RFC 8693 §4.1 act)', async () => {
        const { client, grant } = await seedGrant(store);
        const exchanged = makeToken(client.clientId, grant, {
          act: { sub: 'agent-b', act: { sub: 'agent-a' } },
        });
        await store.accessTokens.create(exchanged);
        assert.deepEqual(await store.accessTokens.get(exchanged.jti), exchanged);
      });

      it('rejects a duplicate jti', async () => {
        const { client } = await seedGrant(store);
        const token = makeToken(client.clientId, null);
        await store.accessTokens.create(token);
        await assert.rejects(store.accessTokens.create(token));
      });

      it('listByGrant returns the grant’s tokens oldest first', async () => {
        const { client, grant } = await seedGrant(store);
        const later = makeToken(client.clientId, grant, { createdAt: NOW + 10 });
        const earlier = makeToken(client.clientId, grant, { createdAt: NOW });
        await store.accessTokens.create(later);
        await store.accessTokens.create(earlier);
        await store.accessTokens.create(makeToken(client.clientId, null));
        assert.deepEqual(await store.accessTokens.listByGrant(grant.id), [earlier, later]);
        assert.deepEqual(await store.accessTokens.listByGrant(uid('missing')), []);
      });

      it('revoke marks one token revoked, once, and touches nothing else', async () => {
        const { client, grant } = await seedGrant(store);
        const token = makeToken(client.clientId, grant);
        const sibling = makeToken(client.clientId, grant);
        await store.accessTokens.create(token);
        await store.accessTokens.create(sibling);

        assert.equal(await store.accessTokens.revoke(token.jti, NOW + 1), true);
        assert.equal(await store.accessTokens.revoke(token.jti, NOW + 2), false, 'idempotent');
        assert.deepEqual(await store.accessTokens.get(token.jti), { ...token, revokedAt: NOW + 1 });
        assert.equal((await store.accessTokens.get(sibling.jti))?.revokedAt, null);
        assert.equal((await store.grants.get(grant.id))?.revokedAt, null);
      });

      it('revoke of an unknown or already revoked token is false', async () => {
        const { client } = await seedGrant(store);
        const revoked = makeToken(client.clientId, null, { revokedAt: NOW - 1 });
        await store.accessTokens.create(revoked);
        assert.equal(await store.accessTokens.revoke(revoked.jti, NOW), false);
        assert.equal((await store.accessTokens.get(revoked.jti))?.revokedAt, NOW - 1);
        assert.equal(await store.accessTokens.revoke(uid('missing'), NOW), false);
      });

      it('concurrent revokes of one token: exactly one true', async () => {
        const { client } = await seedGrant(store);
        const token = makeToken(client.clientId, null);
        await store.accessTokens.create(token);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => store.accessTokens.revoke(token.jti, NOW + i)),
        );
        assert.equal(
          count(results, (r) => r),
          1,
        );
      });

      it('grant revocation after a single revoke keeps the earlier time', async () => {
        const { grant, token } = await seedAccessToken(store);
        await store.accessTokens.revoke(token.jti, NOW + 1);
        await store.grants.revoke(grant.id, NOW + 2);
        assert.equal((await store.accessTokens.get(token.jti))?.revokedAt, NOW + 1);
        assert.equal(await store.accessTokens.revoke(token.jti, NOW + 3), false);
      });
    });

    describe('refresh tokens', () => {
      it('round-trips tokens, including nulls and empty arrays (the family terms through the grant, migration 0028)', async () => {
        const { client, grant } = await seedGrant(store);
        const full = makeRefreshToken(grant, {
          resources: ['https://api.example', 'https://files.example/v1'],
        });
        // A family's tokens share its grant's terms (RFC 9700 §4.14.2: rotation keeps the authorization).
        const rotated = makeRefreshToken(grant, {
          resources: full.resources,
          rotatedAt: NOW + 1,
          successorHash: uid('rt-hash'),
          successorEncrypted: 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iv.ciphertext.tag',
        });
        const bareGrant = makeGrant(client.clientId, null, { scope: [] });
        await store.grants.create(bareGrant);
        const bare = makeRefreshToken(bareGrant, { authTime: null, resources: [], dpopJkt: 'jkt-thumbprint' });
        for (const t of [full, bare, rotated]) await store.refreshTokens.create(t);
        assert.deepEqual(await store.refreshTokens.get(full.tokenHash), full);
        assert.deepEqual(await store.refreshTokens.get(bare.tokenHash), bare);
        assert.deepEqual(await store.refreshTokens.get(rotated.tokenHash), rotated);
      });

      it('a grant created with its family’s terms (RFC 8628 device grant) or issued with its code gives them to its tokens; the grant reads back as it was given', async () => {
        const { client, user } = await seedGrant(store);
        const deviceGrant = makeGrant(client.clientId, user.id);
        await store.grants.create(deviceGrant, { resources: ['https://api.example'], authTime: NOW - 5 * MINUTE });
        const deviceToken = makeRefreshToken(deviceGrant, {
          resources: ['https://api.example'],
          authTime: NOW - 5 * MINUTE,
        });
        await store.refreshTokens.create(deviceToken);
        assert.deepEqual(await store.refreshTokens.get(deviceToken.tokenHash), deviceToken);
        assert.deepEqual(await store.grants.get(deviceGrant.id), deviceGrant);

        const codeGrant = makeGrant(client.clientId, user.id);
        const code = makeCode(codeGrant);
        await store.codes.issue(codeGrant, code);
        const codeToken = makeRefreshToken(codeGrant, { resources: code.resources, authTime: code.authTime });
        await store.refreshTokens.create(codeToken);
        assert.deepEqual(await store.refreshTokens.get(codeToken.tokenHash), codeToken);
        assert.deepEqual(await store.grants.get(codeGrant.id), codeGrant);
        // A duplicate hash is refused on this path too, and changes nothing.
        await assert.rejects(store.refreshTokens.create({ ...codeToken, createdAt: NOW + 1 }));
        assert.deepEqual(await store.refreshTokens.listByGrant(codeGrant.id), [codeToken]);
      });

      it('returns undefined for an unknown hash', async () => {
        assert.equal(await store.refreshTokens.get(uid('missing')), undefined);
      });

      it('rejects a duplicate hash and a token of an unknown grant', async () => {
        const { grant, token } = await seedRefreshToken(store);
        await assert.rejects(store.refreshTokens.create({ ...token, scope: ['other'] }));
        assert.deepEqual(await store.refreshTokens.get(token.tokenHash), token);
        await assert.rejects(store.refreshTokens.create(makeRefreshToken({ ...grant, id: uid('missing') })));
      });

      it('listByGrant returns the grant’s tokens oldest first', async () => {
        const { grant } = await seedGrant(store);
        const otherGrant: Grant = { ...grant, id: uid('grant') };
        await store.grants.create(otherGrant);
        const later = makeRefreshToken(grant, { createdAt: NOW + 10 });
        const earlier = makeRefreshToken(grant, { createdAt: NOW });
        await store.refreshTokens.create(later);
        await store.refreshTokens.create(earlier);
        await store.refreshTokens.create(makeRefreshToken(otherGrant));
        assert.deepEqual(await store.refreshTokens.listByGrant(grant.id), [earlier, later]);
        assert.deepEqual(await store.refreshTokens.listByGrant(uid('missing')), []);
      });

      it('rotate marks the token rotated and stores the successor', async () => {
        const { grant, token } = await seedRefreshToken(store);
        const successor = makeSuccessor(token, NOW + 5);
        const rotatedToken: RefreshTokenRecord = {
          ...token,
          rotatedAt: NOW + 5,
          successorHash: successor.tokenHash,
          successorEncrypted: 'jwe-1',
        };

        assert.deepEqual(await store.refreshTokens.rotate(token.tokenHash, successor, 'jwe-1', NOW + 5), {
          status: 'rotated',
          token: rotatedToken,
        });
        assert.deepEqual(await store.refreshTokens.get(token.tokenHash), rotatedToken);
        assert.deepEqual(await store.refreshTokens.get(successor.tokenHash), successor);
        assert.deepEqual(await store.refreshTokens.listByGrant(grant.id), [rotatedToken, successor]);
      });

      it('a second rotate is already_rotated with the first successor, and stores nothing', async () => {
        const { grant, token } = await seedRefreshToken(store);
        const first = makeSuccessor(token, NOW + 1);
        const second = makeSuccessor(token, NOW + 2);
        await store.refreshTokens.rotate(token.tokenHash, first, 'jwe-first', NOW + 1);

        assert.deepEqual(await store.refreshTokens.rotate(token.tokenHash, second, 'jwe-second', NOW + 2), {
          status: 'already_rotated',
          token: { ...token, rotatedAt: NOW + 1, successorHash: first.tokenHash, successorEncrypted: 'jwe-first' },
        });
        assert.equal(await store.refreshTokens.get(second.tokenHash), undefined);
        assert.equal((await store.refreshTokens.listByGrant(grant.id)).length, 2);
      });

      it('rotate refuses a successor of another grant and changes nothing (a family is one grant, RFC 9700 §4.14.2)', async () => {
        const { grant, token } = await seedRefreshToken(store);
        const otherGrant = makeGrant(grant.clientId, grant.userId);
        await store.grants.create(otherGrant);
        const stranger = makeRefreshToken(otherGrant);
        await assert.rejects(store.refreshTokens.rotate(token.tokenHash, stranger, 'jwe-1', NOW + 1), /successor/);
        assert.deepEqual(await store.refreshTokens.get(token.tokenHash), token);
        assert.equal(await store.refreshTokens.get(stranger.tokenHash), undefined);
      });

      it('rotate of an unknown hash is not_found and stores nothing', async () => {
        const { grant } = await seedGrant(store);
        const successor = makeRefreshToken(grant);
        assert.deepEqual(await store.refreshTokens.rotate(uid('missing'), successor, 'jwe', NOW), {
          status: 'not_found',
        });
        assert.equal(await store.refreshTokens.get(successor.tokenHash), undefined);
      });

      it('RFC 9700 §4.14.2: rotate stores the access token issued with the successor, only for the one winner of concurrent rotations', async () => {
        const { grant, token } = await seedRefreshToken(store);
        const attempts = Array.from({ length: 6 }, (_, index) => ({
          successor: makeSuccessor(token, NOW + 1),
          accessToken: makeToken(grant.clientId, grant, { createdAt: NOW + 1 + index }),
        }));
        const results = await Promise.all(
          attempts.map(({ successor, accessToken }) =>
            store.refreshTokens.rotate(token.tokenHash, successor, 'jwe', NOW + 1, accessToken),
          ),
        );
        const winners = results.flatMap((result, index) => (result.status === 'rotated' ? [attempts[index]!] : []));
        assert.equal(winners.length, 1);
        assert.equal(results.filter((result) => result.status === 'already_rotated').length, 5);
        assert.deepEqual(
          (await store.accessTokens.listByGrant(grant.id)).map((t) => t.jti),
          [winners[0]!.accessToken.jti],
        );
        assert.deepEqual(
          (await store.refreshTokens.listByGrant(grant.id)).map((t) => t.tokenHash).sort(),
          [token.tokenHash, winners[0]!.successor.tokenHash].sort(),
        );
      });

      it("getForRotation reads the token with its grant's sid and revocation (OIDC Core §12.2)", async () => {
        const { grant, token } = await seedRefreshToken(store);
        assert.deepEqual(await store.refreshTokens.getForRotation(token.tokenHash), {
          token,
          sid: grant.sid,
          grantRevokedAt: null,
        });
        await store.grants.revoke(grant.id, NOW + 3);
        assert.equal((await store.refreshTokens.getForRotation(token.tokenHash))?.grantRevokedAt, NOW + 3);
        assert.equal(await store.refreshTokens.getForRotation(uid('rt-hash')), undefined);
      });

      it('the successor can be rotated in turn', async () => {
        const { grant, token } = await seedRefreshToken(store);
        const second = makeSuccessor(token, NOW + 1);
        const third = makeSuccessor(second, NOW + 2);
        assert.equal((await store.refreshTokens.rotate(token.tokenHash, second, 'jwe-2', NOW + 1)).status, 'rotated');
        const result = await store.refreshTokens.rotate(second.tokenHash, third, 'jwe-3', NOW + 2);
        assert.equal(result.status, 'rotated');
        assert.equal(result.status === 'rotated' && result.token.successorHash, third.tokenHash);
        assert.deepEqual(
          (await store.refreshTokens.listByGrant(grant.id)).map((t) => [t.tokenHash, t.successorHash]),
          [
            [token.tokenHash, second.tokenHash],
            [second.tokenHash, third.tokenHash],
            [third.tokenHash, null],
          ],
        );
      });

      it('a failing successor insert leaves the token unrotated', async () => {
        const { grant } = await seedGrant(store);
        const token = makeRefreshToken(grant);
        const bystander = makeRefreshToken(grant);
        await store.refreshTokens.create(token);
        await store.refreshTokens.create(bystander);
        // The successor's hash collides with an existing token, so its INSERT fails.
        const clashing = { ...makeSuccessor(token, NOW + 1), tokenHash: bystander.tokenHash };
        await assert.rejects(store.refreshTokens.rotate(token.tokenHash, clashing, 'jwe', NOW + 1));
        assert.deepEqual(await store.refreshTokens.get(token.tokenHash), token);
        assert.deepEqual(await store.refreshTokens.get(bystander.tokenHash), bystander);
        // The transaction rolled back completely: the token still rotates normally.
        const successor = makeSuccessor(token, NOW + 2);
        assert.equal((await store.refreshTokens.rotate(token.tokenHash, successor, 'jwe', NOW + 2)).status, 'rotated');
      });

      it('20 concurrent rotations yield one rotated, 19 already_rotated and one successor', async () => {
        const { token } = await seedRefreshToken(store);
        await assertConcurrentRotationsOneWins(token, () => store, store);
      });

      it('20 concurrent rotations through two stores yield one rotated and one successor', {
        skip: needsShared || needsInterleaved,
      }, async () => {
        await withTwoStores(target, async (a, b) => {
          const { token } = await seedRefreshToken(a);
          await assertConcurrentRotationsOneWins(token, (i) => (i % 2 === 0 ? a : b), b);
        });
      });
    });

    describe('protected resources', () => {
      it('upsert inserts, then replaces, idempotently', async () => {
        const resource = makeResource();
        const changed: ProtectedResource = {
          ...resource,
          name: null,
          scopes: [],
          introspectionClientIds: [uid('rs-client'), uid('rs-client')],
          createdAt: NOW + 1,
        };
        await assertUpsertReplaces(store.resources, resource.identifier, resource, changed);
        assert.equal(
          count(await store.resources.list(), (r) => r.identifier === resource.identifier),
          1,
        );
      });

      it('returns undefined for an unknown resource', async () => {
        assert.equal(await store.resources.get('https://missing.example/'), undefined);
      });

      it('keeps identifiers exactly as given', async () => {
        const base = `https://${uid('api')}.example`;
        const withSlash = makeResource({ identifier: `${base}/` });
        const withPath = makeResource({ identifier: `${base}/v1?x=ü` });
        await store.resources.upsert(withSlash);
        await store.resources.upsert(withPath);
        assert.deepEqual(await store.resources.get(withSlash.identifier), withSlash);
        assert.deepEqual(await store.resources.get(withPath.identifier), withPath);
        assert.equal(await store.resources.get(base), undefined);
      });

      it('lists resources ordered by identifier', async () => {
        const prefix = `https://${uid('list')}.example`;
        const pair: [ProtectedResource, ProtectedResource] = [
          makeResource({ identifier: `${prefix}/a` }),
          makeResource({ identifier: `${prefix}/b` }),
        ];
        const listed = await listedInKeyOrder(prefix, pair, store.resources, 'upsert', (r) => r.identifier);
        const ids = listed.map((r) => r.identifier);
        assert.deepEqual(ids, [...ids].sort(compareCodeUnits));
      });

      it('delete reports whether it deleted', async () => {
        const resource = makeResource();
        await store.resources.upsert(resource);
        await assertDeleteReports(
          () => store.resources.delete(resource.identifier),
          () => store.resources.get(resource.identifier),
        );
      });
    });

    describe('signing keys', () => {
      it('lists created keys oldest first', async () => {
        const key = (kid: string, createdAt: number, retiredAt: number | null): SigningKeyRecord => ({
          kid,
          alg: 'ES256',
          publicJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: kid, y: 'y' }),
          privateJwkEncrypted: `eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..${kid}`,
          createdAt,
          activatesAt: createdAt + 3_600_000,
          retiredAt,
        });
        const newer = key(uid('kid'), NOW + 1, null);
        const older = key(uid('kid'), NOW, NOW + 2);
        await store.signingKeys.create(newer);
        await store.signingKeys.create(older);
        assert.deepEqual(await store.signingKeys.list(), [older, newer]);
        await assert.rejects(store.signingKeys.create(older), 'duplicate kid');
      });
    });

    describe('signing key rotation', () => {
      const signingKey = (overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord => {
        const kid = uid('kid');
        return {
          kid,
          alg: 'ES256',
          publicJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: kid, y: 'y' }),
          privateJwkEncrypted: `eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..${kid}`,
          createdAt: NOW,
          activatesAt: NOW + 5 * MINUTE,
          retiredAt: null,
          ...overrides,
        };
      };

      it('get finds a key by kid, with every field, and undefined for an unknown kid', async () => {
        const key = signingKey({ alg: 'EdDSA', activatesAt: NOW + DAY });
        await store.signingKeys.create(key);
        assert.deepEqual(await store.signingKeys.get(key.kid), key);
        assert.equal(await store.signingKeys.get(uid('kid')), undefined);
      });

      it('retire sets retiredAt once; a second retire and an unknown kid change nothing', async () => {
        const key = signingKey();
        const other = signingKey();
        await store.signingKeys.create(key);
        await store.signingKeys.create(other);
        assert.equal(await store.signingKeys.retire(key.kid, NOW + DAY), true);
        assert.deepEqual(await store.signingKeys.get(key.kid), { ...key, retiredAt: NOW + DAY });
        assert.equal(await store.signingKeys.retire(key.kid, NOW + 2 * DAY), false);
        assert.equal((await store.signingKeys.get(key.kid))?.retiredAt, NOW + DAY, 'the first retirement time stays');
        assert.equal(await store.signingKeys.retire(uid('kid'), NOW), false);
        assert.deepEqual(await store.signingKeys.get(other.kid), other, 'other keys are untouched');
        const listed = (await store.signingKeys.list()).filter((k) => k.kid === key.kid || k.kid === other.kid);
        assert.deepEqual(
          listed.sort((a, b) => compareCodeUnits(a.kid, b.kid)),
          [{ ...key, retiredAt: NOW + DAY }, other].sort((a, b) => compareCodeUnits(a.kid, b.kid)),
          'list includes retired keys',
        );
      });

      it('a key created and retired through one store is seen by another store', { skip: needsShared }, async () => {
        await withTwoStores(target, async (a, b) => {
          const key = signingKey();
          await a.signingKeys.create(key);
          assert.deepEqual(await b.signingKeys.get(key.kid), key);
          assert.equal(await b.signingKeys.retire(key.kid, NOW + MINUTE), true);
          assert.equal((await a.signingKeys.get(key.kid))?.retiredAt, NOW + MINUTE);
          assert.deepEqual(await a.signingKeys.list(), [{ ...key, retiredAt: NOW + MINUTE }]);
        });
      });

      it('10 concurrent retirements through two stores: exactly one succeeds', { skip: needsShared }, async () => {
        await withTwoStores(target, async (a, b) => {
          const key = signingKey();
          await a.signingKeys.create(key);
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).signingKeys.retire(key.kid, NOW + i)),
          );
          assert.equal(
            count(results, (r) => r),
            1,
          );
          const winner = results.indexOf(true);
          assert.equal((await b.signingKeys.get(key.kid))?.retiredAt, NOW + winner);
        });
      });
    });

    describe('logout', () => {
      function makeDelivery(clientId: string, overrides: Partial<LogoutDelivery> = {}): LogoutDelivery {
        return {
          id: uid('delivery'),
          clientId,
          uri: 'https://app.example/backchannel-logout',
          logoutToken: 'header.payload.signature',
          attempts: 0,
          nextAttemptAt: NOW,
          lastError: null,
          deliveredAt: null,
          createdAt: NOW,
          ...overrides,
        };
      }

      /** A session, and a queued delivery through endSession. */
      async function queued(
        overrides: Partial<LogoutDelivery> = {},
      ): Promise<{ client: Client; delivery: LogoutDelivery }> {
        const { client, user } = await seedGrant(store);
        const session = makeSession(user.id);
        await store.sessions.create(session);
        const delivery = makeDelivery(client.clientId, overrides);
        assert.equal(await store.logout.endSession(session.idHash, [delivery]), true);
        return { client, delivery };
      }

      it("round-trips the clients' logout metadata", async () => {
        const client = makeClient({
          postLogoutRedirectUris: ['https://app.example/signed-out', 'http://127.0.0.1:8080/bye'],
          backchannelLogoutUri: 'https://app.example/backchannel-logout',
          backchannelLogoutSessionRequired: true,
        });
        await store.clients.create(client);
        assert.deepEqual(await store.clients.get(client.clientId), client);
        await store.clients.upsert({
          ...client,
          postLogoutRedirectUris: [],
          backchannelLogoutUri: null,
          backchannelLogoutSessionRequired: false,
        });
        assert.deepEqual(await store.clients.get(client.clientId), {
          ...client,
          postLogoutRedirectUris: [],
          backchannelLogoutUri: null,
          backchannelLogoutSessionRequired: false,
        });
      });

      it('sessionClientIds lists each client with a grant in the session once', async () => {
        const { client, user, grant } = await seedGrant(store);
        const other = await storedClient(store);
        await store.grants.create({ ...grant, id: uid('grant') });
        await store.grants.create({ ...grant, id: uid('grant'), clientId: other.clientId });
        await store.grants.create({
          ...grant,
          id: uid('grant'),
          clientId: other.clientId,
          sid: uid('other-sid'),
          userId: user.id,
        });
        assert.deepEqual(
          await store.logout.sessionClientIds(grant.sid!),
          [client.clientId, other.clientId].sort(compareCodeUnits),
        );
        assert.deepEqual(await store.logout.sessionClientIds(uid('missing')), []);
      });

      it('endSession deletes the session and queues the deliveries; a second call ends and queues nothing', async () => {
        const { client, user } = await seedGrant(store);
        const session = makeSession(user.id);
        await store.sessions.create(session);
        const first = makeDelivery(client.clientId);
        assert.equal(await store.logout.endSession(session.idHash, [first]), true);
        assert.equal(await store.sessions.get(session.idHash, NOW), undefined);
        assert.deepEqual(await store.logoutDeliveries.get(first.id), first);
        const second = makeDelivery(client.clientId);
        assert.equal(await store.logout.endSession(session.idHash, [second]), false);
        assert.equal(await store.logoutDeliveries.get(second.id), undefined);
      });

      it('claim takes a due delivery once, counts the attempt and leases it; finish records the outcome while the claim holds', async () => {
        const { delivery } = await queued({ nextAttemptAt: NOW + MINUTE });
        assert.equal(await store.logoutDeliveries.claim(delivery.id, NOW, NOW + 2 * MINUTE), undefined, 'not due yet');
        const claimed = await store.logoutDeliveries.claim(delivery.id, NOW + MINUTE, NOW + 2 * MINUTE);
        assert.deepEqual(claimed, { ...delivery, attempts: 1, nextAttemptAt: NOW + 2 * MINUTE });
        assert.equal(
          await store.logoutDeliveries.claim(delivery.id, NOW + MINUTE, NOW + 3 * MINUTE),
          undefined,
          'leased',
        );
        const outcome = {
          deliveredAt: null,
          nextAttemptAt: NOW + 2 * MINUTE + 1000,
          lastError: 'HTTP 503',
          logoutToken: 'new.token.value',
        };
        assert.equal(await store.logoutDeliveries.finish(delivery.id, 2, outcome), false, 'not the current attempt');
        assert.equal(await store.logoutDeliveries.finish(delivery.id, 1, outcome), true);
        assert.deepEqual(await store.logoutDeliveries.get(delivery.id), { ...delivery, attempts: 1, ...outcome });
        // The lease ran out: another worker may claim it again; the late first worker cannot write.
        const again = await store.logoutDeliveries.claim(delivery.id, NOW + 3 * MINUTE, NOW + 4 * MINUTE);
        assert.equal(again?.attempts, 2);
        assert.equal(await store.logoutDeliveries.finish(delivery.id, 1, { ...outcome, lastError: 'stale' }), false);
        const delivered = {
          deliveredAt: NOW + 3 * MINUTE,
          nextAttemptAt: null,
          lastError: 'HTTP 503',
          logoutToken: 'new.token.value',
        };
        assert.equal(await store.logoutDeliveries.finish(delivery.id, 2, delivered), true);
        assert.equal(
          await store.logoutDeliveries.claim(delivery.id, NOW + DAY, NOW + DAY + MINUTE),
          undefined,
          'delivered: never due again',
        );
      });

      it('release gives an interrupted attempt back, uncounted and due at once', async () => {
        const { delivery } = await queued();
        const claimed = await store.logoutDeliveries.claim(delivery.id, NOW, NOW + MINUTE);
        assert.equal(claimed?.attempts, 1);
        assert.equal(await store.logoutDeliveries.release(delivery.id, 1, NOW + 5), true);
        assert.deepEqual(await store.logoutDeliveries.get(delivery.id), {
          ...delivery,
          attempts: 0,
          nextAttemptAt: NOW + 5,
        });
        assert.equal(await store.logoutDeliveries.release(delivery.id, 1, NOW + 6), false);
      });

      it('10 concurrent claims of one delivery: exactly one wins', async () => {
        const { delivery } = await queued();
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.logoutDeliveries.claim(delivery.id, NOW, NOW + MINUTE)),
        );
        assert.equal(
          count(results, (r) => r !== undefined),
          1,
        );
        assert.equal((await store.logoutDeliveries.get(delivery.id))?.attempts, 1);
      });

      it('10 concurrent claims through two stores: exactly one wins', { skip: needsShared }, async () => {
        await withTwoStores(target, async (a, b) => {
          const client = makeClient();
          const user = makeUser();
          await a.clients.create(client);
          await a.users.create(user);
          const session = makeSession(user.id);
          await a.sessions.create(session);
          const delivery = makeDelivery(client.clientId);
          await a.logout.endSession(session.idHash, [delivery]);
          const results = await Promise.all(
            Array.from({ length: 10 }, (_, i) =>
              (i % 2 === 0 ? a : b).logoutDeliveries.claim(delivery.id, NOW, NOW + MINUTE),
            ),
          );
          assert.equal(
            count(results, (r) => r !== undefined),
            1,
          );
          assert.equal((await b.logoutDeliveries.get(delivery.id))?.attempts, 1);
        });
      });

      it('listDue: due deliveries, the longest-waiting first, at most `limit`', async () => {
        const base = NOW + 10 * DAY;
        const { client, user } = await seedGrant(store);
        const session = makeSession(user.id);
        await store.sessions.create(session);
        const late = makeDelivery(client.clientId, { nextAttemptAt: base + 2 });
        const early = makeDelivery(client.clientId, { nextAttemptAt: base + 1 });
        const future = makeDelivery(client.clientId, { nextAttemptAt: base + DAY });
        const done = makeDelivery(client.clientId, { nextAttemptAt: null, deliveredAt: base });
        await store.logout.endSession(session.idHash, [late, early, future, done]);
        const due = (await store.logoutDeliveries.listDue(base + 2, 1000)).filter(
          (d) => d.clientId === client.clientId,
        );
        assert.deepEqual(
          due.map((d) => d.id),
          [early.id, late.id],
        );
        const [first] = await store.logoutDeliveries.listDue(base + 2, 1);
        assert.ok(first && first.nextAttemptAt! <= base + 2);
      });

      it('list: newest first; failed = not delivered and failed at least once', async () => {
        const { client, user } = await seedGrant(store);
        const session = makeSession(user.id);
        await store.sessions.create(session);
        const when = NOW + 20 * DAY;
        const pending = makeDelivery(client.clientId, { createdAt: when + 1 });
        const retrying = makeDelivery(client.clientId, { createdAt: when + 2, attempts: 2, lastError: 'HTTP 503' });
        const givenUp = makeDelivery(client.clientId, {
          createdAt: when + 3,
          attempts: 5,
          lastError: 'ECONNREFUSED',
          nextAttemptAt: null,
        });
        const deliveredAfterFailure = makeDelivery(client.clientId, {
          createdAt: when + 4,
          attempts: 2,
          lastError: 'HTTP 500',
          nextAttemptAt: null,
          deliveredAt: when + 5,
        });
        await store.logout.endSession(session.idHash, [pending, retrying, givenUp, deliveredAfterFailure]);
        const mine = (list: LogoutDelivery[]) => list.filter((d) => d.clientId === client.clientId).map((d) => d.id);
        assert.deepEqual(mine(await store.logoutDeliveries.list()), [
          deliveredAfterFailure.id,
          givenUp.id,
          retrying.id,
          pending.id,
        ]);
        assert.deepEqual(mine(await store.logoutDeliveries.list({ failed: true })), [givenUp.id, retrying.id]);
        assert.equal((await store.logoutDeliveries.list({ limit: 2 })).length, 2);
      });

      it('deliveries go with their client', async () => {
        const { client, delivery } = await queued();
        await store.clients.delete(client.clientId);
        assert.equal(await store.logoutDeliveries.get(delivery.id), undefined);
      });
    });

    describe('cleanup of expired rows', () => {
      const HOUR = 60 * MINUTE;
      const GRACE = 10_000;
      /** Tiny batches, so every table needs several DELETE statements. */
      const policy = (overrides: Partial<CleanupPolicy> = {}): CleanupPolicy => ({
        consumedCodeRetentionMs: 30 * DAY,
        refreshTokenGraceMs: GRACE,
        logoutDeliveryRetentionMs: 7 * DAY,
        grantMinAgeMs: HOUR,
        batchSize: 2,
        ...overrides,
      });

      /** A fresh database per test, so that counts are exact. */
      async function withMigratedStore(fn: (s: Store, db: Kysely<Database>) => Promise<void>): Promise<void> {
        await withFreshStore(target, async (s) => {
          await s.migrate();
          assert.ok(s instanceof KyselyStore);
          await fn(s, s.db);
        });
      }

      async function keys(
        db: Kysely<Database>,
        table:
          | 'authorization_codes'
          | 'access_tokens'
          | 'refresh_tokens'
          | 'grants'
          | 'sessions'
          | 'interactions'
          | 'pushed_authorization_requests'
          | 'logout_deliveries',
      ): Promise<Set<string>> {
        const column = {
          authorization_codes: 'code_hash',
          access_tokens: 'jti',
          refresh_tokens: 'token_hash',
          grants: 'id',
          sessions: 'id_hash',
          interactions: 'id',
          pushed_authorization_requests: 'request_uri_hash',
          logout_deliveries: 'id',
        }[table];
        const rows = await db.selectFrom(table).select(sql.ref<string>(column).as('key')).execute();
        return new Set(rows.map((row) => row.key));
      }

      async function sizes(db: Kysely<Database>): Promise<Record<string, number>> {
        const result: Record<string, number> = {};
        // The tables cleanup deletes from, but the audit trail (its own retention).
        for (const table of CLEANUP_TABLES.filter((name) => name !== 'audit_events')) {
          const row = await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow();
          result[table] = Number(row.n);
        }
        return result;
      }

      it('deletes what expired and keeps what is live or still needed for reuse detection and revocation (RFC 9700 §4.14.2, RFC 6749 §4.1.2)', async () => {
        await withMigratedStore(async (s, db) => {
          const { client, user, grant } = await seedGrant(s);
          const mkGrant = async (overrides: Partial<Grant> = {}): Promise<Grant> => {
            const g: Grant = {
              ...grant,
              id: uid('grant'),
              flowId: uid('flow'),
              sid: uid('sid'),
              createdAt: NOW - 2 * DAY,
              ...overrides,
            };
            await s.grants.create(g);
            return g;
          };

          // Sessions and interactions: past their lifetime or not.
          // An expired session is kept for grantMinAgeMs (1 h) past its expiry.
          const deadSession = makeSession(user.id, { expiresAt: NOW - HOUR });
          const justExpiredSession = makeSession(user.id, { expiresAt: NOW - 1 });
          const liveSession = makeSession(user.id, { expiresAt: NOW + HOUR });
          for (const session of [deadSession, justExpiredSession, liveSession]) await s.sessions.create(session);
          const deadInteraction = makeInteraction(client.clientId, { expiresAt: NOW });
          const liveInteraction = makeInteraction(client.clientId, { expiresAt: NOW + 1 });
          for (const interaction of [deadInteraction, liveInteraction]) await s.interactions.create(interaction);
          // RFC 9126 pushed requests: past their lifetime (used or not) or not.
          const expiredPushed = makePushedRequest(client.clientId, { expiresAt: NOW });
          const usedExpiredPushed = makePushedRequest(client.clientId, {
            expiresAt: NOW - 1,
            consumedAt: NOW - MINUTE,
          });
          const livePushed = makePushedRequest(client.clientId, { expiresAt: NOW + 1 });
          for (const pushed of [expiredPushed, usedExpiredPushed, livePushed]) await s.pushedRequests.create(pushed);

          // Access tokens: the record stays until the JWT's exp, revoked or not.
          const expiredToken = makeToken(client.clientId, null, { expiresAt: NOW });
          const revokedLiveToken = makeToken(client.clientId, null, {
            expiresAt: NOW + MINUTE,
            revokedAt: NOW - MINUTE,
          });
          for (const token of [expiredToken, revokedLiveToken]) await s.accessTokens.create(token);

          // Codes: never redeemed and expired: gone. Redeemed: kept while tokens issued from it live.
          const unusedGrant = await mkGrant({ sid: null });
          const unusedExpiredCode = makeCode(unusedGrant, { expiresAt: NOW - 1 });
          const liveGrant = await mkGrant({ sid: null });
          const liveCode = makeCode(liveGrant, { expiresAt: NOW + MINUTE });
          const redeemedGrant = await mkGrant({ sid: null });
          const redeemedCode = makeCode(redeemedGrant, {
            expiresAt: NOW - 2 * DAY + MINUTE,
            consumedAt: NOW - 2 * DAY,
          });
          const redeemedToken = makeToken(client.clientId, redeemedGrant, { expiresAt: NOW - DAY });
          const redeemedRefresh = makeRefreshToken(redeemedGrant, {
            createdAt: NOW - 2 * DAY,
            expiresAt: NOW + 12 * DAY,
            familyExpiresAt: NOW + 28 * DAY,
          });
          const oldGrant = await mkGrant({ sid: null, createdAt: NOW - 40 * DAY });
          const oldRedeemedCode = makeCode(oldGrant, {
            expiresAt: NOW - 31 * DAY,
            consumedAt: NOW - 31 * DAY - MINUTE,
          });
          for (const code of [unusedExpiredCode, liveCode, redeemedCode, oldRedeemedCode]) await s.codes.create(code);
          await s.accessTokens.create(redeemedToken);
          await s.refreshTokens.create(redeemedRefresh);

          // Refresh tokens: a family past its absolute expiry goes whole; a rotated token of a
          // live family stays (reuse detection), although its own idle expiry has passed; an
          // unrotated one goes once idle-expired and past the grace window.
          const deadFamilyGrant = await mkGrant({ sid: null });
          const deadRotated = makeRefreshToken(deadFamilyGrant, {
            expiresAt: NOW - 2 * DAY,
            familyExpiresAt: NOW - 1,
            rotatedAt: NOW - 3 * DAY,
          });
          const deadLatest = makeRefreshToken(deadFamilyGrant, { expiresAt: NOW - 1, familyExpiresAt: NOW - 1 });
          const familyGrant = await mkGrant({ sid: null });
          const rotatedLongAgo = makeRefreshToken(familyGrant, {
            expiresAt: NOW - DAY,
            familyExpiresAt: NOW + 10 * DAY,
            rotatedAt: NOW - 20 * DAY,
          });
          const idleExpired = makeRefreshToken(familyGrant, {
            expiresAt: NOW - GRACE,
            familyExpiresAt: NOW + 10 * DAY,
          });
          const idleInGrace = makeRefreshToken(familyGrant, {
            expiresAt: NOW - GRACE + 1,
            familyExpiresAt: NOW + 10 * DAY,
          });
          const liveRefresh = makeRefreshToken(familyGrant, { expiresAt: NOW + DAY, familyExpiresAt: NOW + 10 * DAY });
          for (const token of [deadRotated, deadLatest, rotatedLongAgo, idleExpired, idleInGrace, liveRefresh])
            await s.refreshTokens.create(token);

          // Grants: one whose session still exists stays (back-channel logout finds its clients).
          const sessionGrant = await mkGrant({ sid: liveSession.sid });
          const sessionGrantToken = makeToken(client.clientId, sessionGrant, { expiresAt: NOW - 1 });
          await s.accessTokens.create(sessionGrantToken);
          // ... one made in the expired session goes with it once nothing else refers to it.
          const endedGrant = await mkGrant({ sid: deadSession.sid });
          // A young grant without code or token yet stays (its code may be on its way).
          const youngGrant = await mkGrant({ sid: null, createdAt: NOW - MINUTE });

          // Back-channel logout deliveries: delivered or given up long ago go; pending ones stay.
          const delivery = (overrides: Partial<LogoutDelivery>): LogoutDelivery => ({
            id: uid('delivery'),
            clientId: client.clientId,
            uri: 'https://app.example/logout',
            logoutToken: 'header.payload.signature',
            attempts: 1,
            nextAttemptAt: null,
            lastError: null,
            deliveredAt: null,
            createdAt: NOW - 8 * DAY,
            ...overrides,
          });
          const oldDelivered = delivery({ deliveredAt: NOW - 8 * DAY });
          const oldGivenUp = delivery({ lastError: 'HTTP 500' });
          const recentDelivered = delivery({ deliveredAt: NOW - DAY, createdAt: NOW - DAY });
          const oldPending = delivery({ nextAttemptAt: NOW + MINUTE });
          const endMe = makeSession(user.id);
          await s.sessions.create(endMe);
          await s.logout.endSession(endMe.idHash, [oldDelivered, oldGivenUp, recentDelivered, oldPending]);

          const result = await s.cleanup.run(NOW, policy());
          assert.equal(result.status, 'done');
          assert.deepEqual(result.status === 'done' ? result.deleted : undefined, {
            sessions: 1,
            interactions: 1,
            pushed_authorization_requests: 2,
            access_tokens: 3,
            refresh_tokens: 3,
            authorization_codes: 2,
            grants: 4,
            logout_deliveries: 2,
            audit_events: 0,
            used_jtis: 0,
            device_codes: 0,
            registration_tokens: 0,
            clients: 0,
          });

          assert.deepEqual(await keys(db, 'sessions'), new Set([justExpiredSession.idHash, liveSession.idHash]));
          assert.deepEqual(await keys(db, 'interactions'), new Set([liveInteraction.id]));
          assert.deepEqual(await keys(db, 'pushed_authorization_requests'), new Set([livePushed.requestUriHash]));
          assert.deepEqual(await keys(db, 'access_tokens'), new Set([revokedLiveToken.jti]));
          assert.deepEqual(await keys(db, 'authorization_codes'), new Set([liveCode.codeHash, redeemedCode.codeHash]));
          assert.deepEqual(
            await keys(db, 'refresh_tokens'),
            new Set([
              redeemedRefresh.tokenHash,
              rotatedLongAgo.tokenHash,
              idleInGrace.tokenHash,
              liveRefresh.tokenHash,
            ]),
          );
          assert.deepEqual(
            await keys(db, 'grants'),
            new Set([grant.id, liveGrant.id, redeemedGrant.id, familyGrant.id, sessionGrant.id, youngGrant.id]),
            'gone: the grants of the unused code, the old redeemed code, the dead family, and the ended session',
          );
          assert.ok(!(await keys(db, 'grants')).has(endedGrant.id));
          assert.ok(
            !(await keys(db, 'grants')).has(unusedGrant.id) &&
              !(await keys(db, 'grants')).has(oldGrant.id) &&
              !(await keys(db, 'grants')).has(deadFamilyGrant.id),
          );
          assert.deepEqual(await keys(db, 'logout_deliveries'), new Set([recentDelivered.id, oldPending.id]));

          // What stayed still works: a replay of the redeemed code is detected (and can revoke
          // the tokens issued from it), the rotated token is still known as rotated.
          assert.equal((await s.codes.consume(redeemedCode.codeHash, NOW)).status, 'replayed');
          assert.equal((await s.refreshTokens.get(rotatedLongAgo.tokenHash))?.rotatedAt, NOW - 20 * DAY);

          // A second run finds nothing more.
          const again = await s.cleanup.run(NOW, policy());
          assert.deepEqual(again.status === 'done' ? Object.values(again.deleted).reduce((a, b) => a + b, 0) : -1, 0);
        });
      });

      it('RFC 7591: expired initial access tokens and abandoned self-registered clients go; used and operator clients stay', async () => {
        await withMigratedStore(async (s) => {
          const abandoned = await storedClient(s, { registrationKind: 'dynamic', createdAt: NOW - 40 * DAY });
          const active = await storedClient(s, { registrationKind: 'dynamic', createdAt: NOW - 40 * DAY });
          const operator = await storedClient(s, { createdAt: NOW - 400 * DAY });
          const registration = (clientId: string, lastActiveAt: number) =>
            s.registrations.create({ clientId, accessTokenHash: uid('h'), createdAt: NOW - 40 * DAY, lastActiveAt });
          await registration(abandoned.clientId, NOW - 30 * DAY);
          await registration(active.clientId, NOW - 30 * DAY + 1);
          const token = (id: string, expiresAt: number | null) =>
            s.registrations.createToken({
              id,
              tokenHash: uid('t'),
              createdAt: NOW - DAY,
              expiresAt,
              usesLeft: null,
              revokedAt: null,
            });
          await token('expired', NOW);
          await token('live', NOW + 1);
          await token('forever', null);

          const kept = await s.cleanup.run(NOW, policy());
          assert.equal(kept.status === 'done' ? kept.deleted.clients : -1, 0, 'without abandonedClientMs none go');
          assert.equal(kept.status === 'done' ? kept.deleted.registration_tokens : -1, 1);
          const result = await s.cleanup.run(NOW, policy({ abandonedClientMs: 30 * DAY }));
          assert.equal(result.status === 'done' ? result.deleted.clients : -1, 1);
          assert.equal(await s.clients.get(abandoned.clientId), undefined);
          assert.equal(await s.registrations.get(abandoned.clientId), undefined);
          assert.ok(await s.clients.get(active.clientId));
          assert.ok(await s.clients.get(operator.clientId));
          assert.deepEqual((await s.registrations.listTokens()).map((t) => t.id).sort(), ['forever', 'live']);
        });
      });

      it('table sizes stay bounded under a steady synthetic load', async () => {
        await withMigratedStore(async (s, db) => {
          const { client, user } = await seedGrant(s);
          // Lifetimes of a compressed day: codes 1 min, access tokens 5 min, refresh tokens idle
          // 10 min within 20 min families, sessions 15 min, interactions 3 min; cleanup every 5 min.
          const load = policy({ consumedCodeRetentionMs: 20 * MINUTE, grantMinAgeMs: 5 * MINUTE, batchSize: 7 });
          const FLOWS_PER_MINUTE = 3;
          const samples: Array<Record<string, number>> = [];
          let previousRefresh: RefreshTokenRecord | undefined;
          for (let minute = 0; minute < 80; minute++) {
            const t = NOW + minute * MINUTE;
            for (let i = 0; i < FLOWS_PER_MINUTE; i++) {
              const session = makeSession(user.id, { createdAt: t, expiresAt: t + 15 * MINUTE });
              await s.sessions.create(session);
              await s.interactions.create(
                makeInteraction(client.clientId, { createdAt: t, expiresAt: t + 3 * MINUTE }),
              );
              const g: Grant = {
                id: uid('grant'),
                flowId: uid('flow'),
                clientId: client.clientId,
                userId: user.id,
                scope: ['openid'],
                sid: session.sid,
                createdAt: t,
                revokedAt: null,
              };
              await s.grants.create(g);
              const code = makeCode(g, { createdAt: t, expiresAt: t + MINUTE });
              await s.codes.create(code);
              // Two of three codes are redeemed, with an access token and a refresh token family.
              if (i < 2) {
                await s.codes.consume(code.codeHash, t);
                await s.accessTokens.create(makeToken(client.clientId, g, { createdAt: t, expiresAt: t + 5 * MINUTE }));
                const refresh = makeRefreshToken(g, {
                  createdAt: t,
                  expiresAt: t + 10 * MINUTE,
                  familyExpiresAt: t + 20 * MINUTE,
                });
                await s.refreshTokens.create(refresh);
                // The previous family is refreshed once: rotated tokens stay until the family ends.
                if (previousRefresh) {
                  const successor = makeSuccessor(previousRefresh, t);
                  await s.refreshTokens.rotate(previousRefresh.tokenHash, successor, 'jwe', t);
                }
                previousRefresh = refresh;
              }
              // Client credentials.
              await s.accessTokens.create(
                makeToken(client.clientId, null, { createdAt: t, expiresAt: t + 5 * MINUTE }),
              );
            }
            if (minute % 5 === 4) {
              const result = await s.cleanup.run(t, load);
              assert.equal(result.status, 'done');
            }
            if (minute === 49 || minute === 79) samples.push(await sizes(db));
          }
          const [middle, end] = samples;
          assert.ok(middle && end);
          // Rows live at most their lifetime (plus retention) and one cleanup interval: at 3 flows
          // a minute, e.g. codes 1 min + 20 min retention + 5 min, refresh tokens 20 min + 5 min
          // (two new ones and two successors a minute), sessions 15 min + 5 min (grantMinAgeMs) + 5 min.
          const bound: Record<string, number> = {
            authorization_codes: 3 * (1 + 20 + 5 + 1),
            access_tokens: 5 * (5 + 5 + 1),
            refresh_tokens: 4 * (20 + 5 + 1),
            grants: 3 * (1 + 20 + 5 + 1) + 1,
            sessions: 3 * (15 + 5 + 5 + 1),
            interactions: 3 * (3 + 5 + 1),
            logout_deliveries: 0,
          };
          for (const [table, max] of Object.entries(bound)) {
            assert.ok((end[table] ?? 0) <= max, `${table}: ${end[table]} rows after 80 min, bound ${max}`);
            assert.ok(
              (end[table] ?? 0) <= (middle[table] ?? 0) + 10,
              `${table} does not grow: ${middle[table]} after 50 min, ${end[table]} after 80 min`,
            );
          }
        });
      });

      it('runs one at a time per schema on PostgreSQL (pg_try_advisory_lock); a run that cannot lock skips', {
        skip: target.interleavedTransactions ? false : 'PostgreSQL only',
      }, async () => {
        await withMigratedStore(async (s, db) => {
          const holder = await db.connection().execute(async (conn) => {
            await sql`select pg_advisory_lock(${0x6768_636c}::int4, hashtext(current_schema()))`.execute(conn);
            try {
              return await s.cleanup.run(NOW, policy());
            } finally {
              await sql`select pg_advisory_unlock(${0x6768_636c}::int4, hashtext(current_schema()))`.execute(conn);
            }
          });
          assert.deepEqual(holder, { status: 'skipped' });
          // `gatehouse cleanup` waits for the lock instead (here: free again).
          assert.equal((await s.cleanup.run(NOW, policy(), { wait: true })).status, 'done');
          assert.equal((await s.cleanup.run(NOW, policy())).status, 'done', 'the lock was released');
        });
      });
    });

    describe('rate limits', () => {
      /** Blocked 1 s after the 3rd attempt, 10 s from the 5th on; forgotten after a minute. */
      const policy: RateLimitPolicy = {
        forgetAfterMs: MINUTE,
        blockMs: (attempts) => (attempts >= 5 ? 10_000 : attempts >= 3 ? 1000 : 0),
      };
      const hit = (key: string, now: number, unlessBlocked = true) =>
        store.rateLimits.hit([{ key, policy }], now, { unlessBlocked });
      const attemptsOf = (result: RateLimitHitResult): number => {
        assert.ok(result.counted, 'counted');
        return result.states[0]!.attempts;
      };

      it('counts attempts atomically and blocks as the policy says', async () => {
        const key = uid('login_username');
        assert.equal(attemptsOf(await hit(key, NOW)), 1);
        assert.equal(attemptsOf(await hit(key, NOW)), 2);
        const third = await hit(key, NOW);
        assert.ok(third.counted);
        assert.deepEqual(third.states[0], { key, attempts: 3, blockedUntil: NOW + 1000 });
        // While blocked: refused, and nothing counted.
        assert.deepEqual(await hit(key, NOW + 999), { counted: false, blockedUntil: NOW + 1000 });
        assert.deepEqual(await store.rateLimits.get([key], NOW + 999), [
          { key, attempts: 3, blockedUntil: NOW + 1000 },
        ]);
        assert.equal(attemptsOf(await hit(key, NOW + 1000)), 4);
        // Without unlessBlocked (failures recorded after the fact) a blocked key is counted too.
        assert.equal(attemptsOf(await hit(key, NOW + 1000, false)), 5);
        assert.deepEqual(await store.rateLimits.get([key], NOW + 1000), [
          { key, attempts: 5, blockedUntil: NOW + 11_000 },
        ]);
      });

      it('forgets a counter after forgetAfterMs without attempts, and purge deletes it', async () => {
        const key = uid('client_id');
        await hit(key, NOW);
        await hit(key, NOW);
        assert.equal((await store.rateLimits.get([key], NOW + MINUTE - 1)).length, 1);
        assert.deepEqual(await store.rateLimits.get([key], NOW + MINUTE), []);
        assert.equal(attemptsOf(await hit(key, NOW + MINUTE)), 1, 'counting starts again');
        const other = uid('client_id');
        await hit(other, NOW);
        assert.ok((await store.rateLimits.purge(NOW + MINUTE)) >= 1);
        assert.deepEqual(await store.rateLimits.get([other], NOW), [], 'purged');
        assert.equal((await store.rateLimits.get([key], NOW + MINUTE)).length, 1, 'the live counter stays');
      });

      it('a blocked key refuses the whole hit: no other key is counted', async () => {
        const user = uid('login_username');
        const ip = uid('login_ip');
        for (let i = 0; i < 3; i++) await hit(ip, NOW);
        const result = await store.rateLimits.hit(
          [
            { key: user, policy },
            { key: ip, policy },
          ],
          NOW + 1,
          { unlessBlocked: true },
        );
        assert.deepEqual(result, { counted: false, blockedUntil: NOW + 1000 });
        assert.deepEqual(await store.rateLimits.get([user], NOW + 1), []);
        const both = await store.rateLimits.hit(
          [
            { key: user, policy },
            { key: ip, policy },
          ],
          NOW + 1000,
          { unlessBlocked: true },
        );
        assert.ok(both.counted);
        assert.deepEqual(
          both.states.map((state) => [state.key, state.attempts]),
          [
            [user, 1],
            [ip, 4],
          ],
          'states in the order of the entries',
        );
      });

      it('release takes back one attempt and its block; reset forgets the counter', async () => {
        const key = uid('login_ip');
        for (let i = 0; i < 3; i++) await hit(key, NOW);
        await store.rateLimits.release(key, policy, NOW);
        assert.deepEqual(await store.rateLimits.get([key], NOW), [{ key, attempts: 2, blockedUntil: 0 }]);
        assert.equal(attemptsOf(await hit(key, NOW)), 3);
        await store.rateLimits.reset(key);
        assert.deepEqual(await store.rateLimits.get([key], NOW), []);
        await store.rateLimits.release(key, policy, NOW);
        assert.deepEqual(await store.rateLimits.get([key], NOW), [], 'releasing an absent counter does nothing');
      });

      it('20 concurrent hits: exactly as many get through as the policy allows before its block', async () => {
        const key = uid('login_username');
        const results = await Promise.all(Array.from({ length: 20 }, () => hit(key, NOW)));
        assert.equal(
          count(results, (r) => r.counted),
          3,
        );
        assert.deepEqual(
          results
            .filter((r) => r.counted)
            .map(attemptsOf)
            .sort(),
          [1, 2, 3],
        );
        assert.deepEqual(await store.rateLimits.get([key], NOW), [{ key, attempts: 3, blockedUntil: NOW + 1000 }]);
      });

      it('20 concurrent failures recorded after the fact are all counted', async () => {
        const key = uid('client_ip');
        const results = await Promise.all(Array.from({ length: 20 }, () => hit(key, NOW, false)));
        assert.deepEqual(
          results.map(attemptsOf).sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
      });

      it('two stores on one database share the counters, also under concurrency', {
        skip: needsShared || needsInterleaved,
      }, async () => {
        await withTwoStores(target, async (a, b) => {
          const key = uid('login_username');
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              (i % 2 === 0 ? a : b).rateLimits.hit([{ key, policy }], NOW, { unlessBlocked: true }),
            ),
          );
          assert.equal(
            count(results, (r) => r.counted),
            3,
          );
          assert.deepEqual(await a.rateLimits.get([key], NOW), await b.rateLimits.get([key], NOW));
        });
      });

      it('two stores on one database share the counters', { skip: needsShared }, async () => {
        await withTwoStores(target, async (a, b) => {
          const key = uid('login_username');
          for (let i = 0; i < 3; i++) await a.rateLimits.hit([{ key, policy }], NOW, { unlessBlocked: true });
          assert.deepEqual(await b.rateLimits.hit([{ key, policy }], NOW, { unlessBlocked: true }), {
            counted: false,
            blockedUntil: NOW + 1000,
          });
        });
      });
    });

    describe('used JWT ids (replay store)', () => {
      it('RFC 7523 §3 item 7: markUsed is true the first time and false for a replay until expiresAt', async () => {
        const jti = uid('jti');
        assert.equal(await store.usedJtis.markUsed('client_assertion', jti, NOW + MINUTE, NOW), true);
        assert.equal(await store.usedJtis.markUsed('client_assertion', jti, NOW + MINUTE, NOW), false);
        assert.equal(await store.usedJtis.markUsed('client_assertion', jti, NOW + 2 * MINUTE, NOW + MINUTE - 1), false);
      });

      it('keeps purposes apart: one id may be used once per purpose', async () => {
        const jti = uid('jti');
        assert.equal(await store.usedJtis.markUsed('client_assertion', jti, NOW + MINUTE, NOW), true);
        assert.equal(await store.usedJtis.markUsed('dpop_proof', jti, NOW + MINUTE, NOW), true);
        assert.equal(await store.usedJtis.markUsed('dpop_proof', jti, NOW + MINUTE, NOW), false);
      });

      it('an id whose row expired can be used again (the row is taken over), once', async () => {
        const jti = uid('jti');
        assert.equal(await store.usedJtis.markUsed('client_assertion', jti, NOW + MINUTE, NOW), true);
        assert.equal(await store.usedJtis.markUsed('client_assertion', jti, NOW + 3 * MINUTE, NOW + MINUTE), true);
        assert.equal(await store.usedJtis.markUsed('client_assertion', jti, NOW + 3 * MINUTE, NOW + MINUTE), false);
      });

      it('stores a hash, never the id itself', async () => {
        const jti = uid('visible-jti');
        await store.usedJtis.markUsed('client_assertion', jti, NOW + MINUTE, NOW);
        assert.ok(store instanceof KyselyStore);
        const rows = await store.db.selectFrom('used_jtis').selectAll().execute();
        assert.ok(rows.length > 0);
        assert.ok(rows.every((row) => !row.jti_hash.includes(jti)));
      });

      it('of 20 concurrent markUsed calls with one id exactly one is true', async () => {
        const jti = uid('jti');
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.usedJtis.markUsed('client_assertion', jti, NOW + MINUTE, NOW)),
        );
        assert.equal(results.filter(Boolean).length, 1);
      });

      it('of 20 concurrent markUsed calls on two stores (two pools) exactly one is true', {
        skip: needsShared,
      }, async () => {
        await withTwoStores(target, async (a, b) => {
          const jti = uid('jti');
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, index) =>
              (index % 2 === 0 ? a : b).usedJtis.markUsed('client_assertion', jti, NOW + MINUTE, NOW),
            ),
          );
          assert.equal(results.filter(Boolean).length, 1);
        });
      });

      it('cleanup removes the ids past their expiry and keeps the others', async () => {
        await withFreshStore(target, async (s) => {
          await s.migrate();
          await s.usedJtis.markUsed('client_assertion', 'old', NOW - 1, NOW - MINUTE);
          await s.usedJtis.markUsed('client_assertion', 'live', NOW + MINUTE, NOW - MINUTE);
          const result = await s.cleanup.run(NOW, {
            consumedCodeRetentionMs: DAY,
            refreshTokenGraceMs: 0,
            logoutDeliveryRetentionMs: DAY,
            grantMinAgeMs: MINUTE,
            batchSize: 1,
          });
          assert.equal(result.status === 'done' ? result.deleted.used_jtis : undefined, 1);
          assert.equal(await s.usedJtis.markUsed('client_assertion', 'live', NOW + MINUTE, NOW), false, 'kept');
          assert.equal(await s.usedJtis.markUsed('client_assertion', 'old', NOW + MINUTE, NOW), true, 'deleted');
        });
      });
    });

    describe('audit', () => {
      const event = (overrides: Partial<AuditEvent>): AuditEvent => makeAuditEvent(NOW, 'login.failed', overrides);

      it('a batch is written all or nothing: one row it cannot hold writes none of them (the trail keeps the batch to retry)', async () => {
        const client = uid('audit-client');
        const broken = event({ clientId: client, type: null as unknown as AuditEvent['type'] });
        await assert.rejects(store.audit.insert([event({ clientId: client }), broken, event({ clientId: client })]));
        assert.deepEqual(await store.audit.list({ clientId: client, limit: 10 }), []);
      });

      it('inserts a batch together (one statement on PostgreSQL, one transaction on SQLite) and lists it newest first, ties in insertion order reversed', async () => {
        const client = uid('audit-client');
        await store.audit.insert([
          event({
            at: NOW,
            type: 'login.failed',
            clientId: client,
            username: 'mallory',
            ip: '203.0.113.7',
            details: { reason: 'unknown_user_or_wrong_password' },
          }),
          event({
            at: NOW + 1,
            type: 'login.succeeded',
            clientId: client,
            userId: 'user-1',
            username: 'alice',
            flowId: 'flow-1',
          }),
          event({
            at: NOW + 1,
            type: 'consent.granted',
            clientId: client,
            userId: 'user-1',
            details: { scope: ['openid'] },
          }),
        ]);
        const listed = await store.audit.list({ clientId: client, limit: 10 });
        assert.deepEqual(
          listed.map((e) => e.type),
          ['consent.granted', 'login.succeeded', 'login.failed'],
        );
        const failed = listed[2]!;
        assert.equal(typeof failed.id, 'number');
        assert.deepEqual(
          { ...failed, id: undefined },
          {
            id: undefined,
            at: NOW,
            type: 'login.failed',
            flowId: null,
            clientId: client,
            userId: null,
            username: 'mallory',
            ip: '203.0.113.7',
            details: { reason: 'unknown_user_or_wrong_password' },
          },
        );
        assert.ok(listed[0]!.id! > listed[1]!.id!, 'ids increase');
      });

      it('filters by type, client, user (id or username), time, and limits', async () => {
        const client = uid('audit-client');
        const other = uid('audit-client');
        await store.audit.insert([
          event({ at: NOW - DAY, type: 'token.issued', clientId: client, userId: 'u-bob' }),
          event({ at: NOW, type: 'token.issued', clientId: client, userId: 'u-bob' }),
          event({ at: NOW, type: 'token.revoked', clientId: client }),
          event({ at: NOW, type: 'login.failed', clientId: other, username: 'bob' }),
        ]);
        const types = (list: AuditEvent[]) => list.map((e) => `${e.type}@${e.at - NOW}`);
        assert.deepEqual(types(await store.audit.list({ clientId: client, types: ['token.issued'], limit: 10 })), [
          'token.issued@0',
          `token.issued@${-DAY}`,
        ]);
        assert.deepEqual(types(await store.audit.list({ clientId: client, since: NOW, limit: 10 })), [
          'token.revoked@0',
          'token.issued@0',
        ]);
        assert.deepEqual(
          types(
            await store.audit.list({ users: ['bob', 'u-bob'], types: ['token.issued', 'login.failed'], limit: 10 }),
          ),
          ['login.failed@0', 'token.issued@0', `token.issued@${-DAY}`],
        );
        assert.equal((await store.audit.list({ clientId: client, limit: 1 })).length, 1);
      });

      it('filters by flow ids (gatehouse flows reads a flow’s events together); none given, none listed', async () => {
        const [one, two, three] = [uid('flow'), uid('flow'), uid('flow')];
        await store.audit.insert([
          event({ at: NOW, type: 'login.succeeded', flowId: one }),
          event({ at: NOW + 1, type: 'token.refused', flowId: two }),
          event({ at: NOW + 2, type: 'token.issued', flowId: one }),
          event({ at: NOW + 3, type: 'login.succeeded', flowId: three }),
        ]);
        const flows = (list: AuditEvent[]) => list.map((e) => `${e.type}@${e.flowId === one ? 'one' : 'two'}`);
        assert.deepEqual(flows(await store.audit.list({ flowIds: [one, two], limit: 10 })), [
          'token.issued@one',
          'token.refused@two',
          'login.succeeded@one',
        ]);
        assert.deepEqual(await store.audit.list({ flowIds: [], limit: 10 }), []);
      });
    });

    describe('persistence', () => {
      it('a closed and reopened store keeps its data', { skip: needsShared }, async () => {
        const fresh = await target.createDatabase();
        try {
          const first = await fresh.open();
          await first.migrate();
          const { client, user, grant } = await seedGrant(first);
          const code = makeCode(grant);
          await first.codes.create(code);
          await first.close();

          const second = await fresh.open();
          try {
            await second.migrate();
            assert.deepEqual(await second.clients.get(client.clientId), client);
            assert.deepEqual(await second.users.getById(user.id), user);
            assert.deepEqual(await second.grants.get(grant.id), grant);
            assert.equal((await second.codes.consume(code.codeHash, NOW)).status, 'consumed');
          } finally {
            await second.close();
          }
        } finally {
          await fresh.destroy();
        }
      });
    });
  });
}

/** Of concurrent `results`, exactly one has the status `won` and every other the status `lost`. */
function assertOneWinner(results: readonly { status: string }[], won: string, lost: string): void {
  assert.equal(
    count(results, (r) => r.status === won),
    1,
  );
  assert.equal(
    count(results, (r) => r.status === lost),
    results.length - 1,
  );
}

function assertOneConsumed(results: Awaited<ReturnType<Store['codes']['consume']>>[]): void {
  assertOneWinner(results, 'consumed', 'replayed');
  // Every replay reports the winner's consumption time.
  const winner = results.find((r) => r.status === 'consumed');
  const consumedAt = winner?.status === 'consumed' ? winner.code.consumedAt : undefined;
  for (const r of results) {
    if (r.status === 'replayed') assert.equal(r.code.consumedAt, consumedAt);
  }
}

/** 20 concurrent rotations of `token`, the i-th through `storeFor(i)`: one wins (assertOneRotated, read through `reader`). */
async function assertConcurrentRotationsOneWins(
  token: RefreshTokenRecord,
  storeFor: (i: number) => Store,
  reader: Store,
): Promise<void> {
  const successors = Array.from({ length: 20 }, (_, i) => makeSuccessor(token, NOW + 1 + i));
  const results = await Promise.all(
    successors.map((successor, i) => storeFor(i).refreshTokens.rotate(token.tokenHash, successor, `jwe-${i}`, NOW + i)),
  );
  await assertOneRotated(reader, token, successors, results);
}

/**
 * Exactly one rotation won; every loser saw the winner's successor; and exactly one successor
 * row was stored (the grant holds the original token and that successor only).
 */
async function assertOneRotated(
  store: Store,
  token: RefreshTokenRecord,
  successors: readonly RefreshTokenRecord[],
  results: readonly RotateRefreshTokenResult[],
): Promise<void> {
  assertOneWinner(results, 'rotated', 'already_rotated');
  const winnerIndex = results.findIndex((r) => r.status === 'rotated');
  const winner = results[winnerIndex];
  assert.ok(winner?.status === 'rotated');
  const successor = successors[winnerIndex];
  assert.ok(successor);
  assert.equal(winner.token.tokenHash, token.tokenHash);
  assert.equal(winner.token.successorHash, successor.tokenHash);
  assert.equal(winner.token.successorEncrypted, `jwe-${winnerIndex}`);
  for (const r of results) {
    if (r.status === 'already_rotated') assert.deepEqual(r.token, winner.token);
  }
  assert.deepEqual(await store.refreshTokens.listByGrant(token.grantId), [winner.token, successor]);
}

/** Byte-wise string order, which is what both databases use for these ASCII ids. */
function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// --- Targets --------------------------------------------------------------------------------

defineContract('SQLite in memory', {
  shared: false,
  interleavedTransactions: false,
  async createDatabase() {
    return { open: () => openStore('sqlite::memory:'), destroy: async () => {} };
  },
});

defineContract('SQLite file (WAL)', {
  shared: true,
  interleavedTransactions: false,
  async createDatabase() {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-store-'));
    const file = join(dir, 'gatehouse.db');
    return {
      open: () => openStore(`sqlite:${file}`),
      destroy: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

// Probe once so that an unreachable server skips the suite (or fails it in CI).
const postgresProbe = await postgresTestUrl();
if (postgresProbe) await dropPostgresSchema(postgresProbe);

defineContract('PostgreSQL', {
  shared: true,
  interleavedTransactions: true,
  ...(postgresProbe ? {} : { skip: postgresSkipMessage() }),
  async createDatabase() {
    const url = await postgresTestUrl();
    if (!url) throw new Error(postgresSkipMessage());
    return { open: () => openStore(url), destroy: () => dropPostgresSchema(url) };
  },
});

// --- openStore specifics (outside the contract) ---------------------------------------------

describe('openStore', () => {
  it('rejects unsupported URLs, naming the accepted schemes', async () => {
    for (const url of ['mysql://user:pw@localhost/db', 'gatehouse.db', 'sqlite:']) {
      await assert.rejects(
        openStore(url),
        /sqlite:PATH, sqlite::memory:, postgres:\/\/\.\.\. or postgresql:\/\/\.\.\./,
      );
    }
  });

  it('does not echo a password in its error', async () => {
    await assert.rejects(openStore('mysql://user:hunter2@localhost/db'), (error: Error) => {
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
  });

  it('configures a SQLite file for WAL, foreign keys, busy timeout, synchronous=NORMAL and temp_store=MEMORY', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-open-'));
    try {
      // A path relative to the working directory, as in `sqlite:./gatehouse.db`.
      const file = join(dir, 'relative.db');
      const store = await openStore(`sqlite:./${relative(process.cwd(), file)}`);
      try {
        assert.ok(store instanceof KyselyStore);
        assert.equal(store.dialect, 'sqlite');
        const pragma = async (name: string) => {
          const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(store.db);
          return Object.values(rows[0] ?? {})[0];
        };
        assert.equal(await pragma('journal_mode'), 'wal');
        assert.equal(await pragma('foreign_keys'), 1);
        assert.equal(await pragma('busy_timeout'), 5000);
        assert.equal(await pragma('synchronous'), 1, 'NORMAL');
        // The statement journal of each group-commit unit's savepoint, in memory (no temp file writes).
        assert.equal(await pragma('temp_store'), 2, 'MEMORY');
        await store.migrate();
        assert.ok(existsSync(file));
      } finally {
        await store.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('accepts sqlite:///absolute/path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-open-'));
    try {
      const file = join(dir, 'absolute.db');
      const store = await openStore(`sqlite://${file}`);
      await store.migrate();
      await store.close();
      assert.ok(existsSync(file));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('puts PostgreSQL tables in the ?schema= schema, with BIGINTs as numbers', {
    skip: postgresProbe ? false : postgresSkipMessage(),
  }, async () => {
    const url = await postgresTestUrl();
    assert.ok(url);
    const schema = new URL(url).searchParams.get('schema');
    const store = await openStore(url);
    try {
      assert.ok(store instanceof KyselyStore);
      assert.equal(store.dialect, 'postgres');
      await store.migrate();
      const { rows } = await sql<{ table_name: string }>`
          select table_name from information_schema.tables where table_schema = ${schema}
          order by table_name`.execute(store.db);
      assert.ok(rows.some((r) => r.table_name === 'authorization_codes'));
      assert.ok(rows.some((r) => r.table_name === 'gatehouse_migrations'));
      const { rows: big } = await sql<{ n: unknown }>`select ${NOW}::bigint as n`.execute(store.db);
      assert.equal(big[0]?.n, NOW);
    } finally {
      await store.close();
      await dropPostgresSchema(url);
    }
  });
});

describe('PostgreSQL named prepared statements', { skip: postgresProbe ? false : postgresSkipMessage() }, () => {
  it("the store's hot statements are prepared once per connection, and keep working after a migration adds a column", async () => {
    const url = await postgresTestUrl();
    assert.ok(url);
    const store = await openStore(url);
    const admin = await openStore(url);
    try {
      assert.ok(store instanceof KyselyStore && admin instanceof KyselyStore);
      await store.migrate();
      const { grant } = await seedGrant(store);
      // One transaction, one connection: the statement it ran is prepared on that connection.
      const prepared = await store.transaction(async (transactional) => {
        assert.deepEqual(await transactional.grants.get(grant.id), grant);
        const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(
          (transactional as KyselyStore).db,
        );
        return rows.map((row) => row.statement);
      });
      assert.ok(
        prepared.some(
          (statement) => statement.startsWith('select') && statement.includes('from "grants" where "id" = $1'),
        ),
        `prepared: ${prepared.join(' | ')}`,
      );
      // What a later version's migration may do while this instance runs: its prepared
      // statements name their columns, so their result type is unchanged.
      await sql`alter table grants add column later_column text`.execute(admin.db);
      for (let attempt = 0; attempt < 5; attempt++) assert.deepEqual(await store.grants.get(grant.id), grant);
    } finally {
      await admin.close();
      await store.close();
      await dropPostgresSchema(url);
    }
  });

  it('?prepared_statements=false sends every statement unnamed', async () => {
    const url = await postgresTestUrl();
    assert.ok(url);
    const store = await openStore(`${url}&prepared_statements=false`);
    try {
      assert.ok(store instanceof KyselyStore);
      await store.migrate();
      const { grant } = await seedGrant(store);
      const prepared = await store.transaction(async (transactional) => {
        assert.deepEqual(await transactional.grants.get(grant.id), grant);
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_prepared_statements`.execute(
          (transactional as KyselyStore).db,
        );
        return rows[0]?.n;
      });
      assert.equal(prepared, 0);
    } finally {
      await store.close();
      await dropPostgresSchema(url);
    }
  });
});

describe('postgresConnectionString', () => {
  it('leaves a URL without schema alone', () => {
    const url = 'postgres://u@h:5432/db?sslmode=disable';
    assert.deepEqual(postgresConnectionString(url), {
      connectionString: url,
      schema: undefined,
      preparedStatements: true,
    });
  });

  it('?prepared_statements=false turns named prepared statements off and is not passed on to the server', () => {
    const off = postgresConnectionString('postgres://u@h/db?prepared_statements=false&sslmode=disable');
    assert.equal(off.preparedStatements, false);
    assert.equal(new URL(off.connectionString).searchParams.get('prepared_statements'), null);
    assert.equal(new URL(off.connectionString).searchParams.get('sslmode'), 'disable');
    const withSchema = postgresConnectionString('postgres://u@h/db?schema=tenant_2&prepared_statements=true');
    assert.equal(withSchema.preparedStatements, true);
    assert.equal(withSchema.schema, 'tenant_2');
    assert.equal(new URL(withSchema.connectionString).searchParams.get('prepared_statements'), null);
    assert.throws(() => postgresConnectionString('postgres://h/db?prepared_statements=maybe'), /prepared_statements/);
  });

  it('turns ?schema= into a search_path startup option, keeping other options', () => {
    const { connectionString, schema } = postgresConnectionString(
      'postgresql://u@h/db?schema=tenant_1&options=-c%20statement_timeout%3D5000&sslmode=require',
    );
    assert.equal(schema, 'tenant_1');
    const params = new URL(connectionString).searchParams;
    assert.equal(params.get('schema'), null);
    assert.equal(params.get('options'), '-c statement_timeout=5000 -c search_path=tenant_1');
    assert.equal(params.get('sslmode'), 'require');
  });

  it('rejects schema names that are not plain identifiers', () => {
    for (const bad of ['a-b', '1abc', 'x;drop', 'a"b', '']) {
      assert.throws(() => postgresConnectionString(`postgres://h/db?schema=${encodeURIComponent(bad)}`));
    }
  });
});
