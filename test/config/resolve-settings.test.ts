import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ResolveSettingsInput } from '../../src/config/resolve-settings.js';
import { DEFAULT_SETTINGS } from '../../src/config/settings.js';
import { Value } from '@sinclair/typebox/value';
import { SETTINGS } from '../../src/config/settings-schema.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { assertConfigError, resolveSettingsIn } from '../helpers/settings.js';

const SECRET = 'x'.repeat(32);
let root: string;
let counter = 0;

useTempDir('gatehouse-settings-', (created) => (root = created));

/** A fresh, empty working directory. */
async function freshDir(): Promise<string> {
  const dir = join(root, `cwd-${counter++}`);
  await mkdir(dir);
  return dir;
}

async function resolveWith(overrides: Partial<ResolveSettingsInput> & { logs?: string[] }) {
  return resolveSettingsIn({ cwd: overrides.cwd ?? (await freshDir()), secret: SECRET }, overrides);
}

/** Settings resolved with `--config gatehouse.yaml`, that file holding `yaml`, in a fresh working directory. */
async function resolveFromConfigFile(yaml: string) {
  const cwd = await freshDir();
  await writeFile(join(cwd, 'gatehouse.yaml'), yaml);
  return { cwd, settings: await resolveWith({ cwd, flags: { config: 'gatehouse.yaml' } }) };
}

describe('resolveSettings: precedence flags > env > config file > defaults', () => {
  test('defaults', async () => {
    const cwd = await freshDir();
    const settings = await resolveWith({ cwd });
    assert.equal(settings.port, DEFAULT_SETTINGS.port);
    assert.equal(settings.host, DEFAULT_SETTINGS.host);
    assert.equal(settings.issuer, `http://localhost:${DEFAULT_SETTINGS.port}`);
    assert.equal(settings.databaseUrl, `sqlite:${join(cwd, 'gatehouse.db')}`);
    assert.equal(settings.secret, SECRET);
    assert.equal(settings.signingAlg, 'ES256');
    assert.equal(settings.codeTtlSeconds, 60);
    assert.equal(settings.accessTokenTtlSeconds, 3600);
    assert.equal(settings.sessionTtlSeconds, 8 * 3600);
    assert.equal(settings.interactionTtlSeconds, 600);
    assert.deepEqual(settings.clients, []);
    assert.deepEqual(settings.users, []);
    // Every other default is taken over as is (limits: a copy with the same values).
    for (const [key, value] of Object.entries(DEFAULT_SETTINGS)) {
      if (key !== 'databaseUrl') assert.deepStrictEqual(settings[key as keyof typeof settings], value, key);
    }
  });

  test('limits: config keys over the defaults, key by key', async () => {
    const { settings } = await resolveFromConfigFile(
      'limits:\n  login_username:\n    lock_after: 3\n  client_id:\n    lock_seconds: 60\n',
    );
    assert.deepEqual(settings.limits, {
      ...DEFAULT_SETTINGS.limits,
      loginUsername: { ...DEFAULT_SETTINGS.limits.loginUsername, lockAfter: 3 },
      clientId: { ...DEFAULT_SETTINGS.limits.clientId, lockSeconds: 60 },
    });
  });

  test('explain_errors: config file > default auto; GATEHOUSE_EXPLAIN_ERRORS over it; --explain-errors over both; a bad value is refused', async () => {
    const cwd = await freshDir();
    assert.equal((await resolveWith({ cwd })).explainErrors, 'auto');
    await writeFile(join(cwd, 'gatehouse.yaml'), 'explain_errors: never\n');
    assert.equal((await resolveWith({ cwd, flags: { config: 'gatehouse.yaml' } })).explainErrors, 'never');
    const env = { GATEHOUSE_SECRET: SECRET, GATEHOUSE_EXPLAIN_ERRORS: 'always' };
    assert.equal((await resolveWith({ cwd, env, flags: { config: 'gatehouse.yaml' } })).explainErrors, 'always');
    assert.equal(
      (await resolveWith({ cwd, env, flags: { config: 'gatehouse.yaml', explainErrors: 'auto' } })).explainErrors,
      'auto',
    );
    await assertConfigError(
      resolveWith({ cwd, env: { GATEHOUSE_SECRET: SECRET, GATEHOUSE_EXPLAIN_ERRORS: 'yes' } }),
      /GATEHOUSE_EXPLAIN_ERRORS.*auto, always, never/,
    );
    await writeFile(join(cwd, 'bad.yaml'), 'explain_errors: true\n');
    await assertConfigError(resolveWith({ cwd, flags: { config: 'bad.yaml' } }), /explain_errors.*auto, always, never/);
  });

  test('the default issuer follows the port', async () => {
    const settings = await resolveWith({ flags: { port: '9100' } });
    assert.equal(settings.issuer, 'http://localhost:9100');
  });

  test('config file > defaults; flags > env > config file', async () => {
    const cwd = await freshDir();
    await writeFile(
      join(cwd, 'gatehouse.yaml'),
      [
        'issuer: https://config.example.com',
        'port: 7000',
        'host: 0.0.0.0',
        'database: sqlite:data/config.db',
        'signing_alg: EdDSA',
        'code_ttl_seconds: 30',
        'access_token_ttl_seconds: 600',
        'session_ttl_seconds: 1200',
        'users: [{username: alice, password: pw}]',
      ].join('\n'),
    );

    const fromConfig = await resolveWith({ cwd, flags: { config: 'gatehouse.yaml' } });
    assert.equal(fromConfig.issuer, 'https://config.example.com');
    assert.equal(fromConfig.port, 7000);
    assert.equal(fromConfig.host, '0.0.0.0');
    // Relative paths in a config file are relative to the file.
    assert.equal(fromConfig.databaseUrl, `sqlite:${join(cwd, 'data', 'config.db')}`);
    assert.equal(fromConfig.signingAlg, 'EdDSA');
    assert.equal(fromConfig.codeTtlSeconds, 30);
    assert.equal(fromConfig.accessTokenTtlSeconds, 600);
    assert.equal(fromConfig.sessionTtlSeconds, 1200);
    assert.deepEqual(fromConfig.users, [{ username: 'alice', password: 'pw' }]);

    const env = {
      GATEHOUSE_SECRET: SECRET,
      GATEHOUSE_CONFIG: 'gatehouse.yaml',
      PORT: '7100',
      GATEHOUSE_ISSUER: 'https://env.example.com',
      GATEHOUSE_DATABASE_URL: 'postgres://env@db/gatehouse',
    };
    const fromEnv = await resolveWith({ cwd, env });
    assert.equal(fromEnv.port, 7100);
    assert.equal(fromEnv.issuer, 'https://env.example.com');
    assert.equal(fromEnv.databaseUrl, 'postgres://env@db/gatehouse');
    assert.equal(fromEnv.host, '0.0.0.0');
    assert.equal(fromEnv.signingAlg, 'EdDSA');

    const fromFlags = await resolveWith({
      cwd,
      env,
      flags: { port: '7200', host: '127.0.0.1', issuer: 'https://flag.example.com', database: 'sqlite:flag.db' },
    });
    assert.equal(fromFlags.port, 7200);
    assert.equal(fromFlags.host, '127.0.0.1');
    assert.equal(fromFlags.issuer, 'https://flag.example.com');
    assert.equal(fromFlags.databaseUrl, `sqlite:${join(cwd, 'flag.db')}`);
  });

  test('--config takes precedence over GATEHOUSE_CONFIG', async () => {
    const cwd = await freshDir();
    await writeFile(join(cwd, 'a.yaml'), 'port: 1111\n');
    await writeFile(join(cwd, 'b.json'), '{"port": 2222}');
    const settings = await resolveWith({
      cwd,
      flags: { config: 'b.json' },
      env: { GATEHOUSE_SECRET: SECRET, GATEHOUSE_CONFIG: 'a.yaml' },
    });
    assert.equal(settings.port, 2222);
  });

  test('an invalid config file is a ConfigError', async () => {
    const cwd = await freshDir();
    await writeFile(join(cwd, 'bad.yaml'), 'prot: 80\n');
    await assertConfigError(resolveWith({ cwd, flags: { config: 'bad.yaml' } }), /prot/);
    await assertConfigError(resolveWith({ cwd, flags: { config: 'missing.yaml' } }), /no such file/);
  });

  test('the port must be an integer from 0 to 65535', async () => {
    assert.equal((await resolveWith({ flags: { port: '0' } })).port, 0);
    await assertConfigError(resolveWith({ flags: { port: '65536' } }), /--port.*0 to 65535/);
    await assertConfigError(resolveWith({ flags: { port: 'http' } }), /--port/);
    await assertConfigError(resolveWith({ flags: { port: '80.5' } }), /--port/);
    await assertConfigError(resolveWith({ env: { GATEHOUSE_SECRET: SECRET, PORT: '-1' } }), /PORT/);
  });

  test('HTTP server limits, interaction_ip and max_live_interactions from the config file', async () => {
    const { cwd, settings } = await resolveFromConfigFile(
      'request_timeout_ms: 20000\nheaders_timeout_ms: 4000\nkeep_alive_timeout_ms: 2000\nconnection_timeout_ms: 30000\nmax_connections: 500\nmax_live_interactions: 5000\nlimits:\n  interaction_ip:\n    free_attempts: 50\n',
    );
    assert.deepEqual(
      [
        settings.requestTimeoutMs,
        settings.headersTimeoutMs,
        settings.keepAliveTimeoutMs,
        settings.connectionTimeoutMs,
        settings.maxConnections,
        settings.maxLiveInteractions,
      ],
      [20_000, 4000, 2000, 30_000, 500, 5000],
    );
    assert.deepEqual(settings.limits.interactionIp, { ...DEFAULT_SETTINGS.limits.interactionIp, freeAttempts: 50 });
    // A request timeout shorter than the default headers timeout brings the headers timeout down.
    await writeFile(join(cwd, 'short.yaml'), 'request_timeout_ms: 5000\n');
    assert.equal((await resolveWith({ cwd, flags: { config: 'short.yaml' } })).headersTimeoutMs, 5000);
    // Node refuses a headers timeout longer than the request timeout; so does Gatehouse, at start.
    await writeFile(join(cwd, 'bad.yaml'), 'request_timeout_ms: 5000\nheaders_timeout_ms: 6000\n');
    await assertConfigError(
      resolveWith({ cwd, flags: { config: 'bad.yaml' } }),
      /headers_timeout_ms \(6000\) must not be longer than request_timeout_ms \(5000\)/,
    );
    // 0 would switch a Node timeout off.
    await writeFile(join(cwd, 'zero.yaml'), 'request_timeout_ms: 0\n');
    await assertConfigError(
      resolveWith({ cwd, flags: { config: 'zero.yaml' } }),
      /request_timeout_ms must be between 100 and/,
    );
  });

  test('refuses an unknown database URL scheme', async () => {
    await assertConfigError(resolveWith({ flags: { database: 'mysql://db/x' } }), /database URL/);
  });

  test('keeps sqlite::memory: and absolute sqlite paths', async () => {
    assert.equal((await resolveWith({ flags: { database: 'sqlite::memory:' } })).databaseUrl, 'sqlite::memory:');
    assert.equal(
      (await resolveWith({ flags: { database: 'sqlite:/var/lib/g.db' } })).databaseUrl,
      'sqlite:/var/lib/g.db',
    );
  });
});

describe('resolveSettings: issuer (RFC 8414 §2)', () => {
  test('RFC 8414 §2: accepts https on any host and http on loopback hosts', async () => {
    for (const issuer of [
      'https://auth.example.com',
      'http://localhost:9001',
      'http://127.0.0.1:9001',
      'http://[::1]:9001',
      'https://example.com/tenant',
    ]) {
      assert.equal((await resolveWith({ flags: { issuer } })).issuer, issuer);
    }
  });

  test('RFC 8414 §2: refuses a non-https issuer on a non-loopback host', async () => {
    await assertConfigError(
      resolveWith({ flags: { issuer: 'http://example.com' } }),
      /^Gatehouse refuses to start: issuer http:\/\/example\.com is not https.*RFC 8414 §2/,
    );
    await assertConfigError(
      resolveWith({ env: { GATEHOUSE_SECRET: SECRET, GATEHOUSE_ISSUER: 'http://10.0.0.5:9001' } }),
      /is not https/,
    );
    await assertConfigError(resolveWith({ flags: { issuer: 'ftp://example.com' } }), /https/);
  });

  test('RFC 8414 §2: refuses an issuer with a query or fragment', async () => {
    await assertConfigError(
      resolveWith({ flags: { issuer: 'https://auth.example.com/?tenant=a' } }),
      /query or fragment/,
    );
    await assertConfigError(resolveWith({ flags: { issuer: 'https://auth.example.com/#x' } }), /query or fragment/);
  });

  test('RFC 8414 §2: refuses a relative issuer', async () => {
    await assertConfigError(resolveWith({ flags: { issuer: 'auth.example.com' } }), /absolute URL/);
    await assertConfigError(resolveWith({ flags: { issuer: '/issuer' } }), /absolute URL/);
  });

  test('strips a trailing slash', async () => {
    assert.equal(
      (await resolveWith({ flags: { issuer: 'https://auth.example.com/' } })).issuer,
      'https://auth.example.com',
    );
    assert.equal(
      (await resolveWith({ flags: { issuer: 'https://auth.example.com/t/' } })).issuer,
      'https://auth.example.com/t',
    );
  });

  test('an issuer from the config file is validated too', async () => {
    const cwd = await freshDir();
    await writeFile(join(cwd, 'g.yaml'), 'issuer: http://auth.example.com\n');
    await assertConfigError(resolveWith({ cwd, flags: { config: 'g.yaml' } }), /is not https.*g\.yaml/);
  });
});

describe('resolveSettings: secret', () => {
  test('GATEHOUSE_SECRET must have at least 32 characters', async () => {
    await assertConfigError(resolveWith({ env: { GATEHOUSE_SECRET: 'short' } }), /GATEHOUSE_SECRET.*at least 32/);
  });

  test('GATEHOUSE_SECRET is required for a non-loopback issuer', async () => {
    const cwd = await freshDir();
    await assertConfigError(
      resolveWith({ cwd, env: {}, flags: { issuer: 'https://auth.example.com' } }),
      /GATEHOUSE_SECRET is not set/,
    );
    await assert.rejects(stat(join(cwd, '.gatehouse-secret')), { code: 'ENOENT' });
  });

  test('in development, creates .gatehouse-secret with mode 0600, warns, and reuses it', async () => {
    const cwd = await freshDir();
    const logs: string[] = [];
    const first = await resolveWith({ cwd, env: {}, logs });
    const file = join(cwd, '.gatehouse-secret');
    const info = await stat(file);
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal(Buffer.from(first.secret, 'base64url').length, 32);
    assert.equal((await readFile(file, 'utf8')).trim(), first.secret);
    assert.equal(logs.length, 1);
    assert.match(logs[0] ?? '', /Set GATEHOUSE_SECRET in production/);

    const second = await resolveWith({ cwd, env: {}, logs });
    assert.equal(second.secret, first.secret);
    assert.match(logs[1] ?? '', /Set GATEHOUSE_SECRET in production/);
  });

  test('warns when the development secret file is readable by others', async () => {
    const cwd = await freshDir();
    await resolveWith({ cwd, env: {} });
    await chmod(join(cwd, '.gatehouse-secret'), 0o644);
    const logs: string[] = [];
    await resolveWith({ cwd, env: {}, logs });
    assert.ok(
      logs.some((line) => /chmod 600/.test(line)),
      logs.join('\n'),
    );
  });

  test('refuses a development secret file that is too short', async () => {
    const cwd = await freshDir();
    await writeFile(join(cwd, '.gatehouse-secret'), 'short\n', { mode: 0o600 });
    await assertConfigError(resolveWith({ cwd, env: {} }), /fewer than 32/);
  });

  test('GATEHOUSE_SECRET wins over the development file and creates none', async () => {
    const cwd = await freshDir();
    const logs: string[] = [];
    const settings = await resolveWith({ cwd, logs });
    assert.equal(settings.secret, SECRET);
    assert.deepEqual(logs, []);
    await assert.rejects(stat(join(cwd, '.gatehouse-secret')), { code: 'ENOENT' });
  });

  test('with requireSecret false, a missing secret is no error and no file is created', async () => {
    const cwd = await freshDir();
    const settings = await resolveWith({
      cwd,
      env: {},
      requireSecret: false,
      flags: { issuer: 'https://auth.example.com' },
    });
    assert.equal(settings.secret, '');
    await assert.rejects(stat(join(cwd, '.gatehouse-secret')), { code: 'ENOENT' });
  });
});

describe('ID token and audit settings', () => {
  test('OpenID Connect Dynamic Client Registration §2: RS256 ID tokens, claims in the ID token and 90 days of audit trail by default; the config file changes each', async () => {
    const defaults = await resolveWith({});
    assert.equal(defaults.idTokenSignedResponseAlgDefault, 'RS256');
    assert.equal(defaults.idTokenClaimsDefault, true);
    assert.equal(defaults.auditRetentionDays, 90);
    const cwd = await freshDir();
    await writeFile(
      join(cwd, 'gatehouse.yaml'),
      'id_token_signed_response_alg_default: ES256\nid_token_claims_default: false\naudit_retention_days: 30\n',
    );
    const configured = await resolveWith({ cwd, flags: { config: join(cwd, 'gatehouse.yaml') } });
    assert.equal(configured.idTokenSignedResponseAlgDefault, 'ES256');
    assert.equal(configured.idTokenClaimsDefault, false);
    assert.equal(configured.auditRetentionDays, 30);
  });
});

describe('settings schema (src/config/settings-schema.ts)', () => {
  test('DEFAULT_SETTINGS, derived from the schema, keeps the values it had when it was written by hand', () => {
    assert.deepStrictEqual(
      { ...DEFAULT_SETTINGS },
      {
        port: 9001,
        host: 'localhost',
        databaseUrl: 'sqlite:./gatehouse.db',
        signingAlg: 'ES256',
        idTokenSignedResponseAlgDefault: 'RS256',
        idTokenClaimsDefault: true,
        codeTtlSeconds: 60,
        accessTokenTtlSeconds: 3600,
        sessionTtlSeconds: 8 * 3600,
        deviceCookieTtlSeconds: 180 * 86400,
        interactionTtlSeconds: 600,
        deviceCodeTtlSeconds: 600,
        deviceCodeIntervalSeconds: 5,
        parRequestUriTtlSeconds: 60,
        requirePushedAuthorizationRequests: false,
        requireSignedRequestObject: false,
        requestObjectMaxLifetimeSeconds: 300,
        profile: 'oauth2.1',
        refreshTokenIdleTtlSeconds: 14 * 24 * 3600,
        refreshTokenAbsoluteTtlSeconds: 90 * 24 * 3600,
        refreshTokenGraceSeconds: 10,
        keyActivationDelaySeconds: 600,
        backchannelLogoutMaxAttempts: 300,
        backchannelLogoutMaxAgeSeconds: 24 * 3600,
        backchannelLogoutBackoffInitialMs: 1000,
        backchannelLogoutBackoffMaxMs: 5 * 60 * 1000,
        backchannelLogoutTimeoutMs: 5000,
        outboundAllowPrivateAddresses: false,
        outboundMaxResponseBytes: 64 * 1024,
        clientMetadataDocuments: {
          enabled: false,
          allowPrivateAddresses: false,
          minCacheSeconds: 60,
          maxCacheSeconds: 24 * 3600,
          maxResponseBytes: 5 * 1024,
          connectTimeoutMs: 2000,
          timeoutMs: 5000,
        },
        dpopProofMaxAgeSeconds: 60,
        dpopNonceRequired: false,
        clientCacheTtlSeconds: 5,
        cleanupIntervalSeconds: 60,
        clientAssertionMaxLifetimeSeconds: 300,
        cleanupBatchSize: 500,
        auditRetentionDays: 90,
        inspector: { enabled: false, allowRemote: false, maxFlows: 500, retentionMinutes: 60 },
        tls: null,
        trustProxy: false,
        allowHttpIssuer: false,
        explainErrors: 'auto',
        limits: {
          loginUserAddress: { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 10, lockSeconds: 900 },
          loginUsername: { freeAttempts: 50, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 60 },
          loginIp: { freeAttempts: 20, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 900 },
          loginDevice: { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 10, lockSeconds: 900 },
          clientId: { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 20, lockSeconds: 300 },
          clientIp: { freeAttempts: 20, backoffBaseMs: 1000, lockAfter: 100, lockSeconds: 300 },
          interactionIp: { freeAttempts: 300, backoffBaseMs: 1000, lockAfter: 400, lockSeconds: 600 },
          userCodeIp: { freeAttempts: 5, backoffBaseMs: 1000, lockAfter: 20, lockSeconds: 900 },
          userCodeGlobal: { freeAttempts: 1000, backoffBaseMs: 100, lockAfter: 1_000_000, lockSeconds: 60 },
          registrationIp: { freeAttempts: 10, backoffBaseMs: 60_000, lockAfter: 50, lockSeconds: 86_400 },
        },
        registration: {
          mode: 'off',
          allowedScopes: ['openid', 'profile', 'email', 'offline_access'],
          allowedResources: [],
          maxRedirectUris: 5,
          abandonedAfterSeconds: 2_592_000,
        },
        admin: { enabled: true },
        maxLiveInteractions: 100_000,
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        keepAliveTimeoutMs: 5_000,
        connectionTimeoutMs: 60_000,
        maxConnections: 10_000,
      },
    );
  });

  test('every default satisfies its own schema (TypeBox Value.Check)', () => {
    for (const { key, meta, schema } of SETTINGS) {
      if (meta.default !== undefined)
        assert.ok(Value.Check(schema, meta.default), `${key}: default ${String(meta.default)}`);
    }
  });

  test('a setting of the schema with a variable is resolved from it, and its flag wins over it', async () => {
    const cwd = await freshDir();
    const flagged = SETTINGS.filter(
      ({ meta }) => meta.env !== undefined && meta.flag !== undefined && meta.flagHelp !== undefined && !meta.special,
    );
    assert.ok(flagged.length >= 4);
    const settings = await resolveWith({
      cwd,
      env: { GATEHOUSE_SECRET: SECRET, PORT: '9100', GATEHOUSE_EXPLAIN_ERRORS: 'never', GATEHOUSE_TRUST_PROXY: '2' },
      flags: { port: '9200' },
    });
    assert.equal(settings.port, 9200);
    assert.equal(settings.explainErrors, 'never');
    assert.equal(settings.trustProxy, 2);
  });
});
