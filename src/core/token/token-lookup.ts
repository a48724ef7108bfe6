/**
 * Finding what a presented token is, for revocation (RFC 7009) and introspection (RFC 7662).
 * Access tokens are JWTs signed by us: the signature is checked with our own keys and the
 * record found by `jti`. Refresh tokens are opaque: found by hash.
 */
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { AccessTokenRecord, Client, Grant, RefreshTokenRecord, Store } from '../../store/store.js';
import {
  authenticateClient,
  type ClientAuthenticationDeps,
  type ClientAuthenticationRequest,
} from '../clients/client-authentication.js';
import type { ProviderContext } from '../context.js';
import { BoundedCache } from '../cache/bounded-cache.js';
import { sha256Base64Url, storedTokenKey } from '../secrets.js';

export type FoundToken =
  | { kind: 'access_token'; record: AccessTokenRecord; grant: Grant | undefined }
  | { kind: 'refresh_token'; record: RefreshTokenRecord; grant: Grant | undefined };

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** What finding an access token uses: the key ring checks its signature, the store has its record and grant. */
export type FindAccessTokenDeps = Pick<ProviderContext, 'keys' | 'settings'> & {
  store: Pick<Store, 'accessTokens' | 'grants'>;
};

/** What finding either kind of token uses. */
export type FindTokenDeps = FindAccessTokenDeps & { store: Pick<Store, 'refreshTokens'> };

/**
 * The request of revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1): no parameter may
 * repeat, the caller authenticates as a client and `admit` may refuse it (before the token is
 * looked at), `token` is required, and `token_type_hint` only orders the search. Returns the
 * caller and what the token is (undefined for a token unknown here).
 */
export async function findRequestedToken(
  request: ClientAuthenticationRequest,
  context: ClientAuthenticationDeps & FindTokenDeps,
  admit: (caller: Client) => void = () => {},
): Promise<{ caller: Client; found: FoundToken | undefined }> {
  const { params } = request;
  params.assertNoDuplicates();
  const caller = await authenticateClient(request, context);
  admit(caller);
  const token = params.require('token');
  return { caller, found: await findToken(token, params.get('token_type_hint'), context) };
}

export async function findToken(
  token: string,
  hint: string | undefined,
  context: FindTokenDeps,
): Promise<FoundToken | undefined> {
  // RFC 7009 §2.1 / RFC 7662 §2.1: the hint only orders the search.
  const order = hint === 'refresh_token' ? [findRefreshToken, findAccessToken] : [findAccessToken, findRefreshToken];
  for (const find of order) {
    const found = await find(token, context);
    if (found) return found;
  }
  return undefined;
}

/**
 * Access tokens whose signature, issuer and `typ` this process has verified, by the SHA-256 of
 * the token (so that no bearer token is kept): a resource that introspects the same token on
 * every request (RFC 7662 §4 allows caching on the resource's side, many do not) costs one
 * ECDSA verification per token, not one per call. Only the signature's verdict is kept: the
 * record (revocation, expiry) is read from the store on every call, and the key must still be
 * in the ring. One cache per key ring (one per server), each entry for the issuer it was
 * checked for; bounded, the least recently used go first.
 */
const verifiedAccessTokens = new WeakMap<object, BoundedCache<string, { jti: string; kid: string; issuer: string }>>();

function verifiedAccessTokensOf(keys: object): BoundedCache<string, { jti: string; kid: string; issuer: string }> {
  let cache = verifiedAccessTokens.get(keys);
  if (cache === undefined) {
    cache = new BoundedCache(10_000, 10 * 60 * 1000);
    verifiedAccessTokens.set(keys, cache);
  }
  return cache;
}

/** One of our JWT access tokens (signature, issuer and typ checked; expiry not), with its record. */
export async function findAccessToken(token: string, context: FindAccessTokenDeps): Promise<FoundToken | undefined> {
  if (!JWT_SHAPE.test(token)) return undefined;
  const jti = await verifiedJti(token, context);
  if (jti === undefined) return undefined;
  const record = await context.store.accessTokens.get(jti);
  if (!record) return undefined;
  const grant = record.grantId === null ? undefined : await context.store.grants.get(record.grantId);
  return { kind: 'access_token', record, grant };
}

/** The `jti` of a token signed by a key of the ring, for this issuer, typed `at+jwt` (RFC 9068 §2.1, §4). */
async function verifiedJti(token: string, context: FindAccessTokenDeps): Promise<string | undefined> {
  const { issuer } = context.settings;
  const cache = verifiedAccessTokensOf(context.keys);
  const cacheKey = sha256Base64Url(token);
  const cached = cache.get(cacheKey);
  // A key removed from the ring since makes the token unknown, as an uncached check would.
  if (cached !== undefined && cached.issuer === issuer && context.keys.publicKeyFor(cached.kid) !== undefined)
    return cached.jti;
  const epoch = cache.epoch;
  try {
    const { kid } = decodeProtectedHeader(token);
    // A kid unknown here may be a key rotated in by another instance: findPublicKey reloads.
    const key = kid === undefined ? undefined : await context.keys.findPublicKey(kid);
    if (!key || kid === undefined) return undefined;
    // Expiry is judged by the caller (an expired token is found, then reported inactive).
    const { payload } = await jwtVerify(token, key, {
      issuer,
      typ: 'at+jwt',
      algorithms: ['ES256', 'EdDSA'],
      currentDate: new Date(0),
    });
    if (typeof payload.jti !== 'string') return undefined;
    cache.set(cacheKey, { jti: payload.jti, kid, issuer }, epoch);
    return payload.jti;
  } catch {
    return undefined;
  }
}

async function findRefreshToken(
  token: string,
  context: { store: Pick<Store, 'refreshTokens' | 'grants'> },
): Promise<FoundToken | undefined> {
  const record = await context.store.refreshTokens.get(storedTokenKey(token));
  if (!record) return undefined;
  return { kind: 'refresh_token', record, grant: await context.store.grants.get(record.grantId) };
}

/**
 * The `sub` a token carries (RFC 9068 §2.2): the user as the token's client sees them (OIDC Core
 * §8, pairwise or public), or the client itself when no user is involved (client credentials).
 * `known` saves a lookup when it is the token's client. Undefined when that client is gone.
 */
export async function subjectOfToken(
  record: { clientId: string; userId: string | null },
  known: Client | undefined,
  context: Pick<ProviderContext, 'clients' | 'subjects'>,
): Promise<string | undefined> {
  if (record.userId === null) return record.clientId;
  const client = record.clientId === known?.clientId ? known : await context.clients.get(record.clientId);
  return client === undefined ? undefined : context.subjects.of(client, record.userId);
}

/** Whether a found token is still usable at `now`. */
export function isActive(found: FoundToken, now: number): boolean {
  if (found.grant?.revokedAt != null) return false;
  if (found.kind === 'access_token') return found.record.revokedAt === null && found.record.expiresAt > now;
  const { record } = found;
  return record.rotatedAt === null && record.expiresAt > now && record.familyExpiresAt > now;
}
