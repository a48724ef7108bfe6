import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { applyFixtures } from '../../src/config/apply-fixtures.js';
import { ConfigError, loadConfigFile } from '../../src/config/load-config.js';
import type { ClientFixture } from '../../src/config/settings.js';
import { verifyClientSecret, verifyPassword } from '../../src/core/secrets.js';
import { openStore } from '../../src/store/open-store.js';
import { registerClient } from '../../src/core/registration/client-registration.js';
import { useTempDir } from '../helpers/temp-dir.js';

let dir: string;
let counter = 0;

useTempDir('gatehouse-config-', (created) => (dir = created));

async function file(text: string, extension = '.yaml'): Promise<string> {
  const path = join(dir, `config-${counter++}${extension}`);
  await writeFile(path, text);
  return path;
}

/** Loads `text` and expects a ConfigError for `keyPath` whose message matches `message`. */
async function assertConfigError(
  text: string,
  keyPath: string | undefined,
  message: RegExp,
  extension = '.yaml',
): Promise<void> {
  const path = await file(text, extension);
  await assert.rejects(loadConfigFile(path), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.keyPath, keyPath);
    assert.match(error.message, message);
    if (keyPath) assert.ok(error.message.includes(keyPath), `message names ${keyPath}: ${error.message}`);
    assert.ok(error.message.includes(path), 'message names the file');
    return true;
  });
}

const FULL_YAML = `
issuer: https://auth.example.com
port: 8080
host: 0.0.0.0
database: postgres://gatehouse@db/gatehouse
signing_alg: EdDSA
code_ttl_seconds: 30
access_token_ttl_seconds: 900
session_ttl_seconds: 3600
clients:
  - client_id: web
    client_secret: web-secret-please-change
    client_name: Web App
    redirect_uris: [https://app.example.com/callback]
  - client_id: native
    token_endpoint_auth_method: none
    redirect_uris:
      - com.example.app:/cb
      - http://127.0.0.1/cb
  - client_id: service
    client_secret: service-secret
    grant_types: [client_credentials]
    scope: api:read
users:
  - username: alice
    password: alice-password
    email: alice@example.com
    name: Alice
  - username: bob
    password: bob-password
`;

describe('loadConfigFile: valid files', () => {
  test('the config file example of docs/configuration.md loads as shown', async () => {
    const section = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(example, 'the Config file section has a YAML example');
    const config = await loadConfigFile(await file(example));
    assert.equal(config.clients?.length, 2);
    assert.equal(config.users?.[0]?.username, 'alice');
    assert.equal(config.limits?.login_user_address?.lock_after, 10);
  });

  test('reads a YAML file with every key, applying client defaults', async () => {
    const config = await loadConfigFile(await file(FULL_YAML));
    assert.equal(config.issuer, 'https://auth.example.com');
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.database, 'postgres://gatehouse@db/gatehouse');
    assert.equal(config.signing_alg, 'EdDSA');
    assert.equal(config.code_ttl_seconds, 30);
    assert.equal(config.access_token_ttl_seconds, 900);
    assert.equal(config.session_ttl_seconds, 3600);
    assert.deepEqual(config.clients?.[0], {
      client_id: 'web',
      client_secret: 'web-secret-please-change',
      client_name: 'Web App',
      redirect_uris: ['https://app.example.com/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid profile email offline_access',
      require_pkce: true,
    });
    assert.equal(config.clients?.[1]?.token_endpoint_auth_method, 'none');
    assert.deepEqual(config.clients?.[2]?.response_types, []);
    assert.deepEqual(config.users, [
      { username: 'alice', password: 'alice-password', email: 'alice@example.com', name: 'Alice' },
      { username: 'bob', password: 'bob-password' },
    ]);
  });

  test('reads a .yml file', async () => {
    const config = await loadConfigFile(await file('port: 9100\n', '.yml'));
    assert.deepEqual(config, { port: 9100 });
  });

  test('reads a JSON file', async () => {
    const json = JSON.stringify({
      issuer: 'http://localhost:9001',
      clients: [{ client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:5173/cb'] }],
    });
    const config = await loadConfigFile(await file(json, '.json'));
    assert.equal(config.issuer, 'http://localhost:9001');
    assert.equal(config.clients?.[0]?.client_id, 'spa');
  });

  test('reads JSON from a file with another extension (YAML is a superset)', async () => {
    const config = await loadConfigFile(await file('{"port": 1234}', '.conf'));
    assert.deepEqual(config, { port: 1234 });
  });

  test('an empty file is an empty configuration', async () => {
    assert.deepEqual(await loadConfigFile(await file('')), {});
  });
});

describe('loadConfigFile: errors name the key path', () => {
  test('unknown top-level key', async () => {
    await assertConfigError('issuer: https://a.example\nprot: 80\n', 'prot', /not a known key.*port/);
  });

  test('unknown key in a client', async () => {
    await assertConfigError(
      'clients:\n  - client_id: a\n    token_endpoint_auth_method: none\n    redirect_uri: [https://a.example/cb]\n',
      'clients[0].redirect_uri',
      /not a known key.*redirect_uris/,
    );
  });

  test('unknown key in a user', async () => {
    await assertConfigError(
      'users:\n  - username: a\n    password: b\n    role: admin\n',
      'users[0].role',
      /not a known key/,
    );
  });

  test('wrong types', async () => {
    await assertConfigError('port: "8080"\n', 'port', /must be an integer.*string "8080"/);
    await assertConfigError('port: 70000\n', 'port', /between 0 and 65535/);
    await assertConfigError('port: 80.5\n', 'port', /integer/);
    await assertConfigError('issuer: 42\n', 'issuer', /must be a string/);
    await assertConfigError('clients: {}\n', 'clients', /must be a list/);
    await assertConfigError('clients: [web]\n', 'clients[0]', /mapping/);
    await assertConfigError('users:\n  - username: a\n    password: 1234\n', 'users[0].password', /must be a string/);
    await assertConfigError('code_ttl_seconds: 0\n', 'code_ttl_seconds', /between 1 and 600/);
    await assertConfigError('code_ttl_seconds: 3600\n', 'code_ttl_seconds', /RFC 6749 §4\.1\.2/);
  });

  test('RFC 7591: registration settings are checked (mode, scope tokens, resource URIs, limits)', async () => {
    const ok = await loadConfigFile(
      await file(
        'registration:\n  mode: open\n  allowed_scopes: [openid, mcp]\n  allowed_resources: [https://mcp.example/]\n  max_redirect_uris: 3\n',
      ),
    );
    assert.deepEqual(ok.registration, {
      mode: 'open',
      allowed_scopes: ['openid', 'mcp'],
      allowed_resources: ['https://mcp.example/'],
      max_redirect_uris: 3,
    });
    await assertConfigError('registration:\n  mode: public\n', 'registration.mode', /off, open, token/);
    await assertConfigError(
      'registration:\n  allowed_scopes: openid\n',
      'registration.allowed_scopes',
      /list of strings/,
    );
    await assertConfigError(
      'registration:\n  allowed_scopes: ["bad\\\\scope"]\n',
      'registration.allowed_scopes[0]',
      /not a valid value/,
    );
    await assertConfigError(
      'registration:\n  allowed_resources: [not-a-uri]\n',
      'registration.allowed_resources[0]',
      /absolute URI/,
    );
    await assertConfigError(
      'registration:\n  max_redirect_uris: 0\n',
      'registration.max_redirect_uris',
      /between 1 and 100/,
    );
    await assertConfigError('registration:\n  colour: blue\n', 'registration.colour', /unknown|not/i);
  });

  test('bad enumerations and URLs', async () => {
    await assertConfigError('signing_alg: RS256\n', 'signing_alg', /ES256, EdDSA/);
    await assertConfigError('database: mysql://db/x\n', 'database', /sqlite:/);
  });

  test('OpenID Connect Dynamic Client Registration §2: id_token_signed_response_alg_default, id_token_claims_default, id_token_claims and audit_retention_days are checked', async () => {
    await assertConfigError(
      'id_token_signed_response_alg_default: none\n',
      'id_token_signed_response_alg_default',
      /RS256, ES256, EdDSA/,
    );
    await assertConfigError(
      'id_token_signed_response_alg_default: EdDSA\n',
      'id_token_signed_response_alg_default',
      /only when signing_alg is EdDSA/,
    );
    await assertConfigError('id_token_claims_default: "yes"\n', 'id_token_claims_default', /true or false/);
    await assertConfigError('audit_retention_days: -1\n', 'audit_retention_days', /between 0 and 36600/);
    await assertConfigError(
      'clients:\n  - client_id: a\n    client_secret: s\n    redirect_uris: [https://a.example/cb]\n    id_token_claims: 1\n',
      'clients[0].id_token_claims',
      /must be a boolean/,
    );
    const config = await loadConfigFile(
      await file(
        'signing_alg: EdDSA\nid_token_signed_response_alg_default: EdDSA\nid_token_claims_default: false\naudit_retention_days: 0\n',
      ),
    );
    assert.deepEqual(config, {
      signing_alg: 'EdDSA',
      id_token_signed_response_alg_default: 'EdDSA',
      id_token_claims_default: false,
      audit_retention_days: 0,
    });
  });

  test('the top level must be a mapping', async () => {
    await assertConfigError('- a\n- b\n', '', /mapping/);
  });

  test('an invalid client names the nested key path, e.g. clients[1].redirect_uris[0]', async () => {
    const text = `
clients:
  - client_id: ok
    token_endpoint_auth_method: none
    redirect_uris: [https://a.example/cb]
  - client_id: bad
    client_secret: s3cret-s3cret
    redirect_uris:
      - http://evil.example/cb
`;
    await assertConfigError(text, 'clients[1].redirect_uris[0]', /loopback/);
  });

  test('client rules are the same as registerClient', async () => {
    await assertConfigError(
      'clients:\n  - client_id: a\n    client_secret: x\n    redirect_uris: [https://a.example/cb]\n    grant_types: [authorization_code, implicit]\n',
      'clients[0].grant_types[1]',
      /RFC 9700 §2\.1\.2/,
    );
    await assertConfigError(
      'clients:\n  - client_id: a\n    token_endpoint_auth_method: none\n    redirect_uris: [https://a.example/cb]\n    require_pkce: false\n',
      'clients[0].require_pkce',
      /RFC 9700 §2\.1\.1/,
    );
  });

  test('a client needs a client_id, and a confidential one a client_secret', async () => {
    await assertConfigError(
      'clients:\n  - redirect_uris: [https://a.example/cb]\n',
      'clients[0].client_id',
      /required/,
    );
    await assertConfigError(
      'clients:\n  - client_id: a\n    redirect_uris: [https://a.example/cb]\n',
      'clients[0].client_secret',
      /could never authenticate/,
    );
  });

  test('duplicate client_ids and usernames', async () => {
    await assertConfigError(
      'clients:\n  - {client_id: a, token_endpoint_auth_method: none, redirect_uris: [https://a.example/cb]}\n  - {client_id: a, token_endpoint_auth_method: none, redirect_uris: [https://a.example/cb]}\n',
      'clients[1].client_id',
      /duplicates clients\[0\]/,
    );
    await assertConfigError(
      'users:\n  - {username: a, password: x}\n  - {username: a, password: y}\n',
      'users[1].username',
      /duplicates users\[0\]/,
    );
  });

  test('a user needs a username and a password', async () => {
    await assertConfigError('users:\n  - password: x\n', 'users[0].username', /required/);
    await assertConfigError('users:\n  - username: a\n', 'users[0].password', /required/);
    await assertConfigError('users:\n  - {username: a, password: x, email: nope}\n', 'users[0].email', /email address/);
  });

  test('syntax errors', async () => {
    await assertConfigError('port: [1, 2\n', undefined, /not valid YAML/);
    await assertConfigError('port: 1\nport: 2\n', undefined, /not valid YAML/);
    await assertConfigError('{"port": 1,}', undefined, /not valid JSON/, '.json');
  });

  test('a missing file', async () => {
    await assert.rejects(loadConfigFile(join(dir, 'missing.yaml')), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /Cannot read config file .*missing\.yaml: no such file/);
      return true;
    });
  });
});

describe('applyFixtures: config clients and users, idempotently', () => {
  test('creates the clients and users of a config file', async () => {
    const config = await loadConfigFile(await file(FULL_YAML));
    const store = await openStore('sqlite::memory:');
    try {
      await store.migrate();
      await applyFixtures(store, { clients: config.clients ?? [], users: config.users ?? [] }, 1000);

      const web = await store.clients.get('web');
      assert.ok(web);
      assert.equal(web.clientName, 'Web App');
      assert.equal(web.createdAt, 1000);
      assert.ok(web.clientSecretHash && (await verifyClientSecret(web.clientSecretHash, 'web-secret-please-change')));
      assert.equal((await store.clients.get('native'))?.clientSecretHash, null);
      assert.deepEqual((await store.clients.get('service'))?.grantTypes, ['client_credentials']);

      const alice = await store.users.getByUsername('alice');
      assert.ok(alice);
      assert.equal(alice.email, 'alice@example.com');
      assert.equal(alice.name, 'Alice');
      assert.ok(await verifyPassword(alice.passwordHash, 'alice-password'));
      assert.equal((await store.users.getByUsername('bob'))?.email, null);
    } finally {
      await store.close();
    }
  });

  test('re-applying keeps ids, creation times and hashes that still verify', async () => {
    const config = await loadConfigFile(await file(FULL_YAML));
    const fixtures = { clients: config.clients ?? [], users: config.users ?? [] };
    const store = await openStore('sqlite::memory:');
    try {
      await store.migrate();
      await applyFixtures(store, fixtures, 1000);
      const web = await store.clients.get('web');
      const alice = await store.users.getByUsername('alice');

      await applyFixtures(store, fixtures, 2000);
      assert.deepEqual(await store.clients.get('web'), web);
      assert.deepEqual(await store.users.getByUsername('alice'), alice);
      assert.equal((await store.clients.list()).length, 3);
      assert.equal((await store.users.list()).length, 2);

      // Changed password and secret: new hashes, same id and creation time.
      const changed = {
        clients: fixtures.clients.map((client) =>
          client.client_id === 'web' ? { ...client, client_secret: 'a-new-secret' } : client,
        ),
        users: fixtures.users.map((user) => (user.username === 'alice' ? { ...user, password: 'new-password' } : user)),
      };
      await applyFixtures(store, changed, 3000);
      const newAlice = await store.users.getByUsername('alice');
      assert.equal(newAlice?.id, alice?.id);
      assert.equal(newAlice?.createdAt, 1000);
      assert.ok(newAlice && (await verifyPassword(newAlice.passwordHash, 'new-password')));
      assert.ok(newAlice && !(await verifyPassword(newAlice.passwordHash, 'alice-password')));
      const newWeb = await store.clients.get('web');
      assert.equal(newWeb?.createdAt, 1000);
      assert.ok(newWeb?.clientSecretHash && (await verifyClientSecret(newWeb.clientSecretHash, 'a-new-secret')));
    } finally {
      await store.close();
    }
  });

  test('a confidential fixture without client_secret is a ConfigError (it could never authenticate)', async () => {
    const fixture: ClientFixture = {
      client_id: 'nosecret',
      redirect_uris: ['https://a.example/cb'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'openid',
      require_pkce: true,
    };
    const store = await openStore('sqlite::memory:');
    try {
      await store.migrate();
      await assert.rejects(applyFixtures(store, { clients: [fixture], users: [] }, 1000), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.keyPath, 'clients[0].client_secret');
        assert.match(error.message, /could never authenticate/);
        return true;
      });
      await assert.rejects(
        applyFixtures(
          store,
          { clients: [{ ...fixture, redirect_uris: ['http://a.example/cb'], client_secret: 'x' }], users: [] },
          1000,
        ),
        (error: unknown) => error instanceof ConfigError && error.keyPath === 'clients[0].redirect_uris[0]',
      );
      assert.deepEqual(await store.clients.list(), []);
    } finally {
      await store.close();
    }
  });
});

describe('OpenID Connect: user claims (OIDC Core §5.1) and id_token_signed_response_alg (Registration §2) in the config file', () => {
  const CLAIMS_YAML = `
clients:
  - client_id: rs
    client_secret: rs-secret-please-change
    redirect_uris: [https://rs.example.com/cb]
    id_token_signed_response_alg: RS256
users:
  - username: carol
    password: carol-password
    name: Carol Example
    given_name: Carol
    family_name: Example
    email: carol@example.com
    email_verified: true
    phone_number: "+1 555 0100"
    phone_number_verified: false
    address:
      street_address: 1 Main Street
      locality: Springfield
      country: US
`;

  test('users accept the standard claims; applying stores them with updated_at, which moves only when they change', async () => {
    const config = await loadConfigFile(await file(CLAIMS_YAML));
    assert.equal(config.clients?.[0]?.id_token_signed_response_alg, 'RS256');
    const store = await openStore('sqlite::memory:');
    try {
      await store.migrate();
      const fixtures = { clients: config.clients ?? [], users: config.users ?? [] };
      await applyFixtures(store, fixtures, 1_000_000);
      assert.equal((await store.clients.get('rs'))?.idTokenSignedResponseAlg, 'RS256');
      const carol = await store.users.getByUsername('carol');
      assert.ok(carol);
      assert.equal(carol.name, 'Carol Example');
      assert.equal(carol.email, 'carol@example.com');
      assert.deepEqual(carol.claims, {
        given_name: 'Carol',
        family_name: 'Example',
        email_verified: true,
        phone_number_verified: false,
        phone_number: '+1 555 0100',
        address: { street_address: '1 Main Street', locality: 'Springfield', country: 'US' },
        updated_at: 1000,
      });

      await applyFixtures(store, fixtures, 2_000_000);
      assert.deepEqual(await store.users.getByUsername('carol'), carol, 'unchanged claims keep updated_at');
      const renamed = { ...fixtures, users: fixtures.users.map((user) => ({ ...user, family_name: 'Changed' })) };
      await applyFixtures(store, renamed, 3_000_000);
      const changed = await store.users.getByUsername('carol');
      assert.equal(changed?.claims['family_name'], 'Changed');
      assert.equal(changed?.claims['updated_at'], 3000);
    } finally {
      await store.close();
    }
  });

  test('invalid claim values name the key path', async () => {
    const user = 'users:\n  - username: a\n    password: b\n';
    await assertConfigError(`${user}    email_verified: "yes"\n`, 'users[0].email_verified', /true or false/);
    await assertConfigError(`${user}    phone_number: call me\n`, 'users[0].phone_number', /telephone number/);
    await assertConfigError(`${user}    given_name: ""\n`, 'users[0].given_name', /non-empty/);
    await assertConfigError(`${user}    address: {planet: Mars}\n`, 'users[0].address.planet', /not an address field/);
    await assertConfigError(`${user}    address: Main Street\n`, 'users[0].address', /mapping/);
    await assertConfigError(`${user}    updated_at: 5\n`, 'users[0].updated_at', /not a known key/);
  });

  test('id_token_signed_response_alg must be ES256 or RS256 (never none)', async () => {
    for (const alg of ['none', 'HS256', 'EdDSA']) {
      await assertConfigError(
        `clients:\n  - client_id: c\n    client_secret: s\n    redirect_uris: [https://c.example/cb]\n    id_token_signed_response_alg: ${alg}\n`,
        'clients[0].id_token_signed_response_alg',
        /ES256 or RS256/,
      );
    }
    const { client } = await registerClient(
      { redirect_uris: ['https://c.example/cb'] },
      { generateSecret: true, now: 0 },
    );
    assert.equal(client.idTokenSignedResponseAlg, null, 'unset: the server signing algorithm');
  });
});

describe('OpenID Connect logout in the config file (RP-Initiated Logout 1.0 §3.1, Back-Channel Logout 1.0 §2.2)', () => {
  test('client logout metadata and the delivery settings are read, applied and stored', async () => {
    const path = await file(`
backchannel_logout_max_attempts: 12
backchannel_logout_max_age_seconds: 3600
backchannel_logout_backoff_initial_ms: 500
backchannel_logout_backoff_max_ms: 60000
backchannel_logout_timeout_ms: 2000
clients:
  - client_id: web
    client_secret: web-secret-please-change
    redirect_uris: [https://app.example.com/callback]
    post_logout_redirect_uris: [https://app.example.com/signed-out]
    backchannel_logout_uri: https://app.example.com/backchannel-logout
    backchannel_logout_session_required: true
`);
    const config = await loadConfigFile(path);
    assert.equal(config.backchannel_logout_max_attempts, 12);
    assert.equal(config.backchannel_logout_max_age_seconds, 3600);
    assert.equal(config.backchannel_logout_backoff_initial_ms, 500);
    assert.equal(config.backchannel_logout_backoff_max_ms, 60000);
    assert.equal(config.backchannel_logout_timeout_ms, 2000);
    const fixture = config.clients![0]!;
    assert.deepEqual(fixture.post_logout_redirect_uris, ['https://app.example.com/signed-out']);
    assert.equal(fixture.backchannel_logout_uri, 'https://app.example.com/backchannel-logout');
    assert.equal(fixture.backchannel_logout_session_required, true);

    const store = await openStore('sqlite::memory:');
    try {
      await store.migrate();
      await applyFixtures(store, { clients: config.clients!, users: [] }, 1_700_000_000_000);
      const client = await store.clients.get('web');
      assert.deepEqual(client?.postLogoutRedirectUris, ['https://app.example.com/signed-out']);
      assert.equal(client?.backchannelLogoutUri, 'https://app.example.com/backchannel-logout');
      assert.equal(client?.backchannelLogoutSessionRequired, true);
    } finally {
      await store.close();
    }
  });

  test('invalid logout metadata and settings name the key path', async () => {
    const client =
      'clients:\n  - client_id: web\n    client_secret: s3cret-s3cret\n    redirect_uris: [https://app.example.com/cb]\n';
    await assertConfigError(
      `${client}    post_logout_redirect_uris: [http://app.example.com/bye]\n`,
      'clients[0].post_logout_redirect_uris[0]',
      /loopback/,
    );
    await assertConfigError(
      `${client}    backchannel_logout_uri: http://app.example.com/logout\n`,
      'clients[0].backchannel_logout_uri',
      /https/,
    );
    await assertConfigError('backchannel_logout_max_attempts: 0\n', 'backchannel_logout_max_attempts', /between 1 and/);
    await assertConfigError(
      'backchannel_logout_backoff_initial_ms: fast\n',
      'backchannel_logout_backoff_initial_ms',
      /integer/,
    );
  });

  test('OWASP SSRF Prevention: outbound_allow_private_addresses and outbound_max_response_bytes; a private IP-literal backchannel_logout_uri is refused unless the file allows it', async () => {
    const client =
      'clients:\n  - client_id: web\n    client_secret: s3cret-s3cret\n    redirect_uris: [https://app.example.com/cb]\n';
    await assertConfigError(
      `${client}    backchannel_logout_uri: https://10.0.0.1:6379/\n`,
      'clients[0].backchannel_logout_uri',
      /is refused: address 10\.0\.0\.1 is private/,
    );
    await assertConfigError(
      `${client}    backchannel_logout_uri: http://127.1/\n`,
      'clients[0].backchannel_logout_uri',
      /address 127\.0\.0\.1 is loopback/,
    );
    await assertConfigError(
      'outbound_allow_private_addresses: yes-please\n',
      'outbound_allow_private_addresses',
      /true or false/,
    );
    await assertConfigError('outbound_max_response_bytes: 10\n', 'outbound_max_response_bytes', /between 1024 and/);
    const config = await loadConfigFile(
      await file(
        `outbound_allow_private_addresses: true\noutbound_max_response_bytes: 4096\n${client}    backchannel_logout_uri: https://10.0.0.1:6379/\n`,
      ),
    );
    assert.equal(config.outbound_allow_private_addresses, true);
    assert.equal(config.outbound_max_response_bytes, 4096);
    assert.equal(config.clients![0]!.backchannel_logout_uri, 'https://10.0.0.1:6379/');
  });
});

describe('brute-force limits in the config file (limits:)', () => {
  test('reads limits; each limit and each key may be left out', async () => {
    const config = await loadConfigFile(
      await file(
        'limits:\n  login_username:\n    free_attempts: 3\n    lock_after: 6\n  client_ip:\n    backoff_base_ms: 250\n    lock_seconds: 60\n',
      ),
    );
    assert.deepEqual(config.limits, {
      login_username: { free_attempts: 3, lock_after: 6 },
      client_ip: { backoff_base_ms: 250, lock_seconds: 60 },
    });
  });

  test('errors name the key path', async () => {
    await assertConfigError(
      'limits:\n  login:\n    lock_after: 3\n',
      'limits.login',
      /not a known key.*login_user_address, login_username, login_ip, login_device, client_id, client_ip/,
    );
    await assertConfigError('limits:\n  login_ip:\n    lock_after: 0\n', 'limits.login_ip.lock_after', /between 1 and/);
    await assertConfigError(
      'limits:\n  client_id:\n    lock_minutes: 3\n',
      'limits.client_id.lock_minutes',
      /not a known key.*lock_seconds/,
    );
    await assertConfigError('limits:\n  client_id: 5\n', 'limits.client_id', /must be a mapping/);
    await assertConfigError(
      'limits:\n  login_username:\n    backoff_base_ms: -1\n',
      'limits.login_username.backoff_base_ms',
      /between 0 and/,
    );
  });
});

describe('applyFixtures: change events for the audit trail', () => {
  test('client.created and user.created once, client.updated and user.updated on a change, nothing when unchanged', async () => {
    const { EventBus } = await import('../../src/core/events.js');
    const config = await loadConfigFile(await file(FULL_YAML));
    const store = await openStore('sqlite::memory:');
    const events = new EventBus();
    const seen: string[] = [];
    events.onAny((event) => {
      if (event.type.startsWith('client.') || event.type.startsWith('user.')) {
        seen.push(
          `${event.type} ${'clientId' in event ? event.clientId : 'username' in event ? event.username : ''} ${'source' in event ? event.source : ''}`,
        );
      }
    });
    try {
      await store.migrate();
      const fixtures = { clients: config.clients ?? [], users: config.users ?? [] };
      await applyFixtures(store, fixtures, 1000, events);
      assert.deepEqual(seen.sort(), [
        'client.created native config',
        'client.created service config',
        'client.created web config',
        'user.created alice config',
        'user.created bob config',
      ]);
      seen.length = 0;
      await applyFixtures(store, fixtures, 2000, events);
      assert.deepEqual(seen, [], 're-applying unchanged fixtures is silent');
      const changed = {
        clients: fixtures.clients.map((client) =>
          client.client_id === 'web' ? { ...client, client_name: 'Renamed' } : client,
        ),
        users: fixtures.users.map((user) => (user.username === 'bob' ? { ...user, password: 'a-new-password' } : user)),
      };
      await applyFixtures(store, changed, 3000, events);
      assert.deepEqual(seen.sort(), ['client.updated web config', 'user.updated bob config']);
    } finally {
      await store.close();
    }
  });
});

describe('config file schema (src/config/settings-schema.ts)', () => {
  test('an unknown or mistyped key names its path and its YAML line and column', async () => {
    await assertConfigError(
      'issuer: https://a.example\n\nprot: 80\n',
      'prot',
      /: prot is not a known key .*\(line 3, column 1\)$/,
    );
    await assertConfigError(
      'limits:\n  login_ip:\n    lock_after: 3\n    lock_minutes: 1\n',
      'limits.login_ip.lock_minutes',
      /not a known key.*lock_seconds.*\(line 4, column 5\)$/,
    );
    await assertConfigError(
      'limits:\n  login_ip:\n\n    lock_after: 0\n',
      'limits.login_ip.lock_after',
      /between 1 and.* \(line 4, column 5\)$/,
    );
    await assertConfigError(
      'clients:\n  - client_id: a\n    token_endpoint_auth_method: none\n    redirect_uris:\n      - https://a.example/cb\n      - http://evil.example/cb\n',
      'clients[0].redirect_uris[1]',
      /\(line 6, column 9\)/,
    );
    await assertConfigError(
      'code_ttl_seconds: "60"\n',
      'code_ttl_seconds',
      /must be an integer.* \(line 1, column 1\)$/,
    );
  });

  test('JSON config files name the path, line and column', async () => {
    await assertConfigError(
      '{"limits": {\n  "login_ip": {"lock_minutes": 1}}}',
      'limits.login_ip.lock_minutes',
      /^Invalid config file [^(]*: limits\.login_ip\.lock_minutes is not a known key.*\(line 2, column 16\)$/,
      '.json',
    );
  });

  test('an unknown key gets "did you mean" the known key it most likely meant', async () => {
    await assertConfigError(
      'acess_token_ttl_seconds: 60\n',
      'acess_token_ttl_seconds',
      /did you mean access_token_ttl_seconds\?/,
    );
    await assertConfigError(
      'clients:\n  - client_id: a\n    token_endpoint_auth_method: none\n    redirect_uri: [https://a.example/cb]\n',
      'clients[0].redirect_uri',
      /did you mean redirect_uris\?/,
    );
    const path = await file('zzzz: 1\n', '.yaml');
    await assert.rejects(loadConfigFile(path), (error: Error) => !/did you mean/.test(error.message));
  });

  test('every problem of a file is reported at once, each with its key path, line and column', async () => {
    const path = await file(
      [
        'issuer: https://a.example',
        'code_ttl_seconds: "60"', // a type error
        'prot: 80', // an unknown key
        'limits:',
        '  login_ip: {lock_after: 0}', // out of range
        'users:',
        '  - {username: alice}', // a missing field
        '  - {username: bob, password: x, emial: b@example.com}', // an unknown key in a list entry
      ].join('\n'),
      '.yaml',
    );
    await assert.rejects(loadConfigFile(path), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const [head, ...problems] = error.message.split('\n');
      assert.equal(head, `Invalid config file ${path}: 5 problems`);
      assert.deepEqual(
        problems.map((line) => /^ {2}- (\S+) .*\(line (\d+), column (\d+)\)$/.exec(line)?.slice(1)),
        [
          ['code_ttl_seconds', '2', '1'],
          ['prot', '3', '1'],
          ['limits.login_ip.lock_after', '5', '14'],
          ['users[0].password', '7', '5'],
          ['users[1].emial', '8', '34'],
        ],
        error.message,
      );
      assert.equal(error.keyPath, 'prot', 'the key path of the problem found first (unknown keys are checked first)');
      return true;
    });
  });
});
