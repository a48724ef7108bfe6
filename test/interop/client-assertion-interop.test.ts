/**
 * Interoperability of JWT client authentication (RFC 7523 §2.2, OpenID Connect Core §9): openid-client
 * v6 runs the whole code flow, a refresh, introspection and revocation as a `private_key_jwt`
 * client (PrivateKeyJwt, its public key registered as `jwks`) and as a `client_secret_jwt`
 * client (ClientSecretJwt), on SQLite and on PostgreSQL.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import type { ClientFixture } from '../../src/config/settings.js';
import type { RunningGatehouse } from '../../src/server.js';
import { CONFIDENTIAL_CLIENT, STORE_TARGETS } from '../helpers/server.js';
import { codeFlow, interopClient, suiteServerOn } from '../helpers/interop-client.js';

const { client_secret: _secret, ...WITHOUT_SECRET } = CONFIDENTIAL_CLIENT;

const keys = await generateKeyPair('ES256', { extractable: true });
const KID = 'interop-es256';

const PRIVATE_KEY_JWT_CLIENT: ClientFixture = {
  ...WITHOUT_SECRET,
  client_id: 'pkj-web-app',
  redirect_uris: ['http://127.0.0.1:9000/pkj-callback'],
  token_endpoint_auth_method: 'private_key_jwt',
  token_endpoint_auth_signing_alg: 'ES256',
  jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: KID, use: 'sig' }] },
};

const CLIENT_SECRET_JWT_CLIENT: ClientFixture = {
  ...CONFIDENTIAL_CLIENT,
  client_id: 'hs-web-app',
  client_secret: 'hs-web-app-secret-that-is-long-enough-for-hs256',
  redirect_uris: ['http://127.0.0.1:9000/hs-callback'],
  token_endpoint_auth_method: 'client_secret_jwt',
};

const CASES: Array<[string, ClientFixture, () => client.ClientAuth | undefined]> = [
  [
    'private_key_jwt (PrivateKeyJwt)',
    PRIVATE_KEY_JWT_CLIENT,
    () => client.PrivateKeyJwt({ key: keys.privateKey as CryptoKey, kid: KID }),
  ],
  ['client_secret_jwt (ClientSecretJwt)', CLIENT_SECRET_JWT_CLIENT, () => undefined],
];

for (const target of STORE_TARGETS) {
  describe(`openid-client JWT client authentication on ${target.name}`, () => {
    let gatehouse: RunningGatehouse;
    const { skipped } = suiteServerOn(
      target,
      { clients: [PRIVATE_KEY_JWT_CLIENT, CLIENT_SECRET_JWT_CLIENT] },
      async (started) => {
        gatehouse = started;
      },
    );

    for (const [name, fixture, auth] of CASES) {
      it(`RFC 7523 §2.2: ${name} runs the code flow, a refresh, introspection and revocation`, async (t) => {
        if (skipped(t)) return;
        const ic = await interopClient(gatehouse, fixture, auth());
        const metadata = ic.config.serverMetadata();
        assert.ok(metadata.token_endpoint_auth_methods_supported?.includes(fixture.token_endpoint_auth_method));

        const tokens = await codeFlow(gatehouse, ic, { scope: 'openid profile offline_access' });
        assert.equal(tokens.claims()?.aud, fixture.client_id);
        assert.ok(tokens.refresh_token);

        const refreshed = await client.refreshTokenGrant(ic.config, tokens.refresh_token);
        assert.ok(refreshed.access_token);

        const introspection = await client.tokenIntrospection(ic.config, refreshed.access_token);
        assert.equal(introspection.active, true);
        assert.equal(introspection.client_id, fixture.client_id);

        await client.tokenRevocation(ic.config, refreshed.refresh_token!);
        await assert.rejects(client.refreshTokenGrant(ic.config, refreshed.refresh_token!));
      });
    }
  });
}
