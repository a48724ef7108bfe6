/**
 * Refresh tokens, RFC 6749 §1.5 and §6, with rotation and reuse detection (RFC 9700 §4.14.2),
 * driven by openid-client against a running Gatehouse on SQLite and on PostgreSQL:
 * - which authorizations yield a refresh token (OIDC Core §11: offline_access);
 * - rotation at every use, the grace window for retries (same successor), reuse after the
 *   window or after the successor was used (the whole family and its access tokens revoked);
 * - scope narrowing (never widening), binding to the client, public clients, idle and absolute
 *   expiry, grace 0.
 *
 * Run: node --import tsx --test test/token/refresh-token.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { RunningGatehouse } from '../../src/server.js';
import { randomToken, sha256Base64Url, storedTokenKey } from '../../src/core/secrets.js';
import {
  ALICE,
  CONFIDENTIAL_CLIENT,
  OTHER_CLIENT,
  PUBLIC_CLIENT,
  STORE_TARGETS,
  type TestServerOptions,
} from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';
import { assertNoStore } from '../helpers/code-flow.js';
import {
  assertOAuthError,
  buildCodeRequest,
  codeFlow,
  decodeAccessToken,
  grantOf,
  interopClient,
  refreshRecord,
  startServerOn,
  type InteropClient,
} from '../helpers/interop-client.js';

const CLIENTS = [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, OTHER_CLIENT];
const OFFLINE_SCOPE = 'openid profile offline_access';
const INACTIVE = { active: false };

/** RFC 6749 §5.1: a successful token response is not cacheable either. */
function assertTokenResponseNoStore(ic: InteropClient): void {
  const response = ic.lastResponse('/token');
  assert.equal(response.status, 200);
  assertNoStore(response);
}

async function offlineTokens(gatehouse: RunningGatehouse, ic: InteropClient) {
  const tokens = await codeFlow(gatehouse, ic, { scope: OFFLINE_SCOPE });
  assert.equal(typeof tokens.refresh_token, 'string', 'a refresh token was issued');
  return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token! };
}

/**
 * RFC 9700 §4.14.2: presenting the rotated refresh token `reused` is invalid_grant and revokes
 * its family: the grant is revoked, the family's live refresh token `live` (when given) is
 * invalid_grant too, and each of `inactive` introspects as inactive (RFC 7662 §2.2).
 */
async function assertReuseRevokesFamily(
  gatehouse: RunningGatehouse,
  ic: InteropClient,
  reused: string,
  live: string | undefined,
  inactive: string[],
): Promise<void> {
  await assertOAuthError(client.refreshTokenGrant(ic.config, reused), 400, 'invalid_grant');
  assert.notEqual((await grantOf(gatehouse, reused)).revokedAt, null, 'the grant (family) is revoked');
  if (live !== undefined) await assertOAuthError(client.refreshTokenGrant(ic.config, live), 400, 'invalid_grant');
  for (const token of inactive) assert.deepEqual(await client.tokenIntrospection(ic.config, token), INACTIVE);
}

for (const target of STORE_TARGETS) {
  describe(`RFC 6749 §6 / RFC 9700 §4.14.2: refresh tokens on ${target.name}`, () => {
    const servers: Array<{ stop(): Promise<void> }> = [];
    async function start(options: TestServerOptions = {}): Promise<RunningGatehouse> {
      const server = await startServerOn(target, { clients: CLIENTS, ...options });
      servers.push(server);
      return server.gatehouse;
    }
    after(async () => {
      for (const server of servers) await server.stop();
    });

    /** The server's clock (context.now): it stands still until a test moves it on. */
    interface ServerClock {
      now(): number;
      advance(ms: number): void;
    }

    type OfflineTest = (
      first: Awaited<ReturnType<typeof offlineTokens>>,
      web: InteropClient,
      gatehouse: RunningGatehouse,
      clock: ServerClock,
    ) => Promise<void>;

    /**
     * Tests on a server with `settings`, started for the enclosing describe: each test gets the
     * confidential client on it and the tokens of a fresh offline_access authorization. The
     * server's clock stands still, so lifetimes of a second or two are exact however slow the
     * machine is: a test moves time on with `clock.advance` instead of sleeping.
     */
    function testsWithOfflineTokens(
      settings: TestServerOptions['settings'],
    ): (name: string, body: OfflineTest) => void {
      let gatehouse: RunningGatehouse;
      let web: InteropClient;
      let current = Date.now();
      const clock: ServerClock = {
        now: () => current,
        advance: (ms) => {
          current += ms;
        },
      };
      before(async () => {
        gatehouse = await start({ settings });
        gatehouse.context.now = clock.now;
        web = await interopClient(gatehouse, CONFIDENTIAL_CLIENT);
      });
      return (name, body) =>
        it(name, async () => {
          current = Math.max(current, Date.now());
          await body(await offlineTokens(gatehouse, web), web, gatehouse, clock);
        });
    }

    describe('default settings (grace window 10 s)', () => {
      let gatehouse: RunningGatehouse;
      let web: InteropClient;
      let spa: InteropClient;
      let other: InteropClient;

      before(async () => {
        gatehouse = await start();
        web = await interopClient(gatehouse, CONFIDENTIAL_CLIENT);
        spa = await interopClient(gatehouse, PUBLIC_CLIENT);
        other = await interopClient(gatehouse, OTHER_CLIENT);
      });

      it('RFC 6749 §1.5, §5.1 + OIDC Core §11: scope "openid ... offline_access" yields a refresh token (no-store response)', async () => {
        const tokens = await codeFlow(gatehouse, web, { scope: OFFLINE_SCOPE });
        assertTokenResponseNoStore(web);
        assert.equal(typeof tokens.refresh_token, 'string');
        assert.ok(tokens.refresh_token!.length >= 43, 'RFC 6749 §10.10: at least 256 bits');
        assert.equal(tokens.scope, OFFLINE_SCOPE);
        assert.ok(tokens.id_token);
        const record = await refreshRecord(gatehouse, tokens.refresh_token!);
        assert.equal(record.clientId, CONFIDENTIAL_CLIENT.client_id);
        assert.equal(record.rotatedAt, null);
        assert.deepEqual(record.scope, OFFLINE_SCOPE.split(' '));
      });

      it('RFC 6749 §1.5: a non-OpenID authorization (scope "profile") yields a refresh token, and no ID token', async () => {
        const tokens = await codeFlow(gatehouse, web, { scope: 'profile' });
        assert.equal(typeof tokens.refresh_token, 'string');
        assert.equal(tokens.id_token, undefined);
        assert.equal(tokens.scope, 'profile');
      });

      it('OIDC Core §11: an OpenID request without offline_access yields no refresh token', async () => {
        const tokens = await codeFlow(gatehouse, web, { scope: 'openid profile' });
        assertTokenResponseNoStore(web);
        assert.ok(tokens.access_token);
        assert.ok(tokens.id_token);
        assert.equal(tokens.refresh_token, undefined);
        assert.equal(Object.hasOwn(tokens, 'refresh_token'), false);
      });

      it('RFC 6749 §6: a refresh token issued before tokens carried the time (stored under its plain SHA-256) still introspects and refreshes, into a time-ordered one', async () => {
        const first = await offlineTokens(gatehouse, web);
        assert.match(first.refreshToken, /^[0-9a-f]{12}[A-Za-z0-9_-]{43}$/, 'new refresh tokens start with the time');
        // A token of the earlier format (32 random bytes, nothing else) in the same family, as
        // an earlier version stored it.
        const legacy = randomToken(32);
        const record = await refreshRecord(gatehouse, first.refreshToken);
        await gatehouse.store.refreshTokens.create({ ...record, tokenHash: sha256Base64Url(legacy) });
        assert.equal((await client.tokenIntrospection(web.config, legacy)).active, true);
        const refreshed = await client.refreshTokenGrant(web.config, legacy);
        assert.match(refreshed.refresh_token!, /^[0-9a-f]{12}[A-Za-z0-9_-]{43}$/);
        const rotated = await gatehouse.store.refreshTokens.get(sha256Base64Url(legacy));
        assert.notEqual(rotated?.rotatedAt, null, 'the earlier token is rotated');
        assert.equal(rotated?.successorHash, storedTokenKey(refreshed.refresh_token!));
      });

      it('RFC 6749 §6 + RFC 9700 §4.14.2: refreshTokenGrant rotates the refresh token; the old one is then rotated and inactive', async () => {
        const first = await offlineTokens(gatehouse, web);
        const refreshed = await client.refreshTokenGrant(web.config, first.refreshToken);
        assertTokenResponseNoStore(web);
        assert.equal(typeof refreshed.refresh_token, 'string');
        assert.notEqual(refreshed.refresh_token, first.refreshToken, 'a new refresh token');
        assert.notEqual(refreshed.access_token, first.accessToken, 'a new access token');
        assert.equal(refreshed.token_type, 'bearer');
        assert.equal(refreshed.scope, OFFLINE_SCOPE, 'RFC 6749 §6: the original scope when none is requested');
        // OIDC Core §12.2: an ID token on refresh, about the same user.
        assert.equal(refreshed.claims()?.sub, decodeAccessToken(first.accessToken).sub);

        const old = await refreshRecord(gatehouse, first.refreshToken);
        assert.notEqual(old.rotatedAt, null, 'the presented token is marked rotated');
        assert.equal(old.successorHash, storedTokenKey(refreshed.refresh_token!));
        const successor = await refreshRecord(gatehouse, refreshed.refresh_token!);
        assert.equal(successor.rotatedAt, null);
        assert.equal(successor.grantId, old.grantId, 'the successor belongs to the same family');
        assert.equal(successor.familyExpiresAt, old.familyExpiresAt, 'rotation does not extend the family');

        // RFC 7662 §2.2: the rotated token is no longer active; its successor is.
        assert.deepEqual(await client.tokenIntrospection(web.config, first.refreshToken), INACTIVE);
        const introspected = await client.tokenIntrospection(web.config, refreshed.refresh_token!);
        assert.equal(introspected.active, true);
        assert.equal(introspected.token_type, 'refresh_token');
        assert.equal(
          (await client.tokenIntrospection(web.config, first.accessToken)).active,
          true,
          'rotation alone revokes nothing',
        );
      });

      it('RFC 9700 §4.14.2 (grace window): presenting the just-rotated token again answers 200 with the SAME successor', async () => {
        const first = await offlineTokens(gatehouse, web);
        const refreshed = await client.refreshTokenGrant(web.config, first.refreshToken);
        const retried = await client.refreshTokenGrant(web.config, first.refreshToken);
        assertTokenResponseNoStore(web);
        assert.equal(retried.refresh_token, refreshed.refresh_token, 'the retry gets the same successor');
        assert.notEqual(retried.access_token, refreshed.access_token, 'and a fresh access token');
        assert.equal((await grantOf(gatehouse, first.refreshToken)).revokedAt, null, 'a retry is not reuse');
        for (const accessToken of [first.accessToken, refreshed.access_token, retried.access_token]) {
          assert.equal((await client.tokenIntrospection(web.config, accessToken)).active, true);
        }
        // The successor still rotates normally.
        const next = await client.refreshTokenGrant(web.config, refreshed.refresh_token!);
        assert.notEqual(next.refresh_token, refreshed.refresh_token);
      });

      it('RFC 9700 §4.14.2: reuse of a rotated token after its successor was used (within the window) is invalid_grant and revokes the family', async () => {
        const first = await offlineTokens(gatehouse, web);
        const second = await client.refreshTokenGrant(web.config, first.refreshToken);
        const third = await client.refreshTokenGrant(web.config, second.refresh_token!);

        // The live end of the family no longer works, and neither do its access tokens.
        const inactive = [first.accessToken, second.access_token, third.access_token, third.refresh_token!];
        await assertReuseRevokesFamily(gatehouse, web, first.refreshToken, third.refresh_token!, inactive);
      });

      it('RFC 6749 §6: the scope may shrink on refresh (access token narrowed), and the family keeps the original scope', async () => {
        const first = await offlineTokens(gatehouse, web);
        const narrowed = await client.refreshTokenGrant(web.config, first.refreshToken, { scope: 'profile' });
        assert.equal(narrowed.scope, 'profile');
        assert.equal(decodeAccessToken(narrowed.access_token).scope, 'profile');
        assert.equal(narrowed.id_token, undefined, 'no openid, no ID token');
        const introspected = await client.tokenIntrospection(web.config, narrowed.access_token);
        assert.equal(introspected.active, true);
        assert.equal(introspected.scope, 'profile');

        // "the refresh token scope MUST be identical to that of the refresh token included by the client"
        assert.deepEqual((await refreshRecord(gatehouse, narrowed.refresh_token!)).scope, OFFLINE_SCOPE.split(' '));
        const full = await client.refreshTokenGrant(web.config, narrowed.refresh_token!);
        assert.equal(full.scope, OFFLINE_SCOPE);
        assert.equal(decodeAccessToken(full.access_token).scope, OFFLINE_SCOPE);
      });

      it('RFC 6749 §6: the scope never grows on refresh: invalid_scope, and the refresh token is not consumed', async () => {
        const first = await offlineTokens(gatehouse, web);
        // email is registered for the client but was not granted in this authorization.
        await assertOAuthError(
          client.refreshTokenGrant(web.config, first.refreshToken, { scope: 'openid profile email offline_access' }),
          400,
          'invalid_scope',
        );
        await assertOAuthError(
          client.refreshTokenGrant(web.config, first.refreshToken, { scope: 'admin' }),
          400,
          'invalid_scope',
        );
        assert.equal((await refreshRecord(gatehouse, first.refreshToken)).rotatedAt, null);
        const refreshed = await client.refreshTokenGrant(web.config, first.refreshToken);
        assert.equal(refreshed.scope, OFFLINE_SCOPE);
      });

      it("RFC 6749 §6 + §10.4: a refresh token of client A presented by client B is invalid_grant (and stays A's, unrotated)", async () => {
        const first = await offlineTokens(gatehouse, web);
        await assertOAuthError(client.refreshTokenGrant(other.config, first.refreshToken), 400, 'invalid_grant');
        await assertOAuthError(client.refreshTokenGrant(spa.config, first.refreshToken), 400, 'invalid_grant');
        assert.equal((await refreshRecord(gatehouse, first.refreshToken)).rotatedAt, null);
        assert.equal(
          (await grantOf(gatehouse, first.refreshToken)).revokedAt,
          null,
          'another client cannot trigger a revocation',
        );
        const refreshed = await client.refreshTokenGrant(web.config, first.refreshToken);
        assert.ok(refreshed.refresh_token);
      });

      it('RFC 9700 §4.14.2: refresh tokens of a public client rotate too, with the same grace-window retry', async () => {
        const first = await offlineTokens(gatehouse, spa);
        const refreshed = await client.refreshTokenGrant(spa.config, first.refreshToken);
        assertTokenResponseNoStore(spa);
        assert.ok(refreshed.refresh_token);
        assert.notEqual(refreshed.refresh_token, first.refreshToken);
        assert.notEqual((await refreshRecord(gatehouse, first.refreshToken)).rotatedAt, null);
        const retried = await client.refreshTokenGrant(spa.config, first.refreshToken);
        assert.equal(retried.refresh_token, refreshed.refresh_token);
        const next = await client.refreshTokenGrant(spa.config, refreshed.refresh_token!);
        assert.notEqual(next.refresh_token, refreshed.refresh_token);
        // Reuse after the successor was used: the family ends.
        await assertReuseRevokesFamily(gatehouse, spa, first.refreshToken, next.refresh_token!, []);
      });

      it('RFC 6749 §4.1.2: replaying the authorization code revokes the refresh token family issued from it', async () => {
        const request = await buildCodeRequest(web, { scope: OFFLINE_SCOPE });
        const final = await new UserAgent(gatehouse.url).authorize(request.url.href, ALICE);
        const callback = new URL(final.location!);
        const checks = {
          pkceCodeVerifier: request.verifier,
          expectedState: request.state,
          expectedNonce: request.nonce,
        };
        const tokens = await client.authorizationCodeGrant(web.config, callback, checks);
        const refreshed = await client.refreshTokenGrant(web.config, tokens.refresh_token!);
        await assertOAuthError(client.authorizationCodeGrant(web.config, callback, checks), 400, 'invalid_grant');
        await assertOAuthError(client.refreshTokenGrant(web.config, refreshed.refresh_token!), 400, 'invalid_grant');
        for (const token of [tokens.access_token, refreshed.access_token, refreshed.refresh_token!]) {
          assert.deepEqual(await client.tokenIntrospection(web.config, token), INACTIVE);
        }
      });

      it('RFC 6749 §6: an unknown refresh token is invalid_grant; a missing one invalid_request', async () => {
        await assertOAuthError(client.refreshTokenGrant(web.config, 'not-a-refresh-token'), 400, 'invalid_grant');
        const missing = await fetch(new URL('/token', gatehouse.url), {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${CONFIDENTIAL_CLIENT.client_id}:${CONFIDENTIAL_CLIENT.client_secret}`).toString('base64')}`,
          },
          body: 'grant_type=refresh_token',
        });
        assert.equal(missing.status, 400);
        assertNoStore(missing);
        assert.equal(((await missing.json()) as { error: string }).error, 'invalid_request');
      });
    });

    describe('after the grace window (refreshTokenGraceSeconds: 1)', () => {
      const test = testsWithOfflineTokens({ refreshTokenGraceSeconds: 1 });

      test('RFC 9700 §4.14.2: reuse of a rotated token after the window is invalid_grant and revokes the whole family and its access tokens', async (first, web, gatehouse, clock) => {
        const second = await client.refreshTokenGrant(web.config, first.refreshToken);
        // Within the window the retry still works ...
        assert.equal(
          (await client.refreshTokenGrant(web.config, first.refreshToken)).refresh_token,
          second.refresh_token,
        );
        clock.advance(1200);
        // ... after it, it is reuse.
        await assertReuseRevokesFamily(gatehouse, web, first.refreshToken, second.refresh_token!, [
          first.accessToken,
          second.access_token,
          second.refresh_token!,
        ]);
      });
    });

    describe('grace window disabled (refreshTokenGraceSeconds: 0)', () => {
      const test = testsWithOfflineTokens({ refreshTokenGraceSeconds: 0 });

      test('RFC 9700 §4.14.2: with grace 0 a second presentation is invalid_grant at once and revokes the family', async (first, web, gatehouse) => {
        const second = await client.refreshTokenGrant(web.config, first.refreshToken);
        await assertReuseRevokesFamily(gatehouse, web, first.refreshToken, second.refresh_token!, [
          first.accessToken,
          second.access_token,
        ]);
      });
    });

    describe('idle expiry (refreshTokenIdleTtlSeconds: 1)', () => {
      const test = testsWithOfflineTokens({ refreshTokenIdleTtlSeconds: 1 });

      test('RFC 6749 §6 + RFC 9700 §4.14.2: a refresh token unused for longer than its idle lifetime is invalid_grant', async (first, web, _gatehouse, clock) => {
        clock.advance(1200);
        await assertOAuthError(client.refreshTokenGrant(web.config, first.refreshToken), 400, 'invalid_grant');
        assert.deepEqual(await client.tokenIntrospection(web.config, first.refreshToken), INACTIVE);
      });
    });

    describe('idle expiry of a family in use (refreshTokenIdleTtlSeconds: 2)', () => {
      const test = testsWithOfflineTokens({ refreshTokenIdleTtlSeconds: 2 });

      test('RFC 9700 §4.14.2: a rotated token presented after its own idle expiry is still reuse, and revokes the live family', async (first, web, gatehouse, clock) => {
        // An attacker who stole R0 and refreshed first holds the live family; the legitimate
        // client, idle for a while, presents R0 only after it would have expired anyway. (Its
        // successor was used, so this is reuse even within the grace window.)
        const second = await client.refreshTokenGrant(web.config, first.refreshToken);
        clock.advance(1100);
        const third = await client.refreshTokenGrant(web.config, second.refresh_token!);
        clock.advance(1100);
        assert.ok(
          (await refreshRecord(gatehouse, first.refreshToken)).expiresAt <= clock.now(),
          'R0 is past its idle expiry',
        );
        await assertReuseRevokesFamily(gatehouse, web, first.refreshToken, undefined, [
          third.refresh_token!,
          third.access_token,
        ]);
      });

      test('RFC 9700 §4.14.2: each successor gets a fresh idle lifetime, so a family in use outlives one idle period', async (first, web, _gatehouse, clock) => {
        let { refreshToken } = first;
        for (let step = 0; step < 3; step++) {
          clock.advance(1500);
          refreshToken = (await client.refreshTokenGrant(web.config, refreshToken)).refresh_token!;
        }
      });
    });

    describe('absolute expiry (refreshTokenAbsoluteTtlSeconds: 1)', () => {
      const test = testsWithOfflineTokens({ refreshTokenAbsoluteTtlSeconds: 1 });

      test('RFC 9700 §4.14.2: rotation does not extend the family; after its absolute lifetime even a fresh successor is invalid_grant', async (first, web, _gatehouse, clock) => {
        const second = await client.refreshTokenGrant(web.config, first.refreshToken);
        clock.advance(1200);
        await assertOAuthError(client.refreshTokenGrant(web.config, second.refresh_token!), 400, 'invalid_grant');
      });
    });
  });
}
