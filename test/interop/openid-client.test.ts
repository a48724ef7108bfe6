/**
 * Interoperability: a certified relying-party library (openid-client) runs the whole
 * authorization code flow with PKCE against a running Gatehouse: discovery, authorization URL,
 * login and consent through the real pages, callback validation (state, iss per RFC 9207),
 * code exchange, ID token validation, for a confidential and a public client, on SQLite and
 * on PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, CONFIDENTIAL_CLIENT, PUBLIC_CLIENT, STORE_TARGETS } from '../helpers/server.js';
import { UserAgent, formPostFields, isLoginPage } from '../helpers/user-agent.js';
import { authorizationRequest, discoverAs, suiteServerOn } from '../helpers/interop-client.js';

/** The authorization request of these tests: scope openid profile email. */
function authorizationUrl(config: client.Configuration, redirectUri: string, extra: Record<string, string> = {}) {
  return authorizationRequest(config, redirectUri, 'openid profile email', extra);
}

for (const target of STORE_TARGETS) {
  describe(`openid-client interop on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    const { skipped: skipWithoutStore } = suiteServerOn(target, {}, async (started) => {
      gatehouse = started;
    });

    it('RFC 6749 §4.1 + RFC 7636: a confidential client completes the code flow with PKCE (client_secret_basic)', async (t) => {
      if (skipWithoutStore(t)) return;
      const config = await discoverAs(gatehouse, CONFIDENTIAL_CLIENT);
      assert.equal(config.serverMetadata().issuer, gatehouse.url);
      const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
      const { url, verifier, state, nonce } = await authorizationUrl(config, redirectUri);

      const ua = new UserAgent(gatehouse.url);
      const final = await ua.authorize(url.href, ALICE);
      assert.equal(final.status, 303);
      const callback = new URL(final.location!);
      assert.equal(callback.origin + callback.pathname, redirectUri);
      assert.equal(callback.searchParams.get('iss'), gatehouse.url, 'RFC 9207 §2: iss in the authorization response');

      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      });
      assert.equal(tokens.token_type, 'bearer');
      assert.equal(tokens.scope, 'openid profile email');
      const claims = tokens.claims()!;
      assert.equal(claims.iss, gatehouse.url);
      assert.equal(claims.aud, CONFIDENTIAL_CLIENT.client_id);
      assert.equal(claims.nonce, nonce);
      assert.equal(typeof claims.auth_time, 'number');

      // RFC 9068: the access token is a JWT with typ at+jwt, verifiable with the published JWKS.
      const jwks = createRemoteJWKSet(new URL(`${gatehouse.url}/jwks`));
      const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
        issuer: gatehouse.url,
        typ: 'at+jwt',
        audience: gatehouse.url,
      });
      assert.equal(protectedHeader.alg, 'ES256');
      assert.equal(payload.client_id, CONFIDENTIAL_CLIENT.client_id);
      assert.equal(payload.sub, claims.sub);
      assert.equal(payload.scope, 'openid profile email');
      assert.equal(typeof payload.jti, 'string');
    });

    it('RFC 6749 §2.1 + RFC 7636: a public client completes the code flow with PKCE and no secret', async (t) => {
      if (skipWithoutStore(t)) return;
      const config = await discoverAs(gatehouse, PUBLIC_CLIENT);
      const redirectUri = PUBLIC_CLIENT.redirect_uris[0]!;
      const { url, verifier, state, nonce } = await authorizationUrl(config, redirectUri);
      const ua = new UserAgent(gatehouse.url);
      const final = await ua.authorize(url.href, ALICE);
      const tokens = await client.authorizationCodeGrant(config, new URL(final.location!), {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      });
      assert.ok(tokens.access_token);
      assert.equal(tokens.claims()!.aud, PUBLIC_CLIENT.client_id);
      // ID tokens default to RS256 (OpenID Connect Dynamic Client Registration §2), access tokens stay ES256; both keys are published.
      assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
      assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
      const published = (
        (await (await fetch(`${gatehouse.url}/jwks`)).json()) as { keys: Array<{ kid: string }> }
      ).keys.map((key) => key.kid);
      for (const token of [tokens.id_token!, tokens.access_token])
        assert.ok(published.includes(decodeProtectedHeader(token).kid!));
    });

    it('OAuth 2.0 Form Post Response Mode: the code arrives in an auto-submitting form and openid-client accepts it', async (t) => {
      if (skipWithoutStore(t)) return;
      const config = await discoverAs(gatehouse, CONFIDENTIAL_CLIENT);
      const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
      const { url, verifier, state, nonce } = await authorizationUrl(config, redirectUri, {
        response_mode: 'form_post',
      });
      const ua = new UserAgent(gatehouse.url);
      const page = await ua.authorize(url.href, ALICE);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-security-policy')!, /script-src 'sha256-/);
      const fields = formPostFields(page.body);
      assert.equal(fields.state, state);
      assert.equal(fields.iss, gatehouse.url);
      const callback = new Request(redirectUri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      });
      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      });
      assert.ok(tokens.id_token);
    });

    it('single sign-on: a second authorization by the same browser needs neither password nor consent again', async (t) => {
      if (skipWithoutStore(t)) return;
      const config = await discoverAs(gatehouse, CONFIDENTIAL_CLIENT);
      const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
      const ua = new UserAgent(gatehouse.url);
      const first = await authorizationUrl(config, redirectUri);
      await ua.authorize(first.url.href, ALICE);

      const second = await authorizationUrl(config, redirectUri);
      const response = await ua.navigate(second.url.href);
      assert.equal(isLoginPage(response), false);
      assert.equal(response.status, 303);
      const tokens = await client.authorizationCodeGrant(config, new URL(response.location!), {
        pkceCodeVerifier: second.verifier,
        expectedState: second.state,
        expectedNonce: second.nonce,
      });
      assert.ok(tokens.access_token);
    });
  });
}
