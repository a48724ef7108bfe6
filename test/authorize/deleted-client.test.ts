/**
 * A client deleted by another process (the CLI, another instance on SQLite) may stay in this
 * instance's client cache for up to client_cache_ttl_seconds. Requests for it in that window get
 * the error page for an unknown client (RFC 6749 §4.1.2.1: never a redirect), not a 500.
 *
 * Run: node --import tsx --test test/authorize/deleted-client.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningGatehouse } from '../../src/server.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { authorizeUrl, newVerifier } from '../helpers/code-flow.js';
import { ALICE, CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';
import { createHash } from 'node:crypto';

const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

describe('RFC 6749 §4.1.2.1: a client deleted elsewhere while still cached here', () => {
  let dir: string;
  let gatehouse: RunningGatehouse;
  let other: Store;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-deleted-client-'));
    const databaseUrl = `sqlite:${join(dir, 'gatehouse.db')}`;
    // A long cache TTL: only the failed write can reveal the deletion.
    gatehouse = await startTestServer({ databaseUrl, settings: { clientCacheTtlSeconds: 300 } });
    // Another process's view of the same file (SQLite has no cross-process notifications).
    other = await openStore(databaseUrl);
  });
  after(async () => {
    await gatehouse.close();
    await other.close();
    await rm(dir, { recursive: true, force: true });
  });

  function request(client: typeof CONFIDENTIAL_CLIENT): string {
    return authorizeUrl(gatehouse, {
      client_id: client.client_id,
      redirect_uri: client.redirect_uris[0],
      response_type: 'code',
      scope: 'openid',
      state: 'st',
      code_challenge: challengeOf(newVerifier()),
      code_challenge_method: 'S256',
    });
  }

  it('a new authorization request gets the unknown-application error page, not a 500 and not a redirect', async () => {
    const ua = new UserAgent(gatehouse.url);
    // The client is cached by a first request.
    const first = await ua.navigate(request(CONFIDENTIAL_CLIENT));
    assert.equal(first.status, 200, first.body.slice(0, 300));
    assert.ok(await other.clients.delete(CONFIDENTIAL_CLIENT.client_id));

    const page = await new UserAgent(gatehouse.url).request(request(CONFIDENTIAL_CLIENT));
    assert.equal(page.status, 400, page.body.slice(0, 300));
    assert.equal(page.location, null);
    assert.match(page.body, /Unknown application/);
  });

  it('a signed-in user whose consent is remembered gets the error page too (the code is never issued)', async () => {
    const ua = new UserAgent(gatehouse.url);
    const final = await ua.authorize(request(PUBLIC_CLIENT), ALICE);
    assert.equal(final.status, 303);
    assert.ok(await other.clients.delete(PUBLIC_CLIENT.client_id));

    const page = await ua.request(request(PUBLIC_CLIENT));
    assert.equal(page.status, 400, page.body.slice(0, 300));
    assert.equal(page.location, null);
    assert.match(page.body, /Unknown application/);
  });
});
