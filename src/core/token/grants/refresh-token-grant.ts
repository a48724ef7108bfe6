/**
 * The refresh token grant, RFC 6749 §6, with rotation and reuse detection (RFC 9700 §4.14.2);
 * see ../refresh-token.ts for how the grace window works.
 */
import type { Client, RefreshTokenRecord, Store } from '../../../store/store.js';
import { HeldEvents } from '../../atomic.js';
import type { ProviderContext } from '../../context.js';
import type { EventBus } from '../../events.js';
import { InvalidGrant, InvalidScope, InvalidTarget } from '../../errors.js';
import type { Params } from '../../params.js';
import { audienceFor, requestedResources } from '../../resources/resource-indicators.js';
import { storedTokenKey, timeOrderedToken } from '../../secrets.js';
import { isSubset, parseScope } from '../../scope.js';
import { familyOf, newRefreshToken } from '../refresh-token-family.js';
import { keptAccessToken, prepareTokens, type IssueTokensDeps, type PreparedTokens } from '../issue-tokens.js';
import type { GrantHandler, TokenBinding, TokenResponse } from '../grant-handler.js';

/**
 * What the refresh grant uses: the presented token's family and grant, the access token's record
 * and the user's claims (prepareTokens), and the registered resources a refresh may narrow the
 * audience to; the key ring seals the successor (and signs).
 */
export type RefreshTokenGrantDeps = Pick<
  ProviderContext,
  'settings' | 'keys' | 'subjects' | 'events' | 'resources' | 'now' | 'users'
> & {
  store: Pick<Store, 'refreshTokens' | 'grants' | 'accessTokens' | 'resources'>;
};

export const refreshTokenGrant: GrantHandler<RefreshTokenGrantDeps> = {
  grantType: 'refresh_token',
  // RFC 6749 §6 and RFC 8707 §2.2.
  allowedParams: ['refresh_token', 'scope', 'resource'],
  repeatableParams: ['resource'],

  /**
   * The rotation and the access token issued with the successor are one atomic step of the
   * store (refreshTokens.rotate): a database failure leaves the presented token unrotated (the
   * client retries it after the 503), never rotated to a successor the client did not receive.
   */
  async handle(
    params: Params,
    client: Client,
    context: RefreshTokenGrantDeps,
    binding: TokenBinding,
  ): Promise<TokenResponse> {
    const prepared = await refresh(params, client, binding, context);
    // Signed after the rotation has committed: nothing but the signature is left to fail.
    return prepared.sign();
  },
};

async function refresh(
  params: Params,
  client: Client,
  binding: TokenBinding,
  context: RefreshTokenGrantDeps,
): Promise<PreparedTokens> {
  const hash = storedTokenKey(params.require('refresh_token'));
  const now = context.now();
  const found = await context.store.refreshTokens.getForRotation(hash);
  // RFC 6749 §6: the token must have been issued to the authenticated client.
  // One message for both: another client must not learn that a token it holds is real.
  if (!found || found.token.clientId !== client.clientId)
    throw new InvalidGrant('refresh token is unknown or was not issued to this client');
  const stored = found.token;
  if (found.grantRevokedAt !== null) throw new InvalidGrant('refresh token was revoked');
  if (stored.familyExpiresAt <= now) throw new InvalidGrant('refresh token has expired');
  // A rotated token is judged by reuse detection (below), not by its idle expiry: one presented
  // again after it would have expired is still reuse, and the family it was rotated into
  // (perhaps by whoever stole it) must be revoked (RFC 9700 §4.14.2).
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

  /** The tokens of this refresh with `refreshToken` as the new refresh token; events held in `events`. */
  const tokensWith = (refreshToken: string, events: EventBus, store: IssueTokensDeps['store']) =>
    prepareTokens(
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
        sid: found.sid,
        refreshToken,
        grantType: 'refresh_token',
        dpopJkt: binding.dpopJkt,
      },
      { ...context, events, store },
      now,
    );

  if (stored.rotatedAt === null) {
    // The successor is drawn and sealed, and every record chosen, before the rotation, so that
    // rotating and storing the tokens is one atomic step (on PostgreSQL one statement).
    const successorToken = timeOrderedToken();
    const { record } = newRefreshToken(familyOf(stored), context, now, successorToken);
    const events = new HeldEvents();
    // The access token's record is stored by the rotation below, with the successor.
    const accessToken = keptAccessToken();
    const prepared = await tokensWith(successorToken, events, accessToken.store);
    const result = await context.store.refreshTokens.rotate(
      hash,
      record,
      context.keys.seal(successorToken),
      now,
      accessToken.record(),
    );
    if (result.status === 'rotated') {
      events.release(context.events);
      return prepared;
    }
    if (result.status === 'not_found')
      throw new InvalidGrant('refresh token is unknown or was not issued to this client');
    return retriedOrReused(result.token, context, now, (retry) => tokensWith(retry, context.events, context.store));
  }
  return retriedOrReused(stored, context, now, (retry) => tokensWith(retry, context.events, context.store));
}

/**
 * A token presented again after its rotation: within the grace window, while its successor is
 * unused, a retry, answered with the same successor and a new access token; otherwise reuse,
 * and the family is revoked (RFC 9700 §4.14.2).
 */
async function retriedOrReused(
  stored: RefreshTokenRecord,
  context: Pick<ProviderContext, 'settings' | 'keys' | 'events'> & { store: Pick<Store, 'refreshTokens' | 'grants'> },
  now: number,
  tokensWith: (refreshToken: string) => Promise<PreparedTokens>,
): Promise<PreparedTokens> {
  const retry = await graceRetrySuccessor(stored, context, now);
  if (retry !== undefined) return tokensWith(retry);
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
