/**
 * OpenID Connect Back-Channel Logout 1.0 against a running Gatehouse: clients sign in with
 * openid-client, the End-User signs out (RP-Initiated Logout 1.0), and a test HTTP endpoint on
 * 127.0.0.1 plays each client's backchannel_logout_uri, failing on purpose where a test needs
 * retries. Deliveries come from the persisted queue, so the tests also look at the store, the
 * CLI listing and a restart.
 *
 * Run: node --import tsx --test test/oidc/backchannel-logout.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import type { ClientFixture, GatehouseSettings } from '../../src/config/settings.js';
import {
  LogoutDeliveryWorker,
  retryDelayMs,
  TRANSPORT_FAILURE,
  type WorkerLogger,
} from '../../src/core/logout/delivery-worker.js';
import { BACKCHANNEL_LOGOUT_EVENT, refreshLogoutToken } from '../../src/core/logout/logout-token.js';
import type { RunningGatehouse } from '../../src/server.js';
import type { LogoutDelivery } from '../../src/store/store.js';
import { runCli } from '../helpers/cli.js';
import { codeFlow, interopClient, sleep, type TokenSet } from '../helpers/interop-client.js';
import { CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

const SIGNED_OUT = 'http://127.0.0.1:9000/signed-out';

// --- A client's back-channel logout endpoint ------------------------------------------------

interface Received {
  path: string;
  at: number;
  contentType: string | undefined;
  body: string;
  logoutToken: string;
  /** What the endpoint answered (null: it never answered). */
  status: number | null;
}

/** Answers per path: the status for the n-th request (1-based), or 'hang' to never answer. */
type Script = (n: number) => number | 'hang';

class LogoutEndpoint {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, Script>();
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((done) => this.server.listen(0, '127.0.0.1', done));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(path: string, script: Script): string {
    this.scripts.set(path, script);
    return `${this.url}${path}`;
  }

  at(path: string): Received[] {
    return this.received.filter((entry) => entry.path === path);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((done) => this.server.close(done));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      const entry: Received = {
        path,
        at: Date.now(),
        contentType: request.headers['content-type'],
        body,
        logoutToken: new URLSearchParams(body).get('logout_token') ?? '',
        status: null,
      };
      this.received.push(entry);
      const answer = (this.scripts.get(path) ?? (() => 404))(this.at(path).length);
      if (answer === 'hang') return;
      entry.status = answer;
      // §2.8: the RP answers 200 with Cache-Control: no-store.
      response.writeHead(answer, { 'cache-control': 'no-store' }).end();
    });
  }
}

// --- Helpers --------------------------------------------------------------------------------

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function rpClient(id: string, backchannelUri: string | undefined, sessionRequired = false): ClientFixture {
  return {
    ...CONFIDENTIAL_CLIENT,
    client_id: id,
    client_name: `RP ${id}`,
    client_secret: `${id}-secret-that-is-long-enough`,
    redirect_uris: [`http://127.0.0.1:9000/${id}/callback`],
    post_logout_redirect_uris: [SIGNED_OUT],
    ...(backchannelUri !== undefined
      ? { backchannel_logout_uri: backchannelUri, backchannel_logout_session_required: sessionRequired }
      : {}),
  };
}

async function signIn(gatehouse: RunningGatehouse, fixture: ClientFixture, ua: UserAgent): Promise<TokenSet> {
  return codeFlow(gatehouse, await interopClient(gatehouse, fixture), { scope: 'openid profile', ua });
}

/** RP-Initiated Logout with the ID token as hint: the session ends at once. */
async function signOut(
  gatehouse: RunningGatehouse,
  fixture: ClientFixture,
  ua: UserAgent,
  idToken: string,
): Promise<void> {
  const ic = await interopClient(gatehouse, fixture);
  const response = await ua.request(
    client.buildEndSessionUrl(ic.config, { id_token_hint: idToken, post_logout_redirect_uri: SIGNED_OUT }).href,
  );
  assert.equal(response.status, 303, response.body.slice(0, 300));
}

/** Signs in with `fixture` in a new browser and out again at once; returns the sign-in's tokens. */
async function signInAndOut(gatehouse: RunningGatehouse, fixture: ClientFixture): Promise<TokenSet> {
  const ua = new UserAgent(gatehouse.url);
  const tokens = await signIn(gatehouse, fixture, ua);
  await signOut(gatehouse, fixture, ua, tokens.id_token!);
  return tokens;
}

interface LogEntry {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/**
 * Signs in and out with `fixture` while the server's own delivery worker pauses: a worker whose
 * log lines go into `logs` delivers at once, until the client's delivery is `settled` (`what`
 * names that in a timeout). Returns the client's delivery and the log; the server's worker stays
 * stopped.
 */
async function logoutWithLoggingWorker(
  gatehouse: RunningGatehouse,
  fixture: ClientFixture,
  what: string,
  settled: (delivery: LogoutDelivery) => boolean,
): Promise<{ delivery: LogoutDelivery; logs: LogEntry[] }> {
  await gatehouse.logoutDeliveryWorker.stop();
  const logs: LogEntry[] = [];
  const capture = (level: string) => (obj: object, msg?: string) =>
    logs.push({ level, obj: obj as Record<string, unknown>, msg });
  const logger: WorkerLogger = { info: capture('info'), warn: capture('warn'), error: capture('error') };
  const worker = new LogoutDeliveryWorker(gatehouse.context, logger);
  worker.start();
  try {
    await signInAndOut(gatehouse, fixture);
    worker.kick();
    await waitFor(what, async () => {
      const delivery = (await gatehouse.store.logoutDeliveries.list()).find((d) => d.clientId === fixture.client_id);
      return delivery !== undefined && settled(delivery);
    });
    return { delivery: deliveryFor(await gatehouse.store.logoutDeliveries.list(), fixture.client_id), logs };
  } finally {
    await worker.stop();
  }
}

/** Verifies a logout token the way an RP must (Back-Channel Logout 1.0 §2.6). */
async function verifyLogoutToken(
  gatehouse: RunningGatehouse,
  token: string,
  audience: string,
  issuer = gatehouse.url,
): Promise<JWTPayload> {
  const jwks = createRemoteJWKSet(new URL(`${gatehouse.url}/jwks`));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer, audience, typ: 'logout+jwt' });
  assert.equal(protectedHeader.typ, 'logout+jwt', '§2.4: explicitly typed');
  assert.deepEqual(
    payload['events'],
    { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    '§2.4: the back-channel logout event, an empty object',
  );
  assert.ok(!('nonce' in payload), '§2.4: a logout token MUST NOT contain a nonce');
  assert.equal(typeof payload.jti, 'string');
  assert.equal(typeof payload.iat, 'number');
  assert.ok(payload.exp! > payload.iat! && payload.exp! - payload.iat! <= 120, '§2.4: expires within two minutes');
  return payload;
}

function deliveryFor(deliveries: LogoutDelivery[], clientId: string): LogoutDelivery {
  const matching = deliveries.filter((delivery) => delivery.clientId === clientId);
  assert.equal(matching.length, 1, `one delivery for ${clientId}: ${JSON.stringify(matching)}`);
  return matching[0]!;
}

// --- Tests ----------------------------------------------------------------------------------

describe('Back-Channel Logout 1.0: delivery with retries', () => {
  const endpoint = new LogoutEndpoint();
  let dir: string;
  let databaseUrl: string;
  let gatehouse: RunningGatehouse;
  let flaky: ClientFixture;
  let steady: ClientFixture;
  let dead: ClientFixture;

  before(async () => {
    await endpoint.start();
    // 503 for the first two tries, then 200.
    flaky = rpClient(
      'rp-flaky',
      endpoint.script('/flaky', (n) => (n <= 2 ? 503 : 200)),
      true,
    );
    steady = rpClient(
      'rp-steady',
      endpoint.script('/steady', () => 200),
    );
    dead = rpClient(
      'rp-dead',
      endpoint.script('/dead', () => 503),
    );
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-bcl-'));
    databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
    gatehouse = await startTestServer({
      databaseUrl,
      clients: [flaky, steady, dead, PUBLIC_CLIENT],
      // Small backoff so the retries take a fraction of a second.
      // The endpoint is on 127.0.0.1, which outbound requests refuse unless allowed.
      settings: {
        backchannelLogoutBackoffInitialMs: 100,
        backchannelLogoutBackoffMaxMs: 400,
        backchannelLogoutMaxAttempts: 4,
        outboundAllowPrivateAddresses: true,
      },
    });
  });
  after(async () => {
    await gatehouse.close();
    await endpoint.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('§2.5-§2.7: every client of the ended session with a backchannel_logout_uri gets a logout token; 503 twice, then 200: retried with backoff until delivered', async () => {
    const ua = new UserAgent(gatehouse.url);
    const flakyTokens = await signIn(gatehouse, flaky, ua);
    const steadyTokens = await signIn(gatehouse, steady, ua); // single sign-on: the same session
    await signIn(gatehouse, PUBLIC_CLIENT, ua); // registered no backchannel_logout_uri
    const sid = flakyTokens.claims()!['sid'];
    assert.equal(typeof sid, 'string');
    assert.equal(steadyTokens.claims()!['sid'], sid, 'both ID tokens name the one session');
    // Another browser's session with rp-steady must not be logged out.
    const otherBrowser = new UserAgent(gatehouse.url);
    const otherTokens = await signIn(gatehouse, steady, otherBrowser);
    assert.notEqual(otherTokens.claims()!['sid'], sid);

    await signOut(gatehouse, flaky, ua, flakyTokens.id_token!);
    await waitFor('three attempts at rp-flaky and one at rp-steady', async () => {
      const deliveries = await gatehouse.store.logoutDeliveries.list();
      return deliveries.filter((delivery) => delivery.deliveredAt !== null).length === 2;
    });

    const attempts = endpoint.at('/flaky');
    assert.deepEqual(
      attempts.map((entry) => entry.status),
      [503, 503, 200],
    );
    // Exponential backoff: 100 ms after the first failure, 200 ms after the second.
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 90, `first retry after ${attempts[1]!.at - attempts[0]!.at} ms`);
    assert.ok(attempts[2]!.at - attempts[1]!.at >= 190, `second retry after ${attempts[2]!.at - attempts[1]!.at} ms`);
    for (const entry of attempts) {
      // §2.5: a form POST with the token as logout_token, and nothing else.
      assert.equal(entry.contentType, 'application/x-www-form-urlencoded');
      assert.deepEqual([...new URLSearchParams(entry.body).keys()], ['logout_token']);
      const payload = await verifyLogoutToken(gatehouse, entry.logoutToken, flaky.client_id);
      assert.equal(payload['sid'], sid, '§2.4: sid of the ended session (backchannel_logout_session_required)');
      assert.equal(payload.sub, flakyTokens.claims()!.sub);
      // §2.4: signed like the client's ID tokens: RS256 for a client that registered no alg.
      assert.equal(decodeProtectedHeader(entry.logoutToken).alg, 'RS256');
      assert.equal(decodeProtectedHeader(flakyTokens.id_token!).alg, 'RS256');
    }
    // One logout event: the retries carry the same jti.
    assert.equal(new Set(attempts.map((entry) => decodeJwt(entry.logoutToken).jti)).size, 1);

    const steadyAttempts = endpoint.at('/steady');
    assert.equal(steadyAttempts.length, 1, 'only the ended session is reported to rp-steady');
    const steadyPayload = await verifyLogoutToken(gatehouse, steadyAttempts[0]!.logoutToken, steady.client_id);
    assert.equal(steadyPayload['sid'], sid);
    assert.notEqual(steadyPayload.jti, decodeJwt(attempts[0]!.logoutToken).jti, 'a jti per token');

    // The failures are recorded with the delivery.
    const deliveries = await gatehouse.store.logoutDeliveries.list();
    assert.ok(
      !deliveries.some((delivery) => delivery.clientId === PUBLIC_CLIENT.client_id),
      'no token for a client without backchannel_logout_uri',
    );
    const flakyDelivery = deliveryFor(deliveries, flaky.client_id);
    assert.equal(flakyDelivery.attempts, 3);
    assert.equal(flakyDelivery.lastError, 'HTTP 503');
    assert.equal(flakyDelivery.nextAttemptAt, null);
    assert.ok(flakyDelivery.deliveredAt !== null);
    assert.equal(flakyDelivery.uri, flaky.backchannel_logout_uri);
    const steadyDelivery = deliveryFor(deliveries, steady.client_id);
    assert.equal(steadyDelivery.attempts, 1);
    assert.equal(steadyDelivery.lastError, null);

    // The other browser is still signed in: its session was not ended.
    const again = await interopClient(gatehouse, steady);
    const page = await otherBrowser.navigate(
      client.buildAuthorizationUrl(again.config, {
        redirect_uri: steady.redirect_uris[0]!,
        scope: 'openid',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).href,
    );
    assert.equal(page.status, 303, 'the other session still signs in without a login page');

    // gatehouse logout-deliveries list: attempts and last error, never the token.
    const json = await runCli(['logout-deliveries', 'list', '--json', '--database', databaseUrl]);
    assert.equal(json.code, 0, json.stderr);
    const listed = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    const flakyView = listed.find((view) => view['client_id'] === flaky.client_id);
    assert.ok(flakyView);
    assert.equal(flakyView['status'], 'delivered');
    assert.equal(flakyView['attempts'], 3);
    assert.equal(flakyView['last_error'], 'HTTP 503');
    assert.equal(typeof flakyView['delivered_at'], 'string');
    assert.ok(!json.stdout.includes(flakyDelivery.logoutToken), 'the listing never shows a logout token');
    const text = await runCli(['logout-deliveries', 'list', '--database', databaseUrl]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^CREATED\s+CLIENT_ID\s+STATUS\s+ATTEMPTS\s+NEXT_ATTEMPT\s+LAST_ERROR\s+URI$/m);
    assert.match(text.stdout, /rp-flaky\s+delivered\s+3\s+-\s+HTTP 503\s+http:\/\/127\.0\.0\.1:\d+\/flaky/);
  });

  it('gives up after backchannel_logout_max_attempts; failures are logged and listed with --failed', async () => {
    // This test's worker logs into an array; the server's own worker pauses meanwhile.
    const { delivery, logs } = await logoutWithLoggingWorker(
      gatehouse,
      dead,
      'rp-dead to be given up',
      (settled) => settled.attempts === 4 && settled.nextAttemptAt === null,
    ).finally(() => gatehouse.logoutDeliveryWorker.start());
    assert.equal(endpoint.at('/dead').length, 4, 'backchannel_logout_max_attempts: 4');
    assert.equal(delivery.deliveredAt, null);
    assert.equal(delivery.lastError, 'HTTP 503');

    const warnings = logs.filter((entry) => entry.level === 'warn' && entry.obj['clientId'] === dead.client_id);
    assert.equal(warnings.length, 3, 'each failed attempt that will be retried is logged');
    assert.equal(warnings[0]!.msg, 'back-channel logout delivery failed; will retry');
    assert.equal(warnings[0]!.obj['error'], 'HTTP 503');
    const gaveUp = logs.filter((entry) => entry.level === 'error' && entry.obj['clientId'] === dead.client_id);
    assert.equal(gaveUp.length, 1);
    assert.equal(gaveUp[0]!.msg, 'back-channel logout delivery failed; giving up');
    assert.equal(gaveUp[0]!.obj['attempt'], 4);
    assert.ok(!JSON.stringify(logs).includes(delivery.logoutToken), 'logs never contain a logout token');

    const failedOnly = await gatehouse.store.logoutDeliveries.list({ failed: true });
    assert.deepEqual(
      failedOnly.map((d) => d.clientId),
      [dead.client_id],
      'only undelivered deliveries that failed',
    );
    const run = await runCli(['logout-deliveries', 'list', '--failed', '--json', '--database', databaseUrl]);
    assert.equal(run.code, 0, run.stderr);
    const listed = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!['client_id'], dead.client_id);
    assert.equal(listed[0]!['status'], 'failed');
    assert.equal(listed[0]!['attempts'], 4);
    assert.equal(listed[0]!['next_attempt_at'], null);
    const text = await runCli(['logout-deliveries', 'list', '--failed', '--database', databaseUrl]);
    assert.match(text.stdout, /rp-dead\s+failed\s+4\s+-\s+HTTP 503/);
    assert.doesNotMatch(text.stdout, /rp-flaky/);
  });

  it("a logout confirmed on the page notifies the session's clients too", async () => {
    const ua = new UserAgent(gatehouse.url);
    const tokens = await signIn(gatehouse, steady, ua);
    const before = endpoint.at('/steady').length;
    const page = await ua.request('/logout');
    assert.equal(page.status, 200);
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(page.body)![1]!;
    const done = await ua.request('/logout/confirm', { form: { csrf_token: csrf } });
    assert.equal(done.status, 200);
    await waitFor('the logout token at rp-steady', () => endpoint.at('/steady').length === before + 1);
    const payload = await verifyLogoutToken(gatehouse, endpoint.at('/steady')[before]!.logoutToken, steady.client_id);
    assert.equal(payload['sid'], tokens.claims()!['sid']);
  });

  it('§2.4: a retry after the token expired sends it signed again: new iat and exp, same jti', async () => {
    const delivery = deliveryFor(await gatehouse.store.logoutDeliveries.list(), dead.client_id);
    const original = decodeJwt(delivery.logoutToken);
    const current = await refreshLogoutToken(delivery.logoutToken, gatehouse.context.keys, undefined, Date.now());
    assert.equal(current, delivery.logoutToken, 'still valid: sent as is');
    const later = Date.now() + 10 * 60_000;
    const refreshed = await refreshLogoutToken(delivery.logoutToken, gatehouse.context.keys, undefined, later);
    const claims = decodeJwt(refreshed);
    assert.equal(claims.jti, original.jti);
    assert.equal(claims.sub, original.sub);
    assert.equal(claims['sid'], original['sid']);
    assert.equal(claims.iat, Math.floor(later / 1000));
    assert.equal(claims.exp, Math.floor(later / 1000) + 120);
    assert.equal(decodeProtectedHeader(refreshed).typ, 'logout+jwt');
  });

  it('exponential backoff: initial delay, doubling, capped', () => {
    const settings = {
      ...gatehouse.context.settings,
      backchannelLogoutBackoffInitialMs: 1000,
      backchannelLogoutBackoffMaxMs: 300_000,
    };
    assert.deepEqual(
      [1, 2, 3, 4, 9, 10, 50, 300].map((n) => retryDelayMs(n, settings)),
      [1000, 2000, 4000, 8000, 256_000, 300_000, 300_000, 300_000],
    );
  });
});

describe('Back-Channel Logout 1.0: the queue is persisted', () => {
  const endpoint = new LogoutEndpoint();
  let dir: string;
  let databaseUrl: string;

  before(async () => {
    await endpoint.start();
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-bcl-restart-'));
    databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
  });
  after(async () => {
    await endpoint.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('a delivery in flight when the server stops is delivered by the next server on the same database', async () => {
    // The first request never gets an answer (the server is stopped meanwhile); later ones get 200.
    const rp = rpClient(
      'rp-restart',
      endpoint.script('/restart', (n) => (n === 1 ? 'hang' : 200)),
    );
    const first = await startTestServer({
      databaseUrl,
      clients: [rp],
      settings: { backchannelLogoutBackoffInitialMs: 100, outboundAllowPrivateAddresses: true },
    });
    let payloadIssuer: string;
    let sid: unknown;
    try {
      payloadIssuer = first.url;
      sid = (await signInAndOut(first, rp)).claims()!['sid'];
      await waitFor('the first attempt to reach the endpoint', () => endpoint.at('/restart').length === 1);
    } finally {
      await first.close();
    }
    // Stopping interrupted the attempt and gave it back, uncounted.
    const { openStore } = await import('../../src/store/open-store.js');
    const store = await openStore(databaseUrl);
    try {
      const [queued] = await store.logoutDeliveries.list();
      assert.ok(queued);
      assert.equal(queued.deliveredAt, null);
      assert.equal(queued.attempts, 0);
      assert.ok(queued.nextAttemptAt !== null && queued.nextAttemptAt <= Date.now(), 'due again at once');
    } finally {
      await store.close();
    }

    const second = await startTestServer({
      databaseUrl,
      clients: [rp],
      settings: { backchannelLogoutBackoffInitialMs: 100, outboundAllowPrivateAddresses: true },
    });
    try {
      await waitFor(
        'the delivery by the second server',
        async () => (await second.store.logoutDeliveries.list())[0]?.deliveredAt != null,
      );
      const received = endpoint.at('/restart');
      assert.equal(received.length, 2);
      assert.equal(received[1]!.status, 200);
      // Signed by the first server (its issuer), verifiable with the keys both share.
      const payload = await verifyLogoutToken(second, received[1]!.logoutToken, rp.client_id, payloadIssuer);
      assert.equal(payload['sid'], sid);
      const [delivered] = await second.store.logoutDeliveries.list();
      assert.equal(delivered!.attempts, 1);
    } finally {
      await second.close();
    }
  });
});

describe("OWASP SSRF Prevention: back-channel logout URIs that reach the server's own network", () => {
  const endpoint = new LogoutEndpoint();
  before(() => endpoint.start());
  after(() => endpoint.stop());

  /** Signs in and out with `fixture` on a server with `settings`; returns the delivery and the worker's log. */
  async function logoutThrough(fixture: ClientFixture, settings: Partial<GatehouseSettings>) {
    const gatehouse = await startTestServer({
      clients: [fixture],
      settings: { backchannelLogoutBackoffInitialMs: 100, backchannelLogoutMaxAttempts: 1, ...settings },
    });
    try {
      return await logoutWithLoggingWorker(
        gatehouse,
        fixture,
        'the delivery to be settled',
        (delivery) => delivery.nextAttemptAt === null,
      );
    } finally {
      await gatehouse.close();
    }
  }

  it('a backchannel_logout_uri whose host resolves to 127.0.0.1 is refused before connecting by default, and delivered when outbound_allow_private_addresses is true', async () => {
    // `localhost` passes registration (a name, not an address); the address is checked when the request is made.
    const uri = `${endpoint.url.replace('127.0.0.1', 'localhost')}/internal`;
    endpoint.script('/internal', () => 200);
    const fixture = rpClient('rp-internal', uri);

    const refused = await logoutThrough(fixture, {});
    assert.equal(endpoint.at('/internal').length, 0, 'no request reached the internal endpoint');
    assert.equal(refused.delivery.deliveredAt, null);
    assert.equal(refused.delivery.lastError, TRANSPORT_FAILURE, 'the record says nothing about the target');
    const gaveUp = refused.logs.find((entry) => entry.level === 'error' && entry.obj['clientId'] === fixture.client_id);
    assert.match(
      String(gaveUp?.obj['error']),
      /refused: localhost resolves to (127\.0\.0\.1|::1), loopback/,
      'the log has the reason',
    );

    const allowed = await logoutThrough(fixture, { outboundAllowPrivateAddresses: true });
    assert.equal(endpoint.at('/internal').length, 1);
    assert.notEqual(allowed.delivery.deliveredAt, null);
  });

  it('a closed port, a silent endpoint and a redirect are all recorded as one uniform failure; only the log tells them apart', async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    endpoint.script('/silent', () => 'hang');
    endpoint.script('/moved', () => 302);
    const cases: Array<[string, string, RegExp]> = [
      ['rp-closed', `http://127.0.0.1:${closedPort}/logout`, /ECONNREFUSED/],
      ['rp-silent', `${endpoint.url}/silent`, /no complete response within 300 ms/],
      ['rp-moved', `${endpoint.url}/moved`, /HTTP 302: redirects are not followed/],
    ];
    for (const [id, uri, logged] of cases) {
      const { delivery, logs } = await logoutThrough(rpClient(id, uri), {
        outboundAllowPrivateAddresses: true,
        backchannelLogoutTimeoutMs: 300,
      });
      assert.equal(delivery.lastError, TRANSPORT_FAILURE, id);
      const gaveUp = logs.find((entry) => entry.level === 'error' && entry.obj['clientId'] === id);
      assert.match(String(gaveUp?.obj['error']), logged, id);
    }
    assert.equal(endpoint.at('/moved').length, 1, 'the redirect was not followed');
  });

  it('a backchannel_logout_uri naming a loopback IP literal (http://127.1/) is refused at registration unless allowed', async () => {
    const fixture = rpClient('rp-literal', 'http://127.1:9/logout');
    await assert.rejects(
      startTestServer({ clients: [fixture] }),
      /backchannel_logout_uri http:\/\/127\.1:9\/logout is refused: address 127\.0\.0\.1 is loopback/,
    );
    const allowed = await startTestServer({ clients: [fixture], settings: { outboundAllowPrivateAddresses: true } });
    await allowed.close();
  });
});
