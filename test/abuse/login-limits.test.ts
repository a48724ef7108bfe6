/**
 * Brute-force limits on the login page (src/core/limits/attempt-limits.ts): per (username, address), per
 * address, per username (browsers without a device cookie) and per device cookie (OWASP),
 * increasing delays then a lock, 429 with Retry-After (RFC 6585 §4), shared by every
 * instance on one database, refused before any argon2id hashing, and saying nothing about
 * whether a user exists.
 *
 * The clock of each server is injected (context.now), so delays and locks are checked exactly,
 * without sleeping.
 *
 * Run: node scripts/run-tests.mjs test/abuse/login-limits
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptLimit, GatehouseSettings } from '../../src/config/settings.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { passwordVerificationCount } from '../../src/core/secrets.js';
import type { RunningGatehouse } from '../../src/server.js';
import { authorizeParams, openLoginPage } from '../helpers/code-flow.js';
import { ALICE, PUBLIC_CLIENT, POSTGRES_TARGET, STORE_TARGETS, onStoreTarget } from '../helpers/server.js';
import { LIMITS_NOW as NOW, NEVER, clockedServers } from '../helpers/clocked-servers.js';
import { UserAgent, decodeEntities, hiddenInput, isLoginPage, type PageResponse } from '../helpers/user-agent.js';

/** 2 free failures, then 60 s, 120 s, ...; the 5th failure locks for 300 s. */
const SMALL: AttemptLimit = { freeAttempts: 2, backoffBaseMs: 60_000, lockAfter: 5, lockSeconds: 300 };

function limits(overrides: Partial<GatehouseSettings['limits']>): Partial<GatehouseSettings> {
  return { limits: { ...DEFAULT_SETTINGS.limits, loginIp: NEVER, ...overrides } };
}

const { startServer, closeServers } = clockedServers();

interface LoginForm {
  ua: UserAgent;
  action: string;
  csrf: string;
}

/**
 * Starts an authorization and returns its login form. `from`: the browser's address, sent as
 * X-Forwarded-For (the server must trust the proxy); `deviceOf`: a browser whose device cookie
 * this new browser carries (and no session).
 */
async function openLogin(
  server: RunningGatehouse,
  options: { from?: string; deviceOf?: UserAgent } = {},
): Promise<LoginForm> {
  const ua = new UserAgent(server.url);
  if (options.from !== undefined) ua.extraHeaders['x-forwarded-for'] = options.from;
  const device = options.deviceOf?.cookie('gh_device');
  if (options.deviceOf) {
    assert.ok(device, 'the earlier sign-in set a device cookie');
    ua.setCookie('gh_device', device);
  }
  const page = await openLoginPage(server, ua, authorizeParams(PUBLIC_CLIENT, { scope: 'openid' }));
  const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
  const csrf = hiddenInput(page.body, 'csrf_token');
  assert.ok(action && csrf);
  return { ua, action: new URL(decodeEntities(action), server.url).href, csrf };
}

function tryLogin(form: LoginForm, username: string, password: string): Promise<PageResponse> {
  return form.ua.request(form.action, { form: { csrf_token: form.csrf, username, password } });
}

/** A failure that was not limited: the usual redirect back to the login page. */
function assertPlainFailure(response: PageResponse): void {
  assert.equal(response.status, 303, response.body.slice(0, 300));
  assert.match(response.location ?? '', /\?failed=1$/);
  assert.equal(response.headers.get('retry-after'), null);
}

function assertLimited(response: PageResponse, retryAfter: number): void {
  assert.equal(response.status, 429, response.body.slice(0, 300));
  assert.equal(response.headers.get('retry-after'), String(retryAfter));
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.ok(isLoginPage({ ...response, status: 200 }), 'the login page is shown again');
  assert.match(response.body, /Too many sign-in attempts\. Try again in \d+ (seconds?|minutes)\./);
  assert.doesNotMatch(response.body, /Incorrect username or password/);
}

/** The page without what differs between two interactions and two typed usernames. */
function normalized(response: PageResponse, username: string): string {
  return response.body
    .replace(/\/interaction\/[A-Za-z0-9_-]+/g, '/interaction/ID')
    .replace(/name="csrf_token" value="[^"]*"/g, 'name="csrf_token" value="CSRF"')
    .replaceAll(username, 'USERNAME');
}

describe('login brute-force limits (per username)', () => {
  it('RFC 6585 §4: free failures, then 429 with Retry-After for the backoff, a lock, and the way back', async () => {
    const { server, clock, events } = await startServer(limits({ loginUsername: SMALL }));
    const form = await openLogin(server);
    assertPlainFailure(await tryLogin(form, ALICE.username, 'wrong-1'));
    assertPlainFailure(await tryLogin(form, ALICE.username, 'wrong-2'));
    // The 3rd failure is beyond the free ones: the next attempt must wait 60 s.
    assertPlainFailure(await tryLogin(form, ALICE.username, 'wrong-3'));
    assertLimited(await tryLogin(form, ALICE.username, 'wrong-4'), 60);
    clock.now = NOW + 59_001;
    assertLimited(await tryLogin(form, ALICE.username, ALICE.password), 1);
    clock.now = NOW + 60_000;
    assertPlainFailure(await tryLogin(form, ALICE.username, 'wrong-4'));
    // Doubling: 120 s after the 4th failure.
    assertLimited(await tryLogin(form, ALICE.username, 'wrong-5'), 120);
    clock.now += 120_000;
    assertPlainFailure(await tryLogin(form, ALICE.username, 'wrong-5'));
    // The 5th failure locks for lock_seconds, also against the right password.
    const locked = await tryLogin(form, ALICE.username, ALICE.password);
    assertLimited(locked, 300);
    assert.match(locked.body, /Try again in 5 minutes\./);
    const lockEvents = events.filter((event) => event.type === 'rate_limit.locked');
    assert.deepEqual(
      lockEvents.map(
        (event) => event.type === 'rate_limit.locked' && [event.scope, event.subject, event.attempts, event.until],
      ),
      [['login_username', ALICE.username, 5, clock.now + 300_000]],
    );
    // Once the lock has passed, the right password signs in.
    clock.now += 300_000;
    const signedIn = await tryLogin(form, ALICE.username, ALICE.password);
    assert.equal(signedIn.status, 303);
    assert.doesNotMatch(signedIn.location ?? '', /failed/);
  });

  it('a limited attempt is refused before any password hashing', async () => {
    const { server } = await startServer(limits({ loginUsername: { ...SMALL, freeAttempts: 0 } }));
    const form = await openLogin(server);
    const before = passwordVerificationCount();
    assertPlainFailure(await tryLogin(form, ALICE.username, 'wrong'));
    assert.equal(passwordVerificationCount(), before + 1, 'the failed attempt checked the password once');
    for (let i = 0; i < 5; i++) assertLimited(await tryLogin(form, ALICE.username, ALICE.password), 60);
    assert.equal(passwordVerificationCount(), before + 1, 'no argon2id for limited attempts');
  });

  it('a burst of parallel attempts gets no more password checks than the limit allows', async () => {
    const { server } = await startServer(limits({ loginUsername: { ...SMALL, freeAttempts: 3 } }));
    const form = await openLogin(server);
    const before = passwordVerificationCount();
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => tryLogin(form, ALICE.username, `guess-${i}`)),
    );
    // Attempts 1-3 are free, the 4th starts a delay: 4 get through, 16 are refused.
    assert.equal(responses.filter((response) => response.status === 303).length, 4);
    assert.equal(responses.filter((response) => response.status === 429).length, 16);
    assert.equal(passwordVerificationCount(), before + 4);
  });

  it('an unknown user and a wrong password get identical answers, limited or not', async () => {
    const { server } = await startServer(limits({ loginUsername: SMALL }));
    const unknown = 'nobody-by-this-name';
    const run = async (username: string, password: string) => {
      const form = await openLogin(server);
      const responses: PageResponse[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await tryLogin(form, username, password);
        responses.push(response);
        // The page a failed attempt is redirected to.
        if (response.status === 303)
          responses.push(await form.ua.request(new URL(response.location!, server.url).href));
      }
      return responses;
    };
    const wrongPassword = await run(ALICE.username, 'not the password');
    const unknownUser = await run(unknown, 'not the password');
    assert.deepEqual(
      unknownUser.map((response) => response.status),
      wrongPassword.map((response) => response.status),
    );
    assert.deepEqual(
      wrongPassword.map((response) => response.status),
      [303, 200, 303, 200, 303, 200, 429],
    );
    for (const [index, response] of wrongPassword.entries()) {
      const other = unknownUser[index]!;
      assert.equal(other.headers.get('retry-after'), response.headers.get('retry-after'));
      assert.equal(
        other.location?.replace(/\/interaction\/[^/?]+/, ''),
        response.location?.replace(/\/interaction\/[^/?]+/, ''),
      );
      assert.equal(normalized(other, unknown), normalized(response, ALICE.username), `response ${index}`);
    }
  });

  it('success resets the username’s counter', async () => {
    const { server } = await startServer(limits({ loginUsername: SMALL }));
    const first = await openLogin(server);
    assertPlainFailure(await tryLogin(first, ALICE.username, 'wrong'));
    assertPlainFailure(await tryLogin(first, ALICE.username, 'wrong'));
    assert.equal((await tryLogin(first, ALICE.username, ALICE.password)).status, 303);
    const second = await openLogin(server);
    assertPlainFailure(await tryLogin(second, ALICE.username, 'wrong'));
    assertPlainFailure(await tryLogin(second, ALICE.username, 'wrong'));
    assertPlainFailure(await tryLogin(second, ALICE.username, 'wrong'));
    assertLimited(await tryLogin(second, ALICE.username, 'wrong'), 60);
  });

  it('lock_after 1 with no free attempts locks at the first failure (config values apply as written)', async () => {
    const { server } = await startServer(
      limits({ loginUsername: { freeAttempts: 0, backoffBaseMs: 0, lockAfter: 1, lockSeconds: 42 } }),
    );
    const form = await openLogin(server);
    assertPlainFailure(await tryLogin(form, 'carol', 'wrong'));
    assertLimited(await tryLogin(form, 'carol', 'wrong'), 42);
    // Other usernames are not affected by carol's lock.
    assertPlainFailure(await tryLogin(form, 'dave', 'wrong'));
  });
});

describe('login brute-force limits (per client IP address)', () => {
  it('failures for many usernames from one address are limited together; a success does not count', async () => {
    const { server, events } = await startServer(
      limits({
        loginUsername: NEVER,
        loginIp: { freeAttempts: 3, backoffBaseMs: 1000, lockAfter: 4, lockSeconds: 600 },
      }),
    );
    const form = await openLogin(server);
    assertPlainFailure(await tryLogin(form, 'user-1', 'x'));
    assertPlainFailure(await tryLogin(form, 'user-2', 'x'));
    // A successful sign-in from the address takes back its own attempt.
    assert.equal((await tryLogin(await openLogin(server), ALICE.username, ALICE.password)).status, 303);
    assertPlainFailure(await tryLogin(form, 'user-3', 'x'));
    assertPlainFailure(await tryLogin(form, 'user-4', 'x'));
    assertLimited(await tryLogin(form, 'user-5', 'x'), 600);
    const lock = events.find((event) => event.type === 'rate_limit.locked');
    assert.ok(lock?.type === 'rate_limit.locked');
    assert.equal(lock.scope, 'login_ip');
    assert.equal(lock.subject, '127.0.0.1');
  });
});

describe('login brute-force limits across instances', () => {
  it(
    'two Gatehouse instances sharing one PostgreSQL schema enforce one lock',
    onStoreTarget(
      POSTGRES_TARGET,
      async (url) => {
        const settings = limits({
          loginUsername: { freeAttempts: 0, backoffBaseMs: 0, lockAfter: 3, lockSeconds: 300 },
        });
        const a = await startServer(settings, url);
        const b = await startServer(settings, url);
        const onA = await openLogin(a.server);
        const onB = await openLogin(b.server);
        assertPlainFailure(await tryLogin(onA, ALICE.username, 'wrong'));
        assertPlainFailure(await tryLogin(onB, ALICE.username, 'wrong'));
        assertPlainFailure(await tryLogin(onA, ALICE.username, 'wrong'));
        const before = passwordVerificationCount();
        assertLimited(await tryLogin(onB, ALICE.username, ALICE.password), 300);
        assertLimited(await tryLogin(onA, ALICE.username, ALICE.password), 300);
        assert.equal(passwordVerificationCount(), before, 'no argon2id on either instance');
        // The lock ends for both at once.
        a.clock.now = b.clock.now = NOW + 300_000;
        assert.equal((await tryLogin(onB, ALICE.username, ALICE.password)).status, 303);
      },
      closeServers,
    ),
  );
});

/** Fails `count` counted sign-ins, waiting out (on the test clock) every delay in between. */
async function failCounted(form: LoginForm, clock: { now: number }, username: string, count: number): Promise<void> {
  for (let failed = 0; failed < count; ) {
    const response = await tryLogin(form, username, `guess-${failed}`);
    if (response.status === 429) {
      clock.now += Number(response.headers.get('retry-after')) * 1000;
      continue;
    }
    assertPlainFailure(response);
    failed++;
  }
}

function assertSignedIn(response: PageResponse): void {
  assert.equal(response.status, 303, response.body.slice(0, 300));
  assert.doesNotMatch(response.location ?? '', /failed/);
}

const ATTACKER = '203.0.113.66';
const ALICE_HOME = '198.51.100.7';

for (const target of STORE_TARGETS) {
  describe(`OWASP: no one can lock another user out (${target.name})`, () => {
    it(
      'OWASP Authentication Cheat Sheet: failures lock (username, address), not the account; alice signs in from her own address and from a known device at the attacker’s address',
      onStoreTarget(
        target,
        async (url) => {
          const { server, clock, events } = await startServer({ trustProxy: true }, url);
          // Alice signed in on this device before (at the address the attacker uses later, a NAT).
          const device = await openLogin(server, { from: ATTACKER });
          assertSignedIn(await tryLogin(device, ALICE.username, ALICE.password));
          const deviceCookie = device.ua.cookie('gh_device');
          assert.match(deviceCookie ?? '', /^[A-Za-z0-9_-]{65}$/);

          // The attacker makes the default 10 failures (waiting out every delay): locked for 15 min.
          const attacker = await openLogin(server, { from: ATTACKER });
          await failCounted(attacker, clock, ALICE.username, 10);
          const before = passwordVerificationCount();
          assertLimited(await tryLogin(attacker, ALICE.username, ALICE.password), 900);
          assertLimited(await tryLogin(attacker, ALICE.username, 'guess-again'), 900);
          assert.equal(passwordVerificationCount(), before, 'the attacker gets no more password checks');
          const lock = events.find((event) => event.type === 'rate_limit.locked');
          assert.ok(lock?.type === 'rate_limit.locked');
          assert.deepEqual([lock.scope, lock.subject], ['login_user_address', ALICE.username]);

          // Alice, from her own address on a browser never seen before: not refused.
          assertSignedIn(await tryLogin(await openLogin(server, { from: ALICE_HOME }), ALICE.username, ALICE.password));
          // Alice on her known device, even at the attacker's address: not refused.
          assertSignedIn(
            await tryLogin(
              await openLogin(server, { from: ATTACKER, deviceOf: device.ua }),
              ALICE.username,
              ALICE.password,
            ),
          );
          // The attacker is still held back.
          assertLimited(await tryLogin(attacker, ALICE.username, ALICE.password), 900);
        },
        closeServers,
      ),
    );

    it(
      'OWASP device cookies: guessing from many addresses only delays unknown browsers (never a lock); a known device is not refused, and counts its own failures',
      onStoreTarget(
        target,
        async (url) => {
          const { server, clock } = await startServer(
            {
              trustProxy: true,
              limits: {
                ...DEFAULT_SETTINGS.limits,
                loginUsername: { freeAttempts: 2, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 60 },
                loginDevice: { freeAttempts: 1, backoffBaseMs: 30_000, lockAfter: 5, lockSeconds: 600 },
              },
            },
            url,
          );
          const device = await openLogin(server, { from: ALICE_HOME });
          assertSignedIn(await tryLogin(device, ALICE.username, ALICE.password));

          // A botnet: one guess from each of many addresses, waiting out every delay.
          for (let i = 0; i < 12; i++)
            await failCounted(await openLogin(server, { from: `192.0.2.${i + 1}` }), clock, ALICE.username, 1);
          // An unknown browser waits at most lock_seconds (60 s), however long the attack goes on.
          const unknown = await openLogin(server, { from: ALICE_HOME });
          assertLimited(await tryLogin(unknown, ALICE.username, ALICE.password), 60);
          // Alice's known device is not refused.
          const known = await openLogin(server, { from: ALICE_HOME, deviceOf: device.ua });
          assertSignedIn(await tryLogin(known, ALICE.username, ALICE.password));

          // A device cookie has its own run of failures: 1 free, then a 30 s delay.
          const stolen = await openLogin(server, { from: '192.0.2.200', deviceOf: known.ua });
          assertPlainFailure(await tryLogin(stolen, ALICE.username, 'guess-1'));
          assertPlainFailure(await tryLogin(stolen, ALICE.username, 'guess-2'));
          assertLimited(await tryLogin(stolen, ALICE.username, 'guess-3'), 30);
        },
        closeServers,
      ),
    );
  });
}
