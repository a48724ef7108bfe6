/**
 * The single implementation of the Store interface, for SQLite and PostgreSQL alike: the
 * repositories of src/store/repositories/ over one Executor (src/store/executor.ts), which
 * decides how every statement runs and owns the transactions.
 *
 * Every query is portable between the two dialects (see src/store/schema.ts for the shared
 * column representation). Operations that must hold under concurrency use one conditional
 * statement (UPDATE/DELETE ... WHERE ... RETURNING) or a transaction whose first statement is a
 * write, so that the database's row (PostgreSQL) or write (SQLite) lock orders the callers.
 */
import { accountRepository } from './repositories/account-repository.js';
import { sql, type Kysely } from 'kysely';
import type { DatabaseDiagnostics, PoolStats, Store } from './store.js';
import type { Database, Dialect } from './schema.js';
import { migrate } from './migrations.js';
import { PostgresChangeListener } from './change-feed.js';
import { Executor, StoreShared, type SqliteConnection, type StoreNotifications } from './executor.js';
import { runCleanup } from './repositories/expired-rows.js';
import { clientRepository, resourceRepository, userRepository } from './repositories/client-repository.js';
import { codeRepository } from './repositories/code-repository.js';
import {
  consentRepository,
  grantRepository,
  interactionRepository,
  sessionRepository,
} from './repositories/session-repository.js';
import { accessTokenRepository, refreshTokenRepository } from './repositories/token-repository.js';
import { deviceCodeRepository } from './repositories/device-code-repository.js';
import { pushedRequestRepository } from './repositories/pushed-request-repository.js';
import { registrationRepository } from './repositories/registration-repository.js';
import { signingKeyRepository } from './repositories/key-repository.js';
import { logoutDeliveryRepository, logoutRepository } from './repositories/logout-repository.js';
import { replayRepository } from './repositories/replay-repository.js';
import { inspectorRepository } from './repositories/inspector-repository.js';
import { auditRepository, rateLimitRepository } from './repositories/limit-repository.js';

export { preparedStatementName, type SqliteConnection } from './executor.js';

export interface KyselyStoreOptions {
  /** PostgreSQL: where changes to cached data are announced and heard (see StoreNotifications). */
  notifications?: StoreNotifications;
  /** Reads the connection pool's state (PostgreSQL, for /metrics); absent without a pool. */
  readPoolStats?: () => PoolStats;
  /**
   * SQLite: the better-sqlite3 connection under `db`, to run SQL on directly while no
   * transaction is open (see Executor.all).
   */
  sqliteConnection?: SqliteConnection;
}

export class KyselyStore implements Store {
  private readonly executor: Executor;

  /**
   * @param db Kysely instance owned by the store from now on (`close()` destroys it). On
   *   PostgreSQL its pool must parse BIGINT (int8) to numbers, as openStore() configures it.
   * @param dialect Which database `db` talks to.
   * @param executor A transaction's executor (from `transaction()`); absent for the root store.
   */
  constructor(
    /** Exposed for maintenance jobs and tests. */
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    options: KyselyStoreOptions = {},
    executor?: Executor,
  ) {
    this.executor =
      executor ??
      new Executor(
        db,
        dialect,
        new StoreShared(options.notifications, options.readPoolStats),
        options.sqliteConnection,
      );
    const ex = this.executor;
    const notifications = ex.shared.notifications;
    this.changes.crossProcess = notifications !== undefined && notifications.listen !== false;
    this.clients = clientRepository(ex);
    this.users = userRepository(ex);
    this.resources = resourceRepository(ex);
    this.registrations = registrationRepository(ex);
    this.sessions = sessionRepository(ex);
    this.interactions = interactionRepository(ex);
    this.consents = consentRepository(ex);
    this.grants = grantRepository(ex);
    this.account = accountRepository(ex);
    this.codes = codeRepository(ex);
    this.deviceCodes = deviceCodeRepository(ex);
    this.pushedRequests = pushedRequestRepository(ex);
    this.accessTokens = accessTokenRepository(ex);
    this.refreshTokens = refreshTokenRepository(ex);
    this.signingKeys = signingKeyRepository(ex);
    this.logout = logoutRepository(ex);
    this.logoutDeliveries = logoutDeliveryRepository(ex);
    this.rateLimits = rateLimitRepository(ex);
    this.audit = auditRepository(ex);
    this.usedJtis = replayRepository(ex);
    this.inspector = inspectorRepository(ex);
  }

  readonly clients: Store['clients'];
  readonly users: Store['users'];
  readonly resources: Store['resources'];
  readonly registrations: Store['registrations'];
  readonly sessions: Store['sessions'];
  readonly interactions: Store['interactions'];
  readonly consents: Store['consents'];
  readonly account: Store['account'];
  readonly grants: Store['grants'];
  readonly codes: Store['codes'];
  readonly deviceCodes: Store['deviceCodes'];
  readonly pushedRequests: Store['pushedRequests'];
  readonly accessTokens: Store['accessTokens'];
  readonly refreshTokens: Store['refreshTokens'];
  readonly signingKeys: Store['signingKeys'];
  readonly logout: Store['logout'];
  readonly logoutDeliveries: Store['logoutDeliveries'];
  readonly rateLimits: Store['rateLimits'];
  readonly audit: Store['audit'];
  readonly usedJtis: Store['usedJtis'];
  readonly inspector: Store['inspector'];

  async migrate(): Promise<void> {
    await migrate(this.db, this.dialect);
  }

  async close(): Promise<void> {
    const shared = this.executor.shared;
    await shared.listener?.stop();
    shared.listener = undefined;
    await this.db.destroy();
  }

  poolStats(): PoolStats | null {
    return this.executor.shared.readPoolStats?.() ?? null;
  }

  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  async diagnostics(): Promise<DatabaseDiagnostics> {
    const value = async (query: ReturnType<typeof sql>) =>
      Object.values((await query.execute(this.db)).rows[0] as Record<string, unknown>)[0];
    if (this.dialect === 'sqlite') {
      // SQLite reads the clock of this process's machine; journal_mode and synchronous (0 OFF,
      // 1 NORMAL, 2 FULL, 3 EXTRA) are per connection, as open-store.ts set them.
      const levels = ['off', 'normal', 'full', 'extra'];
      const synchronous = Number(await value(sql`PRAGMA synchronous`));
      return {
        now: Number(await value(sql`SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`)),
        durability: {
          journal_mode: String(await value(sql`PRAGMA journal_mode`)).toLowerCase(),
          synchronous: levels[synchronous] ?? String(synchronous),
        },
      };
    }
    return {
      now: Number(await value(sql`SELECT floor(extract(epoch from clock_timestamp()) * 1000)::float8`)),
      durability: {
        fsync: String(await value(sql`SHOW fsync`)),
        synchronous_commit: String(await value(sql`SHOW synchronous_commit`)),
      },
    };
  }

  async transaction<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    if (this.executor.inTransaction) return fn(this);
    return this.executor.transaction((executor) => fn(new KyselyStore(executor.db, this.dialect, {}, executor)));
  }

  readonly changes: { crossProcess: boolean; subscribe: Store['changes']['subscribe'] } = {
    crossProcess: false,
    subscribe: (listener) => {
      const shared = this.executor.shared;
      const remove = shared.hub.add(listener);
      const notifications = shared.notifications;
      if (notifications && notifications.listen !== false && !shared.listener) {
        shared.listener = new PostgresChangeListener(notifications, shared.hub);
        shared.listener.start();
      }
      return remove;
    },
  };

  readonly cleanup: Store['cleanup'] = {
    run: (now, policy, options = {}) =>
      runCleanup(this.db, this.dialect, now, policy, options.wait ?? false, this.executor.shared.grantSweep),
  };
}
