/**
 * Database outages (RFC 6749 §4.1.2.1 / §5.2 `temporarily_unavailable`): while the database is
 * unreachable Gatehouse answers 503 on every endpoint that needs it, `/readyz` says so while
 * `/healthz` stays 200, nothing is half-written, and it recovers by itself when the database
 * returns. Against the real PostgreSQL, through a TCP proxy the test cuts and restores; and on
 * SQLite, where a database locked by another process answers 503 as well.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import {
  assertNoStore,
  assertTokenError,
  authorizeParams,
  authorizeUrl,
  codeRequest,
  obtainCode,
  openLoginPage,
  postToken,
  type ObtainedCode,
} from '../helpers/code-flow.js';
import { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } from '../helpers/postgres.js';
import { DatabaseProxy } from '../helpers/db-proxy.js';
import { UserAgent, type PageResponse } from '../helpers/user-agent.js';
import { storedTokenKey } from '../../src/core/secrets.js';
import { openStore } from '../../src/store/open-store.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import type { RunningGatehouse } from '../../src/server.js';

const APPLICATION_NAME = `gh_outage_${process.pid}`;
const BASIC = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };

/** RFC 6749 §5.2 / RFC 9110 §15.6.4: 503, temporarily_unavailable, no-store, Retry-After. */
function assertUnavailableJson(response: { status: number; headers: Headers; text: string }, what: string): void {
  assert.equal(response.status, 503, `${what}: ${response.status} ${response.text}`);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, what);
  assert.equal(JSON.parse(response.text).error, 'temporarily_unavailable', what);
  assertNoStore(response);
  assert.ok(response.headers.get('retry-after'), `${what}: Retry-After`);
}

/** RFC 6749 §4.1.2.1: a browser endpoint shows the error page (it cannot trust a redirect_uri it could not look up). */
function assertUnavailablePage(page: PageResponse, what: string): void {
  assert.equal(page.status, 503, `${what}: ${page.status} ${page.body.slice(0, 200)}`);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/, what);
  assert.match(page.body, /temporarily_unavailable/, what);
  assert.doesNotMatch(page.body, /\n\s+at /, `${what}: no stack trace`);
  assert.ok(page.headers.get('retry-after'), `${what}: Retry-After`);
}

async function fetchText(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** Polls /readyz until it answers `status` (bounded; the server recovers on its own). */
async function waitForReadiness(gatehouse: RunningGatehouse, status: number): Promise<void> {
  let last = 0;
  for (let attempt = 0; attempt < 100; attempt++) {
    last = (await fetch(`${gatehouse.url}/readyz`)).status;
    if (last === status) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`/readyz stayed ${last}, expected ${status}`);
}

/** A code flow of the confidential client with offline_access: its access and refresh tokens. */
async function obtainTokens(gatehouse: RunningGatehouse): Promise<{ accessToken: string; refreshToken: string }> {
  const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT, { scope: 'openid offline_access' });
  const tokens = await postToken(gatehouse, codeRequest(obtained), { basic: BASIC });
  assert.equal(tokens.status, 200, tokens.text);
  return { accessToken: tokens.body['access_token'] as string, refreshToken: tokens.body['refresh_token'] as string };
}

/** RFC 6749 §6: the confidential client presents `refreshToken`. */
function refresh(gatehouse: RunningGatehouse, refreshToken: string): ReturnType<typeof postToken> {
  return postToken(gatehouse, { grant_type: 'refresh_token', refresh_token: refreshToken }, { basic: BASIC });
}

/** A new authorization request of the confidential client (scope openid, PKCE S256) in a new user agent. */
function openAuthorization(gatehouse: RunningGatehouse): Promise<PageResponse> {
  const params = authorizeParams(CONFIDENTIAL_CLIENT, { scope: 'openid', state: undefined });
  return new UserAgent(gatehouse.url).navigate(authorizeUrl(gatehouse, params));
}

/** The grant id and the consumption time of the authorization code stored under `codeHash`. */
function storedCode(store: KyselyStore, codeHash: string): Promise<{ grant_id: string; consumed_at: number | null }> {
  return store.db
    .selectFrom('authorization_codes')
    .select(['grant_id', 'consumed_at'])
    .where('code_hash', '=', codeHash)
    .executeTakeFirstOrThrow();
}

/**
 * Runs `work` while every insert into access_tokens makes PostgreSQL terminate the inserting
 * connection (the server's own backend dies in the middle of its transaction).
 */
async function whileAccessTokenInsertsKillTheConnection<T>(direct: KyselyStore, work: () => Promise<T>): Promise<T> {
  await sql`CREATE FUNCTION gh_kill_connection() RETURNS trigger AS $$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$ LANGUAGE plpgsql`.execute(
    direct.db,
  );
  await sql`CREATE TRIGGER gh_kill_connection BEFORE INSERT ON access_tokens FOR EACH ROW EXECUTE FUNCTION gh_kill_connection()`.execute(
    direct.db,
  );
  try {
    return await work();
  } finally {
    await sql`DROP TRIGGER gh_kill_connection ON access_tokens`.execute(direct.db);
    await sql`DROP FUNCTION gh_kill_connection()`.execute(direct.db);
  }
}

/** An interaction started before the outage: the login page's URL. */
async function startInteraction(gatehouse: RunningGatehouse): Promise<{ ua: UserAgent; page: PageResponse }> {
  const ua = new UserAgent(gatehouse.url);
  const page = await openLoginPage(
    gatehouse,
    ua,
    authorizeParams(CONFIDENTIAL_CLIENT, { scope: 'openid', state: 'st' }),
  );
  return { ua, page };
}

describe('database outage on PostgreSQL (TCP proxy cut and restored)', async () => {
  const realUrl = await postgresTestUrl();
  const skip = realUrl ? false : postgresSkipMessage();
  let proxy: DatabaseProxy;
  let gatehouse: RunningGatehouse;
  let direct: KyselyStore;

  before(async () => {
    if (!realUrl) return;
    const target = new URL(realUrl);
    proxy = await DatabaseProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(proxy.rewrite(realUrl));
    // Names Gatehouse's connections in pg_stat_activity.
    proxied.searchParams.set('application_name', APPLICATION_NAME);
    gatehouse = await startTestServer({ databaseUrl: proxied.toString(), settings: { refreshTokenGraceSeconds: 0 } });
    // The test's own view of the database, not through the proxy.
    direct = (await openStore(realUrl)) as KyselyStore;
  });
  after(async () => {
    if (!realUrl) return;
    await gatehouse?.close();
    await proxy?.close();
    await direct?.close();
    await dropPostgresSchema(realUrl);
  });

  it('RFC 6749 §4.1.2.1 / §5.2: 503 temporarily_unavailable while cut, /readyz 503, /healthz 200; a code presented during the cut is redeemable exactly once after; recovery without restart', {
    skip,
  }, async () => {
    // Normal operation.
    const { accessToken, refreshToken } = await obtainTokens(gatehouse);
    const pending = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT, { scope: 'openid offline_access' });
    const interaction = await startInteraction(gatehouse);
    await waitForReadiness(gatehouse, 200);

    proxy.cutConnections();
    try {
      assertUnavailableJson(
        await postToken(gatehouse, codeRequest(pending), { basic: BASIC }),
        'token request (authorization_code)',
      );
      assertUnavailableJson(await refresh(gatehouse, refreshToken), 'token request (refresh_token)');
      const form = {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${BASIC.id}:${BASIC.secret}`).toString('base64')}`,
      };
      assertUnavailableJson(
        await fetchText(`${gatehouse.url}/introspect`, { method: 'POST', headers: form, body: `token=${accessToken}` }),
        'introspection',
      );
      assertUnavailableJson(
        await fetchText(`${gatehouse.url}/revoke`, { method: 'POST', headers: form, body: `token=${refreshToken}` }),
        'revocation',
      );
      assertUnavailableJson(
        await fetchText(`${gatehouse.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } }),
        'userinfo',
      );

      assertUnavailablePage(await openAuthorization(gatehouse), 'authorization request');
      assertUnavailablePage(
        await interaction.ua.request(interaction.page.url),
        'login page of an interaction started before the cut',
      );

      // Readiness answers are cached for a second; within a few it turns.
      await waitForReadiness(gatehouse, 503);
      const ready = await fetchText(`${gatehouse.url}/readyz`);
      assert.equal(ready.status, 503, ready.text);
      assert.deepEqual(JSON.parse(ready.text), { status: 'unavailable', database: 'unreachable' });
      const health = await fetchText(`${gatehouse.url}/healthz`);
      assert.equal(health.status, 200, 'liveness does not depend on the database');
    } finally {
      proxy.restore();
    }

    // Recovery, without a restart.
    await waitForReadiness(gatehouse, 200);
    const late = await postToken(gatehouse, codeRequest(pending), { basic: BASIC });
    assert.equal(late.status, 200, `the code presented during the cut is still redeemable: ${late.text}`);
    assertTokenError(await postToken(gatehouse, codeRequest(pending), { basic: BASIC }), 400, 'invalid_grant');
    const refreshed = await refresh(gatehouse, refreshToken);
    assert.equal(refreshed.status, 200, `the refresh token refused during the cut works: ${refreshed.text}`);
    const fresh = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
    assert.equal(
      (await postToken(gatehouse, codeRequest(fresh), { basic: BASIC })).status,
      200,
      'a whole new flow works',
    );
    const resumed = await interaction.ua.submit(interaction.page, {
      username: 'alice',
      password: 'correct horse battery staple',
    });
    assert.ok(
      resumed.status === 200 || resumed.status === 303,
      `the interaction started before the cut continues: ${resumed.status}`,
    );
  });

  it('RFC 6749 §4.1.2: a connection lost in the middle of a redemption leaves no half state: the code stays redeemable and no token of it exists', {
    skip,
  }, async () => {
    const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT, { scope: 'openid offline_access' });
    const codeHash = storedTokenKey(obtained.code);
    const grantId = (await storedCode(direct, codeHash)).grant_id;
    // The database connection dies after the code was marked consumed and the refresh token
    // inserted, while the access token is being inserted: the server terminates its own backend.
    const response = await whileAccessTokenInsertsKillTheConnection(direct, () =>
      postToken(gatehouse, codeRequest(obtained), { basic: BASIC }),
    );
    assertTokenError(response, 503, 'temporarily_unavailable');
    assert.ok(response.headers.get('retry-after'));

    assert.equal((await storedCode(direct, codeHash)).consumed_at, null, 'the code is not consumed');
    assert.deepEqual(await direct.refreshTokens.listByGrant(grantId), [], 'no refresh token was kept');
    assert.deepEqual(await direct.accessTokens.listByGrant(grantId), [], 'no access token was kept');

    // The client retries: exactly one redemption succeeds, and its tokens exist.
    const retried = await postToken(gatehouse, codeRequest(obtained), { basic: BASIC });
    assert.equal(retried.status, 200, retried.text);
    assertTokenError(await postToken(gatehouse, codeRequest(obtained), { basic: BASIC }), 400, 'invalid_grant');
    assert.equal((await direct.accessTokens.listByGrant(grantId)).length, 1);
    assert.equal((await direct.refreshTokens.listByGrant(grantId)).length, 1);
  });

  it('RFC 9700 §4.14.2: a connection lost in the middle of a refresh leaves the presented refresh token unrotated, so the retry succeeds (no reuse detection)', {
    skip,
  }, async () => {
    const { refreshToken } = await obtainTokens(gatehouse);
    const response = await whileAccessTokenInsertsKillTheConnection(direct, () => refresh(gatehouse, refreshToken));
    assertTokenError(response, 503, 'temporarily_unavailable');
    const stored = await direct.refreshTokens.get(storedTokenKey(refreshToken));
    assert.equal(stored?.rotatedAt, null, 'the refresh token was not rotated');
    assert.equal((await direct.refreshTokens.listByGrant(stored!.grantId)).length, 1, 'no successor was kept');
    // With no grace window (refreshTokenGraceSeconds: 0), a rotated token presented again would
    // revoke the family; the retry succeeds because nothing was rotated.
    const retried = await refresh(gatehouse, refreshToken);
    assert.equal(retried.status, 200, retried.text);
  });

  it('connections killed by the server (pg_terminate_backend, as in a failover) do not crash the process; the pool reconnects', {
    skip,
  }, async () => {
    // Some idle connections in the pool.
    const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
    assert.equal((await postToken(gatehouse, codeRequest(obtained), { basic: BASIC })).status, 200);
    assert.ok(gatehouse.store.poolStats()!.idle >= 1, 'idle pooled connections');
    // Only Gatehouse's own connections (named by application_name); other tests share the server.
    const pids = (
      await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE application_name = ${APPLICATION_NAME}`.execute(
        direct.db,
      )
    ).rows.map((row) => row.pid);
    assert.ok(pids.length >= 1, 'Gatehouse has connections');
    for (const pid of pids) await sql`SELECT pg_terminate_backend(${pid}::int)`.execute(direct.db);
    // Each idle client whose connection died emits 'error' on the pool, which drops it. Background
    // work (key reloads, cleanup, logout deliveries) may open new connections meanwhile, so the
    // check is that every connection left in the pool is a live one, none of the killed.
    const liveConnections = async (): Promise<number> =>
      (
        await sql<{
          pid: number;
        }>`SELECT pid FROM pg_stat_activity WHERE application_name = ${APPLICATION_NAME}`.execute(direct.db)
      ).rows.filter((row) => !pids.includes(row.pid)).length;
    for (let attempt = 0; attempt < 100 && gatehouse.store.poolStats()!.total > (await liveConnections()); attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(gatehouse.store.poolStats()!.total <= (await liveConnections()), 'the dead connections left the pool');
    const again = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
    const tokens = await postToken(gatehouse, codeRequest(again), { basic: BASIC });
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal((await fetch(`${gatehouse.url}/healthz`)).status, 200);
  });
});

describe('database outage on SQLite (the file locked by another process)', () => {
  it('RFC 6749 §4.1.2.1 / §5.2: a write lock held past the busy timeout answers 503 temporarily_unavailable, not 500; then everything works again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-outage-'));
    const file = join(dir, 'gh.db');
    const gatehouse = await startTestServer({ databaseUrl: `sqlite:${file}` });
    const locker = new Database(file);
    try {
      const pending: ObtainedCode = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT);
      // Another process takes the write lock and keeps it (SQLITE_BUSY after the busy timeout).
      locker.exec('BEGIN IMMEDIATE');
      try {
        assertUnavailableJson(await postToken(gatehouse, codeRequest(pending), { basic: BASIC }), 'token request');
        assertUnavailablePage(await openAuthorization(gatehouse), 'authorization request');
        assert.equal((await fetch(`${gatehouse.url}/healthz`)).status, 200);
      } finally {
        locker.exec('ROLLBACK');
      }
      // The refused redemption wrote nothing: the code is redeemable exactly once.
      assert.equal((await postToken(gatehouse, codeRequest(pending), { basic: BASIC })).status, 200);
      assertTokenError(await postToken(gatehouse, codeRequest(pending), { basic: BASIC }), 400, 'invalid_grant');
      await waitForReadiness(gatehouse, 200);
    } finally {
      locker.close();
      await gatehouse.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('RFC 6749 §4.1.2: a failure in the middle of a redemption rolls the whole redemption back (the code stays redeemable)', async () => {
    const gatehouse = await startTestServer();
    const store = gatehouse.store as KyselyStore;
    try {
      const obtained = await obtainCode(gatehouse, CONFIDENTIAL_CLIENT, { scope: 'openid offline_access' });
      const codeHash = storedTokenKey(obtained.code);
      const grantId = (await storedCode(store, codeHash)).grant_id;
      await sql`CREATE TRIGGER gh_fail BEFORE INSERT ON access_tokens BEGIN SELECT RAISE(ABORT, 'injected failure'); END`.execute(
        store.db,
      );
      let response;
      try {
        response = await postToken(gatehouse, codeRequest(obtained), { basic: BASIC });
      } finally {
        await sql`DROP TRIGGER gh_fail`.execute(store.db);
      }
      // Not an outage but a fault: server_error, and still nothing half-written.
      assertTokenError(response, 500, 'server_error');
      assert.equal((await storedCode(store, codeHash)).consumed_at, null, 'the code is not consumed');
      assert.deepEqual(await store.refreshTokens.listByGrant(grantId), [], 'no refresh token was kept');
      assert.equal((await postToken(gatehouse, codeRequest(obtained), { basic: BASIC })).status, 200);
      assert.equal((await store.accessTokens.listByGrant(grantId)).length, 1);
      assert.equal((await store.refreshTokens.listByGrant(grantId)).length, 1);
    } finally {
      await gatehouse.close();
    }
  });
});
