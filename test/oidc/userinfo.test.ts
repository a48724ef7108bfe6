/**
 * The UserInfo endpoint, OpenID Connect Core 1.0 §5.3, with the scope-to-claims mapping of
 * §5.4 and the bearer token usage of RFC 6750. openid-client runs the code flows (and validates
 * the ID tokens) and fetches UserInfo; plain `fetch` covers what openid-client never sends
 * (POST bodies, both token methods at once, malformed requests).
 *
 * Run: node --import tsx --test test/oidc/userinfo.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { ClientFixture, UserFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { ownIdToken } from '../helpers/id-tokens.js';
import { preflight } from '../helpers/http-cors.js';
import {
  interopClient,
  buildCodeRequest,
  suiteServerOn,
  type InteropClient,
  type TokenSet,
} from '../helpers/interop-client.js';
import { ALICE, CONFIDENTIAL_CLIENT, STORE_TARGETS } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

const RESOURCE = 'http://127.0.0.1:9002/';

/** A client allowed every OpenID Connect scope (OIDC Core §5.4) and an API scope. */
const OIDC_CLIENT: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'oidc-app',
  scope: 'openid profile email address phone offline_access notes:read',
};

/** ALICE with every OIDC Core §5.1 claim Gatehouse keeps. */
const ALICE_WITH_CLAIMS: UserFixture = {
  ...ALICE,
  given_name: 'Alice',
  family_name: 'Example',
  email_verified: true,
  phone_number: '+1 555 0100',
  phone_number_verified: false,
  address: {
    street_address: '1 Main Street',
    locality: 'Springfield',
    region: 'IL',
    postal_code: '62701',
    country: 'US',
  },
};

/** A user with none of the optional claims. */
const BOB: UserFixture = { username: 'bob', password: 'bob password that is long enough' };

interface ChallengeParams {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one RFC 9110 §11.6.1 challenge (enough for the ones Gatehouse sends). */
function parseChallenge(header: string | null): ChallengeParams {
  assert.ok(header, 'a WWW-Authenticate header');
  const [scheme, ...rest] = header.split(' ');
  const params: Record<string, string> = {};
  for (const match of rest.join(' ').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) params[match[1]!] = match[2]!;
  return { scheme: scheme!, params };
}

function assertNoStore(response: Response): void {
  assert.equal(response.headers.get('cache-control'), 'no-store');
}

for (const target of STORE_TARGETS) {
  describe(`OIDC Core §5.3 UserInfo on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    let ic: InteropClient;
    let userinfoUrl: string;
    /** One browser: signs in once, then single sign-on and stored consent speed up the flows. */
    let ua: UserAgent;

    const server = {
      clients: [OIDC_CLIENT],
      users: [ALICE_WITH_CLAIMS, BOB],
      resources: [{ resource: RESOURCE, name: 'Notes API', scopes: ['notes:read'], introspection_client_ids: [] }],
    };
    const { skipped } = suiteServerOn(target, server, async (started) => {
      gatehouse = started;
      ic = await interopClient(gatehouse, OIDC_CLIENT);
      userinfoUrl = `${gatehouse.url}/userinfo`;
      ua = new UserAgent(gatehouse.url);
    });

    /** The code flow as `user` through openid-client; `resource` adds RFC 8707 indicators. */
    async function flow(
      scope: string,
      options: { user?: UserFixture; resource?: string[]; browser?: UserAgent } = {},
    ): Promise<TokenSet> {
      const request = await buildCodeRequest(ic, {
        scope,
        ...(options.resource ? { resource: options.resource } : {}),
      });
      const final = await (options.browser ?? ua).authorize(request.url.href, options.user ?? ALICE_WITH_CLAIMS);
      assert.equal(final.status, 303, final.body.slice(0, 300));
      return client.authorizationCodeGrant(ic.config, new URL(final.location!), {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        ...(request.nonce !== undefined ? { expectedNonce: request.nonce } : { idTokenExpected: false }),
      });
    }

    async function userinfoWithHeader(accessToken: string, method: 'GET' | 'POST' = 'GET'): Promise<Response> {
      return fetch(userinfoUrl, { method, headers: { authorization: `Bearer ${accessToken}` } });
    }

    /** RFC 6750 §2.2: a POST with the token in the form-encoded body (and `headers`). */
    async function userinfoWithBody(accessToken: string, headers: Record<string, string> = {}): Promise<Response> {
      return fetch(userinfoUrl, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ access_token: accessToken }),
      });
    }

    it('OpenID Connect Discovery 1.0 §3: userinfo_endpoint, and scopes_supported and claims_supported list exactly what is supported', async (t) => {
      if (skipped(t)) return;
      const metadata = ic.config.serverMetadata();
      assert.equal(metadata.userinfo_endpoint, userinfoUrl);
      assert.deepEqual(metadata.scopes_supported, ['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);
      assert.deepEqual(
        [...(metadata.claims_supported ?? [])].sort(),
        [
          'sub',
          'name',
          'given_name',
          'family_name',
          'updated_at',
          'email',
          'email_verified',
          'address',
          'phone_number',
          'phone_number_verified',
          'iss',
          'aud',
          'exp',
          'iat',
          'auth_time',
          'nonce',
          'at_hash',
          'acr',
          'amr',
          'sid',
        ].sort(),
      );
      assert.equal(metadata.claims_parameter_supported, false);
    });

    it('OIDC Core §5.3.1 + RFC 6750 §2.1: GET with the Authorization header (openid-client fetchUserInfo) returns every claim of the granted scopes (§5.4)', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid profile email address phone');
      const idToken = tokens.claims()!;
      const claims = await client.fetchUserInfo(ic.config, tokens.access_token, idToken.sub);
      const response = ic.lastResponse('/userinfo');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assertNoStore(response);
      const { updated_at: updatedAt, ...rest } = claims;
      assert.deepEqual(rest, {
        sub: idToken.sub,
        name: 'Alice Example',
        given_name: 'Alice',
        family_name: 'Example',
        email: 'alice@example.com',
        email_verified: true,
        address: ALICE_WITH_CLAIMS.address,
        phone_number: '+1 555 0100',
        phone_number_verified: false,
      });
      // §5.1: updated_at is a number of seconds since the epoch, set when the user was stored.
      assert.equal(typeof updatedAt, 'number');
      assert.ok(Math.abs((updatedAt as number) - Date.now() / 1000) < 600);
      // §5.4: the same claims are in the ID token too (id_token_claims_default: true), for
      // relying parties that read the user from the ID token only (Auth.js).
      for (const claim of ['name', 'email', 'given_name', 'address', 'phone_number'])
        assert.deepEqual(idToken[claim], claims[claim], claim);
    });

    const posts: Array<[name: string, send: (accessToken: string) => Promise<Response>]> = [
      [
        'OIDC Core §5.3.1 + RFC 6750 §2.1: POST with the Authorization header',
        (accessToken) => userinfoWithHeader(accessToken, 'POST'),
      ],
      [
        'OIDC Core §5.3.1 + RFC 6750 §2.2: POST with access_token in the form-encoded body',
        (accessToken) => userinfoWithBody(accessToken),
      ],
    ];
    for (const [name, send] of posts) {
      it(name, async (t) => {
        if (skipped(t)) return;
        const tokens = await flow('openid email');
        const response = await send(tokens.access_token);
        assert.equal(response.status, 200);
        assertNoStore(response);
        assert.deepEqual(await response.json(), {
          sub: tokens.claims()!.sub,
          email: 'alice@example.com',
          email_verified: true,
        });
      });
    }

    it('RFC 6750 §2: a token in both the Authorization header and the body is 400 invalid_request', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid email');
      const response = await userinfoWithBody(tokens.access_token, { authorization: `Bearer ${tokens.access_token}` });
      assert.equal(response.status, 400);
      assertNoStore(response);
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      assert.equal(challenge.scheme, 'Bearer');
      assert.equal(challenge.params['error'], 'invalid_request');
      assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
    });

    it('RFC 6750 §2.3: a token in the URI query is refused with 400 invalid_request (it would end up in logs)', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid email');
      const response = await fetch(`${userinfoUrl}?access_token=${encodeURIComponent(tokens.access_token)}`);
      assert.equal(response.status, 400);
      assert.equal(parseChallenge(response.headers.get('www-authenticate')).params['error'], 'invalid_request');
    });

    it('RFC 6750 §3.1: a request without a token is 401 with a bare Bearer challenge, no error code', async (t) => {
      if (skipped(t)) return;
      for (const init of [
        {},
        { method: 'POST' },
        { headers: { authorization: 'Basic b3RoZXI6c2NoZW1l' } },
      ] as RequestInit[]) {
        const response = await fetch(userinfoUrl, init);
        assert.equal(response.status, 401);
        assertNoStore(response);
        const challenge = parseChallenge(response.headers.get('www-authenticate'));
        assert.equal(challenge.scheme, 'Bearer');
        assert.equal(challenge.params['realm'], 'gatehouse');
        assert.equal(challenge.params['error'], undefined);
      }
    });

    it('RFC 6750 §3.1: a malformed Bearer credential is 400 invalid_request', async (t) => {
      if (skipped(t)) return;
      const response = await fetch(userinfoUrl, { headers: { authorization: 'Bearer not a b64token' } });
      assert.equal(response.status, 400);
      assert.equal(parseChallenge(response.headers.get('www-authenticate')).params['error'], 'invalid_request');
    });

    it('OIDC Core §5.3 + RFC 6750 §3.1: an access token without the openid scope is 403 insufficient_scope', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('profile email');
      assert.equal(tokens.id_token, undefined);
      await assert.rejects(
        client.fetchUserInfo(ic.config, tokens.access_token, client.skipSubjectCheck),
        (error: unknown) => {
          assert.ok(error instanceof client.WWWAuthenticateChallengeError, String(error));
          assert.equal(error.response.status, 403);
          return true;
        },
      );
      const response = await userinfoWithHeader(tokens.access_token);
      assert.equal(response.status, 403);
      assertNoStore(response);
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      assert.equal(challenge.params['error'], 'insufficient_scope');
      assert.equal(challenge.params['scope'], 'openid');
    });

    it('RFC 7009 + RFC 6750 §3.1: a revoked access token is 401 invalid_token', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid email');
      assert.equal((await userinfoWithHeader(tokens.access_token)).status, 200);
      await client.tokenRevocation(ic.config, tokens.access_token);
      await assert.rejects(
        client.fetchUserInfo(ic.config, tokens.access_token, tokens.claims()!.sub),
        (error: unknown) => {
          assert.ok(error instanceof client.WWWAuthenticateChallengeError, String(error));
          assert.equal(error.response.status, 401);
          assert.equal(error.cause[0]?.parameters.error, 'invalid_token');
          return true;
        },
      );
    });

    it('RFC 7009 §2.1 + RFC 6750 §3.1: revoking the refresh token revokes the grant, and its access token is 401 invalid_token', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid email offline_access');
      assert.ok(tokens.refresh_token);
      await client.tokenRevocation(ic.config, tokens.refresh_token);
      const response = await userinfoWithHeader(tokens.access_token);
      assert.equal(response.status, 401);
      assert.equal(parseChallenge(response.headers.get('www-authenticate')).params['error'], 'invalid_token');
    });

    it('RFC 6750 §3.1: an expired access token is 401 invalid_token', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid email');
      const realNow = gatehouse.context.now;
      gatehouse.context.now = () => Date.now() + (tokens.expiresIn()! + 5) * 1000;
      try {
        const response = await userinfoWithHeader(tokens.access_token);
        assert.equal(response.status, 401);
        assert.equal(parseChallenge(response.headers.get('www-authenticate')).params['error'], 'invalid_token');
      } finally {
        gatehouse.context.now = realNow;
      }
    });

    it('RFC 8707 + RFC 6750 §3.1: an access token issued for another resource (its audience) is 401 invalid_token', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid email notes:read', { resource: [RESOURCE] });
      const response = await userinfoWithHeader(tokens.access_token);
      assert.equal(response.status, 401);
      assertNoStore(response);
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      assert.equal(challenge.params['error'], 'invalid_token');
      assert.match(challenge.params['error_description'] ?? '', /another resource/);
    });

    it('RFC 6750 §3.1: tokens that are not Gatehouse access tokens (an ID token, a refresh token, a forgery) are 401 invalid_token', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid email offline_access');
      const now = Date.now();
      // Signed with our own key, right issuer, but an ID token (no typ at+jwt, no record).
      const idToken = await ownIdToken(gatehouse, OIDC_CLIENT.client_id, tokens.claims()!.sub, now);
      const [header, payload] = tokens.access_token.split('.');
      const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
      for (const token of [idToken, tokens.id_token!, tokens.refresh_token!, forged, 'opaque-garbage']) {
        const response = await userinfoWithHeader(token);
        assert.equal(response.status, 401, token.slice(0, 20));
        assert.equal(parseChallenge(response.headers.get('www-authenticate')).params['error'], 'invalid_token');
      }
    });

    it('OIDC Core §5.4: each scope releases its own claims, and openid alone only sub', async (t) => {
      if (skipped(t)) return;
      const expected: Record<string, string[]> = {
        openid: ['sub'],
        'openid profile': ['sub', 'name', 'given_name', 'family_name', 'updated_at'],
        'openid email': ['sub', 'email', 'email_verified'],
        'openid address': ['sub', 'address'],
        'openid phone': ['sub', 'phone_number', 'phone_number_verified'],
      };
      for (const [scope, claims] of Object.entries(expected)) {
        const tokens = await flow(scope);
        const info = await client.fetchUserInfo(ic.config, tokens.access_token, tokens.claims()!.sub);
        assert.deepEqual(Object.keys(info).sort(), [...claims].sort(), scope);
        assertNoStore(ic.lastResponse('/userinfo'));
      }
    });

    it('OIDC Core §5.3.2: claims the user does not have are omitted, not sent as null or empty', async (t) => {
      if (skipped(t)) return;
      const tokens = await flow('openid profile email address phone', {
        user: BOB,
        browser: new UserAgent(gatehouse.url),
      });
      const info = await client.fetchUserInfo(ic.config, tokens.access_token, tokens.claims()!.sub);
      // updated_at is always known: Gatehouse sets it when it stores the user.
      assert.deepEqual(Object.keys(info).sort(), ['sub', 'updated_at']);
      assert.notEqual(info.sub, (await gatehouse.store.users.getByUsername('alice'))?.id);
    });

    it('OIDC Core §5.3: the endpoint is readable cross-origin (CORS), WWW-Authenticate included', async (t) => {
      if (skipped(t)) return;
      const asked = await preflight(userinfoUrl, 'http://localhost:9000', 'GET', 'authorization');
      assert.equal(asked.status, 204);
      assert.equal(asked.headers.get('access-control-allow-origin'), '*');
      assert.match(asked.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
      const response = await fetch(userinfoUrl, { headers: { origin: 'http://localhost:9000' } });
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
      assert.match(response.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/i);
    });
  });
}
