/**
 * `gatehouse doctor`: each configuration check (src/core/doctor/) with a configuration that
 * triggers it and one that does not.
 *
 * Run: node scripts/run-tests.mjs test/doctor
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GatehouseSettings } from '../../src/config/settings.js';
import { checkConfiguration, doctorExitCode, type Finding } from '../../src/core/doctor/run-doctor.js';
import { checkDatabase } from '../../src/core/doctor/database-checks.js';
import type { Client, SigningKeyRecord } from '../../src/store/store.js';
import { DAY, NOW, makeClient, makeSigningKey } from '../helpers/store-records.js';
import { proxiedIssuerSettings } from '../helpers/settings.js';

const HTTPS: GatehouseSettings = proxiedIssuerSettings({ trustProxy: '10.0.0.0/8' });
const FAPI_READY: Partial<Client> = {
  tokenEndpointAuthMethod: 'private_key_jwt',
  clientSecretHash: null,
  jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] },
  dpopBoundAccessTokens: true,
  requirePushedAuthorizationRequests: true,
  profile: 'fapi2',
};
const FRESH_KEY = makeSigningKey({ createdAt: NOW - DAY, activatesAt: NOW - DAY, retiredAt: null });

function run(
  settings: Partial<GatehouseSettings> = {},
  clients: Client[] = [],
  keys: SigningKeyRecord[] = [FRESH_KEY],
): Finding[] {
  return checkConfiguration({ settings: { ...HTTPS, ...settings }, clients, signingKeys: keys, now: NOW });
}

/** The findings of `check` at `severity` (message included, for failure output). */
function found(findings: Finding[], severity: Finding['severity'], check: string): Finding[] {
  return findings.filter((item) => item.severity === severity && item.check === check);
}

function assertFound(findings: Finding[], severity: Finding['severity'], check: string, message?: RegExp): Finding {
  const [first] = found(findings, severity, check);
  assert.ok(first, `expected ${severity} ${check} in ${JSON.stringify(findings, null, 1)}`);
  if (message) assert.match(first.message, message);
  assert.ok(first.clause.length > 0);
  return first;
}

function assertNotFound(findings: Finding[], severity: Finding['severity'], check: string): void {
  assert.deepEqual(found(findings, severity, check), []);
}

describe('gatehouse doctor: issuer and TLS', () => {
  test('OAuth 2.1 §1.5: an http issuer on a non-loopback host is an error, with the https line as fix; https is not', () => {
    const error = assertFound(run({ issuer: 'http://auth.example.com' }), 'error', 'issuer.tls');
    assert.equal(error.fix, 'issuer: https://auth.example.com');
    assertNotFound(run(), 'error', 'issuer.tls');
    assertFound(run({ issuer: 'http://127.0.0.1:8080' }), 'info', 'issuer.tls', /loopback/);
  });

  test('RFC 9700 §4.13: an https issuer served as plain http without a trusted proxy is a warning', () => {
    assertFound(run({ trustProxy: false, tls: null }), 'warning', 'issuer.proxy', /X-Forwarded-Proto/);
    assertNotFound(run(), 'warning', 'issuer.proxy');
  });

  test('RFC 7239 §8.1: trust_proxy: true (any client) is a warning; a proxy address is not', () => {
    assertFound(run({ trustProxy: true }), 'warning', 'issuer.trust_proxy');
    assertNotFound(run(), 'warning', 'issuer.trust_proxy');
  });
});

describe('gatehouse doctor: redirect URIs, PKCE and secrets', () => {
  const uris = (...redirectUris: string[]) => run({}, [makeClient({ clientId: 'web', redirectUris })]);

  test('RFC 9700 §2.1: an http redirect URI on a non-loopback host is an error', () => {
    assertFound(uris('http://app.example.com/cb'), 'error', 'clients.redirect_uri', /plain http/);
    assertNotFound(uris('https://app.example.com/cb', 'http://127.0.0.1/cb'), 'error', 'clients.redirect_uri');
  });

  test('RFC 8252 §8.3: localhost in a redirect URI is a warning whose fix uses 127.0.0.1', () => {
    const warning = assertFound(uris('http://localhost:3000/cb'), 'warning', 'clients.redirect_uri', /RFC 8252 §8\.3/);
    assert.match(warning.fix, /http:\/\/127\.0\.0\.1:3000\/cb/);
    assertNotFound(uris('http://127.0.0.1:3000/cb'), 'warning', 'clients.redirect_uri');
  });

  test('RFC 9700 §4.11 / §4.1.3: a forwarding query parameter is a warning, a "*" an error', () => {
    assertFound(
      uris('https://app.example.com/cb?next=https://x'),
      'warning',
      'clients.redirect_uri',
      /open redirector/,
    );
    assertFound(uris('https://*.example.com/cb'), 'error', 'clients.redirect_uri', /exactly/);
    assertNotFound(uris('https://app.example.com/cb?tenant=1'), 'warning', 'clients.redirect_uri');
  });

  test('RFC 9700 §2.1.1: a client that opted out of PKCE is a warning', () => {
    assertFound(run({}, [makeClient({ requirePkce: false })]), 'warning', 'clients.pkce');
    assertNotFound(run({}, [makeClient({ requirePkce: true })]), 'warning', 'clients.pkce');
  });

  test('RFC 6749 §10.10 / RFC 9700 §2.5: a hand-chosen secret is noted, a secret older than a year is a warning', () => {
    const handChosen = makeClient({ clientSecretHash: '$argon2id$v=19$m=19456,t=2,p=1$abc$def' });
    assertFound(run({}, [handChosen]), 'info', 'clients.secret', /chosen by hand/);
    const generated = makeClient({ clientSecretHash: 'sha256$abc' });
    assertNotFound(run({}, [generated]), 'info', 'clients.secret');
    assertFound(run({}, [makeClient({ createdAt: NOW - 400 * DAY })]), 'warning', 'clients.secret_age', /400 days/);
    assertNotFound(run({}, [makeClient({ createdAt: NOW - 30 * DAY })]), 'warning', 'clients.secret_age');
    assertFound(run({}, [makeClient({ clientSecretHash: null })]), 'error', 'clients.secret', /no secret/);
  });
});

describe('gatehouse doctor: token lifetimes and rotation', () => {
  test('RFC 6819 §5.1.5.3: access tokens living over an hour are a warning', () => {
    assertFound(run({ accessTokenTtlSeconds: 86_400 }), 'warning', 'tokens.access_token_ttl');
    assertNotFound(run({ accessTokenTtlSeconds: 600 }), 'warning', 'tokens.access_token_ttl');
  });

  test('RFC 9700 §4.14.2: a refresh retry window over 60 s is a warning; the idle limit above the absolute one too', () => {
    assertFound(run({ refreshTokenGraceSeconds: 300 }), 'warning', 'tokens.refresh_rotation');
    assertNotFound(run({ refreshTokenGraceSeconds: 10 }), 'warning', 'tokens.refresh_rotation');
    assertFound(
      run({ refreshTokenIdleTtlSeconds: 100 * 86_400, refreshTokenAbsoluteTtlSeconds: 90 * 86_400 }),
      'warning',
      'tokens.refresh_ttl',
    );
    assertNotFound(run(), 'warning', 'tokens.refresh_ttl');
  });

  test('RFC 6749 §4.1.2: a code lifetime over 60 s is noted', () => {
    assertFound(run({ codeTtlSeconds: 300 }), 'info', 'tokens.code_ttl');
    assertNotFound(run({ codeTtlSeconds: 60 }), 'info', 'tokens.code_ttl');
  });
});

describe('gatehouse doctor: signing keys', () => {
  test('OpenID Connect Core §10.1.1: an active key older than 180 days is a warning with keys rotate as fix', () => {
    const old = makeSigningKey({
      alg: 'ES256',
      createdAt: NOW - 200 * DAY,
      activatesAt: NOW - 200 * DAY,
      retiredAt: null,
    });
    const warning = assertFound(run({}, [], [old]), 'warning', 'keys.age');
    assert.equal(warning.fix, 'gatehouse keys rotate --alg ES256');
    assertNotFound(run({}, [], [old, { ...FRESH_KEY, alg: 'ES256' }]), 'warning', 'keys.age');
  });

  test('RFC 8725 §3.2: RS256 as the ID token default is noted, ES256 is not', () => {
    assertFound(run({ idTokenSignedResponseAlgDefault: 'RS256' }), 'info', 'keys.algorithm');
    assertNotFound(run({ idTokenSignedResponseAlgDefault: 'ES256' }), 'info', 'keys.algorithm');
  });
});

describe('gatehouse doctor: the FAPI 2.0 Security Profile', () => {
  test('FAPI 2.0 §5.3.2.1: a fapi2 client breaking a rule is an error naming the rule; one meeting them all is not', () => {
    const broken = run({}, [makeClient({ ...FAPI_READY, jwks: null, tokenEndpointAuthMethod: 'client_secret_basic' })]);
    const error = assertFound(broken, 'error', 'profile.fapi2.private-key-jwt');
    assert.equal(error.clause, 'FAPI 2.0 §5.3.2.1');
    assert.match(error.fix, /token_endpoint_auth_method: private_key_jwt/);
    assert.equal(doctorExitCode(broken), 1);
    const meets = run({}, [makeClient(FAPI_READY)]);
    assert.deepEqual(
      meets.filter((item) => item.check.startsWith('profile')).map((item) => item.severity),
      ['info'],
    );
  });

  test('FAPI 2.0 §5.3.2.1: under profile: fapi2 every client is held to it (errors); otherwise only noted', () => {
    const secretClient = makeClient({ clientId: 'legacy' });
    assertFound(run({ profile: 'fapi2' }, [secretClient]), 'error', 'profile.fapi2.private-key-jwt');
    assertFound(run({}, [secretClient]), 'info', 'profile.fapi2', /would break FAPI 2\.0 rules: private-key-jwt/);
    assertNotFound(run({}, [secretClient]), 'error', 'profile.fapi2.private-key-jwt');
  });

  test('FAPI 2.0 §5.3.2.1: a zero refresh retry window breaks refresh-rotation-retry for a fapi2 client', () => {
    assertFound(
      run({ refreshTokenGraceSeconds: 0 }, [makeClient(FAPI_READY)]),
      'error',
      'profile.fapi2.refresh-rotation-retry',
    );
    assertNotFound(
      run({ refreshTokenGraceSeconds: 5 }, [makeClient(FAPI_READY)]),
      'error',
      'profile.fapi2.refresh-rotation-retry',
    );
  });
});

describe('gatehouse doctor: database clock and durability (reported values)', () => {
  const sqlite = { dialect: 'sqlite' as const, durability: { journal_mode: 'wal', synchronous: 'normal' } };
  const postgres = { dialect: 'postgres' as const, durability: { fsync: 'on', synchronous_commit: 'on' } };

  test('RFC 9449 §11.1: a database clock 45 s off is an error, 5 s a warning, 1 s nothing', () => {
    assertFound(checkDatabase({ ...sqlite, now: NOW + 45_000 }, NOW), 'error', 'database.clock');
    assertFound(checkDatabase({ ...sqlite, now: NOW - 5_000 }, NOW), 'warning', 'database.clock');
    assert.deepEqual(
      checkDatabase({ ...sqlite, now: NOW + 1_000 }, NOW).filter((item) => item.check === 'database.clock'),
      [],
    );
  });

  test('SQLite: in memory or synchronous=OFF is an error, WAL + NORMAL is durable', () => {
    assertFound(
      checkDatabase({ ...sqlite, now: NOW, durability: { journal_mode: 'memory', synchronous: 'off' } }, NOW),
      'error',
      'database.durability',
      /in memory/,
    );
    assertFound(
      checkDatabase({ ...sqlite, now: NOW, durability: { journal_mode: 'wal', synchronous: 'off' } }, NOW),
      'error',
      'database.durability',
      /synchronous=OFF/,
    );
    assertNotFound(checkDatabase({ ...sqlite, now: NOW }, NOW), 'error', 'database.durability');
  });

  test('PostgreSQL: fsync=off is an error, synchronous_commit=off a warning, both on neither', () => {
    assertFound(
      checkDatabase({ ...postgres, now: NOW, durability: { fsync: 'off', synchronous_commit: 'on' } }, NOW),
      'error',
      'database.durability',
    );
    assertFound(
      checkDatabase({ ...postgres, now: NOW, durability: { fsync: 'on', synchronous_commit: 'off' } }, NOW),
      'warning',
      'database.durability',
    );
    const healthy = checkDatabase({ ...postgres, now: NOW }, NOW);
    assertNotFound(healthy, 'error', 'database.durability');
    assertNotFound(healthy, 'warning', 'database.durability');
  });
});
