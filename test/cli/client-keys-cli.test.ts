/**
 * `gatehouse clients create` for JWT client authentication (RFC 7523 §2.2, OpenID Connect Core
 * §9): `--jwks-file`, `--jwks-uri`, `--token-endpoint-auth-signing-alg`, and a client_secret_jwt
 * client whose secret is sealed under GATEHOUSE_SECRET.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { openClientSecret } from '../../src/core/clients/client-secret-seal.js';
import { assertOneLineFailure, runCli, withStoreAt } from '../helpers/cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

const SECRET = 'cli-test-secret-for-gatehouse-0123456789';
let dir: string;
let database: string;

useTempDir('gatehouse-cli-keys-', (created) => {
  dir = created;
  database = `sqlite:${join(dir, 'gatehouse.db')}`;
});

/** `gatehouse clients create` of a client_credentials client authenticating with `method`, then `args`. */
function create(method: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(
    [
      'clients',
      'create',
      '--database',
      database,
      '--grant-type',
      'client_credentials',
      '--scope',
      'api',
      '--token-endpoint-auth-method',
      method,
      ...args,
    ],
    { env },
  );
}

describe('gatehouse clients create: JWT client authentication', () => {
  test('RFC 7591 §2: --jwks-file registers a private_key_jwt client with its public keys and no secret', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1' }] };
    const file = join(dir, 'keys.json');
    await writeFile(file, JSON.stringify(jwks));
    const run = await create('private_key_jwt', [
      '--client-id',
      'pkj',
      '--jwks-file',
      file,
      '--token-endpoint-auth-signing-alg',
      'ES256',
      '--json',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const view = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(view['jwks'], jwks);
    assert.equal(view['token_endpoint_auth_signing_alg'], 'ES256');
    assert.equal(view['client_secret'], undefined);
    const stored = await withStoreAt(database, (store) => store.clients.get('pkj'));
    assert.deepEqual(stored?.jwks, jwks);
    assert.equal(stored?.clientSecretHash, null);

    const shown = await runCli(['clients', 'show', 'pkj', '--database', database]);
    assert.match(shown.stdout, /^jwks:\s+1 key\(s\)$/m);
  });

  test('--jwks-uri registers the URL; a private key in --jwks-file is refused', async () => {
    const run = await create('private_key_jwt', ['--jwks-uri', 'https://client.example/jwks.json', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as Record<string, unknown>)['jwks_uri'], 'https://client.example/jwks.json');

    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const file = join(dir, 'private.json');
    await writeFile(file, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
    assertOneLineFailure(
      await create('private_key_jwt', ['--jwks-file', file]),
      /^gatehouse: invalid client: jwks\.keys\[0\] holds private key material/,
    );
    assertOneLineFailure(
      await create('private_key_jwt', ['--jwks-file', join(dir, 'missing.json')]),
      /^gatehouse: cannot read --jwks-file/,
    );
  });

  test('OpenID Connect Core §9: a client_secret_jwt client gets a secret, kept sealed under GATEHOUSE_SECRET', async () => {
    const run = await create('client_secret_jwt', ['--client-id', 'hs', '--json'], { GATEHOUSE_SECRET: SECRET });
    assert.equal(run.code, 0, run.stderr);
    const secret = (JSON.parse(run.stdout) as Record<string, unknown>)['client_secret'] as string;
    const stored = await withStoreAt(database, (store) => store.clients.get('hs'));
    assert.ok(stored?.clientSecretSealed);
    assert.equal(Buffer.from(await openClientSecret(stored.clientSecretSealed, SECRET)).toString('utf8'), secret);

    // Sealing needs GATEHOUSE_SECRET (a public issuer has no development secret file to fall back on).
    const withoutSecret = await create('client_secret_jwt', [], { GATEHOUSE_ISSUER: 'https://id.example.com' });
    assert.equal(withoutSecret.code, 1);
    assert.match(withoutSecret.stderr, /GATEHOUSE_SECRET/);
  });
});
