/**
 * Token revocation, RFC 7009. The caller must authenticate (§2.1). Revoking a refresh token
 * revokes its whole family and the access tokens issued from it; revoking an access token
 * revokes that token. A token that is unknown, or was not issued to the caller, is answered
 * like success (§2.2: "invalid tokens do not cause an error") and left untouched, so one client
 * can neither revoke nor probe another client's tokens.
 */
import type { ClientAuthenticationDeps, ClientAuthenticationRequest } from '../clients/client-authentication.js';
import type { ProviderContext } from '../context.js';
import type { Store } from '../../store/store.js';
import { findRequestedToken, type FindTokenDeps } from './token-lookup.js';

/** What revocation uses: client authentication, finding the token, revoking its grant or itself. */
export type RevocationDeps = ClientAuthenticationDeps &
  FindTokenDeps &
  Pick<ProviderContext, 'events' | 'now'> & { store: Pick<Store, 'grants' | 'accessTokens'> };

export async function handleRevocationRequest(
  request: ClientAuthenticationRequest,
  context: RevocationDeps,
): Promise<void> {
  const { caller, found } = await findRequestedToken(request, context);
  if (!found || found.record.clientId !== caller.clientId) return;
  const now = context.now();
  if (found.kind === 'refresh_token') {
    await context.store.grants.revoke(found.record.grantId, now);
  } else {
    await context.store.accessTokens.revoke(found.record.jti, now);
  }
  context.events.emit(
    {
      type: 'token.revoked',
      flowId: found.record.flowId,
      clientId: caller.clientId,
      kind: found.kind,
      grantId: found.record.grantId,
    },
    now,
  );
}
