/**
 * The common end of every grant: mint the access token (and the ID token when the scope has
 * `openid` and there is a user), attach the refresh token, emit `token.issued`.
 */
import type { Client } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { formatScope } from '../scope.js';
import { issueAccessToken } from './access-token.js';
import type { TokenResponse } from './grant-handler.js';
import { idTokenAlgFor, issueIdToken } from './id-token.js';

export interface TokenIssue {
  client: Client;
  /** The user the tokens are for, or null when the client acts for itself. */
  userId: string | null;
  scope: string[];
  audience: string[];
  grantId: string | null;
  flowId: string | null;
  authTime: number | null;
  nonce: string | null;
  /** The single sign-on session's public id, for the ID token (from the grant). */
  sid: string | null;
  refreshToken: string | null;
  grantType: string;
}

export async function issueTokens(issue: TokenIssue, context: ProviderContext, now: number): Promise<TokenResponse> {
  const { settings } = context;
  // RFC 9068 §2.2 `sub`: the user (as this client sees it, OIDC Core §8), or the client itself
  // when no user is involved (client credentials).
  const subject = issue.userId === null ? issue.client.clientId : context.subjects.of(issue.client, issue.userId);
  const accessToken = await issueAccessToken(
    {
      issuer: settings.issuer,
      clientId: issue.client.clientId,
      subject,
      userId: issue.userId,
      scope: issue.scope,
      audience: issue.audience,
      grantId: issue.grantId,
      flowId: issue.flowId,
      authTime: issue.authTime,
      ttlSeconds: settings.accessTokenTtlSeconds,
      now,
    },
    context.keys,
    context.store,
  );
  const response: TokenResponse = {
    access_token: accessToken.token,
    token_type: 'Bearer',
    expires_in: accessToken.expiresIn,
    scope: formatScope(issue.scope),
  };
  if (issue.refreshToken !== null) response.refresh_token = issue.refreshToken;
  // OIDC Core §3.1.3.3 and §12.2: an ID token when the scope has `openid` and a user signed in.
  if (issue.scope.includes('openid') && issue.userId !== null && issue.authTime !== null) {
    response.id_token = await issueIdToken(
      {
        issuer: settings.issuer,
        clientId: issue.client.clientId,
        subject,
        authTime: issue.authTime,
        nonce: issue.nonce,
        sid: issue.sid,
        alg: idTokenAlgFor(issue.client, settings.signingAlg),
        accessToken: accessToken.token,
        ttlSeconds: settings.accessTokenTtlSeconds,
        now,
      },
      context.keys,
    );
  }
  context.events.emit(
    { type: 'token.issued', flowId: issue.flowId, clientId: issue.client.clientId, grantType: issue.grantType, jti: accessToken.jti, grantId: issue.grantId, userId: issue.userId },
    now,
  );
  return response;
}
