/**
 * The FAPI 2.0 Security Profile at request time: oauth4webapi runs the whole flow as a fapi2
 * client (PAR + PKCE S256 + DPoP + private_key_jwt, ES256 ID token, `iss` in the response) on
 * SQLite and on PostgreSQL, and each rule enforced at request time is broken once.
 *
 * Run: node scripts/run-tests.mjs test/fapi
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import { decodeProtectedHeader, type CryptoKey } from 'jose';
import type { RunningGatehouse } from '../../src/server.js';
import { CONFIDENTIAL_CLIENT, STORE_TARGETS, startClockedServer } from '../helpers/server.js';
import { suiteServerOn } from '../helpers/interop-client.js';
import { assertTokenError, basicAuthorization, postToken, type TokenResponse } from '../helpers/code-flow.js';
import {
  FAPI_CLIENT,
  RSA_FAPI_CLIENT,
  authorizeWithPar,
  fapiSession,
  insecure,
  redeemCode,
  rsaKeys,
} from '../helpers/fapi2-client.js';

/** The error of a token-endpoint-style response oauth4webapi got. */
async function errorOf(response: Response): Promise<{ status: number; error: string; description: string }> {
  const body = (await response.json()) as Record<string, string>;
  assert.equal(response.headers.get('cache-control'), 'no-store');
  return { status: response.status, error: body['error']!, description: body['error_description'] ?? '' };
}

for (const target of STORE_TARGETS) {
  describe(`FAPI 2.0 Security Profile on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    const { skipped } = suiteServerOn(
      target,
      { clients: [FAPI_CLIENT, RSA_FAPI_CLIENT, CONFIDENTIAL_CLIENT] },
      async (started) => {
        gatehouse = started;
      },
    );

    it('FAPI 2.0 §5.3.2: oauth4webapi runs PAR + PKCE + DPoP + private_key_jwt, gets DPoP-bound tokens and an ES256 ID token', async (t) => {
      if (skipped(t)) return;
      const session = await fapiSession(gatehouse);
      const flow = await authorizeWithPar(gatehouse, session);
      const tokens = await oauth.processAuthorizationCodeResponse(
        session.as,
        session.client,
        await redeemCode(session, flow),
        { expectedNonce: flow.nonce },
      );
      assert.equal(tokens.token_type.toLowerCase(), 'dpop');
      assert.ok(tokens.refresh_token);
      // FAPI 2.0 §5.4.1: not RS256, the server's default ID token algorithm.
      assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'ES256');
      // The refresh is DPoP-bound too (RFC 9449 §5).
      const refreshed = await oauth.processRefreshTokenResponse(
        session.as,
        session.client,
        await oauth.refreshTokenGrantRequest(session.as, session.client, session.auth, tokens.refresh_token, {
          DPoP: session.DPoP,
          ...insecure,
        }),
      );
      assert.equal(refreshed.token_type.toLowerCase(), 'dpop');
    });

    it('FAPI 2.0 §5.3.2.2: an authorization request that skips PAR is answered invalid_request "pushed authorization request required", with iss (RFC 9207)', async (t) => {
      if (skipped(t)) return;
      const url = new URL(`${gatehouse.url}/authorize`);
      for (const [name, value] of Object.entries({
        client_id: FAPI_CLIENT.client_id,
        redirect_uri: FAPI_CLIENT.redirect_uris[0]!,
        response_type: 'code',
        scope: 'openid',
        code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
        code_challenge_method: 'S256',
      }))
        url.searchParams.set(name, value);
      const response = await fetch(url, { redirect: 'manual' });
      assert.equal(response.status, 303);
      const location = new URL(response.headers.get('location')!);
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.match(location.searchParams.get('error_description')!, /pushed authorization request required/);
      assert.equal(location.searchParams.get('iss'), gatehouse.url);
    });

    /** Pushes `params` as the fapi2 client (ES256 private_key_jwt, DPoP). */
    async function push(params: Record<string, string>): Promise<Response> {
      const session = await fapiSession(gatehouse);
      return oauth.pushedAuthorizationRequest(session.as, session.client, session.auth, params, {
        DPoP: session.DPoP,
        ...insecure,
      });
    }

    it('FAPI 2.0 §5.3.2.2: a pushed request without a PKCE challenge is refused (invalid_request)', async (t) => {
      if (skipped(t)) return;
      const refused = await errorOf(
        await push({ response_type: 'code', redirect_uri: FAPI_CLIENT.redirect_uris[0]!, scope: 'openid' }),
      );
      assert.equal(refused.status, 400);
      assert.equal(refused.error, 'invalid_request');
      assert.match(refused.description, /code_challenge/);
    });

    it('FAPI 2.0 §5.3.2.2: only response_type=code (response_type=token is unsupported_response_type)', async (t) => {
      if (skipped(t)) return;
      const refused = await errorOf(
        await push({
          response_type: 'token',
          redirect_uri: FAPI_CLIENT.redirect_uris[0]!,
          scope: 'openid',
          code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
          code_challenge_method: 'S256',
        }),
      );
      assert.equal(refused.error, 'unsupported_response_type');
    });

    it('FAPI 2.0 §5.3.2.1: a token request without a DPoP proof is refused (invalid_dpop_proof)', async (t) => {
      if (skipped(t)) return;
      const session = await fapiSession(gatehouse);
      const flow = await authorizeWithPar(gatehouse, session);
      const response = await oauth.authorizationCodeGrantRequest(
        session.as,
        session.client,
        session.auth,
        flow.callback,
        FAPI_CLIENT.redirect_uris[0]!,
        flow.verifier,
        insecure,
      );
      const refused = await errorOf(response);
      assert.equal(refused.status, 400);
      assert.equal(refused.error, 'invalid_dpop_proof');
    });

    it('FAPI 2.0 §5.4.1: a DPoP proof signed with RS256 is refused (invalid_dpop_proof)', async (t) => {
      if (skipped(t)) return;
      const session = await fapiSession(gatehouse, FAPI_CLIENT, { dpopAlg: 'RS256' });
      const refused = await errorOf(
        await oauth.refreshTokenGrantRequest(session.as, session.client, session.auth, 'not-a-refresh-token', {
          DPoP: session.DPoP,
          ...insecure,
        }),
      );
      assert.equal(refused.error, 'invalid_dpop_proof');
      assert.match(refused.description, /FAPI 2\.0 Security Profile \(section 5\.4\.1\)/);
    });

    it('FAPI 2.0 §5.4.1: a client assertion signed with RS256 is refused (invalid_client)', async (t) => {
      if (skipped(t)) return;
      const session = await fapiSession(gatehouse, RSA_FAPI_CLIENT, {
        key: rsaKeys.privateKey as CryptoKey,
        kid: 'fapi-rs256',
      });
      const refused = await errorOf(
        await oauth.pushedAuthorizationRequest(
          session.as,
          session.client,
          session.auth,
          { response_type: 'code' },
          {
            DPoP: session.DPoP,
            ...insecure,
          },
        ),
      );
      assert.equal(refused.status, 400);
      assert.equal(refused.error, 'invalid_client');
      assert.match(refused.description, /section 5\.4\.1/);
    });
  });
}

describe('FAPI 2.0 Security Profile as the server-wide switch (profile: fapi2)', () => {
  it('FAPI 2.0 §5.3.2.1: a client_secret_basic client registered before the switch is refused (invalid_client, 401)', async () => {
    const lines: string[] = [];
    const { server } = await startClockedServer(
      {
        clients: [CONFIDENTIAL_CLIENT, FAPI_CLIENT],
        settings: { profile: 'fapi2' },
        logger: { write: (line: string) => void lines.push(line) },
      },
      Date.now(),
    );
    try {
      // gatehouse start: one warning line per client that breaks the profile (not FAPI_CLIENT).
      const warnings = lines
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter((l) => l.level === 40);
      assert.deepEqual(
        warnings.map((warning) => warning.msg.split(':')[0]),
        [`client ${CONFIDENTIAL_CLIENT.client_id} breaks the FAPI 2.0 Security Profile`],
      );
      assert.match(warnings[0]!.msg, /FAPI 2\.0 §5\.3\.2\.1 private-key-jwt/);
      const response: TokenResponse = await postToken(
        server,
        { grant_type: 'refresh_token', refresh_token: 'x' },
        { authorization: basicAuthorization(CONFIDENTIAL_CLIENT.client_id, CONFIDENTIAL_CLIENT.client_secret!) },
      );
      assertTokenError(response, 401, 'invalid_client');
      assert.match(String(response.body['error_description']), /private_key_jwt/);
      // RFC 9126 §5: discovery says PAR is required of every client.
      const metadata = (await (await fetch(`${server.url}/.well-known/openid-configuration`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(metadata['require_pushed_authorization_requests'], true);
    } finally {
      await server.close();
    }
  });

  it('FAPI 2.0 §5.3.2.1: a fapi2 client cannot redeem a code older than 60 seconds, even with code_ttl_seconds 120', async () => {
    const { server, clock } = await startClockedServer(
      { clients: [FAPI_CLIENT], settings: { codeTtlSeconds: 120 } },
      Date.now(),
    );
    try {
      const session = await fapiSession(server);
      const flow = await authorizeWithPar(server, session);
      clock.now += 61_000;
      // The client's clock moves with the server's (assertion and proof times).
      session.client[oauth.clockSkew] = 61;
      const later = { ...session, DPoP: oauth.DPoP(session.client, await oauth.generateKeyPair('ES256')) };
      const refused = await errorOf(await redeemCode(later, flow));
      assert.equal(refused.error, 'invalid_grant');
    } finally {
      await server.close();
    }
  });
});
