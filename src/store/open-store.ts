/**
 * Opens the store named by a database URL:
 *
 * - `sqlite:PATH` (relative to the working directory or absolute; `sqlite:///abs/path` also
 *   works) and `sqlite::memory:` — embedded SQLite through better-sqlite3;
 * - `postgres://...` / `postgresql://...` — PostgreSQL through a `pg` pool. An extra
 *   `?schema=NAME` parameter puts every table in schema NAME (created when missing), which lets
 *   several deployments or test runs share one database. `?prepared_statements=false` turns off
 *   named prepared statements, for a connection pooler that cannot keep them (PgBouncer in
 *   transaction mode before 1.21).
 *
 * The schema is not migrated here: callers run `store.migrate()` when they mean to.
 */
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Store } from './store.js';
import type { Database as Schema } from './schema.js';
import { KyselyStore, preparedStatementName, type SqliteConnection } from './kysely-store.js';
import { changeChannelFor } from './change-feed.js';

/** One level of a pino/Fastify logger: the fields of the entry, and its message. */
export type LogMethod = (obj: object, msg?: string) => void;

/**
 * The logging this module needs; a pino/Fastify logger satisfies it. Query parameters are never
 * logged, since they include secrets' hashes and password hashes.
 */
export type StoreLogger = Record<'debug' | 'info' | 'warn' | 'error', LogMethod>;

export interface OpenStoreOptions {
  logger?: StoreLogger;
  /**
   * PostgreSQL: whether store.changes.subscribe listens for the changes other instances announce
   * (LISTEN/NOTIFY; default true). Without it only this store's own changes are seen, as on SQLite.
   * The store announces its own changes to the other instances either way.
   */
  listen?: boolean;
}

const ACCEPTED_SCHEMES = 'sqlite:PATH, sqlite::memory:, postgres://... or postgresql://...';

/** A new PostgreSQL connection must be established within this time, else the query fails. */
const PG_CONNECTION_TIMEOUT_MS = 5000;

/** SQLite waits this long for another connection's write lock before failing with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;
/**
 * SQLite page cache per connection, in KiB (PRAGMA cache_size takes a negative KiB count): 16 MiB.
 * It is part of the server's resident memory (`npm run bench:memory` holds the server under 300
 * MB at a million tokens, request logs on), and a larger one also costs CPU at every commit:
 * a B-tree page split parks a page at the number past the 1 GiB lock page for a moment
 * (balance_nonroot's page swap), which leaves the cache holding a page number beyond the
 * database's size, so the COMMIT's cache truncation (pcache1TruncateUnsafe) walks every page in
 * the cache. Timed with perf probes on it, in a loop of code flows' store calls 8 at a time: 115 µs
 * per commit with 32 MiB full (7,927 pages), 68 µs with 16 MiB (3,963), the flows per second the
 * same; in the server under the benchmark's code flow, 240 µs per commit with 32 MiB.
 */
const SQLITE_CACHE_KIB = 16 * 1024;
/**
 * WAL pages after which a commit checkpoints them into the database file (SQLite's default:
 * 1,000, i.e. 4 MiB). A code flow dirties a few dozen pages, mostly the same hot index pages
 * again and again; a checkpoint writes each distinct page once, so a longer interval writes
 * far fewer pages per flow: 10,000 (a WAL of up to 40 MiB, reused, not grown further) cut
 * SQLite's CPU per code flow by a fifth in a measurement of the token tables' statements
 * (bench/README.md, "CPU budget of a code flow"). Durability is unchanged: every commit is in
 * the WAL before the answer is sent, whether checkpointed or not.
 */
const SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000;

export async function openStore(databaseUrl: string, options: OpenStoreOptions = {}): Promise<Store> {
  const { logger } = options;
  if (databaseUrl.startsWith('sqlite:')) {
    return openSqlite(sqlitePath(databaseUrl), logger);
  }
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    return openPostgres(databaseUrl, logger, options.listen ?? true);
  }
  throw new Error(`Unsupported database URL "${redactUrl(databaseUrl)}": expected ${ACCEPTED_SCHEMES}`);
}

// --- SQLite ---------------------------------------------------------------------------------

/** The file path of a `sqlite:` URL, or `:memory:`. */
export function sqlitePath(databaseUrl: string): string {
  let path = databaseUrl.slice('sqlite:'.length);
  // `sqlite:///abs/path` is a common spelling of `sqlite:/abs/path`.
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '') {
    throw new Error(`Database URL "${databaseUrl}" names no file: expected ${ACCEPTED_SCHEMES}`);
  }
  return path;
}

function openSqlite(path: string, logger: StoreLogger | undefined): Store {
  const database = new Database(path);
  try {
    configureSqlite(database, path, logger);
  } catch (error) {
    database.close();
    throw error;
  }
  const connection = withStatementCache(database);
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: connection }),
    log: queryLogger(logger),
  });
  logger?.info({ dialect: 'sqlite', path }, 'store opened');
  return new KyselyStore(db, 'sqlite', { sqliteConnection: connection as unknown as SqliteConnection });
}

/** Distinct SQL texts kept prepared; the store issues a few dozen, so this is never reached. */
const STATEMENT_CACHE_MAX = 500;

/**
 * Kysely's SQLite driver prepares every query's SQL again on every execution, which the
 * benchmark profile showed as 15% of a code flow. Statements are reusable (better-sqlite3 runs
 * them synchronously, and the store never streams rows), so they are prepared once per SQL text.
 */
export function withStatementCache(database: Database.Database): Database.Database {
  const cache = new Map<string, CachedStatement>();
  const prepare = database.prepare.bind(database);
  const cachedPrepare = (sql: string): CachedStatement => {
    let statement = cache.get(sql);
    if (!statement) {
      if (cache.size >= STATEMENT_CACHE_MAX) cache.delete(cache.keys().next().value!);
      statement = new CachedStatement(prepare(sql));
      cache.set(sql, statement);
    }
    return statement;
  };
  // Methods are bound once, not on every access (the driver looks them up per query).
  const bound = new Map<PropertyKey, unknown>([['prepare', cachedPrepare]]);
  return new Proxy(database, {
    get(target, property, receiver) {
      const known = bound.get(property);
      if (known !== undefined) return known;
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      bound.set(property, method);
      return method;
    },
  });
}

/**
 * A prepared statement of the cache. One that returns rows runs in better-sqlite3's raw mode
 * (each row an array) and its rows become objects here, through a function made once from the
 * statement's column names: better-sqlite3 makes each row object by creating every column's
 * name anew (a UTF-8 decode and a lookup in V8's string table) and adding the properties one by
 * one, about a third of a read by key in the profile of an introspection; an object literal of
 * one function has its final shape at once. The rows are the same objects as before: names as
 * keys, a later column of the same name winning, as in better-sqlite3 (which drops a column
 * named `__proto__`, kept here as an own property; no table of the store has one).
 */
class CachedStatement {
  readonly reader: boolean;
  readonly readonly: boolean;
  /** Makes a raw row an object; rebuilt when a row's length changes (SQLite re-prepared the statement after a schema change). */
  private toObject: (row: unknown[]) => Record<string, unknown> = () => ({});
  private columnCount = -1;

  constructor(private readonly statement: Database.Statement) {
    this.reader = statement.reader;
    this.readonly = statement.readonly;
    if (this.reader) statement.raw(true);
  }

  get source(): string {
    return this.statement.source;
  }

  all(...parameters: unknown[]): unknown[] {
    const rows = this.statement.all(...parameters) as unknown[];
    for (let index = 0; index < rows.length; index++) rows[index] = this.objectOf(rows[index] as unknown[]);
    return rows;
  }

  get(...parameters: unknown[]): unknown {
    const row = this.statement.get(...parameters) as unknown[] | undefined;
    return row === undefined ? undefined : this.objectOf(row);
  }

  *iterate(...parameters: unknown[]): IterableIterator<unknown> {
    for (const row of this.statement.iterate(...parameters) as IterableIterator<unknown[]>) yield this.objectOf(row);
  }

  run(...parameters: unknown[]): Database.RunResult {
    return this.statement.run(...parameters);
  }

  private objectOf(row: unknown[]): Record<string, unknown> {
    if (row.length !== this.columnCount) this.makeToObject();
    return this.toObject(row);
  }

  private makeToObject(): void {
    const names = this.statement.columns().map((column) => column.name);
    this.columnCount = names.length;
    // JSON.stringify quotes any name; `__proto__` as a computed key is an own property, not the prototype.
    const members = names.map(
      (name, index) => `${name === '__proto__' ? '["__proto__"]' : JSON.stringify(name)}: row[${index}]`,
    );
    this.toObject = new Function('row', `return { ${members.join(', ')} };`) as (
      row: unknown[],
    ) => Record<string, unknown>;
  }
}

function configureSqlite(database: Database.Database, path: string, logger?: StoreLogger): void {
  if (path !== ':memory:') {
    // WAL lets readers proceed while one connection writes, which several server processes on
    // one file need; with WAL, synchronous=NORMAL is durable against application crashes and
    // only risks the last commits on power loss, at a fraction of FULL's fsync cost.
    const mode = database.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      logger?.warn({ path, journalMode: mode }, 'SQLite did not switch to WAL journal mode');
    }
    database.pragma('synchronous = NORMAL');
    database.pragma(`wal_autocheckpoint = ${SQLITE_WAL_AUTOCHECKPOINT_PAGES}`);
  }
  // Without a busy timeout a concurrent writer fails at once instead of waiting its turn.
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  // The page cache (default 2 MiB) holds the hot indexes of the token tables; a larger one
  // saved a quarter of the time per insert in a measurement on this workload. Memory only.
  database.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
  // SQLite leaves foreign keys unenforced unless asked, per connection.
  database.pragma('foreign_keys = ON');
  // Every unit of a group commit runs in a SAVEPOINT (group-commit.ts), so SQLite copies each
  // page a unit changes into the statement journal first; past 64 KiB that journal spills to a
  // temporary file, one pwrite per page. In memory it is a copy: the store's CPU per operation
  // fell by about a quarter (authorization 147 → 109 µs, redemption 172 → 136, rotation
  // 289 → 216; bench/pages.ts --group 8). Temporary tables and sorts stay in memory too; the
  // store's queries are bounded by key or by page.
  database.pragma('temp_store = MEMORY');
}

// --- PostgreSQL -----------------------------------------------------------------------------

async function openPostgres(databaseUrl: string, logger: StoreLogger | undefined, listen: boolean): Promise<Store> {
  const { connectionString, schema, preparedStatements } = postgresConnectionString(databaseUrl);
  const pool = new pg.Pool({
    connectionString,
    types: { getTypeParser },
    // Without a limit, a connection attempt to an unreachable server (a blackholed network)
    // waits for the operating system's TCP timeout, minutes; with it, the request fails fast
    // with 503 temporarily_unavailable and the next one tries again.
    connectionTimeoutMillis: PG_CONNECTION_TIMEOUT_MS,
    // TCP keepalive notices a peer that vanished without closing the connection.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
  const logError = (error: Error, message: string) => {
    if (logger) logger.error({ err: error }, message);
    else console.error(`${message}: ${error.message}`);
  };
  // An idle pooled client whose connection drops emits 'error' on the pool; unhandled, that
  // event would crash the process. The pool discards the client and reconnects on demand.
  pool.on('error', (error) => logError(error, 'PostgreSQL pool client error'));
  // A client checked out of the pool (e.g. inside a transaction, between two queries) has no
  // pool listener: its connection dropping would emit an unhandled 'error' and crash the
  // process. The query in progress or the next one fails instead, and the pool discards the
  // client when it is released.
  pool.on('connect', (client) => {
    client.on('error', (error) => logError(error, 'PostgreSQL connection lost'));
    if (preparedStatements) prepareStoreStatements(client);
  });

  let channel: string;
  try {
    if (schema !== undefined) await createSchemaIfMissing(pool, schema);
    // Changes to cached data are announced on a channel of this schema (src/store/change-feed.ts).
    const current =
      schema ?? (await pool.query<{ schema: string }>('select current_schema() as schema')).rows[0]?.schema ?? 'public';
    channel = changeChannelFor(current);
  } catch (error) {
    await pool.end();
    throw error;
  }

  const db = new Kysely<Schema>({
    dialect: new PostgresDialect({ pool }),
    log: queryLogger(logger),
  });
  logger?.info({ dialect: 'postgres', url: redactUrl(databaseUrl) }, 'store opened');
  return new KyselyStore(db, 'postgres', {
    notifications: { connectionString, channel, listen },
    readPoolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
  });
}

/** A PostgreSQL identifier we can put in `search_path` and DDL without quoting issues. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * Turns our `?schema=NAME` parameter into what `pg` understands: the startup option
 * `-c search_path=NAME`, which applies to every connection the pool opens. It must go into the
 * connection string itself, because pg lets the connection string's parameters override the
 * config object's.
 */
export function postgresConnectionString(databaseUrl: string): {
  connectionString: string;
  schema: string | undefined;
  /** False when the URL says `prepared_statements=false` (see prepareStoreStatements). */
  preparedStatements: boolean;
} {
  const url = new URL(databaseUrl);
  const prepared = url.searchParams.get('prepared_statements');
  if (prepared !== null && prepared !== 'true' && prepared !== 'false') {
    throw new Error(`Invalid prepared_statements "${prepared}" in database URL: expected true or false`);
  }
  const preparedStatements = prepared !== 'false';
  // Gatehouse's own parameter: pg would pass it on to the server, which does not know it.
  if (prepared !== null) {
    url.searchParams.delete('prepared_statements');
    databaseUrl = url.toString();
  }
  const schema = url.searchParams.get('schema') ?? undefined;
  if (schema === undefined) return { connectionString: databaseUrl, schema, preparedStatements };

  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `Invalid schema "${schema}" in database URL: use letters, digits and underscores, not starting with a digit`,
    );
  }
  url.searchParams.delete('schema');
  const existing = url.searchParams.get('options');
  const searchPath = `-c search_path=${schema}`;
  url.searchParams.set('options', existing ? `${existing} ${searchPath}` : searchPath);
  return { connectionString: url.toString(), schema, preparedStatements };
}

/**
 * Runs the store's compiled statements (src/store/executor.ts, preparedStatementName) as
 * named prepared statements on this connection: pg parses each once per connection and then
 * only binds and executes it. Every other query (Kysely-built ones, DDL, BEGIN/COMMIT) is sent
 * as before. Kysely calls `query(text, values)`; this names the calls it recognizes.
 */
function prepareStoreStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const named = (config: unknown, values?: unknown, callback?: unknown): unknown => {
    const name = typeof config === 'string' && Array.isArray(values) ? preparedStatementName(config) : undefined;
    if (name === undefined) return query(config, values, callback);
    return query({ name, text: config, values }, callback);
  };
  (client as unknown as { query: typeof named }).query = named;
}

async function createSchemaIfMissing(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (error) {
    // Two processes creating the schema at once can both pass IF NOT EXISTS; the loser gets a
    // unique violation although the schema now exists, which is all we wanted.
    if ((error as { code?: string }).code !== '23505') throw error;
  }
}

/**
 * pg parses BIGINT (int8) as a string because it can exceed 2^53. Our BIGINT columns hold
 * millisecond times, far below that, so we parse them to numbers — for this pool only, leaving
 * pg's global parsers untouched for any other user of the library in the process.
 */
const getTypeParser = ((oid: number, format?: 'text' | 'binary') => {
  if (oid === pg.types.builtins.INT8 && (format ?? 'text') === 'text') return parseInt8;
  return pg.types.getTypeParser(oid, format);
}) as typeof pg.types.getTypeParser;

function parseInt8(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) {
    throw new RangeError(`BIGINT value ${value} exceeds the safe integer range`);
  }
  return parsed;
}

// --- Shared ---------------------------------------------------------------------------------

/** Query errors at debug level (callers decide whether they matter), without parameters. */
function queryLogger(logger: StoreLogger | undefined): ((event: LogEvent) => void) | undefined {
  if (!logger) return undefined;
  return (event) => {
    if (event.level !== 'error') return;
    logger.debug(
      { sql: event.query.sql, durationMs: event.queryDurationMillis, err: event.error },
      'store query failed',
    );
  };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return databaseUrl.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}
