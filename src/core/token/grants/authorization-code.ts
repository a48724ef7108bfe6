/**
 * The authorization code grant at the token endpoint, RFC 6749 §4.1.3-4.1.4, with PKCE
 * (RFC 7636 §4.5-4.6), resource indicators (RFC 8707 §2.2) and the replay rule of
 * RFC 6749 §4.1.2.
 */
import type { Client } from '../../../store/store.js';
import { atomically } from '../../atomic.js';
import type { ProviderContext } from '../../context.js';
import { InvalidGrant, InvalidRequest, InvalidTarget } from '../../errors.js';
import type { Params } from '../../params.js';
import { verifyCodeVerifier } from '../../pkce.js';
import { audienceFor, requestedResources } from '../../resource-indicators.js';
import { sha256Base64Url } from '../../secrets.js';
import { isSubset } from '../../scope.js';
import type { GrantHandler, TokenResponse } from '../grant-handler.js';
import { prepareTokens, type PreparedTokens } from '../issue-tokens.js';
import { issueFirstRefreshToken } from '../refresh-token.js';

export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',
  repeatableParams: ['resource'],

  /**
   * RFC 6749 §4.1.2 (a code is used once) and §5.1: the code's redemption and the tokens issued
   * for it are one transaction. If the database fails in between, nothing is written: the client
   * gets 503 temporarily_unavailable and its code stays redeemable, instead of a code that is
   * consumed although no token exists (or tokens that exist while the code can be used again).
   */
  async handle(params: Params, client: Client, context: ProviderContext): Promise<TokenResponse> {
    const prepared = await atomically(context, (transactional) => redeemCode(params, client, transactional));
    // Signed after the commit (see prepareTokens): the transaction is not held open across it.
    return prepared.sign();
  },
};

async function redeemCode(params: Params, client: Client, context: ProviderContext): Promise<PreparedTokens> {
  const code = params.get('code');
  if (code === undefined) throw new InvalidRequest('code is required');
  const now = context.now();

  // One conditional UPDATE: of any number of concurrent redemptions exactly one wins.
  const result = await context.store.codes.consume(sha256Base64Url(code), now);
  if (result.status === 'not_found') throw new InvalidGrant('code is unknown: never issued by this server, mistyped or truncated, or expired and removed');
  const stored = result.code;
  if (result.status === 'replayed') {
    // RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization
    // server MUST deny the request and SHOULD revoke (when possible) all tokens previously
    // issued based on that authorization code."
    await context.store.grants.revoke(stored.grantId, now);
    // A concurrent first redemption may insert its access token after the revocation above
    // looked for tokens but before it committed; revoking again, after that commit, covers
    // it (the redemption itself re-checks the grant once its token exists, see below).
    await context.store.grants.revoke(stored.grantId, now);
    context.events.emit({ type: 'code.replayed', flowId: stored.flowId, clientId: stored.clientId, grantId: stored.grantId }, now);
    throw new InvalidGrant('code was already used');
  }
  // RFC 6749 §4.1.3: the code must have been issued to the authenticated client.
  if (stored.clientId !== client.clientId) throw new InvalidGrant('code was issued to another client');
  if (stored.expiresAt <= now) throw new InvalidGrant('code has expired');

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
  if (!isSubset(resources, stored.resources)) throw new InvalidTarget('resource was not part of the authorization request');

  context.events.emit({ type: 'code.redeemed', flowId: stored.flowId, clientId: client.clientId, grantId: stored.grantId }, now);
  // The session the user authorized in: its public id goes into the ID token (`sid`).
  const sid = (await context.store.grants.get(stored.grantId))?.sid ?? null;

  // RFC 6749 §1.5 / OIDC Core §11: a refresh token when the client may use the grant and,
  // for OpenID requests, the user granted offline access.
  const wantsRefresh =
    client.grantTypes.includes('refresh_token') && (!stored.scope.includes('openid') || stored.scope.includes('offline_access'));
  const refreshToken = wantsRefresh
    ? await issueFirstRefreshToken(
        {
          grantId: stored.grantId,
          flowId: stored.flowId,
          clientId: client.clientId,
          userId: stored.userId,
          scope: stored.scope,
          resources: stored.resources,
          authTime: stored.authTime,
        },
        context,
        now,
      )
    : null;

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
      sid,
      refreshToken,
      grantType: 'authorization_code',
    },
    context,
    now,
  );
  // RFC 6749 §4.1.2: a replay of this code that ran while the tokens were being issued
  // revoked the grant before the access token existed; revoke it as well, so the tokens
  // issued from a replayed code end revoked however the requests interleaved.
  const grant = await context.store.grants.get(stored.grantId);
  if (grant?.revokedAt != null) await context.store.grants.revoke(stored.grantId, grant.revokedAt);
  return prepared;
}
