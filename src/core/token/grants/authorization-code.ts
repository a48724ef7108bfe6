/**
 * The authorization code grant at the token endpoint, RFC 6749 §4.1.3-4.1.4, with PKCE
 * (RFC 7636 §4.5-4.6) and the replay rule of RFC 6749 §4.1.2.
 */
import type { Client } from '../../../store/store.js';
import type { ProviderContext } from '../../context.js';
import { InvalidGrant, InvalidRequest } from '../../errors.js';
import type { Params } from '../../params.js';
import { verifyCodeVerifier } from '../../pkce.js';
import { sha256Base64Url } from '../../secrets.js';
import { formatScope } from '../../scope.js';
import { issueAccessToken } from '../access-token.js';
import { issueIdToken } from '../id-token.js';
import type { GrantHandler, TokenResponse } from '../token-endpoint.js';

export const authorizationCodeGrant: GrantHandler = {
  grantType: 'authorization_code',

  async handle(params: Params, client: Client, context: ProviderContext): Promise<TokenResponse> {
    const code = params.get('code');
    if (code === undefined) throw new InvalidRequest('code is required');
    const now = context.now();

    // One conditional UPDATE: of any number of concurrent redemptions exactly one wins.
    const result = await context.store.codes.consume(sha256Base64Url(code), now);
    if (result.status === 'not_found') throw new InvalidGrant('code is invalid');
    const stored = result.code;
    if (result.status === 'replayed') {
      // RFC 6749 §4.1.2: "If an authorization code is used more than once, the authorization
      // server MUST deny the request and SHOULD revoke (when possible) all tokens previously
      // issued based on that authorization code."
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

    context.events.emit({ type: 'code.redeemed', flowId: stored.flowId, clientId: client.clientId, grantId: stored.grantId }, now);
    const accessToken = await issueAccessToken(
      {
        issuer: context.settings.issuer,
        clientId: client.clientId,
        subject: stored.userId,
        userId: stored.userId,
        scope: stored.scope,
        audience: [context.settings.issuer],
        grantId: stored.grantId,
        flowId: stored.flowId,
        authTime: stored.authTime,
        ttlSeconds: context.settings.accessTokenTtlSeconds,
        now,
      },
      context.keys,
      context.store,
    );
    context.events.emit({
      type: 'token.issued',
      flowId: stored.flowId,
      clientId: client.clientId,
      grantType: 'authorization_code',
      jti: accessToken.jti,
      grantId: stored.grantId,
    }, now);
    const response: TokenResponse = {
      access_token: accessToken.token,
      token_type: 'Bearer',
      expires_in: accessToken.expiresIn,
      scope: formatScope(stored.scope),
    };
    // OIDC Core §3.1.3.3: an ID token when the authorization request asked for `openid`.
    if (stored.scope.includes('openid')) {
      response.id_token = await issueIdToken(
        {
          issuer: context.settings.issuer,
          clientId: client.clientId,
          userId: stored.userId,
          authTime: stored.authTime,
          nonce: stored.nonce,
          accessToken: accessToken.token,
          ttlSeconds: context.settings.accessTokenTtlSeconds,
          now,
        },
        context.keys,
      );
    }
    return response;
  },
};
