/**
 * JWT access tokens per RFC 9068, signed with the active key of the key ring.
 */
import { SignJWT } from 'jose';
import type { KeyRing } from '../keys/key-ring.js';
import type { AccessTokenRecord, Actor, Store } from '../../store/store.js';
import { randomToken } from '../secrets.js';
import { formatScope } from '../scope.js';

/**
 * What the tokens of one issue carry of their authorization (the access token's record, and the
 * response of every grant, ./issue-tokens.ts).
 */
export interface TokenAuthorization {
  /** The user the tokens are for, or null when the client acts for itself. */
  userId: string | null;
  scope: string[];
  audience: string[];
  grantId: string | null;
  flowId: string | null;
  authTime: number | null;
}

export interface AccessTokenRequest extends TokenAuthorization {
  issuer: string;
  clientId: string;
  /** RFC 9068 §2.2: the resource owner, or the client itself for client credentials. */
  subject: string;
  ttlSeconds: number;
  now: number;
  /** RFC 8693 §4.1: who acts for the subject (token exchange only). */
  act?: Actor;
}

/** An access token whose record is stored and whose key is chosen, not yet signed. */
export interface PreparedAccessToken {
  jti: string;
  expiresIn: number;
  sign(): Promise<string>;
}

/**
 * Stores the access token's record (its `jti`, for revocation and introspection) and chooses its
 * key, so that nothing can fail any more but the signature itself; the caller signs once its
 * transaction has committed (see prepareTokens in ./issue-tokens.ts).
 */
export async function prepareAccessToken(
  request: AccessTokenRequest,
  keys: KeyRing,
  store: Pick<Store, 'accessTokens'>,
): Promise<PreparedAccessToken> {
  const key = keys.active(request.now);
  const jti = randomToken(16);
  const iat = Math.floor(request.now / 1000);
  // JWT times are whole seconds (RFC 7519 §2 NumericDate); exp - iat is exactly the lifetime.
  const exp = iat + request.ttlSeconds;
  const claims: Record<string, unknown> = {
    client_id: request.clientId,
    scope: formatScope(request.scope),
  };
  if (request.authTime !== null) claims['auth_time'] = Math.floor(request.authTime / 1000);
  if (request.act !== undefined) claims['act'] = request.act;
  const record: AccessTokenRecord = {
    jti,
    grantId: request.grantId,
    flowId: request.flowId,
    clientId: request.clientId,
    userId: request.userId,
    scope: request.scope,
    audience: request.audience,
    createdAt: request.now,
    expiresAt: exp * 1000,
    revokedAt: null,
    ...(request.act !== undefined ? { act: request.act } : {}),
  };
  await store.accessTokens.create(record);
  return {
    jti,
    expiresIn: request.ttlSeconds,
    sign: () =>
      new SignJWT(claims)
        // RFC 9068 §2.1: typ "at+jwt" keeps access tokens from being confused with ID tokens.
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
        .setIssuer(request.issuer)
        .setSubject(request.subject)
        .setAudience(request.audience.length === 1 ? request.audience[0]! : request.audience)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .setJti(jti)
        .sign(key.privateKey),
  };
}
