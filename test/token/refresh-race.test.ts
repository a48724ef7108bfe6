/**
 * Refresh token rotation under concurrency (RFC 6749 §6, RFC 9700 §4.14.2): 20 parallel
 * refreshes of one token by openid-client, on every store (SQLite, and PostgreSQL, which must
 * really run here). However the requests interleave, a family never forks into two live ones:
 * - within the grace window every request is a retry of the one rotation: all 20 succeed with
 *   the same successor, and exactly one unrotated refresh token remains for the grant;
 * - with grace 0 the rotation has exactly one winner; every other request is reuse
 *   (invalid_grant), which revokes the family, the winner's tokens included.
 *
 * Run: node --import tsx --test test/token/refresh-race.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { storedTokenKey } from '../../src/core/secrets.js';
import { CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, STORE_TARGETS, startTestServer } from '../helpers/server.js';
import {
  assertOAuthError,
  codeFlow,
  interopClient,
  refreshRecord,
  startServerOn,
  type InteropClient,
} from '../helpers/interop-client.js';

const PARALLEL = 20;
const SCOPE = 'openid profile offline_access';

function kind(fixture: ClientFixture): string {
  return fixture.token_endpoint_auth_method === 'none' ? 'public' : 'confidential';
}

/** A fresh family: the refresh token of a new authorization, and its grant id. */
async function freshRefreshToken(
  gatehouse: RunningGatehouse,
  ic: InteropClient,
): Promise<{ refreshToken: string; grantId: string }> {
  const tokens = await codeFlow(gatehouse, ic, { scope: SCOPE });
  assert.ok(tokens.refresh_token);
  return {
    refreshToken: tokens.refresh_token,
    grantId: (await refreshRecord(gatehouse, tokens.refresh_token)).grantId,
  };
}

for (const target of STORE_TARGETS) {
  describe(`RFC 9700 §4.14.2: ${PARALLEL} parallel refreshes of one token on ${target.name}`, () => {
    const servers: Array<{ stop(): Promise<void> }> = [];
    let withGrace: RunningGatehouse;
    let withGraceUrl: string;
    let withoutGrace: RunningGatehouse;

    before(async () => {
      const graceServer = await startServerOn(target);
      servers.push(graceServer);
      withGrace = graceServer.gatehouse;
      withGraceUrl = graceServer.databaseUrl;
      const noGraceServer = await startServerOn(target, { settings: { refreshTokenGraceSeconds: 0 } });
      servers.push(noGraceServer);
      withoutGrace = noGraceServer.gatehouse;
    });
    after(async () => {
      for (const server of servers) await server.stop();
    });

    // An in-memory SQLite database cannot be shared by two instances; PostgreSQL is the multi-instance store.
    if (target.name === 'postgres') {
      it(`RFC 9700 §4.14.2 (grace window): ${PARALLEL} refreshes split across two instances sharing the database all get the same successor`, async () => {
        // A second Gatehouse on the same database (same secret, so it can unseal stored successors).
        const second = await startTestServer({ databaseUrl: withGraceUrl });
        try {
          const first = await interopClient(withGrace, CONFIDENTIAL_CLIENT);
          const other = await interopClient(second, CONFIDENTIAL_CLIENT);
          const { refreshToken, grantId } = await freshRefreshToken(withGrace, first);
          const results = await Promise.allSettled(
            Array.from({ length: PARALLEL }, (_, index) =>
              client.refreshTokenGrant(index % 2 === 0 ? first.config : other.config, refreshToken),
            ),
          );
          assert.deepEqual(
            results.filter((result) => result.status === 'rejected'),
            [],
          );
          const successors = new Set(
            results.map((result) => (result as PromiseFulfilledResult<{ refresh_token?: string }>).value.refresh_token),
          );
          assert.equal(successors.size, 1, 'one successor, whichever instance answered');
          const family = await withGrace.store.refreshTokens.listByGrant(grantId);
          assert.equal(family.length, 2);
          assert.equal(family.filter((record) => record.rotatedAt === null).length, 1);
          assert.equal((await withGrace.store.grants.get(grantId))?.revokedAt, null);
        } finally {
          await second.close();
        }
      });
    }

    for (const fixture of [CONFIDENTIAL_CLIENT, PUBLIC_CLIENT]) {
      it(`RFC 9700 §4.14.2 (grace window): all ${PARALLEL} refreshes by the ${kind(fixture)} client succeed with the same successor, and one live refresh token remains`, async () => {
        const ic = await interopClient(withGrace, fixture);
        const { refreshToken, grantId } = await freshRefreshToken(withGrace, ic);

        const results = await Promise.allSettled(
          Array.from({ length: PARALLEL }, () => client.refreshTokenGrant(ic.config, refreshToken)),
        );
        const failures = results.filter((result) => result.status === 'rejected');
        assert.deepEqual(failures, [], 'every parallel refresh is answered 200');
        const responses = results.map(
          (result) => (result as PromiseFulfilledResult<Awaited<ReturnType<typeof client.refreshTokenGrant>>>).value,
        );
        const successors = new Set(responses.map((response) => response.refresh_token));
        assert.equal(successors.size, 1, 'every response carries the same successor');
        const [successor] = successors;
        assert.ok(successor);
        assert.notEqual(successor, refreshToken);
        assert.equal(
          new Set(responses.map((response) => response.access_token)).size,
          PARALLEL,
          'each response has its own access token',
        );

        const family = await withGrace.store.refreshTokens.listByGrant(grantId);
        const live = family.filter((record) => record.rotatedAt === null);
        assert.equal(live.length, 1, 'exactly one unrotated refresh token for the grant');
        assert.equal(live[0]!.tokenHash, storedTokenKey(successor));
        assert.equal(family.length, 2, 'the presented token and its one successor; no orphaned successors');
        assert.equal((await withGrace.store.grants.get(grantId))?.revokedAt, null, 'the grant is not revoked');

        // The family lives on through its successor.
        const next = await client.refreshTokenGrant(ic.config, successor);
        assert.ok(next.refresh_token);
        assert.notEqual(next.refresh_token, successor);
      });

      it(`RFC 9700 §4.14.2 (grace 0): of ${PARALLEL} refreshes by the ${kind(fixture)} client exactly one succeeds, the others are invalid_grant, and no live family remains`, async () => {
        const ic = await interopClient(withoutGrace, fixture);
        const { refreshToken, grantId } = await freshRefreshToken(withoutGrace, ic);

        const results = await Promise.allSettled(
          Array.from({ length: PARALLEL }, () => client.refreshTokenGrant(ic.config, refreshToken)),
        );
        const succeeded = results.filter((result) => result.status === 'fulfilled');
        const rejected = results.filter((result) => result.status === 'rejected');
        assert.equal(
          succeeded.length,
          1,
          `exactly one 200; rejections: ${rejected.map((result) => String(result.reason)).join('; ')}`,
        );
        assert.equal(rejected.length, PARALLEL - 1);
        for (const result of rejected) await assertOAuthError(Promise.reject(result.reason), 400, 'invalid_grant');

        // The others were reuse: the family (the winner's successor included) is revoked.
        assert.notEqual((await withoutGrace.store.grants.get(grantId))?.revokedAt, null, 'the grant is revoked');
        const winner = succeeded[0]!.value;
        await assertOAuthError(client.refreshTokenGrant(ic.config, winner.refresh_token!), 400, 'invalid_grant');
        const family = await withoutGrace.store.refreshTokens.listByGrant(grantId);
        assert.equal(family.length, 2, 'one rotation happened, never two');
        assert.equal(family.filter((record) => record.rotatedAt === null).length, 1);
        if (fixture.token_endpoint_auth_method !== 'none') {
          assert.deepEqual(await client.tokenIntrospection(ic.config, winner.access_token), { active: false });
        }
      });
    }
  });
}
