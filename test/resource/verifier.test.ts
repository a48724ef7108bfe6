/**
 * The resource-server module (`gatehouse-resource`) against a tiny fake authorization server:
 * RFC 6750 (bearer usage), RFC 9068 (JWT access tokens), RFC 7662 (introspection), RFC 9728 (resource metadata).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import {
  AuthorizationServerUnavailableError,
  createVerifier,
  protect,
  protectExpress,
  protectFastify,
  registerProtectedResourceMetadata,
} from '../../src/resource/resource.js';
import type { AccessTokenClaims, ResourceVerifier, VerifierOptions } from '../../src/resource/resource.js';
import { bearerError } from '../helpers/bearer-error.js';

const RESOURCE = 'https://api.example.com';
const OTHER_RESOURCE = 'https://other.example.com';
const METADATA_URL = 'https://api.example.com/.well-known/oauth-protected-resource';
const RS_CLIENT = { clientId: 'resource-server', clientSecret: 's3cret:with spaces' };

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(kid: string, alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A fake Gatehouse: metadata, JWKS and introspection, counting requests. */
class FakeAuthorizationServer {
  issuer = '';
  keys: SigningKey[] = [];
  jwksRequests = 0;
  introspectionRequests = 0;
  /** token → RFC 7662 answer (anything else is `{active:false}`). */
  answers = new Map<string, Record<string, unknown>>();
  lastIntrospectionAuth: string | undefined;
  serveMetadata = true;
  private server: Server | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === '/.well-known/oauth-authorization-server') {
      if (!this.serveMetadata) return json(404, { error: 'not_found' });
      return json(200, {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}/jwks`,
        introspection_endpoint: `${this.issuer}/introspect`,
      });
    }
    if (req.method === 'GET' && req.url === '/jwks') {
      this.jwksRequests += 1;
      return json(200, { keys: this.keys.map((key) => key.publicJwk) });
    }
    if (req.method === 'POST' && req.url === '/introspect') {
      this.introspectionRequests += 1;
      this.lastIntrospectionAuth = req.headers.authorization;
      const expected = `Basic ${Buffer.from('resource-server:s3cret%3Awith+spaces').toString('base64')}`;
      if (req.headers.authorization !== expected) return json(401, { error: 'invalid_client' });
      let body = '';
      for await (const chunk of req) body += chunk;
      const token = new URLSearchParams(body).get('token') ?? '';
      return json(200, this.answers.get(token) ?? { active: false });
    }
    json(404, { error: 'not_found' });
  }
}

const as = new FakeAuthorizationServer();
let key1: SigningKey;

before(async () => {
  await as.start();
  key1 = await newKey('k1');
  as.keys = [key1, await newKey('ed1', 'EdDSA')];
});
after(() => as.stop());

const nowSeconds = () => Math.floor(Date.now() / 1000);

interface MintOptions {
  key?: SigningKey;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
  omit?: string[];
}

async function mint(options: MintOptions = {}): Promise<string> {
  const key = options.key ?? key1;
  const iat = nowSeconds();
  const claims: Record<string, unknown> = {
    iss: as.issuer,
    sub: 'alice',
    aud: RESOURCE,
    client_id: 'app',
    scope: 'read write',
    jti: `jti-${Math.random()}`,
    iat,
    exp: iat + 300,
    ...options.claims,
  };
  for (const name of options.omit ?? []) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...options.header })
    .sign(key.privateKey);
}

function verifierFor(overrides: Partial<VerifierOptions> = {}): ResourceVerifier {
  return createVerifier({ issuer: as.issuer, audience: RESOURCE, ...overrides });
}

function bearerRequest(token: string, init: { scheme?: string; url?: string } = {}): Request {
  return new Request(init.url ?? 'https://api.example.com/things', {
    headers: { authorization: `${init.scheme ?? 'Bearer'} ${token}` },
  });
}

async function assertInvalidToken(promise: Promise<unknown>, description?: RegExp): Promise<void> {
  const error = await bearerError(promise);
  assert.equal(error.status, 401);
  assert.equal(error.error, 'invalid_token');
  assert.match(
    error.wwwAuthenticate,
    /^Bearer realm="https:\/\/api\.example\.com", error="invalid_token", error_description="[^"\\]+", resource_metadata="https:\/\/api\.example\.com\/\.well-known\/oauth-protected-resource"$/,
  );
  if (description) assert.match(error.description, description);
}

describe('JWT access tokens (RFC 9068 §4)', () => {
  const verifier = () => verifierFor();

  it('RFC 9068 §4: a valid at+jwt access token yields its claims', async () => {
    const token = await mint();
    const claims = await verifier().verify(bearerRequest(token), ['read']);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.client_id, 'app');
    assert.equal(claims.iss, as.issuer);
    assert.equal(claims.aud, RESOURCE);
    assert.equal(claims.scope, 'read write');
  });

  it('RFC 9068 §4: an EdDSA-signed token is accepted by default, and an audience array containing the resource', async () => {
    const token = await mint({ key: as.keys[1]!, claims: { aud: [OTHER_RESOURCE, RESOURCE] } });
    const claims = await verifier().verify(bearerRequest(token));
    assert.deepEqual(claims.aud, [OTHER_RESOURCE, RESOURCE]);
  });

  it('RFC 9068 §4: typ "application/at+jwt" is equivalent to "at+jwt"', async () => {
    const token = await mint({ header: { typ: 'application/at+jwt' } });
    assert.equal((await verifier().verify(bearerRequest(token))).sub, 'alice');
  });

  it('RFC 8725 §3.1 / RFC 9068 §4: an unsecured alg "none" token is invalid_token', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const iat = nowSeconds();
    const token = `${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${b64({
      iss: as.issuer,
      sub: 'alice',
      aud: RESOURCE,
      client_id: 'app',
      scope: 'read',
      jti: 'x',
      iat,
      exp: iat + 300,
    })}.`;
    await assertInvalidToken(verifier().verify(bearerRequest(token)), /algorithm/);
  });

  it('RFC 8725 §2.1: an HS256 token keyed with the public key bytes (algorithm confusion) is invalid_token', async () => {
    const pem = await exportSPKI((await importJWK(key1.publicJwk, 'ES256')) as CryptoKey);
    const iat = nowSeconds();
    for (const secret of [pem, JSON.stringify(key1.publicJwk)]) {
      const token = await new SignJWT({
        sub: 'alice',
        aud: RESOURCE,
        iss: as.issuer,
        client_id: 'app',
        jti: 'x',
        iat,
        exp: iat + 300,
      })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1', typ: 'at+jwt' })
        .sign(new TextEncoder().encode(secret));
      await assertInvalidToken(verifier().verify(bearerRequest(token)), /algorithm/);
    }
  });

  it('RFC 9068 §4: a token whose typ is not at+jwt (e.g. an ID token, typ JWT) is invalid_token', async () => {
    await assertInvalidToken(verifier().verify(bearerRequest(await mint({ header: { typ: 'JWT' } }))), /at\+jwt/);
    const noTyp = await new SignJWT({ iss: as.issuer, sub: 'alice', aud: RESOURCE, client_id: 'app', jti: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key1.privateKey);
    await assertInvalidToken(verifier().verify(bearerRequest(noTyp)), /at\+jwt/);
  });

  it('RFC 9068 §4 / RFC 7515 §5.2: a token signed by another key under the same kid is invalid_token', async () => {
    const impostor = await newKey('k1');
    await assertInvalidToken(verifier().verify(bearerRequest(await mint({ key: impostor }))), /signature/);
  });

  it('RFC 9068 §4 / RFC 7519 §4.1.4: an expired token is invalid_token (beyond the clock tolerance)', async () => {
    const token = await mint({ claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 60 } });
    await assertInvalidToken(verifier().verify(bearerRequest(token)), /expired/);
    // Within the 5 s default tolerance it is still accepted.
    const justExpired = await mint({ claims: { exp: nowSeconds() - 2 } });
    assert.equal((await verifier().verify(bearerRequest(justExpired))).sub, 'alice');
  });

  it('RFC 7519 §4.1.5: a token with nbf in the future is invalid_token', async () => {
    const token = await mint({ claims: { nbf: nowSeconds() + 120 } });
    await assertInvalidToken(verifier().verify(bearerRequest(token)), /not yet valid/);
  });

  it('RFC 9068 §4 / RFC 8707: a token for resource A is refused at resource B (aud)', async () => {
    const token = await mint({ claims: { aud: OTHER_RESOURCE } });
    await assertInvalidToken(verifier().verify(bearerRequest(token)), /not intended for this resource/);
    const atOther = createVerifier({ issuer: as.issuer, audience: OTHER_RESOURCE });
    assert.equal((await atOther.verify(bearerRequest(token))).aud, OTHER_RESOURCE);
  });

  it('RFC 9068 §4: a token from another issuer is invalid_token (iss)', async () => {
    const token = await mint({ claims: { iss: 'https://evil.example.com' } });
    await assertInvalidToken(verifier().verify(bearerRequest(token)), /issuer/);
  });

  it('RFC 9068 §2.2: a token missing exp or client_id is invalid_token', async () => {
    await assertInvalidToken(verifier().verify(bearerRequest(await mint({ omit: ['exp'] }))), /exp/);
    await assertInvalidToken(verifier().verify(bearerRequest(await mint({ omit: ['client_id'] }))), /client_id/);
  });

  it('RFC 7515: a garbage token is invalid_token', async () => {
    await assertInvalidToken(verifier().verify(bearerRequest('not.a.jwt')), /malformed/);
  });

  it('RFC 6750 §3.1: a token without a required scope → 403 insufficient_scope with scope="..."', async () => {
    const token = await mint({ claims: { scope: 'read' } });
    const error = await bearerError(verifier().verify(bearerRequest(token), ['read', 'admin']));
    assert.equal(error.status, 403);
    assert.equal(error.error, 'insufficient_scope');
    assert.equal(
      error.wwwAuthenticate,
      `Bearer realm="${RESOURCE}", error="insufficient_scope", error_description="the access token does not grant the required scope", ` +
        `scope="read admin", resource_metadata="${METADATA_URL}"`,
    );
    // A token without any scope claim grants nothing.
    const noScope = await mint({ omit: ['scope'] });
    assert.equal((await bearerError(verifier().verify(bearerRequest(noScope), ['read']))).status, 403);
    assert.equal((await verifier().verify(bearerRequest(noScope))).sub, 'alice');
  });

  it('RFC 8725 §3.1: configuring none or an HMAC algorithm is refused', () => {
    assert.throws(() => verifierFor({ algorithms: ['none'] }), TypeError);
    assert.throws(() => verifierFor({ algorithms: ['ES256', 'HS256'] }), TypeError);
  });

  it('RFC 8414 §3.3: metadata naming another issuer makes the AS unusable (503), not the token invalid', async () => {
    const verifier = createVerifier({ issuer: `${as.issuer}/`, audience: RESOURCE });
    await assert.rejects(verifier.verify(bearerRequest(await mint())), AuthorizationServerUnavailableError);
  });

  it('RFC 7517: an unreachable JWKS is AuthorizationServerUnavailableError (503), not invalid_token', async () => {
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: RESOURCE,
      fetch: async (input) => (String(input).endsWith('/jwks') ? new Response('down', { status: 502 }) : fetch(input)),
    });
    const error = await verifier.verify(bearerRequest(await mint())).catch((e: unknown) => e);
    assert.ok(error instanceof AuthorizationServerUnavailableError);
    assert.equal(error.status, 503);
  });
});

describe('JWKS rotation (RFC 7517, RFC 8414 jwks_uri)', () => {
  it('a token with a new kid after the AS rotates its JWKS is accepted (refetch on unknown kid)', async () => {
    const saved = as.keys;
    try {
      const verifier = verifierFor({ jwksCooldownSeconds: 0 });
      assert.equal((await verifier.verify(bearerRequest(await mint()))).sub, 'alice');
      const before = as.jwksRequests;
      const key2 = await newKey('k2');
      as.keys = [...saved, key2];
      assert.equal((await verifier.verify(bearerRequest(await mint({ key: key2 })))).sub, 'alice');
      assert.equal(as.jwksRequests, before + 1);
      // The old key still works from the refreshed set; no further fetch.
      assert.equal((await verifier.verify(bearerRequest(await mint()))).sub, 'alice');
      assert.equal(as.jwksRequests, before + 1);
    } finally {
      as.keys = saved;
    }
  });

  it('unknown kids do not refetch the JWKS again within the cooldown', async () => {
    const verifier = verifierFor(); // default 30 s cooldown
    assert.equal((await verifier.verify(bearerRequest(await mint()))).sub, 'alice');
    const before = as.jwksRequests;
    for (let i = 0; i < 5; i += 1) {
      const stranger = await newKey(`random-${i}`);
      await assertInvalidToken(verifier.verify(bearerRequest(await mint({ key: stranger }))), /no key/);
    }
    assert.equal(as.jwksRequests, before);
  });

  it('RFC 8414: without a metadata document, the JWKS is fetched from ${issuer}/jwks', async () => {
    as.serveMetadata = false;
    try {
      assert.equal((await verifierFor().verify(bearerRequest(await mint()))).sub, 'alice');
    } finally {
      as.serveMetadata = true;
    }
  });
});

describe('Token extraction and challenges (RFC 6750 §2, §3)', () => {
  const verifier = () => verifierFor();

  it('RFC 6750 §3 / RFC 9728 §5.1: no token → 401 with realm and resource_metadata, and no error code', async () => {
    const error = await bearerError(verifier().verify(new Request('https://api.example.com/things')));
    assert.equal(error.status, 401);
    assert.equal(error.error, undefined);
    assert.equal(error.wwwAuthenticate, `Bearer realm="https://api.example.com", resource_metadata="${METADATA_URL}"`);
    assert.deepEqual(error.toJSON(), { error_description: 'an access token is required' });
  });

  it('RFC 6750 §3: realm is a quoted-string with " and \\ escaped', async () => {
    const v = verifierFor({ realm: 'my "api" \\ v1', resourceMetadataUrl: 'https://x.example/meta' });
    const error = await bearerError(v.verify(new Request('https://api.example.com/')));
    assert.equal(
      error.wwwAuthenticate,
      'Bearer realm="my \\"api\\" \\\\ v1", resource_metadata="https://x.example/meta"',
    );
  });

  it('RFC 6750 §2.1 / RFC 9110 §11.1: the auth-scheme is case-insensitive ("bearer", "BEARER")', async () => {
    const token = await mint();
    assert.equal((await verifier().verify(bearerRequest(token, { scheme: 'bearer' }))).sub, 'alice');
    assert.equal((await verifier().verify(bearerRequest(token, { scheme: 'BEARER' }))).sub, 'alice');
  });

  it('RFC 6750 §2.1: another scheme (Basic) is not a bearer token → 401 without error code', async () => {
    const request = new Request('https://api.example.com/', { headers: { authorization: 'Basic YTpi' } });
    const error = await bearerError(verifier().verify(request));
    assert.equal(error.status, 401);
    assert.equal(error.error, undefined);
  });

  it('RFC 6750 §2.1: a credential that is not a b64token → 400 invalid_request', async () => {
    for (const value of ['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', 'Bearer "abc"', 'Bearer a=b']) {
      const error = await bearerError(
        verifier().verify(new Request('https://api.example.com/', { headers: { authorization: value } })),
      );
      assert.equal(error.status, 400, value);
      assert.equal(error.error, 'invalid_request', value);
      assert.match(error.wwwAuthenticate, /error="invalid_request"/);
    }
  });

  it('RFC 6750 §2.3 / RFC 9700 §2.4.2: an access_token in the URI query is ignored (→ 401 missing)', async () => {
    const token = await mint();
    const error = await bearerError(
      verifier().verify(new Request(`https://api.example.com/things?access_token=${token}`)),
    );
    assert.equal(error.status, 401);
    assert.equal(error.error, undefined);
  });

  it('RFC 6750 §2.2: a form-encoded POST body access_token is accepted (and not for GET-less content types)', async () => {
    const token = await mint();
    const form = new Request('https://api.example.com/things', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ access_token: token, other: 'x' }),
    });
    assert.equal((await verifier().verify(form)).sub, 'alice');
    assert.equal(form.bodyUsed, false, 'the body stays readable for the route');
    const json = new Request('https://api.example.com/things', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ access_token: token }),
    });
    assert.equal((await bearerError(verifier().verify(json))).status, 401);
  });

  it('RFC 6750 §3.1: a token in both the header and the body → 400 invalid_request', async () => {
    const token = await mint();
    const request = new Request('https://api.example.com/things', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: token }),
    });
    const error = await bearerError(verifier().verify(request));
    assert.equal(error.status, 400);
    assert.equal(error.error, 'invalid_request');
    assert.match(
      error.wwwAuthenticate,
      /^Bearer realm="https:\/\/api\.example\.com", error="invalid_request", error_description="[^"]+", resource_metadata=/,
    );
  });

  it('RFC 6750 §3.1: two access_token body parameters → 400 invalid_request', async () => {
    const request = new Request('https://api.example.com/things', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'access_token=a&access_token=b',
    });
    assert.equal((await bearerError(verifier().verify(request))).status, 400);
  });

  it('RFC 6749 §3.3: required scopes must be scope-tokens', async () => {
    await assert.rejects(verifier().verify(bearerRequest(await mint()), ['bad scope']), TypeError);
    assert.throws(() => protectFastify(verifier())(['a"b']), TypeError);
  });
});

describe('Introspection mode (RFC 7662)', () => {
  let now = Date.now();
  const clock = () => now;
  const introspecting = (cacheSeconds?: number) =>
    verifierFor({
      mode: 'introspection',
      clock,
      introspection: { ...RS_CLIENT, ...(cacheSeconds !== undefined ? { cacheSeconds } : {}) },
    });
  const activeAnswer = (overrides: Record<string, unknown> = {}) => ({
    active: true,
    scope: 'read write',
    client_id: 'app',
    sub: 'alice',
    iss: as.issuer,
    aud: RESOURCE,
    iat: Math.floor(now / 1000),
    exp: Math.floor(now / 1000) + 600,
    token_type: 'Bearer',
    ...overrides,
  });

  it('RFC 7662 §2.1/§2.2: an active token yields the claims; the RS authenticates with HTTP Basic (RFC 6749 §2.3.1)', async () => {
    now = Date.now();
    as.answers.set('opaque-active', activeAnswer());
    const claims = await introspecting().verify(bearerRequest('opaque-active'), ['read']);
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.client_id, 'app');
    assert.equal(claims['active'], undefined);
    assert.equal(
      as.lastIntrospectionAuth,
      `Basic ${Buffer.from('resource-server:s3cret%3Awith+spaces').toString('base64')}`,
    );
  });

  it('RFC 7662 §2.2: {"active":false} → 401 invalid_token', async () => {
    await assertInvalidToken(introspecting().verify(bearerRequest('opaque-unknown')), /not active/);
  });

  it('RFC 7662 §4: an active answer for another audience or issuer is treated as invalid_token', async () => {
    now = Date.now();
    as.answers.set('opaque-other-aud', activeAnswer({ aud: [OTHER_RESOURCE] }));
    as.answers.set('opaque-other-iss', activeAnswer({ iss: 'https://evil.example.com' }));
    as.answers.set('opaque-refresh', activeAnswer({ token_type: 'refresh_token' }));
    await assertInvalidToken(introspecting().verify(bearerRequest('opaque-other-aud')));
    await assertInvalidToken(introspecting().verify(bearerRequest('opaque-other-iss')));
    await assertInvalidToken(introspecting().verify(bearerRequest('opaque-refresh')));
  });

  it('RFC 7662 §4: results are cached for cacheSeconds, then revocation becomes visible', async () => {
    now = Date.now();
    as.answers.set('opaque-cached', activeAnswer());
    const verifier = introspecting(30);
    const before = as.introspectionRequests;
    await verifier.verify(bearerRequest('opaque-cached'));
    await verifier.verify(bearerRequest('opaque-cached'));
    await Promise.all([1, 2, 3].map(() => verifier.verify(bearerRequest('opaque-cached'))));
    assert.equal(as.introspectionRequests, before + 1, 'one introspection within the window');
    as.answers.set('opaque-cached', { active: false }); // revoked at the AS
    now += 29_000;
    assert.equal((await verifier.verify(bearerRequest('opaque-cached'))).sub, 'alice', 'still cached');
    now += 2_000;
    await assertInvalidToken(verifier.verify(bearerRequest('opaque-cached')), /not active/);
    assert.equal(as.introspectionRequests, before + 2);
  });

  it('RFC 7662 §4: concurrent first uses share one introspection request', async () => {
    now = Date.now();
    as.answers.set('opaque-concurrent', activeAnswer());
    const verifier = introspecting();
    const before = as.introspectionRequests;
    await Promise.all([1, 2, 3, 4].map(() => verifier.verify(bearerRequest('opaque-concurrent'))));
    assert.equal(as.introspectionRequests, before + 1);
  });

  it('RFC 7662 §4: the cache never outlives the token exp', async () => {
    now = Date.now();
    as.answers.set('opaque-short', activeAnswer({ exp: Math.floor(now / 1000) + 10 }));
    const verifier = introspecting(300);
    const before = as.introspectionRequests;
    await verifier.verify(bearerRequest('opaque-short'));
    now += 9_000;
    await verifier.verify(bearerRequest('opaque-short'));
    assert.equal(as.introspectionRequests, before + 1);
    now += 2_000; // past exp, well within cacheSeconds
    as.answers.set('opaque-short', { active: false });
    await assertInvalidToken(verifier.verify(bearerRequest('opaque-short')));
    assert.equal(as.introspectionRequests, before + 2, 'asked again once exp passed');
  });

  it('RFC 7662 §2.3: an introspection failure (bad RS credentials) is AuthorizationServerUnavailableError, not invalid_token', async () => {
    const verifier = verifierFor({
      mode: 'introspection',
      introspection: { clientId: 'resource-server', clientSecret: 'wrong' },
    });
    await assert.rejects(verifier.verify(bearerRequest('opaque-active')), AuthorizationServerUnavailableError);
  });

  it('introspection mode requires client credentials', () => {
    assert.throws(() => verifierFor({ mode: 'introspection' }), TypeError);
  });
});

describe('Protected resource metadata (RFC 9728)', () => {
  it('RFC 9728 §2: metadata() lists the resource, the AS, scopes and bearer methods', () => {
    const v = protect({
      issuer: as.issuer,
      audience: RESOURCE,
      scopesSupported: ['read', 'write'],
      resourceName: 'Things API',
    });
    assert.deepEqual(v.metadata(), {
      resource: RESOURCE,
      authorization_servers: [as.issuer],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header', 'body'],
      // RFC 9449 §7: DPoP-bound tokens are accepted.
      dpop_signing_alg_values_supported: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
      resource_name: 'Things API',
    });
    assert.equal(v.resourceMetadataUrl, METADATA_URL);
  });

  it('RFC 9728 §3.1: for a resource with a path, the well-known suffix goes between host and path', () => {
    const v = createVerifier({ issuer: as.issuer, audience: 'https://api.example.com/v1/things' });
    assert.equal(v.resourceMetadataUrl, 'https://api.example.com/.well-known/oauth-protected-resource/v1/things');
  });
});

describe('Fastify adapter', () => {
  async function buildApp() {
    const verifier = verifierFor({ scopesSupported: ['read', 'write'] });
    const app = Fastify();
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
    const requireToken = protectFastify(verifier);
    registerProtectedResourceMetadata(app, verifier);
    app.get('/things', { preHandler: requireToken(['read']) }, async (request) => ({ sub: request.accessToken?.sub }));
    app.post('/things', { preHandler: requireToken(['write']) }, async (request) => ({
      sub: request.accessToken?.sub,
      body: request.body,
    }));
    app.delete('/things', { preHandler: requireToken(['admin']) }, async () => ({ ok: true }));
    await app.ready();
    return app;
  }

  it('RFC 6750 §2.1: a valid bearer token reaches the handler with request.accessToken set', async () => {
    const app = await buildApp();
    try {
      const response = await app.inject({
        method: 'GET',
        url: '/things',
        headers: { authorization: `Bearer ${await mint()}` },
      });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { sub: 'alice' });
    } finally {
      await app.close();
    }
  });

  it('RFC 6750 §3: missing → 401, invalid → 401 invalid_token, scope → 403, both methods → 400, with WWW-Authenticate and JSON', async () => {
    const app = await buildApp();
    try {
      const missing = await app.inject({ method: 'GET', url: `/things?access_token=${await mint()}` });
      assert.equal(missing.statusCode, 401);
      assert.equal(
        missing.headers['www-authenticate'],
        `Bearer realm="${RESOURCE}", resource_metadata="${METADATA_URL}"`,
      );
      assert.deepEqual(missing.json(), { error_description: 'an access token is required' });

      const invalid = await app.inject({
        method: 'GET',
        url: '/things',
        headers: { authorization: `Bearer ${await mint({ claims: { aud: OTHER_RESOURCE } })}` },
      });
      assert.equal(invalid.statusCode, 401);
      assert.match(String(invalid.headers['www-authenticate']), /error="invalid_token"/);
      assert.equal(invalid.json().error, 'invalid_token');

      const scope = await app.inject({
        method: 'DELETE',
        url: '/things',
        headers: { authorization: `Bearer ${await mint()}` },
      });
      assert.equal(scope.statusCode, 403);
      assert.match(
        String(scope.headers['www-authenticate']),
        /error="insufficient_scope", error_description="[^"]+", scope="admin"/,
      );
      assert.equal(scope.json().error, 'insufficient_scope');

      const token = await mint();
      const both = await app.inject({
        method: 'POST',
        url: '/things',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `access_token=${token}`,
      });
      assert.equal(both.statusCode, 400);
      assert.equal(both.json().error, 'invalid_request');

      const body = await app.inject({
        method: 'POST',
        url: '/things',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `access_token=${token}&x=1`,
      });
      assert.equal(body.statusCode, 200);
      assert.equal(body.json().sub, 'alice');
    } finally {
      await app.close();
    }
  });

  it('RFC 9728 §3: GET /.well-known/oauth-protected-resource serves the metadata', async () => {
    const app = await buildApp();
    try {
      const response = await app.inject({ method: 'GET', url: '/.well-known/oauth-protected-resource' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.deepEqual(response.json(), {
        resource: RESOURCE,
        authorization_servers: [as.issuer],
        scopes_supported: ['read', 'write'],
        bearer_methods_supported: ['header', 'body'],
        dpop_signing_alg_values_supported: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'],
      });
    } finally {
      await app.close();
    }
  });
});

describe('Express-style adapter (node:http)', () => {
  let server: Server;
  let url = '';
  before(async () => {
    const middleware = protectExpress(verifierFor(), ['read']);
    server = createServer((req, res) => {
      middleware(req, res, (error?: unknown) => {
        if (error) {
          res.statusCode = (error as { status?: number }).status ?? 500;
          res.end('error');
          return;
        }
        const request = req as IncomingMessage & { accessToken?: AccessTokenClaims; body?: unknown };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ sub: request.accessToken?.sub, body: request.body ?? null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('RFC 6750 §2.1: a bearer header token passes and sets req.accessToken', async () => {
    const response = await fetch(`${url}/things`, { headers: { authorization: `Bearer ${await mint()}` } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { sub: 'alice', body: null });
  });

  it('RFC 6750 §2.2: a form body token passes; the parsed form is left on req.body', async () => {
    const token = await mint();
    const response = await fetch(`${url}/things`, {
      method: 'POST',
      body: new URLSearchParams({ access_token: token, note: 'hi' }),
    });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { sub: 'alice', body: { access_token: token, note: 'hi' } });
  });

  it('RFC 6750 §3: missing → 401 with WWW-Authenticate; header+body → 400; insufficient scope → 403', async () => {
    const missing = await fetch(`${url}/things?access_token=abc`);
    assert.equal(missing.status, 401);
    assert.equal(
      missing.headers.get('www-authenticate'),
      `Bearer realm="${RESOURCE}", resource_metadata="${METADATA_URL}"`,
    );
    assert.deepEqual(await missing.json(), { error_description: 'an access token is required' });

    const token = await mint();
    const both = await fetch(`${url}/things`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: new URLSearchParams({ access_token: token }),
    });
    assert.equal(both.status, 400);
    assert.equal((await both.json()).error, 'invalid_request');

    const scope = await fetch(`${url}/things`, {
      headers: { authorization: `Bearer ${await mint({ claims: { scope: 'write' } })}` },
    });
    assert.equal(scope.status, 403);
    assert.match(scope.headers.get('www-authenticate') ?? '', /scope="read"/);
  });

  it('RFC 6750 §2.1: two Authorization headers are refused with 400 invalid_request', async () => {
    const token = await mint();
    const { port } = server.address() as AddressInfo;
    // A raw socket: Node's client would not send the header twice as is; Node's server keeps only the first in req.headers.
    const head = await new Promise<string>((resolve, reject) => {
      let received = '';
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `GET /things HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
        );
      });
      socket.on('data', (chunk) => {
        received += String(chunk);
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });
    const status = Number(head.split(' ')[1]);
    assert.equal(status, 400);
  });
});
