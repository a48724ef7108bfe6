/**
 * Interoperability of pushed authorization requests (RFC 9126): openid-client v6
 * (`buildAuthorizationUrlWithPAR`) and oauth4webapi (`pushedAuthorizationRequest`) push the
 * request, send the browser with client_id and request_uri only, and complete the code flow,
 * on SQLite and on PostgreSQL; a request refused at push time surfaces as the library's OAuth
 * error (RFC 9126 §2.3).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as oauth from 'oauth4webapi';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { ALICE, CONFIDENTIAL_CLIENT, POST_CLIENT, PUBLIC_CLIENT, STORE_TARGETS } from '../helpers/server.js';
import { UserAgent } from '../helpers/user-agent.js';
import { assertOAuthError, discoverAs, suiteServerOn } from '../helpers/interop-client.js';
import { INSECURE, discoverOidc } from '../helpers/oauth4webapi-discovery.js';

const PAR_ONLY_CLIENT: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'par-only-app',
  client_secret: 'par-only-app-secret-long-enough',
  redirect_uris: ['http://127.0.0.1:9000/par-callback'],
  require_pushed_authorization_requests: true,
};

/** The browser's part: login and consent as ALICE; returns the callback URL. */
async function signIn(gatehouse: RunningGatehouse, url: URL): Promise<URL> {
  const final = await new UserAgent(gatehouse.url).authorize(url.href, ALICE);
  assert.equal(final.status, 303, final.body.slice(0, 300));
  return new URL(final.location!);
}

for (const target of STORE_TARGETS) {
  describe(`RFC 9126 interop with openid-client and oauth4webapi on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    const { skipped } = suiteServerOn(
      target,
      { clients: [CONFIDENTIAL_CLIENT, POST_CLIENT, PUBLIC_CLIENT, PAR_ONLY_CLIENT] },
      async (started) => {
        gatehouse = started;
      },
    );

    for (const fixture of [CONFIDENTIAL_CLIENT, POST_CLIENT, PUBLIC_CLIENT, PAR_ONLY_CLIENT]) {
      it(`openid-client: buildAuthorizationUrlWithPAR and the code flow (${fixture.client_id}, ${fixture.token_endpoint_auth_method})`, async (t) => {
        if (skipped(t)) return;
        const config = await discoverAs(gatehouse, fixture);
        assert.equal(config.serverMetadata().pushed_authorization_request_endpoint, `${gatehouse.url}/par`);
        const verifier = client.randomPKCECodeVerifier();
        const state = client.randomState();
        const nonce = client.randomNonce();
        const url = await client.buildAuthorizationUrlWithPAR(config, {
          redirect_uri: fixture.redirect_uris[0]!,
          scope: 'openid profile',
          code_challenge: await client.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        // RFC 9126 §4: the front channel carries client_id and request_uri only.
        assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
        const callback = await signIn(gatehouse, url);
        const tokens = await client.authorizationCodeGrant(config, callback, {
          pkceCodeVerifier: verifier,
          expectedState: state,
          expectedNonce: nonce,
        });
        assert.equal(tokens.scope, 'openid profile');
        assert.equal(tokens.claims()?.aud, fixture.client_id);
      });
    }

    it('oauth4webapi: pushedAuthorizationRequest, processPushedAuthorizationResponse and the code flow (client_secret_basic)', async (t) => {
      if (skipped(t)) return;
      const insecure = INSECURE;
      const as = await discoverOidc(gatehouse);
      const oauthClient: oauth.Client = { client_id: CONFIDENTIAL_CLIENT.client_id };
      const auth = oauth.ClientSecretBasic(CONFIDENTIAL_CLIENT.client_secret!);
      const verifier = oauth.generateRandomCodeVerifier();
      const redirectUri = CONFIDENTIAL_CLIENT.redirect_uris[0]!;
      const pushed = await oauth.processPushedAuthorizationResponse(
        as,
        oauthClient,
        await oauth.pushedAuthorizationRequest(
          as,
          oauthClient,
          auth,
          {
            response_type: 'code',
            redirect_uri: redirectUri,
            scope: 'openid',
            code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
            code_challenge_method: 'S256',
          },
          insecure,
        ),
      );
      assert.match(pushed.request_uri, /^urn:ietf:params:oauth:request_uri:/);
      assert.equal(pushed.expires_in, 60);
      const url = new URL(as.authorization_endpoint!);
      url.searchParams.set('client_id', oauthClient.client_id);
      url.searchParams.set('request_uri', pushed.request_uri);
      const callback = await signIn(gatehouse, url);
      const params = oauth.validateAuthResponse(as, oauthClient, callback, oauth.skipStateCheck);
      const tokens = await oauth.processAuthorizationCodeResponse(
        as,
        oauthClient,
        await oauth.authorizationCodeGrantRequest(as, oauthClient, auth, params, redirectUri, verifier, insecure),
      );
      assert.equal(tokens.scope, 'openid');
    });

    it('RFC 9126 §2.3: openid-client surfaces a request refused at push time (unregistered redirect_uri) as 400 invalid_request', async (t) => {
      if (skipped(t)) return;
      const config = await discoverAs(gatehouse, CONFIDENTIAL_CLIENT);
      await assertOAuthError(
        client.buildAuthorizationUrlWithPAR(config, {
          redirect_uri: 'https://evil.example/cb',
          scope: 'openid',
          code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
          code_challenge_method: 'S256',
        }),
        400,
        'invalid_request',
      );
    });
  });
}
