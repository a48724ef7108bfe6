/**
 * Token revocation, RFC 7009. The caller must authenticate (§2.1). Revoking a refresh token
 * revokes its whole family and the access tokens issued from it; revoking an access token
 * revokes that token. A token that is unknown, or was not issued to the caller, is answered
 * like success (§2.2: "invalid tokens do not cause an error") and left untouched, so one client
 * can neither revoke nor probe another client's tokens.
 */
import { authenticateClient, type ClientAuthenticationRequest } from '../clients/client-authentication.js';
import type { ProviderContext } from '../context.js';
import { InvalidRequest } from '../errors.js';
import { findToken } from './token-lookup.js';

export async function handleRevocationRequest(
  request: ClientAuthenticationRequest,
  context: ProviderContext,
): Promise<void> {
  const { params } = request;
  params.assertNoDuplicates();
  const caller = await authenticateClient(request, context);
  const token = params.get('token');
  if (token === undefined) throw new InvalidRequest('token is required');
  const found = await findToken(token, params.get('token_type_hint'), context);
  if (!found || found.record.clientId !== caller.clientId) return;
  const now = context.now();
  if (found.kind === 'refresh_token') {
    await context.store.grants.revoke(found.record.grantId, now);
  } else {
    await context.store.accessTokens.revoke(found.record.jti, now);
  }
  context.events.emit(
    { type: 'token.revoked', flowId: found.record.flowId, clientId: caller.clientId, kind: found.kind, grantId: found.record.grantId },
    now,
  );
}
