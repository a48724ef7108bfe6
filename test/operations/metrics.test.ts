/**
 * Prometheus metrics at /metrics: off unless a bearer token is configured, and after a real
 * flow the counters fed by protocol events and request hooks have moved.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, STORE_TARGETS, startTestServer } from '../helpers/server.js';
import {
  assertTokenError,
  authorizeParams,
  codeRequest,
  obtainCode,
  openLoginPage,
  postToken,
} from '../helpers/code-flow.js';
import { onStoreTargetServer } from '../helpers/operations-servers.js';
import { UserAgent, isLoginPage } from '../helpers/user-agent.js';
import type { RunningGatehouse } from '../../src/server.js';

const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

async function scrape(
  gatehouse: RunningGatehouse,
  token: string | null = METRICS_TOKEN,
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(
    `${gatehouse.url}/metrics`,
    token === null ? {} : { headers: { authorization: `Bearer ${token}` } },
  );
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The value of one sample, e.g. sample(text, 'gatehouse_tokens_issued_total', { grant_type: 'refresh_token' }). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map(
      [...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
    );
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}

describe('metrics endpoint protection', () => {
  it('is disabled (404) without a configured metrics token: the main port never exposes metrics by default', async () => {
    const gatehouse = await startTestServer();
    try {
      const response = await scrape(gatehouse, null);
      assert.equal(response.status, 404);
      assert.equal(JSON.parse(response.text).error, 'not_found');
      assert.doesNotMatch(response.text, /gatehouse_/);
      assert.equal((await scrape(gatehouse, METRICS_TOKEN)).status, 404, 'no token unlocks it either');
    } finally {
      await gatehouse.close();
    }
  });

  it('RFC 6750 §3: answers 401 with a Bearer challenge without the token or with a wrong one', async () => {
    const gatehouse = await startTestServer({ settings: { metricsToken: METRICS_TOKEN } });
    try {
      const missing = await scrape(gatehouse, null);
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer realm="gatehouse-metrics"$/);
      const wrong = await scrape(gatehouse, 'not-the-metrics-token-at-all');
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      assert.doesNotMatch(wrong.text, /gatehouse_http/);
      const basic = await fetch(`${gatehouse.url}/metrics`, {
        headers: { authorization: `Basic ${Buffer.from(`x:${METRICS_TOKEN}`).toString('base64')}` },
      });
      assert.equal(basic.status, 401);
      const ok = await scrape(gatehouse);
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    } finally {
      await gatehouse.close();
    }
  });
});

for (const target of STORE_TARGETS) {
  describe(`metrics after a real flow on ${target.name}`, () => {
    it(
      'counts requests per route pattern and outcome, tokens per grant type, login failures, refresh reuse, pool and process state',
      onStoreTargetServer(
        target,
        { settings: { metricsToken: METRICS_TOKEN, refreshTokenGraceSeconds: 0 } },
        async (gatehouse) => {
          const basic = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };
          // A failed login first (OIDC Core §3.1.2.3: the user authenticates; here wrongly).
          const ua = new UserAgent(gatehouse.url);
          const loginPage = await openLoginPage(
            gatehouse,
            ua,
            authorizeParams(PUBLIC_CLIENT, { scope: 'openid', state: 'x' }),
          );
          const failed = await ua.submit(loginPage, { username: 'alice', password: 'wrong password' });
          assert.ok(isLoginPage(failed), 'the login page again after a wrong password');

          // A full code flow with a refresh token, one refresh, then a reuse of the rotated token.
          const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT, { scope: 'openid offline_access' });
          const tokens = await postToken(gatehouse, codeRequest(obtained), { basic });
          assert.equal(tokens.status, 200, tokens.text);
          const refreshToken = tokens.body['refresh_token'] as string;
          const refreshed = await postToken(
            gatehouse,
            { grant_type: 'refresh_token', refresh_token: refreshToken },
            { basic },
          );
          assert.equal(refreshed.status, 200, refreshed.text);
          // RFC 9700 §4.14.2: the rotated token presented again is reuse.
          assertTokenError(
            await postToken(gatehouse, { grant_type: 'refresh_token', refresh_token: refreshToken }, { basic }),
            400,
            'invalid_grant',
          );
          // RFC 6749 §4.1.2: the code presented again.
          assertTokenError(await postToken(gatehouse, codeRequest(obtained), { basic }), 400, 'invalid_grant');

          const { status, text } = await scrape(gatehouse);
          assert.equal(status, 200);
          assert.equal(sample(text, 'gatehouse_tokens_issued_total', { grant_type: 'authorization_code' }), 1);
          assert.equal(sample(text, 'gatehouse_tokens_issued_total', { grant_type: 'refresh_token' }), 1);
          assert.equal(sample(text, 'gatehouse_login_failures_total'), 1);
          assert.equal(sample(text, 'gatehouse_logins_total'), 1);
          assert.equal(sample(text, 'gatehouse_refresh_token_reuse_detected_total'), 1);
          assert.equal(sample(text, 'gatehouse_authorization_code_replays_total'), 1);
          assert.equal(sample(text, 'gatehouse_token_requests_refused_total', { error: 'invalid_grant' }), 2);
          // Requests by route pattern and outcome (status class and OAuth error code).
          assert.equal(
            sample(text, 'gatehouse_http_requests_total', {
              route: '/token',
              method: 'POST',
              status_class: '2xx',
              error: '',
            }),
            2,
          );
          assert.equal(
            sample(text, 'gatehouse_http_requests_total', {
              route: '/token',
              method: 'POST',
              status_class: '4xx',
              error: 'invalid_grant',
            }),
            2,
          );
          assert.equal(
            sample(text, 'gatehouse_http_request_duration_seconds_count', {
              route: '/token',
              method: 'POST',
              status_class: '2xx',
              error: '',
            }),
            2,
          );
          assert.equal(
            sample(text, 'gatehouse_http_request_duration_seconds_bucket', {
              route: '/token',
              method: 'POST',
              status_class: '2xx',
              error: '',
              le: '+Inf',
            }),
            2,
          );
          assert.ok(
            (sample(text, 'gatehouse_http_requests_total', {
              route: '/authorize',
              method: 'GET',
              status_class: '3xx',
              error: '',
            }) ?? 0) >= 2,
          );
          // Interaction pages are counted under their pattern, never under a raw URL with its id.
          assert.ok(text.includes('route="/interaction/:id'), 'interaction route pattern');
          const interactionId = new URL(loginPage.url).pathname.split('/')[2]!;
          assert.ok(!text.includes(interactionId), 'no raw interaction id in the metrics');
          // State read at scrape time.
          assert.equal(sample(text, 'gatehouse_db_ready', { dialect: target.name }), 1);
          if (target.name === 'postgres') {
            assert.ok((sample(text, 'gatehouse_db_pool_connections', { state: 'total' }) ?? 0) >= 1);
            assert.equal(typeof sample(text, 'gatehouse_db_pool_connections', { state: 'waiting' }), 'number');
          } else {
            assert.equal(
              sample(text, 'gatehouse_db_pool_connections', { state: 'total' }),
              undefined,
              'embedded SQLite has no pool',
            );
          }
          assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0);
          assert.equal(typeof sample(text, 'nodejs_eventloop_lag_seconds', { quantity: 'p99' }), 'number');
          // Every sample line is well formed (text exposition format 0.0.4).
          for (const line of text.trimEnd().split('\n')) {
            assert.match(
              line,
              /^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf))$/,
              line,
            );
          }
        },
      ),
    );
  });
}
