/**
 * Which real driver errors count as "the database is unavailable" (503 temporarily_unavailable,
 * RFC 6749 §4.1.2.1 / §5.2) and which are bugs (500 server_error). Every error here is produced
 * by the real driver, not written by hand.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { isStoreUnavailableError } from '../../src/store/store-errors.js';
import { postgresSkipMessage, postgresTestUrl, dropPostgresSchema } from '../helpers/postgres.js';

async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  assert.fail('expected an error');
}

/** What a synchronous call throws (undefined when it returns). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** What `SELECT 1` through a pg pool to 127.0.0.1:`port` fails with (connection timeout `connectionTimeoutMillis`). */
async function poolQueryError(port: number, connectionTimeoutMillis: number): Promise<unknown> {
  const pool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectionTimeoutMillis });
  pool.on('error', () => {});
  const error = await caught(() => pool.query('SELECT 1'));
  await pool.end();
  return error;
}

/** A TCP server that accepts connections and never answers (a database that hangs). */
async function blackhole(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => sockets.add(socket.on('error', () => {})));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('store errors: unavailable (503) or a bug (500)', () => {
  it('pg: a refused connection (ECONNREFUSED) is unavailable', async () => {
    const hole = await blackhole();
    await hole.close(); // the port is now closed
    const error = await poolQueryError(hole.port, 2000);
    assert.equal(isStoreUnavailableError(error), true, String(error));
  });

  it('pg: a connection attempt that times out (pool connectionTimeoutMillis) is unavailable', async () => {
    const hole = await blackhole();
    const error = await poolQueryError(hole.port, 200);
    await hole.close();
    assert.match(String((error as Error).message), /timeout/);
    assert.equal(isStoreUnavailableError(error), true, String(error));
  });

  it('pg: a connection ended under a query ("Connection terminated unexpectedly") is unavailable', async () => {
    const sockets = new Set<Socket>();
    // Answers nothing, then hangs up once the client has sent its startup message.
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const client = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${(server.address() as { port: number }).port}/test`,
    });
    client.on('error', () => {});
    const error = await caught(() => client.connect());
    await new Promise((resolve) => server.close(resolve));
    assert.equal(isStoreUnavailableError(error), true, String(error));
  });

  it('pg: SQL errors (syntax, unique violation) are bugs, not outages; 57P01 (terminated by the administrator) is an outage', async (t) => {
    const url = await postgresTestUrl();
    if (!url) return t.skip(postgresSkipMessage());
    const client = new pg.Client({ connectionString: url.replace(/\?.*$/, '') });
    client.on('error', () => {});
    await client.connect();
    try {
      assert.equal(isStoreUnavailableError(await caught(() => client.query('SELEC 1'))), false, 'syntax error 42601');
      await client.query('CREATE TEMP TABLE t (id int PRIMARY KEY)');
      await client.query('INSERT INTO t VALUES (1)');
      assert.equal(
        isStoreUnavailableError(await caught(() => client.query('INSERT INTO t VALUES (1)'))),
        false,
        'unique violation 23505',
      );
      const terminated = await caught(() => client.query('SELECT pg_terminate_backend(pg_backend_pid())'));
      assert.equal((terminated as { code?: string }).code, '57P01');
      assert.equal(isStoreUnavailableError(terminated), true);
      // Afterwards the client is broken; its next query fails with a message-only error.
      assert.equal(isStoreUnavailableError(await caught(() => client.query('SELECT 1'))), true);
    } finally {
      await client.end().catch(() => {});
      await dropPostgresSchema(url);
    }
  });

  it('SQLite: a database locked by another connection (SQLITE_BUSY) is unavailable; a constraint violation or a closed database are not confused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-errors-'));
    try {
      const file = join(dir, 'x.db');
      const holder = new Database(file);
      holder.pragma('journal_mode = WAL');
      holder.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
      const other = new Database(file);
      other.pragma('busy_timeout = 0');
      holder.exec('BEGIN IMMEDIATE');
      const busy = thrownBy(() => other.exec('INSERT INTO t VALUES (1)'));
      holder.exec('ROLLBACK');
      assert.match(String((busy as { code?: string }).code), /^SQLITE_BUSY/);
      assert.equal(isStoreUnavailableError(busy), true);

      other.exec('INSERT INTO t VALUES (1)');
      const constraint = thrownBy(() => other.exec('INSERT INTO t VALUES (1)'));
      assert.match(String((constraint as { code?: string }).code), /^SQLITE_CONSTRAINT/);
      assert.equal(isStoreUnavailableError(constraint), false);
      other.close();
      // A request still running while the server shuts down finds the database closed.
      const closed = thrownBy(() => other.prepare('SELECT 1'));
      assert.equal(isStoreUnavailableError(closed), true, String(closed));
      holder.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plain programming errors are not outages', () => {
    assert.equal(isStoreUnavailableError(new TypeError('Cannot read properties of undefined')), false);
    assert.equal(isStoreUnavailableError(new Error('Corrupt scope value')), false);
    assert.equal(isStoreUnavailableError(undefined), false);
    assert.equal(isStoreUnavailableError('ECONNREFUSED'), false);
  });
});
