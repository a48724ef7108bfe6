/**
 * State survives a restart, and signing keys are stored encrypted at rest and published
 * without their private parts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/open-store.js';
import { KeyRing } from '../../src/core/keys/key-ring.js';
import { s256Challenge } from '../../src/core/pkce.js';
import { ALICE, CONFIDENTIAL_CLIENT, TEST_SECRET, startTestServer } from '../helpers/server.js';
import { UserAgent, isConsentPage, isLoginPage } from '../helpers/user-agent.js';

const VERIFIER = 'restart-test-verifier-0123456789-abcdefghijklmnop';

function authorizeUrl(base: string): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: CONFIDENTIAL_CLIENT.client_id,
    redirect_uri: CONFIDENTIAL_CLIENT.redirect_uris[0]!,
    scope: 'openid profile',
    state: 's1',
    code_challenge: s256Challenge(VERIFIER),
    code_challenge_method: 'S256',
  });
  return `${base}/authorize?${params}`;
}

describe('restart and signing keys', () => {
  it('state survives a restart: the session, the consent and the signing key are still there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-restart-'));
    const databaseUrl = `sqlite:${join(dir, 'gh.db')}`;
    try {
      const first = await startTestServer({ databaseUrl });
      const ua = new UserAgent(first.url);
      await ua.authorize(authorizeUrl(first.url), ALICE);
      const jwksBefore = await (await fetch(`${first.url}/jwks`)).json();
      const cookies = { session: ua.cookie('gh_session'), browser: ua.cookie('gh_browser') };
      await first.close();

      const second = await startTestServer({ databaseUrl });
      const ua2 = new UserAgent(second.url);
      // Carry the same browser's cookies over to the restarted server.
      ua2.setCookie('gh_session', cookies.session!);
      ua2.setCookie('gh_browser', cookies.browser!);
      const response = await ua2.navigate(authorizeUrl(second.url));
      assert.equal(isLoginPage(response), false, 'the SSO session survived');
      assert.equal(isConsentPage(response), false, 'the consent survived');
      assert.equal(response.status, 303);
      assert.ok(new URL(response.location!).searchParams.get('code'));
      assert.deepEqual(await (await fetch(`${second.url}/jwks`)).json(), jwksBefore, 'the signing key survived');
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('RFC 7517 §5: /jwks publishes public keys only', async () => {
    const gatehouse = await startTestServer();
    try {
      const response = await fetch(`${gatehouse.url}/jwks`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type')!, /application\/jwk-set\+json/);
      const { keys } = (await response.json()) as { keys: Array<Record<string, unknown>> };
      // The default ES256 key, and an RS256 key for relying parties that ask for RS256 ID tokens.
      assert.deepEqual(keys.map((key) => key.alg).sort(), ['ES256', 'RS256']);
      for (const key of keys) {
        for (const privateMember of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(key[privateMember], undefined);
        assert.equal(key.use, 'sig');
        assert.equal(typeof key.kid, 'string');
      }
    } finally {
      await gatehouse.close();
    }
  });

  it('the private key is encrypted at rest and cannot be loaded with another secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
    const path = join(dir, 'gh.db');
    try {
      const store = await openStore(`sqlite:${path}`);
      await store.migrate();
      const ring = await KeyRing.open(store, TEST_SECRET, 'ES256');
      const { kid } = ring.active();
      await store.close();

      const db = new Database(path, { readonly: true });
      const row = db.prepare('select * from signing_keys where kid = ?').get(kid) as Record<string, string>;
      db.close();
      const stored = JSON.stringify(row);
      assert.doesNotMatch(stored, /"d\\?":/, 'no private JWK member in clear');
      assert.equal(row.private_jwk_encrypted!.split('.').length, 5, 'a compact JWE');

      const reopened = await openStore(`sqlite:${path}`);
      await assert.rejects(
        KeyRing.open(reopened, 'another-secret-that-is-long-enough-000', 'ES256'),
        /GATEHOUSE_SECRET differs/,
      );
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
