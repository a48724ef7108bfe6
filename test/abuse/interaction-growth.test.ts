/**
 * Anonymous authorization requests and the interactions table: every valid request that needs
 * the sign-in pages stores an interaction until it expires, so the stored values are capped
 * (state and nonce 512 characters, login_hint 256), the interactions an address starts and does
 * not finish are limited (limits.interaction_ip, 429 with Retry-After), and the table holds at
 * most max_live_interactions unexpired rows (503 with Retry-After beyond).
 *
 * Every case runs on SQLite and on PostgreSQL. The clock of each server is injected
 * (context.now), so backoffs, locks and expiry are checked exactly, without sleeping.
 *
 * Run: node scripts/run-tests.mjs test/abuse/interaction-growth
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptLimit, GatehouseSettings } from '../../src/config/settings.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { STORED_VALUE_LIMITS } from '../../src/core/authorize/authorization-request.js';
import type { TimedEvent } from '../../src/core/events.js';
import { s256Challenge } from '../../src/core/pkce.js';
import type { RunningGatehouse } from '../../src/server.js';
import { authorizeUrl, newVerifier } from '../helpers/code-flow.js';
import { ALICE, PUBLIC_CLIENT, STORE_TARGETS, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

const NOW = 1_900_000_000_000;
const REDIRECT = PUBLIC_CLIENT.redirect_uris[0]!;
const NEVER: AttemptLimit = { freeAttempts: 100_000, backoffBaseMs: 0, lockAfter: 1_000_000, lockSeconds: 1 };
/** 2 unfinished interactions free, then 60 s; the 4th locks the address for 600 s. */
const SMALL: AttemptLimit = { freeAttempts: 2, backoffBaseMs: 60_000, lockAfter: 4, lockSeconds: 600 };

function settingsWith(interactionIp: AttemptLimit, extra: Partial<GatehouseSettings> = {}): Partial<GatehouseSettings> {
  // trustProxy: the test is the proxy, so X-Forwarded-For names each request's address.
  return { trustProxy: true, limits: { ...DEFAULT_SETTINGS.limits, interactionIp }, ...extra };
}

function params(extra: Record<string, string> = {}): Record<string, string> {
  return {
    response_type: 'code',
    client_id: PUBLIC_CLIENT.client_id,
    redirect_uri: REDIRECT,
    scope: 'openid',
    state: 'xyz',
    code_challenge: s256Challenge(newVerifier()),
    code_challenge_method: 'S256',
    ...extra,
  };
}

/** One authorization request from `ip`, as a new browser (no cookies). */
async function authorize(server: RunningGatehouse, ip: string, extra: Record<string, string> = {}) {
  const response = await fetch(authorizeUrl(server, params(extra)), {
    redirect: 'manual',
    headers: { 'x-forwarded-for': ip },
  });
  return {
    status: response.status,
    location: response.headers.get('location'),
    headers: response.headers,
    body: await response.text(),
  };
}

function assertInteractionStarted(answer: { status: number; location: string | null }): void {
  assert.equal(answer.status, 303);
  assert.match(answer.location ?? '', /^\/interaction\/[A-Za-z0-9_-]+$/);
}

function liveInteractions(server: RunningGatehouse, now = NOW): Promise<number> {
  return server.store.interactions.countLive(now, 1_000_000);
}

for (const target of STORE_TARGETS) {
  describe(`interaction growth on ${target.name}`, () => {
    const started: Array<{ server: RunningGatehouse; url: string }> = [];
    after(async () => {
      for (const { server, url } of started) {
        await server.close();
        await target.cleanup(url);
      }
    });

    /** A test server whose clock stands still at NOW until `clock.now` is moved; undefined without PostgreSQL. */
    async function startServer(settings: Partial<GatehouseSettings>) {
      const url = await target.url();
      if (!url) return undefined;
      const server = await startTestServer({ databaseUrl: url, settings });
      started.push({ server, url });
      const clock = { now: NOW };
      server.context.now = () => clock.now;
      const events: TimedEvent[] = [];
      server.context.events.onAny((event) => events.push(event));
      return { server, clock, events };
    }

    it('RFC 6749 §4.1.2.1: an over-long state, nonce or login_hint is invalid_request at the redirect_uri, and nothing is stored', async (t) => {
      const started = await startServer(settingsWith(NEVER));
      if (!started) return t.skip('PostgreSQL not reachable');
      const { server } = started;
      const cases: Array<[name: keyof typeof STORED_VALUE_LIMITS, extra: Record<string, string>]> = [
        ['state', { state: 's'.repeat(STORED_VALUE_LIMITS.state + 1) }],
        ['nonce', { nonce: 'n'.repeat(STORED_VALUE_LIMITS.nonce + 1) }],
        ['login_hint', { login_hint: `${'h'.repeat(STORED_VALUE_LIMITS.login_hint - 11)}@example.com` }],
      ];
      assert.deepEqual(STORED_VALUE_LIMITS, { state: 512, nonce: 512, login_hint: 256 });
      for (const [name, extra] of cases) {
        const answer = await authorize(server, '198.51.100.1', extra);
        assert.equal(answer.status, 303, name);
        const location = new URL(answer.location ?? '');
        assert.equal(`${location.origin}${location.pathname}`, REDIRECT, `${name}: sent to the validated redirect_uri`);
        assert.equal(location.searchParams.get('error'), 'invalid_request', name);
        assert.equal(
          location.searchParams.get('error_description'),
          `parameter ${name} is longer than ${STORED_VALUE_LIMITS[name]} characters`,
          name,
        );
        // §4.1.2.1: state is REQUIRED in the error response, "the exact value received from the
        // client", so also the over-long one comes back as it was sent.
        assert.equal(location.searchParams.get('state'), extra.state ?? 'xyz', `${name}: state echoed exactly`);
      }
      assert.equal(await liveInteractions(server), 0, 'no interaction row for a refused request');

      // At the caps, the request is fine and stored.
      const atCaps = await authorize(server, '198.51.100.1', {
        state: 's'.repeat(512),
        nonce: 'n'.repeat(512),
        login_hint: `${'h'.repeat(256 - 12)}@example.com`,
      });
      assertInteractionStarted(atCaps);
      assert.equal(await liveInteractions(server), 1);
    });

    it('RFC 6585 §4: the interactions one address starts are limited (backoff, then a lock), 429 with Retry-After; other addresses go on', async (t) => {
      const started = await startServer(settingsWith(SMALL));
      if (!started) return t.skip('PostgreSQL not reachable');
      const { server, clock, events } = started;
      const attacker = '203.0.113.7';
      assertInteractionStarted(await authorize(server, attacker));
      assertInteractionStarted(await authorize(server, attacker));
      // The 3rd is beyond the free ones: counted, and the next one must wait 60 s.
      assertInteractionStarted(await authorize(server, attacker));
      const limited = await authorize(server, attacker);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '60');
      assert.match(limited.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(limited.body, /Too many sign-in requests came from your network\. Try again in 60 seconds\./);
      assert.equal(await liveInteractions(server), 3, 'a refused request stores nothing');

      clock.now = NOW + 60_000;
      // The 4th locks the address for lock_seconds.
      assertInteractionStarted(await authorize(server, attacker));
      const locked = await authorize(server, attacker);
      assert.equal(locked.status, 429);
      assert.equal(locked.headers.get('retry-after'), '600');
      assert.equal(await liveInteractions(server, clock.now), 4);
      const lock = events.find((event) => event.type === 'rate_limit.locked');
      assert.ok(lock && lock.type === 'rate_limit.locked');
      assert.deepEqual(
        [lock.scope, lock.subject, lock.attempts, lock.until],
        ['interaction_ip', attacker, 4, clock.now + 600_000],
      );

      // Another address is not affected.
      assertInteractionStarted(await authorize(server, '198.51.100.2'));
      // The lock ends; by then the attacker's interactions have expired (interaction_ttl_seconds 600).
      clock.now += 600_000;
      assert.equal(await liveInteractions(server, clock.now), 0);
      assertInteractionStarted(await authorize(server, attacker));
    });

    it('RFC 6585 §4: a finished interaction gives its count back, so an address that finishes its sign-ins is never limited', async (t) => {
      const started = await startServer(settingsWith(SMALL));
      if (!started) return t.skip('PostgreSQL not reachable');
      const { server } = started;
      const ua = new UserAgent(server.url);
      // prompt=login: every request needs the login page, hence an interaction (from 127.0.0.1).
      for (let round = 1; round <= 6; round++) {
        const page = await ua.authorize(
          authorizeUrl(server, params({ prompt: 'login', state: `round-${round}` })),
          ALICE,
        );
        assert.equal(page.status, 303, `round ${round}: ${page.body.slice(0, 200)}`);
        const location = new URL(page.location ?? '');
        assert.equal(location.searchParams.get('state'), `round-${round}`);
        assert.ok(location.searchParams.get('code'), `round ${round}: a code`);
      }
      // A consent denied finishes the interaction too.
      const denier = new UserAgent(server.url);
      for (let round = 1; round <= 4; round++) {
        const page = await denier.authorize(authorizeUrl(server, params({ prompt: 'login consent' })), ALICE, 'deny');
        assert.equal(new URL(page.location ?? '').searchParams.get('error'), 'access_denied', `round ${round}`);
      }
      assert.equal(await liveInteractions(server), 0);
    });

    it('max_live_interactions: beyond the cap new interactions get 503 with Retry-After, from any address, until rows expire', async (t) => {
      const started = await startServer(settingsWith(NEVER, { maxLiveInteractions: 3 }));
      if (!started) return t.skip('PostgreSQL not reachable');
      const { server, clock } = started;
      for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3'])
        assertInteractionStarted(await authorize(server, ip));
      const full = await authorize(server, '203.0.113.4');
      assert.equal(full.status, 503);
      assert.equal(full.headers.get('retry-after'), '60');
      assert.match(full.body, /too many sign-in requests right now/);
      assert.equal(await liveInteractions(server), 3);
      // A request that needs no interaction is not affected: an invalid one is still answered.
      const invalid = await authorize(server, '203.0.113.4', { response_type: 'token' });
      assert.equal(new URL(invalid.location ?? '').searchParams.get('error'), 'unsupported_response_type');

      // The interactions expire (interaction_ttl_seconds); the count is read again.
      clock.now = NOW + DEFAULT_SETTINGS.interactionTtlSeconds * 1000;
      assertInteractionStarted(await authorize(server, '203.0.113.4'));
    });
  });
}
