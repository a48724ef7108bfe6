/**
 * Pairwise subject identifiers, OpenID Connect Core 1.0 §8 and §8.1, with openid-client as the
 * relying party (it validates every ID token itself). Clients registered with
 * `subject_type: pairwise` get a `sub` per sector (the host of their redirect URIs); the `sub`
 * must be the same in the ID token, UserInfo (§5.3.2), the JWT access token, introspection and
 * logout tokens, and id_token_hint must keep working with it.
 *
 * Run: node --import tsx --test test/oidc/pairwise-subjects.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import type { ClientFixture } from '../../src/config/settings.js';
import { validateClientMetadata } from '../../src/core/registration/client-metadata.js';
import { SubjectIdentifiers } from '../../src/core/users/subject-identifiers.js';
import type { RunningGatehouse } from '../../src/server.js';
import { runCli } from '../helpers/cli.js';
import { basicAuthorization } from '../helpers/code-flow.js';
import {
  buildCodeRequest,
  decodeAccessToken,
  interopClient,
  suiteServerOn,
  type InteropClient,
  type TokenSet,
} from '../helpers/interop-client.js';
import { ALICE, CONFIDENTIAL_CLIENT, STORE_TARGETS } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';
import { ClientMetadataError } from '../../src/core/errors.js';

const BOB = { username: 'bob', password: 'bob password that is long enough' };

function rp(clientId: string, redirectUri: string, extra: Partial<ClientFixture> = {}): ClientFixture {
  return {
    ...CONFIDENTIAL_CLIENT,
    client_id: clientId,
    client_secret: `${clientId}-secret-that-is-long-enough`,
    redirect_uris: [redirectUri],
    subject_type: 'pairwise',
    ...extra,
  };
}

/** Sector a.example: two clients; sector b.example: one; and a public client. */
const A1 = rp('pairwise-a1', 'https://a.example/callback', {
  post_logout_redirect_uris: ['https://a.example/signed-out'],
  backchannel_logout_uri: 'https://a.example/backchannel-logout',
});
const A2 = rp('pairwise-a2', 'https://a.example/other/callback');
const B = rp('pairwise-b', 'https://b.example/callback');
const PUBLIC_SUB = { ...CONFIDENTIAL_CLIENT, client_id: 'public-sub' };

for (const target of STORE_TARGETS) {
  describe(`OIDC Core §8 pairwise subject identifiers on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    const rps = new Map<string, InteropClient>();
    let aliceId: string;

    const { skipped } = suiteServerOn(
      target,
      { clients: [A1, A2, B, PUBLIC_SUB], users: [ALICE, BOB] },
      async (started) => {
        gatehouse = started;
        for (const fixture of [A1, A2, B, PUBLIC_SUB])
          rps.set(fixture.client_id, await interopClient(gatehouse, fixture));
        aliceId = (await gatehouse.store.users.getByUsername(ALICE.username))!.id;
      },
    );

    async function signIn(fixture: ClientFixture, ua = new UserAgent(gatehouse.url), user = ALICE): Promise<TokenSet> {
      const ic = rps.get(fixture.client_id)!;
      const request = await buildCodeRequest(ic, { scope: 'openid profile email offline_access' });
      const final = await ua.authorize(request.url.href, user);
      assert.equal(final.status, 303, final.body.slice(0, 300));
      return client.authorizationCodeGrant(ic.config, new URL(final.location!), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
    }

    it('OpenID Connect Discovery 1.0 §3: subject_types_supported lists public and pairwise', (t) => {
      if (skipped(t)) return;
      assert.deepEqual(rps.get(A1.client_id)!.config.serverMetadata().subject_types_supported, ['public', 'pairwise']);
    });

    it('§8.1: clients of different sectors get different subs for one user, none of them the public one, each stable across logins', async (t) => {
      if (skipped(t)) return;
      const a1 = (await signIn(A1)).claims()!.sub;
      const b = (await signIn(B)).claims()!.sub;
      const publicSub = (await signIn(PUBLIC_SUB)).claims()!.sub;
      assert.equal(publicSub, aliceId, '§8: a public client sees the user id');
      assert.notEqual(a1, b, 'different sectors, different subs');
      assert.notEqual(a1, aliceId);
      assert.notEqual(b, aliceId);
      assert.equal((await signIn(A1)).claims()!.sub, a1, 'the same sub on every login (§8)');
      // The value is what the documented derivation gives: HMAC of sector and user id.
      assert.equal(
        a1,
        SubjectIdentifiers.fromSecret(gatehouse.context.settings.secret).of(
          { clientId: 'x', redirectUris: ['https://a.example/x'], subjectType: 'pairwise' },
          aliceId,
        ),
      );
    });

    it('§8.1: clients of one sector (same redirect URI host) share the sub; other users get other subs', async (t) => {
      if (skipped(t)) return;
      const a1 = (await signIn(A1)).claims()!.sub;
      const a2 = (await signIn(A2)).claims()!.sub;
      assert.equal(a1, a2);
      const bobA1 = (await signIn(A1, new UserAgent(gatehouse.url), BOB)).claims()!.sub;
      assert.notEqual(bobA1, a1);
    });

    it('§5.3.2: UserInfo, the JWT access token (RFC 9068 §2.2) and introspection (RFC 7662 §2.2) carry the ID token’s pairwise sub', async (t) => {
      if (skipped(t)) return;
      const ic = rps.get(B.client_id)!;
      const tokens = await signIn(B);
      const sub = tokens.claims()!.sub;
      // openid-client checks that the UserInfo sub equals the expected one (§5.3.2).
      const userinfo = await client.fetchUserInfo(ic.config, tokens.access_token, sub);
      assert.equal(userinfo.sub, sub);
      assert.equal(userinfo.email, ALICE.email);
      assert.equal(decodeAccessToken(tokens.access_token).sub, sub);
      const introspection = await client.tokenIntrospection(ic.config, tokens.access_token);
      assert.equal(introspection.active, true);
      assert.equal(introspection.sub, sub);
      // A refresh issues a new ID token for the same user: the same sub (§12.2).
      const refreshed = await client.refreshTokenGrant(ic.config, tokens.refresh_token!);
      assert.equal(refreshed.claims()!.sub, sub);
    });

    it('§3.1.2.1 id_token_hint with a pairwise sub: prompt=none succeeds for the signed-in user, and is login_required for another user', async (t) => {
      if (skipped(t)) return;
      const ic = rps.get(A1.client_id)!;
      const ua = new UserAgent(gatehouse.url);
      const tokens = await signIn(A1, ua);
      const request = await buildCodeRequest(ic, { scope: 'openid profile email' });
      request.url.searchParams.set('prompt', 'none');
      request.url.searchParams.set('id_token_hint', tokens.id_token!);
      const again = await ua.navigate(request.url.href);
      assert.equal(again.status, 303, again.body.slice(0, 300));
      const code = new URL(again.location!);
      assert.ok(code.searchParams.get('code'), `a code, not ${code.searchParams.get('error')}`);
      const redeemed = await client.authorizationCodeGrant(ic.config, code, {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
      });
      assert.equal(redeemed.claims()!.sub, tokens.claims()!.sub);

      // Bob's ID token as the hint while alice is signed in: not this session's user.
      const bobTokens = await signIn(A1, new UserAgent(gatehouse.url), BOB);
      const other = await buildCodeRequest(ic, { scope: 'openid' });
      other.url.searchParams.set('prompt', 'none');
      other.url.searchParams.set('id_token_hint', bobTokens.id_token!);
      const refused = await ua.navigate(other.url.href);
      assert.equal(refused.status, 303);
      assert.equal(new URL(refused.location!).searchParams.get('error'), 'login_required');
    });

    it('RP-Initiated Logout 1.0 §2 with a pairwise id_token_hint ends the session at once; the queued Back-Channel Logout 1.0 §2.4 token carries the pairwise sub', async (t) => {
      if (skipped(t)) return;
      const ic = rps.get(A1.client_id)!;
      const ua = new UserAgent(gatehouse.url);
      const tokens = await signIn(A1, ua);
      const state = client.randomState();
      const url = client.buildEndSessionUrl(ic.config, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: 'https://a.example/signed-out',
        state,
      });
      const response = await ua.request(url.href);
      assert.equal(response.status, 303, 'no confirmation page: the hint names this session’s user');
      assert.equal(new URL(response.location!).searchParams.get('state'), state);
      const sid = tokens.claims()!['sid'];
      const deliveries = await gatehouse.store.logoutDeliveries.list({ limit: 50 });
      const delivery = deliveries.find(
        (candidate) => candidate.clientId === A1.client_id && decodeJwt(candidate.logoutToken)['sid'] === sid,
      );
      assert.ok(delivery, 'a logout token was queued for the client');
      assert.equal(decodeJwt(delivery.logoutToken).sub, tokens.claims()!.sub);
    });

    it('RFC 7662 §2.2: a resource server introspecting a pairwise client’s token sees the same sub as the token', async (t) => {
      if (skipped(t)) return;
      const tokens = await signIn(A2);
      const response = await fetch(`${gatehouse.url}/introspect`, {
        method: 'POST',
        headers: {
          authorization: basicAuthorization(A2.client_id, A2.client_secret!),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: tokens.access_token }),
      });
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body['sub'], tokens.claims()!.sub);
    });
  });
}

describe('OpenID Connect Dynamic Client Registration §2 subject_type', () => {
  const base = { redirect_uris: ['https://a.example/cb'], client_secret: 'a-secret-that-is-long-enough' };

  it('defaults to public', () => {
    assert.equal(validateClientMetadata(base).subject_type, 'public');
  });

  /** The metadata of a pairwise client with these redirect URIs, validated. */
  const pairwise = (redirectUris: string[]) =>
    validateClientMetadata({ ...base, subject_type: 'pairwise', redirect_uris: redirectUris });

  it('OIDC Core §8.1: pairwise redirect URIs on one host are one sector; any port of a loopback host too', () => {
    assert.equal(pairwise(['https://a.example/cb', 'https://a.example/other']).subject_type, 'pairwise');
    assert.equal(pairwise(['http://127.0.0.1:8080/cb', 'http://127.0.0.1:9090/cb']).subject_type, 'pairwise');
  });

  it('OIDC Core §8.1: refuses a pairwise client with redirect URIs on several hosts (no sector_identifier_uri), naming subject_type', () => {
    assert.throws(
      () => pairwise(['https://a.example/cb', 'https://b.example/cb']),
      (error: unknown) =>
        error instanceof ClientMetadataError &&
        error.field === 'subject_type' &&
        /a\.example, b\.example/.test(error.message),
    );
  });

  it('refuses an unknown subject_type', () => {
    assert.throws(
      () => validateClientMetadata({ ...base, subject_type: 'random' }),
      (error: unknown) => error instanceof ClientMetadataError && error.field === 'subject_type',
    );
  });

  it('gatehouse clients create --subject-type pairwise registers it; show prints it', async () => {
    const database = `sqlite:${process.env.TMPDIR ?? '/tmp'}/gatehouse-pairwise-${process.pid}-${Date.now()}.db`;
    /** gatehouse clients create with these redirect URIs and --subject-type pairwise. */
    const createPairwise = (redirectUris: string[], ...extra: string[]) =>
      runCli([
        'clients',
        'create',
        '--database',
        database,
        ...redirectUris.flatMap((uri) => ['--redirect-uri', uri]),
        '--subject-type',
        'pairwise',
        ...extra,
      ]);
    const created = await createPairwise(['https://a.example/cb'], '--json');
    assert.equal(created.code, 0, created.stderr);
    const view = JSON.parse(created.stdout) as { client_id: string; subject_type: string };
    assert.equal(view.subject_type, 'pairwise');
    const shown = await runCli(['clients', 'show', view.client_id, '--database', database]);
    assert.match(shown.stdout, /subject_type:\s+pairwise/);
    const refused = await createPairwise(['https://a.example/cb', 'https://b.example/cb']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /subject_type/);
  });
});
