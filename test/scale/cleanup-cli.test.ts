/**
 * `gatehouse cleanup`: runs the cleanup of expired rows by hand and prints the count per table.
 * (What the cleanup deletes and keeps is the store contract's: test/store/contract.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { assertOneLineFailure, runCli } from '../helpers/cli.js';
import { dropPostgresSchema, postgresSkipMessage, postgresTestUrl } from '../helpers/postgres.js';
import {
  makeAuditEvent,
  makeClient,
  makeDeviceCode,
  makePushedRequest,
  makeSession,
  makeToken,
  makeUser,
} from '../helpers/store-records.js';

describe('gatehouse cleanup', () => {
  it('deletes expired rows in batches and prints the count per table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cleanup-'));
    const database = `sqlite:${join(dir, 'gatehouse.db')}`;
    try {
      const store = await openStore(database);
      const now = Date.now();
      try {
        await store.migrate();
        await store.users.create(makeUser({ id: 'u1', username: 'alice', createdAt: now }));
        await store.clients.create(
          makeClient({ clientId: 'svc', grantTypes: ['client_credentials'], responseTypes: [], createdAt: now }),
        );
        // A client-credentials token of `svc` (no grant), created at `createdAt` and expiring at `expiresAt`.
        const token = (jti: string, createdAt: number, expiresAt: number) =>
          makeToken('svc', null, { jti, scope: ['api'], audience: [], createdAt, expiresAt });
        for (let i = 0; i < 5; i++)
          await store.accessTokens.create(token(`expired-${i}`, now - 7200_000, now - 3600_000));
        await store.accessTokens.create(token('live', now, now + 3600_000));
        // RFC 8628: a device code past its expires_in.
        await store.deviceCodes.create(
          makeDeviceCode('svc', { createdAt: now - 3600_000, expiresAt: now - 1800_000 }),
          now - 3600_000,
        );
        // RFC 9126: an expired pushed authorization request goes, a live one stays.
        await store.pushedRequests.create(
          makePushedRequest('svc', { requestUriHash: 'expired-request-uri', expiresAt: now - 1000 }),
        );
        await store.pushedRequests.create(
          makePushedRequest('svc', { requestUriHash: 'live-request-uri', expiresAt: now + 60_000 }),
        );
        // RFC 7591: an expired initial access token, and a self-registered client unused for
        // longer than registration.abandoned_after_seconds (default 30 days), go.
        await store.registrations.createToken({
          id: 'old-token',
          tokenHash: 'old-token-hash',
          createdAt: now - 7200_000,
          expiresAt: now - 3600_000,
          usesLeft: null,
          revokedAt: null,
        });
        const abandonedAt = now - 31 * 86400_000;
        await store.clients.create(
          makeClient({ clientId: 'abandoned', registrationKind: 'dynamic', createdAt: abandonedAt }),
        );
        await store.registrations.create({
          clientId: 'abandoned',
          accessTokenHash: 'abandoned-hash',
          createdAt: abandonedAt,
          lastActiveAt: abandonedAt,
        });
        await store.sessions.create(
          makeSession('u1', {
            idHash: 'old-session',
            sid: 'sid-1',
            authTime: now - 86400_000,
            createdAt: now - 86400_000,
            expiresAt: now - 7200_000,
          }),
        );
      } finally {
        await store.close();
      }

      const run = await runCli(['cleanup', '--database', database, '--batch-size', '2']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^access_tokens\s+5$/m);
      assert.match(run.stdout, /^sessions\s+1$/m);
      assert.match(run.stdout, /^authorization_codes\s+0$/m);
      assert.match(run.stdout, /^device_codes\s+1$/m);
      assert.match(run.stdout, /^pushed_authorization_requests\s+1$/m);
      assert.match(run.stdout, /^registration_tokens\s+1$/m);
      assert.match(run.stdout, /^clients\s+1$/m);
      // 5 tokens, 1 session, 1 device code, 1 pushed request, 1 registration token, 1 abandoned client.
      assert.match(run.stdout, /^10 expired rows deleted\.$/m);

      const json = await runCli(['cleanup', '--database', database, '--json']);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), {
        authorization_codes: 0,
        access_tokens: 0,
        refresh_tokens: 0,
        grants: 0,
        sessions: 0,
        interactions: 0,
        pushed_authorization_requests: 0,
        logout_deliveries: 0,
        audit_events: 0,
        used_jtis: 0,
        device_codes: 0,
        registration_tokens: 0,
        clients: 0,
      });

      const reopened = await openStore(database);
      try {
        assert.ok(await reopened.accessTokens.get('live'), 'the live token stays');
        assert.equal((await reopened.pushedRequests.consume('live-request-uri', 'svc', now)).status, 'consumed');
        assert.equal(await reopened.accessTokens.get('expired-0'), undefined);
        assert.equal(await reopened.clients.get('abandoned'), undefined);
        assert.ok(await reopened.clients.get('svc'), 'an operator-registered client is never abandoned');
      } finally {
        await reopened.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const target of ['sqlite', 'postgres'] as const) {
    it(`OWASP Logging Cheat Sheet (retention): audit events older than audit_retention_days (default 90) are deleted, 0 keeps them (${target})`, async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'gatehouse-cleanup-audit-'));
      const database = target === 'sqlite' ? `sqlite:${join(dir, 'gatehouse.db')}` : await postgresTestUrl();
      if (database === undefined) return t.skip(postgresSkipMessage());
      const DAY = 24 * 3600 * 1000;
      try {
        const store = await openStore(database);
        const now = Date.now();
        try {
          await store.migrate();
          const event = (daysAgo: number, type: string) => makeAuditEvent(now - daysAgo * DAY, type);
          await store.audit.insert([event(100, 'old.a'), event(91, 'old.b'), event(10, 'recent'), event(0, 'today')]);
        } finally {
          await store.close();
        }
        const config = async (days: number) => {
          const file = join(dir, `audit-${days}.yaml`);
          await writeFile(file, `audit_retention_days: ${days}\n`);
          return file;
        };
        const deleted = async (args: string[]) => {
          const run = await runCli(['cleanup', '--database', database, '--json', ...args]);
          assert.equal(run.code, 0, run.stderr);
          return (JSON.parse(run.stdout) as { audit_events: number }).audit_events;
        };
        assert.equal(await deleted(['--config', await config(0)]), 0, '0 keeps the audit trail for ever');
        assert.equal(await deleted([]), 2, 'the default retention is 90 days');
        assert.equal(await deleted(['--config', await config(5)]), 1);
        const reopened = await openStore(database);
        try {
          assert.deepEqual(
            (await reopened.audit.list({ limit: 10 })).map((e) => e.type),
            ['today'],
          );
        } finally {
          await reopened.close();
        }
      } finally {
        if (target === 'postgres') await dropPostgresSchema(database);
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  it('refuses a bad --batch-size with one line', async () => {
    for (const value of ['0', 'ten', '-5', '1000001']) {
      assertOneLineFailure(
        await runCli(['cleanup', '--database', 'sqlite::memory:', '--batch-size', value]),
        /--batch-size must be an integer from 1 to 100000/,
      );
    }
  });
});
