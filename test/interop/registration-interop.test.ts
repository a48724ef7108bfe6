/**
 * Interoperability of dynamic client registration (RFC 7591): openid-client v6
 * (`dynamicClientRegistration`) discovers Gatehouse, registers a client in open mode (and with an
 * initial access token in token mode), and completes the code flow with PKCE as that client, on
 * SQLite and on PostgreSQL; a refused registration surfaces as the library's OAuth error.
 *
 * Run: node scripts/run-tests.mjs test/interop/registration
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { createInitialAccessToken } from '../../src/core/registration/registration-access-token.js';
import { STORE_TARGETS } from '../helpers/server.js';
import { assertOAuthError, codeFlow, decodeAccessToken, suiteServerOn } from '../helpers/interop-client.js';

const REDIRECT_URI = 'http://127.0.0.1:33418/callback';
const insecure = { execute: [client.allowInsecureRequests] };

/** The registered client as a fixture, for the code-flow helper. */
function fixtureOf(config: client.Configuration): ClientFixture {
  const metadata = config.clientMetadata();
  return {
    client_id: metadata.client_id,
    redirect_uris: metadata['redirect_uris'] as string[],
    token_endpoint_auth_method: metadata['token_endpoint_auth_method'] as ClientFixture['token_endpoint_auth_method'],
  } as ClientFixture;
}

/** Registers through openid-client and runs the code flow with PKCE; returns the token set. */
async function registerAndSignIn(gatehouse: RunningGatehouse, config: client.Configuration) {
  const tokens = await codeFlow(
    gatehouse,
    { config, fixture: fixtureOf(config), lastResponse: () => assert.fail('not recorded') },
    { scope: 'openid profile' },
  );
  assert.equal(typeof tokens.access_token, 'string');
  assert.equal(tokens.claims()?.aud, config.clientMetadata().client_id);
  assert.equal(decodeAccessToken(tokens.access_token).client_id, config.clientMetadata().client_id);
}

for (const target of STORE_TARGETS) {
  describe(`RFC 7591 interop with openid-client on ${target.name}`, () => {
    for (const mode of ['open', 'token'] as const) {
      describe(`registration.mode ${mode}`, () => {
        let gatehouse: RunningGatehouse;
        const { skipped } = suiteServerOn(
          target,
          { settings: { registration: { ...DEFAULT_SETTINGS.registration, mode } } },
          async (started) => {
            gatehouse = started;
          },
        );
        const options = async () =>
          mode === 'open'
            ? insecure
            : {
                ...insecure,
                initialAccessToken: (await createInitialAccessToken(gatehouse.context.store, { now: Date.now() }))
                  .token,
              };

        it(`RFC 7591 §3: openid-client registers a public client (${mode}) and completes the code flow with PKCE`, async (t) => {
          if (skipped(t)) return;
          const config = await client.dynamicClientRegistration(
            new URL(gatehouse.url),
            {
              client_name: 'openid-client native app',
              redirect_uris: [REDIRECT_URI],
              token_endpoint_auth_method: 'none',
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code'],
            },
            client.None(),
            await options(),
          );
          assert.equal(config.serverMetadata().registration_endpoint, `${gatehouse.url}/register`);
          await registerAndSignIn(gatehouse, config);
        });

        it(`RFC 7591 §3.2.1: openid-client registers a confidential client_secret_post client (${mode}) and authenticates with the issued secret`, async (t) => {
          if (skipped(t)) return;
          const config = await client.dynamicClientRegistration(
            new URL(gatehouse.url),
            { redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_post' },
            undefined,
            await options(),
          );
          assert.equal(typeof config.clientMetadata().client_secret, 'string');
          await registerAndSignIn(gatehouse, config);
        });
      });
    }

    describe('a refused registration', () => {
      let gatehouse: RunningGatehouse;
      const { skipped } = suiteServerOn(
        target,
        { settings: { registration: { ...DEFAULT_SETTINGS.registration, mode: 'open' } } },
        async (started) => {
          gatehouse = started;
        },
      );
      it('RFC 7591 §3.2.2: openid-client surfaces invalid_redirect_uri', async (t) => {
        if (skipped(t)) return;
        await assertOAuthError(
          client.dynamicClientRegistration(
            new URL(gatehouse.url),
            { redirect_uris: ['http://app.example/cb'], token_endpoint_auth_method: 'none' },
            client.None(),
            insecure,
          ),
          400,
          'invalid_redirect_uri',
        );
      });
    });
  });
}
