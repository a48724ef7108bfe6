/**
 * ID tokens as common relying-party libraries expect them, checked with openid-client (v6):
 * - OpenID Connect Dynamic Client Registration §2: a client that registers no
 *   `id_token_signed_response_alg` gets RS256 ID tokens (express-openid-connect enforces that
 *   default), unless the server's `id_token_signed_response_alg_default` says otherwise; access
 *   tokens stay ES256;
 * - OIDC Core §5.4: the claims the granted scopes release are in the ID token too (Auth.js builds
 *   its user from the ID token), per client (`id_token_claims`) and by default
 *   (`id_token_claims_default`); always at UserInfo.
 *
 * Run: node --import tsx --test test/interop/id-token-interop.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { decodeProtectedHeader } from 'jose';
import type { ClientFixture, GatehouseSettings } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, CONFIDENTIAL_CLIENT, startTestServer } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';

const RICH_ALICE = {
  ...ALICE,
  given_name: 'Alice',
  family_name: 'Example',
  email_verified: true,
  phone_number: '+1 555 0100',
};

async function withServer(
  settings: Partial<GatehouseSettings>,
  clients: ClientFixture[],
  fn: (gatehouse: RunningGatehouse) => Promise<void>,
): Promise<void> {
  const gatehouse = await startTestServer({ settings, clients, users: [RICH_ALICE] });
  try {
    await fn(gatehouse);
  } finally {
    await gatehouse.close();
  }
}

/** A code flow with openid-client, which validates the ID token with `metadata` (e.g. an enforced alg). */
async function signIn(
  gatehouse: RunningGatehouse,
  fixture: ClientFixture,
  scope: string,
  metadata: Partial<client.ClientMetadata> = {},
) {
  const config = await client.discovery(
    new URL(gatehouse.url),
    fixture.client_id,
    metadata,
    client.ClientSecretBasic(fixture.client_secret!),
    {
      execute: [client.allowInsecureRequests],
    },
  );
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: fixture.redirect_uris[0]!,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const final = await new UserAgent(gatehouse.url).authorize(url.href, ALICE);
  const tokens = await client.authorizationCodeGrant(config, new URL(final.location!), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  return { config, tokens, claims: tokens.claims()! };
}

const explicit = (alg: 'ES256' | 'RS256'): ClientFixture => ({
  ...CONFIDENTIAL_CLIENT,
  client_id: `alg-${alg}`,
  id_token_signed_response_alg: alg,
});

describe('ID token signing algorithm', () => {
  it('OpenID Connect Dynamic Client Registration §2: a client that registers no id_token_signed_response_alg gets RS256 ID tokens, accepted by a relying party enforcing RS256; access tokens stay ES256', async () => {
    await withServer({}, [CONFIDENTIAL_CLIENT], async (gatehouse) => {
      // express-openid-connect's default: id_token_signed_response_alg RS256, enforced.
      const { tokens } = await signIn(gatehouse, CONFIDENTIAL_CLIENT, 'openid', {
        id_token_signed_response_alg: 'RS256',
      });
      assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
      assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
      const discovery = (await (await fetch(`${gatehouse.url}/.well-known/openid-configuration`)).json()) as {
        id_token_signing_alg_values_supported: string[];
      };
      assert.ok(discovery.id_token_signing_alg_values_supported.includes('RS256'));
      const jwks = (await (await fetch(`${gatehouse.url}/jwks`)).json()) as { keys: Array<{ alg: string }> };
      assert.ok(jwks.keys.some((key) => key.alg === 'RS256'));
    });
  });

  it('OpenID Connect Dynamic Client Registration §2: id_token_signed_response_alg_default sets the default; a registered alg (ES256 or RS256) wins over it', async () => {
    await withServer(
      { idTokenSignedResponseAlgDefault: 'ES256' },
      [CONFIDENTIAL_CLIENT, explicit('RS256')],
      async (gatehouse) => {
        const byDefault = await signIn(gatehouse, CONFIDENTIAL_CLIENT, 'openid', {
          id_token_signed_response_alg: 'ES256',
        });
        assert.equal(decodeProtectedHeader(byDefault.tokens.id_token!).alg, 'ES256');
        const registered = await signIn(gatehouse, explicit('RS256'), 'openid', {
          id_token_signed_response_alg: 'RS256',
        });
        assert.equal(decodeProtectedHeader(registered.tokens.id_token!).alg, 'RS256');
      },
    );
    await withServer({}, [explicit('ES256')], async (gatehouse) => {
      const registered = await signIn(gatehouse, explicit('ES256'), 'openid', {
        id_token_signed_response_alg: 'ES256',
      });
      assert.equal(decodeProtectedHeader(registered.tokens.id_token!).alg, 'ES256');
    });
  });
});

describe('claims granted by scope in the ID token', () => {
  it('OIDC Core §5.4: by default the ID token carries the profile and email claims the scopes granted (as Auth.js reads them), and UserInfo returns the same', async () => {
    await withServer({}, [CONFIDENTIAL_CLIENT], async (gatehouse) => {
      const { config, tokens, claims } = await signIn(gatehouse, CONFIDENTIAL_CLIENT, 'openid profile email');
      assert.equal(claims.name, ALICE.name);
      assert.equal(claims.given_name, 'Alice');
      assert.equal(claims.family_name, 'Example');
      assert.equal(typeof claims.updated_at, 'number');
      assert.equal(claims.email, ALICE.email);
      assert.equal(claims.email_verified, true);
      assert.equal(claims.phone_number, undefined, 'phone was not granted');
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      for (const claim of ['sub', 'name', 'given_name', 'family_name', 'updated_at', 'email', 'email_verified'])
        assert.deepEqual(claims[claim], userinfo[claim], claim);
      // The authentication claims are still there and not displaced.
      assert.equal(claims.acr, 'urn:gatehouse:pwd');
      assert.deepEqual(claims.amr, ['pwd']);
    });
  });

  it('OIDC Core §5.4: only the claims of the granted scopes; none for scope openid alone', async () => {
    await withServer({}, [CONFIDENTIAL_CLIENT], async (gatehouse) => {
      const emailOnly = (await signIn(gatehouse, CONFIDENTIAL_CLIENT, 'openid email')).claims;
      assert.equal(emailOnly.email, ALICE.email);
      assert.equal(emailOnly.name, undefined);
      const openidOnly = (await signIn(gatehouse, CONFIDENTIAL_CLIENT, 'openid')).claims;
      assert.equal(openidOnly.email, undefined);
      assert.equal(openidOnly.name, undefined);
    });
  });

  it('OIDC Core §5.4: id_token_claims: false on a client, or id_token_claims_default: false, keeps the claims at UserInfo only; a client can opt in against the default', async () => {
    const optedOut: ClientFixture = { ...CONFIDENTIAL_CLIENT, client_id: 'opted-out', id_token_claims: false };
    const optedIn: ClientFixture = { ...CONFIDENTIAL_CLIENT, client_id: 'opted-in', id_token_claims: true };
    await withServer({}, [optedOut], async (gatehouse) => {
      const { config, tokens, claims } = await signIn(gatehouse, optedOut, 'openid profile email');
      assert.equal(claims.email, undefined);
      assert.equal(claims.name, undefined);
      assert.equal((await client.fetchUserInfo(config, tokens.access_token, claims.sub)).email, ALICE.email);
    });
    await withServer({ idTokenClaimsDefault: false }, [CONFIDENTIAL_CLIENT, optedIn], async (gatehouse) => {
      const byDefault = (await signIn(gatehouse, CONFIDENTIAL_CLIENT, 'openid profile email')).claims;
      assert.equal(byDefault.email, undefined);
      const chosen = (await signIn(gatehouse, optedIn, 'openid profile email')).claims;
      assert.equal(chosen.email, ALICE.email);
      assert.equal(chosen.name, ALICE.name);
    });
  });
});
