/**
 * The client metadata of JWT client authentication: `jwks`, `jwks_uri` (RFC 7591 §2),
 * `token_endpoint_auth_signing_alg` (OpenID Connect Dynamic Client Registration §2), the two
 * methods `private_key_jwt` and `client_secret_jwt` (RFC 7523 §2.2, OpenID Connect Core §9), and
 * how they are stored (the client_secret_jwt secret sealed) and applied from the config file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { validateClientMetadata } from '../../src/core/registration/client-metadata.js';
import { ClientMetadataError } from '../../src/core/errors.js';
import { clientToMetadata, registerClient } from '../../src/core/registration/client-registration.js';
import { openClientSecret } from '../../src/core/clients/client-secret-seal.js';
import { applyFixtures } from '../../src/config/apply-fixtures.js';
import type { ClientFixture } from '../../src/config/settings.js';
import { openStore } from '../../src/store/open-store.js';

const NOW = 1_700_000_000_000;
const INSTANCE_SECRET = 'instance-secret-for-these-tests-0123456789';
const MACHINE = { redirect_uris: [], grant_types: ['client_credentials'], scope: 'api' };

const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
const PUBLIC_JWK: JWK = { ...(await exportJWK(publicKey)), kid: 'k1' };
const PRIVATE_JWK: JWK = { ...(await exportJWK(privateKey)), kid: 'k1' };
const PKJ = { ...MACHINE, token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [PUBLIC_JWK] } };

function assertRefused(metadata: unknown, field: string, message: RegExp, allowPrivateAddresses = false): void {
  assert.throws(
    () => validateClientMetadata(metadata, { allowPrivateAddresses }),
    (error: unknown) => {
      assert.ok(error instanceof ClientMetadataError, `expected ClientMetadataError, got ${String(error)}`);
      assert.equal(error.field, field);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('private_key_jwt metadata (RFC 7523 §2.2, RFC 7591 §2)', () => {
  test('RFC 7591 §2: a private_key_jwt client with jwks is registered without a secret, and shows its keys', async () => {
    const { client, clientSecret } = await registerClient(PKJ, { generateSecret: true, now: NOW });
    assert.equal(client.tokenEndpointAuthMethod, 'private_key_jwt');
    assert.equal(clientSecret, null);
    assert.equal(client.clientSecretHash, null);
    assert.deepEqual(client.jwks, { keys: [PUBLIC_JWK] });
    assert.deepEqual(clientToMetadata(client).jwks, { keys: [PUBLIC_JWK] });
    assert.equal(clientToMetadata(client).client_type, 'confidential');
  });

  test('RFC 7591 §2: a private_key_jwt client with an https jwks_uri', () => {
    const validated = validateClientMetadata({ ...PKJ, jwks: undefined, jwks_uri: 'https://client.example/jwks' });
    assert.equal(validated.jwks_uri, 'https://client.example/jwks');
  });

  test('RFC 7523 §2.2: private_key_jwt without jwks or jwks_uri is refused', () => {
    assertRefused({ ...PKJ, jwks: undefined }, 'token_endpoint_auth_method', /needs its public keys/);
  });

  test('RFC 7591 §2: jwks and jwks_uri together are refused', () => {
    assertRefused({ ...PKJ, jwks_uri: 'https://client.example/jwks' }, 'jwks', /must not both be present/);
  });

  test('RFC 7517 §4: a private key in jwks is refused', () => {
    assertRefused({ ...PKJ, jwks: { keys: [PRIVATE_JWK] } }, 'jwks.keys[0]', /private key material \(d\)/);
  });

  test('RFC 7517 §5: jwks must be a JWK Set of usable public keys', () => {
    assertRefused({ ...PKJ, jwks: [PUBLIC_JWK] }, 'jwks', /JWK Set/);
    assertRefused({ ...PKJ, jwks: { keys: [] } }, 'jwks', /1 to 32 keys/);
    assertRefused({ ...PKJ, jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AA' }] } }, 'jwks.keys[0]', /not a usable/);
    assertRefused(
      { ...PKJ, jwks: { keys: [PUBLIC_JWK, { ...PUBLIC_JWK }] } },
      'jwks.keys[1]',
      /kid "k1" is used by two keys/,
    );
  });

  test('RFC 7591 §2: jwks_uri must be https (http on loopback only) and not a private address', () => {
    const pkjUri = (jwks_uri: string) => ({ ...PKJ, jwks: undefined, jwks_uri });
    assertRefused(pkjUri('http://client.example/jwks'), 'jwks_uri', /must use https/);
    assertRefused(pkjUri('https://client.example/jwks#keys'), 'jwks_uri', /fragment/);
    assertRefused(pkjUri('https://10.0.0.7/jwks'), 'jwks_uri', /is private \(RFC 1918\)/);
    assert.equal(
      validateClientMetadata(pkjUri('https://10.0.0.7/jwks'), { allowPrivateAddresses: true }).jwks_uri,
      'https://10.0.0.7/jwks',
    );
  });

  test('RFC 7523 §2.2: a private_key_jwt client has no client_secret', () => {
    assertRefused({ ...PKJ, client_secret: 'a-secret-it-should-not-have' }, 'client_secret', /private_key_jwt/);
  });

  test('a public client registers no keys', () => {
    assertRefused(
      { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none', jwks: { keys: [PUBLIC_JWK] } },
      'jwks',
      /public client/,
    );
  });
});

describe('token_endpoint_auth_signing_alg (OpenID Connect Dynamic Client Registration §2)', () => {
  test('an asymmetric algorithm for private_key_jwt and HS256 for client_secret_jwt are accepted', () => {
    assert.equal(
      validateClientMetadata({ ...PKJ, token_endpoint_auth_signing_alg: 'PS256' }).token_endpoint_auth_signing_alg,
      'PS256',
    );
    const hs = {
      ...MACHINE,
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS256',
    };
    assert.equal(validateClientMetadata(hs).token_endpoint_auth_signing_alg, 'HS256');
  });

  test('RFC 8725 §2.1: HMAC with private_key_jwt, none, and asymmetric with client_secret_jwt are refused', () => {
    const field = 'token_endpoint_auth_signing_alg';
    assertRefused({ ...PKJ, token_endpoint_auth_signing_alg: 'HS256' }, field, /not allowed with private_key_jwt/);
    assertRefused({ ...PKJ, token_endpoint_auth_signing_alg: 'none' }, field, /not allowed/);
    assertRefused(
      { ...MACHINE, token_endpoint_auth_method: 'client_secret_jwt', token_endpoint_auth_signing_alg: 'ES256' },
      field,
      /not allowed with client_secret_jwt/,
    );
  });

  test('only with a JWT method', () => {
    assertRefused(
      { ...MACHINE, token_endpoint_auth_method: 'client_secret_basic', token_endpoint_auth_signing_alg: 'ES256' },
      'token_endpoint_auth_signing_alg',
      /only used with private_key_jwt or client_secret_jwt/,
    );
  });
});

const HS = { ...MACHINE, token_endpoint_auth_method: 'client_secret_jwt' };

describe('client_secret_jwt secrets (OpenID Connect Core §9)', () => {
  test('the secret is hashed and also sealed under GATEHOUSE_SECRET, opening only with it', async () => {
    const { client, clientSecret } = await registerClient(HS, {
      generateSecret: true,
      now: NOW,
      instanceSecret: INSTANCE_SECRET,
    });
    assert.ok(clientSecret && client.clientSecretSealed);
    assert.ok(!client.clientSecretSealed.includes(clientSecret));
    const opened = await openClientSecret(client.clientSecretSealed, INSTANCE_SECRET);
    assert.equal(Buffer.from(opened).toString('utf8'), clientSecret);
    await assert.rejects(openClientSecret(client.clientSecretSealed, `${INSTANCE_SECRET}-other`));
  });

  test('without GATEHOUSE_SECRET a client_secret_jwt client cannot be registered', async () => {
    await assert.rejects(registerClient(HS, { generateSecret: true, now: NOW }), /needs GATEHOUSE_SECRET/);
  });

  test('other methods keep no sealed secret', async () => {
    const { client } = await registerClient(
      { ...MACHINE, token_endpoint_auth_method: 'client_secret_basic' },
      { generateSecret: true, now: NOW, instanceSecret: INSTANCE_SECRET },
    );
    assert.equal(client.clientSecretSealed, null);
  });
});

describe('config file clients with keys', () => {
  const fixtures: ClientFixture[] = [
    { ...(PKJ as unknown as ClientFixture), client_id: 'pkj', response_types: [], require_pkce: true },
    {
      ...(HS as unknown as ClientFixture),
      client_id: 'hs',
      client_secret: 'hs-secret-that-is-long-enough',
      response_types: [],
      require_pkce: true,
    },
  ];

  test('a private_key_jwt fixture needs no secret; re-applying a client_secret_jwt fixture changes nothing', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      await store.migrate();
      const settings = { clients: fixtures, users: [], secret: INSTANCE_SECRET };
      await applyFixtures(store, settings, 1000);
      const hs = await store.clients.get('hs');
      assert.ok(hs?.clientSecretSealed);
      assert.equal(
        Buffer.from(await openClientSecret(hs.clientSecretSealed, INSTANCE_SECRET)).toString('utf8'),
        'hs-secret-that-is-long-enough',
      );
      assert.deepEqual((await store.clients.get('pkj'))?.jwks, { keys: [PUBLIC_JWK] });

      const updated: string[] = [];
      const events = { emit: (event: { type: string }) => void updated.push(event.type) };
      await applyFixtures(store, settings, 2000, events as never);
      assert.deepEqual(updated, []);
      assert.deepEqual(await store.clients.get('hs'), hs);

      // A changed secret is sealed anew.
      const changed = fixtures.map((fixture) =>
        fixture.client_id === 'hs' ? { ...fixture, client_secret: 'a-changed-secret-long-enough' } : fixture,
      );
      await applyFixtures(store, { ...settings, clients: changed }, 3000);
      const again = await store.clients.get('hs');
      assert.equal(
        Buffer.from(await openClientSecret(again!.clientSecretSealed!, INSTANCE_SECRET)).toString('utf8'),
        'a-changed-secret-long-enough',
      );
    } finally {
      await store.close();
    }
  });
});
