/**
 * The single implementation of the Store interface, for SQLite and PostgreSQL alike.
 *
 * Every query here is portable between the two dialects (see src/store/schema.ts for the shared
 * column representation). Operations that must hold under concurrency use one conditional
 * statement (UPDATE/DELETE ... WHERE ... RETURNING) or a transaction whose first statement is a
 * write, so that the database's row (PostgreSQL) or write (SQLite) lock orders the callers.
 */
import { createHash } from 'node:crypto';
import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type {
  AccessTokenRecord,
  AuditEvent,
  AuthorizationCode,
  Client,
  Consent,
  ConsumeCodeResult,
  Grant,
  Interaction,
  LogoutDelivery,
  PoolStats,
  ProtectedResource,
  RateLimitHitResult,
  RateLimitPolicy,
  RateLimitState,
  RefreshTokenRecord,
  RotateRefreshTokenResult,
  Session,
  SigningKeyRecord,
  Store,
  StoreChange,
  StoredAuthorizationRequest,
  TokenEndpointAuthMethod,
  User,
} from './store.js';
import type {
  AccessTokensTable,
  AuditEventsTable,
  AuthorizationCodesTable,
  ClientsTable,
  Database,
  Dialect,
  GrantsTable,
  InteractionsTable,
  IntBool,
  LogoutDeliveriesTable,
  ProtectedResourcesTable,
  RefreshTokensTable,
  SessionsTable,
  SigningKeysTable,
  UsersTable,
} from './schema.js';
import { migrate } from './migrations.js';
import { ChangeHub, PostgresChangeListener } from './change-feed.js';
import { runCleanup, type GrantSweep } from './cleanup.js';

export interface KyselyStoreOptions {
  /**
   * PostgreSQL: where changes to cached data are announced to the other instances (NOTIFY on
   * `channel`) and heard from them (a dedicated connection to `connectionString`).
   */
  notifications?: { connectionString: string; channel: string; /** Whether to LISTEN too (default true). */ listen?: boolean };
  /** Reads the connection pool's state (PostgreSQL, for /metrics); absent without a pool. */
  readPoolStats?: () => PoolStats;
  /**
   * SQLite: the better-sqlite3 connection under `db`, to run compiled statements on directly
   * while no transaction is open (see runCompiled). Never given for a transaction's store.
   */
  sqliteConnection?: SqliteConnection;
}

/** What runCompiled needs of a better-sqlite3 connection (its `prepare` caches statements). */
export interface SqliteConnection {
  readonly inTransaction: boolean;
  prepare(sql: string): { readonly reader: boolean; all(...parameters: unknown[]): unknown[]; run(...parameters: unknown[]): unknown };
}

export class KyselyStore implements Store {
  /**
   * @param db Kysely instance owned by the store from now on (`close()` destroys it). On
   *   PostgreSQL its pool must parse BIGINT (int8) to numbers, as openStore() configures it.
   * @param dialect Which database `db` talks to.
   */
  private readonly changeHub = new ChangeHub();
  private readonly notifications: KyselyStoreOptions['notifications'];
  private changeListener: PostgresChangeListener | undefined;
  private readonly readPoolStats: (() => PoolStats) | undefined;
  private readonly sqliteConnection: SqliteConnection | undefined;

  constructor(
    /** Exposed for maintenance jobs (e.g. cleanup of expired rows) and tests. */
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    options: KyselyStoreOptions = {},
  ) {
    this.notifications = options.notifications;
    this.readPoolStats = options.readPoolStats;
    this.sqliteConnection = db.isTransaction ? undefined : options.sqliteConnection;
    this.changes.crossProcess = this.notifications !== undefined && this.notifications.listen !== false;
  }

  async migrate(): Promise<void> {
    await migrate(this.db, this.dialect);
  }

  async close(): Promise<void> {
    await this.changeListener?.stop();
    this.changeListener = undefined;
    await this.db.destroy();
  }

  poolStats(): PoolStats | null {
    return this.readPoolStats?.() ?? null;
  }

  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  async transaction<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(new KyselyStore(trx, this.dialect, this.readPoolStats ? { readPoolStats: this.readPoolStats } : {})));
  }

  /**
   * The statements of every token request and authorization (reads by key, token inserts, the
   * conditional updates of redemption and rotation) are written as SQL once, not built with
   * Kysely's query builder each time: building and compiling cost more CPU than SQLite takes to
   * run them (bench/statements.ts, bench/profile.ts). They run through Kysely's executor, on the
   * transaction's connection when there is one, or directly on SQLite (runCompiled), which
   * builds no CompiledQuery. SQL is written with `?` placeholders,
   * which are numbered for PostgreSQL once per text; every name is quoted, both dialects agree.
   * On PostgreSQL they become named prepared statements (see preparedStatementName).
   */
  private compiled<R>(text: string, parameters: readonly unknown[]): CompiledQuery<R> {
    let dialectText = text;
    if (this.dialect === 'postgres') {
      let prepared = POSTGRES_SQL.get(text);
      if (prepared === undefined) {
        prepared = numberPlaceholders(text);
        if (POSTGRES_SQL.size < COMPILED_SQL_MAX) {
          POSTGRES_SQL.set(text, prepared);
          PREPARED_NAMES.set(prepared, `gatehouse_${createHash('sha256').update(prepared).digest('hex').slice(0, 24)}`);
        }
      }
      dialectText = prepared;
    }
    return CompiledQuery.raw(dialectText, parameters as unknown[]) as CompiledQuery<R>;
  }

  /**
   * Runs a compiled statement and returns its rows. On SQLite, while no transaction is open on
   * the connection, directly and synchronously: better-sqlite3 runs a statement to completion
   * before any other JavaScript, so nothing can interleave with it, and Kysely's executor (a
   * mutex, a connection provider and several promises per query) is skipped. While a transaction
   * is open (a request is between BEGIN and COMMIT), through Kysely, which waits for it to end:
   * a statement run directly then would join that transaction.
   */
  private async runCompiled<R>(db: Kysely<Database>, text: string, parameters: readonly unknown[]): Promise<R[]> {
    const direct = db === this.db ? this.sqliteConnection : undefined;
    if (direct !== undefined && !direct.inTransaction) {
      const statement = direct.prepare(text);
      if (statement.reader) return statement.all(...parameters) as R[];
      statement.run(...parameters);
      return [];
    }
    return (await db.executeQuery(this.compiled<R>(text, parameters))).rows;
  }

  /** The first row a compiled statement returns (a read by key, or an UPDATE ... RETURNING). */
  private async first<R>(text: string, parameters: readonly unknown[]): Promise<R | undefined> {
    return (await this.runCompiled<R>(this.db, text, parameters))[0];
  }

  /** INSERT of one row (see insertStatement). */
  private async insertRow(db: Kysely<Database>, table: keyof Database, row: object): Promise<void> {
    const { text, values } = insertStatement(table, row);
    await this.runCompiled(db, text, values);
  }

  /**
   * Inserts rows all together or not at all. On PostgreSQL as one statement (the first inserts in
   * WITH clauses; foreign keys are checked at the end of the statement, so a row may reference
   * one inserted before it): one round trip instead of four (BEGIN, the inserts, COMMIT). On
   * SQLite, where a statement costs no round trip, in a transaction.
   */
  private async insertRowsTogether(rows: ReadonlyArray<readonly [keyof Database, object]>): Promise<void> {
    if (this.dialect !== 'postgres') {
      // (A transaction's store has no direct connection: see the constructor.)
      const direct = this.sqliteConnection;
      if (direct !== undefined && !direct.inTransaction) {
        // Synchronously from BEGIN to COMMIT (see runCompiled): no other request's statement
        // can run in between, so none joins this transaction.
        direct.prepare('begin').run();
        try {
          for (const [table, row] of rows) {
            const { text, values } = insertStatement(table, row);
            direct.prepare(text).run(...values);
          }
          direct.prepare('commit').run();
        } catch (error) {
          if (direct.inTransaction) direct.prepare('rollback').run();
          throw error;
        }
        return;
      }
      await this.atomically(async (trx) => {
        for (const [table, row] of rows) await this.insertRow(trx, table, row);
      });
      return;
    }
    const parts: string[] = [];
    const values: unknown[] = [];
    rows.forEach(([table, row], index) => {
      const insert = insertStatement(table, row);
      parts.push(index < rows.length - 1 ? `"inserted_${index}" as (${insert.text})` : insert.text);
      values.push(...insert.values);
    });
    const text = rows.length > 1 ? `with ${parts.slice(0, -1).join(', ')} ${parts[parts.length - 1]}` : parts[0]!;
    await this.db.executeQuery(this.compiled(text, values));
  }

  /** A transaction of its own, or the enclosing one when this store is already transactional. */
  private atomically<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this.db as Transaction<Database>);
    return this.db.transaction().execute(fn);
  }

  readonly changes: { crossProcess: boolean; subscribe: Store['changes']['subscribe'] } = {
    crossProcess: false,
    subscribe: (listener) => {
      const remove = this.changeHub.add(listener);
      if (this.notifications && this.notifications.listen !== false && !this.changeListener) {
        this.changeListener = new PostgresChangeListener(this.notifications, this.changeHub);
        this.changeListener.start();
      }
      return remove;
    },
  };

  private readonly grantSweep: GrantSweep = { after: undefined };

  readonly cleanup: Store['cleanup'] = {
    run: (now, policy, options = {}) => runCleanup(this.db, this.dialect, now, policy, options.wait ?? false, this.grantSweep),
  };

  /**
   * Runs `write`, a change to data instances cache, and announces `change`: on PostgreSQL with a
   * NOTIFY in the same transaction (delivered to the other instances when it commits), and to
   * this process's own listeners once it has committed.
   */
  private async changing<T>(change: StoreChange, write: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    const notifications = this.notifications;
    const result = notifications
      ? await this.db.transaction().execute(async (trx) => {
          const written = await write(trx);
          await sql`select pg_notify(${notifications.channel}, ${JSON.stringify(change)})`.execute(trx);
          return written;
        })
      : await write(this.db);
    this.changeHub.emit(change);
    return result;
  }

  readonly clients: Store['clients'] = {
    create: async (client) => {
      await this.changing({ kind: 'client', clientId: client.clientId }, (db) => db.insertInto('clients').values(clientToRow(client)).execute());
    },

    upsert: async (client) => {
      await this.changing({ kind: 'client', clientId: client.clientId }, (db) => db
        .insertInto('clients')
        .values(clientToRow(client))
        .onConflict((oc) =>
          oc.column('client_id').doUpdateSet((eb) => ({
            client_secret_hash: eb.ref('excluded.client_secret_hash'),
            client_name: eb.ref('excluded.client_name'),
            redirect_uris: eb.ref('excluded.redirect_uris'),
            grant_types: eb.ref('excluded.grant_types'),
            response_types: eb.ref('excluded.response_types'),
            token_endpoint_auth_method: eb.ref('excluded.token_endpoint_auth_method'),
            scope: eb.ref('excluded.scope'),
            require_pkce: eb.ref('excluded.require_pkce'),
            id_token_signed_response_alg: eb.ref('excluded.id_token_signed_response_alg'),
            id_token_claims: eb.ref('excluded.id_token_claims'),
            subject_type: eb.ref('excluded.subject_type'),
            post_logout_redirect_uris: eb.ref('excluded.post_logout_redirect_uris'),
            backchannel_logout_uri: eb.ref('excluded.backchannel_logout_uri'),
            backchannel_logout_session_required: eb.ref('excluded.backchannel_logout_session_required'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .execute());
    },

    get: async (clientId) => {
      const row = await this.db
        .selectFrom('clients')
        .selectAll()
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return row && rowToClient(row);
    },

    list: async () => {
      const rows = await this.db.selectFrom('clients').selectAll().orderBy('client_id').execute();
      return rows.map(rowToClient);
    },

    delete: async (clientId) => {
      const result = await this.changing({ kind: 'client', clientId }, (db) =>
        db.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst(),
      );
      return result.numDeletedRows > 0n;
    },
  };

  readonly users: Store['users'] = {
    create: async (user) => {
      await this.db.insertInto('users').values(userToRow(user)).execute();
    },

    // One statement, so that concurrent upserts of one username cannot both insert.
    upsert: async (user) => {
      const row = await this.db
        .insertInto('users')
        .values(userToRow(user))
        .onConflict((oc) =>
          oc.column('username').doUpdateSet((eb) => ({
            password_hash: eb.ref('excluded.password_hash'),
            email: eb.ref('excluded.email'),
            name: eb.ref('excluded.name'),
            claims: eb.ref('excluded.claims'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return rowToUser(row);
    },

    getById: async (id) => {
      const row = await this.db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && rowToUser(row);
    },

    getByUsername: async (username) => {
      const row = await this.db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', username)
        .executeTakeFirst();
      return row && rowToUser(row);
    },

    list: async () => {
      const rows = await this.db.selectFrom('users').selectAll().orderBy('username').execute();
      return rows.map(rowToUser);
    },

    delete: async (username) => {
      const result = await this.db
        .deleteFrom('users')
        .where('username', '=', username)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };

  readonly sessions: Store['sessions'] = {
    create: async (session) => {
      await this.db.insertInto('sessions').values(sessionToRow(session)).execute();
    },

    get: async (idHash, now) => {
      const row = await this.first<Selectable<SessionsTable>>(`select ${SESSION_COLUMNS} from "sessions" where "id_hash" = ? and "expires_at" > ?`, [idHash, now]);
      return row && rowToSession(row);
    },

    delete: async (idHash) => {
      await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    },
  };

  readonly interactions: Store['interactions'] = {
    create: async (interaction) => {
      await this.db.insertInto('interactions').values(interactionToRow(interaction)).execute();
    },

    get: async (id, now) => {
      const row = await this.db
        .selectFrom('interactions')
        .selectAll()
        .where('id', '=', id)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row && rowToInteraction(row);
    },

    // The DELETE itself decides the winner: only one statement can remove the row.
    consume: async (id) => {
      const removed = await this.db
        .deleteFrom('interactions')
        .where('id', '=', id)
        .returning('id')
        .executeTakeFirst();
      return removed !== undefined;
    },

    // The LIMIT stops the count at the cap: a full table costs no more than a full cap.
    countLive: async (now, atMost) => {
      const live = this.db.selectFrom('interactions').select('id').where('expires_at', '>', now).limit(atMost).as('live');
      const row = await this.db.selectFrom(live).select((eb) => eb.fn.countAll<number | string | bigint>().as('count')).executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };

  readonly consents: Store['consents'] = {
    get: async (userId, clientId) => {
      const row = await this.first<Selectable<Database['consents']>>(`select ${CONSENT_COLUMNS} from "consents" where "user_id" = ? and "client_id" = ?`, [userId, clientId]);
      return (
        row && {
          userId: row.user_id,
          clientId: row.client_id,
          scopes: decodeStringArray(row.scopes, 'consents.scopes'),
          grantedAt: row.granted_at,
        }
      );
    },

    grant: async (consent) => {
      await this.atomically(async (trx) => {
        // The upsert inserts the consent or, when one exists, locks its row (PostgreSQL) or
        // the database (SQLite) before we read it, so concurrent grants merge one after the
        // other instead of overwriting each other. Its no-op update returns the stored scopes.
        const stored = await trx
          .insertInto('consents')
          .values({
            user_id: consent.userId,
            client_id: consent.clientId,
            scopes: encodeJson(uniqueScopes(consent.scopes)),
            granted_at: consent.grantedAt,
          })
          .onConflict((oc) =>
            oc
              .columns(['user_id', 'client_id'])
              .doUpdateSet((eb) => ({ scopes: eb.ref('consents.scopes') })),
          )
          .returning('scopes')
          .executeTakeFirstOrThrow();
        const merged = uniqueScopes([
          ...decodeStringArray(stored.scopes, 'consents.scopes'),
          ...consent.scopes,
        ]);
        await trx
          .updateTable('consents')
          .set({ scopes: encodeJson(merged), granted_at: consent.grantedAt })
          .where('user_id', '=', consent.userId)
          .where('client_id', '=', consent.clientId)
          .execute();
      });
    },
  };

  readonly grants: Store['grants'] = {
    create: async (grant) => {
      await this.db.insertInto('grants').values(grantToRow(grant)).execute();
    },

    get: async (id) => {
      const row = await this.first<Selectable<GrantsTable>>(`select ${GRANT_COLUMNS} from "grants" where "id" = ?`, [id]);
      return row && rowToGrant(row);
    },

    // `revoked_at IS NULL` keeps the first revocation time, which makes this idempotent.
    revoke: async (id, at) => {
      await this.atomically(async (trx) => {
        await trx
          .updateTable('grants')
          .set({ revoked_at: at })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .execute();
        await trx
          .updateTable('access_tokens')
          .set({ revoked_at: at })
          .where('grant_id', '=', id)
          .where('revoked_at', 'is', null)
          .execute();
      });
    },
  };

  readonly codes: Store['codes'] = {
    create: async (code) => {
      await this.db.insertInto('authorization_codes').values(codeToRow(code)).execute();
    },

    issue: async (grant, code) => {
      await this.insertRowsTogether([
        ['grants', grantToRow(grant)],
        ['authorization_codes', codeToRow(code)],
      ]);
    },

    get: async (codeHash) => {
      const row = await this.first<Selectable<AuthorizationCodesTable>>(`select ${CODE_COLUMNS} from "authorization_codes" where "code_hash" = ?`, [codeHash]);
      return row ? rowToCode(row) : undefined;
    },

    consume: async (codeHash, now) => this.consumeCode(codeHash, now),
  };

  readonly accessTokens: Store['accessTokens'] = {
    create: async (token) => {
      await this.insertRow(this.db, 'access_tokens', accessTokenToRow(token));
    },

    get: async (jti) => {
      const row = await this.first<Selectable<AccessTokensTable>>(`select ${ACCESS_TOKEN_COLUMNS} from "access_tokens" where "jti" = ?`, [jti]);
      return row && rowToAccessToken(row);
    },

    listByGrant: async (grantId) => {
      const rows = await this.db
        .selectFrom('access_tokens')
        .selectAll()
        .where('grant_id', '=', grantId)
        .orderBy('created_at')
        .orderBy('jti')
        .execute();
      return rows.map(rowToAccessToken);
    },

    // `revoked_at IS NULL` keeps the first revocation time and tells a change from a no-op.
    revoke: async (jti, at) => {
      const result = await this.db
        .updateTable('access_tokens')
        .set({ revoked_at: at })
        .where('jti', '=', jti)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };

  readonly refreshTokens: Store['refreshTokens'] = {
    create: async (token) => {
      await this.insertRow(this.db, 'refresh_tokens', refreshTokenToRow(token));
    },

    get: async (tokenHash) => {
      const row = await this.first<Selectable<RefreshTokensTable>>(`select ${REFRESH_TOKEN_COLUMNS} from "refresh_tokens" where "token_hash" = ?`, [tokenHash]);
      return row && rowToRefreshToken(row);
    },

    listByGrant: async (grantId) => {
      const rows = await this.db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('grant_id', '=', grantId)
        .orderBy('created_at')
        .orderBy('token_hash')
        .execute();
      return rows.map(rowToRefreshToken);
    },

    rotate: async (tokenHash, successor, successorEncrypted, now) =>
      this.rotateRefreshToken(tokenHash, successor, successorEncrypted, now),
  };

  readonly resources: Store['resources'] = {
    upsert: async (resource) => {
      await this.changing({ kind: 'resource', identifier: resource.identifier }, (db) => db
        .insertInto('protected_resources')
        .values(resourceToRow(resource))
        .onConflict((oc) =>
          oc.column('identifier').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            scopes: eb.ref('excluded.scopes'),
            introspection_client_ids: eb.ref('excluded.introspection_client_ids'),
            created_at: eb.ref('excluded.created_at'),
          })),
        )
        .execute());
    },

    get: async (identifier) => {
      const row = await this.db
        .selectFrom('protected_resources')
        .selectAll()
        .where('identifier', '=', identifier)
        .executeTakeFirst();
      return row && rowToResource(row);
    },

    list: async () => {
      const rows = await this.db
        .selectFrom('protected_resources')
        .selectAll()
        .orderBy('identifier')
        .execute();
      return rows.map(rowToResource);
    },

    delete: async (identifier) => {
      const result = await this.changing({ kind: 'resource', identifier }, (db) => db
        .deleteFrom('protected_resources')
        .where('identifier', '=', identifier)
        .executeTakeFirst());
      return result.numDeletedRows > 0n;
    },
  };

  readonly signingKeys: Store['signingKeys'] = {
    list: async () => {
      const rows = await this.db
        .selectFrom('signing_keys')
        .selectAll()
        .orderBy('created_at')
        .orderBy('kid')
        .execute();
      return rows.map(rowToSigningKey);
    },

    get: async (kid) => {
      const row = await this.db.selectFrom('signing_keys').selectAll().where('kid', '=', kid).executeTakeFirst();
      return row ? rowToSigningKey(row) : undefined;
    },

    create: async (key) => {
      await this.changing({ kind: 'signing_keys' }, (db) => db.insertInto('signing_keys').values(signingKeyToRow(key)).execute());
    },

    retire: async (kid, at) => {
      const result = await this.changing({ kind: 'signing_keys' }, (db) =>
        db.updateTable('signing_keys').set({ retired_at: at }).where('kid', '=', kid).where('retired_at', 'is', null).executeTakeFirst(),
      );
      return result.numUpdatedRows > 0n;
    },
  };

  readonly logout: Store['logout'] = {
    sessionClientIds: async (sid) => {
      const rows = await this.db
        .selectFrom('grants')
        .select('client_id')
        .where('sid', '=', sid)
        .groupBy('client_id')
        .orderBy('client_id')
        .execute();
      return rows.map((row) => row.client_id);
    },

    // The DELETE decides the one caller that ends the session; its deliveries are queued in
    // the same transaction, so a logout is never recorded without them, nor twice.
    endSession: async (sessionIdHash, deliveries) =>
      this.atomically(async (trx) => {
        const deleted = await trx
          .deleteFrom('sessions')
          .where('id_hash', '=', sessionIdHash)
          .returning('id_hash')
          .executeTakeFirst();
        if (!deleted) return false;
        if (deliveries.length > 0) {
          await trx.insertInto('logout_deliveries').values(deliveries.map(logoutDeliveryToRow)).execute();
        }
        return true;
      }),
  };

  readonly logoutDeliveries: Store['logoutDeliveries'] = {
    get: async (id) => {
      const row = await this.db
        .selectFrom('logout_deliveries')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && rowToLogoutDelivery(row);
    },

    list: async (options = {}) => {
      let query = this.db.selectFrom('logout_deliveries').selectAll();
      if (options.failed) query = query.where('delivered_at', 'is', null).where('last_error', 'is not', null);
      query = query.orderBy('created_at', 'desc').orderBy('id');
      if (options.limit !== undefined) query = query.limit(options.limit);
      return (await query.execute()).map(rowToLogoutDelivery);
    },

    listDue: async (now, limit) => {
      const rows = await this.db
        .selectFrom('logout_deliveries')
        .selectAll()
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(rowToLogoutDelivery);
    },

    // `next_attempt_at <= now` in the UPDATE itself decides the one worker that gets the
    // attempt; moving it to the end of the lease takes the delivery out of everyone's scan.
    claim: async (id, now, leaseUntil) => {
      const row = await this.db
        .updateTable('logout_deliveries')
        .set((eb) => ({ next_attempt_at: leaseUntil, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id)
        .where('next_attempt_at', '<=', now)
        .returningAll()
        .executeTakeFirst();
      return row && rowToLogoutDelivery(row);
    },

    // `attempts = attempt`: the claim still holds (nobody claimed the delivery again since).
    finish: async (id, attempt, outcome) => {
      const result = await this.db
        .updateTable('logout_deliveries')
        .set({
          delivered_at: outcome.deliveredAt,
          next_attempt_at: outcome.nextAttemptAt,
          last_error: outcome.lastError,
          logout_token: outcome.logoutToken,
        })
        .where('id', '=', id)
        .where('attempts', '=', attempt)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    release: async (id, attempt, now) => {
      const result = await this.db
        .updateTable('logout_deliveries')
        .set((eb) => ({ next_attempt_at: now, attempts: eb('attempts', '-', 1) }))
        .where('id', '=', id)
        .where('attempts', '=', attempt)
        .where('delivered_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };

  readonly rateLimits: Store['rateLimits'] = {
    get: async (keys, now) => {
      if (keys.length === 0) return [];
      const rows = await this.runCompiled<Pick<Selectable<Database['rate_limits']>, 'key' | 'attempts' | 'blocked_until'>>(
        this.db,
        `select "key", "attempts", "blocked_until" from "rate_limits" where "key" in (${keys.map(() => '?').join(', ')}) and "expires_at" > ?`,
        [...keys, now],
      );
      return rows.map((row) => ({ key: row.key, attempts: row.attempts, blockedUntil: row.blocked_until }));
    },

    hit: async (entries, now, options) => this.hitRateLimits(entries, now, options),

    // The UPDATE takes the row lock (PostgreSQL) or the write lock (SQLite) before the block is
    // recomputed from the count it returned, so a concurrent hit or release waits for it.
    release: async (key, policy, now) => {
      await this.db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('rate_limits')
          .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
          .where('key', '=', key)
          .where('attempts', '>', 0)
          .where('expires_at', '>', now)
          .returning(['attempts', 'last_at'])
          .executeTakeFirst();
        if (!row) return;
        const block = row.attempts > 0 ? policy.blockMs(row.attempts) : 0;
        const blockedUntil = block > 0 ? row.last_at + block : 0;
        await trx
          .updateTable('rate_limits')
          .set({ blocked_until: blockedUntil, expires_at: Math.max(blockedUntil, row.last_at + policy.forgetAfterMs) })
          .where('key', '=', key)
          .execute();
      });
    },

    reset: async (key) => {
      await this.db.deleteFrom('rate_limits').where('key', '=', key).execute();
    },

    purge: async (now) => {
      const result = await this.db.deleteFrom('rate_limits').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };

  readonly audit: Store['audit'] = {
    insert: async (events) => {
      if (events.length === 0) return;
      await this.db.insertInto('audit_events').values(events.map(auditEventToRow)).execute();
    },

    list: async (filter) => {
      let query = this.db.selectFrom('audit_events').selectAll();
      if (filter.types !== undefined && filter.types.length > 0) query = query.where('type', 'in', filter.types);
      if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
      const users = filter.users;
      if (users !== undefined && users.length > 0) {
        query = query.where((eb) => eb.or([eb('user_id', 'in', users), eb('username', 'in', users)]));
      }
      if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
      const rows = await query.orderBy('at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(rowToAuditEvent);
    },
  };

  /**
   * Per key, the upsert is the first statement and decides: it inserts the counter or, unless
   * the key is blocked (`unlessBlocked`), counts the attempt (from 1 again once the counter was
   * forgotten). Its row lock (PostgreSQL) or the write lock (SQLite) is held until commit, so
   * the block computed from the returned count is written before any other caller counts.
   * Keys are taken in sorted order, so two callers never wait for each other's rows.
   */
  private async hitRateLimits(
    entries: Array<{ key: string; policy: RateLimitPolicy }>,
    now: number,
    options: { unlessBlocked: boolean },
  ): Promise<RateLimitHitResult> {
    const order = entries.map((_, index) => index).sort((a, b) => (entries[a]!.key < entries[b]!.key ? -1 : entries[a]!.key > entries[b]!.key ? 1 : 0));
    try {
      return await this.db.transaction().execute(async (trx) => {
        const states: RateLimitState[] = [];
        for (const index of order) {
          const { key, policy } = entries[index]!;
          const row = await trx
            .insertInto('rate_limits')
            .values({ key, attempts: 1, last_at: now, blocked_until: 0, expires_at: now + policy.forgetAfterMs })
            .onConflict((oc) => {
              const update = oc.column('key').doUpdateSet({
                attempts: sql<number>`case when ${sql.ref('rate_limits.expires_at')} <= ${now} then 1 else ${sql.ref('rate_limits.attempts')} + 1 end`,
                last_at: now,
              });
              return options.unlessBlocked ? update.where(sql.ref('rate_limits.blocked_until'), '<=', now) : update;
            })
            .returning('attempts')
            .executeTakeFirst();
          if (!row) {
            const blocked = await trx.selectFrom('rate_limits').select('blocked_until').where('key', '=', key).executeTakeFirstOrThrow();
            throw new RateLimitBlocked(blocked.blocked_until);
          }
          const block = policy.blockMs(row.attempts);
          const blockedUntil = block > 0 ? now + block : 0;
          await trx
            .updateTable('rate_limits')
            .set({ blocked_until: blockedUntil, expires_at: Math.max(blockedUntil, now + policy.forgetAfterMs) })
            .where('key', '=', key)
            .execute();
          states[index] = { key, attempts: row.attempts, blockedUntil };
        }
        return { counted: true as const, states };
      });
    } catch (error) {
      // Thrown inside the transaction so that the keys counted before it are rolled back.
      if (error instanceof RateLimitBlocked) return { counted: false, blockedUntil: error.blockedUntil };
      throw error;
    }
  }

  /**
   * The conditional UPDATE is the whole of the atomicity: of any number of concurrent callers,
   * exactly one sees `consumed_at IS NULL` and gets the row back. The follow-up SELECT only
   * tells a replay (row exists) from an unknown code.
   */
  private async consumeCode(codeHash: string, now: number): Promise<ConsumeCodeResult> {
    const consumed = await this.first<Selectable<AuthorizationCodesTable>>(
      `update "authorization_codes" set "consumed_at" = ? where "code_hash" = ? and "consumed_at" is null returning ${CODE_COLUMNS}`,
      [now, codeHash],
    );
    if (consumed) return { status: 'consumed', code: rowToCode(consumed) };

    const existing = await this.first<Selectable<AuthorizationCodesTable>>(`select ${CODE_COLUMNS} from "authorization_codes" where "code_hash" = ?`, [codeHash]);
    return existing ? { status: 'replayed', code: rowToCode(existing) } : { status: 'not_found' };
  }

  /**
   * As with codes, the conditional UPDATE decides the one winner: on PostgreSQL it takes the
   * row lock, so concurrent callers wait for the winner's commit and then find `rotated_at` set
   * (READ COMMITTED re-checks the WHERE against the committed row); on SQLite the transaction
   * holds the single connection (or, across connections, the write lock). The successor is
   * inserted in the same transaction, so a token is never marked rotated without its successor
   * existing, nor the other way round.
   */
  private async rotateRefreshToken(
    tokenHash: string,
    successor: RefreshTokenRecord,
    successorEncrypted: string,
    now: number,
  ): Promise<RotateRefreshTokenResult> {
    const rotated = await this.atomically(async (trx) => {
      const [row] = await this.runCompiled<Selectable<RefreshTokensTable>>(
        trx,
        `update "refresh_tokens" set "rotated_at" = ?, "successor_hash" = ?, "successor_encrypted" = ? where "token_hash" = ? and "rotated_at" is null returning ${REFRESH_TOKEN_COLUMNS}`,
        [now, successor.tokenHash, successorEncrypted, tokenHash],
      );
      if (row) await this.insertRow(trx, 'refresh_tokens', refreshTokenToRow(successor));
      return row;
    });
    if (rotated) return { status: 'rotated', token: rowToRefreshToken(rotated) };

    // Read after the losing transaction ended: the winner, if any, has committed by now (its
    // row lock made our UPDATE wait for it), so the row carries the winner's successor.
    const existing = await this.first<Selectable<RefreshTokensTable>>(`select ${REFRESH_TOKEN_COLUMNS} from "refresh_tokens" where "token_hash" = ?`, [tokenHash]);
    return existing
      ? { status: 'already_rotated', token: rowToRefreshToken(existing) }
      : { status: 'not_found' };
  }
}

// --- Compiled statements --------------------------------------------------------------------

/** Distinct SQL texts kept; the store has a few dozen (rate-limit reads vary by key count). */
const COMPILED_SQL_MAX = 256;
const INSERT_SQL = new Map<string, string>();
/** PostgreSQL text of each compiled statement, and the name it is prepared under. */
const POSTGRES_SQL = new Map<string, string>();
const PREPARED_NAMES = new Map<string, string>();

/**
 * The name a compiled statement's PostgreSQL text is prepared under on each connection, or
 * undefined for any other query (Kysely-built ones, DDL, BEGIN/COMMIT). Preparing once per
 * connection spares PostgreSQL parsing and planning the statement on every execution, and the
 * client sending it: a third of the database's CPU per code flow in the benchmark. The name is
 * derived from the text, so every connection and instance agrees on it.
 */
export function preparedStatementName(text: string): string | undefined {
  return PREPARED_NAMES.get(text);
}

/**
 * The quoted column list of a table, complete (the type requires every column): a prepared
 * statement selects the columns it names, so a later migration adding a column leaves its result
 * type unchanged (PostgreSQL refuses a prepared `select *` whose columns changed).
 */
function columnList<Row>(columns: Record<keyof Row, true>): string {
  return Object.keys(columns)
    .map((column) => `"${column}"`)
    .join(', ');
}

const SESSION_COLUMNS = columnList<SessionsTable>({ id_hash: true, sid: true, user_id: true, auth_time: true, created_at: true, expires_at: true });
const CONSENT_COLUMNS = columnList<Database['consents']>({ user_id: true, client_id: true, scopes: true, granted_at: true });
const GRANT_COLUMNS = columnList<GrantsTable>({
  id: true, flow_id: true, client_id: true, user_id: true, scope: true, sid: true, created_at: true, revoked_at: true,
});
const CODE_COLUMNS = columnList<AuthorizationCodesTable>({
  code_hash: true, grant_id: true, flow_id: true, client_id: true, user_id: true, redirect_uri: true, redirect_uri_provided: true,
  scope: true, code_challenge: true, code_challenge_method: true, nonce: true, resources: true, auth_time: true, created_at: true,
  expires_at: true, consumed_at: true,
});
const ACCESS_TOKEN_COLUMNS = columnList<AccessTokensTable>({
  jti: true, grant_id: true, flow_id: true, client_id: true, user_id: true, scope: true, audience: true, created_at: true,
  expires_at: true, revoked_at: true,
});
const REFRESH_TOKEN_COLUMNS = columnList<RefreshTokensTable>({
  token_hash: true, grant_id: true, flow_id: true, client_id: true, user_id: true, scope: true, resources: true, auth_time: true,
  created_at: true, expires_at: true, family_expires_at: true, rotated_at: true, successor_hash: true, successor_encrypted: true,
});

/** INSERT of one row: the column list is the row object's keys (each *ToRow builds them in one order). */
function insertStatement(table: keyof Database, row: object): { text: string; values: unknown[] } {
  const columns = Object.keys(row);
  const signature = `${table}\0${columns.join('\0')}`;
  let text = INSERT_SQL.get(signature);
  if (text === undefined) {
    text = `insert into "${table}" (${columns.map((column) => `"${column}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`;
    if (INSERT_SQL.size < COMPILED_SQL_MAX) INSERT_SQL.set(signature, text);
  }
  // A column left undefined is NULL (no *ToRow leaves one so; a driver would refuse undefined).
  const values = Object.values(row).map((value: unknown) => (value === undefined ? null : value));
  return { text, values };
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the store's SQL has no `?` in literals). */
function numberPlaceholders(text: string): string {
  let index = 0;
  return text.replace(/\?/g, () => `$${++index}`);
}

// --- Value encoding -------------------------------------------------------------------------

function encodeJson(value: unknown): string {
  return JSON.stringify(value);
}

/** Decodes a JSON string array, failing loudly on corrupt data rather than passing it on. */
function decodeStringArray(text: string, column: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`Corrupt ${column} value: expected a JSON array of strings`);
  }
  return value;
}

function decodeAuthorizationRequest(text: string): StoredAuthorizationRequest {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('Corrupt interactions.request value: expected a JSON object');
  }
  const request = value as Partial<StoredAuthorizationRequest>;
  // Interactions stored by older versions (a rolling upgrade) lack the newer fields: no
  // resource indicators, no max_age, no id_token_hint, no ui_locales.
  return {
    ...request,
    resources: Array.isArray(request.resources) ? request.resources : [],
    maxAge: typeof request.maxAge === 'number' ? request.maxAge : null,
    idTokenHintSub: typeof request.idTokenHintSub === 'string' ? request.idTokenHintSub : null,
    uiLocales: Array.isArray(request.uiLocales) ? request.uiLocales : [],
  } as StoredAuthorizationRequest;
}

/** Decodes a JSON object (user claims), failing loudly on corrupt data. */
function decodeObject(text: string, column: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`Corrupt ${column} value: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * The sid of a session row written without one (by a version older than migration 0003 during
 * a rolling upgrade): derived from the id hash, one-way, so it is stable and reveals nothing.
 */
function legacySid(idHash: string): string {
  return createHash('sha256').update(`gatehouse sid\0${idHash}`).digest().subarray(0, 16).toString('base64url');
}

function toIntBool(value: boolean): IntBool {
  return value ? 1 : 0;
}

function fromIntBool(value: number): boolean {
  return value === 1;
}

/** Scopes in first-seen order without duplicates. */
function uniqueScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)];
}

// --- Row mapping ----------------------------------------------------------------------------

function clientToRow(client: Client): ClientsTable {
  return {
    client_id: client.clientId,
    client_secret_hash: client.clientSecretHash,
    client_name: client.clientName,
    redirect_uris: encodeJson(client.redirectUris),
    grant_types: encodeJson(client.grantTypes),
    response_types: encodeJson(client.responseTypes),
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    scope: client.scope,
    require_pkce: toIntBool(client.requirePkce),
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    id_token_claims: client.idTokenClaims === undefined ? null : toIntBool(client.idTokenClaims),
    subject_type: client.subjectType,
    post_logout_redirect_uris: encodeJson(client.postLogoutRedirectUris),
    backchannel_logout_uri: client.backchannelLogoutUri,
    backchannel_logout_session_required: toIntBool(client.backchannelLogoutSessionRequired),
    created_at: client.createdAt,
  };
}

function rowToClient(row: Selectable<ClientsTable>): Client {
  return {
    clientId: row.client_id,
    clientSecretHash: row.client_secret_hash,
    clientName: row.client_name,
    redirectUris: decodeStringArray(row.redirect_uris, 'clients.redirect_uris'),
    grantTypes: decodeStringArray(row.grant_types, 'clients.grant_types'),
    responseTypes: decodeStringArray(row.response_types, 'clients.response_types'),
    tokenEndpointAuthMethod: row.token_endpoint_auth_method as TokenEndpointAuthMethod,
    scope: row.scope,
    requirePkce: fromIntBool(row.require_pkce),
    idTokenSignedResponseAlg: row.id_token_signed_response_alg as Client['idTokenSignedResponseAlg'],
    ...(row.id_token_claims === null ? {} : { idTokenClaims: fromIntBool(row.id_token_claims) }),
    subjectType: row.subject_type === 'pairwise' ? 'pairwise' : 'public',
    postLogoutRedirectUris: decodeStringArray(row.post_logout_redirect_uris, 'clients.post_logout_redirect_uris'),
    backchannelLogoutUri: row.backchannel_logout_uri,
    backchannelLogoutSessionRequired: fromIntBool(row.backchannel_logout_session_required),
    createdAt: row.created_at,
  };
}

function userToRow(user: User): UsersTable {
  return {
    id: user.id,
    username: user.username,
    password_hash: user.passwordHash,
    email: user.email,
    name: user.name,
    claims: encodeJson(user.claims),
    created_at: user.createdAt,
  };
}

function rowToUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    email: row.email,
    name: row.name,
    claims: decodeObject(row.claims, 'users.claims'),
    createdAt: row.created_at,
  };
}

function sessionToRow(session: Session): SessionsTable {
  return {
    id_hash: session.idHash,
    sid: session.sid,
    user_id: session.userId,
    auth_time: session.authTime,
    created_at: session.createdAt,
    expires_at: session.expiresAt,
  };
}

function rowToSession(row: Selectable<SessionsTable>): Session {
  return {
    idHash: row.id_hash,
    sid: row.sid ?? legacySid(row.id_hash),
    userId: row.user_id,
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function interactionToRow(interaction: Interaction): InteractionsTable {
  return {
    id: interaction.id,
    flow_id: interaction.flowId,
    client_id: interaction.clientId,
    request: encodeJson(interaction.request),
    browser_binding_hash: interaction.browserBindingHash,
    csrf_token: interaction.csrfToken,
    created_at: interaction.createdAt,
    expires_at: interaction.expiresAt,
  };
}

function rowToInteraction(row: Selectable<InteractionsTable>): Interaction {
  return {
    id: row.id,
    flowId: row.flow_id,
    clientId: row.client_id,
    request: decodeAuthorizationRequest(row.request),
    browserBindingHash: row.browser_binding_hash,
    csrfToken: row.csrf_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function grantToRow(grant: Grant): GrantsTable {
  return {
    id: grant.id,
    flow_id: grant.flowId,
    client_id: grant.clientId,
    user_id: grant.userId,
    scope: encodeJson(grant.scope),
    sid: grant.sid,
    created_at: grant.createdAt,
    revoked_at: grant.revokedAt,
  };
}

function rowToGrant(row: Selectable<GrantsTable>): Grant {
  return {
    id: row.id,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: decodeStringArray(row.scope, 'grants.scope'),
    sid: row.sid,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

function codeToRow(code: AuthorizationCode): AuthorizationCodesTable {
  return {
    code_hash: code.codeHash,
    grant_id: code.grantId,
    flow_id: code.flowId,
    client_id: code.clientId,
    user_id: code.userId,
    redirect_uri: code.redirectUri,
    redirect_uri_provided: toIntBool(code.redirectUriProvided),
    scope: encodeJson(code.scope),
    code_challenge: code.codeChallenge,
    code_challenge_method: code.codeChallengeMethod,
    nonce: code.nonce,
    resources: encodeJson(code.resources),
    auth_time: code.authTime,
    created_at: code.createdAt,
    expires_at: code.expiresAt,
    consumed_at: code.consumedAt,
  };
}

function rowToCode(row: Selectable<AuthorizationCodesTable>): AuthorizationCode {
  return {
    codeHash: row.code_hash,
    grantId: row.grant_id,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    redirectUri: row.redirect_uri,
    redirectUriProvided: fromIntBool(row.redirect_uri_provided),
    scope: decodeStringArray(row.scope, 'authorization_codes.scope'),
    codeChallenge: row.code_challenge,
    codeChallengeMethod: row.code_challenge_method as AuthorizationCode['codeChallengeMethod'],
    nonce: row.nonce,
    resources: decodeStringArray(row.resources, 'authorization_codes.resources'),
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}

function accessTokenToRow(token: AccessTokenRecord): AccessTokensTable {
  return {
    jti: token.jti,
    grant_id: token.grantId,
    flow_id: token.flowId,
    client_id: token.clientId,
    user_id: token.userId,
    scope: encodeJson(token.scope),
    audience: encodeJson(token.audience),
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    revoked_at: token.revokedAt,
  };
}

function rowToAccessToken(row: Selectable<AccessTokensTable>): AccessTokenRecord {
  return {
    jti: row.jti,
    grantId: row.grant_id,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: decodeStringArray(row.scope, 'access_tokens.scope'),
    audience: decodeStringArray(row.audience, 'access_tokens.audience'),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

function refreshTokenToRow(token: RefreshTokenRecord): RefreshTokensTable {
  return {
    token_hash: token.tokenHash,
    grant_id: token.grantId,
    flow_id: token.flowId,
    client_id: token.clientId,
    user_id: token.userId,
    scope: encodeJson(token.scope),
    resources: encodeJson(token.resources),
    auth_time: token.authTime,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
    family_expires_at: token.familyExpiresAt,
    rotated_at: token.rotatedAt,
    successor_hash: token.successorHash,
    successor_encrypted: token.successorEncrypted,
  };
}

function rowToRefreshToken(row: Selectable<RefreshTokensTable>): RefreshTokenRecord {
  return {
    tokenHash: row.token_hash,
    grantId: row.grant_id,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    scope: decodeStringArray(row.scope, 'refresh_tokens.scope'),
    resources: decodeStringArray(row.resources, 'refresh_tokens.resources'),
    authTime: row.auth_time,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    familyExpiresAt: row.family_expires_at,
    rotatedAt: row.rotated_at,
    successorHash: row.successor_hash,
    successorEncrypted: row.successor_encrypted,
  };
}

function resourceToRow(resource: ProtectedResource): ProtectedResourcesTable {
  return {
    identifier: resource.identifier,
    name: resource.name,
    scopes: encodeJson(resource.scopes),
    introspection_client_ids: encodeJson(resource.introspectionClientIds),
    created_at: resource.createdAt,
  };
}

function rowToResource(row: Selectable<ProtectedResourcesTable>): ProtectedResource {
  return {
    identifier: row.identifier,
    name: row.name,
    scopes: decodeStringArray(row.scopes, 'protected_resources.scopes'),
    introspectionClientIds: decodeStringArray(
      row.introspection_client_ids,
      'protected_resources.introspection_client_ids',
    ),
    createdAt: row.created_at,
  };
}

function signingKeyToRow(key: SigningKeyRecord): SigningKeysTable {
  return {
    kid: key.kid,
    alg: key.alg,
    public_jwk: key.publicJwk,
    private_jwk_encrypted: key.privateJwkEncrypted,
    created_at: key.createdAt,
    activates_at: key.activatesAt,
    retired_at: key.retiredAt,
  };
}

function rowToSigningKey(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    publicJwk: row.public_jwk,
    privateJwkEncrypted: row.private_jwk_encrypted,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiredAt: row.retired_at,
  };
}

function logoutDeliveryToRow(delivery: LogoutDelivery): LogoutDeliveriesTable {
  return {
    id: delivery.id,
    client_id: delivery.clientId,
    uri: delivery.uri,
    logout_token: delivery.logoutToken,
    attempts: delivery.attempts,
    next_attempt_at: delivery.nextAttemptAt,
    last_error: delivery.lastError,
    delivered_at: delivery.deliveredAt,
    created_at: delivery.createdAt,
  };
}

function rowToLogoutDelivery(row: Selectable<LogoutDeliveriesTable>): LogoutDelivery {
  return {
    id: row.id,
    clientId: row.client_id,
    uri: row.uri,
    logoutToken: row.logout_token,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    deliveredAt: row.delivered_at,
    createdAt: row.created_at,
  };
}

/** Aborts a rate-limit hit transaction when a key is blocked. */
class RateLimitBlocked extends Error {
  constructor(readonly blockedUntil: number) {
    super('blocked');
  }
}

function auditEventToRow(event: AuditEvent): Omit<AuditEventsTable, 'id'> {
  return {
    at: event.at,
    type: event.type,
    flow_id: event.flowId,
    client_id: event.clientId,
    user_id: event.userId,
    username: event.username,
    ip: event.ip,
    details: JSON.stringify(event.details),
  };
}

function rowToAuditEvent(row: Selectable<AuditEventsTable>): AuditEvent {
  let details: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.details) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
  } catch {
    details = { unparsed: row.details };
  }
  return {
    id: Number(row.id),
    at: row.at,
    type: row.type,
    flowId: row.flow_id,
    clientId: row.client_id,
    userId: row.user_id,
    username: row.username,
    ip: row.ip,
    details,
  };
}
