/**
 * JWT access tokens per RFC 9068, signed with the active key of the key ring.
 */
import { signCompactJws } from '../keys/jws-signer.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { AccessTokenRecord, AccessTokenRepository, Actor } from '../../store/store.js';
import { sortableId } from '../secrets.js';
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
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to. */
  dpopJkt?: string;
}

/** An access token whose record is stored and whose key is chosen, not yet signed. */
export interface PreparedAccessToken {
  jti: string;
  expiresIn: number;
  /** Synchronous (node:crypto, ../keys/jws-signer.ts). */
  sign(): string;
}

/**
 * Stores the access token's record (its `jti`, for revocation and introspection) and chooses its
 * key, so that nothing can fail any more but the signature itself; the caller signs once its
 * transaction has committed (see prepareTokens in ./issue-tokens.ts).
 */
export async function prepareAccessToken(
  request: AccessTokenRequest,
  keys: KeyRing,
  store: { accessTokens: Pick<AccessTokenRepository, 'create'> },
): Promise<PreparedAccessToken> {
  const key = keys.active(request.now);
  const jti = sortableId();
  const iat = Math.floor(request.now / 1000);
  // JWT times are whole seconds (RFC 7519 §2 NumericDate); exp - iat is exactly the lifetime.
  const exp = iat + request.ttlSeconds;
  const claims: Record<string, unknown> = {
    client_id: request.clientId,
    scope: formatScope(request.scope),
  };
  if (request.authTime !== null) claims['auth_time'] = Math.floor(request.authTime / 1000);
  if (request.act !== undefined) claims['act'] = request.act;
  // RFC 9449 §6.1 (RFC 7800 §3.1): the confirmation of the key the token is bound to.
  if (request.dpopJkt !== undefined) claims['cnf'] = { jkt: request.dpopJkt };
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
    ...(request.dpopJkt !== undefined ? { dpopJkt: request.dpopJkt } : {}),
  };
  await store.accessTokens.create(record);
  return {
    jti,
    expiresIn: request.ttlSeconds,
    sign: () =>
      signCompactJws(
        {
          ...claims,
          // RFC 9068 §2.2: the required claims, after the others so that none can displace them.
          iss: request.issuer,
          sub: request.subject,
          aud: request.audience.length === 1 ? request.audience[0]! : request.audience,
          iat,
          exp,
          jti,
        },
        key,
        // RFC 9068 §2.1: typ "at+jwt" keeps access tokens from being confused with ID tokens.
        { typ: 'at+jwt' },
      ),
  };
}
