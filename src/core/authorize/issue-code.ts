/**
 * Issuing an authorization code, RFC 6749 §4.1.2 and RFC 9700 §4.2.1: at least 128 bits of
 * entropy (we use 256), stored only as a hash, single use, short-lived, and bound to the
 * client, redirect_uri, PKCE challenge, user, scopes and nonce.
 */
import type { ProviderContext } from '../context.js';
import { sortableId, storedTokenKey, timeOrderedToken } from '../secrets.js';
import type { Session, Store, StoredAuthorizationRequest } from '../../store/store.js';
import { codeResponse, type AuthorizationResponse } from './authorization-response.js';

/** What issuing a code uses: the store writes the grant and its code together. */
export type IssueCodeDeps = Pick<ProviderContext, 'settings' | 'events' | 'now'> & { store: Pick<Store, 'codes'> };

export async function issueAuthorizationCode(
  request: StoredAuthorizationRequest,
  flowId: string,
  session: Session,
  context: IssueCodeDeps,
): Promise<AuthorizationResponse> {
  const now = context.now();
  const grantId = sortableId();
  const code = timeOrderedToken();
  // The grant and its code are written together (one transaction, one commit).
  const grant = {
    id: grantId,
    flowId,
    clientId: request.clientId,
    userId: session.userId,
    scope: request.scope,
    sid: session.sid,
    createdAt: now,
    revokedAt: null,
  };
  await context.store.codes.issue(grant, {
    codeHash: storedTokenKey(code),
    grantId,
    flowId,
    clientId: request.clientId,
    userId: session.userId,
    redirectUri: request.redirectUri,
    redirectUriProvided: request.redirectUriProvided,
    scope: request.scope,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    nonce: request.nonce,
    resources: request.resources,
    authTime: session.authTime,
    createdAt: now,
    expiresAt: now + context.settings.codeTtlSeconds * 1000,
    consumedAt: null,
    // RFC 9449 §10: redeemed only with a DPoP proof of this key.
    ...(request.dpopJkt !== undefined ? { dpopJkt: request.dpopJkt } : {}),
  });
  context.events.emit(
    { type: 'code.issued', flowId, clientId: request.clientId, userId: session.userId, grantId },
    now,
  );
  return codeResponse(
    { redirectUri: request.redirectUri, responseMode: request.responseMode, state: request.state },
    code,
    context.settings.issuer,
  );
}
