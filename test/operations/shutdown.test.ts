/**
 * Graceful shutdown: SIGTERM (and SIGINT) let the requests in flight finish, then the process
 * closes the database and exits 0; a restart on the same database loses nothing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCliServer, type CliServer } from '../helpers/cli.js';
import { assertTokenError, basicAuthorization, codeRequest, obtainCode, postToken } from '../helpers/code-flow.js';
import { ALICE, CONFIDENTIAL_CLIENT } from '../helpers/server.js';
import { openStore } from '../../src/store/open-store.js';
import type { RunningGatehouse } from '../../src/server.js';

const ENV = { GATEHOUSE_SECRET: 'shutdown-test-secret-0123456789-abcdefgh' };
const BASIC = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };

/** What the test helpers need of a server: its URL. */
function asGatehouse(server: CliServer): RunningGatehouse {
  return { url: server.url } as RunningGatehouse;
}

/**
 * A token request whose body arrives in two parts: the first now, the rest when `finish` is
 * called. Until then the request is in flight on the server.
 */
function slowTokenRequest(
  url: string,
  form: Record<string, string>,
): { finish(): void; response: Promise<{ status: number; body: Record<string, unknown> }> } {
  const body = new URLSearchParams(form).toString();
  const target = new URL('/token', url);
  const request = httpRequest({
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
      authorization: basicAuthorization(BASIC.id, BASIC.secret),
    },
  });
  const response = new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    request.on('error', reject);
    request.on('response', (incoming) => {
      let text = '';
      incoming.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      incoming.on('end', () =>
        resolve({ status: incoming.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
      );
    });
  });
  request.flushHeaders();
  request.write(body.slice(0, 10));
  return { finish: () => request.end(body.slice(10)), response };
}

/** Token requests the server has logged as received so far (its JSON logs on stdout). */
function incomingTokenRequests(server: CliServer): number {
  return server
    .stdout()
    .split('\n')
    .filter((line) => line.includes('"msg":"incoming request"') && line.includes('"url":"/token"')).length;
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  describe(`graceful shutdown on ${signal}`, () => {
    it(`${signal} drains the requests in flight, exits 0, and a restart loses nothing (client, user, refresh tokens)`, {
      timeout: 60_000,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-shutdown-'));
      const database = `sqlite:${join(dir, 'gh.db')}`;
      const config = join(dir, 'gatehouse.json');
      writeFileSync(config, JSON.stringify({ clients: [CONFIDENTIAL_CLIENT], users: [ALICE] }));
      const args = ['--config', config, '--database', database, '--port', '0', '--host', '127.0.0.1'];
      try {
        const first = await startCliServer(args, { env: ENV });
        let slowRefresh;
        let slowCode;
        let refreshToken: string;
        try {
          const gatehouse = asGatehouse(first);
          const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT, { scope: 'openid offline_access' });
          const tokens = await postToken(gatehouse, codeRequest(obtained), { basic: BASIC });
          assert.equal(tokens.status, 200, tokens.text);
          refreshToken = tokens.body['refresh_token'] as string;
          const pending = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT, { scope: 'openid offline_access' });

          // Two requests in flight (their bodies half sent) when the signal arrives.
          const tokenRequestsBefore = incomingTokenRequests(first);
          slowRefresh = slowTokenRequest(first.url, { grant_type: 'refresh_token', refresh_token: refreshToken });
          slowCode = slowTokenRequest(first.url, codeRequest(pending) as Record<string, string>);
          // The server logged both (JSON log line "incoming request"): it is reading their bodies.
          await waitFor(
            () => incomingTokenRequests(first) === tokenRequestsBefore + 2,
            'the server to receive both requests',
          );
        } catch (error) {
          first.child.kill('SIGKILL');
          throw error;
        }
        first.child.kill(signal);
        await waitFor(() => first.stderr().includes(`Received ${signal}`), 'the signal to be handled');
        slowRefresh.finish();
        slowCode.finish();
        const [refreshed, redeemed] = await Promise.all([slowRefresh.response, slowCode.response]);
        assert.equal(refreshed.status, 200, `the refresh in flight completed: ${JSON.stringify(refreshed.body)}`);
        assert.equal(redeemed.status, 200, `the code redemption in flight completed: ${JSON.stringify(redeemed.body)}`);
        assert.equal(await first.exited, 0, first.stderr());

        // Restart on the same database: nothing was lost.
        const store = await openStore(database);
        try {
          assert.ok(await store.clients.get(CONFIDENTIAL_CLIENT.client_id), 'the client');
          assert.ok(await store.users.getByUsername(ALICE.username), 'the user');
        } finally {
          await store.close();
        }
        const second = await startCliServer(args, { env: ENV });
        try {
          const gatehouse = asGatehouse(second);
          // RFC 6749 §6 with rotation (RFC 9700 §4.14.2): the successors handed out while the
          // first process was shutting down are valid, and the rotated token stays used up.
          const next = await postToken(
            gatehouse,
            { grant_type: 'refresh_token', refresh_token: refreshed.body['refresh_token'] as string },
            { basic: BASIC },
          );
          assert.equal(next.status, 200, next.text);
          const fromCode = await postToken(
            gatehouse,
            { grant_type: 'refresh_token', refresh_token: redeemed.body['refresh_token'] as string },
            { basic: BASIC },
          );
          assert.equal(fromCode.status, 200, fromCode.text);
          // The user logs in again on the restarted server.
          const again = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
          assert.equal((await postToken(gatehouse, codeRequest(again), { basic: BASIC })).status, 200);
          assertTokenError(
            await postToken(gatehouse, { grant_type: 'refresh_token', refresh_token: refreshToken }, { basic: BASIC }),
            400,
            'invalid_grant',
          );
        } finally {
          second.child.kill('SIGTERM');
          assert.equal(await second.exited, 0, second.stderr());
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
