/**
 * Interoperability of signed request objects (RFC 9101) on SQLite and PostgreSQL: openid-client
 * v6 (`buildAuthorizationUrlWithJAR`, alone and followed by `buildAuthorizationUrlWithPAR`) and
 * oauth4webapi (`issueRequestObject` pushed with `pushedAuthorizationRequest`) sign the request,
 * and the code flow completes; a request object Gatehouse refuses surfaces as the library's
 * OAuth error.
 *
 * Run: node scripts/run-tests.mjs test/jar/jar-interop
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, STORE_TARGETS } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';
import { assertOAuthError, discoverAs, suiteServerOn } from '../helpers/interop-client.js';
import { jarClient, signingKey } from '../helpers/request-objects.js';
import { INSECURE, discoverOidc } from '../helpers/oauth4webapi-discovery.js';

const KEY = await signingKey('ES256', 'interop-1');
const UNREGISTERED = await signingKey('ES256', 'interop-1');
const JAR_CLIENT = jarClient('jar-interop', [KEY], { require_signed_request_object: true });
const REDIRECT_URI = JAR_CLIENT.redirect_uris[0]!;

/** The browser's part: login and consent as ALICE; returns the callback URL. */
async function signIn(gatehouse: RunningGatehouse, url: URL): Promise<URL> {
  const final = await new UserAgent(gatehouse.url).authorize(url.href, ALICE);
  assert.equal(final.status, 303, final.body.slice(0, 300));
  return new URL(final.location!);
}

/** A code flow request's parameters, PKCE S256, state and nonce, with the verifier and checks. */
async function codeRequest() {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  return {
    parameters: {
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    },
    checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce },
  };
}

for (const target of STORE_TARGETS) {
  describe(`RFC 9101 interop with openid-client and oauth4webapi on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    const { skipped } = suiteServerOn(target, { clients: [JAR_CLIENT] }, async (started) => {
      gatehouse = started;
    });
    const signingKey = { key: KEY.privateKey, kid: 'interop-1' };

    it('RFC 9101 §5.1: openid-client buildAuthorizationUrlWithJAR (request by value) and the code flow', async (t) => {
      if (skipped(t)) return;
      const config = await discoverAs(gatehouse, JAR_CLIENT);
      const { parameters, checks } = await codeRequest();
      const url = await client.buildAuthorizationUrlWithJAR(config, parameters, signingKey);
      assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request']);
      const tokens = await client.authorizationCodeGrant(config, await signIn(gatehouse, url), checks);
      assert.equal(tokens.scope, 'openid profile');
      assert.equal(tokens.claims()?.aud, JAR_CLIENT.client_id);
    });

    it('RFC 9126 §3: openid-client buildAuthorizationUrlWithJAR then buildAuthorizationUrlWithPAR and the code flow', async (t) => {
      if (skipped(t)) return;
      const config = await discoverAs(gatehouse, JAR_CLIENT);
      const { parameters, checks } = await codeRequest();
      const signed = await client.buildAuthorizationUrlWithJAR(config, parameters, signingKey);
      const url = await client.buildAuthorizationUrlWithPAR(config, signed.searchParams);
      assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      const tokens = await client.authorizationCodeGrant(config, await signIn(gatehouse, url), checks);
      assert.equal(tokens.scope, 'openid profile');
    });

    it('RFC 9126 §3: oauth4webapi issueRequestObject pushed with pushedAuthorizationRequest, and the code flow', async (t) => {
      if (skipped(t)) return;
      const insecure = INSECURE;
      const as = await discoverOidc(gatehouse);
      assert.equal(as.request_parameter_supported, true);
      const oauthClient: oauth.Client = { client_id: JAR_CLIENT.client_id };
      const auth = oauth.ClientSecretBasic(JAR_CLIENT.client_secret!);
      const verifier = oauth.generateRandomCodeVerifier();
      const request = await oauth.issueRequestObject(
        as,
        oauthClient,
        {
          response_type: 'code',
          redirect_uri: REDIRECT_URI,
          scope: 'openid',
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        },
        signingKey,
      );
      const pushed = await oauth.processPushedAuthorizationResponse(
        as,
        oauthClient,
        await oauth.pushedAuthorizationRequest(as, oauthClient, auth, { request }, insecure),
      );
      const url = new URL(as.authorization_endpoint!);
      url.searchParams.set('client_id', oauthClient.client_id);
      url.searchParams.set('request_uri', pushed.request_uri);
      const params = oauth.validateAuthResponse(as, oauthClient, await signIn(gatehouse, url), oauth.skipStateCheck);
      const tokens = await oauth.processAuthorizationCodeResponse(
        as,
        oauthClient,
        await oauth.authorizationCodeGrantRequest(as, oauthClient, auth, params, REDIRECT_URI, verifier, insecure),
      );
      assert.equal(tokens.scope, 'openid');
    });

    it('RFC 9101 §6.2: openid-client surfaces a pushed request object signed with an unregistered key as 400 invalid_request_object', async (t) => {
      if (skipped(t)) return;
      const config = await discoverAs(gatehouse, JAR_CLIENT);
      const { parameters } = await codeRequest();
      const signed = await client.buildAuthorizationUrlWithJAR(config, parameters, {
        key: UNREGISTERED.privateKey,
        kid: 'interop-1',
      });
      await assertOAuthError(
        client.buildAuthorizationUrlWithPAR(config, signed.searchParams),
        400,
        'invalid_request_object',
      );
    });
  });
}
