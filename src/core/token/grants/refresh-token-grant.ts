/**
 * The refresh token grant, RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2);
 * see ../refresh-token.ts for how the grace window works.
 */
import type { Client, RefreshTokenRecord, Store } from '../../../store/store.js';
import { atomically } from '../../atomic.js';
import type { ProviderContext, Transactions } from '../../context.js';
import { InvalidGrant, InvalidScope, InvalidTarget } from '../../errors.js';
import type { Params } from '../../params.js';
import { audienceFor, requestedResources } from '../../resources/resource-indicators.js';
import { randomToken, sha256Base64Url } from '../../secrets.js';
import { isSubset, parseScope } from '../../scope.js';
import { familyOf, newRefreshToken } from '../refresh-token-family.js';
import { prepareTokens, type PreparedTokens } from '../issue-tokens.js';
import type { GrantHandler, TokenBinding, TokenResponse } from '../grant-handler.js';

/**
 * What the refresh grant uses, in one transaction: the presented token's family and grant, the
 * access token's record and the user's claims (prepareTokens), and the registered resources a
 * refresh may narrow the audience to; the key ring seals the successor (and signs).
 */
export type RefreshTokenGrantDeps = Pick<
  ProviderContext,
  'settings' | 'keys' | 'subjects' | 'events' | 'resources' | 'now' | 'users'
> & {
  store: Pick<Store, 'refreshTokens' | 'grants' | 'accessTokens' | 'resources'> & Transactions;
};

export const refreshTokenGrant: GrantHandler<RefreshTokenGrantDeps> = {
  grantType: 'refresh_token',
  // RFC 6749 §6 and RFC 8707 §2.2.
  allowedParams: ['refresh_token', 'scope', 'resource'],
  repeatableParams: ['resource'],

  /**
   * The rotation and the access token issued with the successor are one transaction: a database
   * failure in between leaves the presented token unrotated (the client retries it after the
   * 503), never rotated to a successor the client did not receive.
   */
  async handle(
    params: Params,
    client: Client,
    context: RefreshTokenGrantDeps,
    binding: TokenBinding,
  ): Promise<TokenResponse> {
    // The successor is drawn and sealed, and the tokens signed, outside the transaction, so that
    // the transaction (on SQLite: the only connection) is held no longer than its writes need.
    const successor = newSuccessor(context);
    const prepared = await atomically(context, (transactional) =>
      refresh(params, client, binding, successor, transactional),
    );
    return prepared.sign();
  },
};

/** The token that replaces the presented one if it rotates, and its sealed form (for retries). */
interface Successor {
  token: string;
  sealed: string;
}

function newSuccessor(context: Pick<ProviderContext, 'keys'>): Successor {
  const token = randomToken(32);
  return { token, sealed: context.keys.seal(token) };
}

async function refresh(
  params: Params,
  client: Client,
  binding: TokenBinding,
  successor: Successor,
  context: RefreshTokenGrantDeps,
): Promise<PreparedTokens> {
  const hash = sha256Base64Url(params.require('refresh_token'));
  const now = context.now();
  const stored = await context.store.refreshTokens.get(hash);
  // RFC 6749 §6: the token must have been issued to the authenticated client.
  // One message for both: another client must not learn that a token it holds is real.
  if (!stored || stored.clientId !== client.clientId)
    throw new InvalidGrant('refresh token is unknown or was not issued to this client');
  const grant = await context.store.grants.get(stored.grantId);
  if (!grant || grant.revokedAt !== null) throw new InvalidGrant('refresh token was revoked');
  if (stored.familyExpiresAt <= now) throw new InvalidGrant('refresh token has expired');
  // A rotated token is judged by reuse detection (in `rotate`), not by its idle expiry: one
  // presented again after it would have expired is still reuse, and the family it was
  // rotated into (perhaps by whoever stole it) must be revoked (RFC 9700 §4.14.2).
  if (stored.rotatedAt === null && stored.expiresAt <= now) throw new InvalidGrant('refresh token has expired');
  // RFC 9449 §5: a bound family is refreshed only with a proof of its key.
  if (stored.dpopJkt !== undefined && stored.dpopJkt !== binding.dpopJkt) {
    throw new InvalidGrant(
      binding.dpopJkt === undefined
        ? 'refresh token is bound to a DPoP key: send a DPoP proof of that key'
        : 'refresh token is bound to another DPoP key',
    );
  }

  // RFC 6749 §6: the scope may shrink, never grow beyond what the resource owner granted.
  const requestedScope = parseScope(params.get('scope'));
  if (!isSubset(requestedScope, stored.scope)) throw new InvalidScope('scope exceeds the scope originally granted');
  const scope = requestedScope.length > 0 ? requestedScope : stored.scope;
  // RFC 8707 §2.2: a refresh may narrow the audience to some of the authorized resources.
  const resources = await requestedResources(params, context.resources);
  if (!isSubset(resources, stored.resources)) throw new InvalidTarget('resource was not part of the authorization');
  const audience = audienceFor(resources.length > 0 ? resources : stored.resources, context.settings.issuer);

  const refreshToken = await rotate(stored, hash, successor, context, now);
  return prepareTokens(
    {
      client,
      userId: stored.userId,
      scope,
      audience,
      grantId: stored.grantId,
      flowId: stored.flowId,
      authTime: stored.authTime,
      nonce: null,
      // OIDC Core §12.2: the refreshed ID token describes the same authentication (and session).
      sid: grant.sid,
      refreshToken,
      grantType: 'refresh_token',
      dpopJkt: binding.dpopJkt,
    },
    context,
    now,
  );
}

/** Rotates the presented token and returns its successor, or revokes the family on reuse. */
async function rotate(
  stored: RefreshTokenRecord,
  hash: string,
  successor: Successor,
  context: Pick<ProviderContext, 'settings' | 'keys' | 'events'> & { store: Pick<Store, 'refreshTokens' | 'grants'> },
  now: number,
): Promise<string> {
  if (stored.rotatedAt === null) {
    const { token, record } = newRefreshToken(familyOf(stored), context, now, successor.token);
    const result = await context.store.refreshTokens.rotate(hash, record, successor.sealed, now);
    if (result.status === 'rotated') return token;
    if (result.status === 'not_found')
      throw new InvalidGrant('refresh token is unknown or was not issued to this client');
    stored = result.token;
  }
  const retry = await graceRetrySuccessor(stored, context, now);
  if (retry !== undefined) return retry;
  await context.store.grants.revoke(stored.grantId, now);
  context.events.emit(
    { type: 'refresh.reused', flowId: stored.flowId, clientId: stored.clientId, grantId: stored.grantId },
    now,
  );
  throw new InvalidGrant('refresh token was already used');
}

/** The successor to hand out again when this is a retry within the grace window. */
async function graceRetrySuccessor(
  stored: RefreshTokenRecord,
  context: Pick<ProviderContext, 'settings' | 'keys'> & { store: Pick<Store, 'refreshTokens'> },
  now: number,
): Promise<string | undefined> {
  const graceMs = context.settings.refreshTokenGraceSeconds * 1000;
  if (graceMs <= 0 || stored.rotatedAt === null || now - stored.rotatedAt > graceMs) return undefined;
  if (stored.successorHash === null || stored.successorEncrypted === null) return undefined;
  const successor = await context.store.refreshTokens.get(stored.successorHash);
  // Once the successor was used, the old token has no business coming back.
  if (!successor || successor.rotatedAt !== null) return undefined;
  return context.keys.unseal(stored.successorEncrypted);
}
