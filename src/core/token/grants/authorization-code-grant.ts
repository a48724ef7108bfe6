/**
 * The authorization code grant at the token endpoint, RFC 6749 §4.1.3-4.1.4, with PKCE
 * (RFC 7636 §4.5-4.6), resource indicators (RFC 8707 §2.2) and the replay rule of
 * RFC 6749 §4.1.2.
 */
import type { AuthorizationCode, Client, Store } from '../../../store/store.js';
import { HeldEvents } from '../../atomic.js';
import type { ProviderContext } from '../../context.js';
import type { CodeRefusal } from '../../events.js';
import { InvalidGrant, InvalidRequest, InvalidTarget, OAuthError } from '../../errors.js';
import { fapi2CodeTooOld, usesFapi2 } from '../../profile/fapi2-profile.js';
import type { Params } from '../../params.js';
import { verifyCodeVerifier } from '../../pkce.js';
import { audienceFor, requestedResources } from '../../resources/resource-indicators.js';
import { storedTokenKey } from '../../secrets.js';
import { isSubset } from '../../scope.js';
import type { GrantHandler, TokenBinding, TokenResponse } from '../grant-handler.js';
import { keptAccessToken, prepareTokens, type PreparedTokens } from '../issue-tokens.js';
import { firstRefreshToken } from '../refresh-token-family.js';

/**
 * What the code grant uses: the code and its grant, the refresh token family it starts, the
 * access token's record and the user's claims (prepareTokens); and the registered resources a
 * request may narrow the audience to.
 */
export type AuthorizationCodeGrantDeps = Pick<
  ProviderContext,
  'settings' | 'keys' | 'subjects' | 'events' | 'resources' | 'now' | 'users'
> & {
  store: Pick<Store, 'codes' | 'grants' | 'resources'>;
};

export const authorizationCodeGrant: GrantHandler<AuthorizationCodeGrantDeps> = {
  grantType: 'authorization_code',
  // RFC 6749 §4.1.3, RFC 7636 §4.5 and RFC 8707 §2.2.
  allowedParams: ['code', 'redirect_uri', 'code_verifier', 'resource'],
  repeatableParams: ['resource'],

  async handle(
    params: Params,
    client: Client,
    context: AuthorizationCodeGrantDeps,
    binding: TokenBinding,
  ): Promise<TokenResponse> {
    const prepared = await redeemCode(params, client, binding, context);
    // Signed after the redemption has committed: nothing but the signature is left to fail.
    return prepared.sign();
  },
};

/**
 * The one description for every code this client may not redeem: unknown, issued to another
 * client, expired, or already used. RFC 6749 §4.1.3 asks the server to "ensure that the
 * authorization code was issued to the authenticated confidential client"; telling another
 * client why it may not would confirm that the code exists and is still good. The reason goes
 * into the `code.refused` event (and so the log) instead.
 */
const UNREDEEMABLE = 'code is invalid, expired, already used, or was issued to another client';

async function redeemCode(
  params: Params,
  client: Client,
  binding: TokenBinding,
  context: AuthorizationCodeGrantDeps,
): Promise<PreparedTokens> {
  const codeHash = storedTokenKey(params.require('code'));
  const now = context.now();

  // RFC 6749 §4.1.3: the client (authenticated by the token endpoint before this handler) and
  // every parameter bound to the code are checked on the stored code first; only a request that
  // passes them all consumes it or, as a replay, revokes its grant. A request failing them
  // changes nothing: another client or a guessed verifier can neither burn the rightful
  // client's code nor, by replaying a used one, revoke the user's tokens (OAuth 2.1 §7.5.3:
  // revoking on a replay with invalid parameters would be a denial of service).
  const found = await context.store.codes.getForRedemption(codeHash);
  if (found === undefined) throw refuse(context, now, client, null, 'unknown');
  const stored = found.code;
  if (stored.clientId !== client.clientId) throw refuse(context, now, client, stored, 'issued_to_another_client');
  // A used code stays a replay after its expiry: the tokens issued from it may still live
  // (they are kept until then, see src/store/cleanup.ts), and a replay revokes them.
  if (stored.consumedAt === null && stored.expiresAt <= now) throw refuse(context, now, client, stored, 'expired');
  // FAPI 2.0 Security Profile §5.3.2.1: a fapi2 client's code lives at most 60 seconds, whatever
  // code_ttl_seconds says (the server-wide profile refuses a longer one in the config file).
  if (stored.consumedAt === null && usesFapi2(client, context.settings) && fapi2CodeTooOld(stored.createdAt, now))
    throw refuse(context, now, client, stored, 'expired', 'older than 60 seconds (FAPI 2.0 §5.3.2.1)');

  let resources: string[];
  try {
    resources = await checkRequest(params, stored, binding, context);
  } catch (error) {
    // The rightful client learns what is wrong with its request for a code it may still
    // redeem; for a used code, nothing more than for any other unredeemable code, and no
    // revocation: the request did not prove it came from the code's legitimate holder.
    if (error instanceof OAuthError) error.flowId ??= stored.flowId;
    if (error instanceof OAuthError && stored.consumedAt !== null) {
      throw refuse(context, now, client, stored, 'already_used', error.description);
    }
    throw error;
  }
  if (stored.consumedAt !== null) return replayed(stored, context, now);

  // Everything the tokens need is chosen before the code is consumed (their records, keys and
  // claims), so that consuming it and storing them is one atomic step of the store (RFC 6749
  // §5.1: a code is never consumed without its tokens existing, nor the other way round): on
  // PostgreSQL one statement, a single round trip. Events wait until it has happened.
  const events = new HeldEvents();
  const refreshToken = firstRefreshToken(
    client,
    {
      grantId: stored.grantId,
      flowId: stored.flowId,
      clientId: client.clientId,
      userId: stored.userId,
      scope: stored.scope,
      resources: stored.resources,
      authTime: stored.authTime,
    },
    binding,
    context,
    now,
  );
  const accessToken = keptAccessToken();
  const prepared = await prepareTokens(
    {
      client,
      userId: stored.userId,
      scope: stored.scope,
      audience: audienceFor(resources.length > 0 ? resources : stored.resources, context.settings.issuer),
      grantId: stored.grantId,
      flowId: stored.flowId,
      authTime: stored.authTime,
      nonce: stored.nonce,
      sid: found.sid,
      refreshToken: refreshToken?.token ?? null,
      grantType: 'authorization_code',
      dpopJkt: binding.dpopJkt,
    },
    {
      ...context,
      events,
      // The access token's record is stored by the redemption below, with the code.
      store: accessToken.store,
    },
    now,
  );

  // One conditional UPDATE: of any number of concurrent redemptions exactly one wins. The
  // others passed the same checks on the same code, so they are replays by the rightful client.
  const result = await context.store.codes.redeem(codeHash, now, {
    accessToken: accessToken.record(),
    refreshToken: refreshToken?.record ?? null,
  });
  if (result.status === 'not_found') throw refuse(context, now, client, stored, 'unknown');
  if (result.status === 'replayed') return replayed(result.code, context, now);
  // RFC 6749 §4.1.2: the grant was revoked before the redemption (a replay of this code that
  // ran meanwhile, the user signing out): the tokens issued from it end revoked as well.
  if (result.grantRevokedAt !== null) await context.store.grants.revoke(stored.grantId, result.grantRevokedAt);
  context.events.emit(
    { type: 'code.redeemed', flowId: stored.flowId, clientId: client.clientId, grantId: stored.grantId },
    now,
  );
  events.release(context.events);
  return prepared;
}

/**
 * RFC 6749 §4.1.3, RFC 7636 §4.6 and RFC 9449 §10: the DPoP key, redirect_uri, PKCE verifier and
 * resources of the request against those bound to the code; returns the requested resources. A failure here leaves the code redeemable: RFC 7636
 * does not ask for the code to be burnt after a wrong verifier, and burning it would hand anyone
 * who saw the code a way to break the rightful client's sign-in.
 */
async function checkRequest(
  params: Params,
  stored: AuthorizationCode,
  binding: TokenBinding,
  context: Pick<ProviderContext, 'resources'>,
): Promise<string[]> {
  // RFC 9449 §10: a code bound to a DPoP key (dpop_jkt) is redeemed only with a proof of that key.
  if (stored.dpopJkt !== undefined && binding.dpopJkt !== stored.dpopJkt) {
    throw new InvalidGrant(
      binding.dpopJkt === undefined
        ? 'this code is bound to a DPoP key (dpop_jkt): the token request needs a DPoP proof of that key (RFC 9449 10)'
        : 'the DPoP proof key differs from the dpop_jkt this code is bound to (RFC 9449 10)',
    );
  }
  // RFC 6749 §4.1.3: redirect_uri is required, and must be identical, if it was included in
  // the authorization request.
  const redirectUri = params.get('redirect_uri');
  if (redirectUri === undefined && stored.redirectUriProvided) {
    throw new InvalidRequest('redirect_uri is required because the authorization request included it');
  }
  if (redirectUri !== undefined && redirectUri !== stored.redirectUri) {
    throw new InvalidGrant('redirect_uri differs from the authorization request');
  }

  // RFC 7636 §4.6 and RFC 9700 §4.8.2 (no verifier without a challenge).
  verifyCodeVerifier(params.get('code_verifier'), stored.codeChallenge);

  // RFC 8707 §2.2: the token request may narrow the audience to some authorized resources.
  const resources = await requestedResources(params, context.resources);
  if (!isSubset(resources, stored.resources))
    throw new InvalidTarget('resource was not part of the authorization request');
  return resources;
}

/**
 * RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization server
 * MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on
 * that authorization code." Reached only by the client the code was issued to, with the
 * parameters that redeemed it.
 */
async function replayed(
  stored: AuthorizationCode,
  context: Pick<ProviderContext, 'events'> & { store: Pick<Store, 'grants'> },
  now: number,
): Promise<never> {
  await context.store.grants.revoke(stored.grantId, now);
  // A concurrent first redemption may insert its access token after the revocation above
  // looked for tokens but before it committed; revoking again, after that commit, covers
  // it (the redemption itself re-checks the grant once its token exists, see redeemCode).
  await context.store.grants.revoke(stored.grantId, now);
  context.events.emit(
    { type: 'code.replayed', flowId: stored.flowId, clientId: stored.clientId, grantId: stored.grantId },
    now,
  );
  const error = new InvalidGrant(UNREDEEMABLE);
  error.flowId = stored.flowId;
  throw error;
}

/** The generic invalid_grant for a code the client may not redeem; the reason goes to the event only. */
function refuse(
  context: Pick<ProviderContext, 'events'>,
  now: number,
  client: Client,
  stored: AuthorizationCode | null,
  reason: CodeRefusal,
  detail: string | null = null,
): InvalidGrant {
  context.events.emit(
    { type: 'code.refused', flowId: stored?.flowId ?? null, clientId: client.clientId, reason, detail },
    now,
  );
  const error = new InvalidGrant(UNREDEEMABLE);
  error.flowId = stored?.flowId ?? null;
  return error;
}
