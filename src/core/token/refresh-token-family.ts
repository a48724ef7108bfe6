/**
 * Refresh tokens, RFC 6749 §1.5 and §6, with rotation and reuse detection (RFC 9700 §4.14.2).
 *
 * Opaque, 256 bits, stored hashed and bound to the client. Each belongs to the family of one
 * authorization (its grant). Every use rotates it: the presented token is marked rotated and a
 * successor issued. Presenting a rotated token again means it leaked or a response was lost:
 * - the same client within the grace window (settings.refreshTokenGraceSeconds) while the
 *   successor is still unused: a retry, answered with the same successor (stored encrypted);
 * - otherwise: reuse, and the whole family and its access tokens are revoked.
 * Lost responses and parallel requests from one client then do not log users out, while a
 * stolen token replayed after the window, or after the successor was used, still trips reuse
 * detection.
 */
import type { Client, RefreshTokenRecord, Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import type { TokenBinding } from './grant-handler.js';
import { storedTokenKey, timeOrderedToken } from '../secrets.js';

/** What every refresh token of one family shares (the stored record's family fields). */
export type RefreshTokenFamily = Pick<
  RefreshTokenRecord,
  'grantId' | 'flowId' | 'clientId' | 'userId' | 'scope' | 'resources' | 'authTime' | 'familyExpiresAt' | 'dpopJkt'
>;

/** Builds the record of a new refresh token of `family` (a fresh random one unless given), with its idle expiry. */
export function newRefreshToken(
  family: RefreshTokenFamily,
  context: Pick<ProviderContext, 'settings'>,
  now: number,
  token: string = timeOrderedToken(),
): { token: string; record: RefreshTokenRecord } {
  return {
    token,
    record: {
      ...family,
      tokenHash: storedTokenKey(token),
      createdAt: now,
      expiresAt: Math.min(now + context.settings.refreshTokenIdleTtlSeconds * 1000, family.familyExpiresAt),
      rotatedAt: null,
      successorHash: null,
      successorEncrypted: null,
    },
  };
}

/**
 * RFC 6749 §1.5 / OIDC Core §11: the first refresh token of a user's authorization (code or
 * device grant), starting its family, when the client may use the refresh_token grant and, for
 * OpenID requests, the user granted offline access; null otherwise. Not stored yet: the caller
 * stores the record with the rest of what the grant writes (see firstRefreshTokenFor).
 */
export function firstRefreshToken(
  client: Client,
  family: Omit<RefreshTokenFamily, 'familyExpiresAt' | 'dpopJkt'>,
  binding: TokenBinding,
  context: Pick<ProviderContext, 'settings'>,
  now: number,
): { token: string; record: RefreshTokenRecord } | null {
  const wanted =
    client.grantTypes.includes('refresh_token') &&
    (!family.scope.includes('openid') || family.scope.includes('offline_access'));
  if (!wanted) return null;
  // RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key (a confidential
  // client's are bound to it by its authentication already).
  const bound = client.tokenEndpointAuthMethod === 'none' && binding.dpopJkt !== undefined;
  const familyExpiresAt = now + context.settings.refreshTokenAbsoluteTtlSeconds * 1000;
  return newRefreshToken(
    bound ? { ...family, familyExpiresAt, dpopJkt: binding.dpopJkt } : { ...family, familyExpiresAt },
    context,
    now,
  );
}

/** firstRefreshToken, stored at once (the device code grant). */
export async function firstRefreshTokenFor(
  client: Client,
  family: Omit<RefreshTokenFamily, 'familyExpiresAt' | 'dpopJkt'>,
  binding: TokenBinding,
  context: Pick<ProviderContext, 'settings'> & { store: Pick<Store, 'refreshTokens'> },
  now: number,
): Promise<string | null> {
  const first = firstRefreshToken(client, family, binding, context, now);
  if (first === null) return null;
  await context.store.refreshTokens.create(first.record);
  return first.token;
}

export function familyOf(record: RefreshTokenRecord): RefreshTokenFamily {
  const { grantId, flowId, clientId, userId, scope, resources, authTime, familyExpiresAt, dpopJkt } = record;
  const family = { grantId, flowId, clientId, userId, scope, resources, authTime, familyExpiresAt };
  // RFC 9449 §5: the successors of a bound token are bound to the same key.
  return dpopJkt === undefined ? family : { ...family, dpopJkt };
}
