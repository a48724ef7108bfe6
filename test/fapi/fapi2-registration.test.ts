/**
 * The FAPI 2.0 Security Profile at registration: a fapi2 client that cannot meet a rule of
 * src/core/profile/fapi2-profile.ts is refused with the rule's section (client metadata, the
 * config file, `clients create --profile fapi2`), and the server-wide `profile: fapi2` refuses a
 * code lifetime over 60 seconds.
 *
 * Run: node scripts/run-tests.mjs test/fapi
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { exportJWK } from 'jose';
import { validateClientMetadata } from '../../src/core/registration/client-metadata.js';
import { ClientMetadataError } from '../../src/core/errors.js';
import { ConfigError, loadConfigFile } from '../../src/config/load-config.js';
import { FAPI2_RULES, fapi2SubjectOf, fapi2Violations } from '../../src/core/profile/fapi2-profile.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { makeClient } from '../helpers/store-records.js';
import { FAPI_CLIENT, fapiKeys } from '../helpers/fapi2-client.js';
import { assertOneLineFailure, runCli } from '../helpers/cli.js';
import { useTempDir } from '../helpers/temp-dir.js';

/** Validating FAPI_CLIENT with `changes` fails on `field`, naming `section`. */
function assertRefused(changes: Record<string, unknown>, field: string, section: string): void {
  assert.throws(
    () => validateClientMetadata({ ...FAPI_CLIENT, ...changes }),
    (error: unknown) => {
      assert.ok(error instanceof ClientMetadataError, `expected ClientMetadataError, got ${String(error)}`);
      assert.equal(error.field, field);
      assert.ok(error.message.includes(section), `${error.message} names ${section}`);
      return true;
    },
  );
}

describe('FAPI 2.0 Security Profile: client registration', () => {
  test('a client meeting every rule is accepted, with PAR and DPoP on even when not given', () => {
    const {
      dpop_bound_access_tokens: _dpop,
      require_pushed_authorization_requests: _par,
      ...withoutFlags
    } = FAPI_CLIENT;
    const validated = validateClientMetadata(withoutFlags);
    assert.equal(validated.profile, 'fapi2');
    assert.equal(validated.dpop_bound_access_tokens, true);
    assert.equal(validated.require_pushed_authorization_requests, true);
    assert.equal(validateClientMetadata({ ...withoutFlags, profile: 'oauth2.1' }).dpop_bound_access_tokens, false);
  });

  test('profile must be oauth2.1 or fapi2', () => {
    assert.throws(
      () => validateClientMetadata({ ...FAPI_CLIENT, profile: 'fapi1' }),
      /profile "fapi1" is not supported/,
    );
  });

  test('FAPI 2.0 §5.3.2.1: client_secret_basic is refused (only private_key_jwt)', () => {
    const { jwks: _jwks, ...withoutKeys } = FAPI_CLIENT;
    assert.throws(
      () => validateClientMetadata({ ...withoutKeys, token_endpoint_auth_method: 'client_secret_basic' }),
      /FAPI 2\.0 §5\.3\.2\.1.*client_secret_basic.*private_key_jwt/,
    );
  });

  test('FAPI 2.0 §5.3.2.1: client_secret_jwt is refused (no shared secrets)', () => {
    const { jwks: _jwks, ...withoutKeys } = FAPI_CLIENT;
    assert.throws(
      () => validateClientMetadata({ ...withoutKeys, token_endpoint_auth_method: 'client_secret_jwt' }),
      (error: unknown) => error instanceof ClientMetadataError && error.field === 'token_endpoint_auth_method',
    );
  });

  test('FAPI 2.0 §5.3.2.1: a private_key_jwt client without jwks or jwks_uri is refused', () => {
    assertRefused({ jwks: undefined }, 'jwks', 'FAPI 2.0 §5.3.2.1');
  });

  test('FAPI 2.0 §5.3.2.2: require_pkce false is refused', () => {
    assertRefused({ require_pkce: false }, 'require_pkce', 'FAPI 2.0 §5.3.2.2');
  });

  test('FAPI 2.0 §5.3.2.2: require_pushed_authorization_requests false is refused', () => {
    assertRefused(
      { require_pushed_authorization_requests: false },
      'require_pushed_authorization_requests',
      'FAPI 2.0 §5.3.2.2',
    );
  });

  test('FAPI 2.0 §5.3.2.1: dpop_bound_access_tokens false is refused (sender-constrained tokens)', () => {
    assertRefused({ dpop_bound_access_tokens: false }, 'dpop_bound_access_tokens', 'FAPI 2.0 §5.3.2.1');
  });

  test('FAPI 2.0 §5.4.1: token_endpoint_auth_signing_alg RS256 is refused', () => {
    assertRefused({ token_endpoint_auth_signing_alg: 'RS256' }, 'token_endpoint_auth_signing_alg', 'FAPI 2.0 §5.4.1');
  });

  test('FAPI 2.0 §5.4.1: id_token_signed_response_alg RS256 is refused', () => {
    assertRefused({ id_token_signed_response_alg: 'RS256' }, 'id_token_signed_response_alg', 'FAPI 2.0 §5.4.1');
  });

  test('FAPI 2.0 §5.3.2.2: the rules see a response type other than code (the profile check, where metadata cannot say it)', () => {
    const client = makeClient({ responseTypes: ['code', 'code id_token'] });
    const broken = fapi2Violations(fapi2SubjectOf(client, DEFAULT_SETTINGS)).map((v) => v.rule.id);
    assert.ok(broken.includes('response-type-code'));
  });

  test('every rule names a FAPI 2.0 section and a fix', () => {
    for (const rule of FAPI2_RULES) {
      assert.match(rule.section, /^FAPI 2\.0 §5\.\d/);
      assert.ok(rule.fix.length > 0);
    }
  });
});

describe('FAPI 2.0 Security Profile: config file and CLI', () => {
  let dir: string;
  useTempDir('gatehouse-fapi2-', (created) => (dir = created));

  test('FAPI 2.0 §5.3.2.1: profile: fapi2 with code_ttl_seconds 120 is refused; 60 is accepted', async () => {
    const path = join(dir, 'fapi2.yaml');
    await writeFile(path, 'issuer: https://auth.example.com\nprofile: fapi2\ncode_ttl_seconds: 120\n');
    await assert.rejects(loadConfigFile(path), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /code_ttl_seconds of at most 60.*§5\.3\.2\.1/);
      return true;
    });
    await writeFile(path, 'issuer: https://auth.example.com\nprofile: fapi2\ncode_ttl_seconds: 60\n');
    await loadConfigFile(path);
  });

  test('FAPI 2.0 §5.3.2.1: profile: fapi2 with refresh_token_grace_seconds 0 (rotation without retry) is refused', async () => {
    const path = join(dir, 'fapi2-grace.yaml');
    await writeFile(path, 'issuer: https://auth.example.com\nprofile: fapi2\nrefresh_token_grace_seconds: 0\n');
    await assert.rejects(loadConfigFile(path), /refresh_token_grace_seconds above 0.*|§5\.3\.2\.1/);
    await writeFile(path, 'issuer: https://auth.example.com\nprofile: fapi2\nrefresh_token_grace_seconds: 5\n');
    await loadConfigFile(path);
  });

  test('FAPI 2.0 §5.3.2.1: a fapi2 client with client_secret_basic in the config file is refused naming the rule', async () => {
    const path = join(dir, 'fapi2-client.yaml');
    await writeFile(
      path,
      [
        'issuer: https://auth.example.com',
        'clients:',
        '  - client_id: bank-app',
        '    client_secret: a-long-enough-client-secret-0123456789',
        '    token_endpoint_auth_method: client_secret_basic',
        '    redirect_uris: [https://bank.example/cb]',
        '    profile: fapi2',
        '',
      ].join('\n'),
    );
    await assert.rejects(loadConfigFile(path), /FAPI 2\.0 §5\.3\.2\.1/);
  });

  test('clients create --profile fapi2: refused with client_secret_basic, accepted with private_key_jwt and --jwks-file', async () => {
    const database = `sqlite:${join(dir, 'gatehouse.db')}`;
    const base = ['clients', 'create', '--database', database, '--redirect-uri', 'https://bank.example/cb'];
    assertOneLineFailure(await runCli([...base, '--profile', 'fapi2']), /FAPI 2\.0 §5\.3\.2\.1.*private_key_jwt/);
    const jwksFile = join(dir, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(fapiKeys.publicKey)), kid: 'k1' }] }));
    const created = await runCli([
      ...base,
      '--profile',
      'fapi2',
      '--token-endpoint-auth-method',
      'private_key_jwt',
      '--jwks-file',
      jwksFile,
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const shown = JSON.parse(created.stdout) as Record<string, unknown>;
    assert.equal(shown['profile'], 'fapi2');
    assert.equal(shown['dpop_bound_access_tokens'], true);
    assert.equal(shown['require_pushed_authorization_requests'], true);
  });
});
