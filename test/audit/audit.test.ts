/**
 * The audit trail (src/core/audit/audit-trail.ts): the events of a real flow end up in the database on
 * SQLite and PostgreSQL, without any secret; writes are batched with a bounded buffer and
 * flushed on shutdown; `gatehouse audit` lists and filters them.
 *
 * Run: node scripts/run-tests.mjs test/audit/audit
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, type AttemptLimit, type GatehouseSettings } from '../../src/config/settings.js';
import { AuditTrail } from '../../src/core/audit/audit-trail.js';
import { EventBus } from '../../src/core/events.js';
import type { RunningGatehouse } from '../../src/server.js';
import { openStore } from '../../src/store/open-store.js';
import type { AuditEvent, Store } from '../../src/store/store.js';
import { runCli } from '../helpers/cli.js';
import { authorizeParams, codeRequest, obtainCode, openLoginPage, postToken } from '../helpers/code-flow.js';
import {
  ALICE,
  CONFIDENTIAL_CLIENT,
  PUBLIC_CLIENT,
  STORE_TARGETS,
  TEST_SECRET,
  startTestServer,
} from '../helpers/server.js';
import { UserAgent, decodeEntities, hiddenInput } from '../helpers/user-agent.js';

const BASIC = { id: CONFIDENTIAL_CLIENT.client_id, secret: CONFIDENTIAL_CLIENT.client_secret! };

/** Submits one login attempt on a new interaction of the public client; returns the status. */
async function attemptLogin(server: RunningGatehouse, username: string, password: string): Promise<number> {
  const ua = new UserAgent(server.url);
  const page = await openLoginPage(server, ua, authorizeParams(PUBLIC_CLIENT, { scope: 'openid', state: 'st' }));
  const action = decodeEntities(/<form[^>]*action="([^"]+)"/.exec(page.body)![1]!);
  const response = await ua.request(new URL(action, server.url).href, {
    form: { csrf_token: hiddenInput(page.body, 'csrf_token')!, username, password },
  });
  return response.status;
}

/**
 * A flow with something of everything: a lock, a failed and a successful login, consent, a code
 * exchanged and replayed, a refresh token rotated and reused, a revocation. Returns every
 * secret it used.
 */
async function runFlow(server: RunningGatehouse): Promise<string[]> {
  assert.equal(await attemptLogin(server, 'mallory', 'guess-1'), 303);
  assert.equal(await attemptLogin(server, 'mallory', 'guess-2'), 303);
  assert.equal(await attemptLogin(server, 'mallory', 'guess-3'), 429);
  assert.equal(await attemptLogin(server, ALICE.username, 'not-alices-password'), 303);
  const obtained = await obtainCode(server, CONFIDENTIAL_CLIENT, { scope: 'openid offline_access' });
  const tokens = await postToken(server, codeRequest(obtained), { basic: BASIC });
  assert.equal(tokens.status, 200, tokens.text);
  const refreshToken = String(tokens.body['refresh_token']);
  const refreshed = await postToken(
    server,
    { grant_type: 'refresh_token', refresh_token: refreshToken },
    { basic: BASIC },
  );
  assert.equal(refreshed.status, 200, refreshed.text);
  const revoke = await fetch(new URL('/revoke', server.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${BASIC.id}:${BASIC.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token: String(refreshed.body['access_token']) }).toString(),
  });
  assert.equal(revoke.status, 200);
  assert.equal(
    (await postToken(server, { grant_type: 'refresh_token', refresh_token: refreshToken }, { basic: BASIC })).status,
    400,
    'reused refresh token',
  );
  assert.equal((await postToken(server, codeRequest(obtained), { basic: BASIC })).status, 400, 'replayed code');
  return [
    ALICE.password,
    'not-alices-password',
    'guess-1',
    BASIC.secret,
    obtained.code,
    obtained.verifier!,
    String(tokens.body['access_token']),
    refreshToken,
    String(tokens.body['id_token']),
    String(refreshed.body['access_token']),
    String(refreshed.body['refresh_token']),
  ];
}

/** A limit that never gets in the way of the flow. */
const LENIENT: AttemptLimit = { freeAttempts: 100, backoffBaseMs: 0, lockAfter: 1000, lockSeconds: 60 };

/** Only the per-username login limit locks (after 2 failures); every other limit is lenient. */
const FLOW_SETTINGS: Partial<GatehouseSettings> = {
  refreshTokenGraceSeconds: 0,
  limits: {
    ...(Object.fromEntries(
      Object.keys(DEFAULT_SETTINGS.limits).map((name) => [name, LENIENT]),
    ) as GatehouseSettings['limits']),
    loginUsername: { freeAttempts: 0, backoffBaseMs: 0, lockAfter: 2, lockSeconds: 60 },
  },
};

function find(events: AuditEvent[], type: string, predicate: (event: AuditEvent) => boolean = () => true): AuditEvent {
  const found = events.find((event) => event.type === type && predicate(event));
  assert.ok(found, `an audit event ${type} in ${JSON.stringify(events.map((event) => event.type))}`);
  return found;
}

for (const target of STORE_TARGETS) {
  describe(`audit trail on ${target.name}`, () => {
    it('the events of a real flow end up in the audit table, with no secret in it', async (t) => {
      const url = await target.url();
      if (!url) return t.skip('PostgreSQL not reachable');
      const server = await startTestServer({ databaseUrl: url, settings: FLOW_SETTINGS });
      try {
        const secrets = await runFlow(server);
        await server.audit.flush();
        const events = await server.store.audit.list({ limit: 1000 });
        const alice = await server.store.users.getByUsername(ALICE.username);
        assert.ok(alice);

        // The config file's clients and user, applied at start.
        find(
          events,
          'client.created',
          (event) => event.clientId === CONFIDENTIAL_CLIENT.client_id && event.details['source'] === 'config',
        );
        find(events, 'user.created', (event) => event.username === ALICE.username && event.userId === alice.id);

        const lock = find(events, 'rate_limit.locked');
        assert.equal(lock.username, 'mallory');
        assert.deepEqual([lock.details['scope'], lock.details['attempts']], ['login_username', 2]);
        const failed = find(events, 'login.failed', (event) => event.username === ALICE.username);
        assert.equal(failed.clientId, PUBLIC_CLIENT.client_id);
        assert.equal(failed.ip, '127.0.0.1');
        assert.equal(failed.details['reason'], 'unknown_user_or_wrong_password');
        const succeeded = find(events, 'login.succeeded');
        assert.deepEqual(
          [succeeded.userId, succeeded.username, succeeded.clientId, succeeded.ip],
          [alice.id, ALICE.username, CONFIDENTIAL_CLIENT.client_id, '127.0.0.1'],
        );
        const consent = find(events, 'consent.granted');
        assert.deepEqual(
          [consent.userId, consent.clientId, consent.flowId],
          [alice.id, CONFIDENTIAL_CLIENT.client_id, succeeded.flowId],
        );
        const issued = find(events, 'token.issued', (event) => event.details['grantType'] === 'authorization_code');
        assert.deepEqual(
          [issued.userId, issued.clientId, issued.flowId],
          [alice.id, CONFIDENTIAL_CLIENT.client_id, succeeded.flowId],
        );
        find(events, 'token.issued', (event) => event.details['grantType'] === 'refresh_token');
        find(events, 'code.replayed', (event) => event.flowId === succeeded.flowId);
        find(events, 'refresh.reused', (event) => event.flowId === succeeded.flowId);
        find(
          events,
          'token.revoked',
          (event) => event.clientId === CONFIDENTIAL_CLIENT.client_id && event.details['kind'] === 'access_token',
        );
        // Newest first.
        const times = events.map((event) => event.at);
        assert.deepEqual(
          times,
          [...times].sort((a, b) => b - a),
        );

        const stored = JSON.stringify(events);
        for (const secret of secrets)
          assert.ok(!stored.includes(secret), `the audit trail must not contain ${secret.slice(0, 12)}...`);
      } finally {
        await server.close();
        await target.cleanup(url);
      }
    });
  });
}

describe('audit trail buffering', () => {
  /** A store whose audit inserts are recorded, and fail while `failing` is set. */
  function fakeStore() {
    const batches: AuditEvent[][] = [];
    const state = { failing: false };
    const store = {
      audit: {
        insert: async (events: AuditEvent[]) => {
          if (state.failing) throw new Error('database unreachable');
          batches.push(events);
        },
      },
    } as unknown as Store;
    return { store, batches, state };
  }
  const login = (bus: EventBus, username: string) =>
    bus.emit({
      type: 'login.failed',
      flowId: 'f',
      reason: 'unknown_user_or_wrong_password',
      username,
      clientId: 'c',
      ip: null,
    });

  it('writes nothing on the request path: a batch is written when full, in one multi-row insert', async () => {
    const { store, batches } = fakeStore();
    const bus = new EventBus();
    const trail = new AuditTrail(store, bus, { flushIntervalMs: 3_600_000, batchSize: 3 });
    login(bus, 'a');
    login(bus, 'b');
    bus.emit({ type: 'authorization.accepted', flowId: 'f', clientId: 'c', scope: [], responseMode: 'query' });
    assert.equal(trail.pending, 2, 'not audited: authorization.accepted');
    assert.equal(batches.length, 0);
    login(bus, 'c');
    await trail.flush();
    assert.deepEqual(
      batches.map((batch) => batch.map((event) => event.username)),
      [['a', 'b', 'c']],
    );
    login(bus, 'd');
    await trail.close();
    assert.deepEqual(
      batches.map((batch) => batch.length),
      [3, 1],
      'close writes the rest',
    );
    login(bus, 'e');
    assert.equal(trail.pending, 0, 'no longer listening after close');
  });

  it('keeps events while the database fails, bounded, dropping the oldest; writes them once it answers', async () => {
    const { store, batches, state } = fakeStore();
    const bus = new EventBus();
    const trail = new AuditTrail(store, bus, { flushIntervalMs: 3_600_000, batchSize: 2, maxBuffered: 4 });
    const errors: unknown[] = [];
    trail.onError = (error) => errors.push(error);
    state.failing = true;
    for (const name of ['1', '2', '3', '4', '5', '6']) login(bus, name);
    await trail.flush();
    assert.ok(errors.length >= 1);
    assert.equal(trail.pending, 4);
    assert.equal(trail.dropped, 2);
    state.failing = false;
    await trail.close();
    assert.deepEqual(
      batches.flat().map((event) => event.username),
      ['3', '4', '5', '6'],
    );
  });
});

describe('audit trail on shutdown, and gatehouse audit', () => {
  let dir: string;
  let databaseUrl: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-'));
    databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('close() writes the buffered events; the CLI lists them newest first and filters by type, client, user, time and count', async () => {
    // No timer writes during this test: only a full batch or the shutdown would write.
    const server = await startTestServer({
      databaseUrl,
      settings: FLOW_SETTINGS,
      audit: { flushIntervalMs: 3_600_000 },
    });
    await server.audit.flush();
    assert.equal(await attemptLogin(server, 'mallory', 'wrong'), 303);
    await obtainCode(server, CONFIDENTIAL_CLIENT);
    assert.ok(server.audit.pending > 0, 'buffered, not written by the requests');
    await server.close();

    const store = await openStore(databaseUrl);
    let aliceId: string;
    try {
      const types = (await store.audit.list({ limit: 100 })).map((event) => event.type);
      assert.ok(
        types.includes('login.failed') && types.includes('login.succeeded') && types.includes('consent.granted'),
        types.join(' '),
      );
      aliceId = (await store.users.getByUsername(ALICE.username))!.id;
    } finally {
      await store.close();
    }

    const audit = async (...args: string[]) => {
      const run = await runCli(['audit', '--database', databaseUrl, '--json', ...args]);
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout) as Array<{
        type: string;
        at: string;
        client_id: string | null;
        user_id: string | null;
        username: string | null;
      }>;
    };
    const all = await audit();
    assert.deepEqual(
      all.map((event) => event.at),
      all
        .map((event) => event.at)
        .sort()
        .reverse(),
      'newest first',
    );
    const logins = await audit('--type', 'login.failed', '--type', 'login.succeeded');
    assert.deepEqual(logins.map((event) => event.type).sort(), ['login.failed', 'login.succeeded']);
    // --user matches the username typed (also for a user that does not exist) and the user's id.
    const alices = await audit('--user', ALICE.username);
    assert.ok(alices.length >= 3, JSON.stringify(alices));
    assert.ok(alices.every((event) => event.username === ALICE.username || event.user_id === aliceId));
    assert.deepEqual(
      (await audit('--user', 'mallory')).map((event) => event.type),
      ['login.failed'],
    );
    const client = await audit('--client', CONFIDENTIAL_CLIENT.client_id, '--type', 'consent.granted,login.succeeded');
    assert.deepEqual(
      client.map((event) => event.type),
      ['consent.granted', 'login.succeeded'],
    );
    assert.deepEqual(await audit('--since', '2999-01-01T00:00:00Z'), []);
    assert.equal((await audit('--since', '1h')).length, all.length);
    assert.deepEqual(await audit('--limit', '1'), all.slice(0, 1));

    // Key rotation through the CLI is audited too.
    const rotate = await runCli(['keys', 'rotate', '--activate-after', '0', '--database', databaseUrl], {
      env: { GATEHOUSE_SECRET: TEST_SECRET },
    });
    assert.equal(rotate.code, 0, rotate.stderr);
    const table = await runCli(['audit', '--database', databaseUrl, '--type', 'key.rotated']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /^TIME\s+TYPE\s+CLIENT_ID\s+USER\s+IP\s+DETAILS\n\S+Z\s+key\.rotated\s+-\s+-\s+-\s+kid=\S+ alg=ES256 activatesAt=\d+ source=cli\n$/,
    );
  });

  it('gatehouse audit refuses unknown types and bad --since and --limit values in one line', async () => {
    for (const [args, message] of [
      [['--type', 'login.maybe'], /--type login\.maybe is not an audited event type/],
      [['--since', 'yesterday'], /--since must be an ISO 8601 time/],
      [['--limit', '0'], /--limit must be a positive integer/],
    ] as const) {
      const run = await runCli(['audit', '--database', databaseUrl, ...args]);
      assert.equal(run.code, 1);
      assert.match(run.stderr.trim(), message);
      assert.equal(run.stderr.trim().split('\n').length, 1);
    }
  });
});
