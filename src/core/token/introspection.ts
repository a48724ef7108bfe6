/**
 * Token introspection, RFC 7662. The caller must authenticate as a client (§2.1). A token is
 * described only to the client it was issued to, or to a protected resource's registered
 * introspection client when the token is for that resource; to anyone else, and for any token
 * unknown, expired or revoked, the answer is `{"active": false}` and nothing more (§2.2).
 */
import type { Client } from '../../store/store.js';
import type { ClientAuthenticationDeps, ClientAuthenticationRequest } from '../clients/client-authentication.js';
import type { ProviderContext } from '../context.js';
import { InvalidClient } from '../errors.js';
import { formatScope } from '../scope.js';
import { findRequestedToken, isActive, subjectOfToken, type FindTokenDeps, type FoundToken } from './token-lookup.js';

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

/**
 * What introspection uses: client authentication, finding the token, the resources whose
 * introspection clients may ask, and the token's client for its `sub`.
 */
export type IntrospectionDeps = ClientAuthenticationDeps &
  FindTokenDeps &
  Pick<ProviderContext, 'resources' | 'subjects' | 'now'>;

export async function handleIntrospectionRequest(
  request: ClientAuthenticationRequest,
  context: IntrospectionDeps,
): Promise<IntrospectionResponse> {
  const { caller, found } = await findRequestedToken(request, context, (client) => {
    // RFC 7662 §4: introspection answers only callers that really authenticated.
    if (client.tokenEndpointAuthMethod === 'none')
      throw new InvalidClient('public clients cannot introspect tokens', { usedBasic: false });
  });
  if (!found || !isActive(found, context.now()) || !(await mayIntrospect(caller, found, context)))
    return { active: false };
  return describe(found, caller, context);
}

async function mayIntrospect(
  caller: Client,
  found: FoundToken,
  context: Pick<ProviderContext, 'resources'>,
): Promise<boolean> {
  if (found.record.clientId === caller.clientId) return true;
  if (found.kind !== 'access_token') return false;
  for (const audience of found.record.audience) {
    const resource = await context.resources.get(audience);
    if (resource?.introspectionClientIds.includes(caller.clientId)) return true;
  }
  return false;
}

async function describe(
  found: FoundToken,
  caller: Client,
  context: Pick<ProviderContext, 'clients' | 'subjects' | 'settings'>,
): Promise<IntrospectionResponse> {
  const { record } = found;
  // RFC 7662 §2.2 `sub` says what the token's own `sub` says.
  const sub = await subjectOfToken(record, caller, context);
  if (sub === undefined) return { active: false };
  const audience = found.kind === 'access_token' ? found.record.audience : found.record.resources;
  return {
    active: true,
    scope: formatScope(record.scope),
    client_id: record.clientId,
    sub,
    exp: Math.floor(record.expiresAt / 1000),
    iat: Math.floor(record.createdAt / 1000),
    iss: context.settings.issuer,
    ...(audience.length > 0 ? { aud: audience.length === 1 ? audience[0] : audience } : {}),
    token_type: found.kind === 'access_token' ? 'Bearer' : 'refresh_token',
    // RFC 8693 §4.1: the actor of an exchanged token, as its JWT carries it.
    ...(found.kind === 'access_token' && found.record.act !== undefined ? { act: found.record.act } : {}),
  };
}
