/**
 * Slow and idle clients: the HTTP server's request, headers, keep-alive and connection timeouts
 * and its connection cap (settings request_timeout_ms, headers_timeout_ms,
 * keep_alive_timeout_ms, connection_timeout_ms, max_connections). Each client is a raw TCP
 * socket, so nothing in between completes or abandons the request for it.
 *
 * The bounds below only say "closed at all, long before a forgotten timeout would": with no
 * timeout the connections stay open for minutes (Fastify's requestTimeout 0 switches Node's
 * 300 s limit off).
 *
 * Run: node scripts/run-tests.mjs test/http/timeouts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { GatehouseSettings } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { postgresSkipMessage } from '../helpers/postgres.js';
import { STORE_TARGETS, startTestServer, type StoreTarget } from '../helpers/server.js';

/** Far longer than any timeout configured here, far shorter than the defaults being replaced. */
const CLOSED_WITHIN_MS = 10_000;

interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server closed the connection; rejects after `withinMs`. */
  closed(withinMs?: number): Promise<void>;
}

async function open(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (data += chunk));
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => data,
    closed: (withinMs = CLOSED_WITHIN_MS) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `the server kept the connection open for ${withinMs} ms; received: ${JSON.stringify(data.slice(0, 200))}`,
              ),
            ),
          withinMs,
        );
        void ended.then(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** The server answered nothing, or 408 Request Timeout (RFC 9110 §15.5.9), before closing. */
function assertNothingOr408(received: string): void {
  if (received !== '')
    assert.match(received, /^HTTP\/1\.1 408 /, 'RFC 9110 §15.5.9: a request not completed in time gets 408');
}

/**
 * Runs `run` against a server on the target's store (a fresh PostgreSQL schema each time); skips
 * when PostgreSQL is unreachable outside CI (postgresTestUrl fails under CI=true).
 */
async function withServer(
  target: StoreTarget,
  t: { skip(message: string): void },
  settings: Partial<GatehouseSettings>,
  run: (gatehouse: RunningGatehouse) => Promise<void>,
): Promise<void> {
  const databaseUrl = await target.url();
  if (databaseUrl === undefined) return t.skip(postgresSkipMessage());
  const gatehouse = await startTestServer({ settings, databaseUrl });
  try {
    await run(gatehouse);
  } finally {
    await gatehouse.close();
    await target.cleanup(databaseUrl);
  }
}

// Long idle and keep-alive timeouts, so each test shows the one limit it is about.
const LONG = {
  requestTimeoutMs: 60_000,
  headersTimeoutMs: 60_000,
  keepAliveTimeoutMs: 60_000,
  connectionTimeoutMs: 60_000,
};

for (const target of STORE_TARGETS)
  describe(`HTTP server timeouts (RFC 9110 §15.5.9 408 Request Timeout, RFC 9112 §9.5 closing idle connections) on ${target.name}`, () => {
    it('RFC 9110 §15.5.9: a POST announcing a body it never sends is answered 408 or closed (request_timeout_ms)', async (t) => {
      await withServer(target, t, { ...LONG, requestTimeoutMs: 300, headersTimeoutMs: 300 }, async (gatehouse) => {
        const connection = await open(gatehouse.url);
        connection.socket.write(
          'POST /token HTTP/1.1\r\nHost: gatehouse\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=',
        );
        await connection.closed();
        assertNothingOr408(connection.received());
      });
    });

    it('RFC 9110 §15.5.9: headers trickled in one line at a time are cut off (headers_timeout_ms)', async (t) => {
      await withServer(target, t, { ...LONG, requestTimeoutMs: 60_000, headersTimeoutMs: 300 }, async (gatehouse) => {
        const connection = await open(gatehouse.url);
        connection.socket.write('GET /.well-known/openid-configuration HTTP/1.1\r\nHost: gatehouse\r\n');
        // Never idle (so the connection timeout is not what closes it), never finished.
        let line = 0;
        const trickle = setInterval(() => {
          if (!connection.socket.destroyed) connection.socket.write(`X-Slow-${line++}: a\r\n`);
        }, 50);
        try {
          await connection.closed();
        } finally {
          clearInterval(trickle);
        }
        assertNothingOr408(connection.received());
      });
    });

    it('RFC 9112 §9.5: an idle keep-alive connection is closed after its last response (keep_alive_timeout_ms)', async (t) => {
      await withServer(target, t, { ...LONG, keepAliveTimeoutMs: 300 }, async (gatehouse) => {
        const connection = await open(gatehouse.url);
        connection.socket.write('GET /.well-known/openid-configuration HTTP/1.1\r\nHost: gatehouse\r\n\r\n');
        await connection.closed();
        assert.match(connection.received(), /^HTTP\/1\.1 200 /, 'the request itself was answered');
      });
    });

    it('RFC 9112 §9.5: a connection that never sends anything is closed (connection_timeout_ms)', async (t) => {
      await withServer(target, t, { ...LONG, connectionTimeoutMs: 300 }, async (gatehouse) => {
        const connection = await open(gatehouse.url);
        await connection.closed();
        assert.equal(connection.received(), '');
      });
    });

    it('max_connections: a connection beyond the cap is closed at once, and one is accepted again after another closed', async (t) => {
      await withServer(target, t, { ...LONG, maxConnections: 2 }, async (gatehouse) => {
        const first = await open(gatehouse.url);
        const second = await open(gatehouse.url);
        // Both are accepted: each gets an answer.
        for (const connection of [first, second])
          connection.socket.write('GET /.well-known/openid-configuration HTTP/1.1\r\nHost: gatehouse\r\n\r\n');
        await waitFor(
          () => first.received().startsWith('HTTP/1.1 200 ') && second.received().startsWith('HTTP/1.1 200 '),
        );
        const third = await open(gatehouse.url);
        third.socket.write('GET /.well-known/openid-configuration HTTP/1.1\r\nHost: gatehouse\r\n\r\n');
        await third.closed();
        assert.equal(third.received(), '', 'refused without an answer');

        first.socket.destroy();
        await first.closed();
        await waitFor(async () => {
          const fourth = await open(gatehouse.url);
          fourth.socket.write(
            'GET /.well-known/openid-configuration HTTP/1.1\r\nHost: gatehouse\r\nConnection: close\r\n\r\n',
          );
          await fourth.closed();
          return fourth.received().startsWith('HTTP/1.1 200 ');
        });
        second.socket.destroy();
      });
    });
  });

/** Polls `check` until it holds (the server learns of a closed socket asynchronously). */
async function waitFor(check: () => boolean | Promise<boolean>, withinMs = CLOSED_WITHIN_MS): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HTTP server limits: the defaults', () => {
  let gatehouse: RunningGatehouse;
  before(async () => {
    gatehouse = await startTestServer();
  });
  after(async () => {
    await gatehouse.close();
  });

  it('every limit is on by default (Node: 0 switches a timeout off)', () => {
    const server = gatehouse.app.server;
    assert.equal(server.requestTimeout, 30_000);
    assert.equal(server.headersTimeout, 10_000);
    assert.equal(server.keepAliveTimeout, 5_000);
    assert.equal(server.timeout, 60_000);
    assert.equal(server.maxConnections, 10_000);
  });
});
