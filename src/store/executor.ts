/**
 * How the store's statements run: the one place that decides between Kysely's builder, SQL
 * written once (prepared by name on PostgreSQL), and the direct synchronous better-sqlite3 path;
 * and the one transaction helper, safe to nest, which holds back change announcements until the
 * outermost transaction has committed (and drops them when it rolls back).
 *
 * The repositories (src/store/repositories/) build their statements and hand them to an
 * Executor; they never open a transaction or touch a connection themselves. An Executor is
 * either the store's root (no transaction) or one transaction's; the repositories of a
 * transaction's store are built over the transaction's Executor, so every call joins it.
 */
import { createHash } from 'node:crypto';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { Database, Dialect } from './schema.js';
import type { PoolStats, StoreChange } from './records.js';
import { ChangeHub, type PostgresChangeListener } from './change-feed.js';
import type { GrantSweep } from './repositories/expired-rows.js';
import { GroupCommit, type SqliteConnection } from './group-commit.js';

export type { SqliteConnection } from './group-commit.js';

/**
 * PostgreSQL: where changes to cached data are announced to the other instances (NOTIFY on
 * `channel`) and heard from them (a dedicated connection to `connectionString`).
 */
export interface StoreNotifications {
  connectionString: string;
  channel: string;
  /** Whether to LISTEN too (default true). */
  listen?: boolean;
}

/** What the root Executor and every transaction's Executor of one store share. */
export class StoreShared {
  readonly hub = new ChangeHub();
  listener: PostgresChangeListener | undefined;
  /** Where the cleanup's backstop sweep over old grants continues at the next run. */
  readonly grantSweep: GrantSweep = { after: undefined };
  /** SQLite: the group commit every write on the root joins (./group-commit.ts). */
  groupCommit: GroupCommit | undefined;

  constructor(
    readonly notifications: StoreNotifications | undefined,
    readonly readPoolStats: (() => PoolStats) | undefined,
  ) {}
}

export interface TransactionOptions {
  /**
   * Inside an enclosing transaction, run in a SAVEPOINT: a rejection rolls back only what `fn`
   * wrote (and drops its announcements), the enclosing transaction goes on. Without it a nested
   * call simply joins the enclosing transaction.
   */
  savepoint?: boolean;
}

export class Executor {
  /**
   * SQLite's connection for the direct path: the root Executor's, and that of each transaction
   * the root opened directly (see directTransaction).
   */
  private readonly direct: SqliteConnection | undefined;

  /**
   * @param db The store's Kysely instance, one transaction of it, or (for a direct SQLite
   *   transaction) the Kysely instance bound to the connection the transaction holds.
   * @param pending The changes announced in this transaction, delivered after its commit.
   * @param directTransaction Set for the Executor of a direct SQLite transaction: whether it is
   *   still open, so that its statements run directly inside it, and never after it ended.
   */
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    readonly shared: StoreShared,
    sqliteConnection?: SqliteConnection,
    private readonly pending: StoreChange[] = [],
    private readonly directTransaction?: { open: boolean },
  ) {
    this.direct = db.isTransaction ? undefined : sqliteConnection;
    if (this.direct !== undefined && directTransaction === undefined)
      shared.groupCommit ??= new GroupCommit(db, this.direct);
  }

  get inTransaction(): boolean {
    return this.db.isTransaction || this.directTransaction !== undefined;
  }

  /**
   * Runs `fn` in one database transaction, committed when it resolves and rolled back when it
   * rejects; inside one already, `fn` joins it (or runs in a savepoint, see TransactionOptions).
   * The changes `fn` announces reach this process's listeners once the outermost transaction
   * has committed, and never when it rolled back.
   */
  async transaction<T>(fn: (executor: Executor) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.inTransaction) return options.savepoint ? this.inSavepoint(fn) : fn(this);
    if (this.direct !== undefined) return this.inGroupTransaction(fn);
    const pending: StoreChange[] = [];
    const result = await this.db
      .transaction()
      .execute((trx) => fn(new Executor(trx, this.dialect, this.shared, undefined, pending)));
    for (const change of pending) this.shared.hub.emit(change);
    return result;
  }

  /**
   * SQLite: a unit of the current group commit (./group-commit.ts): its statements run on the
   * connection directly (see all) in a savepoint of the group's transaction, instead of through
   * Kysely's transaction, whose own work (connection provider, the transaction's Kysely instance,
   * and a promise chain per statement) cost more CPU than the statements of a code redemption
   * (bench/budget.ts: 150-230 µs per redemption). Kysely-built queries inside `fn` run on the
   * connection the group holds. It resolves once the group has committed.
   */
  private async inGroupTransaction<T>(fn: (executor: Executor) => Promise<T>): Promise<T> {
    const direct = this.direct!;
    const pending: StoreChange[] = [];
    const result = await this.shared.groupCommit!.run(async (held) => {
      const state = { open: true };
      try {
        return await fn(new Executor(held, this.dialect, this.shared, direct, pending, state));
      } finally {
        state.open = false;
      }
    });
    for (const change of pending) this.shared.hub.emit(change);
    return result;
  }

  private async inSavepoint<T>(fn: (executor: Executor) => Promise<T>): Promise<T> {
    // Savepoints of one name nest: each RELEASE / ROLLBACK TO names the most recent one.
    await this.db.executeQuery(CompiledQuery.raw('savepoint "gatehouse_savepoint"'));
    const pending: StoreChange[] = [];
    let result: T;
    try {
      result = await fn(new Executor(this.db, this.dialect, this.shared, this.direct, pending, this.directTransaction));
    } catch (error) {
      await this.db.executeQuery(CompiledQuery.raw('rollback to savepoint "gatehouse_savepoint"'));
      await this.db.executeQuery(CompiledQuery.raw('release savepoint "gatehouse_savepoint"'));
      throw error;
    }
    await this.db.executeQuery(CompiledQuery.raw('release savepoint "gatehouse_savepoint"'));
    this.pending.push(...pending);
    return result;
  }

  /**
   * Runs `write`, a change to data instances cache, and announces `change`: on PostgreSQL with a
   * NOTIFY in the same transaction (delivered to the other instances when it commits), and to
   * this process's own listeners once it has committed.
   */
  async changing<T>(change: StoreChange, write: (executor: Executor) => Promise<T>): Promise<T> {
    if (!this.inTransaction && this.shared.notifications === undefined) {
      const result = await write(this);
      this.shared.hub.emit(change);
      return result;
    }
    return this.transaction(async (executor) => {
      const written = await write(executor);
      await executor.announce(change);
      return written;
    });
  }

  /** Inside a transaction: NOTIFY (PostgreSQL) and queue `change` for delivery after commit. */
  private async announce(change: StoreChange): Promise<void> {
    const notifications = this.shared.notifications;
    if (notifications)
      await sql`select pg_notify(${notifications.channel}, ${JSON.stringify(change)})`.execute(this.db);
    this.pending.push(change);
  }

  /**
   * The statements of every token request and authorization (reads by key, token inserts, the
   * conditional updates of redemption and rotation) are written as SQL once, not built with
   * Kysely's query builder each time: building and compiling cost more CPU than SQLite takes to
   * run them (bench/statements.ts, bench/profile.ts). They run through Kysely's executor, on the
   * transaction's connection when there is one, or directly on SQLite (see all), which builds
   * no CompiledQuery. SQL is written with `?` placeholders, which are numbered for PostgreSQL
   * once per text; every name is quoted, both dialects agree. On PostgreSQL they become named
   * prepared statements (see preparedStatementName).
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
   * Runs SQL written once and returns its rows. On SQLite, while no transaction is open on the
   * connection, directly and synchronously: better-sqlite3 runs a statement to completion
   * before any other JavaScript, so nothing can interleave with it, and Kysely's executor (a
   * mutex, a connection provider and several promises per query) is skipped. While a transaction
   * is open (a request is between BEGIN and COMMIT), through Kysely, which waits for it to end:
   * a statement run directly then would join that transaction.
   */
  async all<R>(text: string, parameters: readonly unknown[]): Promise<R[]> {
    const direct = this.direct;
    if (direct !== undefined) {
      const statement = direct.prepare(text);
      // Inside a unit of the group commit: on the connection, in its transaction.
      if (this.directTransaction !== undefined && this.ownsOpenTransaction())
        return runStatement<R>(statement, parameters);
      // A write on the root: a unit of the group commit, answered once the group has committed.
      if (!statement.readonly) return this.shared.groupCommit!.run(() => runStatement<R>(statement, parameters), true);
      // A read while no transaction is open: directly (nothing can interleave with it). While
      // a group commit is open, right after it has ended, with the other reads made meanwhile
      // (GroupCommit.readAfterGroup): what is read is never what a later rollback takes back.
      // Under load a group is open most of the time, and Kysely's executor costs a mutex, a
      // connection provider and several promises per read.
      if (!direct.inTransaction) return statement.all(...parameters) as R[];
      const afterGroup = this.shared.groupCommit?.readAfterGroup(() => statement.all(...parameters) as R[]);
      if (afterGroup !== undefined) return afterGroup;
      // Any other transaction: through Kysely, which waits until it has ended.
    }
    return (await this.db.executeQuery(this.compiled<R>(text, parameters))).rows;
  }

  /** A direct transaction's Executor used after its transaction ended is a bug, not a statement to run. */
  private ownsOpenTransaction(): boolean {
    if (!this.directTransaction?.open) throw new Error('statement on a store transaction that has ended');
    return true;
  }

  /** The first row SQL returns (a read by key, or an UPDATE ... RETURNING). */
  async first<R>(text: string, parameters: readonly unknown[]): Promise<R | undefined> {
    return (await this.all<R>(text, parameters))[0];
  }

  /** Runs one statement written once (an INSERT from a RowCodec) and ignores any rows. */
  async run(statement: Statement): Promise<void> {
    await this.all(statement.text, statement.values);
  }

  /**
   * Inserts rows all together or not at all. On PostgreSQL as one statement (the first inserts in
   * WITH clauses; foreign keys are checked at the end of the statement, so a row may reference
   * one inserted before it): one round trip instead of four (BEGIN, the inserts, COMMIT). On
   * SQLite, where a statement costs no round trip, in a transaction.
   */
  async insertRowsTogether(inserts: readonly Statement[]): Promise<void> {
    if (this.dialect !== 'postgres') {
      const direct = this.direct;
      if (direct !== undefined && this.directTransaction === undefined) {
        // One unit of the group commit: its savepoint makes the inserts all or nothing.
        await this.shared.groupCommit!.run(() => {
          for (const { text, values } of inserts) direct.prepare(text).run(...values);
        }, true);
        return;
      }
      await this.transaction(async (executor) => {
        for (const insert of inserts) await executor.run(insert);
      });
      return;
    }
    const parts: string[] = [];
    const values: unknown[] = [];
    inserts.forEach((insert, index) => {
      parts.push(index < inserts.length - 1 ? `"inserted_${index}" as (${insert.text})` : insert.text);
      values.push(...insert.values);
    });
    const text = inserts.length > 1 ? `with ${parts.slice(0, -1).join(', ')} ${parts[parts.length - 1]}` : parts[0]!;
    await this.db.executeQuery(this.compiled(text, values));
  }
}

/** Runs a prepared statement: its rows when it returns any (a read, or RETURNING), else none. */
function runStatement<R>(statement: ReturnType<SqliteConnection['prepare']>, parameters: readonly unknown[]): R[] {
  if (statement.reader) return statement.all(...parameters) as R[];
  statement.run(...parameters);
  return [];
}

// --- SQL written once -----------------------------------------------------------------------

/** SQL written once (with `?` placeholders) and the values of one execution. */
export interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** Distinct SQL texts kept; the store has a few dozen (rate-limit reads vary by key count). */
const COMPILED_SQL_MAX = 256;
/** PostgreSQL text of each compiled statement, and the name it is prepared under. */
const POSTGRES_SQL = new Map<string, string>();
const PREPARED_NAMES = new Map<string, string>();

/**
 * The name SQL written once is prepared under on each PostgreSQL connection, or undefined for
 * any other query (Kysely-built ones, DDL, BEGIN/COMMIT). Preparing once per connection spares
 * PostgreSQL parsing and planning the statement on every execution, and the client sending it:
 * a third of the database's CPU per code flow in the benchmark. The name is derived from the
 * text, so every connection and instance agrees on it.
 */
export function preparedStatementName(text: string): string | undefined {
  return PREPARED_NAMES.get(text);
}

/** `?` placeholders as PostgreSQL's `$1, $2, ...` (the store's SQL has no `?` in literals). */
function numberPlaceholders(text: string): string {
  let index = 0;
  return text.replace(/\?/g, () => `$${++index}`);
}
