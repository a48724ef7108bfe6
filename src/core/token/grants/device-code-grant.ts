/**
 * The device authorization grant at the token endpoint, RFC 8628 §3.4-3.5: the device polls with
 * its device code until the user has decided at the verification page. Pending: the device is
 * told to wait (`authorization_pending`), or to wait longer when it polls faster than its
 * interval (`slow_down`, the interval raised by 5 seconds and kept raised); denied:
 * `access_denied`; past its lifetime: `expired_token`; approved: tokens, once.
 */
import type { Client, Store } from '../../../store/store.js';
import { atomically } from '../../atomic.js';
import type { ProviderContext, Transactions } from '../../context.js';
import { DEVICE_CODE_GRANT_TYPE } from '../../device/device-authorization-endpoint.js';
import { AuthorizationPending, DeviceAccessDenied, ExpiredToken, InvalidGrant, SlowDown } from '../../errors.js';
import type { Params } from '../../params.js';
import { audienceFor } from '../../resources/resource-indicators.js';
import { sha256Base64Url, sortableId } from '../../secrets.js';
import type { GrantHandler, TokenBinding, TokenResponse } from '../grant-handler.js';
import { prepareTokens, type PreparedTokens } from '../issue-tokens.js';
import { firstRefreshTokenFor } from '../refresh-token-family.js';

/** RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent requests". */
export const SLOW_DOWN_SECONDS = 5;

/**
 * What the device code grant uses, in one transaction: the device code, the grant it starts, the
 * refresh token family, the access token's record and the user's claims (prepareTokens).
 */
export type DeviceCodeGrantDeps = Pick<
  ProviderContext,
  'settings' | 'keys' | 'subjects' | 'events' | 'resources' | 'now' | 'users'
> & {
  store: Pick<Store, 'deviceCodes' | 'grants' | 'refreshTokens' | 'accessTokens' | 'resources'> & Transactions;
};

export const deviceCodeGrant: GrantHandler<DeviceCodeGrantDeps> = {
  grantType: DEVICE_CODE_GRANT_TYPE,
  // RFC 8628 §3.4: `device_code` (and `client_id`, read with the client authentication).
  allowedParams: ['device_code'],

  /**
   * A refused poll is an answer, not a failure: what it recorded (the poll's time, a raised
   * interval) is committed with it (atomically). The redemption and the tokens issued for it are
   * one transaction, as for an authorization code.
   */
  async handle(
    params: Params,
    client: Client,
    context: DeviceCodeGrantDeps,
    binding: TokenBinding,
  ): Promise<TokenResponse> {
    const prepared = await atomically(context, (transactional) =>
      redeemDeviceCode(params, client, binding, transactional),
    );
    return prepared.sign();
  },
};

/**
 * One description for a device code this client may not use: unknown, another client's, or
 * redeemed already (RFC 6749 §5.2 invalid_grant); telling them apart would confirm a code exists.
 */
const UNUSABLE = 'device_code is invalid, already used, or was issued to another client';

async function redeemDeviceCode(
  params: Params,
  client: Client,
  binding: TokenBinding,
  context: DeviceCodeGrantDeps,
): Promise<PreparedTokens> {
  const hash = sha256Base64Url(params.require('device_code'));
  const now = context.now();
  const stored = await context.store.deviceCodes.get(hash);
  if (stored === undefined || stored.clientId !== client.clientId || stored.consumedAt !== null) {
    throw new InvalidGrant(UNUSABLE);
  }
  // RFC 8628 §3.5 expired_token: the device may start over with a new device authorization request.
  if (stored.expiresAt <= now) throw new ExpiredToken('the device_code has expired');
  const polled = await context.store.deviceCodes.poll(hash, now, SLOW_DOWN_SECONDS);
  if (stored.status === 'pending') {
    if (polled === 'slow_down') {
      throw new SlowDown(
        `polling too fast: wait ${stored.intervalSeconds + SLOW_DOWN_SECONDS} seconds between requests`,
      );
    }
    throw new AuthorizationPending('the user has not yet approved or denied the request');
  }
  if (stored.status === 'denied') throw new DeviceAccessDenied('the user denied the request');

  // RFC 8628 §3.5 with RFC 6749 §4.1.2: one conditional UPDATE, so of any number of concurrent
  // polls exactly one gets tokens; the others find the code used.
  const result = await context.store.deviceCodes.consume(hash, now);
  if (result.status !== 'consumed') throw new InvalidGrant(UNUSABLE);
  const approved = result.code;
  const userId = approved.userId!;
  const grantId = sortableId();
  // The grant carries the terms of the refresh token family it may start (migration 0028).
  await context.store.grants.create(
    {
      id: grantId,
      flowId: approved.flowId,
      clientId: client.clientId,
      userId,
      scope: approved.scope,
      sid: approved.sid,
      createdAt: now,
      revokedAt: null,
    },
    { resources: approved.resources, authTime: approved.authTime },
  );
  const refreshToken = await firstRefreshTokenFor(
    client,
    {
      grantId,
      flowId: approved.flowId,
      clientId: client.clientId,
      userId,
      scope: approved.scope,
      resources: approved.resources,
      authTime: approved.authTime,
    },
    binding,
    context,
    now,
  );
  return prepareTokens(
    {
      client,
      userId,
      scope: approved.scope,
      audience: audienceFor(approved.resources, context.settings.issuer),
      grantId,
      flowId: approved.flowId,
      authTime: approved.authTime,
      // OIDC Core §3.1.2.1: a nonce comes with an authentication request; a device sends none.
      nonce: null,
      sid: approved.sid,
      refreshToken,
      grantType: DEVICE_CODE_GRANT_TYPE,
      // RFC 9449 §5: a device proving a DPoP key gets tokens bound to it.
      dpopJkt: binding.dpopJkt,
    },
    context,
    now,
  );
}
