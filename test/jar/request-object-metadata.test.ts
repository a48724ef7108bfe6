/**
 * The client metadata of signed request objects, RFC 9101 §10.5: `request_object_signing_alg`
 * and `require_signed_request_object`, validated at registration (config file, CLI) and shown
 * when set; `gatehouse clients create --request-object-signing-alg --require-signed-request-object`.
 *
 * Run: node scripts/run-tests.mjs test/jar/request-object-metadata
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { clientFixtureOf } from '../../src/config/client-fixture.js';
import { ClientMetadataError } from '../../src/core/errors.js';
import { validateClientMetadata } from '../../src/core/registration/client-metadata.js';
import { clientToMetadata, registerClient } from '../../src/core/registration/client-registration.js';
import { assertOneLineFailure, runCli, withStoreAt } from '../helpers/cli.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { signingKey } from '../helpers/request-objects.js';

const KEY = await signingKey('ES256', 'req-1');
const JWKS = { keys: [KEY.publicJwk] };
const WEB = { redirect_uris: ['https://app.example.com/callback'] };
const KEYED = { ...WEB, jwks: JWKS };

function assertRefused(metadata: unknown, field: string, message: RegExp): void {
  assert.throws(
    () => validateClientMetadata(metadata),
    (error: unknown) => {
      assert.ok(error instanceof ClientMetadataError, `expected ClientMetadataError, got ${String(error)}`);
      assert.equal(error.field, field);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('client metadata: request_object_signing_alg and require_signed_request_object (RFC 9101 §10.5)', () => {
  test('RFC 9101 §10.5: both unset by default, stored and shown (and kept in fixtures) when set', async () => {
    const plain = await registerClient(KEYED, { generateSecret: true, now: 0 });
    assert.equal(plain.client.requestObjectSigningAlg, null);
    assert.equal(plain.client.requireSignedRequestObject, false);
    const view = clientToMetadata(plain.client);
    assert.equal(view.request_object_signing_alg, undefined);
    assert.equal(view.require_signed_request_object, undefined);

    const metadata = { ...KEYED, request_object_signing_alg: 'ES256', require_signed_request_object: true };
    const signed = await registerClient(metadata, { generateSecret: true, now: 0 });
    assert.equal(signed.client.requestObjectSigningAlg, 'ES256');
    assert.equal(signed.client.requireSignedRequestObject, true);
    assert.equal(clientToMetadata(signed.client).request_object_signing_alg, 'ES256');
    assert.equal(clientToMetadata(signed.client).require_signed_request_object, true);
    const fixture = clientFixtureOf({ ...validateClientMetadata({ ...metadata, client_id: 'c' }), client_id: 'c' });
    assert.equal(fixture.request_object_signing_alg, 'ES256');
    assert.equal(fixture.require_signed_request_object, true);
  });

  test('RFC 9101 §10.1: request_object_signing_alg none, an HMAC or an unknown alg is refused', () => {
    for (const alg of ['none', 'HS256', 'ES512']) {
      assertRefused({ ...KEYED, request_object_signing_alg: alg }, 'request_object_signing_alg', /never "none"/);
    }
    assertRefused({ ...KEYED, request_object_signing_alg: 7 }, 'request_object_signing_alg', /must be a string/);
    assertRefused({ ...KEYED, require_signed_request_object: 'yes' }, 'require_signed_request_object', /boolean/);
  });

  test('RFC 9101 §6.2: both need the client keys (jwks or jwks_uri) and the authorization_code grant', () => {
    assertRefused({ ...WEB, require_signed_request_object: true }, 'require_signed_request_object', /jwks or jwks_uri/);
    assertRefused({ ...WEB, request_object_signing_alg: 'ES256' }, 'request_object_signing_alg', /jwks or jwks_uri/);
    assertRefused(
      {
        grant_types: ['client_credentials'],
        jwks: JWKS,
        require_signed_request_object: true,
      },
      'require_signed_request_object',
      /authorization_code/,
    );
    assert.equal(
      validateClientMetadata({
        ...WEB,
        jwks_uri: 'https://app.example.com/jwks.json',
        require_signed_request_object: true,
      }).require_signed_request_object,
      true,
    );
  });
});

describe('gatehouse clients create: --request-object-signing-alg and --require-signed-request-object', () => {
  let dir: string;
  let database: string;
  useTempDir('gatehouse-cli-jar-', (created) => {
    dir = created;
    database = `sqlite:${join(dir, 'gatehouse.db')}`;
  });

  test('RFC 9101 §10.5: the flags store the metadata, and clients show prints it', async () => {
    const file = join(dir, 'keys.json');
    await writeFile(file, JSON.stringify(JWKS));
    const run = await runCli([
      'clients',
      'create',
      '--database',
      database,
      '--client-id',
      'jar-cli',
      '--redirect-uri',
      'https://jar.example/cb',
      '--jwks-file',
      file,
      '--request-object-signing-alg',
      'ES256',
      '--require-signed-request-object',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const view = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(view['request_object_signing_alg'], 'ES256');
    assert.equal(view['require_signed_request_object'], true);
    const stored = await withStoreAt(database, (store) => store.clients.get('jar-cli'));
    assert.equal(stored?.requestObjectSigningAlg, 'ES256');
    assert.equal(stored?.requireSignedRequestObject, true);
    const shown = await runCli(['clients', 'show', 'jar-cli', '--database', database]);
    assert.match(shown.stdout, /^request_object_signing_alg:\s+ES256$/m);
    assert.match(shown.stdout, /^require_signed_request_object:\s+true$/m);
  });

  test('RFC 9101 §6.2: --require-signed-request-object without keys fails in one line', async () => {
    const run = await runCli([
      'clients',
      'create',
      '--database',
      database,
      '--redirect-uri',
      'https://jar.example/cb',
      '--require-signed-request-object',
    ]);
    assertOneLineFailure(run, /require_signed_request_object needs the client's public keys/);
  });
});
