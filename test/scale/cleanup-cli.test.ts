/**
 * `gatehouse cleanup`: runs the cleanup of expired rows by hand and prints the count per table.
 * (What the cleanup deletes and keeps is the store contract's: test/store/contract.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { assertOneLineFailure, runCli } from '../helpers/cli.js';

describe('gatehouse cleanup', () => {
  it('deletes expired rows in batches and prints the count per table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cleanup-'));
    const database = `sqlite:${join(dir, 'gatehouse.db')}`;
    try {
      const store = await openStore(database);
      const now = Date.now();
      try {
        await store.migrate();
        await store.users.create({ id: 'u1', username: 'alice', passwordHash: 'x', email: null, name: null, claims: {}, createdAt: now });
        await store.clients.create({
          clientId: 'svc', clientSecretHash: null, clientName: null, redirectUris: [], grantTypes: ['client_credentials'], responseTypes: [],
          tokenEndpointAuthMethod: 'none', scope: 'api', requirePkce: true, idTokenSignedResponseAlg: null, subjectType: 'public', postLogoutRedirectUris: [],
          backchannelLogoutUri: null, backchannelLogoutSessionRequired: false, createdAt: now,
        });
        for (let i = 0; i < 5; i++) {
          await store.accessTokens.create({ jti: `expired-${i}`, grantId: null, flowId: null, clientId: 'svc', userId: null, scope: ['api'], audience: [], createdAt: now - 7200_000, expiresAt: now - 3600_000, revokedAt: null });
        }
        await store.accessTokens.create({ jti: 'live', grantId: null, flowId: null, clientId: 'svc', userId: null, scope: ['api'], audience: [], createdAt: now, expiresAt: now + 3600_000, revokedAt: null });
        await store.sessions.create({ idHash: 'old-session', sid: 'sid-1', userId: 'u1', authTime: now - 86400_000, createdAt: now - 86400_000, expiresAt: now - 7200_000 });
      } finally {
        await store.close();
      }

      const run = await runCli(['cleanup', '--database', database, '--batch-size', '2']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^access_tokens\s+5$/m);
      assert.match(run.stdout, /^sessions\s+1$/m);
      assert.match(run.stdout, /^authorization_codes\s+0$/m);
      assert.match(run.stdout, /^6 expired rows deleted\.$/m);

      const json = await runCli(['cleanup', '--database', database, '--json']);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), {
        authorization_codes: 0, access_tokens: 0, refresh_tokens: 0, grants: 0, sessions: 0, interactions: 0, logout_deliveries: 0,
      });

      const reopened = await openStore(database);
      try {
        assert.ok(await reopened.accessTokens.get('live'), 'the live token stays');
        assert.equal(await reopened.accessTokens.get('expired-0'), undefined);
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad --batch-size with one line', async () => {
    for (const value of ['0', 'ten', '-5', '1000001']) {
      assertOneLineFailure(await runCli(['cleanup', '--database', 'sqlite::memory:', '--batch-size', value]), /--batch-size must be an integer from 1 to 100000/);
    }
  });
});
