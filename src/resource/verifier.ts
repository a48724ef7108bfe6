/**
 * Resource server side of Gatehouse: accepts Gatehouse access tokens at an API.
 *
 * - Token extraction: RFC 6750 §2.1 (Authorization header) and §2.2 (form-encoded body); the URI query
 *   parameter (§2.3) is never read (RFC 9700 §2.4.2 / RFC 6750 §2.3 discourage it).
 * - JWT access tokens: RFC 9068 §4 validation, all JOSE work done by `jose`.
 * - Opaque or revocable tokens: RFC 7662 token introspection with a short, exp-bounded cache.
 * - Errors: RFC 6750 §3 `WWW-Authenticate: Bearer` challenges with RFC 9728 §5.1 `resource_metadata`.
 * - RFC 9728 §2 protected resource metadata.
 *
 * Framework-agnostic: the core takes a Web `Request`; see `./fastify.ts` and `./express.ts` for adapters.
 */
import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, RemoteJWKSet } from 'jose';
import {
  AuthorizationServerUnavailableError,
  BearerError,
  type BearerErrorCode,
  type Challenge,
} from './bearer-errors.js';
import { B64TOKEN, assertScopeTokens, mediaType, protectedResourceMetadataUrl } from './syntax.js';
import { DPOP_SIGNING_ALGS } from '../core/dpop/dpop-proof-jwt.js';
import { checkPresentation, dpopOrigin, SeenProofs, type Scheme } from './dpop-presentation.js';
import type { AccessTokenClaims, ProtectedResourceMetadata, ResourceVerifier, VerifierOptions } from './types.js';
import { reportingVerifier } from './flow-reporter.js';

// This module's exports before it was split up, kept so that every import of it still works.
export type { AccessTokenClaims, ProtectedResourceMetadata, ResourceVerifier, VerifierOptions } from './types.js';
export { AuthorizationServerUnavailableError, BearerError, type BearerErrorCode } from './bearer-errors.js';
export { assertScopeTokens, protectedResourceMetadataUrl } from './syntax.js';
export { formBodyFromParsed, webRequestFromNode, type NodeRequestLike } from './node-request.js';

// ---------------------------------------------------------------------------------------------------------------
// The verifier

interface ServerEndpoints {
  jwksUri: string;
  introspectionEndpoint: string;
}

interface CacheEntry {
  claims: AccessTokenClaims | null;
  expiresAt: number;
}

const MAX_CACHE_ENTRIES = 10_000;

export function createVerifier(options: VerifierOptions): ResourceVerifier {
  const issuer = requireString(options.issuer, 'issuer');
  const audience = requireString(options.audience, 'audience');
  const algorithms = options.algorithms ?? ['ES256', 'EdDSA'];
  if (algorithms.length === 0) throw new TypeError('algorithms must not be empty');
  for (const alg of algorithms) {
    // A JWKS holds public keys: a symmetric or unsecured algorithm could only be an attack (RFC 8725 §3.1).
    if (alg === 'none' || /^HS/i.test(alg))
      throw new TypeError(`algorithm ${alg} must not be accepted for access tokens`);
  }
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const mode = options.mode ?? 'jwt';
  if (mode !== 'jwt' && mode !== 'introspection') throw new TypeError(`unknown mode ${String(mode)}`);
  const introspection = options.introspection;
  if (mode === 'introspection' && introspection === undefined) {
    throw new TypeError('introspection mode needs introspection.clientId and introspection.clientSecret');
  }
  const cacheSeconds = introspection?.cacheSeconds ?? 30;
  const fetchImpl: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const clock = options.clock ?? Date.now;
  const timeoutMs = Math.round((options.httpTimeoutSeconds ?? 5) * 1000);
  const resourceMetadataUrl = options.resourceMetadataUrl ?? protectedResourceMetadataUrl(audience);
  const challenge: Challenge = { realm: options.realm ?? audience, resourceMetadataUrl };
  for (const [name, value] of [
    ['realm', challenge.realm],
    ['resourceMetadataUrl', resourceMetadataUrl],
  ] as const) {
    if (value !== undefined && /[^\x20-\x7e]/.test(value)) throw new TypeError(`${name} must be printable ASCII`);
  }
  if (options.scopesSupported) assertScopeTokens(options.scopesSupported);

  const fail = (
    status: 400 | 401 | 403,
    error: BearerErrorCode | undefined,
    description: string,
    scope?: string,
    scheme?: Scheme,
  ) =>
    new BearerError({
      status,
      description,
      challenge,
      ...(error ? { error } : {}),
      ...(scope !== undefined ? { scope } : {}),
      ...(scheme !== undefined ? { scheme } : {}),
    });
  const dpopMaxAgeSeconds = options.dpop?.maxAgeSeconds ?? 60;
  const origin = dpopOrigin(options.dpop?.origin);
  const seenProofs = new SeenProofs(clock);
  const invalidToken = (description: string) => fail(401, 'invalid_token', description);

  // --- discovery (RFC 8414), memoised once it succeeds --------------------------------------------------------
  const base = issuer.replace(/\/+$/, '');
  let endpoints: Promise<ServerEndpoints> | undefined;
  function discover(): Promise<ServerEndpoints> {
    endpoints ??= discoverOnce().catch((error: unknown) => {
      endpoints = undefined; // retry on the next request
      throw error;
    });
    return endpoints;
  }
  async function discoverOnce(): Promise<ServerEndpoints> {
    const fallback: ServerEndpoints = { jwksUri: `${base}/jwks`, introspectionEndpoint: `${base}/introspect` };
    const response = await upstream(`${base}/.well-known/oauth-authorization-server`, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
    });
    // No metadata document: use Gatehouse's fixed endpoint paths. Server errors are retried instead.
    if (response.status >= 400 && response.status < 500) return fallback;
    if (response.status !== 200)
      throw new AuthorizationServerUnavailableError(`authorization server metadata: HTTP ${response.status}`);
    const metadata = await readJsonObject(response, 'authorization server metadata');
    // RFC 8414 §3.3: the issuer in the metadata must be identical to the configured one.
    if (metadata['issuer'] !== issuer) {
      throw new AuthorizationServerUnavailableError(
        `authorization server metadata names issuer ${JSON.stringify(metadata['issuer'])}, expected ${JSON.stringify(issuer)}`,
      );
    }
    const jwksUri = metadata['jwks_uri'];
    const introspectionEndpoint = metadata['introspection_endpoint'];
    return {
      jwksUri: typeof jwksUri === 'string' ? jwksUri : fallback.jwksUri,
      introspectionEndpoint:
        typeof introspectionEndpoint === 'string' ? introspectionEndpoint : fallback.introspectionEndpoint,
    };
  }

  /** fetch with a timeout; network failures become AuthorizationServerUnavailableError. */
  async function upstream(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetchImpl(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (cause) {
      throw new AuthorizationServerUnavailableError(`request to ${url} failed`, { cause });
    }
  }

  // --- JWT mode (RFC 9068 §4) ---------------------------------------------------------------------------------
  let jwks: Promise<RemoteJWKSet> | undefined;
  function keySet(): Promise<RemoteJWKSet> {
    jwks ??= discover().then(
      ({ jwksUri }) =>
        createRemoteJWKSet(new URL(jwksUri), {
          cooldownDuration: Math.round((options.jwksCooldownSeconds ?? 30) * 1000),
          timeoutDuration: timeoutMs,
          // Transport problems surface as AuthorizationServerUnavailableError, not as a bad token.
          [customFetch]: async (url, init) => {
            let response: Response;
            try {
              response = await fetchImpl(url, init);
            } catch (cause) {
              throw new AuthorizationServerUnavailableError(`JWKS request to ${url} failed`, { cause });
            }
            if (response.status !== 200)
              throw new AuthorizationServerUnavailableError(`JWKS request to ${url}: HTTP ${response.status}`);
            return response;
          },
        }),
      (error: unknown) => {
        jwks = undefined;
        throw error;
      },
    );
    return jwks;
  }

  async function verifyJwt(token: string): Promise<AccessTokenClaims> {
    const getKey = await keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms,
        typ: 'at+jwt', // RFC 9068 §4: also accepts "application/at+jwt"
        issuer,
        audience,
        clockTolerance,
        currentDate: new Date(clock()),
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti'],
      }));
    } catch (error) {
      throw translateJoseError(error);
    }
    if (typeof payload['client_id'] !== 'string') throw invalidToken('the access token has no client_id');
    if (payload['scope'] !== undefined && typeof payload['scope'] !== 'string')
      throw invalidToken('the access token scope is malformed');
    return payload as AccessTokenClaims;
  }

  function translateJoseError(error: unknown): Error {
    if (error instanceof AuthorizationServerUnavailableError) return error;
    if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
      return new AuthorizationServerUnavailableError('the JWKS could not be used', { cause: error });
    }
    if (error instanceof joseErrors.JWTExpired) return invalidToken('the access token expired');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      switch (error.claim) {
        case 'nbf':
          return invalidToken('the access token is not yet valid');
        case 'aud':
          return invalidToken('the access token is not intended for this resource');
        case 'iss':
          return invalidToken('the access token was not issued by the expected issuer');
        case 'typ':
          return invalidToken('the token is not an at+jwt access token');
        default:
          return invalidToken(
            `the access token ${error.claim} claim is ${error.reason === 'missing' ? 'missing' : 'invalid'}`,
          );
      }
    }
    if (error instanceof joseErrors.JOSEAlgNotAllowed)
      return invalidToken('the access token signing algorithm is not accepted');
    if (error instanceof joseErrors.JWSSignatureVerificationFailed)
      return invalidToken('the access token signature is invalid');
    if (error instanceof joseErrors.JWKSNoMatchingKey)
      return invalidToken('no key of the authorization server matches the access token');
    if (error instanceof joseErrors.JOSEError) return invalidToken('the access token is malformed');
    return error instanceof Error ? error : new Error(String(error));
  }

  // --- introspection mode (RFC 7662) --------------------------------------------------------------------------
  const cache = new Map<string, CacheEntry>();
  const inflight = new Map<string, Promise<AccessTokenClaims | null>>();

  async function verifyByIntrospection(token: string): Promise<AccessTokenClaims> {
    const key = await sha256Hex(token);
    const now = clock();
    let claims: AccessTokenClaims | null;
    const cached = cache.get(key);
    if (cached !== undefined && cached.expiresAt > now) {
      claims = cached.claims;
    } else {
      if (cached !== undefined) cache.delete(key);
      let pending = inflight.get(key);
      if (pending === undefined) {
        pending = introspect(token, key).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      claims = await pending;
    }
    if (claims === null) throw invalidToken('the access token is not active');
    if (claims.exp * 1000 + clockTolerance * 1000 <= clock()) throw invalidToken('the access token expired');
    return claims;
  }

  async function introspect(token: string, key: string): Promise<AccessTokenClaims | null> {
    const { introspectionEndpoint } = await discover();
    const { clientId, clientSecret } = introspection!;
    // RFC 6749 §2.3.1: both parts are form-urlencoded (hence ASCII, which btoa needs) before Basic encoding.
    const basic = btoa(`${formEncode(clientId)}:${formEncode(clientSecret)}`);
    const response = await upstream(introspectionEndpoint, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });
    if (response.status !== 200) {
      throw new AuthorizationServerUnavailableError(`introspection endpoint answered HTTP ${response.status}`);
    }
    const body = await readJsonObject(response, 'introspection response');
    const claims = introspectionClaims(body);
    const now = clock();
    let expiresAt = now + cacheSeconds * 1000;
    if (claims !== null) expiresAt = Math.min(expiresAt, claims.exp * 1000); // never cache past exp
    if (expiresAt > now) {
      if (cache.size >= MAX_CACHE_ENTRIES) evict(now);
      cache.set(key, { claims, expiresAt });
    }
    return claims;
  }

  /** Validates an RFC 7662 §2.2 response; null when the token must be treated as inactive. */
  function introspectionClaims(body: Record<string, unknown>): AccessTokenClaims | null {
    if (body['active'] !== true) return null;
    if (body['iss'] !== issuer) return null;
    const aud = body['aud'];
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!audiences.includes(audience)) return null;
    if (typeof body['exp'] !== 'number' || typeof body['sub'] !== 'string' || typeof body['client_id'] !== 'string')
      return null;
    if (body['scope'] !== undefined && typeof body['scope'] !== 'string') return null;
    // Only access tokens: bearer, or DPoP-bound with their cnf (RFC 7662 §2.2 token_type, RFC 9449 §6.2).
    const tokenType = body['token_type'];
    const type = typeof tokenType === 'string' ? tokenType.toLowerCase() : tokenType;
    if (type !== undefined && type !== 'bearer' && !(type === 'dpop' && body['cnf'] !== undefined)) return null;
    const { active: _active, token_type: _tokenType, ...claims } = body;
    return claims as AccessTokenClaims;
  }

  function evict(now: number): void {
    for (const [key, entry] of cache) if (entry.expiresAt <= now) cache.delete(key);
    // Still full: drop the oldest entries (Map iteration is insertion order).
    for (const key of cache.keys()) {
      if (cache.size < MAX_CACHE_ENTRIES) break;
      cache.delete(key);
    }
  }

  // --- extraction (RFC 6750 §2) and scope (§3.1) --------------------------------------------------------------
  async function extractToken(request: Request): Promise<{ token: string; scheme: Scheme }> {
    const found: string[] = [];
    let scheme: Scheme = 'Bearer';
    const authorization = request.headers.get('authorization');
    if (authorization !== null) {
      const space = authorization.indexOf(' ');
      const name = (space < 0 ? authorization : authorization.slice(0, space)).toLowerCase();
      // §2.1: the auth-scheme is case-insensitive. Bearer, or DPoP (RFC 9449 §7.1); another scheme carries no token.
      const known: Scheme | undefined = name === 'bearer' ? 'Bearer' : name === 'dpop' ? 'DPoP' : undefined;
      if (known !== undefined) {
        const credentials = space < 0 ? '' : authorization.slice(space + 1).replace(/^ +/, '');
        if (!B64TOKEN.test(credentials))
          throw fail(400, 'invalid_request', `the Authorization header is not a valid ${known} credential`);
        found.push(credentials);
        scheme = known;
      }
    }
    // §2.2: form-encoded body parameter, only with a body-carrying method (POST) and that exact content type.
    if (
      request.method === 'POST' &&
      mediaType(request.headers.get('content-type')) === 'application/x-www-form-urlencoded' &&
      request.body !== null &&
      !request.bodyUsed
    ) {
      const params = new URLSearchParams(await request.clone().text());
      const bodyTokens = params.getAll('access_token');
      if (bodyTokens.length > 1) throw fail(400, 'invalid_request', 'more than one access_token parameter');
      if (bodyTokens.length === 1) {
        if (!B64TOKEN.test(bodyTokens[0]!))
          throw fail(400, 'invalid_request', 'the access_token parameter is malformed');
        found.push(bodyTokens[0]!);
      }
    }
    // §2.3 (URI query parameter) is deliberately never read.
    if (found.length > 1) throw fail(400, 'invalid_request', 'the access token was sent by more than one method');
    if (found.length === 0) throw fail(401, undefined, 'an access token is required');
    // RFC 6750 §2.2: a token in the body is a bearer token (it is the one found when the header had none).
    return { token: found[0]!, scheme };
  }

  function checkScopes(claims: AccessTokenClaims, requiredScopes: readonly string[]): void {
    if (requiredScopes.length === 0) return;
    const granted = new Set((claims.scope ?? '').split(' ').filter(Boolean));
    if (requiredScopes.every((scope) => granted.has(scope))) return;
    throw fail(
      403,
      'insufficient_scope',
      'the access token does not grant the required scope',
      requiredScopes.join(' '),
    );
  }

  async function verifyToken(token: string, requiredScopes: readonly string[] = []): Promise<AccessTokenClaims> {
    assertScopeTokens(requiredScopes);
    const claims = mode === 'jwt' ? await verifyJwt(token) : await verifyByIntrospection(token);
    // RFC 9449 §7.2: without the request there is no proof to check, so a bound token is not accepted here.
    if (claims['cnf'] !== undefined) {
      throw fail(
        401,
        'invalid_token',
        'the access token is DPoP-bound: verify the whole request (verify())',
        undefined,
        'DPoP',
      );
    }
    checkScopes(claims, requiredScopes);
    return claims;
  }

  /** RFC 6750 §2 and RFC 9449 §7: the token, its presentation (Bearer, or DPoP with a proof), then the scope. */
  async function verifyRequest(request: Request, requiredScopes: readonly string[]): Promise<AccessTokenClaims> {
    const { token, scheme } = await extractToken(request);
    const claims = mode === 'jwt' ? await verifyJwt(token) : await verifyByIntrospection(token);
    await checkPresentation({
      request,
      origin,
      token,
      scheme,
      claims,
      now: clock(),
      maxAgeSeconds: dpopMaxAgeSeconds,
      seen: seenProofs,
      fail: (status, error, description, challengeScheme) =>
        fail(status, error, description, undefined, challengeScheme),
    });
    checkScopes(claims, requiredScopes);
    return claims;
  }

  const metadata: ProtectedResourceMetadata = {
    resource: audience,
    authorization_servers: [issuer],
    ...(options.scopesSupported ? { scopes_supported: [...options.scopesSupported] } : {}),
    bearer_methods_supported: ['header', 'body'],
    // RFC 9728 §2: DPoP-bound tokens are accepted (RFC 9449 §7), with proofs of these algorithms.
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    ...(options.resourceName !== undefined ? { resource_name: options.resourceName } : {}),
  };

  const verifier: ResourceVerifier = {
    async verify(request, requiredScopes = []) {
      assertScopeTokens(requiredScopes);
      return verifyRequest(request, requiredScopes);
    },
    verifyToken,
    metadata: () => structuredClone(metadata),
    resourceMetadataUrl,
  };
  const reportTo = options.reportTo;
  if (reportTo === undefined) return verifier;
  const target = typeof reportTo === 'string' ? { url: reportTo } : reportTo;
  return reportingVerifier(verifier, target, audience, fetchImpl);
}

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} is required`);
  return value;
}

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 Appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

async function readJsonObject(response: Response, what: string): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await response.json();
  } catch (cause) {
    throw new AuthorizationServerUnavailableError(`${what} is not JSON`, { cause });
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new AuthorizationServerUnavailableError(`${what} is not a JSON object`);
  }
  return body as Record<string, unknown>;
}

async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('');
}
